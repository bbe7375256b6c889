#!/usr/bin/env bash
# The host (PVM) half of the comparison, and everything the guest runs, built: the test suite and its
# guests, kvmrun and the programs (make, as `make test` builds them); the program suites run here in
# sandbox mode through kvmrun-record.sh, which records every call into $WORK/corpus; JavaRequests
# compiled against the kvm-binding jar and run here into $WORK/java/host.txt.
set -euo pipefail
WORK=${WORK:?} REPO=${REPO:?}
here=$(cd "$(dirname "$0")" && pwd)
cd "$REPO/src-native"
test_targets=$(make -s -f Makefile -f "$here/print-test-targets.mk" print-test-targets)
make -s -j2 lib bin programs $test_targets >"$WORK/make.log" 2>&1 || { cat "$WORK/make.log"; exit 1; }

rm -rf "$WORK/corpus" && mkdir -p "$WORK/corpus"
export NESTED_CORPUS=$WORK/corpus NESTED_KVMRUN=$REPO/src-native/build/bin/kvmrun
record=$here/kvmrun-record.sh
for suite in "KVMRUN=$record programs/webp/test.sh sandbox" "KVMRUN=$record programs/avif/test.sh sandbox" \
    "MINIFY_TEST_MODE=sandbox KVMRUN=$record programs/minify/tests/run-tests.sh build/programs/minify"; do
    name=$(echo "$suite" | grep -oE 'webp|avif|minify' | head -1)
    # Each suite has a 1 ms (minify: 50 ms) timeout case that a busy machine can fail: one more try.
    if ! env $suite >"$WORK/host-$name.log" 2>&1; then
        echo "nested-svm: the $name suite failed on the host (PVM), once more: $(grep '^FAIL' "$WORK/host-$name.log" | head -3)"
        find "$WORK/corpus/calls" -name '*.args' -exec grep -lzx -- "build/programs/$name" {} + |
            while read -r f; do rm -f "${f%.args}".*; done
        if ! env $suite >"$WORK/host-$name.log" 2>&1; then
            echo "nested-svm: the $name suite fails on the host (PVM): $WORK/host-$name.log"; tail -n 20 "$WORK/host-$name.log"; exit 1
        fi
    fi
    echo "nested-svm: host (PVM) $name suite: $(tail -n 1 "$WORK/host-$name.log")"
done
echo "nested-svm: recorded $(find "$WORK/corpus/calls" -name '*.args' | wc -l) kvmrun calls of the program suites"
# The same calls in one process (replay.c), whose results the guest must reproduce; each must give the
# bytes the suite itself got from kvmrun (and checked), except timeout tests, whose output depends on timing.
gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$WORK/replay" "$here/replay.c" build/lib/libkvmfilter.a -lpthread -lrt
rm -rf "$WORK/replay-host" && mkdir -p "$WORK/replay-host"
"$WORK/replay" "$WORK/corpus" --write "$WORK/replay-host" >"$WORK/replay-host.log" || { cat "$WORK/replay-host.log"; exit 1; }
mismatched=0
for expect in "$WORK"/corpus/calls/*.expect; do
    id=$(basename "${expect%.expect}")
    grep -qzx -- '--max-request-time\|--max-boot-time' "${expect%.expect}.args" && continue
    want=$(sed -n 's/^out \([0-9a-f]*\) .*/\1/p' "$expect")
    got=$(sha256sum <"$WORK/replay-host/$id.body" | cut -c1-64)
    [[ -z $want || $want == "$got" ]] || { echo "nested-svm: call $id: replay.c answers other bytes than kvmrun"; mismatched=1; }
done
((mismatched == 0)) || exit 1
echo "nested-svm: replay.c reproduces every call's output on the host: $(tail -n 1 "$WORK/replay-host.log")"

mkdir -p "$WORK/java/classes"
jar=$(ls "$REPO"/kvm-binding/target/kvm-binding-*.jar | grep -v -- '-sources\|-javadoc\|-tests' | head -1)
[[ -f $jar ]] || { echo "nested-svm: no kvm-binding jar; build it first (./mvnw -pl kvm-binding -am package)" >&2; exit 1; }
(cd "$REPO" && ./mvnw -q -B -pl kvm-binding org.apache.maven.plugins:maven-dependency-plugin:3.9.0:build-classpath \
    -Dmdep.includeScope=runtime -Dmdep.outputFile="$WORK/java/deps" >"$WORK/java/mvn.log" 2>&1) ||
    { cat "$WORK/java/mvn.log"; exit 1; }
echo "$jar:$(cat "$WORK/java/deps")" >"$WORK/java/classpath"
javac -d "$WORK/java/classes" -cp "$(cat "$WORK/java/classpath")" "$here/JavaRequests.java"
java -cp "$(cat "$WORK/java/classpath"):$WORK/java/classes" JavaRequests "$REPO/samples" >"$WORK/java/host.txt" 2>&1 ||
    { echo "nested-svm: JavaRequests fails on the host:"; cat "$WORK/java/host.txt"; exit 1; }
echo "nested-svm: host (PVM) Java requests: $(grep -c '^java ' "$WORK/java/host.txt") answered"
