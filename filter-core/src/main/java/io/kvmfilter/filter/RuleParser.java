package io.kvmfilter.filter;

import io.kvmfilter.kvm.Step;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Parses the {@code rules} parameter.
 *
 * <pre>
 * rules   := rule { (newline | ';') rule }          lines starting with '#' are comments
 * rule    := types '-&gt;' variant { ',' variant }
 * types   := media-type { [','] media-type }        image/png or image/&#42;
 * variant := [ media-type ':' ] step { '|' step }   with a type: negotiated through Accept
 * step    := program [ '{' json '}' | "'" text "'" ]
 * </pre>
 *
 * Example: {@code image/jpeg, image/png -> image/avif: avif {"speed":8}, image/webp: webp {"quality":80}}.
 * Errors name the rule (by number and text) and what was expected there.
 */
final class RuleParser {

    private final String text;
    private int pos;
    private int ruleNumber;
    private int ruleStart;

    private RuleParser(String text) {
        this.text = text;
    }

    /**
     * Parses rules text.
     *
     * @throws IllegalArgumentException naming the rule and what is wrong with it
     */
    static List<Rule> parse(String text) {
        return new RuleParser(text).rules();
    }

    private List<Rule> rules() {
        List<Rule> rules = new ArrayList<>();
        while (true) {
            skipBlankAndComments();
            if (pos >= text.length()) {
                break;
            }
            ruleNumber++;
            ruleStart = pos;
            rules.add(rule());
            skipSpaces();
            if (pos < text.length()) {
                char c = text.charAt(pos);
                if (c == ';' || c == '\n' || c == '\r') {
                    pos++;
                } else {
                    throw error("expected ',' before another variant, or ';' or a new line before the next rule");
                }
            }
        }
        return rules;
    }

    private Rule rule() {
        List<String> types = new ArrayList<>();
        while (true) {
            skipSpaces();
            if (lookingAt("->")) {
                pos += 2;
                break;
            }
            if (pos < text.length() && text.charAt(pos) == ',') {
                pos++;
                continue;
            }
            String type = word();
            if (type.isEmpty()) {
                throw error("expected source media types followed by '->'");
            }
            String lower = type.toLowerCase(Locale.ROOT);
            if (!MediaTypes.isValid(lower, true) && !lower.equals("*/*")) {
                throw error("'" + type + "' is not a media type (type/subtype or type/*)");
            }
            types.add(lower);
        }
        if (types.isEmpty()) {
            throw error("no source media type before '->'");
        }
        List<Variant> variants = new ArrayList<>();
        Set<String> names = new HashSet<>();
        while (true) {
            Variant variant = variant();
            if (!variants.isEmpty() && !variants.get(variants.size() - 1).negotiated()) {
                throw error("variant '" + variant + "' can never be chosen: the variant without a media type before"
                        + " it applies to every client; put negotiated variants (with 'type/subtype:') first");
            }
            if (!names.add(variant.name())) {
                throw error("two variants are named '" + variant.name() + "'");
            }
            variants.add(variant);
            skipSpaces();
            if (pos < text.length() && text.charAt(pos) == ',') {
                pos++;
                continue;
            }
            break;
        }
        return new Rule(types, variants);
    }

    private Variant variant() {
        skipSpaces();
        Optional<String> outputType = Optional.empty();
        int mark = pos;
        String first = word();
        skipSpaces();
        if (first.contains("/") && pos < text.length() && text.charAt(pos) == ':') {
            String lower = first.toLowerCase(Locale.ROOT);
            if (!MediaTypes.isValid(lower, false)) {
                throw error("'" + first + "' is not a concrete output media type (type/subtype)");
            }
            outputType = Optional.of(lower);
            pos++;
        } else {
            pos = mark;
        }
        List<Step> steps = new ArrayList<>();
        while (true) {
            steps.add(step());
            skipSpaces();
            if (pos < text.length() && text.charAt(pos) == '|') {
                pos++;
                continue;
            }
            break;
        }
        String name = outputType.map(MediaTypes::subtype)
                .orElseGet(() -> String.join("+", steps.stream().map(Step::program).toList()));
        return new Variant(name, outputType, steps);
    }

    private Step step() {
        skipSpaces();
        String program = word();
        if (program.isEmpty()) {
            throw error("expected a program name");
        }
        if (!program.matches("[A-Za-z0-9_.-]+")) {
            throw error("'" + program + "' is not a program name (letters, digits, '_', '.', '-')");
        }
        skipSpaces();
        String arg = null;
        if (pos < text.length() && text.charAt(pos) == '{') {
            arg = jsonObject();
        } else if (pos < text.length() && text.charAt(pos) == '\'') {
            int end = text.indexOf('\'', pos + 1);
            if (end < 0) {
                throw error("unterminated quoted argument of program '" + program + "'");
            }
            arg = text.substring(pos + 1, end);
            pos = end + 1;
        }
        return Step.of(program, arg);
    }

    /** Reads a balanced {...} block, respecting JSON strings, and returns it verbatim. */
    private String jsonObject() {
        int start = pos;
        int depth = 0;
        boolean inString = false;
        for (; pos < text.length(); pos++) {
            char c = text.charAt(pos);
            if (inString) {
                if (c == '\\') {
                    pos++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{') {
                depth++;
            } else if (c == '}') {
                depth--;
                if (depth == 0) {
                    pos++;
                    return text.substring(start, pos);
                }
            }
        }
        throw error("unbalanced '{' in a program argument");
    }

    /** A run of characters up to white space or one of the separators. */
    private String word() {
        int start = pos;
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (Character.isWhitespace(c) || ",;|:{}'".indexOf(c) >= 0 || lookingAt("->")) {
                break;
            }
            pos++;
        }
        return text.substring(start, pos);
    }

    private boolean lookingAt(String token) {
        return text.startsWith(token, pos);
    }

    private void skipSpaces() {
        while (pos < text.length() && (text.charAt(pos) == ' ' || text.charAt(pos) == '\t')) {
            pos++;
        }
    }

    private void skipBlankAndComments() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (Character.isWhitespace(c) || c == ';') {
                pos++;
            } else if (c == '#') {
                while (pos < text.length() && text.charAt(pos) != '\n') {
                    pos++;
                }
            } else {
                return;
            }
        }
    }

    private IllegalArgumentException error(String what) {
        int end = text.indexOf('\n', ruleStart);
        String ruleText = text.substring(ruleStart, end < 0 ? text.length() : end).trim();
        return new IllegalArgumentException("rule " + ruleNumber + " (" + ruleText + "), at character "
                + (pos - ruleStart + 1) + ": " + what);
    }
}
