#!/usr/bin/env bash
# The emulated-SVM CI stage: the sandbox on hardware KVM. No machine here has VMX or SVM, but QEMU in pure
# emulation (TCG) offers an AMD CPU with SVM; a Debian kernel inside loads kvm_amd, and its /dev/kvm is the
# KVM a user's AMD server runs. The guest mounts the host's root file system read-only and runs, against
# that /dev/kvm: the C sandbox suite, kvmrun's tests, every kvmrun call of the webp/avif/minify suites
# (recorded on the host: outputs must be byte-identical) and requests through the Java stack (the same).
#
#   run.sh [CPU:NPT:KERNEL ...]      default: max:1:6.1 EPYC:0:6.12 (the two CI runs; boot in parallel)
#   e.g.   run.sh max:0:6.12         NESTED_GROUPS=sandbox,kvmrun run.sh ...   (default: all four groups)
# Needs root (apt-get), 2 cores (one per guest), 3 GiB RAM per guest, a built kvm-binding jar
# (./mvnw -pl kvm-binding -am package). Work files: $NESTED_WORK (default /var/tmp/kvmfilter-nested-svm;
# not under /tmp, which the guest must not need to write). Exit status 0 only when every group passed
# in every guest. NESTED_PARALLEL=N boots N guests at a time (default 2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export REPO=$(cd "$here/../.." && pwd)
export WORK=${NESTED_WORK:-/var/tmp/kvmfilter-nested-svm}
groups=${NESTED_GROUPS:-sandbox,kvmrun,programs,java}
combos=("$@")
((${#combos[@]})) || combos=(max:1:6.1 EPYC:0:6.12)
start=$(date +%s)
mkdir -p "$WORK"
kernels=$(printf '%s\n' "${combos[@]}" | cut -d: -f3 | sort -u)

echo "== nested-svm: install (as root) and fetch the guest kernels: $(echo $kernels)"
bash "$here/install.sh" $kernels
echo "== nested-svm: build and run the host (PVM) reference"
bash "$here/host-reference.sh"
for k in $kernels; do bash "$here/make-initrd.sh" "$WORK/kernel-$k" "$WORK/initrd-$k.img"; done
prepared=$(date +%s)

echo "== nested-svm: boot ${combos[*]} (groups $groups), ${NESTED_PARALLEL:-2} at a time"
pids=() tags=()
for c in "${combos[@]}"; do
    IFS=: read -r cpu npt kernel <<<"$c"
    while (($(jobs -rp | wc -l) >= ${NESTED_PARALLEL:-2})); do wait -n || true; done
    bash "$here/boot.sh" "$cpu" "$npt" "$kernel" "$groups" >"$WORK/boot-$cpu-npt$npt-$kernel.log" 2>&1 &
    pids+=($!) tags+=("$cpu-npt$npt-$kernel")
done
failed=0
for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed=$((failed + 1)); done

echo "== nested-svm: summary (install + build + host reference $((prepared - start)) s, guests $(($(date +%s) - prepared)) s)"
for t in "${tags[@]}"; do
    out=$WORK/out/$t
    echo "-- $t: $(head -n 1 "$out/info" 2>/dev/null || echo 'no guest info')"
    sed -n '2,3p' "$out/info" 2>/dev/null | sed 's/^/   /'
    cat "$WORK/boot-$t.log"
    if [[ -f $out/results ]]; then
        sed 's/^/   /' "$out/results"
        { grep -h '^FAIL' "$out"/*.log 2>/dev/null || true; } | head -n 20 | sed 's/^/   /'
        { grep -h '^platform .* on \|^stats ' "$out"/*.log 2>/dev/null || true; } | sed 's/^/   /'
    fi
done
echo "== nested-svm: $((${#tags[@]} - failed)) of ${#tags[@]} guests passed every group; $(($(date +%s) - start)) s in all"
((failed == 0))
