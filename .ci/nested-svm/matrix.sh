#!/usr/bin/env bash
# The whole matrix, by hand: CPU models max and EPYC, kvm_amd npt=1 and npt=0 (shadow paging), guest
# kernels 6.1 and 6.12; two guests at a time (about 20 minutes on 2 cores). Prints run.sh's summary, then
# a Markdown table for docs/architecture.md. Arguments are passed to nothing; NESTED_GROUPS works as in run.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
WORK=${NESTED_WORK:-/var/tmp/kvmfilter-nested-svm}
combos=()
for kernel in 6.1 6.12; do for cpu in max EPYC; do for npt in 1 0; do combos+=("$cpu:$npt:$kernel"); done; done; done
bash "$here/run.sh" "${combos[@]}"
rc=$?
echo
echo "Matrix run of $(date -u +%Y-%m-%d) (.ci/nested-svm/matrix.sh; QEMU $(qemu-system-x86_64 --version | head -1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+'), TCG):"
echo
echo "| guest kernel | CPU | npt | sandbox suite | kvmrun | program calls byte-identical | Java requests | guest time |"
echo "|---|---|---|---|---|---|---|---|"
cell() { # cell OUT GROUP: "N passed, N failed" of the group, or what went wrong
    local line
    line=$(grep "^$2 " "$1/results" 2>/dev/null) || { echo "not run"; return; }
    echo "$line" | grep -oE '[0-9]+ passed, [0-9]+ failed' | tail -1 || echo "rc ${line#*rc=}"
}
for c in "${combos[@]}"; do
    IFS=: read -r cpu npt kernel <<<"$c"
    out=$WORK/out/$cpu-npt$npt-$kernel
    secs=$(awk '{for (i = 1; i <= NF; i++) if ($i ~ /^seconds=/) s += substr($i, 9)} END {print s + 0}' "$out/results" 2>/dev/null)
    echo "| $(cat "$WORK/kernel-$kernel/KVER") | $cpu | $npt | $(cell "$out" sandbox) | $(cell "$out" kvmrun) | $(cell "$out" programs) | $(cell "$out" java) | ${secs:-?} s |"
done
exit $rc
