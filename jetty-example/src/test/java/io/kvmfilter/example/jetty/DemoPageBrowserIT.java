package io.kvmfilter.example.jetty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.kvmfilter.kvm.testing.KvmRequirement;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * The demo page in a real browser: Debian's Chromium, headless, driven by Selenium through Debian's ChromeDriver
 * (installed by src/test/browser/prereqs.sh during the build). The page loads without console errors, every
 * picture on it decodes, its style applies, a failed conversion is marked as failed, and the compare slider moves.
 * A screenshot is left in target/demo-page.png.
 */
class DemoPageBrowserIT {

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    /** Selenium's own warnings (about CDP versions it does not ship) are not about this test: keep them out. */
    private static final Logger SELENIUM_LOG = Logger.getLogger("org.openqa.selenium");

    @TempDir
    Path temp;

    @Test
    void showsConversionsAndMarksFailuresInARealBrowser() throws Exception {
        KvmRequirement.require("webp", "avif", "minify");
        requireBrowser();
        Path site = Files.createDirectories(temp.resolve("site"));
        for (String sample : List.of("grace_hopper.jpg", "palette_color.png", "bootstrap.css")) {
            Files.write(site.resolve(sample), MainIT.bundledSample(sample));
        }
        // A JPEG cut short: a browser shows its top part, the conversion programs refuse it.
        byte[] photo = MainIT.bundledSample("grace_hopper.jpg");
        Files.write(site.resolve("truncated.jpg"), Arrays.copyOf(photo, photo.length / 2));

        try (JarServer server = JarServer.start(temp, "--port", "0", "--dir", site.toString())) {
            ChromeDriver browser = startBrowser();
            try {
                browser.get(server.url("/").toString());
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (!Boolean.TRUE.equals(js(browser, "return document.readyState === 'complete'"
                        + " && Array.from(document.images).every(i => i.complete)"))) {
                    assertThat(System.nanoTime()).as("the page and its pictures loaded within 60 s").isLessThan(deadline);
                    Thread.sleep(100);
                }

                assertThat(js(browser, "return document.images.length")).as("pictures on the page")
                        .isEqualTo(3L * 3 + 2 * 2); // three views of each image, two in the sliders of the two converted
                assertThat(js(browser, "return Array.from(document.images)"
                        + ".filter(i => !(i.naturalWidth > 0)).map(i => i.getAttribute('src'))"))
                        .as("pictures that did not decode").isEqualTo(List.of());
                List<String> errors = browser.manage().logs().get(LogType.BROWSER).getAll().stream()
                        .filter(entry -> entry.getLevel().intValue() >= Level.WARNING.intValue())
                        .map(LogEntry::toString).toList();
                assertThat(errors).as("console errors and warnings").isEmpty();
                assertThat(js(browser, "return getComputedStyle(document.querySelector('.views')).display"))
                        .as("the page's style applies").isEqualTo("grid");

                Files.copy(browser.getScreenshotAs(OutputType.FILE).toPath(), Path.of("target", "demo-page.png"),
                        StandardCopyOption.REPLACE_EXISTING);

                String photoSection = "section[data-sample='grace_hopper.jpg'] ";
                assertThat(browser.findElements(By.cssSelector(photoSection + "figure[data-status='applied']")))
                        .hasSize(2).allSatisfy(figure -> assertThat(figure.getText()).contains("saved"));
                List<WebElement> failed = browser.findElements(
                        By.cssSelector("section[data-sample='truncated.jpg'] figure[data-status='failed']"));
                assertThat(failed).as("both conversions of the truncated JPEG").hasSize(2).allSatisfy(figure -> {
                    assertThat(figure.isDisplayed()).isTrue();
                    assertThat(figure.getText()).contains("not converted").doesNotContain("saved");
                    assertThat(figure.getCssValue("border-top-color")).as("drawn in the failure colour")
                            .isEqualTo("rgba(198, 40, 40, 1)");
                });
                assertThat(browser.findElement(By.id("summary")).getText()).contains("1 not converted");
                assertThat(browser.findElement(By.cssSelector("tr[data-sample='bootstrap.css']")).getText())
                        .contains("saved");
                String preview = browser.findElement(By.cssSelector("tr.preview pre")).getAttribute("textContent");
                assertThat(preview).as("the minified text shown").isNotBlank()
                        .hasSizeLessThanOrEqualTo(DemoPageServlet.PREVIEW_CHARS).contains(":root{--blue:#007bff;");

                WebElement slider = browser.findElement(By.cssSelector(photoSection + ".compare input"));
                slider.sendKeys(Keys.HOME);
                assertThat(js(browser, "return document.querySelector(\"" + photoSection
                        + ".compare\").style.getPropertyValue('--pos')")).as("the slider moves the line").isEqualTo("0%");

            } finally {
                browser.quit();
            }
        }
    }

    private ChromeDriver startBrowser() throws Exception {
        SELENIUM_LOG.setLevel(Level.SEVERE);
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        // The flags Chromium needs on a machine without a display, sandbox or outside network.
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1400,1000",
                "--user-data-dir=" + Files.createDirectories(temp.resolve("chromium-profile")));
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .withLogFile(temp.resolve("chromedriver.log").toFile())
                .build();
        return new ChromeDriver(service, options);
    }

    private static Object js(ChromeDriver browser, String script) {
        return ((JavascriptExecutor) browser).executeScript(script);
    }

    /** Skips without Chromium and ChromeDriver, or fails when REQUIRE_KVM=1 (CI, where the build installs them). */
    private static void requireBrowser() {
        if (Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER)) {
            return;
        }
        String missing = "Debian's chromium and chromium-driver are not installed (" + CHROMIUM + ", " + CHROMEDRIVER
                + "); src/test/browser/prereqs.sh installs them as root";
        if ("1".equals(System.getenv("REQUIRE_KVM"))) {
            fail("REQUIRE_KVM=1 but " + missing);
        }
        assumeTrue(false, "skipped: " + missing);
    }

}
