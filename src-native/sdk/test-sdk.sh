#!/usr/bin/env bash
# Checks the SDK natively: kvm_api.h builds as C11 and C++ in two translation units linked together (the weak
# call stubs must not clash), each API stub is exactly `mov $N,%eax; out %eax,$0; ret`, and the example runs
# natively. Run from src-native/ (as `make test` does).
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
# Each stub: b8 <imm32 little-endian> e7 00 c3
expect_stub() { # symbol number
	local bytes
	bytes=$(objdump -d "$tmp/ab" | awk -v s="<$1>:" '$2==s{f=1;next} f&&NF==0{exit} f{for(i=2;i<=NF;i++){if($i ~ /^[0-9a-f][0-9a-f]$/) printf "%s ", $i; else break}}')
	local n=$2
	local want
	want=$(printf 'b8 %02x %02x %02x %02x e7 00 c3 ' $((n & 255)) $(((n >> 8) & 255)) $(((n >> 16) & 255)) $(((n >> 24) & 255)))
	[[ "${bytes:0:${#want}}" == "$want" ]] || { echo "$1: got '$bytes', want '$want'"; return 1; }
}
check "wait_for_requests stub is mov \$0x10001,%eax; out; ret" expect_stub wait_for_requests 0x10001
check "get_meminfo stub is mov \$0x10A00,%eax; out; ret" expect_stub get_meminfo 0x10A00
check "sys_log stub is mov \$0x7F000,%eax; out; ret" expect_stub sys_log 0x7F000
hello="$BUILD/programs/hello"
check "hello greets natively" bash -c "[[ \"\$('$hello')\" == 'Hello from hello (native)' ]]"
check "hello echo copies stdin" bash -c "[[ \"\$(printf 'abc\\n' | '$hello' echo)\" == 'abc' ]]"
if [[ -x "$kvmrun" ]]; then
	printf 'ping' >"$tmp/body"
	check "hello GET in the sandbox" bash -c "'$kvmrun' --method GET --out '$tmp/get' '$hello' && [[ \"\$(cat '$tmp/get')\" == 'Hello from hello' ]]"
	check "C and C++ units together in the sandbox" bash -c "'$kvmrun' --method GET --out '$tmp/ab.out' '$tmp/ab' && [[ \"\$(cat '$tmp/ab.out')\" == x ]]"
	check "hello POST echo in the sandbox" bash -c "'$kvmrun' --method POST --body '$tmp/body' --content-type text/x-test --out '$tmp/post' '$hello' && cmp '$tmp/body' '$tmp/post'"
else
	echo "SKIP sandbox cases: $kvmrun does not exist yet"
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
