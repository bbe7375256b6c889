/*
 * html.c — HTML minification: whitespace, comments, and inline scripts and styles.
 *
 * Text: a run of whitespace (space, tab, LF, FF, CR) becomes one space, because between inline elements and
 * words a space is rendered ("<b>a</b> <i>b</i>"). The run is removed entirely only next to the tag of a
 * block-level element (and anywhere inside <head>), where browsers never render it: "<li> x </li>" renders like
 * "<li>x</li>". Other bytes, entities and non-ASCII text are copied unchanged.
 *
 * Comments are removed, except conditional comments (<!--[if IE]>...<![endif]--> and <!--<![endif]-->), which old
 * browsers interpret. A removed comment does not separate text: "a <!-- x --> b" becomes "a b".
 *
 * Inside tags, whitespace between attributes becomes one space and whitespace around '=' and before '>' is
 * removed; attribute values are copied unchanged. The contents of <pre>, <textarea>, <xmp>, <listing> and
 * <plaintext> are copied byte for byte. <script> contents go through the JavaScript minifier when the type is a
 * JavaScript type (or absent, or "module"), through the JSON minifier for JSON types (application/ld+json,
 * importmap...), and are copied unchanged otherwise (text/template, text/x-handlebars...). <style> contents go
 * through the CSS minifier. Inline code that the embedded minifier rejects is copied unchanged: a page with one
 * broken script still works in browsers, so it is not refused. So is a script containing "<!--" (see
 * copy_contents()). Minified scripts never gain a "</script" or "<!--" (see js.c).
 *
 * An element such as <script> without its end tag runs to the end of the document in browsers: the rest is
 * copied unchanged.
 *
 * Errors (422): unterminated comment, tag or markup declaration.
 */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include "minify.h"

/* The "formatting elements" of the HTML parser. One left open (a missing end tag, or XHTML-style "<a name=x/>",
 * whose "/" HTML ignores) is re-created by the parser at the next character token, whitespace included, after
 * an ancestor closed it. Removing whitespace would then move or drop those re-created copies, so while any is
 * unclosed, whitespace next to block-level tags is collapsed to one space instead of removed. */
static const char *const formatting_elements[] = {
	"a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
};

struct html {
	const uint8_t *s;
	size_t n;
	struct mbuf *out;
	int pending;     /* whitespace was skipped since the last output */
	int after_block; /* the last output was a block-level tag: following whitespace is dropped */
	int in_head;     /* inside <head>: whitespace between tags is never rendered */
	/* per formatting_elements[]: start tags not yet matched by an end tag */
	int open_formatting[sizeof(formatting_elements) / sizeof(formatting_elements[0])];
	int unclosed_formatting; /* their sum */
};

/* What copy_tag() learned about a tag. */
struct tag {
	int is_end;
	char name[16]; /* lower case, truncated */
	int is_block;
	const uint8_t *type; /* value of a type="..." attribute, or NULL */
	size_t type_len;
};

static const char *const block_elements[] = {
	"address", "article", "aside",    "base",   "blockquote", "body",     "caption", "center",   "col",
	"colgroup", "dd",     "details",  "dialog", "dir",        "div",      "dl",      "dt",       "fieldset",
	"figcaption", "figure", "footer", "form",   "frameset",   "h1",       "h2",      "h3",       "h4",
	"h5",       "h6",     "head",     "header", "hgroup",     "hr",       "html",    "legend",   "li",
	"link",     "main",   "menu",     "meta",   "nav",        "ol",       "optgroup", "option",  "p",
	"pre",      "section", "summary", "table",  "tbody",      "td",       "tfoot",   "th",       "thead",
	"title",    "tr",     "ul",
};

static int is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int is_alpha(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* Case-insensitive comparison of s[0..len) with the lower-case word w. */
static int equals_ci(const uint8_t *s, size_t len, const char *w)
{
	size_t wl = strlen(w);
	if (len != wl)
		return 0;
	for (size_t k = 0; k < len; k++) {
		if (lower(s[k]) != (uint8_t)w[k])
			return 0;
	}
	return 1;
}

static int is_block(const char *name)
{
	for (size_t k = 0; k < sizeof(block_elements) / sizeof(block_elements[0]); k++) {
		if (strcmp(block_elements[k], name) == 0)
			return 1;
	}
	return 0;
}

/* Before writing a tag or text: the skipped whitespace becomes one space unless a block boundary is adjacent
 * (and no formatting element is left open, see formatting_elements[]). */
static void flush_ws(struct html *h, int next_is_block)
{
	if (h->pending && h->out->len && (h->unclosed_formatting || (!h->after_block && !next_is_block)))
		mbuf_put(h->out, ' ');
	h->pending = 0;
}

/* Counts start and end tags of formatting elements (after the whitespace before the tag is written). */
static void track_formatting(struct html *h, const struct tag *t)
{
	for (size_t k = 0; k < sizeof(formatting_elements) / sizeof(formatting_elements[0]); k++) {
		if (strcmp(formatting_elements[k], t->name) != 0)
			continue;
		if (!t->is_end) {
			h->open_formatting[k]++;
			h->unclosed_formatting++;
		} else if (h->open_formatting[k] > 0) {
			h->open_formatting[k]--;
			h->unclosed_formatting--;
		}
		return;
	}
}

/* Finds the end tag "</name" (name in lower case) at or after `from`, followed by whitespace, '/' or '>'.
 * Returns its index or n. */
static size_t find_end_tag(const struct html *h, size_t from, const char *name)
{
	size_t nl = strlen(name);
	const uint8_t *s = h->s;
	size_t k = from;
	while (k < h->n) {
		const uint8_t *lt = memchr(s + k, '<', h->n - k);
		if (!lt)
			break;
		k = (size_t)(lt - s);
		if (k + 2 + nl <= h->n && s[k + 1] == '/' && equals_ci(s + k + 2, nl, name) &&
		    (k + 2 + nl == h->n || is_ws(s[k + 2 + nl]) || s[k + 2 + nl] == '/' || s[k + 2 + nl] == '>'))
			return k;
		k++;
	}
	return h->n;
}

static int starts_tag_ci(const struct html *h, size_t k, const char *text)
{
	size_t l = strlen(text);
	if (k + l > h->n || !equals_ci(h->s + k, l, text))
		return 0;
	return k + l == h->n || is_ws(h->s[k + l]) || h->s[k + l] == '/' || h->s[k + l] == '>';
}

/* Finds the end tag of a <script> element as HTML parsers do. Inside "<!-- ... -->" in a script a nested
 * "<script>" starts a "double escaped" section in which "</script>" does not end the element (old pages write
 * document.write("<!--<script>...</script>") and similar); outside of it the first "</script" does. Returns
 * the index of the end tag or n. */
static size_t find_script_end(const struct html *h, size_t k)
{
	enum { DATA, ESCAPED, DOUBLE_ESCAPED } state = DATA;
	const uint8_t *s = h->s;
	size_t n = h->n;
	while (k < n) {
		if (s[k] == '<') {
			if (state == DATA && k + 4 <= n && memcmp(s + k, "<!--", 4) == 0) {
				state = ESCAPED;
				k += 4;
				continue;
			}
			if (starts_tag_ci(h, k, "</script")) {
				if (state != DOUBLE_ESCAPED)
					return k;
				state = ESCAPED;
				k += 8;
				continue;
			}
			if (state == ESCAPED && starts_tag_ci(h, k, "<script")) {
				state = DOUBLE_ESCAPED;
				k += 7;
				continue;
			}
		} else if (s[k] == '-' && state != DATA && k + 3 <= n && memcmp(s + k, "-->", 3) == 0) {
			state = DATA;
			k += 3;
			continue;
		}
		k++;
	}
	return n;
}

/* Finds the end tag of a <pre> element, counting <pre> elements nested in it (HTML parsers nest them, so the
 * first "</pre>" may close an inner one). Returns the index of the end tag or n. */
static size_t find_pre_end(const struct html *h, size_t k)
{
	size_t depth = 0;
	while (k < h->n) {
		const uint8_t *lt = memchr(h->s + k, '<', h->n - k);
		if (!lt)
			break;
		k = (size_t)(lt - h->s);
		if (starts_tag_ci(h, k, "<pre")) {
			depth++;
		} else if (starts_tag_ci(h, k, "</pre")) {
			if (depth == 0)
				return k;
			depth--;
		}
		k++;
	}
	return h->n;
}

/* Copies the tag at s[i] == '<' (followed by a letter, or '/' and a letter) with its inner whitespace
 * minimised. Returns the index after '>' or -1. */
static long copy_tag(struct html *h, size_t i, struct tag *t, struct minify_error *err)
{
	const uint8_t *s = h->s;
	size_t n = h->n, k = i + 1;
	struct mbuf *out = h->out;

	memset(t, 0, sizeof(*t));
	if (s[k] == '/') {
		t->is_end = 1;
		k++;
	}
	size_t name_start = k;
	while (k < n && !is_ws(s[k]) && s[k] != '/' && s[k] != '>')
		k++;
	size_t name_len = k - name_start;
	for (size_t c = 0; c < name_len && c < sizeof(t->name) - 1; c++)
		t->name[c] = (char)lower(s[name_start + c]);
	t->is_block = is_block(t->name) || h->in_head;
	if (strcmp(t->name, "head") == 0)
		h->in_head = !t->is_end;
	else if (strcmp(t->name, "body") == 0)
		h->in_head = 0;

	flush_ws(h, t->is_block);
	track_formatting(h, t);
	mbuf_write(out, s + i, k - i);

	int last_unquoted = 0; /* "<a href=x />": the space keeps '/' out of the value */
	int ws = 0;
	for (;;) {
		while (k < n && is_ws(s[k])) {
			ws = 1;
			k++;
		}
		if (k >= n)
			break;
		if (s[k] == '>') {
			mbuf_put(out, '>');
			return (long)(k + 1);
		}
		if (s[k] == '/' && k + 1 < n && s[k + 1] == '>') {
			if (ws && last_unquoted)
				mbuf_put(out, ' ');
			mbuf_write(out, "/>", 2);
			return (long)(k + 2);
		}
		if (ws)
			mbuf_put(out, ' ');
		ws = 0;
		last_unquoted = 0;
		/* attribute name (a leading '=' or a stray '/' is taken as part of it, as browsers do) */
		size_t an = k++;
		while (k < n && !is_ws(s[k]) && s[k] != '=' && s[k] != '>' && s[k] != '/')
			k++;
		mbuf_write(out, s + an, k - an);
		size_t an_len = k - an;
		while (k < n && is_ws(s[k])) {
			ws = 1;
			k++;
		}
		if (k >= n || s[k] != '=')
			continue;
		ws = 0;
		mbuf_put(out, '=');
		k++;
		while (k < n && is_ws(s[k]))
			k++;
		if (k >= n)
			break;
		size_t v = k;
		if (s[k] == '"' || s[k] == '\'') {
			const uint8_t *q = memchr(s + k + 1, s[k], n - k - 1);
			if (!q)
				break;
			k = (size_t)(q - s) + 1;
			if (equals_ci(s + an, an_len, "type")) {
				t->type = s + v + 1;
				t->type_len = k - v - 2;
			}
		} else {
			while (k < n && !is_ws(s[k]) && s[k] != '>')
				k++;
			last_unquoted = 1;
			if (equals_ci(s + an, an_len, "type")) {
				t->type = s + v;
				t->type_len = k - v;
			}
		}
		mbuf_write(out, s + v, k - v);
	}
	return minify_fail(err, 422, i, "invalid HTML: unterminated tag <%s (no closing '>')", t->name);
}

/* The media type of a type="..." value: lower case, parameters and surrounding whitespace removed. */
static size_t essence(const uint8_t *v, size_t len, char *buf, size_t buf_len)
{
	size_t a = 0, b = len, o = 0;
	while (a < b && is_ws(v[a]))
		a++;
	for (size_t k = a; k < b && v[k] != ';' && o + 1 < buf_len; k++)
		buf[o++] = (char)lower(v[k]);
	while (o > 0 && is_ws((uint8_t)buf[o - 1]))
		o--;
	buf[o] = 0;
	return o;
}

/* Which minifier handles a <script> of this type attribute. */
static enum minify_type script_type(const struct tag *t)
{
	static const char *const js_types[] = {
		"module",          "text/javascript",        "application/javascript", "text/ecmascript",
		"application/ecmascript", "application/x-javascript", "application/x-ecmascript", "text/x-javascript",
		"text/x-ecmascript", "text/jscript",         "text/livescript",        "text/javascript1.0",
		"text/javascript1.1", "text/javascript1.2",   "text/javascript1.3",     "text/javascript1.4",
		"text/javascript1.5",
	};
	char e[64];
	if (!t->type)
		return MINIFY_JS;
	size_t len = essence(t->type, t->type_len, e, sizeof(e));
	if (len == 0)
		return MINIFY_JS;
	for (size_t k = 0; k < sizeof(js_types) / sizeof(js_types[0]); k++) {
		if (strcmp(e, js_types[k]) == 0)
			return MINIFY_JS;
	}
	if (strcmp(e, "importmap") == 0 || strcmp(e, "speculationrules") == 0 || strcmp(e, "application/json") == 0 ||
	    (len > 5 && strcmp(e + len - 5, "+json") == 0))
		return MINIFY_JSON;
	return MINIFY_NONE;
}

/* Writes the contents of a <script> or <style> element, minified by `type` when it accepts them. */
static void copy_code(struct html *h, const uint8_t *code, size_t len, enum minify_type type)
{
	struct mbuf tmp;
	struct minify_error ignored;
	int rc = -1;
	if (type != MINIFY_NONE && mbuf_init(&tmp, len + 16) == 0) {
		if (type == MINIFY_JS)
			rc = minify_js(code, len, &tmp, &ignored);
		else if (type == MINIFY_CSS)
			rc = minify_css(code, len, &tmp, &ignored);
		else
			rc = minify_json(code, len, &tmp, &ignored);
		if (rc == 0 && !tmp.failed && tmp.len <= len)
			mbuf_write(h->out, tmp.data, tmp.len);
		else
			rc = -1;
		mbuf_free(&tmp);
	}
	if (rc != 0)
		mbuf_write(h->out, code, len);
}

/* After a start tag: elements whose contents are not ordinary HTML. Returns the index where normal processing
 * resumes (at the end tag), or -1. */
static long copy_contents(struct html *h, size_t k, const struct tag *t)
{
	const char *name = t->name;
	if (strcmp(name, "plaintext") == 0) { /* everything after it is text */
		mbuf_write(h->out, h->s + k, h->n - k);
		return (long)h->n;
	}
	int is_script = strcmp(name, "script") == 0, is_style = strcmp(name, "style") == 0;
	int verbatim = strcmp(name, "pre") == 0 || strcmp(name, "textarea") == 0 || strcmp(name, "xmp") == 0 ||
		       strcmp(name, "listing") == 0;
	int is_title = strcmp(name, "title") == 0;
	if (!is_script && !is_style && !verbatim && !is_title)
		return (long)k;

	size_t end;
	if (is_script)
		end = find_script_end(h, k);
	else if (strcmp(name, "pre") == 0)
		end = find_pre_end(h, k);
	else
		end = find_end_tag(h, k, name);
	if (end == h->n) {
		/* Browsers end the element at the end of the document, whose rest is then its text (this also covers
		 * XHTML-style "<script src=x/>", which HTML parsers do not treat as self-closing). Keep it as is. */
		mbuf_write(h->out, h->s + k, h->n - k);
		return (long)h->n;
	}
	const uint8_t *c = h->s + k;
	size_t len = end - k;
	if (is_script) {
		/* A script containing "<!--" is parsed by browsers with the escape states of find_script_end(); the
		 * JavaScript minifier removes "<!--" as a comment, which would change where the element ends. */
		int escaped = memmem(c, len, "<!--", 4) != NULL;
		copy_code(h, c, len, escaped ? MINIFY_NONE : script_type(t));
	} else if (is_style) {
		char e[64];
		int css = !t->type || essence(t->type, t->type_len, e, sizeof(e)) == 0 || strcmp(e, "text/css") == 0;
		copy_code(h, c, len, css ? MINIFY_CSS : MINIFY_NONE);
	} else if (is_title) { /* browsers strip and collapse the title's whitespace */
		int ws = 0, any = 0;
		for (size_t q = 0; q < len; q++) {
			if (is_ws(c[q])) {
				ws = 1;
				continue;
			}
			if (ws && any)
				mbuf_put(h->out, ' ');
			ws = 0;
			any = 1;
			mbuf_put(h->out, c[q]);
		}
	} else {
		mbuf_write(h->out, c, len);
	}
	h->after_block = 0;
	h->pending = 0;
	return (long)end;
}

/* Is the comment body (between "<!--" and "-->") a conditional comment? */
static int is_conditional(const uint8_t *b, size_t len)
{
	return (len >= 3 && memcmp(b, "[if", 3) == 0) || (len >= 9 && memcmp(b, "<![endif]", 9) == 0) ||
	       (len >= 6 && memcmp(b, "[endif", 6) == 0);
}

/* Finds the end of the comment starting at s[i] ("<!--"): "-->", "--!>", or the abrupt "<!-->" / "<!--->" that
 * browsers accept. Returns the index after it or 0. */
static size_t comment_end(const struct html *h, size_t i)
{
	const uint8_t *s = h->s;
	size_t n = h->n, k = i + 4;
	if (k < n && s[k] == '>')
		return k + 1;
	if (k + 1 < n && s[k] == '-' && s[k + 1] == '>')
		return k + 2;
	while (k + 2 <= n) {
		const uint8_t *d = memmem(s + k, n - k, "--", 2);
		if (!d)
			return 0;
		k = (size_t)(d - s);
		if (k + 2 < n && s[k + 2] == '>')
			return k + 3;
		if (k + 3 < n && s[k + 2] == '!' && s[k + 3] == '>')
			return k + 4;
		k++;
	}
	return 0;
}

int minify_html(const uint8_t *s, size_t n, struct mbuf *out, struct minify_error *err)
{
	struct html h = {.s = s, .n = n, .out = out, .after_block = 1};
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		if (is_ws(c)) {
			h.pending = 1;
			i++;
			continue;
		}
		if (c == '<' && i + 3 < n && memcmp(s + i, "<!--", 4) == 0) {
			size_t end = comment_end(&h, i);
			if (!end)
				return minify_fail(err, 422, i, "invalid HTML: unterminated comment (no closing -->)");
			if (is_conditional(s + i + 4, end - i - 4))
				mbuf_write(out, s + i, end - i); /* transparent for whitespace, like a removed comment */
			i = end;
			continue;
		}
		if (c == '<' && i + 1 < n && (s[i + 1] == '!' || s[i + 1] == '?' ||
					      (s[i + 1] == '/' && !(i + 2 < n && is_alpha(s[i + 2]))))) {
			/* doctype, CDATA section, processing instruction or bogus comment: copied as is */
			const uint8_t *close;
			size_t close_len = 1;
			if (n - i >= 9 && memcmp(s + i, "<![CDATA[", 9) == 0) {
				close = memmem(s + i, n - i, "]]>", 3);
				close_len = 3;
			} else {
				close = memchr(s + i, '>', n - i);
			}
			if (!close)
				return minify_fail(err, 422, i, "invalid HTML: unterminated markup declaration (no '>')");
			size_t end = (size_t)(close - s) + close_len;
			int doctype = end - i > 9 && equals_ci(s + i + 2, 7, "doctype");
			flush_ws(&h, doctype);
			mbuf_write(out, s + i, end - i);
			h.after_block = doctype;
			i = end;
			continue;
		}
		if (c == '<' && i + 1 < n && (is_alpha(s[i + 1]) || s[i + 1] == '/')) {
			struct tag t;
			long end = copy_tag(&h, i, &t, err);
			if (end < 0)
				return -1;
			h.after_block = t.is_block;
			i = (size_t)end;
			if (!t.is_end) {
				end = copy_contents(&h, i, &t);
				if (end < 0)
					return -1;
				i = (size_t)end;
			}
			continue;
		}
		/* text: copy the run up to the next whitespace or '<' */
		size_t k = i + 1;
		while (k < n && !is_ws(s[k]) && s[k] != '<')
			k++;
		flush_ws(&h, 0);
		mbuf_write(out, s + i, k - i);
		h.after_block = 0;
		i = k;
	}
	return 0;
}
