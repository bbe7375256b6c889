package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Signed option URLs: good, tampered, rotated keys, options replayed on another path, the canonical order. */
class UrlSignerTest {

    private static final byte[] OLD = "an old key of 32 bytes, rotated".getBytes(StandardCharsets.UTF_8);
    private static final byte[] NEW = "the new key, 16+ bytes long!".getBytes(StandardCharsets.UTF_8);

    private static String query(String signedUrl) {
        return signedUrl.substring(signedUrl.indexOf('?') + 1);
    }

    @Test
    void aSignedUrlVerifiesAndATamperedOneDoesNot() {
        UrlSigner signer = new UrlSigner(List.of(NEW));
        String url = signer.sign("/images/cat.jpg", "w=320&fmt=auto");
        assertThat(url).startsWith("/images/cat.jpg?w=320&fmt=auto&s=").hasSize("/images/cat.jpg?w=320&fmt=auto&s="
                .length() + 43);
        assertThat(signer.verify("/images/cat.jpg", query(url))).isTrue();
        assertThat(signer.verify("/images/cat.jpg", query(url).replace("w=320", "w=4000"))).as("options changed")
                .isFalse();
        assertThat(signer.verify("/images/dog.jpg", query(url))).as("replayed on another path").isFalse();
        assertThat(signer.verify("/images/cat.jpg", "w=320&fmt=auto")).as("unsigned").isFalse();
        assertThat(signer.verify("/images/cat.jpg", query(url) + "&s=x")).as("two signatures").isFalse();
        assertThat(signer.verify("/images/cat.jpg", query(url) + "&q=10")).as("an option added").isFalse();
        assertThat(signer.verify("/images/cat.jpg", "fmt=auto&w=320&" + query(url).substring(query(url).indexOf("s="))))
                .as("the same options in another order").isTrue();
    }

    @Test
    void keysRotateNewURLsSignWithTheFirstAndAnyVerifies() {
        String oldUrl = new UrlSigner(List.of(OLD)).sign("/a.png", "w=100");
        UrlSigner rotated = new UrlSigner(List.of(NEW, OLD));
        assertThat(rotated.verify("/a.png", query(oldUrl))).as("old URLs still served").isTrue();
        String newUrl = rotated.sign("/a.png", "w=100");
        assertThat(newUrl).isNotEqualTo(oldUrl);
        assertThat(new UrlSigner(List.of(NEW)).verify("/a.png", query(newUrl))).isTrue();
        assertThat(new UrlSigner(List.of(OLD)).verify("/a.png", query(newUrl))).as("the old key alone").isFalse();
    }

    @Test
    void keysMustBeLongEnough() {
        assertThatThrownBy(() -> new UrlSigner(List.of("short".getBytes(StandardCharsets.UTF_8))))
                .hasMessage("a signing key must have at least 16 bytes, got 5");
        assertThatThrownBy(() -> new UrlSigner(List.of())).hasMessage("give at least one signing key");
    }

    @Test
    void theCanonicalTextSortsOptionsByName() {
        assertThat(UrlSigner.canonical("/p", "w=1&fmt=webp&h=2")).isEqualTo("/p?fmt=webp&h=2&w=1");
        assertThat(UrlSigner.canonical("/p", "")).isEqualTo("/p?");
    }
}
