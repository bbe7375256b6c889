package io.kvmfilter.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The project's README.md and docs/*.md have no dead links: every relative link names a file or directory that
 * exists, and every {@code #anchor} is produced by a heading of the target page under GitHub's rules (lowercase,
 * punctuation other than {@code -} and {@code _} dropped, spaces to {@code -}, {@code -1}, {@code -2} for
 * repeated headings). It lives here because this module's tests are fast and need nothing but a JDK; the docs
 * belong to no module.
 */
class DocsLinksTest {

    private static final Pattern LINK = Pattern.compile("(?<!!)\\[[^\\]]*\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");
    private static final Pattern IMAGE = Pattern.compile("!\\[[^\\]]*\\]\\(([^)\\s]+)\\)");
    private static final Pattern HEADING = Pattern.compile("^#{1,6}\\s+(.*?)\\s*#*\\s*$");

    private static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("docs").resolve("README.md"))) {
            dir = dir.getParent();
        }
        assertThat(dir).as("project root with docs/README.md above " + Path.of("").toAbsolutePath()).isNotNull();
        return dir;
    }

    private static List<Path> pages(Path root) throws IOException {
        List<Path> pages = new ArrayList<>();
        pages.add(root.resolve("README.md"));
        try (Stream<Path> docs = Files.list(root.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        return pages;
    }

    /** Lines outside fenced code blocks, with inline code spans removed. */
    private static List<String> prose(Path page) throws IOException {
        List<String> lines = new ArrayList<>();
        boolean fenced = false;
        for (String line : Files.readAllLines(page)) {
            if (line.stripLeading().startsWith("```")) {
                fenced = !fenced;
                continue;
            }
            if (!fenced) {
                lines.add(line.replaceAll("`[^`]*`", "``"));
            }
        }
        return lines;
    }

    /** The anchors GitHub generates for the headings of a Markdown page. */
    static Set<String> anchors(Path page) throws IOException {
        Set<String> anchors = new HashSet<>();
        List<String> raw = new ArrayList<>();
        boolean fenced = false;
        for (String line : Files.readAllLines(page)) {
            if (line.stripLeading().startsWith("```")) {
                fenced = !fenced;
            } else if (!fenced) {
                raw.add(line);
            }
        }
        for (String line : raw) {
            Matcher m = HEADING.matcher(line);
            if (m.matches()) {
                String base = slug(m.group(1));
                String anchor = base;
                for (int i = 1; !anchors.add(anchor); i++) {
                    anchor = base + "-" + i;
                }
            }
        }
        return anchors;
    }

    static String slug(String heading) {
        String text = heading.replaceAll("\\[([^\\]]*)\\]\\([^)]*\\)", "$1").replace("`", "");
        return text.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N}\\s_-]", "").replace(' ', '-');
    }

    @Test
    void githubSlugRules() {
        assertThat(slug("§2 No /dev/kvm")).isEqualTo("2-no-devkvm");
        assertThat(slug("Declaring the filter: web.xml")).isEqualTo("declaring-the-filter-webxml");
        assertThat(slug("4. Deploy into Debian's Tomcat 10.1 and check with curl"))
                .isEqualTo("4-deploy-into-debians-tomcat-101-and-check-with-curl");
    }

    @Test
    void readmeAndDocsHaveNoDeadLinks() throws IOException {
        Path root = root();
        List<String> dead = new ArrayList<>();
        for (Path page : pages(root)) {
            List<String> lines = prose(page);
            for (int n = 0; n < lines.size(); n++) {
                for (Pattern p : List.of(LINK, IMAGE)) {
                    Matcher m = p.matcher(lines.get(n));
                    while (m.find()) {
                        String problem = check(page, m.group(1));
                        if (problem != null) {
                            dead.add(root.relativize(page) + ": " + m.group(1) + " (" + problem + ")");
                        }
                    }
                }
            }
        }
        assertThat(dead).as("dead links in README.md and docs/").isEmpty();
    }

    private static String check(Path page, String target) throws IOException {
        if (target.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*") || target.startsWith("//")) {
            return null; // http:, https:, mailto:: not checked offline
        }
        int hash = target.indexOf('#');
        String file = hash < 0 ? target : target.substring(0, hash);
        String anchor = hash < 0 ? null : target.substring(hash + 1);
        Path resolved = file.isEmpty() ? page : page.getParent().resolve(file).normalize();
        if (!Files.exists(resolved)) {
            return "no such file";
        }
        if (anchor != null && !anchor.isEmpty()) {
            if (!resolved.toString().endsWith(".md")) {
                return null; // line anchors (#L10) in source files
            }
            if (!anchors(resolved).contains(anchor.toLowerCase(Locale.ROOT))) {
                return "no heading makes #" + anchor;
            }
        }
        return null;
    }
}
