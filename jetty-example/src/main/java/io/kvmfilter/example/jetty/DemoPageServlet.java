package io.kvmfilter.example.jetty;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import org.eclipse.jetty.util.resource.Resource;

/**
 * The demo page at {@code /}: every image of the served directory as original, WebP and AVIF side by side,
 * and every text file as original and minified, each with its size; the conversions with the time they took.
 *
 * <p>The numbers are measured, not computed: the page requests the demo's own views over HTTP
 * (the first request of {@code /_kvm/webp/<file>} converts it; the views' programs are booted at start and their
 * filters keep the result), so a time is what one conversion through the filter costs, loopback round trip
 * included. Each file is measured once per
 * size and modification time once converted; reloading the page is then instant.
 *
 * <p>The page is well-formed XML (XHTML syntax), so tools and tests can read it with any XML parser. Each sample is
 * an element with {@code data-sample="<file>"}; each of its views an element with {@code data-variant}
 * ({@code original}, {@code webp}, {@code avif}, {@code minified}) holding the view's URL.
 */
final class DemoPageServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    static final List<String> IMAGE_EXTENSIONS = List.of(".jpg", ".jpeg", ".png", ".gif");
    static final List<String> TEXT_EXTENSIONS = List.of(".html", ".htm", ".css", ".js", ".json");
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);

    private final transient Resource base;
    private final transient HttpClient http = HttpClient.newBuilder().connectTimeout(REQUEST_TIMEOUT).build();
    private final transient ConcurrentMap<String, Measurement> measured = new ConcurrentHashMap<>();

    /** What one request for a view answered, and how long it took. */
    record Measurement(int status, String contentType, long bytes, long millis, String transform, String error) {

        static Measurement failed(String error) {
            return new Measurement(0, "", 0, 0, "", error);
        }
    }

    DemoPageServlet(Resource base) {
        this.base = base;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        List<Resource> files = new ArrayList<>();
        for (Resource file : base.list()) {
            if (!file.isDirectory() && file.getFileName() != null) {
                files.add(file);
            }
        }
        files.sort(Comparator.comparing(Resource::getFileName));
        String origin = "http://" + Main.HOST + ":" + request.getLocalPort();

        StringBuilder html = new StringBuilder(8192);
        html.append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n")
                .append("<meta charset=\"utf-8\"/>\n<title>kvmfilter demo</title>\n<style>\n")
                .append("body{font-family:sans-serif;margin:2em;max-width:75em}")
                .append(".views{display:flex;gap:1.5em;flex-wrap:wrap;align-items:flex-end}")
                .append("figure{margin:0}figure img{max-width:22em;max-height:16em;image-rendering:auto}")
                .append("figcaption{font-size:.9em;color:#333}code{background:#eee;padding:0 .2em}")
                .append("td,th{padding:.2em .8em;text-align:left}.failed{color:#a00}\n")
                .append("</style>\n</head>\n<body>\n<h1>kvmfilter demo</h1>\n")
                .append("<p>Every file of this server passes through <code>KvmFilter</code>. Images (JPEG, PNG, GIF) are ")
                .append("converted to AVIF or WebP when the client's <code>Accept</code> header names the format; ")
                .append("HTML, CSS, JavaScript and JSON are minified for every client. Each conversion runs in its own ")
                .append("KVM virtual machine; when one fails, the original is served. The header ")
                .append("<code>X-KVM-Transform</code> says what happened. Try:</p>\n<pre>curl -sI -H 'Accept: image/avif' ")
                .append(escape(origin)).append("/").append(escape(firstImage(files))).append("</pre>\n")
                .append(getServletContext().getAttribute(Main.STATS_ENABLED) == null ? "<p>"
                        : "<p>Statistics of the filters: <a href=\"" + Main.STATS_PATH + "\">" + Main.STATS_PATH + "</a>. ")
                .append("A GIF is converted from its first frame: ")
                .append("the bundled programs write still images.</p>\n");

        html.append("<h2>Images</h2>\n");
        for (Resource file : files) {
            if (hasExtension(file, IMAGE_EXTENSIONS)) {
                appendImage(html, origin, file);
            }
        }
        html.append("<h2>Text</h2>\n<table>\n<tr><th>file</th><th>original</th><th>minified</th>")
                .append("<th>X-KVM-Transform</th></tr>\n");
        for (Resource file : files) {
            if (hasExtension(file, TEXT_EXTENSIONS)) {
                appendText(html, origin, file);
            }
        }
        html.append("</table>\n</body>\n</html>\n");

        byte[] body = html.toString().getBytes(StandardCharsets.UTF_8);
        response.setContentType("text/html;charset=utf-8");
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }

    private void appendImage(StringBuilder html, String origin, Resource file) {
        String name = file.getFileName();
        html.append("<section class=\"sample\" data-sample=\"").append(escape(name)).append("\">\n<h3><a href=\"/")
                .append(escape(encode(name))).append("\">").append(escape(name)).append("</a></h3>\n")
                .append("<div class=\"views\">\n");
        String originalUrl = Main.ORIGINAL_VIEW + encode(name);
        html.append("<figure data-variant=\"original\" data-url=\"").append(escape(originalUrl))
                .append("\" data-bytes=\"").append(file.length()).append("\"><img src=\"").append(escape(originalUrl))
                .append("\" alt=\"").append(escape(name)).append(", original\"/><figcaption>original: ")
                .append(bytes(file.length())).append("</figcaption></figure>\n");
        for (String format : Main.FORCED_FORMATS) {
            String url = Main.KVM_PREFIX + format + "/" + encode(name);
            Measurement m = measure(origin + url, file, format);
            html.append("<figure data-variant=\"").append(format).append("\" data-url=\"").append(escape(url))
                    .append("\" data-bytes=\"").append(m.bytes()).append("\"><img src=\"").append(escape(url))
                    .append("\" alt=\"").append(escape(name)).append(", ").append(format).append("\"/><figcaption>");
            if (m.error() != null) {
                html.append("<span class=\"failed\">").append(escape(m.error())).append("</span>");
            } else {
                html.append(format.toUpperCase(Locale.ROOT)).append(": ").append(bytes(m.bytes())).append(" (")
                        .append(percent(m.bytes(), file.length())).append(" of the original), ")
                        .append(m.millis()).append(" ms<br/><code>").append(escape(m.contentType()))
                        .append("</code> <code>X-KVM-Transform: ").append(escape(m.transform())).append("</code>");
            }
            html.append("</figcaption></figure>\n");
        }
        html.append("</div>\n</section>\n");
    }

    private void appendText(StringBuilder html, String origin, Resource file) {
        String name = file.getFileName();
        String originalUrl = Main.ORIGINAL_VIEW + encode(name);
        String minifiedUrl = "/" + encode(name);
        Measurement m = measure(origin + minifiedUrl, file, "minified");
        html.append("<tr class=\"sample\" data-sample=\"").append(escape(name)).append("\"><td>").append(escape(name))
                .append("</td><td data-variant=\"original\" data-url=\"").append(escape(originalUrl))
                .append("\"><a href=\"").append(escape(originalUrl)).append("\">").append(bytes(file.length()))
                .append("</a></td><td data-variant=\"minified\" data-url=\"").append(escape(minifiedUrl))
                .append("\" data-bytes=\"").append(m.bytes()).append("\"><a href=\"").append(escape(minifiedUrl))
                .append("\">");
        if (m.error() != null) {
            html.append("<span class=\"failed\">").append(escape(m.error())).append("</span>");
        } else {
            html.append(bytes(m.bytes())).append(" (").append(percent(m.bytes(), file.length())).append(")");
        }
        html.append("</a></td><td><code>").append(escape(m.error() == null ? m.transform() : "")).append("</code></td></tr>\n");
    }

    /** Requests a view once per file version and remembers what it answered. */
    private Measurement measure(String url, Resource file, String variant) {
        String key = variant + " " + file.getFileName() + " " + file.length() + " " + file.lastModified();
        Measurement known = measured.get(key);
        if (known != null) {
            return known;
        }
        Measurement fresh;
        try {
            long start = System.nanoTime();
            HttpResponse<byte[]> answer = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(REQUEST_TIMEOUT)
                    .GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            long millis = (System.nanoTime() - start) / 1_000_000;
            if (answer.statusCode() != 200) {
                fresh = Measurement.failed(url + " answered status " + answer.statusCode());
            } else {
                fresh = new Measurement(answer.statusCode(), answer.headers().firstValue("Content-Type").orElse(""),
                        answer.body().length, millis, answer.headers().firstValue("X-KVM-Transform").orElse("(none)"),
                        null);
            }
        } catch (IOException e) {
            return Measurement.failed("requesting " + url + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Measurement.failed("interrupted while requesting " + url);
        }
        // Only conversions are remembered: after a failure or fallback the next view of the page tries again.
        if (fresh.error() == null && fresh.transform().startsWith("applied=")) {
            measured.put(key, fresh);
        }
        return fresh;
    }

    private static String firstImage(List<Resource> files) {
        return files.stream().filter(f -> hasExtension(f, IMAGE_EXTENSIONS)).map(Resource::getFileName).findFirst()
                .orElse("photo.jpg");
    }

    static boolean hasExtension(Resource file, List<String> extensions) {
        String name = file.getFileName().toLowerCase(Locale.ROOT);
        return extensions.stream().anyMatch(name::endsWith);
    }

    private static String bytes(long count) {
        return String.format(Locale.ROOT, "%,d bytes", count);
    }

    private static String percent(long part, long whole) {
        return whole == 0 ? "-" : String.format(Locale.ROOT, "%.0f%%", 100.0 * part / whole);
    }

    /** A file name as one URL path segment. */
    static String encode(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Text for XML content and attribute values. */
    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
