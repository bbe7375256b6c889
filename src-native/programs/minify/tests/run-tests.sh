#!/usr/bin/env bash
# Tests of the minify program: exact outputs of small edge cases, statuses of bad input, and properties of real
# files (JSON equal as values, JavaScript that still passes `node --check` and behaves identically, CSS that
# parses to the same rules, HTML whose <pre> contents are untouched).
#
# Usage: run-tests.sh [PROGRAM]            (default PROGRAM: src-native/build/programs/minify)
# Environment:
#   MINIFY_TEST_MODE=native   (default) run PROGRAM as a command: PROGRAM ARG CONTENT_TYPE < in > out
#   MINIFY_TEST_MODE=sandbox  run every case inside the sandbox through build/bin/kvmrun (skipped with a message
#                             while kvmrun does not exist)
#   KVMRUN=path               kvmrun to use in sandbox mode
# Prints one line per case and ends with "N passed, N failed"; exits non-zero when any case failed.
# Needs node (Debian nodejs) and the Debian modules node-css, node-domino and node-acorn (mk/packages-test.txt).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_NATIVE=$(cd "$HERE/../../.." && pwd)
PROGRAM=${1:-$SRC_NATIVE/build/programs/minify}
MODE=${MINIFY_TEST_MODE:-native}
KVMRUN=${KVMRUN:-$SRC_NATIVE/build/bin/kvmrun}
DATA=$HERE/../../../../samples # the repository's sample files
JS=$HERE/js
export NODE_PATH=/usr/share/nodejs:/usr/lib/nodejs${NODE_PATH:+:$NODE_PATH}

case "$PROGRAM" in /*) ;; *) PROGRAM=$PWD/$PROGRAM ;; esac
if [ ! -x "$PROGRAM" ]; then
	echo "minify program not found or not executable: $PROGRAM (build it with: make -C src-native programs)" >&2
	exit 2
fi
case "$MODE" in
native) ;;
sandbox)
	if [ ! -x "$KVMRUN" ]; then
		echo "SKIP sandbox mode: kvmrun not built yet ($KVMRUN missing); run with MINIFY_TEST_MODE=native"
		echo "0 passed, 0 failed"
		exit 0
	fi
	;;
*)
	echo "MINIFY_TEST_MODE must be native or sandbox, got '$MODE'" >&2
	exit 2
	;;
esac
for tool in node cmp; do
	command -v "$tool" >/dev/null || { echo "missing test tool: $tool (apt-get install nodejs)" >&2; exit 2; }
done
if ! node -e 'require("css"); require("domino"); require("acorn")' 2>/dev/null; then
	echo "missing node modules css, domino or acorn: apt-get install node-css node-domino node-acorn" \
		"(or make -C src-native prereqs-test as root)" >&2
	exit 2
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

pass() { passed=$((passed + 1)); echo "ok     $1"; }
fail() { failed=$((failed + 1)); echo "FAIL   $1: $2"; }

# run_minify METHOD ARG CONTENT_TYPE INPUT_FILE
# Sets STATUS, CTYPE (response Content-Type) and FAILED (X-Failed value, "" when absent); the body is in $TMP/out.
run_minify() {
	local method=$1 arg=$2 ct=$3 in=$4
	rm -f "$TMP/out" "$TMP/err" "$TMP/result.json"
	if [ "$MODE" = native ]; then
		set +e
		"$PROGRAM" "$arg" "$ct" <"$in" >"$TMP/out" 2>"$TMP/err"
		set -e
		STATUS=$(sed -n 's/^status: //p' "$TMP/err" | head -n 1)
		CTYPE=$(sed -n 's/^Content-Type: //p' "$TMP/err" | head -n 1)
		FAILED=$(sed -n 's/^X-Failed: //p' "$TMP/err" | head -n 1)
	else
		local body=(--body "$in" --content-type "$ct")
		[ "$method" = GET ] && body=()
		set +e
		"$KVMRUN" --method "$method" "${body[@]}" --arg "$arg" --out "$TMP/out" --json "$TMP/result.json" \
			"$PROGRAM" >"$TMP/err" 2>&1
		set -e
		[ -f "$TMP/out" ] || : >"$TMP/out"
		# The result file has the status and the response headers; accept headers as an object or a list.
		eval "$(node -e '
			const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
			const h = {};
			const add = (k, v) => { h[String(k).toLowerCase()] = String(v); };
			const hs = r.headers || {};
			if (Array.isArray(hs)) for (const x of hs) {
				if (typeof x === "string") add(x.slice(0, x.indexOf(":")), x.slice(x.indexOf(":") + 1).trim());
				else if (Array.isArray(x)) add(x[0], x[1]); else add(x.name, x.value);
			} else for (const k of Object.keys(hs)) add(k, hs[k]);
			const q = s => "\x27" + String(s).replace(/\x27/g, "\x27\\\x27\x27") + "\x27";
			console.log("STATUS=" + q(r.status));
			console.log("CTYPE=" + q(r.content_type || r.contentType || h["content-type"] || ""));
			console.log("FAILED=" + q(h["x-failed"] || ""));
		' "$TMP/result.json" 2>/dev/null || echo 'STATUS=none CTYPE= FAILED=')"
		if [ "$STATUS" = none ] || [ "$STATUS" = 0 ]; then # say why kvmrun gave no answer
			FAILED="kvmrun: $(tr '\n' ' ' <"$TMP/err" | head -c 300) $(head -c 300 "$TMP/result.json" 2>/dev/null)"
		fi
	fi
}

# case_exact NAME ARG CONTENT_TYPE INPUT EXPECTED: status 200, the output is exactly EXPECTED and keeps the
# Content-Type. INPUT and EXPECTED are printf %b strings (\n, \x.. escapes).
case_exact() {
	local name=$1 arg=$2 ct=$3
	printf '%b' "$4" >"$TMP/in"
	printf '%b' "$5" >"$TMP/expected"
	run_minify POST "$arg" "$ct" "$TMP/in"
	if [ "$STATUS" != 200 ]; then
		fail "$name" "status $STATUS, X-Failed: $FAILED"
	elif ! cmp -s "$TMP/out" "$TMP/expected"; then
		fail "$name" "expected [$(cat "$TMP/expected")] got [$(cat "$TMP/out")]"
	elif [ -n "$ct" ] && [ "$CTYPE" != "$ct" ]; then
		fail "$name" "Content-Type changed from '$ct' to '$CTYPE'"
	else
		pass "$name"
	fi
}

# case_status NAME ARG CONTENT_TYPE INPUT STATUS FAILED_SUBSTRING: the status, an X-Failed header containing
# the substring, and no partial body (the body, if any, is the text/plain reason).
case_status() {
	local name=$1 arg=$2 ct=$3 want=$5 substr=$6
	printf '%b' "$4" >"$TMP/in"
	run_minify POST "$arg" "$ct" "$TMP/in"
	if [ "$STATUS" != "$want" ]; then
		fail "$name" "expected status $want, got $STATUS (X-Failed: $FAILED)"
	elif [[ "$FAILED" != *"$substr"* ]]; then
		fail "$name" "X-Failed [$FAILED] does not contain [$substr]"
	elif [ -s "$TMP/out" ] && [ "$(cat "$TMP/out")" != "$FAILED" ]; then
		fail "$name" "a body other than the reason was sent: [$(head -c 200 "$TMP/out")]"
	else
		pass "$name"
	fi
}

# check NAME COMMAND...: a property check on files already produced.
check() {
	local name=$1
	shift
	local msg
	if msg=$("$@" 2>&1); then
		pass "$name"
	else
		fail "$name" "$(printf '%s' "$msg" | tail -n 5 | tr '\n' ' ')"
	fi
}

smaller() { # smaller ORIGINAL MINIFIED PERCENT_AT_MOST
	local a b
	a=$(stat -c %s "$1")
	b=$(stat -c %s "$2")
	if [ $((b * 100)) -gt $((a * $3)) ]; then
		echo "$2 is $b bytes, more than $3% of $a"
		return 1
	fi
	echo "$a -> $b bytes"
}

json_equal() {
	node -e '
		const fs = require("fs"), util = require("util");
		const a = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
		const b = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
		if (!util.isDeepStrictEqual(a, b)) { console.log("values differ"); process.exit(1); }
	' "$1" "$2"
}

same_output() { # same_output ORIGINAL.js MINIFIED.js [runner.js]: both print the same and exit 0
	if [ $# -eq 3 ]; then
		node "$3" "$1" >"$TMP/run1" 2>&1 || { echo "original failed: $(tail -n 3 "$TMP/run1")"; return 1; }
		node "$3" "$2" >"$TMP/run2" 2>&1 || { echo "minified failed: $(tail -n 3 "$TMP/run2")"; return 1; }
	else
		node "$1" >"$TMP/run1" 2>&1 || { echo "original failed: $(tail -n 3 "$TMP/run1")"; return 1; }
		node "$2" >"$TMP/run2" 2>&1 || { echo "minified failed: $(tail -n 3 "$TMP/run2")"; return 1; }
	fi
	[ -s "$TMP/run1" ] || { echo "no output"; return 1; }
	diff "$TMP/run1" "$TMP/run2"
}

pre_identical() { # every <pre>...</pre> of the original appears unchanged, in order, in the minified HTML
	node -e '
		const fs = require("fs");
		const pre = f => fs.readFileSync(f, "latin1").match(/<pre[\s>][\s\S]*?<\/pre>/gi) || [];
		const a = pre(process.argv[1]), b = pre(process.argv[2]);
		if (a.length === 0) { console.log("no <pre> in the original"); process.exit(1); }
		if (a.length !== b.length || a.some((x, i) => x !== b[i])) { console.log("<pre> contents differ"); process.exit(1); }
		console.log(a.length + " <pre> blocks identical");
	' "$1" "$2"
}

echo "minify tests ($MODE mode): $PROGRAM"

# ---------------------------------------------------------------------------------------------------------
# JSON
case_exact "json: whitespace removed, number and string spellings kept" '' application/json \
	'{ "a" : [ 1 , 2.50 , -0 , 1E+2, 0.5e-3 ] ,\n\t"b" : "x  y\\u00e9\\"\\/" , "c":{ } , "d" : [ ] }\r\n' \
	'{"a":[1,2.50,-0,1E+2,0.5e-3],"b":"x  y\\u00e9\\"\\/","c":{},"d":[]}'
case_exact "json: literals and nesting" '' application/json \
	'[ true , false , null , [ [ { "x" : [ null ] } ] ] ]' '[true,false,null,[[{"x":[null]}]]]'
case_exact "json: top-level scalar" '' application/json '  "s p"  \n' '"s p"'
case_exact "json: non-ASCII bytes pass through" '' 'application/json; charset=utf-8' \
	'{ "\xc3\xa9" : "\xe6\x97\xa5\xe6\x9c\xac" }' '{"\xc3\xa9":"\xe6\x97\xa5\xe6\x9c\xac"}'
case_exact "json: byte order mark kept" '' application/json '\xef\xbb\xbf { "a" : 1 }' '\xef\xbb\xbf{"a":1}'
case_exact "json: latin-1 charset parameter kept" '' 'application/json;charset=ISO-8859-1' \
	'{ "k" : "\xe9t\xe9" }' '{"k":"\xe9t\xe9"}'
case_exact "json: +json media type" '' application/ld+json '{ "@context" : "x" }' '{"@context":"x"}'
case_exact "json: chosen by arg" '{"type":"json"}' text/plain '[ 1, 2 ]' '[1,2]'
case_exact "json: nothing to gain returns the input" '' application/json '1' '1'
printf '%0.s[' $(seq 1 5000) >"$TMP/deep"
printf '%0.s ]' $(seq 1 5000) >>"$TMP/deep"
printf '%0.s[' $(seq 1 5000) >"$TMP/deep.expected"
printf '%0.s]' $(seq 1 5000) >>"$TMP/deep.expected"
run_minify POST '' application/json "$TMP/deep"
if [ "$STATUS" = 200 ] && cmp -s "$TMP/out" "$TMP/deep.expected"; then pass "json: 5000 levels of nesting"; else fail "json: 5000 levels of nesting" "status $STATUS"; fi
case_status "json: trailing comma in object" '' application/json '{"a":1,}' 422 \
	"expected a string key after ',', found '}' at byte 7 (line 1, column 8)"
case_status "json: missing comma" '' application/json '[1 2]' 422 "expected ',' or ']' after an array element"
case_status "json: missing colon" '' application/json '{"a" 1}' 422 "expected ':' after an object key"
case_status "json: leading zero" '' application/json '[01]' 422 "leading zeros are not allowed"
case_status "json: unterminated string" '' application/json '["abc' 422 "unterminated string (no closing '\"') at byte 1"
case_status "json: raw control character" '' application/json '["a\tb"]' 422 "control character 0x09"
case_status "json: bad escape" '' application/json '["\\q"]' 422 "invalid escape"
case_status "json: unclosed array" '' application/json '[1,2' 422 "unexpected end of input inside an array"
case_status "json: empty body" '' application/json '' 422 "empty input"
case_status "json: NaN" '' application/json '[NaN]' 422 "expected a value"
case_status "json: garbage after the value" '' application/json '{"a":1} x' 422 "after the end of the value"
case_status "json: error position on line 3" '' application/json '{\n  "a": 1,\n  "b": x\n}' 422 \
	"at byte 19 (line 3, column 8)"
case_status "json: digits after '.' required" '' application/json '1.' 422 "expected a digit after '.'"

# ---------------------------------------------------------------------------------------------------------
# CSS
case_exact "css: descendant space before ':' kept" '' text/css 'a :hover , b:focus > c { color: red ; }' \
	'a :hover,b:focus>c{color:red}'
case_exact "css: space before ':' kept in selectors, dropped in declarations" '' text/css \
	'a :hover { color : red ; b : c } @page :first { margin : 1in } .x { & :focus { d : e } }\n:root{ --v : 1 }' \
	'a :hover{color:red;b:c}@page :first{margin:1in}.x{& :focus{d:e}}:root{--v:1}'
case_exact "css: ':' in parentheses keeps its space" '' text/css ':is( a :hover ) , @media ( min-width : 1px ) {}' \
	':is(a :hover),@media (min-width :1px){}'
case_exact "css: combinators" '' text/css 'a + b ~ c > d e , f {x:y}' 'a+b~c>d e,f{x:y}'
case_exact "css: calc keeps spaces around + and -" '' text/css \
	'.a { width : calc( 100% - 2 * 10px ) ; margin: calc(1px + -2px) calc( (1px + 2px) * 3 ) }' \
	'.a{width:calc(100% - 2 * 10px);margin:calc(1px + -2px) calc((1px + 2px) * 3)}'
case_exact "css: comments removed, /*! kept" '' text/css '/* x */ a { b : c } /* y */\n/*! licence */\nd{e:f}' \
	'a{b:c}/*! licence */ d{e:f}'
case_exact "css: a comment is not whitespace" '' text/css '.a/* x */.b , a/**/b , c /* y */ d , e/* z */{ f : g/**/h }' \
	'.a/**/.b,a/**/b,c d,e{f:g/**/h}'
case_exact "css: strings untouched" '' text/css 'a { content: "  /* not a comment */  " ; font-family: '"'"'A  B'"'"' , serif }' \
	'a{content:"  /* not a comment */  ";font-family:'"'"'A  B'"'"',serif}'
case_exact "css: unquoted url() untouched" '' text/css 'a { background: url( http://x.test/a//b/*c*/d.png ) no-repeat }' \
	'a{background:url(http://x.test/a//b/*c*/d.png) no-repeat}'
case_exact "css: quoted url()" '' text/css 'a { background : URL( "a b.png" ) }' 'a{background:URL("a b.png")}'
case_exact "css: media query keeps 'and ('" '' text/css '@media screen and (max-width: 100px) , print {\n  a { color : red }\n}' \
	'@media screen and (max-width:100px),print{a{color:red}}'
case_exact "css: !important" '' text/css 'a { color: red ! important; }' 'a{color:red!important}'
case_exact "css: hex escape keeps its space" '' text/css '.a\\31 0 , .b\\ c { x : y }' '.a\\31 0,.b\\ c{x:y}'
case_exact "css: signed number is not a combinator" '' text/css 'a { margin: 0 +1px -2px }' 'a{margin:0 +1px -2px}'
case_exact "css: nth-child keeps its spaces" '' text/css 'li:nth-child( 2n + 1 ) { x: y }' 'li:nth-child(2n + 1){x:y}'
case_exact "css: @charset and @import" '' 'text/css; charset=utf-8' '@charset "utf-8";\n@import url(a.css) screen;\n a{x:y}' \
	'@charset "utf-8";@import url(a.css) screen;a{x:y}'
case_exact "css: empty rule and double semicolons" '' text/css 'a { }\nb { c:d;; }' 'a{}b{c:d;}'
case_exact "css: byte order mark kept" '' text/css '\xef\xbb\xbfa { b : c }' '\xef\xbb\xbfa{b:c}'
case_exact "css: keyframes" '' text/css '@keyframes spin { from { transform: rotate( 0deg ) } to { transform: rotate(360deg) } }' \
	'@keyframes spin{from{transform:rotate(0deg)}to{transform:rotate(360deg)}}'
case_status "css: unterminated comment" '' text/css 'a{b:c} /* oops' 422 "unterminated comment (no closing */) at byte 7"
case_status "css: unterminated string" '' text/css 'a{content:"abc}\nb{}' 422 "unterminated string"
case_status "css: unterminated url(" '' text/css 'a{background:url(x.png}' 422 "unterminated url("

# ---------------------------------------------------------------------------------------------------------
# JavaScript
case_exact "js: whitespace and comments" '' text/javascript \
	'// comment\nvar a = 1 ; /* block */ var b = a  +  2 ;\n' 'var a=1;var b=a+2;'
case_exact "js: /*! comment kept" '' application/javascript '/*! licence */\nvar a = 1;' '/*! licence */var a=1;'
case_exact "js: newline kept where ASI applies" '' text/javascript 'let a = 1\nlet b = 2\n' 'let a=1\nlet b=2'
case_exact "js: return newline kept" '' text/javascript 'function f() {\n  return\n    1\n}' 'function f(){return\n1}'
case_exact "js: newline before ++ kept" '' text/javascript 'a = b\n++c' 'a=b\n++c'
case_exact "js: newline before ( [ + dropped (no ASI there)" '' text/javascript 'a = b\n(c)\nd = e\n+f\ng = h()\n[0]' \
	'a=b(c)\nd=e+f\ng=h()[0]'
case_exact "js: newline kept after restricted keywords" '' text/javascript \
	'function* f() { yield\n(a); return\n[b] }\nfor(;;) { break\n(c); continue\n+d }' \
	'function*f(){yield\n(a);return\n[b]}\nfor(;;){break\n(c);continue\n+d}'
case_exact "js: newline kept after postfix ++ before (" '' text/javascript 'a++\n(b)' 'a++\n(b)'
case_exact "js: newline kept after an arrow function body" '' text/javascript \
	'f = () => { return 1 }\n[a, b].forEach(g)\nh = x => {}\n(y)\nk = x => {}\n+1' \
	'f=()=>{return 1}\n[a,b].forEach(g)\nh=x=>{}\n(y)\nk=x=>{}\n+1'
case_exact "js: class field then computed key" '' text/javascript 'class A { a\n[b] = 1 }' 'class A{a\n[b]=1}'
case_exact "js: newline dropped before an operator" '' text/javascript 'x = a\n  .b\n  + c\n  * d' 'x=a.b+c*d'
case_exact "js: newline dropped after an operator" '' text/javascript 'x = a +\n  b ||\n  c' 'x=a+b||c'
case_exact "js: newline after a statement block dropped" '' text/javascript 'if (a) {\n  b()\n}\nc()' 'if(a){b()}c()'
case_exact "js: newline after a function expression kept" '' text/javascript 'var f = function () {}\nf()' \
	'var f=function(){}\nf()'
case_exact "js: a + +b, a - -b, a+ ++b" '' text/javascript 'x = a + +b; y = a - -b; z = a + ++b; w = a - --b; v = a++ + b' \
	'x=a+ +b;y=a- -b;z=a+ ++b;w=a- --b;v=a++ +b'
case_exact "js: keywords keep their space" '' text/javascript 'return typeof x === "y" ? a in b : c instanceof D' \
	'return typeof x==="y"?a in b:c instanceof D'
case_exact "js: no space needed before strings and brackets" '' text/javascript 'return "x"; return [ 1 ]; return { a : 1 }' \
	'return"x";return[1];return{a:1}'
case_exact "js: regex vs division" '' text/javascript 'x = a / b / c; y = /ab+c/gi.test(s); z = (1) / 2; if (x) /re/.test(y)' \
	'x=a/b/c;y=/ab+c/gi.test(s);z=(1)/2;if(x)/re/.test(y)'
case_exact "js: '/' inside a regex class" '' text/javascript 'r = /[/]+ x/g ; q = 1' 'r=/[/]+ x/g;q=1'
case_exact "js: regex after return and typeof" '' text/javascript 'return /a b/.test(s) || typeof /x/' 'return/a b/.test(s)||typeof/x/'
case_exact "js: division after an object literal, regex after a block" '' text/javascript \
	'x = {} / 2\n{}\n/re/.test(s)' 'x={}/2\n{}\n/re/.test(s)'
case_exact "js: regex after a statement block" '' text/javascript 'if (a) {}\n/re/.test(s)' 'if(a){}/re/.test(s)'
case_exact "js: template literal with nested \${}" '' text/javascript \
	't = `a  ${ b + `c ${ d } //x` }  e /* y */` ;' 't=`a  ${b+`c ${d} //x`}  e /* y */`;'
case_exact "js: object literal inside a template substitution" '' text/javascript 'x = `${ { a : 1 }.a } }`' 'x=`${{a:1}.a} }`'
case_exact "js: number then member" '' text/javascript 'x = 1 .toString() + 1.5 .toFixed()' 'x=1 .toString()+1.5 .toFixed()'
case_exact "js: regex followed by a keyword" '' text/javascript 'x = /a/ in o' 'x=/a/ in o'
case_exact "js: number ending in '.' followed by a keyword" '' text/javascript 'x = 5. in o' 'x=5. in o'
case_exact "js: no </script or <!-- created" '' text/javascript 'x = a < /script>/.test(s) ; y = a < !--b' \
	'x=a< /script>/.test(s);y=a< !--b'
case_exact "js: division then comment-like regex" '' text/javascript 'x = a / /re/.source.length' 'x=a/ /re/.source.length'
case_exact "js: keyword as property name" '' text/javascript 'x = a.if\nnew Foo' 'x=a.if\nnew Foo'
case_exact "js: strings untouched" '' text/javascript "s = 'a  // b' + \"c /* d */\" + 'e\\\\\\\\'" "s='a  // b'+\"c /* d */\"+'e\\\\\\\\'"
case_exact "js: line continuation in a string" '' text/javascript 's = "a\\\n  b" ;' 's="a\\\n  b";'
case_exact "js: HTML-like comments" '' text/javascript '<!-- hide\nx = 1\n--> done\ny = 2' 'x=1\ny=2'
case_exact "js: hashbang kept" '' text/javascript '#!/usr/bin/env node\n  x = 1 ;' '#!/usr/bin/env node\nx=1;'
case_exact "js: optional chaining vs ternary with a number" '' text/javascript 'x = a ? .5 : b ?. c' 'x=a?.5:b?.c'
case_exact "js: private names and classes" '' text/javascript 'class A { #x = 1 ; static m ( ) { return #x in this } }' \
	'class A{#x=1;static m(){return #x in this}}'
case_exact "js: UTF-8 identifiers and strings" '' 'text/javascript; charset=utf-8' 'var \xc3\xa9t\xc3\xa9 = "\xe2\x82\xac" ;' \
	'var \xc3\xa9t\xc3\xa9="\xe2\x82\xac";'
case_status "js: unterminated string" '' text/javascript 'var s = "abc\nx' 422 "unterminated string literal"
case_status "js: unterminated comment" '' text/javascript 'x = 1 /* oops' 422 "unterminated comment (no closing */) at byte 6"
case_status "js: unterminated regex" '' text/javascript 'x = /abc\n' 422 "unterminated regular expression literal"
case_status "js: unterminated template" '' text/javascript 'x = `abc ${ y }' 422 "unterminated template literal"
case_status "js: unterminated nested template" '' text/javascript 'x = `${ `a` ' 422 "unterminated template literal"

# ---------------------------------------------------------------------------------------------------------
# HTML
case_exact "html: whitespace collapsed, removed around blocks" '' text/html \
	'<div>\n  <p>  Hello   <b>big</b>   world  </p>\n</div>\n' '<div><p>Hello <b>big</b> world</p></div>'
case_exact "html: space between inline elements kept" '' text/html '<span>a</span>   \n  <span>b</span>' \
	'<span>a</span> <span>b</span>'
case_exact "html: <pre> untouched" '' text/html '<div>\n <pre>\n  a   b\n\n  c </pre>\n</div>' \
	'<div><pre>\n  a   b\n\n  c </pre></div>'
case_exact "html: nested <pre> untouched to the outer end" '' text/html '<pre> a <pre> b </pre>  c  </pre>  <p> d </p>' \
	'<pre> a <pre> b </pre>  c  </pre><p>d</p>'
case_exact "html: <textarea> untouched" '' text/html '<p>a  <textarea>  x  <b>  </textarea>  b</p>' \
	'<p>a <textarea>  x  <b>  </textarea> b</p>'
case_exact "html: comments removed" '' text/html '<p>a <!-- c --> b<!----></p>' '<p>a b</p>'
case_exact "html: conditional comments kept" '' text/html \
	'<head>\n  <!--[if lt IE 9]><script src="x.js"></script><![endif]-->\n  <!--[if !IE]><!--> <p>x</p> <!--<![endif]-->\n</head>' \
	'<head><!--[if lt IE 9]><script src="x.js"></script><![endif]--><!--[if !IE]><!--><p>x</p><!--<![endif]--></head>'
case_exact "html: inline script minified" '' text/html '<script>\n  var a = 1 ;\n  // c\n  alert( a );\n</script>' \
	'<script>var a=1;alert(a);</script>'
case_exact "html: module script minified" '' text/html '<script type="module"> import { a } from "./a.js" ; a( ) </script>' \
	'<script type="module">import{a}from"./a.js";a()</script>'
case_exact "html: inline style minified" '' text/html '<style>\n a { color : red ; }\n</style>' '<style>a{color:red}</style>'
case_exact "html: ld+json script through the JSON minifier" '' text/html \
	'<script type="application/ld+json"> { "a" : [ 1 , 2 ] } </script>' \
	'<script type="application/ld+json">{"a":[1,2]}</script>'
case_exact "html: text/template script untouched" '' text/html \
	'<script type="text/template">  <b> x </b>  </script>' '<script type="text/template">  <b> x </b>  </script>'
case_exact "html: broken inline script left as is" '' text/html '<p> a </p><script> x = "oops </script>' \
	'<p>a</p><script> x = "oops </script>'
case_exact "html: escaped <script> section kept as is, its inner </script> does not end it" '' text/html \
	'<script>\n<!--\ndocument.write("<script>x()</script>")\n-->\n</script>  <p> a </p>' \
	'<script>\n<!--\ndocument.write("<script>x()</script>")\n-->\n</script><p>a</p>'
case_exact "html: unclosed formatting element keeps whitespace as one space" '' text/html \
	'<h2><a id="x"/>T</h2>\n  <p> a </p>\n<div><b>b</b></div>\n<p>c</p>' '<h2><a id="x"/>T</h2> <p> a </p> <div><b>b</b></div> <p>c</p>'
case_exact "html: formatting elements closed again: whitespace removed" '' text/html \
	'<h2><a id="x">T</a></h2>\n  <p> <b>a</b> </p>' '<h2><a id="x">T</a></h2><p><b>a</b></p>'
case_exact "html: attributes" '' text/html '<a   href = "x  y"\n   class=c  >t</a><br />' '<a href="x  y" class=c>t</a><br/>'
case_exact "html: unquoted value before />" '' text/html '<img src=x.png />' '<img src=x.png />'
case_exact "html: document" '' 'text/html; charset=utf-8' \
	'<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>  A \n B  </title>\n</head>\n<body>\n<p>x &amp; y</p>\n</body>\n</html>\n' \
	'<!DOCTYPE html><html><head><meta charset="utf-8"><title>A B</title></head><body><p>x &amp; y</p></body></html>'
case_exact "html: text with '<'" '' text/html '<p>a  <  b</p>' '<p>a < b</p>'
case_exact "html: byte order mark kept" '' text/html '\xef\xbb\xbf<p> x </p>' '\xef\xbb\xbf<p>x</p>'
case_status "html: unterminated comment" '' text/html '<p>a</p><!-- oops' 422 "unterminated comment"
case_status "html: unterminated tag" '' text/html '<p class="a>b</p>' 422 "unterminated tag <p"

# ---------------------------------------------------------------------------------------------------------
# Arguments and types
case_exact "type from arg overrides Content-Type" '{"type":"css"}' 'text/plain; charset=utf-8' 'a { b : c }' 'a{b:c}'
case_exact "empty arg object" '{}' text/css 'a { b : c }' 'a{b:c}'
case_status "unsupported Content-Type" '' image/png 'x' 415 'unsupported Content-Type "image/png"'
case_status "no Content-Type and no type" '' '' 'x' 415 'unsupported Content-Type ""'
case_status "invalid arg JSON" '{"type":' text/css 'a{}' 400 "arg is not valid JSON"
case_status "unknown arg key" '{"level":3}' text/css 'a{}' 400 'unknown key "level"'
case_status "unknown type in arg" '{"type":"xml"}' text/css 'a{}' 400 '"type" at byte 8 must be one of'
if [ "$MODE" = sandbox ]; then
	: >"$TMP/empty"
	run_minify GET '' '' "$TMP/empty"
	if [ "$STATUS" = 400 ] && [[ "$FAILED" == *POST* ]]; then pass "GET answers 400"; else fail "GET answers 400" "status $STATUS, X-Failed: $FAILED"; fi
	# on_error: a request that runs past its time limit is answered with the original bytes and X-Failed.
	# About 15 MB of JavaScript takes some 150 ms to minify, far over the 50 ms limit, while reaching the
	# handler takes a few ms (a wide margin on both sides: the machines running this are shared).
	node -e 'process.stdout.write("a = b + c; // x\n".repeat(900000))' >"$TMP/big.js"
	set +e
	"$KVMRUN" --method POST --body "$TMP/big.js" --content-type text/javascript --max-request-time 0.05 \
		--out "$TMP/out" --json "$TMP/result.json" "$PROGRAM" >"$TMP/err" 2>&1
	set -e
	if cmp -s "$TMP/out" "$TMP/big.js" && grep -q '"X-Failed: minify failed' "$TMP/result.json" &&
		grep -q '"status": 200' "$TMP/result.json"; then
		pass "on_error answers the original body with X-Failed after a timeout"
	else
		fail "on_error answers the original body with X-Failed after a timeout" "$(head -c 300 "$TMP/result.json")"
	fi
else
	echo "skip   GET answers 400 (sandbox mode only)"
	echo "skip   on_error answers the original body (sandbox mode only)"
fi

# ---------------------------------------------------------------------------------------------------------
# Real files
run_minify POST '' 'application/json; charset=utf-8' "$DATA/twitter.json"
cp "$TMP/out" "$TMP/twitter.min.json"
check "twitter.json: status 200" test "$STATUS" = 200
check "twitter.json: smaller" smaller "$DATA/twitter.json" "$TMP/twitter.min.json" 80
check "twitter.json: equal as a value" json_equal "$DATA/twitter.json" "$TMP/twitter.min.json"
check "twitter.json: idempotent" bash -c "'$PROGRAM' '' application/json <'$TMP/twitter.min.json' 2>/dev/null | cmp -s - '$TMP/twitter.min.json'"

run_minify POST '' 'application/javascript; charset=utf-8' "$DATA/jquery.js"
cp "$TMP/out" "$TMP/jquery.min.js"
check "jquery.js: status 200" test "$STATUS" = 200
check "jquery.js: Content-Type kept" test "$CTYPE" = 'application/javascript; charset=utf-8'
check "jquery.js: smaller" smaller "$DATA/jquery.js" "$TMP/jquery.min.js" 55
check "jquery.js: node --check" node --check "$TMP/jquery.min.js"
check "jquery.js: same syntax tree (acorn)" node "$JS/js-ast-compare.js" "$DATA/jquery.js" "$TMP/jquery.min.js"
check "jquery.js: licence comment kept" grep -q '^/\*! *$' "$TMP/jquery.min.js"
check "jquery.js: same behaviour under a DOM" same_output "$DATA/jquery.js" "$TMP/jquery.min.js" "$JS/jquery-harness.js"

cp "$JS/behaviour.js" "$TMP/behaviour.js"
run_minify POST '' text/javascript "$TMP/behaviour.js"
cp "$TMP/out" "$TMP/behaviour.min.js"
check "behaviour.js: smaller" smaller "$TMP/behaviour.js" "$TMP/behaviour.min.js" 90
check "behaviour.js: node --check" node --check "$TMP/behaviour.min.js"
check "behaviour.js: same syntax tree (acorn)" node "$JS/js-ast-compare.js" "$TMP/behaviour.js" "$TMP/behaviour.min.js"
check "behaviour.js: same output (ASI, regex, templates, spacing)" same_output "$TMP/behaviour.js" "$TMP/behaviour.min.js"

run_minify POST '' text/css "$DATA/bootstrap.css"
cp "$TMP/out" "$TMP/bootstrap.min.css"
check "bootstrap.css: status 200" test "$STATUS" = 200
check "bootstrap.css: smaller" smaller "$DATA/bootstrap.css" "$TMP/bootstrap.min.css" 85
check "bootstrap.css: same rules (node-css)" node "$JS/css-compare.js" "$DATA/bootstrap.css" "$TMP/bootstrap.min.css"
check "bootstrap.css: idempotent" bash -c "'$PROGRAM' '' text/css <'$TMP/bootstrap.min.css' 2>/dev/null | cmp -s - '$TMP/bootstrap.min.css'"

run_minify POST '' 'text/html; charset=utf-8' "$DATA/im-architecture.html"
cp "$TMP/out" "$TMP/im.min.html"
check "im-architecture.html: status 200" test "$STATUS" = 200
check "im-architecture.html: smaller" smaller "$DATA/im-architecture.html" "$TMP/im.min.html" 99
check "im-architecture.html: <pre> identical" pre_identical "$DATA/im-architecture.html" "$TMP/im.min.html"
check "im-architecture.html: same DOM (domino)" node "$JS/html-compare.js" "$DATA/im-architecture.html" "$TMP/im.min.html"
check "im-architecture.html: inline script minified" grep -q '<script>window.jQuery||document.write(' "$TMP/im.min.html"
check "im-architecture.html: no comments left" bash -c "! grep -q '<!-- Javascript assets -->' '$TMP/im.min.html'"

# Robustness: cut the corpus files at arbitrary points; every answer is a clean 200 or 422 (or 415/400), never a
# crash, and a 200 body is never larger than its input.
for entry in twitter.json:application/json jquery.js:text/javascript bootstrap.css:text/css \
	im-architecture.html:text/html; do
	file=${entry%%:*}
	ctype=${entry#*:}
	size=$(stat -c %s "$DATA/$file")
	bad=""
	for cut in 1 7 97 1009 $((size / 3)) $((size / 2 + 13)) $((size - 5)); do
		head -c "$cut" "$DATA/$file" >"$TMP/cut"
		run_minify POST '' "$ctype" "$TMP/cut"
		case "$STATUS" in
		200) [ "$(stat -c %s "$TMP/out")" -le "$cut" ] || bad="$bad $cut:larger" ;;
		422) [ -n "$FAILED" ] || bad="$bad $cut:no-X-Failed" ;;
		*) bad="$bad $cut:status-$STATUS($FAILED)" ;;
		esac
	done
	if [ -z "$bad" ]; then pass "$file cut at 7 points: 200 or 422"; else fail "$file cut at 7 points" "$bad"; fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
