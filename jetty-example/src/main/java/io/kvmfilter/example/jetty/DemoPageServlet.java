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
 * The demo page at {@code /}: every image of the served directory as original, WebP and AVIF side by side at a
 * readable size, with bytes saved, the time each conversion took and a slider comparing the original with the best
 * conversion; every text file as original and minified, with a preview of the minified text; totals with a small
 * bar chart. A conversion that did not happen (the filter fell back to the original, or the view failed) is marked
 * as such, with the reason, and never counted as a saving.
 *
 * <p>The numbers are measured, not computed: the page requests the demo's own views over HTTP
 * (the first request of {@code /_kvm/webp/<file>} converts it; the views' programs are booted at start and their
 * filters keep the result), so a time is what one conversion through the filter costs, loopback round trip
 * included. Each file is measured once per
 * size and modification time once converted; reloading the page is then instant.
 *
 * <p>The page is well-formed XML (XHTML syntax), so tools and tests can read it with any XML parser; it loads
 * nothing but the views it shows (its style is inline). Each sample is an element with
 * {@code data-sample="<file>"}; each of its views an element with {@code data-variant} ({@code original},
 * {@code webp}, {@code avif}, {@code minified}) holding the view's URL, its size in {@code data-bytes} and, for
 * conversions, {@code data-status} ({@code applied} or {@code failed}).
 */
final class DemoPageServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    static final List<String> IMAGE_EXTENSIONS = List.of(".jpg", ".jpeg", ".png", ".gif");
    static final List<String> TEXT_EXTENSIONS = List.of(".html", ".htm", ".css", ".js", ".json");
    /** Characters of each minified text shown on the page. */
    static final int PREVIEW_CHARS = 600;
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);

    /** The page's style: inline, so the page needs no request of its own beyond the views it shows. */
    private static final String STYLE = String.join("\n",
            ":root{--ink:#1d2733;--muted:#5b6776;--line:#dde3ea;--card:#fff;--bg:#f3f5f8;--original:#8a96a3;"
                    + "--webp:#2f7dd1;--avif:#1f9d6b;--minified:#8a5cd6;--failed:#c62828}",
            "*{box-sizing:border-box}",
            "body{margin:0;font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--ink);"
                    + "background:var(--bg)}",
            "header{background:#17202b;color:#fff;padding:1.5rem 2rem}header h1{margin:0 0 .3rem;font-size:1.6rem}",
            "header p{margin:.3rem 0;max-width:60rem;color:#cfd8e3}header code{background:#2a3644;color:#fff}",
            "main{padding:1rem 2rem 3rem;max-width:90rem;margin:0 auto}",
            "h2{margin:2rem 0 .8rem;font-size:1.3rem}",
            "code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}",
            "code{background:#e9edf2;padding:.05rem .3rem;border-radius:3px}",
            ".card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:1rem 1.2rem;"
                    + "margin:0 0 1.2rem;box-shadow:0 1px 2px rgba(0,0,0,.05)}",
            ".card h3{margin:0 0 .8rem;font-size:1.05rem}.card h3 a{color:inherit}",
            ".views{display:grid;grid-template-columns:repeat(auto-fit,minmax(17rem,1fr));gap:1rem}",
            "figure{margin:0;border:1px solid var(--line);border-radius:8px;overflow:hidden;background:#fafbfc}",
            "figure>a{display:flex;align-items:center;justify-content:center;height:18rem;"
                    + "background:repeating-conic-gradient(#eef1f4 0 25%,#fff 0 50%) 0 0/20px 20px}",
            // Small pictures are scaled up to a readable size; large ones down to the frame.
            "figure img{max-width:100%;max-height:18rem;min-height:9rem;object-fit:contain;cursor:zoom-in}",
            "figcaption{padding:.6rem .8rem;border-top:1px solid var(--line);font-size:.9rem}",
            ".label{display:inline-block;font-weight:600;color:#fff;border-radius:4px;padding:0 .45rem;margin-right:.4rem}",
            ".original .label{background:var(--original)}.webp .label{background:var(--webp)}"
                    + ".avif .label{background:var(--avif)}.minified .label{background:var(--minified)}",
            ".saved{font-weight:600;color:var(--avif)}.larger{font-weight:600;color:#b26a00}.muted{color:var(--muted)}",
            "figure.failed{border:2px solid var(--failed)}figure.failed .label{background:var(--failed)}",
            ".failure{color:var(--failed);font-weight:600}",
            ".badge{position:absolute;top:0;left:0;z-index:1;margin:.5rem;padding:.1rem .5rem;border-radius:4px;background:var(--failed);"
                    + "color:#fff;font-weight:700;font-size:.8rem}figure.failed>a{position:relative;align-items:center;"
                    + "justify-content:center}",
            ".compare{display:inline-block;margin-top:1rem;max-width:100%;--pos:50%}",
            ".compare .frame{position:relative;display:inline-block;max-width:100%;border:1px solid var(--line)}",
            ".compare img{display:block;max-width:100%;max-height:26rem;min-height:12rem}",
            ".compare img.after{position:absolute;top:0;left:0;width:100%;height:100%;min-height:0;max-height:none;"
                    + "clip-path:inset(0 0 0 var(--pos))}",
            ".compare .frame::after{content:'';position:absolute;top:0;bottom:0;left:var(--pos);"
                    + "border-left:2px solid #fff;box-shadow:0 0 3px rgba(0,0,0,.6)}",
            ".compare input{display:block;width:100%;margin:.4rem 0 0}",
            ".summary{display:grid;grid-template-columns:repeat(auto-fit,minmax(22rem,1fr));gap:1.2rem}",
            ".chart{display:grid;grid-template-columns:7rem 1fr 12rem;gap:.35rem .6rem;align-items:center}",
            ".bar{height:1rem;background:#edf0f3;border-radius:3px;overflow:hidden}.bar span{display:block;height:100%}",
            ".bar .original{background:var(--original)}.bar .webp{background:var(--webp)}"
                    + ".bar .avif{background:var(--avif)}.bar .minified{background:var(--minified)}",
            "table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);"
                    + "border-radius:10px;overflow:hidden}",
            "th,td{padding:.45rem .8rem;text-align:left;border-bottom:1px solid var(--line);vertical-align:top}",
            "th{background:#eef1f5;font-weight:600}td.num{white-space:nowrap}",
            "tr.preview td{background:#fafbfc}pre{margin:.4rem 0 0;white-space:pre-wrap;word-break:break-all;"
                    + "max-height:9rem;overflow:auto}");

    private final transient Resource base;
    private final transient HttpClient http = HttpClient.newBuilder().connectTimeout(REQUEST_TIMEOUT).build();
    private final transient ConcurrentMap<String, Measurement> measured = new ConcurrentHashMap<>();

    /**
     * What one request for a view answered, and how long it took; {@code preview} is the start of a text body.
     */
    record Measurement(int status, String contentType, long bytes, long millis, String transform, String error,
            String preview) {

        static Measurement failed(String error) {
            return new Measurement(0, "", 0, 0, "", error, "");
        }

        /** True when the view answered with the program's result. */
        boolean applied() {
            return error == null && transform.startsWith("applied=");
        }

        /** Why there is no result: the request's failure, or the filter's fallback to the original. */
        String failure() {
            return error != null ? error : "not converted (" + transform + "): the original is served";
        }
    }

    /** One image and its measured conversions, in {@link Main#FORCED_FORMATS} order. */
    private record ImageRow(Resource file, List<Measurement> conversions) {
    }

    /** One text file and its measured minification. */
    private record TextRow(Resource file, Measurement minified) {
    }

    /**
     * The image endpoint's option URLs the page shows, when {@code --images} mounts it.
     *
     * @param path    where the endpoint answers, e.g. {@code /img}
     * @param queries the option queries to show (unsigned)
     * @param signer  signs them when the endpoint takes only signed URLs
     */
    record OptionUrls(String path, List<String> queries, java.util.Optional<io.kvmfilter.filter.UrlSigner> signer) {

        /** Examples of the option scheme, one per kind of option (docs/configuration.md). */
        static final List<String> EXAMPLES = List.of("w=160", "w=160&dpr=2", "w=120&h=120&g=smart",
                "w=200&h=120&fit=contain&fmt=png", "w=160&fmt=jpeg&q=30");

        /** The URL of a file with these options. */
        String url(String file, String query) {
            String path = path() + "/" + encode(file);
            return signer.map(s -> s.sign(path, query)).orElse(path + "?" + query);
        }
    }

    private final transient OptionUrls optionUrls;

    DemoPageServlet(Resource base) {
        this(base, null);
    }

    /** @param optionUrls the image endpoint's URLs to show, or null when it is not mounted */
    DemoPageServlet(Resource base, OptionUrls optionUrls) {
        this.base = base;
        this.optionUrls = optionUrls;
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

        // Measure first: the summary at the top needs every number.
        List<ImageRow> images = new ArrayList<>();
        List<TextRow> texts = new ArrayList<>();
        for (Resource file : files) {
            if (hasExtension(file, IMAGE_EXTENSIONS)) {
                List<Measurement> conversions = new ArrayList<>();
                for (String format : Main.FORCED_FORMATS) {
                    conversions.add(measure(origin + Main.KVM_PREFIX + format + "/" + encode(file.getFileName()), file,
                            format));
                }
                images.add(new ImageRow(file, conversions));
            } else if (hasExtension(file, TEXT_EXTENSIONS)) {
                texts.add(new TextRow(file, measure(origin + "/" + encode(file.getFileName()), file, "minified")));
            }
        }

        StringBuilder html = new StringBuilder(16384);
        html.append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n")
                .append("<meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width\"/>\n")
                .append("<title>kvmfilter demo</title>\n")
                // No favicon request (a 404 would be a console error in the browser).
                .append("<link rel=\"icon\" href=\"data:,\"/>\n<style>\n").append(STYLE).append("\n</style>\n")
                .append("</head>\n<body>\n<header>\n<h1>kvmfilter demo</h1>\n")
                .append("<p>Every file of this server passes through <code>KvmFilter</code>. Images (JPEG, PNG, GIF) are ")
                .append("converted to AVIF or WebP when the client's <code>Accept</code> header names the format; ")
                .append("HTML, CSS, JavaScript and JSON are minified for every client. Each conversion runs in its own ")
                .append("KVM virtual machine; when one fails, the original is served. The header ")
                .append("<code>X-KVM-Transform</code> says what happened. Try:</p>\n<p><code>curl -sI -H 'Accept: image/avif' ")
                .append(escape(origin)).append("/").append(escape(firstImage(files))).append("</code></p>\n")
                .append(getServletContext().getAttribute(Main.STATS_ENABLED) == null ? "<p>"
                        : "<p>Statistics of the filters: <a style=\"color:#9cd1ff\" href=\"" + Main.STATS_PATH + "\">"
                                + Main.STATS_PATH + "</a>. ")
                .append("An animated GIF becomes an animated WebP; the bundled AVIF program writes still images, ")
                .append("so an animation's AVIF view shows the original. Click a picture to see it at full size.</p>\n")
                .append("</header>\n<main>\n");
        appendSummary(html, images, texts);
        html.append("<h2>Images</h2>\n");
        for (ImageRow image : images) {
            appendImage(html, image);
        }
        if (optionUrls != null && !images.isEmpty()) {
            appendOptionUrls(html, images.get(0).file().getFileName());
        }
        html.append("<h2>Text</h2>\n<table>\n<tr><th>file</th><th>original</th><th>minified</th><th>saved</th>")
                .append("<th>X-KVM-Transform</th></tr>\n");
        for (TextRow text : texts) {
            appendText(html, text);
        }
        html.append("</table>\n</main>\n</body>\n</html>\n");

        byte[] body = html.toString().getBytes(StandardCharsets.UTF_8);
        response.setContentType("text/html;charset=utf-8");
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }

    /**
     * Totals: what a client gets in each format (a failed conversion counts as the original it is served), as bars
     * scaled to the originals.
     */
    private static void appendSummary(StringBuilder html, List<ImageRow> images, List<TextRow> texts) {
        html.append("<h2>Summary</h2>\n<div class=\"summary\" id=\"summary\">\n");
        long originals = images.stream().mapToLong(i -> i.file().length()).sum();
        html.append("<div class=\"card\"><h3>").append(count(images.size(), "image")).append("</h3>\n<div class=\"chart\">\n");
        chartRow(html, "original", "original", originals, originals, -1);
        for (int f = 0; f < Main.FORCED_FORMATS.size(); f++) {
            String format = Main.FORCED_FORMATS.get(f);
            long served = 0;
            int failed = 0;
            for (ImageRow image : images) {
                Measurement m = image.conversions().get(f);
                served += m.applied() ? m.bytes() : image.file().length();
                failed += m.applied() ? 0 : 1;
            }
            chartRow(html, format, format.toUpperCase(Locale.ROOT), served, originals, failed);
        }
        html.append("</div></div>\n");
        long textOriginals = texts.stream().mapToLong(t -> t.file().length()).sum();
        long minified = texts.stream().mapToLong(t -> t.minified().applied() ? t.minified().bytes() : t.file().length())
                .sum();
        int textFailed = (int) texts.stream().filter(t -> !t.minified().applied()).count();
        html.append("<div class=\"card\"><h3>").append(count(texts.size(), "text file")).append("</h3>\n<div class=\"chart\">\n");
        chartRow(html, "original", "original", textOriginals, textOriginals, -1);
        chartRow(html, "minified", "minified", minified, textOriginals, textFailed);
        html.append("</div></div>\n</div>\n");
    }

    private static void chartRow(StringBuilder html, String cssClass, String label, long bytes, long whole, int failed) {
        double width = whole == 0 ? 0 : Math.min(100, 100.0 * bytes / whole);
        html.append("<span><span class=\"label\" style=\"background:var(--").append(cssClass).append(")\">")
                .append(label).append("</span></span><div class=\"bar\"><span class=\"").append(cssClass)
                .append("\" style=\"width:").append(String.format(Locale.ROOT, "%.1f", width)).append("%\"></span></div>")
                .append("<span data-total=\"").append(cssClass).append("\" data-bytes=\"").append(bytes).append("\">")
                .append(bytes(bytes));
        if (failed >= 0) {
            html.append(", ").append(savedText(bytes, whole));
            if (failed > 0) {
                html.append(", <span class=\"failure\">").append(failed).append(" not converted</span>");
            }
        }
        html.append("</span>\n");
    }

    private static void appendImage(StringBuilder html, ImageRow image) {
        Resource file = image.file();
        String name = file.getFileName();
        String originalUrl = Main.ORIGINAL_VIEW + encode(name);
        html.append("<section class=\"card sample\" data-sample=\"").append(escape(name)).append("\">\n<h3><a href=\"/")
                .append(escape(encode(name))).append("\">").append(escape(name)).append("</a></h3>\n")
                .append("<div class=\"views\">\n");
        html.append("<figure class=\"original\" data-variant=\"original\" data-url=\"").append(escape(originalUrl))
                .append("\" data-bytes=\"").append(file.length()).append("\"><a href=\"").append(escape(originalUrl))
                .append("\"><img src=\"").append(escape(originalUrl)).append("\" alt=\"").append(escape(name))
                .append(", original\"/></a><figcaption><span class=\"label\">original</span>")
                .append(bytes(file.length())).append("</figcaption></figure>\n");
        String best = null;
        for (int f = 0; f < Main.FORCED_FORMATS.size(); f++) {
            String format = Main.FORCED_FORMATS.get(f);
            Measurement m = image.conversions().get(f);
            String url = Main.KVM_PREFIX + format + "/" + encode(name);
            boolean applied = m.applied();
            html.append("<figure class=\"").append(format).append(applied ? "" : " failed").append("\" data-variant=\"")
                    .append(format).append("\" data-url=\"").append(escape(url)).append("\" data-bytes=\"")
                    .append(m.bytes()).append("\" data-status=\"").append(applied ? "applied" : "failed").append("\">")
                    .append("<a href=\"").append(escape(url)).append("\">");
            if (!applied) {
                html.append("<span class=\"badge\">not converted</span>");
            }
            html.append("<img src=\"").append(escape(url)).append("\" alt=\"").append(escape(name)).append(", ")
                    .append(format).append("\"/></a><figcaption><span class=\"label\">")
                    .append(format.toUpperCase(Locale.ROOT)).append("</span>");
            if (applied) {
                html.append(bytes(m.bytes())).append(", ").append(savedText(m.bytes(), file.length())).append(", ")
                        .append(m.millis()).append(" ms<br/><code>").append(escape(m.contentType()))
                        .append("</code> <code>X-KVM-Transform: ").append(escape(m.transform())).append("</code>");
                best = url; // the last applied one: AVIF when it worked, else WebP
            } else {
                html.append("<span class=\"failure\">").append(escape(m.failure())).append("</span>");
            }
            html.append("</figcaption></figure>\n");
        }
        html.append("</div>\n");
        if (best != null) {
            String format = best.substring(Main.KVM_PREFIX.length(), best.indexOf('/', Main.KVM_PREFIX.length()));
            html.append("<div class=\"compare\"><div class=\"frame\"><img src=\"").append(escape(originalUrl))
                    .append("\" alt=\"\"/><img class=\"after\" src=\"").append(escape(best)).append("\" alt=\"\"/></div>")
                    .append("<input type=\"range\" min=\"0\" max=\"100\" value=\"50\" aria-label=\"compare the original")
                    .append(" with ").append(format).append("\" oninput=\"this.parentNode.style.setProperty('--pos',")
                    .append("this.value+'%')\"/></div>\n<p class=\"muted\">Compare: left of the line the original, right ")
                    .append(format.toUpperCase(Locale.ROOT)).append(". Drag the slider.</p>\n");
        }
        html.append("</section>\n");
    }

    /** The image endpoint's option URLs for one file: each picture with the URL that made it. */
    private void appendOptionUrls(StringBuilder html, String file) {
        html.append("<h2>Option URLs</h2>\n<p>The same picture made on demand by <code>ImageServlet</code> at ")
                .append("<code>").append(escape(optionUrls.path())).append("</code>: the URL's query says the size, ")
                .append("crop, quality and format (docs/configuration.md)")
                .append(optionUrls.signer().isPresent() ? "; this server takes only signed URLs (parameter s)" : "")
                .append(".</p>\n<div class=\"views\" data-option-urls=\"").append(escape(optionUrls.path()))
                .append("\">\n");
        for (String query : optionUrls.queries()) {
            String url = optionUrls.url(file, query);
            html.append("<figure class=\"view\" data-option-url=\"").append(escape(url)).append("\"><a href=\"")
                    .append(escape(url)).append("\"><img src=\"").append(escape(url)).append("\" alt=\"")
                    .append(escape(file + " with " + query)).append("\"/></a><figcaption><code>")
                    .append(escape(query)).append("</code></figcaption></figure>\n");
        }
        html.append("</div>\n");
    }

    private static void appendText(StringBuilder html, TextRow text) {
        Resource file = text.file();
        Measurement m = text.minified();
        String name = file.getFileName();
        String originalUrl = Main.ORIGINAL_VIEW + encode(name);
        String minifiedUrl = "/" + encode(name);
        boolean applied = m.applied();
        html.append("<tr class=\"sample\" data-sample=\"").append(escape(name)).append("\"><td>").append(escape(name))
                .append("</td><td class=\"num\" data-variant=\"original\" data-url=\"").append(escape(originalUrl))
                .append("\"><a href=\"").append(escape(originalUrl)).append("\">").append(bytes(file.length()))
                .append("</a></td><td class=\"num\" data-variant=\"minified\" data-url=\"").append(escape(minifiedUrl))
                .append("\" data-bytes=\"").append(m.bytes()).append("\" data-status=\"")
                .append(applied ? "applied" : "failed").append("\"><a href=\"").append(escape(minifiedUrl)).append("\">");
        if (applied) {
            html.append(bytes(m.bytes())).append(" (").append(percent(m.bytes(), file.length())).append(")");
        } else {
            html.append("<span class=\"failure\">").append(escape(m.failure())).append("</span>");
        }
        double width = file.length() == 0 || !applied ? 0 : Math.max(0, 100.0 - 100.0 * m.bytes() / file.length());
        html.append("</a></td><td><div class=\"bar\" title=\"saved\"><span class=\"minified\" style=\"width:")
                .append(String.format(Locale.ROOT, "%.1f", width)).append("%\"></span></div>")
                .append(applied ? savedText(m.bytes(), file.length()) : "").append("</td><td><code>")
                .append(escape(m.error() == null ? m.transform() : "")).append("</code></td></tr>\n");
        if (applied && !m.preview().isEmpty()) {
            html.append("<tr class=\"preview\"><td colspan=\"5\"><details><summary>").append(escape(name))
                    .append(" minified, the first ").append(m.preview().length()).append(" characters</summary><pre>")
                    .append(escape(m.preview())).append("</pre></details></td></tr>\n");
        }
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
                        null, "minified".equals(variant) ? preview(answer.body()) : "");
            }
        } catch (IOException e) {
            return Measurement.failed("requesting " + url + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Measurement.failed("interrupted while requesting " + url);
        }
        // Only conversions are remembered: after a failure or fallback the next view of the page tries again.
        if (fresh.applied()) {
            measured.put(key, fresh);
        }
        return fresh;
    }

    /** The start of a text body, without characters XML does not allow. */
    static String preview(byte[] body) {
        String text = new String(body, 0, Math.min(body.length, PREVIEW_CHARS * 4), StandardCharsets.UTF_8);
        text = text.substring(0, Math.min(text.length(), PREVIEW_CHARS));
        // A lone surrogate (a pair cut at the end) or a control character is not XML: shown as U+FFFD.
        return text.replaceAll("[^\\t\\n\\r\\x20-\\uD7FF\\uE000-\\uFFFD\\x{10000}-\\x{10FFFF}]", "\uFFFD");
    }

    /** "saved 67%" (green), or "43% larger" when a result is larger than the original. */
    private static String savedText(long bytes, long original) {
        if (original == 0) {
            return "<span class=\"muted\">-</span>";
        }
        double saved = 100.0 - 100.0 * bytes / original;
        return saved >= 0
                ? "<span class=\"saved\">saved " + String.format(Locale.ROOT, "%.0f%%", saved) + "</span>"
                : "<span class=\"larger\">" + String.format(Locale.ROOT, "%.0f%%", -saved) + " larger</span>";
    }

    /** "1 image", "3 images". */
    private static String count(int n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
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
