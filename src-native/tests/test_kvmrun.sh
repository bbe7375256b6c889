#!/usr/bin/env bash
# test_kvmrun.sh — kvmrun as a program author uses it: responses, failures, exit codes, --json,
# --repeat, --warmup, --ephemeral, --out, usage errors. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
KVMRUN=build/bin/kvmrun
G=build/tests/guests
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0
failed=0

check() { # check NAME COMMAND...: the command must succeed
    local name=$1
    shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $name"; fi
}

if [ ! -w /dev/kvm ] && [ "${REQUIRE_KVM:-}" != 1 ]; then
    echo "skipping kvmrun tests: /dev/kvm is not accessible"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi

# A GET: the body on stdout, exit 0, and the JSON fields.
out=$($KVMRUN --url /a --arg b --json "$T/get.json" $G/hello 2>"$T/err")
check "GET exit status 0" test $? -eq 0
check "GET body" test "$out" = "Hello from hello: url=/a arg=b"
check "JSON status" grep -q '"status": 200, "content_type": "text/plain", "headers": \[\], "body_bytes": 30, "error": null, "on_error_used": false' "$T/get.json"
check "JSON timings" grep -Eq '"timings": \{"boot_us": [1-9][0-9]*, "request_p50_us": [0-9]+, "request_p99_us": [0-9]+, "reset_p50_us": [0-9]+\}' "$T/get.json"
check "JSON exits of the request" grep -Eq '"exits": [1-9][0-9]*, "trap_exits": [0-9]+, "timings"' "$T/get.json"

# A POST with --body and --out.
printf 'posted bytes' >"$T/body"
$KVMRUN --body "$T/body" --content-type application/x-test --out "$T/out" --json "$T/post.json" $G/hello 2>/dev/null
check "POST exit status 0" test $? -eq 0
check "POST echoes the body into --out" cmp -s "$T/body" "$T/out"
check "POST content type" grep -q '"content_type": "application/x-test"' "$T/post.json"

# Headers reach a generic handler; response headers come back in the JSON.
$KVMRUN --header 'Accept: image/webp' --header 'X-A: 1' --out "$T/api" --json "$T/api.json" $G/api 2>/dev/null
check "headers passed" grep -q 'headers=2 accept=image/webp' "$T/api"
check "response headers in JSON" grep -q '"headers": \["X-Two: 2", "X-One: uno"\]' "$T/api.json"

# A sandbox failure: exit 2 and the error kind in the JSON.
$KVMRUN --arg null --json "$T/fail.json" $G/hostile 2>"$T/err"
check "failure exit status 2" test $? -eq 2
check "failure kind" grep -q '"error": {"kind": "MEMORY_FAULT", "message": "memory fault: NULL pointer dereference' "$T/fail.json"
check "failure on stderr" grep -q 'MEMORY_FAULT' "$T/err"
$KVMRUN --arg loop --max-request-time 0.2 --json "$T/loop.json" $G/hostile 2>/dev/null
check "timeout exit status 2" test $? -eq 2
check "timeout kind" grep -q '"kind": "TIMEOUT", "message": "the request ran longer than its limit of 200 ms"' "$T/loop.json"

# on_error answers: the program produced a response, so exit 0, with the error recorded.
$KVMRUN --body "$T/body" --arg crash --out "$T/orig" --json "$T/onerr.json" $G/onerror 2>/dev/null
check "on_error exit status 0" test $? -eq 0
check "on_error body is the original" cmp -s "$T/body" "$T/orig"
check "on_error in JSON" grep -q '"on_error_used": true' "$T/onerr.json"

# A sequence of requests (several --arg) on one program: its storage and its shared memory see them all.
out=$($KVMRUN --storage --arg add:5 --arg add:7 --arg total $G/storage 2>/dev/null)
check "a sequence reaches storage, in order" test "$out" = "total=105
total=112
total=112 resumed=0"
out=$($KVMRUN --shared-memory 2 --arg count --arg count --arg area $G/shared 2>/dev/null)
check "a sequence shares the shared memory area" test "$(echo "$out" | head -n 2 | tr '\n' ,)" = "1,2,"
check "--shared-memory sizes the area" grep -q "ptr=0x10200000 end=0x10400000" <<<"$out"
$KVMRUN --storage --arg add:1 --arg crash --arg total --out "$T/seq" $G/storage 2>"$T/seqerr"
check "a failure stops a sequence: exit 2" test $? -eq 2
check "the bodies before the failure are written" test "$(cat "$T/seq")" = "total=101"
check "the failure and where the sequence stopped are named" grep -q "in storage: memory fault" "$T/seqerr"
check "the stop is named" grep -q "the sequence stopped at request 2 (--arg 'crash')" "$T/seqerr"
check "--shared-memory needs MiB" test "$($KVMRUN --shared-memory 1.5 $G/hello 2>&1 >/dev/null; echo $?)" = "kvmrun: --shared-memory 1.5: expected a whole number of MiB
usage: kvmrun [--method M] [--url U] [--arg S]... [--content-type CT] [--body FILE]
              [--header 'N: V']... [--out FILE] [--repeat N] [--warmup N] [--json FILE]
              [--max-request-time S] [--max-boot-time S] [--max-memory MiB]
              [--max-request-memory MiB] [--ephemeral true|false] [--storage]
              [--shared-memory MiB] [--fail] PROGRAM
       kvmrun --library FILE [the options above] NAME
       kvmrun --connection [--remote ADDR] [--url U] [the limits above] PROGRAM|NAME
1"

# The VMOD's settings for Go programs: address_space is max_memory here (so a max_request_memory above the default
# max_memory is allowed), relocate_fixed_mmap only false.
printf '{ "p": { "filename": "%s", "address_space": 1536, "max_request_memory": 1400, "relocate_fixed_mmap": false },
	"q": { "filename": "%s", "relocate_fixed_mmap": true } }' "$PWD/$G/hello" "$PWD/$G/hello" >"$T/vmodgo.json"
check "address_space makes max_memory at least that" sh -c "$KVMRUN --library $T/vmodgo.json p >/dev/null 2>&1"
check "relocate_fixed_mmap true is refused, saying why" sh -c "$KVMRUN --library $T/vmodgo.json q 2>&1 |
	grep -q 'true (move fixed mappings elsewhere) is not supported'"

# --library FILE NAME: the program's file and settings from a program library (group first, comments allowed,
# paths relative to the library), the command line over them.
mkdir -p "$T/lib"
cp $G/storage "$T/lib/storage-guest"
cat >"$T/lib/library.json" <<'JSON'
{
  // a group, as in the VMOD
  "small": { "max_memory": 64, "max_request_time": 2.5, /* seconds */ "storage": true },
  "notes": { "group": "small", "filename": "storage-guest", "state_file": "notes.state", "concurrency": 4 }
}
JSON
out=$($KVMRUN --library "$T/lib/library.json" --arg type --arg add:4 --arg save notes 2>/dev/null)
check "--library: the program, its group's storage, its name" test "$out" = "request=0 storage=1 type=storage
total=104
saved=9"
check "--library: the state file relative to the library" test "$(cat "$T/lib/notes.state")" = "total=104"
check "--library: the state file read at the next start" test "$($KVMRUN --library "$T/lib/library.json" --arg total notes 2>/dev/null)" = "total=104 resumed=0"
$KVMRUN --library "$T/lib/library.json" --max-memory 16 --arg total notes 2>"$T/liberr"
check "--library: the command line wins (--max-memory 16 is refused)" grep -q "max_memory = 16777216" "$T/liberr"
$KVMRUN --library "$T/lib/library.json" notes-typo 2>"$T/liberr"
check "--library: an unknown program exits 1" test $? -eq 1
check "--library: an unknown program is named" grep -q 'has no program "notes-typo"' "$T/liberr"
cp $G/files "$T/lib/files-guest"
printf 'from the library' >"$T/lib/data.txt"
printf '{ "files": { "filename": "files-guest", "allowed_paths": [ { "real": "data.txt", "virtual": "/data/x" } ] } }' \
    >"$T/lib/files.json"
check "--library: allowed_paths, relative to the library" \
    test "$($KVMRUN --library "$T/lib/files.json" --arg read:/data/x files 2>/dev/null)" = "from the library"
printf '{ "files": { "filename": "files-guest", "allowed_paths": [ { "real": "/srv", "prefix": true } ] } }' \
    >"$T/lib/prefix.json"
$KVMRUN --library "$T/lib/prefix.json" files 2>"$T/liberr"
check "--library: an allowed path kvmrun cannot use is named" grep -q 'key "allowed_paths" has a value' "$T/liberr"
printf '{ "p": { "filename": "x", "colour": 1 } }' >"$T/lib/bad.json"
$KVMRUN --library "$T/lib/bad.json" p 2>"$T/liberr"
check "--library: an unknown key is named" grep -q 'unknown key "colour"' "$T/liberr"

# egress: a library's policy lets the program fetch from a local origin (python3's http.server on 127.0.0.1);
# without it the fetch is refused, and a mistake in it is named.
mkdir -p "$T/www"
printf 'from the origin' >"$T/www/hello.txt"
source tests/http-origin.sh
start_origin "$T/www"
port=$origin_port
cp $G/fetch "$T/lib/fetch-guest"
printf '{ "f": { "filename": "fetch-guest", "egress": { "hosts": ["127.0.0.1"], "addresses": ["127.0.0.1"], "ports": [%s], "max_time": 5 } } }' \
    "$port" >"$T/lib/egress.json"
out=$($KVMRUN --library "$T/lib/egress.json" --arg "get:http://127.0.0.1:$port/hello.txt" f 2>"$T/liberr")
check "--library: egress lets the program fetch" test "${out%%|*}" = "200 text/plain" -a "${out##*|}" = "from the origin"
out=$($KVMRUN --arg "result:http://127.0.0.1:$port/hello.txt" "$T/lib/fetch-guest" 2>/dev/null)
check "without egress a fetch is refused (-EPERM)" test "$out" = "rc=-1"
printf '{ "f": { "filename": "fetch-guest", "egress": { "hosts": ["a..*"] } } }' >"$T/lib/egress-bad.json"
$KVMRUN --library "$T/lib/egress-bad.json" f 2>"$T/liberr"
check "--library: a mistake in egress is named" grep -q 'egress hosts = "a..\*"' "$T/liberr"
stop_origin

# --fail: an answer of 400 or more exits 3 (still written out); without it, any answer exits 0.
$KVMRUN --arg no-such-misbehaviour --out "$T/bad" $G/hostile 2>/dev/null
check "a 400 without --fail: exit 0" test $? -eq 0
$KVMRUN --fail --arg no-such-misbehaviour --out "$T/bad" $G/hostile 2>"$T/fail"
check "a 400 with --fail: exit 3" test $? -eq 3
check "--fail says why" grep -q 'the program answered status 400 (--fail)' "$T/fail"
check "--fail still writes the body" grep -q 'unknown misbehaviour' "$T/bad"
check "a 200 with --fail: exit 0" test "$($KVMRUN --fail --arg b $G/hello 2>/dev/null; echo $?)" = "Hello from hello: url=/ arg=b0"

# --repeat with and without --ephemeral.
check "ephemeral repeat" test "$($KVMRUN --repeat 5 --arg 0 $G/counter 2>/dev/null)" = "count=1"
check "non-ephemeral repeat" test "$($KVMRUN --repeat 5 --arg 0 --ephemeral false $G/counter 2>/dev/null)" = "count=5"
# --warmup runs its requests first, on the same instance.
check "warm-up before the repeats" test "$($KVMRUN --warmup 3 --repeat 2 --arg 0 --ephemeral false $G/counter 2>/dev/null)" = "count=5"
check "ephemeral warm-up" test "$($KVMRUN --warmup 3 --arg 0 $G/counter 2>/dev/null)" = "count=1"

# Boot output goes to stderr; program log lines too.
$KVMRUN --arg x $G/bootfail >/dev/null 2>"$T/boot"
check "boot failure exit status 2" test $? -eq 2
check "boot output on stderr" grep -q 'bootfail: failing with exit' "$T/boot"

# Usage and configuration errors: exit 1 with a message.
$KVMRUN 2>"$T/usage"
check "no program: exit 1" test $? -eq 1
check "no program: message" grep -q 'missing PROGRAM' "$T/usage"
$KVMRUN --repeat zero $G/hello 2>"$T/usage"
check "bad --repeat: exit 1" test $? -eq 1
check "bad --repeat: message" grep -q -- '--repeat zero: expected a whole number' "$T/usage"
$KVMRUN --warmup -1 $G/hello 2>"$T/usage"
check "bad --warmup: exit 1" test $? -eq 1
check "bad --warmup: message" grep -q -- '--warmup -1: expected a whole number from 0' "$T/usage"
$KVMRUN --ephemeral maybe $G/hello 2>/dev/null
check "bad --ephemeral: exit 1" test $? -eq 1
$KVMRUN $G/hello-dynamic 2>"$T/dyn"
check "dynamic program: exit 1" test $? -eq 1
check "dynamic program: message" grep -q 'dynamically linked' "$T/dyn"
$KVMRUN /nonexistent/program 2>"$T/missing"
check "missing program: exit 1" test $? -eq 1
check "missing program: message" grep -q 'cannot read program /nonexistent/program' "$T/missing"

echo "kvmrun-tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
