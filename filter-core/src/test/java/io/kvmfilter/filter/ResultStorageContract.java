package io.kvmfilter.filter;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The result store and the overload limits, over HTTP on a real container (issue #12 items 1 and 6, issue #13):
 * results are served only for identical inputs, concurrent requests share one run, failures are remembered, the
 * directory survives a restart, a full waiting line answers at once, a failing variant is paused and waiting
 * requests hold no container thread. The transform is {@link StorageTestTransform}, which counts its runs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ResultStorageContract {

    static final String HEADER = "X-KVM-Transform";

    private ServletContainer container;
    private Path staticDir;
    private final StorageTestTransform transform = new StorageTestTransform();
    private final StorageTestTransform lineTransform = new StorageTestTransform();
    private final StorageTestTransform pauseTransform = new StorageTestTransform();
    private final StorageTestTransform backgroundTransform = new StorageTestTransform();
    /** The body of /strong.txt, an origin with strong ETags; the bodies it produced; the If-None-Match it saw. */
    private final AtomicReference<String> strongBody = new AtomicReference<>("");
    private final AtomicInteger strongBodies = new AtomicInteger();
    private final AtomicReference<String> strongCondition = new AtomicReference<>();

    abstract ServletContainer newContainer();

    static KvmFilterConfig.Builder config() {
        return KvmFilterConfig.builder()
                .rules("text/plain -> upper\ntext/x-url -> url")
                .minBodySize(1)
                .requireSmaller(false);
    }

    /**
     * /text?body=B answers B as text/plain (with Cache-Control C for &amp;cache=C); /url answers one body for every
     * URL, typed by the X-Type header.
     */
    static void servlets(Deployment deployment, String prefix) {
        deployment.servlet(prefix + "/text", TestServlets.servlet((req, res) -> {
            if (req.getParameter("cache") != null) {
                res.setHeader("Cache-Control", req.getParameter("cache"));
            }
            res.setContentType("text/plain");
            res.getOutputStream().write(req.getParameter("body").getBytes(StandardCharsets.ISO_8859_1));
        }));
        deployment.servlet(prefix + "/url", TestServlets.servlet((req, res) -> {
            String type = req.getHeader("X-Type");
            res.setContentType(type == null ? "text/x-url" : type);
            res.getOutputStream().write("the same body for every URL".getBytes(StandardCharsets.ISO_8859_1));
        }));
        deployment.servlet(prefix + "/plain", TestServlets.servlet((req, res) -> {
            res.setContentType("application/octet-stream");
            res.getOutputStream().write(new byte[] {1, 2, 3});
        }));
    }

    @BeforeAll
    void start() throws Exception {
        staticDir = Files.createTempDirectory("kvmfilter-storage");
        Deployment deployment = new Deployment().staticFiles(staticDir);
        deployment.filter("kvm", new KvmFilter(config().excludedPaths("/line/*", "/pause/*", "/background/*").build(),
                transform), "/*", Map.of());
        // The request that starts a conversion waits 100 ms for it; then the conversion goes on in the background.
        deployment.filter("background", new KvmFilter(config().runWait(Duration.ofMillis(100)).build(),
                backgroundTransform), "/background/*", Map.of());
        // Four runs at once (the default for a transform given in code), one more may wait 300 ms.
        deployment.filter("line", new KvmFilter(config().maxWaiters(1).maxWait(Duration.ofMillis(300)).build(),
                lineTransform), "/line/*", Map.of());
        deployment.filter("pause", new KvmFilter(config().pauseAfterFailures(2, Duration.ofSeconds(1)).build(),
                pauseTransform), "/pause/*", Map.of());
        deployment.servlet("/admin/stats", new KvmStatsServlet(), Map.of());
        servlets(deployment, "");
        strongEtagServlet(deployment);
        servlets(deployment, "/line");
        servlets(deployment, "/pause");
        servlets(deployment, "/background");
        container = newContainer();
        container.start(deployment);
    }

    /**
     * /strong.txt: an origin that vouches for its bytes, as a content-hash ETag does, and answers If-None-Match
     * with 304 (unless ?ignore is given); its 200 also carries headers a 304 does not; ?private marks it private.
     */
    private void strongEtagServlet(Deployment deployment) {
        deployment.servlet("/strong.txt", TestServlets.servlet((req, res) -> {
            String body = strongBody.get();
            String etag = "\"" + Integer.toHexString(body.hashCode()) + "\"";
            strongCondition.set(req.getHeader("If-None-Match"));
            res.setHeader("ETag", etag);
            res.setHeader("Cache-Control", req.getParameter("private") == null ? "max-age=60" : "private");
            if (etag.equals(req.getHeader("If-None-Match")) && req.getParameter("ignore") == null) {
                res.setStatus(HttpServletResponse.SC_NOT_MODIFIED);
                return;
            }
            strongBodies.incrementAndGet();
            res.setHeader("Content-Language", "en");
            res.addCookie(new Cookie("session", "for-one-client-only"));
            res.setContentType("text/plain");
            res.getOutputStream().write(body.getBytes(StandardCharsets.ISO_8859_1));
        }));
    }

    @AfterAll
    void stop() throws Exception {
        if (container != null) {
            container.close();
        }
        delete(staticDir);
    }

    static void delete(Path dir) throws Exception {
        if (dir != null) {
            try (var paths = Files.walk(dir)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    RequestSpecification http() {
        return http(container);
    }

    static RequestSpecification http(ServletContainer on) {
        return given().baseUri("http://127.0.0.1").port(on.port()).redirects().follow(false);
    }

    // --- cache correctness (#12 item 1) -------------------------------------------------------------------------

    @Test
    void aProgramThatReadsItsUrlGetsItsOwnUrlsResult() {
        Response w100 = http().get("/url?w=100");
        Response w200 = http().get("/url?w=200");
        assertThat(w100.asString()).isEqualTo("url /url?w=100 type text/x-url");
        assertThat(w200.asString()).isEqualTo("url /url?w=200 type text/x-url");
        // The same URL again is served from the store.
        int runs = transform.calls.get();
        Response again = http().get("/url?w=100");
        assertThat(again.asString()).isEqualTo("url /url?w=100 type text/x-url");
        assertThat(transform.calls.get()).isEqualTo(runs);
    }

    @Test
    void anotherContentTypeIsAnotherInput() {
        Response plain = http().header("X-Type", "text/x-url").get("/url?type-test");
        Response withCharset = http().header("X-Type", "text/x-url;charset=UTF-8").get("/url?type-test");
        assertThat(plain.asString()).endsWith("type text/x-url");
        assertThat(withCharset.asString()).endsWith("type text/x-url;charset=UTF-8");
    }

    @Test
    void aFileChangedInPlaceWithTheSameSizeAndSecondIsTransformedAgain() throws Exception {
        Path file = staticDir.resolve("changing.txt");
        Files.writeString(file, "version one of the file", StandardCharsets.ISO_8859_1);
        FileTime time = Files.getLastModifiedTime(file);
        Response first = http().get("/changing.txt");
        assertThat(first.header(HEADER)).isEqualTo("applied=upper");
        assertThat(first.asString()).isEqualTo("VERSION ONE OF THE FILE");
        assertThat(http().get("/changing.txt").asString()).isEqualTo("VERSION ONE OF THE FILE");

        Files.writeString(file, "version two of the file", StandardCharsets.ISO_8859_1);
        Files.setLastModifiedTime(file, time);
        Response second = http().get("/changing.txt");
        assertThat(second.header("Last-Modified")).isEqualTo(first.header("Last-Modified"));
        assertThat(second.header("Content-Length")).isEqualTo(first.header("Content-Length"));
        assertThat(second.asString()).isEqualTo("VERSION TWO OF THE FILE");
    }

    @Test
    void originalsOfOneLengthServedFromTheStoreAndRunInTurnNeverMix() throws Exception {
        // Large enough for their arrays to be reused (BodyBuffers): hits give them back, misses take them.
        int length = BodyBuffers.MIN_LENGTH + 1000;
        Files.writeString(staticDir.resolve("same-length-a.txt"), "a".repeat(length), StandardCharsets.ISO_8859_1);
        Files.writeString(staticDir.resolve("same-length-b.txt"), "b".repeat(length), StandardCharsets.ISO_8859_1);
        assertThat(http().get("/same-length-a.txt").asString()).isEqualTo("A".repeat(length));
        for (int round = 0; round < 3; round++) {
            Response hit = http().get("/same-length-a.txt");
            assertThat(hit.header(HEADER)).isEqualTo("applied=upper");
            assertThat(hit.asString()).isEqualTo("A".repeat(length));
            Response other = http().get("/same-length-b.txt");
            assertThat(other.asString()).isEqualTo("B".repeat(length));
        }
        Path changed = staticDir.resolve("same-length-b.txt");
        FileTime time = Files.getLastModifiedTime(changed);
        Files.writeString(changed, "c".repeat(length), StandardCharsets.ISO_8859_1);
        Files.setLastModifiedTime(changed, time);
        assertThat(http().get("/same-length-b.txt").asString()).isEqualTo("C".repeat(length));
    }

    // --- strong validators: the application is only asked whether its original changed (#13) -------------------

    @Test
    void aStoredResultOfAStrongEtagOriginalIsServedOnTheApplications304() {
        strongBody.set("an original with a strong etag");
        Response first = http().get("/strong.txt");
        assertThat(first.header(HEADER)).isEqualTo("applied=upper");
        assertThat(first.asString()).isEqualTo("AN ORIGINAL WITH A STRONG ETAG");
        assertThat(first.header("Set-Cookie")).contains("session=for-one-client-only");
        String originalTag = "\"" + Integer.toHexString(strongBody.get().hashCode()) + "\"";
        int bodies = strongBodies.get();
        int runs = transform.calls.get();

        Response second = http().get("/strong.txt");
        assertThat(strongCondition.get()).as("the If-None-Match the application saw").isEqualTo(originalTag);
        assertThat(strongBodies.get()).as("bodies the application produced").isEqualTo(bodies);
        assertThat(transform.calls.get()).isEqualTo(runs);
        assertThat(second.statusCode()).isEqualTo(200);
        assertThat(second.asString()).isEqualTo("AN ORIGINAL WITH A STRONG ETAG");
        assertThat(second.header(HEADER)).isEqualTo("applied=upper");
        assertThat(second.header("Content-Length")).isEqualTo(String.valueOf(second.asByteArray().length));
        assertThat(second.contentType()).isEqualTo(first.contentType());
        for (String same : List.of("ETag", "Cache-Control", "Content-Language", "X-Content-Type-Options",
                "Accept-Ranges")) {
            assertThat(second.header(same)).as(same).isEqualTo(first.header(same));
        }
        assertThat(second.header("Set-Cookie")).as("another client's cookie").isNull();

        // The client's own condition is still answered by the filter, with the variant's tag.
        Response notModified = http().header("If-None-Match", first.header("ETag")).get("/strong.txt");
        assertThat(notModified.statusCode()).isEqualTo(304);
        assertThat(notModified.header("ETag")).isEqualTo(first.header("ETag"));
        assertThat(strongBodies.get()).isEqualTo(bodies);
        Response head = http().head("/strong.txt");
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.header("Content-Length")).isEqualTo(second.header("Content-Length"));
        assertThat(head.header(HEADER)).isEqualTo("applied=upper");
    }

    @Test
    void aChangedStrongEtagOriginalIsTransformedAgain() {
        strongBody.set("the first strong original");
        assertThat(http().get("/strong.txt").asString()).isEqualTo("THE FIRST STRONG ORIGINAL");
        assertThat(http().get("/strong.txt").asString()).isEqualTo("THE FIRST STRONG ORIGINAL");
        int bodies = strongBodies.get();
        strongBody.set("the second strong original");
        Response changed = http().get("/strong.txt");
        assertThat(changed.asString()).isEqualTo("THE SECOND STRONG ORIGINAL");
        assertThat(strongBodies.get()).isEqualTo(bodies + 1);
        // A response for one client (private) is never answered from another's headers: the body is made again.
        assertThat(http().get("/strong.txt?private").asString()).isEqualTo("THE SECOND STRONG ORIGINAL");
        assertThat(http().get("/strong.txt?private").asString()).isEqualTo("THE SECOND STRONG ORIGINAL");
        assertThat(strongBodies.get()).isEqualTo(bodies + 3);
        assertThat(strongCondition.get()).isNull();
        // An application that ignores If-None-Match answers 200 each time: served right each time.
        Response ignoring = http().get("/strong.txt?ignore");
        Response again = http().get("/strong.txt?ignore");
        assertThat(again.asString()).isEqualTo("THE SECOND STRONG ORIGINAL");
        assertThat(again.header("ETag")).isEqualTo(ignoring.header("ETag"));
        assertThat(strongBodies.get()).isEqualTo(bodies + 5);
    }

    // --- single-flight and remembered failures (#13) ------------------------------------------------------------

    @Test
    void concurrentRequestsForOneInputRunTheProgramOnce() throws Exception {
        int before = transform.calls.get();
        List<Response> responses = concurrently(8, i -> http().get("/text?body=SLOW single flight"));
        assertThat(responses).allSatisfy(r -> {
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.asString()).isEqualTo("SLOW SINGLE FLIGHT");
            assertThat(r.header(HEADER)).isEqualTo("applied=upper");
        });
        assertThat(transform.calls.get() - before).isEqualTo(1);
    }

    @Test
    void aResultIsServedNoLongerThanItsProgramSaidItStaysFresh() throws Exception {
        assertThat(http().get("/text?body=fresh for TTL-400 ms").asString()).isEqualTo("FRESH FOR TTL-400 MS");
        int runs = transform.calls.get();
        Response hit = http().get("/text?body=fresh for TTL-400 ms");
        assertThat(hit.header(HEADER)).isEqualTo("applied=upper");
        assertThat(transform.calls.get()).as("a hit within the ttl").isEqualTo(runs);
        Thread.sleep(700);
        assertThat(http().get("/text?body=fresh for TTL-400 ms").asString()).isEqualTo("FRESH FOR TTL-400 MS");
        assertThat(transform.calls.get()).as("made again once the ttl is over").isEqualTo(runs + 1);
    }

    @Test
    void aFailureIsRememberedAndAnsweredWithTheOriginalWithoutRunning() {
        Response first = http().get("/text?body=FAIL-broken input");
        assertThat(first.header(HEADER)).isEqualTo("fallback=upper:broken");
        assertThat(first.asString()).isEqualTo("FAIL-broken input");
        int runs = transform.calls.get();
        Response second = http().get("/text?body=FAIL-broken input");
        assertThat(second.header(HEADER)).isEqualTo("fallback=upper:remembered");
        assertThat(second.asString()).isEqualTo("FAIL-broken input");
        assertThat(transform.calls.get()).isEqualTo(runs);
    }

    @Test
    void anOriginalThatFailedRecentlyStreamsThroughWithoutBeingBufferedOrLookedUp() throws Exception {
        Files.writeString(staticDir.resolve("broken-file.txt"), "FAIL-unreadable content of a file",
                StandardCharsets.ISO_8859_1);
        Response first = http().get("/broken-file.txt");
        assertThat(first.header(HEADER)).isEqualTo("fallback=upper:unreadable");
        int runs = transform.calls.get();
        long negativeHits = http().get("/admin/stats").jsonPath()
                .getLong("'filter:kvm'.store.tiers.memory.negative_hits");
        for (int i = 0; i < 3; i++) {
            Response again = http().get("/broken-file.txt");
            assertThat(again.header(HEADER)).isEqualTo("fallback=upper:remembered");
            assertThat(again.asString()).isEqualTo("FAIL-unreadable content of a file");
        }
        assertThat(transform.calls.get()).isEqualTo(runs);
        // Decided at the first byte from URL and validator: the store was not even asked.
        assertThat(http().get("/admin/stats").jsonPath().getLong("'filter:kvm'.store.tiers.memory.negative_hits"))
                .isEqualTo(negativeHits);
    }

    @Test
    void theStatisticsReportEachTier() {
        http().get("/text?body=statistics");
        http().get("/text?body=statistics");
        Response stats = http().get("/admin/stats");
        assertThat(stats.jsonPath().getLong("'filter:kvm'.store.tiers.memory.hits")).isPositive();
        assertThat(stats.jsonPath().getLong("'filter:kvm'.store.tiers.memory.bytes")).isPositive();
        assertThat(stats.jsonPath().getLong("'filter:kvm'.counters.'cache-hit=upper'")).isPositive();
    }

    @Test
    void aResultSurvivesARestartWithTheCacheDirectory() throws Exception {
        Path cacheDir = Files.createTempDirectory("kvmfilter-results");
        try {
            StorageTestTransform beforeRestart = new StorageTestTransform();
            try (ServletContainer first = startWithDirectory(cacheDir, beforeRestart)) {
                assertThat(http(first).get("/text?body=kept across restarts").asString())
                        .isEqualTo("KEPT ACROSS RESTARTS");
            }
            assertThat(beforeRestart.calls).hasValue(1);
            StorageTestTransform afterRestart = new StorageTestTransform();
            try (ServletContainer second = startWithDirectory(cacheDir, afterRestart)) {
                Response response = http(second).get("/text?body=kept across restarts");
                assertThat(response.asString()).isEqualTo("KEPT ACROSS RESTARTS");
                assertThat(response.header(HEADER)).isEqualTo("applied=upper");
            }
            assertThat(afterRestart.calls).hasValue(0);
        } finally {
            delete(cacheDir);
        }
    }

    private ServletContainer startWithDirectory(Path cacheDir, StorageTestTransform t) throws Exception {
        Deployment deployment = new Deployment();
        deployment.filter("kvm", new KvmFilter(config().cacheDirectory(cacheDir).build(), t), "/*", Map.of());
        servlets(deployment, "");
        ServletContainer started = newContainer();
        started.start(deployment);
        return started;
    }

    // --- overload isolation (#12 item 6) ------------------------------------------------------------------------

    @Test
    void aFullWaitingLineAnswersTheOriginalAtOnce() throws Exception {
        List<Response> responses = concurrently(8, i -> http().get("/line/text?body=SLOW line " + i));
        List<String> outcomes = responses.stream().map(r -> r.header(HEADER)).toList();
        assertThat(outcomes).filteredOn("applied=upper"::equals).hasSize(4);
        assertThat(outcomes).filteredOn(o -> !o.equals("applied=upper"))
                .hasSize(4).allMatch(o -> o.equals("fallback=upper:busy") || o.equals("fallback=upper:queue-timeout"))
                .contains("fallback=upper:busy");
        for (Response response : responses) {
            if (response.header(HEADER).equals("fallback=upper:busy")) {
                assertThat(response.time()).as("a refused request does not wait").isLessThan(1000);
                assertThat(response.asString()).startsWith("SLOW line ");
                // The next request may get the variant: no cache may keep this original without asking again.
                assertThat(response.header("Cache-Control")).isEqualTo("no-cache");
            } else if (response.header(HEADER).equals("applied=upper")) {
                assertThat(response.header("Cache-Control")).isNull();
            }
        }
    }

    @Test
    void aRequestThatWaitedTooLongDoesNotMarkItsOriginalAsFailed() throws Exception {
        // A file, so that the original has validators and could be remembered as failed.
        Files.createDirectories(staticDir.resolve("line"));
        Files.writeString(staticDir.resolve("line/slow-file.txt"), "SLOW file converted once",
                StandardCharsets.ISO_8859_1);
        List<Response> first = concurrently(2, i -> http().get("/line/slow-file.txt"));
        assertThat(first.stream().map(r -> r.header(HEADER)).toList())
                .as("one ran (0.5 s), the other waited maxWait (300 ms) for it")
                .containsExactlyInAnyOrder("applied=upper", "fallback=upper:wait-timeout");

        Response later = http().get("/line/slow-file.txt");
        assertThat(later.header(HEADER)).as("the run succeeded: stored, not remembered as a failure")
                .isEqualTo("applied=upper");
        assertThat(later.asString()).isEqualTo("SLOW FILE CONVERTED ONCE");
    }

    @Test
    void aConversionSlowerThanRunWaitGoesOnInTheBackgroundForTheNextRequests() throws Exception {
        long start = System.nanoTime();
        Response first = http().get("/background/text?body=LONG converted later");
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertThat(first.header(HEADER)).isEqualTo("fallback=upper:background");
        assertThat(first.asString()).as("the original at once").isEqualTo("LONG converted later");
        assertThat(millis).as("runWait 100 ms, not the conversion's 2 s").isLessThan(1500);
        assertThat(first.header("Cache-Control")).as("the next request may get the variant").isEqualTo("no-cache");
        Response later = http().get("/background/text?body=LONG converted later");
        for (int i = 0; i < 250 && !"applied=upper".equals(later.header(HEADER)); i++) {
            Thread.sleep(20);
            later = http().get("/background/text?body=LONG converted later");
        }
        assertThat(later.header(HEADER)).as("the conversion finished and was stored").isEqualTo("applied=upper");
        assertThat(later.asString()).isEqualTo("LONG CONVERTED LATER");
        assertThat(backgroundTransform.calls.get()).as("one run: the later requests waited for it or read it")
                .isEqualTo(1);
    }

    @Test
    void aVariantThatKeepsFailingIsPausedThenTriedAgain() throws Exception {
        assertThat(http().get("/pause/text?body=FAIL-timeout one").header(HEADER))
                .isEqualTo("fallback=upper:timeout");
        assertThat(http().get("/pause/text?body=FAIL-timeout two").header(HEADER))
                .isEqualTo("fallback=upper:timeout");
        int runs = pauseTransform.calls.get();
        Response paused = http().queryParam("body", "a good body").queryParam("cache", "private, max-age=600")
                .get("/pause/text");
        assertThat(paused.header(HEADER)).isEqualTo("fallback=upper:paused");
        assertThat(paused.asString()).isEqualTo("a good body");
        assertThat(paused.header("Cache-Control")).isEqualTo("private, max-age=600, no-cache");
        assertThat(pauseTransform.calls.get()).isEqualTo(runs);
        Thread.sleep(1200);
        assertThat(http().get("/pause/text?body=a good body").header(HEADER)).isEqualTo("applied=upper");
    }

    @Test
    void waitingRequestsHoldNoContainerThread() throws Exception {
        StorageTestTransform held = new StorageTestTransform();
        Deployment deployment = new Deployment();
        deployment.maxThreads = 16;
        deployment.filter("kvm", new KvmFilter(config().maxWait(Duration.ofSeconds(30)).build(), held), "/*",
                Map.of());
        servlets(deployment, "");
        ExecutorService clients = Executors.newFixedThreadPool(40);
        try (ServletContainer small = newContainer()) {
            small.start(deployment);
            List<Future<Response>> waiting = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                waiting.add(clients.submit(() -> http(small).get("/text?body=HOLD all of us")));
            }
            Thread.sleep(1500); // all 40 are in: one run held, 39 waiting for it
            long start = System.nanoTime();
            Response other = http(small).get("/plain");
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(other.statusCode()).isEqualTo(200);
            assertThat(millis).as("another request while 40 wait, with 16 container threads").isLessThan(3000);
            held.release();
            for (Future<Response> response : waiting) {
                assertThat(response.get(60, TimeUnit.SECONDS).asString()).isEqualTo("HOLD ALL OF US");
            }
            assertThat(held.calls).hasValue(1);
        } finally {
            held.release();
            clients.shutdownNow();
        }
    }

    interface Request {
        Response send(int index) throws Exception;
    }

    static List<Response> concurrently(int count, Request request) throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(count);
        try {
            java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(count);
            List<Future<Response>> futures = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                int index = i;
                futures.add(clients.submit(() -> {
                    together.await();
                    return request.send(index);
                }));
            }
            List<Response> responses = new ArrayList<>();
            for (Future<Response> future : futures) {
                responses.add(future.get(60, TimeUnit.SECONDS));
            }
            return responses;
        } finally {
            clients.shutdownNow();
        }
    }
}
