package io.kvmfilter.filter;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.restassured.response.Response;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TransformCacheTest {

    private static final Variant WEBP = RuleParser.parse("image/png -> image/webp: webp").get(0).variants().get(0);
    private static final Variant WEBP_Q50 =
            RuleParser.parse("image/png -> image/webp: webp {\"quality\": 50}").get(0).variants().get(0);

    @Test
    void keyDependsOnVariantArgumentTypeAndBody() {
        byte[] body = {1, 2, 3};
        String key = TransformCache.key(WEBP, body, "image/png");
        assertThat(TransformCache.key(WEBP, new byte[] {1, 2, 3}, "image/png")).isEqualTo(key);
        assertThat(TransformCache.key(WEBP_Q50, body, "image/png")).isNotEqualTo(key);
        assertThat(TransformCache.key(WEBP, body, "image/jpeg")).isNotEqualTo(key);
        assertThat(TransformCache.key(WEBP, new byte[] {1, 2, 4}, "image/png")).isNotEqualTo(key);
    }

    @Test
    void boundedByBytesEvictingTheLeastRecentlyUsed() {
        TransformCache cache = new TransformCache(10);
        cache.put("a", new TransformCache.Entry(new byte[4], null));
        cache.put("b", new TransformCache.Entry(new byte[4], null));
        assertThat(cache.get("a")).isNotNull(); // a is now the most recently used
        cache.put("c", new TransformCache.Entry(new byte[4], null));
        assertThat(cache.get("b")).isNull();
        assertThat(cache.get("a")).isNotNull();
        assertThat(cache.get("c")).isNotNull();
        assertThat(cache.size()).isEqualTo(8);
        cache.put("huge", new TransformCache.Entry(new byte[11], null));
        assertThat(cache.get("huge")).isNull();
        assertThat(cache.size()).isEqualTo(8);
    }

    @Test
    void theSameBodyIsTransformedOnceAndServedFromTheCacheWithTheSameHeaders() throws Exception {
        UppercaseTransform transform = new UppercaseTransform();
        KvmFilter filter = new KvmFilter(KvmFilterConfig.builder().minBodySize(1).cacheSize(1024 * 1024).build(),
                transform);
        Deployment deployment = new Deployment();
        deployment.filter("kvm", filter, "/*", Map.of());
        TestServlets.deploy(deployment);
        try (ServletContainer container = new TomcatContainer()) {
            container.start(deployment);
            Response first = given().port(container.port()).header("Accept", "image/webp").get("/image");
            Response second = given().port(container.port()).header("Accept", "image/webp").get("/image");
            Response avif = given().port(container.port()).header("Accept", "image/avif").get("/image");
            assertThat(transform.calls.get()).isEqualTo(2); // webp once, avif once
            assertThat(second.asString()).isEqualTo(first.asString()).isEqualTo("webp from 2048 bytes");
            assertThat(second.header("ETag")).isEqualTo(first.header("ETag")).isEqualTo("\"img1--webp\"");
            assertThat(second.header("X-KVM-Transform")).isEqualTo("applied=webp");
            assertThat(second.contentType()).isEqualTo("image/webp");
            assertThat(avif.contentType()).isEqualTo("image/avif");
            assertThat(filter.counters()).containsEntry("cache-hit=webp", 1L);
        }
    }
}
