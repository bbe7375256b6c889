/*
 * css.c — CSS minification: comments and whitespace.
 *
 * The minifier copies everything except whitespace and comments byte for byte. Strings, unquoted url(...)
 * contents and backslash escapes are copied as units, so nothing inside them is touched. Comments are removed,
 * except "important" licence comments (those opening with "/" "*!"), which are kept verbatim.
 *
 * A run of whitespace and comments between two pieces of text becomes either nothing or one space (a lone
 * comment touching both neighbours becomes nothing or an empty comment: it is not whitespace, see
 * minify_css()). It is dropped only where CSS never needs it (see space_needed()); everywhere else one space
 * stays, because in CSS whitespace is often meaningful:
 *   - "a :hover" (any descendant of a that is hovered) differs from "a:hover", so a space before ':' stays
 *     unless the ':' belongs to a declaration ("color : red", see is_declaration_colon());
 *   - "and (" in media queries must not become the function token "and(", so a space before '(' stays;
 *   - inside calc() and other functions "+" and "-" need spaces around them ("1px + 2px"; "1px +2px" is two
 *     values), so spaces around '+' and '-' stay unless '+' is a selector combinator outside parentheses.
 * The last ';' before '}' is dropped (it is optional in a declaration block).
 *
 * Errors (422): unterminated comment, string or url(...).
 */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include "minify.h"

static int is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int is_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int is_name_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
	       c >= 0x80;
}

/* Bytes that need no decision of their own: not whitespace, and not the start of a comment, string, escape or
 * url(, nor a bracket, ';', '}' or '+' whose state the loop tracks. */
static int is_plain(uint8_t c)
{
	return !is_ws(c) && c != '/' && c != '"' && c != '\'' && c != '\\' && c != '(' && c != ')' && c != '}' &&
	       c != ';' && c != '+';
}

static int lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

struct css {
	const uint8_t *s;
	size_t n;
	struct mbuf *out;
	int paren;          /* depth of ( ... ): inside functions +, - and spaces keep their meaning */
	int last_is_combinator_plus; /* the last byte written is a '+' selector combinator */
	int last_is_semicolon;       /* the last byte written is a ';' separator (not part of an escape) */
	size_t ahead_end;            /* is_declaration_colon(): its answer holds for ':' before this index */
	int ahead_is_declaration;
};

static uint8_t last_byte(const struct css *c)
{
	return c->out->len ? c->out->data[c->out->len - 1] : 0;
}

/* Bytes after which, or before which, whitespace never matters. */
static int is_tight(uint8_t b)
{
	return b == '{' || b == '}' || b == ';' || b == ',' || b == '>' || b == '~';
}

/* Is the ':' at s[i] (outside parentheses) the colon of a declaration ("color : red") rather than part of a
 * selector ("a :hover {", where the space means "any descendant")? A selector always ends with '{'; a declaration
 * ends with ';' or '}' and has no '{' outside strings, comments and parentheses. So look ahead to the first of
 * those three. The answer is the same for every ':' up to that point, so it is cached: each byte is looked at by
 * at most one lookahead, which keeps the pass linear. At the end of the input the answer is "selector" (the
 * space stays). */
static int is_declaration_colon(struct css *c, size_t i)
{
	const uint8_t *s = c->s;
	size_t n = c->n, k = i;
	int depth = 0;
	uint8_t found = 0;
	if (i < c->ahead_end)
		return c->ahead_is_declaration;
	while (k < n) {
		uint8_t b = s[k];
		if (b == '"' || b == '\'') {
			for (k++; k < n && s[k] != b; k++) {
				if (s[k] == '\\')
					k++;
			}
			k++;
			continue;
		}
		if (b == '/' && k + 1 < n && s[k + 1] == '*') {
			const uint8_t *end = k + 2 < n ? memmem(s + k + 2, n - k - 2, "*/", 2) : NULL;
			k = end ? (size_t)(end - s) + 2 : n;
			continue;
		}
		if (b == '\\') {
			k += 2;
			continue;
		}
		if (b == '(') {
			depth++;
		} else if (b == ')') {
			if (depth > 0)
				depth--;
		} else if (depth == 0 && (b == '{' || b == ';' || b == '}')) {
			found = b;
			break;
		}
		k++;
	}
	c->ahead_end = k;
	c->ahead_is_declaration = found == ';' || found == '}';
	return c->ahead_is_declaration;
}

/* Is the '+' at s[i] (outside parentheses) the adjacent-sibling combinator rather than the sign of a number
 * ("+.5em", "+1px")? Whitespace around a combinator never matters. */
static int is_combinator_plus(const struct css *c, size_t i)
{
	uint8_t after = i + 1 < c->n ? c->s[i + 1] : 0;
	return c->paren == 0 && !(after >= '0' && after <= '9') && after != '.';
}

/*
 * Is a space needed between the last written byte and the next byte `next` (at s[i]), given that the input had
 * whitespace or a comment between them?
 */
static int space_needed(struct css *c, size_t i)
{
	uint8_t prev = last_byte(c), next = c->s[i];
	if (prev == 0) /* start of output */
		return 0;
	if (is_tight(prev) || is_tight(next))
		return 0;
	/* After '(' and before ')' nothing can merge: "( a )" is "(a)". Before '(' a space may matter ("and ("). */
	if (prev == '(' || next == ')')
		return 0;
	/* After ':' ("color: red"); before ':' only in a declaration ("color : red"): in a selector or inside
	 * parentheses it may be a descendant combinator ("a :hover", ":is(a :hover)"). */
	if (prev == ':' || (next == ':' && c->paren == 0 && is_declaration_colon(c, i)))
		return 0;
	/* "red ! important" → "red!important". */
	if (prev == '!' || next == '!')
		return 0;
	if (next == '+' && is_combinator_plus(c, i))
		return 0;
	if (prev == '+' && c->last_is_combinator_plus)
		return 0;
	return 1;
}

/* Copies a quoted string starting at s[i]; returns the index after it, or -1. An unescaped newline ends a CSS
 * string as an error ("bad string"), so it is reported like a missing quote. */
static long copy_string(struct css *c, size_t i, struct minify_error *err)
{
	const uint8_t *s = c->s;
	uint8_t q = s[i];
	size_t j = i + 1;
	while (j < c->n) {
		uint8_t b = s[j];
		if (b == q) {
			mbuf_write(c->out, s + i, j + 1 - i);
			return (long)(j + 1);
		}
		if (b == '\\') {
			j += 2; /* an escaped quote or an escaped newline (line continuation) */
			continue;
		}
		if (b == '\n' || b == '\r' || b == '\f')
			break;
		j++;
	}
	return minify_fail(err, 422, i, "invalid CSS: unterminated string (no closing %c on the same line)", q);
}

/* Copies an escape "\X" or "\HHHHHH " starting at s[i] == '\\'. A hex escape swallows one following whitespace
 * character (CR LF counts as one): that whitespace is part of the escape and must be kept. */
static size_t copy_escape(struct css *c, size_t i)
{
	const uint8_t *s = c->s;
	size_t j = i + 1;
	if (j < c->n && is_hex(s[j])) {
		size_t k = 0;
		while (j < c->n && k < 6 && is_hex(s[j])) {
			j++;
			k++;
		}
		if (j < c->n && is_ws(s[j])) {
			if (s[j] == '\r' && j + 1 < c->n && s[j + 1] == '\n')
				j++;
			j++;
		}
	} else if (j < c->n) {
		j++;
	}
	mbuf_write(c->out, s + i, j - i);
	return j;
}

/* At s[i] == '(' right after "url" (not part of a longer name): copies an unquoted URL as one unit, since it
 * may contain "//" or "/\*" that are not comments. Returns the index after ')' , 0 when the URL is quoted (the
 * caller continues normally), or -1. */
static long copy_unquoted_url(struct css *c, size_t i, struct minify_error *err)
{
	const uint8_t *s = c->s;
	size_t j = i + 1;
	while (j < c->n && is_ws(s[j]))
		j++;
	if (j < c->n && (s[j] == '"' || s[j] == '\''))
		return 0;
	size_t start = j;
	while (j < c->n && s[j] != ')') {
		if (s[j] == '\\')
			j++;
		j++;
	}
	if (j >= c->n)
		return minify_fail(err, 422, i - 3, "invalid CSS: unterminated url( (no closing ')')");
	size_t end = j;
	while (end > start && is_ws(s[end - 1]) && !(end - 1 > start && s[end - 2] == '\\'))
		end--;
	mbuf_put(c->out, '(');
	mbuf_write(c->out, s + start, end - start);
	mbuf_put(c->out, ')');
	return (long)(j + 1);
}

static int is_url_open(const struct css *c, size_t i)
{
	const uint8_t *s = c->s;
	if (i < 3 || lower(s[i - 3]) != 'u' || lower(s[i - 2]) != 'r' || lower(s[i - 1]) != 'l')
		return 0;
	return i == 3 || !(is_name_char(s[i - 4]) || s[i - 4] == '\\');
}

int minify_css(const uint8_t *s, size_t n, struct mbuf *out, struct minify_error *err)
{
	struct css c = {.s = s, .n = n, .out = out};
	/* Since the last written byte: whitespace was skipped, or only comments were. A comment is not whitespace in
	 * CSS: ".a/ * * /.b" (without the spaces) is the compound selector ".a.b", and "a/ * * /b" two names without a
	 * combinator. So a removed comment that touched both neighbours is never replaced by a space: it becomes
	 * nothing, or the empty comment where a space would be needed to keep the neighbours apart. */
	int pending_ws = 0, pending_comment = 0;
	size_t i = 0;

	while (i < n) {
		uint8_t b = s[i];
		if (is_ws(b)) {
			pending_ws = 1;
			i++;
			continue;
		}
		if (b == '/' && i + 1 < n && s[i + 1] == '*') {
			const uint8_t *end = NULL;
			if (i + 2 < n)
				end = memmem(s + i + 2, n - i - 2, "*/", 2);
			if (!end)
				return minify_fail(err, 422, i, "invalid CSS: unterminated comment (no closing */)");
			size_t after = (size_t)(end - s) + 2;
			if (i + 2 < n && s[i + 2] == '!') {
				/* kept licence comment: separate it from what precedes only if needed */
				if (pending_ws && space_needed(&c, i))
					mbuf_put(out, ' ');
				mbuf_write(out, s + i, after - i);
				c.last_is_combinator_plus = c.last_is_semicolon = 0;
				pending_ws = pending_comment = 0;
			} else {
				pending_comment = 1;
			}
			i = after;
			continue;
		}

		if ((pending_ws || pending_comment) && space_needed(&c, i)) {
			if (pending_ws)
				mbuf_put(out, ' ');
			else
				mbuf_write(out, "/**/", 4);
		}
		pending_ws = pending_comment = 0;

		if (b == '"' || b == '\'') {
			long next = copy_string(&c, i, err);
			if (next < 0)
				return -1;
			i = (size_t)next;
			c.last_is_combinator_plus = c.last_is_semicolon = 0;
			continue;
		}
		if (b == '\\') {
			i = copy_escape(&c, i);
			c.last_is_combinator_plus = c.last_is_semicolon = 0;
			continue;
		}
		if (b == '(' && is_url_open(&c, i)) {
			long next = copy_unquoted_url(&c, i, err);
			if (next < 0)
				return -1;
			if (next > 0) {
				i = (size_t)next;
				c.last_is_combinator_plus = c.last_is_semicolon = 0;
				continue;
			}
		}
		if (b == '}' && c.last_is_semicolon)
			out->len--; /* "a:b;}" → "a:b}" */
		if (b == '(')
			c.paren++;
		else if (b == ')' && c.paren > 0)
			c.paren--;
		c.last_is_combinator_plus = b == '+' && is_combinator_plus(&c, i);
		c.last_is_semicolon = b == ';';
		/* copy this byte and the ordinary bytes after it (names, numbers, '#', ':', ...) in one go */
		size_t run = i + 1;
		while (run < n && is_plain(s[run]))
			run++;
		if (run > i + 1)
			c.last_is_combinator_plus = c.last_is_semicolon = 0;
		mbuf_write(out, s + i, run - i);
		i = run;
	}
	return 0;
}
