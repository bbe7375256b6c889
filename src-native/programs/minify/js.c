/*
 * js.c — JavaScript minification: comments and whitespace.
 *
 * A one-pass tokenizer copies every token byte for byte and decides only what goes between two tokens that the
 * input separated by whitespace or comments: nothing, one space, or one newline. Tokens that were adjacent in the
 * input stay adjacent, so the output tokenizes exactly like the input.
 *
 * Comments are removed except "important" licence comments (those opening with "/" "*!"), which are kept in
 * place. A leading hashbang line is kept.
 *
 * The two hard questions, and how they are answered:
 *
 * 1. Is '/' a division or the start of a regular expression literal? The grammar decides, and a tokenizer
 *    cannot see the grammar, but the previous significant token almost always tells (see regex_allowed()):
 *    after a value (a name, number, string, ')' or ']') it is a division; after an operator, '(' ',' '=' etc. or
 *    keywords like `return` and `typeof` it starts a regex. Two cases need memory of the opening bracket:
 *    ')' closing the head of `if (...)`, `while (...)`, `for (...)`, `with (...)` is followed by a statement, so
 *    a regex; and '}' closing a block is followed by a statement (regex) while '}' closing an object literal is
 *    followed by an operator (division). A stack of open brackets records which kind each one is.
 *
 * 2. Where may a newline be removed? Automatic semicolon insertion (ASI) puts a ';' at a newline when the next
 *    token cannot continue the statement, and always after `return`, `break`, `continue`, `throw`, `yield` and
 *    before postfix `++`/`--` (restricted productions). Instead of parsing, the minifier keeps a newline
 *    whenever the token before it could end a statement AND the token after it could start one (see can_end()
 *    and can_start()). If either is false, ASI cannot have inserted a semicolon there in a valid program: a ';'
 *    after a token that cannot end a statement (such as '=' or '(') would be a syntax error, and so would a
 *    statement starting with a token that cannot start one (such as '.', ')' or '*'). So dropping the newline in
 *    those cases never changes the meaning, and keeping it in the others is always safe. A newline before a token
 *    that continues any expression ('+', '-', '(', '[', a template) is dropped too, since ASI does not apply
 *    there, except after the restricted keywords (see continues()).
 *
 * Two tokens that would merge when written adjacently get one space (see space_needed()): names and numbers
 * ("return x", "a in b"), '+ +' and '- -' ("a + +b", "a - -b", "a+ ++b"), '/' followed by '/' or '*' (a comment
 * would start), a number followed by '.' or a name ("1 .toString()", "5. in o"), a regex followed by a name (it
 * would become flags), '<' followed by '!' or '/' ("<!--" starts an HTML-like comment, "</script" ends an inline
 * script) and '-' followed by '>' ("-->").
 *
 * Errors (422): unterminated string, comment, regular expression or template literal.
 */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>

#include "minify.h"

enum kind {
	K_NONE,          /* nothing written yet */
	K_NAME,          /* identifier or keyword */
	K_PRIVATE,       /* #name */
	K_NUM,           /* numeric literal */
	K_STR,           /* string literal */
	K_REGEX,         /* regular expression literal */
	K_TEMPLATE,      /* template literal, or its last part "}...`" */
	K_TEMPLATE_OPEN, /* template part ending in "${": the head "`...${" or a middle "}...${" */
	K_PUNCT,         /* punctuator */
};

/* What an open bracket on the stack is. */
enum open {
	O_PAREN,
	O_PAREN_CONTROL, /* the head of if/while/for/with: a statement follows its ')' */
	O_BRACKET,
	O_BRACE_STMT,  /* a block in statement position (after ';', '{', if (...), else...): a statement follows its
	                * '}', and no semicolon is ever inserted after it */
	O_BRACE_BLOCK, /* another body (function, arrow, class, label/case): a statement usually follows its '}',
	                * but a function or class expression can end there */
	O_BRACE_ARROW, /* an arrow function body: nothing continues the expression after its '}' */
	O_BRACE_EXPR,  /* an object literal: an operator follows its '}' */
	O_TEMPLATE,    /* "${" inside a template literal: its '}' continues the template */
};

/* Keyword properties (only for keywords not used as a property name after '.' or '?.'). */
enum {
	KW_EXPR = 1,    /* an expression follows: '/' starts a regex, '{' an object literal */
	KW_NO_END = 2,  /* a statement cannot end right after it */
	KW_CONTROL = 4, /* its '(...)' head is followed by a statement (or a block) */
	KW_STMT = 8,    /* a statement follows: '{' is a block */
	KW_RESTRICTED = 16, /* a newline right after it ends the statement ("return\nx" is "return; x") */
};

static const struct keyword {
	const char *word;
	int flags;
} keywords[] = { /* all lower case, 2 to 10 letters */
	{"return", KW_EXPR | KW_RESTRICTED},
	{"throw", KW_EXPR | KW_RESTRICTED},
	{"yield", KW_EXPR | KW_RESTRICTED},
	{"await", KW_EXPR},
	{"break", KW_RESTRICTED},
	{"continue", KW_RESTRICTED},
	{"async", KW_RESTRICTED}, /* "async\nfunction f(){}" is not an async function */
	{"typeof", KW_EXPR | KW_NO_END},
	{"instanceof", KW_EXPR | KW_NO_END},
	{"in", KW_EXPR | KW_NO_END},
	{"new", KW_EXPR | KW_NO_END},
	{"delete", KW_EXPR | KW_NO_END},
	{"void", KW_EXPR | KW_NO_END},
	{"case", KW_EXPR | KW_NO_END},
	{"extends", KW_EXPR | KW_NO_END},
	{"do", KW_EXPR | KW_NO_END | KW_STMT},
	{"else", KW_EXPR | KW_NO_END | KW_STMT},
	{"if", KW_NO_END | KW_CONTROL},
	{"for", KW_NO_END | KW_CONTROL},
	{"while", KW_NO_END | KW_CONTROL},
	{"with", KW_NO_END | KW_CONTROL},
	{"var", KW_NO_END},
	{"const", KW_NO_END},
	{"switch", KW_NO_END | KW_CONTROL},
	{"try", KW_NO_END | KW_STMT},
	{"catch", KW_NO_END | KW_CONTROL},
	{"finally", KW_NO_END | KW_STMT},
	{"function", KW_NO_END},
	{"class", KW_NO_END},
	{"import", KW_NO_END},
	{"export", KW_NO_END},
	{"default", KW_NO_END},
};

/* Punctuators, longest first so that the first match is the longest. */
static const char *const puncts[] = {
	">>>=", "...", "===", "!==", "**=", "<<=", ">>=", ">>>", "&&=", "||=", "?\?=", "=>", "==", "!=", "<=",
	">=",   "&&",  "||",  "??",  "?.",  "++",  "--",  "+=",  "-=",  "*=",  "/=",  "%=", "&=", "|=", "^=",
	"<<",   ">>",  "**",
};

struct tok {
	enum kind kind;
	const uint8_t *p;
	size_t len;
	int kw;         /* keyword flags for K_NAME */
	enum open open; /* for ')' and '}': what the matching opener was */
};

struct js {
	const uint8_t *s;
	size_t n;
	struct mbuf *out;
	struct opener {
		enum open kind;
		size_t pos; /* where it is in the input, for errors */
	} *stack;
	size_t depth, cap;
	struct tok prev; /* the last token written */
	int gap;         /* whitespace or comments were skipped since prev */
	int gap_newline; /* ... and they contained a line terminator */
};

static int is_id(uint8_t c)
{
	/* bytes >= 0x80 belong to non-ASCII identifiers (or are copied verbatim as if they did) */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' ||
	       c == '\\' || c >= 0x80;
}

static int is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* LF, CR, and U+2028 / U+2029 in UTF-8 (E2 80 A8 / E2 80 A9): the line terminators of JavaScript. Returns the
 * length of the terminator at s[i], or 0. */
static size_t line_terminator(const uint8_t *s, size_t n, size_t i)
{
	if (s[i] == '\n' || s[i] == '\r')
		return 1;
	if (s[i] == 0xE2 && i + 2 < n && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9))
		return 3;
	return 0;
}

static int punct_is(const struct tok *t, const char *p)
{
	size_t l = strlen(p);
	return t->kind == K_PUNCT && t->len == l && memcmp(t->p, p, l) == 0;
}

/* Does a '/' after token t start a regular expression (1) or is it a division (0)? */
static int regex_allowed(const struct tok *t)
{
	switch (t->kind) {
	case K_NONE:
	case K_TEMPLATE_OPEN:
		return 1;
	case K_NAME:
		return (t->kw & KW_EXPR) != 0; /* return /x/, typeof /x/ ... ; but a / b, this / 2 */
	case K_PUNCT:
		if (punct_is(t, ")"))
			return t->open == O_PAREN_CONTROL; /* if (a) /x/.test(s) ... ; but (a) / 2 */
		if (punct_is(t, "}"))
			return t->open != O_BRACE_EXPR; /* {} /x/ (block then statement) ; but ({}) / 2 */
		if (punct_is(t, "]") || punct_is(t, "++") || punct_is(t, "--"))
			return 0; /* a[0] / 2, a++ / 2 */
		return 1;        /* after any other operator an operand follows */
	default:
		return 0; /* after a value: 1 / 2, "s" / 2, /x/ / 2, `t` / 2 */
	}
}

/* Could a statement end right after token t? (See the ASI note at the top.) */
static int can_end(const struct tok *t)
{
	switch (t->kind) {
	case K_NAME:
		return !(t->kw & KW_NO_END);
	case K_PRIVATE:
	case K_NUM:
	case K_STR:
	case K_REGEX:
	case K_TEMPLATE:
		return 1;
	case K_PUNCT:
		if (punct_is(t, "}")) /* a statement block ends a statement by itself; other '}' may end an expression */
			return t->open != O_BRACE_STMT;
		return punct_is(t, ")") || punct_is(t, "]") || punct_is(t, "++") || punct_is(t, "--");
	default:
		return 0;
	}
}

/* Could a statement start with token t? '++'/'--' are included for the restricted production "no newline before
 * postfix ++/--"; '=>' is included so that a (syntax-error) newline before '=>' is not silently removed. */
static int can_start(const struct tok *t)
{
	switch (t->kind) {
	case K_NAME:
	case K_PRIVATE:
	case K_NUM:
	case K_STR:
	case K_REGEX:
		return 1;
	case K_TEMPLATE:
	case K_TEMPLATE_OPEN:
		return t->p[0] == '`';
	case K_PUNCT:
		return punct_is(t, "(") || punct_is(t, "[") || punct_is(t, "{") || punct_is(t, "+") ||
		       punct_is(t, "-") || punct_is(t, "!") || punct_is(t, "~") || punct_is(t, "++") ||
		       punct_is(t, "--") || punct_is(t, "@") || punct_is(t, "=>");
	default:
		return 0;
	}
}

/* Does b continue the expression ending with a, whether or not a newline separates them? Then the newline does
 * not matter. '+' and '-' are binary operators after any operand; '(' a call, '`' a tagged template and '[' a
 * member access, except after postfix ++/-- and after an arrow function's body (neither can be called or
 * indexed: ASI applies). After return, break, continue, throw, yield and async a newline always ends the
 * statement. '[' after a plain name is left alone because in a class
 * body "field\n[key]" is two members. */
static int continues(const struct tok *a, const struct tok *b)
{
	if (a->kind == K_NAME && (a->kw & KW_RESTRICTED))
		return 0;
	if (punct_is(a, "}") && a->open == O_BRACE_ARROW)
		return 0; /* "f = () => {}\n[1].map(g)": an arrow function cannot be called, indexed or added to */
	if (punct_is(b, "+") || punct_is(b, "-"))
		return 1;
	if (punct_is(a, "++") || punct_is(a, "--"))
		return 0;
	if (punct_is(b, "(") || ((b->kind == K_TEMPLATE || b->kind == K_TEMPLATE_OPEN) && b->p[0] == '`'))
		return 1;
	if (punct_is(b, "["))
		return a->kind != K_NAME;
	return 0;
}

/* Would tokens a and b, written adjacently, be read differently? */
static int space_needed(const struct tok *a, const struct tok *b)
{
	uint8_t la = a->p[a->len - 1], fb = b->p[0];
	if (is_id(la) && (is_id(fb) || fb == '#'))
		return 1; /* return x, a in b, 1 in a */
	if ((a->kind == K_REGEX || a->kind == K_NUM) && is_id(fb))
		return 1; /* /x/ in o: "in" would become flags; 5. in o: a name may not touch a number */
	if (a->kind == K_NUM && fb == '.')
		return 1; /* 1 .toString() */
	if ((la == '+' || la == '-') && fb == la)
		return 1; /* a + +b, a - -b, a+ ++b */
	if (la == '/' && (fb == '/' || fb == '*'))
		return 1; /* a / /x/ would start a comment */
	if (la == '<' && (fb == '!' || fb == '/'))
		return 1; /* a < !--b is not "<!--"; a < /script>/ is not "</script" */
	if (la == '-' && fb == '>')
		return 1; /* a-- > b is not "-->" */
	return 0;
}

static int push(struct js *j, enum open o, size_t pos)
{
	if (j->depth == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 64;
		struct opener *p = realloc(j->stack, cap * sizeof(*p));
		if (!p)
			return -1;
		j->stack = p;
		j->cap = cap;
	}
	j->stack[j->depth].kind = o;
	j->stack[j->depth].pos = pos;
	j->depth++;
	return 0;
}

static enum open top(const struct js *j)
{
	return j->depth ? j->stack[j->depth - 1].kind : O_BRACE_STMT;
}

/* Pops the opener matched by a closing bracket. A template's "${" is never popped by ')' or ']' (invalid input
 * must not derail template scanning); unbalanced closers count as closing a block. */
static enum open pop(struct js *j)
{
	if (j->depth == 0 || top(j) == O_TEMPLATE)
		return O_BRACE_BLOCK;
	return j->stack[--j->depth].kind;
}

/* What a '{' written after token t opens. */
static enum open brace_kind(const struct js *j, const struct tok *t)
{
	switch (t->kind) {
	case K_TEMPLATE_OPEN:
		return O_BRACE_EXPR;
	case K_NONE:
		return O_BRACE_STMT;
	case K_NAME:
		if (t->kw & KW_STMT) /* else {, do {, try {, finally { */
			return O_BRACE_STMT;
		return (t->kw & KW_EXPR) ? O_BRACE_EXPR : O_BRACE_BLOCK; /* return {...} ; class A {...} */
	case K_PUNCT:
		/* after ';', '{' or '}' a '{' starts a block statement (an object literal cannot start a statement);
		 * after the head of if/for/while/with/switch/catch it is that statement's block */
		if (punct_is(t, ";") || punct_is(t, "{") || punct_is(t, "}") ||
		    (punct_is(t, ")") && t->open == O_PAREN_CONTROL))
			return O_BRACE_STMT;
		if (punct_is(t, "=>"))
			return O_BRACE_ARROW;
		/* function bodies (after ')'), and '{' after tokens that only appear in invalid code */
		if (punct_is(t, ")") || punct_is(t, "]") || punct_is(t, "++") || punct_is(t, "--"))
			return O_BRACE_BLOCK;
		if (punct_is(t, ":")) /* object value {a: {...}} or label/case "x: {...}" */
			return top(j) == O_BRACE_STMT || top(j) == O_BRACE_BLOCK ? O_BRACE_BLOCK : O_BRACE_EXPR;
		return O_BRACE_EXPR; /* = ( [ , ? operators: an expression */
	default:
		return O_BRACE_BLOCK;
	}
}

static int keyword_flags(const uint8_t *p, size_t len)
{
	if (len < 2 || len > 10 || p[0] < 'a' || p[0] > 'z') /* most names: no table lookup */
		return 0;
	for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++) {
		const char *w = keywords[k].word;
		if ((uint8_t)w[0] == p[0] && strlen(w) == len && memcmp(w, p, len) == 0)
			return keywords[k].flags;
	}
	return 0;
}

/* Writes token t, preceded by what the skipped gap must become. */
static void emit(struct js *j, struct tok t)
{
	if (j->gap && j->prev.kind != K_NONE) {
		if (j->gap_newline && can_end(&j->prev) && can_start(&t) && !continues(&j->prev, &t))
			mbuf_put(j->out, '\n');
		else if (space_needed(&j->prev, &t))
			mbuf_put(j->out, ' ');
	}
	mbuf_write(j->out, t.p, t.len);
	j->prev = t;
	j->gap = j->gap_newline = 0;
}

/* Scans a template part starting at s[i] ('`' or the '}' ending a substitution). Returns its end, setting *open
 * when it ends in "${"; -1 on error. */
static long scan_template(struct js *j, size_t i, int *open, struct minify_error *err)
{
	const uint8_t *s = j->s;
	size_t k = i + 1;
	while (k < j->n) {
		uint8_t c = s[k];
		if (c == '`') {
			*open = 0;
			return (long)(k + 1);
		}
		if (c == '\\') {
			k += 2;
			continue;
		}
		if (c == '$' && k + 1 < j->n && s[k + 1] == '{') {
			*open = 1;
			return (long)(k + 2);
		}
		k++;
	}
	return minify_fail(err, 422, i, "invalid JavaScript: unterminated template literal (no closing '`')");
}

static long scan_string(struct js *j, size_t i, struct minify_error *err)
{
	const uint8_t *s = j->s;
	uint8_t q = s[i];
	size_t k = i + 1;
	while (k < j->n) {
		uint8_t c = s[k];
		if (c == q)
			return (long)(k + 1);
		if (c == '\\') {
			/* an escaped line terminator is a line continuation; CR LF counts as one */
			if (k + 2 < j->n && s[k + 1] == '\r' && s[k + 2] == '\n')
				k++;
			k += 2;
			continue;
		}
		if (c == '\n' || c == '\r')
			break;
		k++;
	}
	return minify_fail(err, 422, i, "invalid JavaScript: unterminated string literal (no closing %c on the line)",
			   q);
}

/* Scans a regular expression literal at s[i] == '/': body (a '/' inside [...] does not end it), then flags. */
static long scan_regex(struct js *j, size_t i, struct minify_error *err)
{
	const uint8_t *s = j->s;
	size_t k = i + 1;
	int in_class = 0;
	while (k < j->n && !line_terminator(s, j->n, k)) {
		uint8_t c = s[k];
		if (c == '\\') {
			if (k + 1 < j->n && line_terminator(s, j->n, k + 1))
				break;
			k += 2;
			continue;
		}
		if (c == '[')
			in_class = 1;
		else if (c == ']')
			in_class = 0;
		else if (c == '/' && !in_class) {
			k++;
			while (k < j->n && is_id(s[k]))
				k++;
			return (long)k;
		}
		k++;
	}
	return minify_fail(err, 422, i,
			   "invalid JavaScript: unterminated regular expression literal (no closing '/' on the line)");
}

static size_t scan_name(const struct js *j, size_t i)
{
	const uint8_t *s = j->s;
	size_t k = i;
	while (k < j->n) {
		if (s[k] == '\\') { /* \uXXXX or \u{...} */
			k += 2;
			if (k < j->n && s[k - 1] == 'u' && s[k] == '{') {
				while (k < j->n && s[k] != '}')
					k++;
				k++;
			}
		} else if (is_id(s[k])) {
			k++;
		} else {
			break;
		}
	}
	return k < j->n ? k : j->n;
}

/* Numbers are scanned loosely (digits, letters, '_', '.', and a sign after a decimal exponent): the token is
 * copied verbatim, so only its extent matters. */
static size_t scan_number(const struct js *j, size_t i)
{
	const uint8_t *s = j->s;
	uint8_t second = i + 1 < j->n ? (uint8_t)(j->s[i + 1] | 0x20) : 0;
	int radix = s[i] == '0' && (second == 'x' || second == 'o' || second == 'b'); /* 0x1e+5 is 0x1e + 5 */
	size_t k = i;
	while (k < j->n) {
		uint8_t c = s[k];
		if ((is_id(c) && c != '\\' && c < 0x80) || c == '.')
			k++;
		else if ((c == '+' || c == '-') && !radix && (s[k - 1] == 'e' || s[k - 1] == 'E'))
			k++;
		else
			break;
	}
	return k;
}

static size_t scan_punct(const struct js *j, size_t i)
{
	const uint8_t *s = j->s;
	switch (s[i]) { /* the most frequent punctuators are single characters: no table search */
	case '(': case ')': case '{': case '}': case '[': case ']': case ';': case ',': case ':': case '~': case '@':
		return i + 1;
	default:
		break;
	}
	for (size_t k = 0; k < sizeof(puncts) / sizeof(puncts[0]); k++) {
		if ((uint8_t)puncts[k][0] != s[i]) /* cheap first-byte filter */
			continue;
		size_t l = strlen(puncts[k]);
		if (i + l <= j->n && memcmp(s + i, puncts[k], l) == 0) {
			if (l == 2 && puncts[k][0] == '?' && puncts[k][1] == '.' && i + 2 < j->n && is_digit(s[i + 2]))
				continue; /* a?.5:b is "a ? .5 : b" */
			return i + l;
		}
	}
	return i + 1;
}

static size_t skip_line(const struct js *j, size_t i)
{
	while (i < j->n && !line_terminator(j->s, j->n, i))
		i++;
	return i;
}

int minify_js(const uint8_t *s, size_t n, struct mbuf *out, struct minify_error *err)
{
	struct js j = {.s = s, .n = n, .out = out};
	size_t i = 0;
	int rc = -1;

	if (n >= 2 && s[0] == '#' && s[1] == '!') { /* hashbang: keep the line */
		i = skip_line(&j, 0);
		mbuf_write(out, s, i);
		mbuf_put(out, '\n');
	}

	while (i < n) {
		uint8_t c = s[i];
		size_t lt;
		struct tok t = {.kind = K_PUNCT, .p = s + i};
		size_t end;

		if (c == ' ' || c == '\t' || c == '\v' || c == '\f') {
			j.gap = 1;
			i++;
			continue;
		}
		if ((lt = line_terminator(s, n, i)) != 0) {
			j.gap = j.gap_newline = 1;
			i += lt;
			continue;
		}
		if (c == '/' && i + 1 < n && s[i + 1] == '/') {
			j.gap = 1;
			i = skip_line(&j, i);
			continue;
		}
		if (c == '/' && i + 1 < n && s[i + 1] == '*') {
			const uint8_t *close = i + 2 < n ? memmem(s + i + 2, n - i - 2, "*/", 2) : NULL;
			if (!close) {
				minify_fail(err, 422, i, "invalid JavaScript: unterminated comment (no closing */)");
				goto done;
			}
			size_t after = (size_t)(close - s) + 2;
			for (size_t k = i; k < after; k++) {
				if (line_terminator(s, n, k)) {
					j.gap_newline = 1; /* a comment containing a newline counts as one for ASI */
					break;
				}
			}
			j.gap = 1;
			if (s[i + 2] == '!') { /* licence comment: kept where it is */
				if (out->len && out->data[out->len - 1] == '/')
					mbuf_put(out, ' ');
				mbuf_write(out, s + i, after - i);
			}
			i = after;
			continue;
		}
		/* HTML-like comments (Annex B): "<!--" anywhere and "-->" at the start of a line act as "//" */
		if (c == '<' && n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
			j.gap = 1;
			i = skip_line(&j, i);
			continue;
		}
		if (c == '-' && n - i >= 3 && memcmp(s + i, "-->", 3) == 0 && (j.prev.kind == K_NONE || j.gap_newline)) {
			j.gap = 1;
			i = skip_line(&j, i);
			continue;
		}

		if (c == '"' || c == '\'') {
			long e = scan_string(&j, i, err);
			if (e < 0)
				goto done;
			t.kind = K_STR;
			end = (size_t)e;
		} else if (c == '`' || (c == '}' && top(&j) == O_TEMPLATE)) {
			int open = 0;
			if (c == '}')
				j.depth--;
			long e = scan_template(&j, i, &open, err);
			if (e < 0)
				goto done;
			if (open && push(&j, O_TEMPLATE, i) < 0)
				goto oom;
			t.kind = open ? K_TEMPLATE_OPEN : K_TEMPLATE;
			end = (size_t)e;
		} else if (is_digit(c) || (c == '.' && i + 1 < n && is_digit(s[i + 1]))) {
			t.kind = K_NUM;
			end = scan_number(&j, i);
		} else if (is_id(c)) {
			t.kind = K_NAME;
			end = scan_name(&j, i);
			/* a keyword after '.' or '?.' is a property name: a.if, a?.new */
			if (!punct_is(&j.prev, ".") && !punct_is(&j.prev, "?."))
				t.kw = keyword_flags(s + i, end - i);
		} else if (c == '#') {
			t.kind = K_PRIVATE;
			end = scan_name(&j, i + 1);
		} else if (c == '/' && regex_allowed(&j.prev)) {
			long e = scan_regex(&j, i, err);
			if (e < 0)
				goto done;
			t.kind = K_REGEX;
			end = (size_t)e;
		} else {
			end = scan_punct(&j, i);
			if (c == '(') {
				int control = j.prev.kind == K_NAME && (j.prev.kw & KW_CONTROL);
				if (push(&j, control ? O_PAREN_CONTROL : O_PAREN, i) < 0)
					goto oom;
			} else if (c == '[') {
				if (push(&j, O_BRACKET, i) < 0)
					goto oom;
			} else if (c == '{') {
				if (push(&j, brace_kind(&j, &j.prev), i) < 0)
					goto oom;
			} else if (c == ')' || c == ']' || c == '}') {
				t.open = pop(&j);
			}
		}
		t.len = end - i;
		emit(&j, t);
		i = end;
	}
	for (size_t k = j.depth; k-- > 0;) {
		if (j.stack[k].kind == O_TEMPLATE) {
			minify_fail(err, 422, j.stack[k].pos,
				    "invalid JavaScript: unterminated template literal (a ${ substitution is not closed)");
			goto done;
		}
	}
	rc = 0;
	goto done;
oom:
	minify_fail(err, 500, i, "out of memory for bracket nesting");
done:
	free(j.stack);
	return rc;
}
