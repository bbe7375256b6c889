package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvmfilter.kvm.ProgramLibrary;
import io.kvmfilter.kvm.Step;
import io.kvmfilter.store.BodyDigests;
import io.kvmfilter.store.ResultKey;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ResultKeysTest {

    private static final byte[] BODY = "an original body".getBytes(StandardCharsets.US_ASCII);
    private static final Variant WEBP = new Variant("webp", Optional.of("image/webp"), List.of(Step.of("webp")));
    private static final Variant RESIZE = new Variant("small", Optional.empty(), List.of(Step.of("resize", "w=100")));

    private final ResultKeys keys = new ResultKeys(Map.of("webp", "sha256=aaa", "resize", "sha256=bbb"),
            Set.of("webp"), new BodyDigests(100));

    @Test
    void theUrlIsPartOfTheKeyOnlyForProgramsThatReadIt() {
        ResultKey webpA = keys.key(WEBP, "image/png", BODY, "/a.png?x=1", "/a.png", null, null);
        ResultKey webpB = keys.key(WEBP, "image/png", BODY, "/b.png", "/b.png", null, null);
        assertThat(webpA).isEqualTo(webpB);
        ResultKey resizeA = keys.key(RESIZE, "image/png", BODY, "/a.png?w=100", "/a.png", null, null);
        ResultKey resizeB = keys.key(RESIZE, "image/png", BODY, "/a.png?w=200", "/a.png", null, null);
        assertThat(resizeA).isNotEqualTo(resizeB);
        assertThat(resizeA.url()).isEqualTo("/a.png?w=100");
    }

    @Test
    void argumentsTypesBodiesAndProgramIdentitiesAllCount() {
        ResultKey base = keys.key(RESIZE, "image/png", BODY, "/a", "/a", null, null);
        Variant otherArg = new Variant("small", Optional.empty(), List.of(Step.of("resize", "w=101")));
        assertThat(keys.key(otherArg, "image/png", BODY, "/a", "/a", null, null)).isNotEqualTo(base);
        assertThat(keys.key(RESIZE, "image/png; charset=x", BODY, "/a", "/a", null, null)).isNotEqualTo(base);
        assertThat(keys.key(RESIZE, "image/png", "another body".getBytes(StandardCharsets.US_ASCII), "/a", "/a",
                null, null)).isNotEqualTo(base);
        ResultKeys newBinary = new ResultKeys(Map.of("resize", "sha256=ccc"), Set.of(), new BodyDigests(100));
        assertThat(newBinary.key(RESIZE, "image/png", BODY, "/a", "/a", null, null)).isNotEqualTo(base);
    }

    @Test
    void theBundledProgramsDoNotReadTheUrlAndHaveTheirBinarysIdentity() {
        ProgramLibrary bundled = ProgramLibrary.bundled();
        ResultKeys fromLibrary = ResultKeys.of(bundled, Set.of("webp"), new BodyDigests(100));
        ResultKey key = fromLibrary.key(WEBP, "image/png", BODY, "/x?y", "/x", null, null);
        assertThat(key.url()).isEmpty();
        assertThat(key.chain()).contains("identity=");
    }
}
