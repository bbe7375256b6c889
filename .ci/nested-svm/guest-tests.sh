#!/usr/bin/env bash
# Runs inside the emulated-SVM guest, chrooted into the host's root file system (read-only; /run is the
# guest's own tmpfs): the test groups against the guest's /dev/kvm, which is KVM on (emulated) AMD SVM.
#   guest-tests.sh REPO WORK OUT GROUPS    GROUPS: comma-separated, of sandbox,kvmrun,programs,java
# Each group's output goes to OUT/NAME.log and one line "NAME rc=N seconds=N last=<its last line>" to
# OUT/results; OUT/done is written at the end.
set -uo pipefail
repo=$1 work=$2 out=$3 groups=$4
cd "$repo/src-native" || exit 1
{
    echo "kernel $(uname -r); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(grep -m1 vendor_id /proc/cpuinfo | sed 's/.*: //')"
    echo "cpu flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'svm|npt|nrip_save|vgif|xsave|avx|avx2|avx512f' | tr '\n' ' ')"
    echo "kvm_amd: $(for p in npt nested avic nrips vgif; do printf '%s=%s ' $p "$(cat /sys/module/kvm_amd/parameters/$p 2>/dev/null)"; done)"
    ls -l /dev/kvm
} >"$out/info" 2>&1

group() { # group NAME TIMEOUT COMMAND...
    local name=$1 limit=$2 start rc
    shift 2
    start=$(date +%s)
    timeout "$limit" "$@" >"$out/$name.log" 2>&1
    rc=$?
    echo "$name rc=$rc seconds=$(($(date +%s) - start)) last=$(grep -v '^[[:space:]]*$' "$out/$name.log" | tail -n 1)" >>"$out/results"
}

export REQUIRE_KVM=1
for g in ${groups//,/ }; do
    case $g in
        # Emulated, guests run 10-50x slower: the suite's time limits are scaled (KVMFILTER_TEST_TIME_SCALE).
        sandbox) group sandbox 1200 env KVMFILTER_TEST_TIME_SCALE=4 build/tests/run-tests build/tests/guests ;;
        kvmrun) group kvmrun 600 bash tests/test_kvmrun.sh ;;
        programs) group programs 1800 "$work/replay" "$work/corpus" --compare "$work/replay-host" ;;
        java) group java 900 bash -c 'java -XX:TieredStopAtLevel=1 -XX:-UsePerfData -Xmx512m -Djava.io.tmpdir="$TMPDIR" \
                -cp "$(cat "$1/java/classpath"):$1/java/classes" JavaRequests "$2/samples" >"$TMPDIR/java.txt" 2>&1;
            rc=$?; cat "$TMPDIR/java.txt"
            if diff <(grep "^java " "$1/java/host.txt") <(grep "^java " "$TMPDIR/java.txt"); then
                echo "the same as on the host: $(grep -c "^java " "$TMPDIR/java.txt") passed, 0 failed"
            else echo "differs from the host run ($1/java/host.txt): 0 passed, 1 failed"; rc=1; fi
            exit $rc' - "$work" "$repo" ;;
        *) echo "$g rc=2 seconds=0 last=unknown group" >>"$out/results" ;;
    esac
done
echo done >"$out/done"
