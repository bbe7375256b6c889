package io.kvmfilter.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Parsing of program libraries: keys, units, layering, and every error message. Pure Java. */
class ProgramLibraryTest {

    private static ProgramLibrary parse(String json) {
        return ProgramLibrary.parse(json, URI.create("file:/srv/kvm/library.json"));
    }

    private static void assertError(String json, String... fragments) {
        assertThatThrownBy(() -> parse(json))
                .isInstanceOf(KvmConfigurationException.class)
                .message().contains(fragments);
    }

    @Test
    void groupDefaultsAreOverriddenByTheProgram() {
        ProgramLibrary library = parse("""
                {
                  // comments are allowed, as in the VMOD
                  "compute": { "concurrency": 4, "max_boot_time": 8.0, "max_request_time": 6.5,
                               "max_memory": 64, "max_request_memory": 48, "ephemeral": false,
                               "shared_memory": 2, "storage": true },
                  "inflate": { "group": "compute", "filename": "programs/inflate", "max_request_time": 1.25,
                               "main_arguments": ["--fast"], "environment": ["LEVEL=9"], "start": true }
                }""");
        ProgramDefinition p = library.program("inflate");
        assertThat(p.group()).isEqualTo("compute");
        assertThat(p.concurrency()).isEqualTo(4);
        assertThat(p.maxBootTime()).isEqualTo(Duration.ofSeconds(8));
        assertThat(p.maxRequestTime()).isEqualTo(Duration.ofMillis(1250));
        assertThat(p.queueTimeout()).as("defaults to max_request_time").isEqualTo(Duration.ofMillis(1250));
        assertThat(p.maxMemory()).isEqualTo(64L << 20);
        assertThat(p.maxRequestMemory()).isEqualTo(48L << 20);
        assertThat(p.ephemeral()).isFalse();
        assertThat(p.sharedMemory()).as("MiB, as in the VMOD").isEqualTo(2L << 20);
        assertThat(p.storage()).isTrue();
        assertThat(p.start()).isTrue();
        assertThat(p.mainArguments()).containsExactly("--fast");
        assertThat(p.environment()).containsExactly("LEVEL=9");
        assertThat(p.source()).isEqualTo(URI.create("file:/srv/kvm/programs/inflate"));
    }

    @Test
    void programWithoutGroupTakesTheBuiltInDefaults() {
        ProgramDefinition p = parse("{ \"hello\": { \"uri\": \"file:/opt/hello\" } }").program("hello");
        assertThat(p.group()).isEqualTo("test");
        assertThat(p.concurrency()).isEqualTo(1);
        assertThat(p.maxBootTime()).isEqualTo(Duration.ofSeconds(10));
        assertThat(p.maxRequestTime()).isEqualTo(Duration.ofSeconds(8));
        assertThat(p.onErrorTime()).isEqualTo(Duration.ofSeconds(1));
        assertThat(p.sharedMemory()).as("no shared memory area").isZero();
        assertThat(p.storage()).as("no storage").isFalse();
        assertThat(p.maxMemory()).isEqualTo(256L << 20);
        assertThat(p.maxRequestMemory()).isEqualTo(64L << 20);
        assertThat(p.maxResponseSize()).isEqualTo(64L << 20);
        assertThat(p.maxQueue()).isEqualTo(256);
        assertThat(p.ephemeral()).isTrue();
        assertThat(p.start()).isFalse();
        assertThat(p.reload()).isFalse();
        assertThat(p.sha256()).isEmpty();
        assertThat(p.warmupRequests()).isZero();
        assertThat(p.warmupUrl()).isEqualTo("/");
        assertThat(p.warmupBody()).isEmpty();
        assertThat(p.warmupContentType()).isEqualTo("application/octet-stream");
        assertThat(p.trimIdleTime()).isEqualTo(Duration.ofSeconds(60));
        assertThat(parse("{ \"q\": { \"uri\": \"file:/q\", \"trim_idle_time\": 0 } }").program("q").trimIdleTime())
                .isZero();
    }

    @Test
    void warmupBodiesAreResolvedLikeProgramFiles() {
        ProgramLibrary library = parse("""
                { "a": { "uri": "bundled:webp", "warmup_body": "inputs/photo.jpg", "warmup_content_type": "image/jpeg" },
                  "b": { "uri": "bundled:webp", "warmup_body": "classpath:/io/kvmfilter/kvm/warmup/photo.jpg" } }""");
        assertThat(library.program("a").warmupBody()).contains(URI.create("file:/srv/kvm/inputs/photo.jpg"));
        assertThat(library.program("a").warmupContentType()).isEqualTo("image/jpeg");
        assertThat(library.program("b").warmupBody()).contains(URI.create("classpath:io/kvmfilter/kvm/warmup/photo.jpg"));
    }

    @Test
    void sourcesAreResolved() {
        ProgramLibrary library = parse("""
                { "a": { "uri": "bundled:webp" }, "b": { "uri": "classpath:/progs/b" },
                  "c": { "uri": "file:rel/c" }, "d": { "uri": "file:///abs/d" }, "e": { "filename": "/abs/e" } }""");
        assertThat(library.program("a").source()).isEqualTo(URI.create("bundled:webp"));
        assertThat(library.program("b").source()).isEqualTo(URI.create("classpath:progs/b"));
        assertThat(library.program("c").source()).isEqualTo(URI.create("file:/srv/kvm/rel/c"));
        assertThat(library.program("d").source()).isEqualTo(URI.create("file:/abs/d"));
        assertThat(library.program("e").source()).isEqualTo(URI.create("file:/abs/e"));
    }

    @Test
    void sha256IsNormalizedToLowerCase() {
        String sha = "AB".repeat(32);
        assertThat(parse("{ \"p\": { \"filename\": \"p\", \"sha256\": \"" + sha + "\" } }").program("p").sha256())
                .contains("ab".repeat(32));
    }

    @Test
    void bundledLibraryDefinesTheFourPrograms() {
        ProgramLibrary bundled = ProgramLibrary.bundled();
        assertThat(bundled.programNames()).containsExactly("webp", "avif", "image", "minify");
        assertThat(bundled.program("webp").source()).isEqualTo(URI.create("bundled:webp"));
        assertThat(bundled.program("avif").maxRequestTime()).isEqualTo(Duration.ofSeconds(20));
        assertThat(bundled.program("minify").group()).isEqualTo("text");
    }

    @Test
    void theOutputIdentityChangesWithTheBinaryAndTheArguments(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Files.write(dir.resolve("prog"), new byte[] {1, 2, 3});
        ProgramLibrary library = ProgramLibrary.parse("{ \"p\": { \"filename\": \"prog\" },"
                + " \"q\": { \"filename\": \"prog\", \"main_arguments\": [\"-x\"] } }", dir.resolve("library.json").toUri());
        String before = library.outputIdentity("p");
        assertThat(before).startsWith("sha256=").isEqualTo(library.outputIdentity("p"));
        assertThat(library.outputIdentity("q")).isNotEqualTo(before);
        java.nio.file.Files.write(dir.resolve("prog"), new byte[] {1, 2, 4});
        assertThat(library.outputIdentity("p")).isNotEqualTo(before);
    }

    @Test
    void programsReadTheirUrlUnlessTheLibrarySaysOtherwise() {
        assertThat(ProgramLibrary.bundled().programNames())
                .allSatisfy(name -> assertThat(ProgramLibrary.bundled().program(name).readsUrl()).as(name).isFalse());
        ProgramLibrary mine = ProgramLibrary.parse("{ \"p\": { \"filename\": \"x\" },"
                + " \"q\": { \"filename\": \"x\", \"reads_url\": false } }", URI.create("file:/tmp/"));
        assertThat(mine.program("p").readsUrl()).isTrue();
        assertThat(mine.program("q").readsUrl()).isFalse();
        assertError("{ \"p\": { \"filename\": \"x\", \"reads_url\": 0 } }",
                "key \"reads_url\" must be true or false, got 0 (an integer)");
    }

    @Test
    void configureOverridesAndCannotChangeTheGroup() {
        ProgramLibrary library = ProgramLibrary.bundled().configure("webp", Map.of("concurrency", 3, "max_request_time", 2.5));
        assertThat(library.program("webp").concurrency()).isEqualTo(3);
        assertThat(library.program("webp").maxRequestTime()).isEqualTo(Duration.ofMillis(2500));
        assertThat(library.program("webp").maxMemory()).as("group setting kept").isEqualTo(512L << 20);
        assertThat(ProgramLibrary.bundled().program("webp").concurrency()).as("immutable").isEqualTo(2);
        assertThatThrownBy(() -> library.configure("webp", Map.of("group", "text")))
                .isInstanceOf(KvmConfigurationException.class)
                .hasMessageContaining("configure(\"webp\")").hasMessageContaining("\"group\" cannot be changed");
        assertThatThrownBy(() -> library.configure("webp", Map.of("concurrency", "many")))
                .isInstanceOf(KvmConfigurationException.class)
                .hasMessageContaining("Program 'webp': key \"concurrency\" must be an integer from 1 to 1024, got \"many\" (a string)");
    }

    @Test
    void configureAddsAProgramGivenASource() {
        ProgramLibrary library = ProgramLibrary.empty().configure("mine", Map.of("filename", "/opt/mine",
                "main_arguments", List.of("x", "y"), "start", true));
        assertThat(library.programNames()).containsExactly("mine");
        assertThat(library.program("mine").mainArguments()).containsExactly("x", "y");
        assertThatThrownBy(() -> ProgramLibrary.empty().configure("ghost", Map.of("concurrency", 2)))
                .isInstanceOf(KvmConfigurationException.class)
                .hasMessageContaining("Program 'ghost' is not in the library").hasMessageContaining("give \"filename\" or \"uri\"");
    }

    @Test
    void mergeLetsTheOtherLibraryWin() {
        ProgramLibrary mine = parse("{ \"webp\": { \"filename\": \"/opt/webp2\" }, \"x\": { \"filename\": \"/opt/x\" } }");
        ProgramLibrary merged = ProgramLibrary.bundled().merge(mine);
        assertThat(merged.programNames()).containsExactlyInAnyOrder("webp", "avif", "image", "minify", "x");
        assertThat(merged.program("webp").source()).isEqualTo(URI.create("file:/opt/webp2"));
    }

    @Test
    void loadReadsFilesAndResolvesRelativeToThem(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("lib.json");
        Files.writeString(file, "{ \"p\": { \"filename\": \"bin/p\" } }");
        assertThat(ProgramLibrary.load(file.toUri()).program("p").source()).isEqualTo(dir.resolve("bin/p").toUri());
        assertThatThrownBy(() -> ProgramLibrary.load(dir.resolve("missing.json").toUri()))
                .isInstanceOf(KvmConfigurationException.class)
                .hasMessageContaining("Cannot read program library: file " + dir.resolve("missing.json") + " does not exist");
        assertThatThrownBy(() -> ProgramLibrary.load(URI.create("classpath:no/such/library.json")))
                .isInstanceOf(KvmConfigurationException.class)
                .hasMessageContaining("class path resource no/such/library.json not found");
    }

    // ---- every error message ----

    @Test
    void invalidJsonNamesTheLocation() {
        assertError("{ \"p\": { \"filename\": \"x\", } }", "Program library file:/srv/kvm/library.json is not valid JSON",
                "line 1");
        assertError("[1, 2]", "must be a JSON object of groups and programs, got [1,2] (an array)");
        assertError("{ \"p\": { \"filename\": \"x\" }, \"p\": { \"filename\": \"y\" } }", "Duplicate field 'p'");
    }

    @Test
    void entriesMustBeObjects() {
        assertError("{ \"p\": 5 }", "entry 'p' must be an object", "got 5 (an integer)");
    }

    @Test
    void unknownKeyIsNamedWithProgramAndSuggestion() {
        assertError("{ \"p\": { \"filename\": \"x\", \"concurency\": 2 } }",
                "Program 'p': unknown key \"concurency\" (did you mean \"concurrency\"?); allowed keys: group, filename");
        assertError("{ \"g\": { \"colour\": 2 } }", "Group 'g': unknown key \"colour\"");
    }

    @Test
    void theVmodsGoSettingsMeanWhatTheyCanHere() {
        ProgramLibrary library = parse("{ \"go\": { \"filename\": \"x\", \"max_memory\": 256, \"address_space\": 2048,"
                + " \"relocate_fixed_mmap\": false }, \"small\": { \"filename\": \"y\", \"address_space\": 64 } }");
        assertThat(library.program("go").maxMemory()).as("the address space is the memory").isEqualTo(2048L << 20);
        assertThat(library.program("small").maxMemory()).as("never less than max_memory's default")
                .isEqualTo(parse("{ \"p\": { \"filename\": \"x\" } }").program("p").maxMemory());
        assertError("{ \"p\": { \"filename\": \"x\", \"relocate_fixed_mmap\": true } }",
                "key \"relocate_fixed_mmap\"", "true is not supported");
    }

    @Test
    void vmodOnlyKeysAreRejectedWithTheirOwnMessage() {
        assertError("{ \"p\": { \"filename\": \"x\", \"hugepages\": true } }",
                "Program 'p': key \"hugepages\" is a TinyKVM VMOD setting that kvmfilter does not support: kvmfilter "
                        + "maps the guest's heap with 2 MiB pages already and does not back guests with host huge pages; "
                        + "remove it");
        assertError("{ \"p\": { \"filename\": \"x\", \"remapping\": [\"0xC000000000\", 256] } }",
                "key \"remapping\" is a TinyKVM VMOD setting that kvmfilter does not support: the VMOD needs "
                        + "it for Go programs");
        assertError("{ \"p\": { \"filename\": \"x\", \"executable_heap\": true } }",
                "kvmfilter never makes the heap executable");
    }

    @Test
    void wrongTypesAndRangesNameKeyValueAndWhatIsAllowed() {
        assertError("{ \"p\": { \"filename\": \"x\", \"concurrency\": 0 } }",
                "Program 'p': key \"concurrency\" must be an integer from 1 to 1024, got 0 (an integer)");
        assertError("{ \"p\": { \"filename\": \"x\", \"concurrency\": 2.5 } }", "got 2.5 (a decimal number)");
        assertError("{ \"p\": { \"filename\": \"x\", \"max_request_time\": \"8\" } }",
                "key \"max_request_time\" must be seconds, a number above 0 and at most 3600 (decimals allowed), got \"8\" (a string)");
        assertError("{ \"p\": { \"filename\": \"x\", \"max_request_time\": 0 } }", "got 0 (an integer)");
        assertError("{ \"p\": { \"filename\": \"x\", \"max_storage_memory\": 33 } }",
                "key \"max_storage_memory\" must be MiB, an even integer from 32 to 65536");
        assertError("{ \"p\": { \"filename\": \"x\", \"max_boot_time\": 0.0001 } }", "key \"max_boot_time\"");
        assertError("{ \"p\": { \"filename\": \"x\", \"queue_timeout\": -1 } }",
                "key \"queue_timeout\" must be seconds, a number from 0 to 3600");
        assertError("{ \"p\": { \"filename\": \"x\", \"max_memory\": 1.5 } }",
                "key \"max_memory\" must be MiB, an integer from 1 to 65536, got 1.5 (a decimal number)");
        assertError("{ \"p\": { \"filename\": \"x\", \"ephemeral\": \"yes\" } }",
                "key \"ephemeral\" must be true or false, got \"yes\" (a string)");
        assertError("{ \"p\": { \"filename\": \"x\", \"main_arguments\": \"-v\" } }",
                "key \"main_arguments\" must be an array of strings, got \"-v\" (a string)");
        assertError("{ \"p\": { \"filename\": \"x\", \"main_arguments\": [1] } }", "got [1] (an array)");
        assertError("{ \"p\": { \"filename\": \"x\", \"environment\": [\"NOVALUE\"] } }",
                "key \"environment\" must be an array of \"NAME=value\" strings");
        assertError("{ \"p\": { \"filename\": \"x\", \"sha256\": \"abc\" } }", "key \"sha256\" must be 64 hexadecimal digits");
        assertError("{ \"p\": { \"filename\": \"x\", \"warmup_url\": \"index\" } }",
                "key \"warmup_url\" must be a string starting with \"/\"");
        assertError("{ \"p\": { \"filename\": \"x\", \"warmup_content_type\": \"text/html\\r\\nX: y\" } }",
                "key \"warmup_content_type\" must be a media type");
        assertError("{ \"p\": { \"filename\": \"x\", \"warmup_body\": \"\" } }",
                "key \"warmup_body\" must be a file path relative to the library's directory");
        assertError("{ \"p\": { \"filename\": \"x\", \"max_queue\": -1 } }", "key \"max_queue\" must be an integer from 0");
        assertError("{ \"p\": { \"filename\": \"x\", \"shared_memory\": 0.5 } }",
                "key \"shared_memory\" must be MiB, an integer from 0 (none) to 65536, got 0.5 (a decimal number)");
        assertError("{ \"p\": { \"filename\": \"\" } }", "key \"filename\" must be a file path");
        assertError("{ \"p\": { \"group\": 3, \"filename\": \"x\" } }", "key \"group\" must be the name of a group defined in the same library, got 3 (an integer)");
    }

    @Test
    void requestMemoryCannotExceedMemory() {
        assertError("{ \"p\": { \"filename\": \"x\", \"max_memory\": 32, \"max_request_memory\": 64 } }",
                "Program 'p': max_request_memory (64 MiB) is larger than max_memory (32 MiB)");
    }

    @Test
    void groupAndSourceErrors() {
        assertError("{ \"p\": { \"group\": \"nope\", \"filename\": \"x\" } }",
                "Program 'p': group 'nope' is not defined; defined groups: test");
        assertError("{ \"p\": { \"group\": \"test\" } }", "Program 'p' has no \"filename\" or \"uri\"");
        assertError("{ \"p\": { \"filename\": \"x\", \"uri\": \"bundled:x\" } }", "give either \"filename\" or \"uri\", not both");
        assertError("{ \"p\": { \"uri\": \"https://example.com/p\" } }",
                "https://example.com/p is fetched over the network, so its SHA-256 is required");
        assertError("{ \"p\": { \"uri\": \"ftp://example.com/p\" } }",
                "must be a file:, classpath:, bundled: or https: URI");
        assertError("{ \"p\": { \"uri\": \"bundled:../etc\" } }", "must name a bundled program as bundled:NAME");
        assertError("{ \"g\": { \"sha256\": \"" + "0".repeat(64) + "\" } }",
                "Group 'g': key \"sha256\" is only allowed in a program");
    }

    @Test
    void programLookupErrorsNameTheKnownPrograms() {
        assertThatThrownBy(() -> ProgramLibrary.bundled().program("gif"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("No program 'gif' in the library; programs: webp, avif, image, minify");
    }
}
