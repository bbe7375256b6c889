package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KvmFilterConfigTest {

    @Test
    void defaults() {
        KvmFilterConfig config = KvmFilterConfig.defaults();
        assertThat(config.rules()).isEqualTo(KvmFilterConfig.DEFAULT_RULES);
        assertThat(config.includedMethods()).containsExactly("GET", "HEAD");
        assertThat(config.statuses()).containsExactly(200);
        assertThat(config.maxBodySize()).isEqualTo(8L * 1024 * 1024);
        assertThat(config.diagnosticHeader()).contains("X-KVM-Transform");
        assertThat(config.programsUsed()).containsExactly("avif", "webp", "minify");
    }

    @Test
    void parametersInTextForm() {
        KvmFilterConfig config = KvmFilterConfig.builder()
                .parameter("maxBodySize", "2MiB")
                .parameter("minBodySize", "1k")
                .parameter("statuses", "200, 203")
                .parameter("includedMethods", "get post")
                .parameter("diagnosticHeader", "none")
                .parameter("timeout", "1500ms")
                .parameter("queueTimeout", "2s")
                .parameter("programSettings", "webp.concurrency=4; avif.max_request_time=2.5\nwebp.debug=true")
                .build();
        assertThat(config.maxBodySize()).isEqualTo(2 * 1024 * 1024);
        assertThat(config.minBodySize()).isEqualTo(1024);
        assertThat(config.statuses()).containsExactly(200, 203);
        assertThat(config.includedMethods()).containsExactly("GET", "POST");
        assertThat(config.diagnosticHeader()).isEmpty();
        assertThat(config.timeout()).contains(Duration.ofMillis(1500));
        assertThat(config.queueTimeout()).contains(Duration.ofSeconds(2));
        assertThat(config.programSettings()).isEqualTo(Map.of(
                "webp", Map.of("concurrency", 4L, "debug", true), "avif", Map.of("max_request_time", 2.5)));
    }

    @Test
    void excludedListsWinOverIncludedLists() {
        KvmFilterConfig config = KvmFilterConfig.builder()
                .includedPaths("/images/*").excludedPaths("/images/private/*")
                .includedMimeTypes("image/*").excludedMimeTypes("image/png")
                .includedMethods("GET", "POST").excludedMethods("POST")
                .build();
        assertThat(config.pathIncluded("/images/a.jpg")).isTrue();
        assertThat(config.pathIncluded("/images/private/a.jpg")).isFalse();
        assertThat(config.pathIncluded("/other")).isFalse();
        assertThat(config.mimeTypeIncluded("image/jpeg")).isTrue();
        assertThat(config.mimeTypeIncluded("image/png")).isFalse();
        assertThat(config.methodIncluded("get")).isTrue();
        assertThat(config.methodIncluded("POST")).isFalse();
    }

    @Test
    void invalidValuesNameTheParameterTheValueAndWhatIsAllowed() {
        assertThatThrownBy(() -> KvmFilterConfig.builder().parameter("maxBodySize", "12 parsecs"))
                .hasMessage("kvmfilter parameter maxBodySize = \"12 parsecs\" is not valid: a byte count with an"
                        + " optional unit: 65536, 512KiB, 8MiB, 1GiB");
        assertThatThrownBy(() -> KvmFilterConfig.builder().parameter("maxBodySize", "2GiB"))
                .hasMessageContaining("maxBodySize = \"2147483648\"").hasMessageContaining("1 byte to 1GiB");
        assertThatThrownBy(() -> KvmFilterConfig.builder().parameter("statuses", "206"))
                .hasMessageContaining("statuses = \"206\"").hasMessageContaining("except 204, 205 and 206");
        assertThatThrownBy(() -> KvmFilterConfig.builder().parameter("maxPixels", "many"))
                .hasMessageContaining("maxPixels = \"many\"").hasMessageContaining("a whole number");
        assertThatThrownBy(() -> KvmFilterConfig.builder().parameter("headAsGet", "yes"))
                .hasMessageContaining("headAsGet = \"yes\"").hasMessageContaining("true or false");
        assertThatThrownBy(() -> KvmFilterConfig.builder().parameter("timeout", "5 minutes"))
                .hasMessageContaining("timeout").hasMessageContaining("500ms, 5s or 2m");
        assertThatThrownBy(() -> KvmFilterConfig.builder().parameter("library", "http://x/lib.json"))
                .hasMessageContaining("library").hasMessageContaining("file: or classpath: URI");
        assertThatThrownBy(() -> KvmFilterConfig.builder().parameter("includedPaths", "images"))
                .hasMessageContaining("includedPaths = \"images\"");
        assertThatThrownBy(() -> KvmFilterConfig.builder().parameter("excludedMimeTypes", "png"))
                .hasMessageContaining("excludedMimeTypes = \"png\"").hasMessageContaining("type/subtype");
        assertThatThrownBy(() -> KvmFilterConfig.builder().parameter("programSettings", "webp=3"))
                .hasMessageContaining("programSettings = \"webp=3\"").hasMessageContaining("program.key=value");
        assertThatThrownBy(() -> KvmFilterConfig.builder().parameter("programSettings", "webp.egress={\"hosts\": [a"))
                .hasMessageContaining("programSettings = \"webp.egress={\"hosts\": [a\"")
                .hasMessageContaining("must be JSON (an object or an array)");
        assertThat(KvmFilterConfig.builder().parameter("programSettings", "webp.egress={\"hosts\": [\"a.com\"]}")
                .build().programSettings().get("webp").get("egress")).as("a JSON value")
                .isEqualTo(Map.of("hosts", List.of("a.com")));
        assertThatThrownBy(() -> KvmFilterConfig.builder().parameter("rules", "image/png -> "))
                .hasMessageContaining("rules = ").hasMessageContaining("expected a program name");
        assertThatThrownBy(() -> KvmFilterConfig.builder().parameter("maxBodySise", "1"))
                .hasMessageContaining("unknown kvmfilter parameter 'maxBodySise'").hasMessageContaining("maxBodySize");
    }

    @Test
    void minimumAboveMaximumIsRejectedAtBuild() {
        assertThatThrownBy(() -> KvmFilterConfig.builder().minBodySize(100).maxBodySize(10).build())
                .hasMessageContaining("minBodySize = \"100\"").hasMessageContaining("at most maxBodySize (10)");
    }

    @Test
    void programHeadersNeverIncludeTheContainersOrTheFiltersOwn() {
        assertThat(KvmFilterConfig.defaults().programHeaders()).as("none by default").isEmpty();
        for (String name : new String[] {"Content-Length", "transfer-encoding", "Set-Cookie", "ETag", "Vary",
                "Cache-Control", "Proxy-Authenticate", "X-KVM-Transform"}) {
            assertThatThrownBy(() -> KvmFilterConfig.builder().parameter("programHeaders", "Link, " + name).build())
                    .as(name).isInstanceOf(InvalidParameterException.class).hasMessageContaining("programHeaders")
                    .hasMessageContaining(name + " is set by the container or the filter");
        }
        assertThatThrownBy(() -> KvmFilterConfig.builder().parameter("programHeaders", "Bad Name:").build())
                .isInstanceOf(InvalidParameterException.class).hasMessageContaining("HTTP header names");
    }

    @Test
    void everyParameterIsAccepted(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        String markFile = java.nio.file.Files.write(dir.resolve("mark.png"), new byte[] {1}).toString();
        // A parameter added to PARAMETERS but not to parameter() would fail here.
        Map<String, String> examples = Map.ofEntries(Map.entry("rules", "text/css -> minify"),
                Map.entry("includedPaths", "/a/*"), Map.entry("excludedPaths", "*.map"),
                Map.entry("includedMimeTypes", "text/*"), Map.entry("excludedMimeTypes", "text/csv"),
                Map.entry("includedMethods", "GET"), Map.entry("excludedMethods", "POST"),
                Map.entry("statuses", "200"), Map.entry("minBodySize", "0"), Map.entry("maxBodySize", "1MiB"), Map.entry("maxPixels", "1_000_000"),
                Map.entry("cacheSize", "0"),
                Map.entry("headAsGet", "false"), Map.entry("variantsForWildcards", "true"),
                Map.entry("requireSmaller", "false"), Map.entry("selfRequests", "true"), Map.entry("diagnosticHeader", "X-T"),
                Map.entry("programHeaders", "Link, X-Made-By"),
                Map.entry("library", "classpath:lib.json"), Map.entry("programSettings", "minify.concurrency=1"),
                Map.entry("timeout", "1s"), Map.entry("queueTimeout", "1s"),
                Map.entry("cacheTimeToLive", "10m"), Map.entry("rememberFailures", "0s"),
                Map.entry("cacheDirectory", "/var/cache/kvmfilter"), Map.entry("cacheDirectorySize", "2GiB"),
                Map.entry("sharedCache", "com.hazelcast.cache.HazelcastCachingProvider"),
                Map.entry("sharedCacheConfig", "file:/etc/hazelcast.xml"), Map.entry("sharedCacheName", "results"),
                Map.entry("sharedCacheMaxEntrySize", "1MiB"), Map.entry("sharedCacheTimeout", "100ms"),
                Map.entry("sharedCacheClaimTime", "2m"),
                Map.entry("maxWaiters", "3"), Map.entry("maxWait", "200ms"), Map.entry("pauseAfterFailures", "2"),
                Map.entry("pauseTime", "5s"), Map.entry("runWait", "2s"), Map.entry("imageOptions", "/photos/*"),
                Map.entry("imageMaxWidth", "2000"), Map.entry("imageMaxHeight", "1500"), Map.entry("imageMaxDpr", "2"),
                Map.entry("imageMaxPixels", "4_000_000"), Map.entry("imageFormats", "auto, webp, jpeg"),
                Map.entry("imagePresets", "t: w=10; u: w=20"), Map.entry("imagePresetsOnly", "false"),
                Map.entry("imageSigningKeys", "a-key-of-16-byte"), Map.entry("imageClientHints", "true"),
                Map.entry("imageSaveDataQuality", "40"), Map.entry("imageWatermark", markFile),
                Map.entry("imageWatermarkOpacity", "1"), Map.entry("imageWatermarkGravity", "north"),
                Map.entry("imageWatermarkSize", "0.3"), Map.entry("imageWatermarkMargin", "0"));
        assertThat(examples.keySet()).containsExactlyInAnyOrderElementsOf(KvmFilterConfig.PARAMETERS);
        KvmFilterConfig.Builder builder = KvmFilterConfig.builder();
        for (String name : KvmFilterConfig.PARAMETERS) {
            builder.parameter(name, examples.get(name));
        }
        KvmFilterConfig config = builder.build();
        assertThat(config.headAsGet()).isFalse();
        assertThat(config.variantsForWildcards()).isTrue();
        assertThat(config.requireSmaller()).isFalse();
        assertThat(config.selfRequests()).isTrue();
        assertThat(config.programHeaders()).containsExactlyInAnyOrder("link", "x-made-by");
        assertThat(config.maxPixels()).isEqualTo(1_000_000);
        assertThat(config.cacheSize()).isZero();
        assertThat(config.storage().timeToLive()).contains(java.time.Duration.ofMinutes(10));
        assertThat(config.storage().failureTime()).isZero();
        assertThat(config.storage().directory()).contains(java.nio.file.Path.of("/var/cache/kvmfilter"));
        assertThat(config.storage().directoryBytes()).isEqualTo(2L << 30);
        assertThat(config.storage().sharedProvider()).contains("com.hazelcast.cache.HazelcastCachingProvider");
        assertThat(config.storage().sharedConfig()).contains(java.net.URI.create("file:/etc/hazelcast.xml"));
        assertThat(config.storage().sharedName()).isEqualTo("results");
        assertThat(config.storage().sharedMaxEntry()).isEqualTo(1L << 20);
        assertThat(config.storage().sharedTimeout()).isEqualTo(java.time.Duration.ofMillis(100));
        assertThat(config.storage().sharedClaimTime()).isEqualTo(java.time.Duration.ofMinutes(2));
        assertThat(config.overload()).isEqualTo(new OverloadLimits(3, java.time.Duration.ofMillis(200), 2,
                java.time.Duration.ofSeconds(5), java.time.Duration.ofSeconds(2)));
        assertThat(List.copyOf(config.programsUsed())).as("option URLs run the image program")
                .containsExactly("minify", "image");
    }

    @Test
    void imageOptionSettingsAreCheckedAndNeedTheirPaths() {
        assertThatThrownBy(() -> KvmFilterConfig.builder().parameter("imageMaxWidth", "800").build())
                .isInstanceOf(InvalidParameterException.class).hasMessageContaining("imageMaxWidth")
                .hasMessageContaining("it needs imageOptions");
        assertThatThrownBy(() -> KvmFilterConfig.builder().parameter("imageOptions", "/p/*")
                .parameter("imageMaxWidth", "wide").build()).isInstanceOf(InvalidParameterException.class)
                .hasMessageContaining("'imageMaxWidth' must be a whole number, got \"wide\"");
        assertThatThrownBy(() -> KvmFilterConfig.builder().parameter("imageOptions", "/p/*")
                .parameter("imageSigningKeys", "short").build()).isInstanceOf(InvalidParameterException.class)
                .hasMessageContaining("'imageSigningKeys': a signing key must have at least 16 bytes");
        assertThatThrownBy(() -> KvmFilterConfig.builder().parameter("imageOptions", "photos"))
                .isInstanceOf(InvalidParameterException.class).hasMessageContaining("not a path spec");
        assertThatThrownBy(() -> KvmFilterConfig.builder().parameter("imageOptions", "/p/*")
                .parameter("imageWatermark", "/no/such/mark.png").build()).isInstanceOf(InvalidParameterException.class)
                .hasMessageContaining("'imageWatermark': /no/such/mark.png cannot be read");
        assertThatThrownBy(() -> KvmFilterConfig.builder().parameter("imageOptions", "/p/*")
                .parameter("imageWatermarkOpacity", "1").build()).isInstanceOf(InvalidParameterException.class)
                .hasMessageContaining("'imageWatermarkOpacity' needs 'imageWatermark', the mark's file");
    }

    @Test
    void aWatermarkIsCheckedAndGoesIntoTheImageProgramsArg(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path file = java.nio.file.Files.write(dir.resolve("mark.png"), new byte[] {1, 2, 3});
        assertThatThrownBy(() -> KvmFilterConfig.builder().parameter("imageOptions", "/p/*")
                .parameter("imageWatermark", file.toString()).parameter("imageWatermarkGravity", "smart").build())
                .hasMessageContaining("'imageWatermarkGravity' must be one of [center, east, north");
        assertThatThrownBy(() -> KvmFilterConfig.builder().parameter("imageOptions", "/p/*")
                .parameter("imageWatermark", file.toString()).parameter("imageWatermarkSize", "0").build())
                .hasMessageContaining("'imageWatermarkSize' must be a number above 0.0 to 1.0, got \"0\"");
        ImageOptionSettings settings = ImageOptionSettings.of(Map.of("watermark", file.toString(),
                "watermarkOpacity", "0.8")::get, name -> name);
        assertThat(settings.programArg(ImageOptions.parse("w=10", ImageOptions.Limits.DEFAULT).orElseThrow(), "png"))
                .isEqualTo("{\"format\":\"png\",\"width\":10,\"watermark\":{\"file\":\"/watermark\","
                        + "\"opacity\":0.8,\"gravity\":\"southeast\",\"size\":0.2,\"margin\":0.02}}");
        assertThat(settings.watermark().orElseThrow().sha256()).as("of the file's bytes")
                .isEqualTo("039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81");
    }
}
