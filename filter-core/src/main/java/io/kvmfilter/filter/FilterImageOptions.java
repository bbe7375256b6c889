package io.kvmfilter.filter;

import io.kvmfilter.kvm.Step;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Option URLs through the filter (issue #17): on the paths of {@code imageOptions}, an image response whose URL
 * has image options ({@link ImageOptions}: {@code /photos/cat.jpg?w=320&fmt=auto}) is made by the bundled
 * {@code image} program with those options instead of the rule's variants, stored like any variant (keyed by the
 * program's argument, so each option set is its own result). Without options the rules apply as before.
 *
 * <p>A bad option, or a missing or wrong signature when {@code imageSigningKeys} is set, never reaches a program:
 * the original is served, with {@code skipped=invalid-option} or {@code skipped=bad-signature} in the diagnostic
 * header and the reason in the debug log (the application's response is never lost to a bad URL). Responses of
 * other types (a page at {@code /photos/index.html?page=2}) are not concerned: their rules apply as always.
 */
final class FilterImageOptions {

    /** The program that makes option variants. */
    static final String PROGRAM = "image";
    /** The source types the image program reads. */
    static final Set<String> SOURCES = Set.of("image/jpeg", "image/png", "image/gif", "image/webp");

    private final List<PathSpec> paths;
    private final ImageOptionSettings settings;

    FilterImageOptions(List<PathSpec> paths, ImageOptionSettings settings) {
        this.paths = List.copyOf(paths);
        this.settings = settings;
    }

    /**
     * What a request's URL asks for.
     *
     * @param options the options, or null when refused
     * @param refusal the diagnostic reason token when refused ({@code invalid-option}, {@code bad-signature})
     * @param detail  why, for the debug log
     * @param vary    the client hint headers the options took values from or could have ({@link ClientHints})
     */
    record Asked(ImageOptions options, String refusal, String detail, List<String> vary) {
    }

    /** Whether option URLs take client hints: their responses then carry {@code Accept-CH}. */
    boolean clientHints() {
        return settings.clientHints();
    }

    /**
     * The options of a request, or empty when its path is not an option path or its query names none.
     *
     * @param path  the path inside the web application
     * @param uri   the request URI as signed (with the context path)
     * @param query  the raw query, or null
     * @param header the request's header by name, for client hints
     */
    Optional<Asked> asked(String path, String uri, String query, UnaryOperator<String> header) {
        if (query == null || paths.stream().noneMatch(spec -> spec.matches(path))) {
            return Optional.empty();
        }
        Optional<ImageOptions> options;
        List<String> vary = new ArrayList<>();
        try {
            options = ImageOptions.parse(query, settings.limits(), settings.clientHints() ? ClientHints.of(header)
                    : null, settings.saveDataQuality(), vary);
        } catch (ImageOptions.InvalidOptionException e) {
            return Optional.of(new Asked(null, "invalid-option", e.getMessage(), List.of()));
        }
        if (options.isEmpty()) {
            return Optional.empty();
        }
        if (settings.signer().isPresent() && !settings.signer().get().verify(uri, query)) {
            return Optional.of(new Asked(null, "bad-signature", "the options of " + LogText.escape(uri)
                    + " are not signed by this server's imageSigningKeys (parameter s)", List.of()));
        }
        return Optional.of(new Asked(options.get(), null, null, List.copyOf(vary)));
    }

    /**
     * The variant that makes the options for a source, with the format {@code auto} resolved by the client's
     * Accept; empty when the image program does not read the source's type.
     */
    Optional<Variant> variant(ImageOptions options, String sourceType, Negotiation negotiation) {
        if (!SOURCES.contains(sourceType)) {
            return Optional.empty();
        }
        String format = options.resolve(type -> negotiation.quality(type, true) > 0, settings.limits().formats(),
                sourceType);
        return Optional.of(new Variant(PROGRAM + "-" + format, Optional.of("image/" + format),
                List.of(Step.of(PROGRAM, settings.programArg(options, format))), true));
    }

    /** The mark the image program puts on what it makes, if any. */
    Optional<Watermark> watermark() {
        return settings.watermark();
    }
}
