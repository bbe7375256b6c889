package io.kvmfilter.example.jetty;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvmfilter.kvm.testing.KvmRequirement;
import java.io.ByteArrayInputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Reads the demo page at {@code /} without a browser: parses it, checks that every bundled sample appears with
 * its views (original, WebP and AVIF for images; original and minified for text) and that each view's URL answers
 * with the content type the page promises.
 */
class DemoPageIT {

    /** The animated sample: converted to an animated WebP, and not to AVIF. */
    private static final String ANIMATION = "no_time_for_that_tiny.gif";

    private static final Map<String, String> IMAGES = Map.of(
            "grace_hopper.jpg", "image/jpeg",
            "rocket.jpg", "image/jpeg",
            "palette_color.png", "image/png",
            ANIMATION, "image/gif");
    private static final Map<String, String> TEXTS = Map.of(
            "bootstrap.css", "text/css",
            "jquery.js", "text/javascript",
            "im-architecture.html", "text/html",
            "twitter.json", "application/json");

    private static JarServer server;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        server = JarServer.start(dir, "--port", "0", "--stats");
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void showsEveryImageAsOriginalWebpAndAvif() throws Exception {
        KvmRequirement.require("webp", "avif");
        Document page = demoPage();

        for (Map.Entry<String, String> image : IMAGES.entrySet()) {
            Map<String, Element> views = views(page, image.getKey());
            assertThat(views.keySet()).as("views of %s", image.getKey()).containsExactly("original", "webp", "avif");

            assertView(views.get("original"), image.getValue(), MainIT.bundledSample(image.getKey()).length);
            byte[] webp = assertView(views.get("webp"), "image/webp", -1);
            if (image.getKey().equals(ANIMATION)) {
                // Every frame kept as an animated WebP; the bundled AVIF program writes still images, so the page
                // shows the original for AVIF and says the conversion failed rather than showing one frame.
                assertThat(new String(webp, StandardCharsets.ISO_8859_1)).as("animated WebP").contains("ANIM");
                assertView(views.get("avif"), "image/gif", MainIT.bundledSample(ANIMATION).length);
                assertThat(views.get("avif").getAttribute("data-status")).isEqualTo("failed");
                assertThat(views.get("avif").getTextContent()).contains("skipped=animated");
                continue;
            }
            assertView(views.get("avif"), "image/avif", -1);
            for (Element figure : views.values()) {
                Element img = (Element) figure.getElementsByTagName("img").item(0);
                assertThat(img.getAttribute("src")).as("the picture shows the view").isEqualTo(figure.getAttribute("data-url"));
                assertThat(figure.getTextContent()).as("caption of %s", figure.getAttribute("data-url")).contains("bytes");
            }
            assertThat(views.get("avif").getTextContent()).as("AVIF of %s: converted, with its time", image.getKey())
                    .contains("applied=avif").containsPattern("\\d+ ms");
        }
    }

    @Test
    void showsEveryTextFileAsOriginalAndMinified() throws Exception {
        KvmRequirement.require("minify");
        Document page = demoPage();

        for (Map.Entry<String, String> text : TEXTS.entrySet()) {
            Map<String, Element> views = views(page, text.getKey());
            assertThat(views.keySet()).as("views of %s", text.getKey()).containsExactly("original", "minified");

            int original = MainIT.bundledSample(text.getKey()).length;
            assertView(views.get("original"), text.getValue(), original);
            byte[] minified = assertView(views.get("minified"), text.getValue(), -1);
            assertThat(minified.length).as("%s minified", text.getKey()).isLessThan(original);
            assertThat(Long.parseLong(views.get("minified").getAttribute("data-bytes"))).isEqualTo(minified.length);
        }
    }

    @Test
    void linksTheStatistics() throws Exception {
        Document page = demoPage();

        List<String> links = new ArrayList<>();
        NodeList anchors = page.getElementsByTagName("a");
        for (int i = 0; i < anchors.getLength(); i++) {
            links.add(((Element) anchors.item(i)).getAttribute("href"));
        }
        assertThat(links).contains("/_kvm/stats");
        assertThat(server.get("/_kvm/stats").statusCode()).isEqualTo(200);
    }

    /** Fetches the view's URL; checks status, content type and (when known) the size the page shows. */
    private static byte[] assertView(Element view, String contentType, long expectedBytes) throws Exception {
        String url = view.getAttribute("data-url");
        assertThat(url).as("a view links its URL").startsWith("/");
        HttpResponse<byte[]> response = server.get(url, "Accept", "image/avif,image/webp,*/*");
        assertThat(response.statusCode()).as(url).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).as("Content-Type of %s", url)
                .hasValueSatisfying(type -> assertThat(type).startsWith(contentType));
        if (expectedBytes >= 0) {
            assertThat(response.body()).as(url).hasSize((int) expectedBytes);
        }
        if (!view.getAttribute("data-bytes").isEmpty() && !url.startsWith("/_kvm/original/")) {
            assertThat(Long.parseLong(view.getAttribute("data-bytes"))).as("size shown for %s", url)
                    .isEqualTo(response.body().length);
        }
        return response.body();
    }

    private static Document demoPage() throws Exception {
        HttpResponse<byte[]> response = server.get("/");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("text/html"));
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", false);
        return factory.newDocumentBuilder().parse(new ByteArrayInputStream(response.body()));
    }

    /** The views of one sample, by their data-variant, in page order. */
    private static Map<String, Element> views(Document page, String sample) {
        Element found = null;
        for (String tag : List.of("section", "tr")) {
            NodeList candidates = page.getElementsByTagName(tag);
            for (int i = 0; i < candidates.getLength(); i++) {
                Element candidate = (Element) candidates.item(i);
                if (sample.equals(candidate.getAttribute("data-sample"))) {
                    found = candidate;
                }
            }
        }
        assertThat(found).as("sample %s on the demo page", sample).isNotNull();
        Map<String, Element> views = new LinkedHashMap<>();
        NodeList all = found.getElementsByTagName("*");
        for (int i = 0; i < all.getLength(); i++) {
            Element element = (Element) all.item(i);
            if (!element.getAttribute("data-variant").isEmpty()) {
                views.put(element.getAttribute("data-variant"), element);
            }
        }
        return views;
    }
}
