#!/usr/bin/env bash
# Checks the SDK natively: kvm_api.h builds as C11 and C++ in two translation units linked together (the weak
# call stubs must not clash), each API stub is `mov $N,%eax` then the API page store or `out %eax,$0`, and the example
# runs natively and in the sandbox, with calls through the API page and, built with KVM_API_OUT_ONLY, through `out`. Run from src-native/ (as `make test` does).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
kvmrun=${KVMRUN:-$BUILD/bin/kvmrun} # KVMRUN overrides, e.g. a kvmrun built elsewhere
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
check() { # name, then a command that must succeed
	local name=$1; shift
	if "$@" >"$tmp/out" 2>&1; then echo "PASS $name"; passed=$((passed + 1))
	else echo "FAIL $name: $(head -c 400 "$tmp/out")"; failed=$((failed + 1)); fi
}
cat >"$tmp/a.c" <<'C'
#include "kvm_api.h"
void from_cxx(void);
int main(void) { if (kvm_is_sandboxed()) { from_cxx(); wait_for_requests(); } return 0; }
C
cat >"$tmp/b.cpp" <<'C'
#include "kvm_api.h"
static void on_get(const char *, const char *) { kvm_respond_str(200, "text/plain", "x"); }
extern "C" void from_cxx(void) { struct meminfo m; get_meminfo(&m); sys_log("x", 1); kvm_set_get_handler(on_get); }
C
check "kvm_api.h compiles as C11 (-Wpedantic)" gcc -std=c11 -O2 -Wall -Wextra -Wpedantic -Werror -Isdk -c "$tmp/a.c" -o "$tmp/a.o"
check "kvm_api.h compiles as C++17 (-Wpedantic)" g++ -std=c++17 -O2 -Wall -Wextra -Wpedantic -Werror -Isdk -c "$tmp/b.cpp" -o "$tmp/b.o"
check "two translation units link (weak stubs)" g++ -static -o "$tmp/ab" "$tmp/a.o" "$tmp/b.o"
check "linked program runs natively" "$tmp/ab"
# Each stub: mov $N,%eax, then the store to the API page or `out %eax,$0` (bytes e7 00), each followed by ret.
expect_stub() { # symbol number
	local body
	body=$(objdump -d --no-show-raw-insn "$tmp/ab" | awk -v s="<$1>:" '$2==s{f=1;next} f&&NF==0{exit} f{$1=""; print}')
	grep -qi "mov  *\$$2,%eax" <<<"$body" && grep -q "out  *%eax,\$0x0" <<<"$body" &&
		grep -q "mov  *%eax,(%r11)" <<<"$body" || { echo "$1: got: $body"; return 1; }
}
check "wait_for_requests stub: mov \$0x10001,%eax; API page store or out" expect_stub wait_for_requests 0x10001
check "get_meminfo stub: mov \$0x10a00,%eax; API page store or out" expect_stub get_meminfo 0x10a00
check "sys_log stub: mov \$0x7f000,%eax; API page store or out" expect_stub sys_log 0x7f000
# Which path a program takes: the API page under kvmfilter, `out` when built with KVM_API_OUT_ONLY.
cat >"$tmp/path.c" <<'C'
#include "kvm_api.h"
static void on_get(const char *url, const char *arg)
{
	(void)url, (void)arg;
	char text[64];
	snprintf(text, sizeof text, "page=%lx", (unsigned long)kvm_api_page_address);
	kvm_respond_str(200, "text/plain", text);
}
int main(void) { kvm_set_get_handler(on_get); wait_for_requests(); return 0; }
C
check "a program using the API page builds" gcc -std=c11 -O2 -Wall -Wextra -Werror -Isdk -static -o "$tmp/path-page" "$tmp/path.c"
check "a program using the API page builds with musl" musl-gcc -std=c11 -O2 -Wall -Wextra -Werror -Isdk -static -o "$tmp/path-musl" "$tmp/path.c"
check "a program using out builds" gcc -std=c11 -O2 -Wall -Wextra -Werror -Isdk -DKVM_API_OUT_ONLY -static -o "$tmp/path-out" "$tmp/path.c"
# The examples of docs/writing-programs.md, with glibc and musl.
for example in shared_counter storage_notes countdown fetch_proxy assemble line_echo; do
	check "sdk/examples/$example.c builds" gcc -std=c11 -O2 -Wall -Wextra -Werror -Isdk -static -o "$tmp/$example" "sdk/examples/$example.c"
	check "sdk/examples/$example.c builds with musl" musl-gcc -std=c11 -O2 -Wall -Wextra -Werror -Isdk -static -o "$tmp/$example-musl" "sdk/examples/$example.c"
done
# The C++ example: containers, algorithms and exceptions in a handler.
check "sdk/examples/word_count.cpp builds (C++17, static)" g++ -std=c++17 -O2 -Wall -Wextra -Werror -Isdk -static \
	-o "$tmp/word_count" sdk/examples/word_count.cpp
printf 'the cat and the dog and the bird\n' >"$tmp/words.txt"
words='the 3,and 2,bird 1,cat 1,dog 1,'
check "word_count counts natively" bash -c "[[ \"\$('$tmp/word_count' <'$tmp/words.txt' | tr '\n' ,)\" == '$words' ]]"
# The Rust binding (sdk/rust/kvm.rs) and its example, built with the rustc on PATH (Debian's 1.63 in CI).
check "sdk/examples/json_minify.rs builds (Rust, static)" rustc --edition 2021 -O -C target-feature=+crt-static \
	-o "$tmp/json_minify" sdk/examples/json_minify.rs
printf '{ "a" : [1, 2.5e3, "x\\u0041 y" ],\n  "b":{ } , "c": null }\n' >"$tmp/doc.json"
minified='{"a":[1,2.5e3,"x\u0041 y"],"b":{},"c":null}'
check "json_minify minifies natively" bash -c "[[ \"\$('$tmp/json_minify' <'$tmp/doc.json')\" == '$minified' ]]"
printf '{"a": [1,}' >"$tmp/bad.json"
check "json_minify names what is wrong natively" bash -c "! '$tmp/json_minify' <'$tmp/bad.json' 2>'$tmp/why' &&
	grep -q 'invalid JSON at byte 9: expected a value' '$tmp/why'"
# The Go binding (sdk/go/kvm, no cgo) and its programs, built with the go on PATH (Debian's 1.19 in CI).
gobuild() { # output, package
	(cd sdk/go && CGO_ENABLED=0 GOCACHE="$tmp/gocache" GOPATH="$tmp/gopath" GOFLAGS=-mod=mod go build -o "$1" "$2")
}
check "sdk/go/examples/json_format builds (Go, static, no cgo)" gobuild "$tmp/json_format" ./examples/json_format
check "sdk/go/tests/runtime builds (Go)" gobuild "$tmp/goruntime" ./tests/runtime
check "sdk/go/examples/cgo_handler builds (Go with cgo over kvm_api.h, static)" bash -c "cd sdk/go && CGO_ENABLED=1 \
	GOCACHE='$tmp/gocache' GOPATH='$tmp/gopath' go build -ldflags '-linkmode external -extldflags -static' \
	-o '$tmp/cgo_handler' ./examples/cgo_handler"
check "json_format compacts natively" bash -c "[[ \"\$('$tmp/json_format' compact <'$tmp/doc.json')\" == '$minified' ]]"
hello="$BUILD/sdk/hello"
check "hello greets natively" bash -c "[[ \"\$('$hello')\" == 'Hello from hello (native)' ]]"
check "hello echo copies stdin" bash -c "[[ \"\$(printf 'abc\\n' | '$hello' echo)\" == 'abc' ]]"
if [[ -x "$kvmrun" ]]; then
	printf 'ping' >"$tmp/body"
	check "hello GET in the sandbox" bash -c "'$kvmrun' --method GET --out '$tmp/get' '$hello' && [[ \"\$(cat '$tmp/get')\" == 'Hello from hello' ]]"
	check "C and C++ units together in the sandbox" bash -c "'$kvmrun' --method GET --out '$tmp/ab.out' '$tmp/ab' && [[ \"\$(cat '$tmp/ab.out')\" == x ]]"
	check "calls through the API page in the sandbox" bash -c "'$kvmrun' --out '$tmp/page.out' '$tmp/path-page' && [[ \"\$(cat '$tmp/page.out')\" == page=ff000 ]]"
	check "calls through the API page in the sandbox (musl)" bash -c "'$kvmrun' --out '$tmp/musl.out' '$tmp/path-musl' && [[ \"\$(cat '$tmp/musl.out')\" == page=ff000 ]]"
	check "calls through out in the sandbox (KVM_API_OUT_ONLY)" bash -c "'$kvmrun' --out '$tmp/out.out' '$tmp/path-out' && [[ \"\$(cat '$tmp/out.out')\" == page=0 ]]"
	check "shared_counter counts across requests" bash -c "[[ \"\$('$kvmrun' --shared-memory 1 --arg x --arg x --arg x '$tmp/shared_counter' 2>/dev/null | tr '\n' ,)\" == 1,2,3, ]]"
	check "storage_notes keeps notes in storage (musl)" bash -c "[[ \"\$('$kvmrun' --storage --arg add:one --arg add:two --arg list '$tmp/storage_notes-musl' 2>/dev/null | tr '\n' ,)\" == '4 bytes,8 bytes,one,two,,' ]]"
	check "countdown streams its lines" bash -c "[[ \"\$('$kvmrun' '$tmp/countdown-musl' 2>/dev/null | tr '\n' ,)\" == 9,8,7,6,5,4,3,2,1, ]]"
	check "word_count (C++) counts in the sandbox" bash -c "[[ \"\$('$kvmrun' --method POST --body '$tmp/words.txt' '$tmp/word_count' | tr '\n' ,)\" == '$words' ]]"
	printf '' >"$tmp/empty.txt"
	check "word_count (C++) answers 400 from a caught exception" bash -c "'$kvmrun' --fail --method POST \
		--body '$tmp/empty.txt' '$tmp/word_count' >'$tmp/wc.out' 2>&1; [[ \$? -eq 3 ]] && grep -q 'no words' '$tmp/wc.out'"
	check "json_minify (Rust) minifies in the sandbox" bash -c "[[ \"\$('$kvmrun' --method POST --body '$tmp/doc.json' '$tmp/json_minify')\" == '$minified' ]]"
	check "json_minify (Rust) answers 400 for bad JSON in the sandbox" bash -c "'$kvmrun' --fail --method POST \
		--body '$tmp/bad.json' '$tmp/json_minify' >'$tmp/bad.out' 2>&1; [[ \$? -eq 3 ]] && grep -q 'byte 9' '$tmp/bad.out'"
	check "line_echo answers lines over a taken-over connection until quit" bash -c "[[ \"\$(printf 'hi there\\nquit\\nunheard\\n' |
		'$kvmrun' --connection --remote 10.0.0.1:4 '$tmp/line_echo' 2>/dev/null | tr '\\n' ,)\" == 'hello 10.0.0.1:4, send lines; quit ends,HI THERE,bye,' ]]"
	check "line_echo gets lines in pieces (musl)" bash -c "[[ \"\$( (printf 'ab'; sleep 0.2; printf 'c\\nd'; sleep 0.2; printf 'e\\n') |
		'$kvmrun' --connection '$tmp/line_echo-musl' 2>/dev/null | tr '\\n' ,)\" == 'hello stdin, send lines; quit ends,ABC,DE,' ]]"
	# Go: its runtime reserves address space, hence 1 GiB of (untouched, free) memory.
	check "json_format (Go) compacts in the sandbox" bash -c "[[ \"\$('$kvmrun' --max-memory 1024 --method POST --body '$tmp/doc.json' \
		--arg compact '$tmp/json_format' 2>/dev/null)\" == '$minified' ]]"
	check "json_format (Go) answers 400 naming what is wrong" bash -c "'$kvmrun' --fail --max-memory 1024 --method POST \
		--body '$tmp/bad.json' --json '$tmp/go-bad.json' '$tmp/json_format' >/dev/null 2>&1; [[ \$? == 3 ]] &&
		grep -q 'X-Failed: invalid character' '$tmp/go-bad.json'"
	for go_check in goroutines gc sleep headers; do
		check "the Go runtime in the sandbox: $go_check" bash -c "[[ \"\$('$kvmrun' --max-memory 1024 --header 'X-Test: go' \
			--arg $go_check '$tmp/goruntime' 2>/dev/null)\" == '$go_check ok' ]]"
	done
	check "cgo_handler (the VMOD's Go style: a Go handler called from C) answers each request from the frozen state" \
		bash -c "[[ \"\$('$kvmrun' --max-memory 1024 --url /x --arg a --arg b '$tmp/cgo_handler' 2>/dev/null | tr '\\n' ,)\" == \
		'cgo handler: /x a 1,cgo handler: /x b 1,' ]]"
	check "the Go runtime in the sandbox: each request starts from the frozen state" bash -c "[[ \"\$('$kvmrun' \
		--max-memory 1024 --arg state --arg state --arg state '$tmp/goruntime' 2>/dev/null | tr '\\n' ,)\" == 'state ok,state ok,state ok,' ]]"
	check "assemble without a server answering self-requests notes -EPERM for each part" bash -c "[[ \"\$('$kvmrun' --arg /a,/b '$tmp/assemble' 2>/dev/null)\" == \$'<!-- /a: error -1 -->\\n<!-- /b: error -1 -->' ]]"
	# fetch_proxy against a local origin (python3's http.server on 127.0.0.1), allowed by its library's egress.
	mkdir -p "$tmp/www"
	printf 'fetched!' >"$tmp/www/page.txt"
	source tests/http-origin.sh
	start_origin "$tmp/www"
	port=$origin_port
	printf '{ "fetch_proxy": { "filename": "fetch_proxy-musl", "egress": { "hosts": ["127.0.0.1"], "ports": [%s], "addresses": ["127.0.0.1"] } } }' \
		"$port" >"$tmp/library.json"
	check "fetch_proxy answers what the origin sent" bash -c "[[ \"\$('$kvmrun' --library '$tmp/library.json' --arg http://127.0.0.1:$port/page.txt fetch_proxy 2>/dev/null)\" == 'fetched!' ]]"
	check "fetch_proxy answers 502 for a host its policy does not list" bash -c "'$kvmrun' --fail --library '$tmp/library.json' \
		--arg http://localhost:$port/page.txt fetch_proxy >'$tmp/proxy.out' 2>&1; [[ \$? -eq 3 ]] && grep -q 'Operation not permitted' '$tmp/proxy.out'"
	stop_origin
	check "hello POST echo in the sandbox" bash -c "'$kvmrun' --method POST --body '$tmp/body' --content-type text/x-test --out '$tmp/post' '$hello' && cmp '$tmp/body' '$tmp/post'"
else
	echo "SKIP sandbox cases: $kvmrun does not exist yet"
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
