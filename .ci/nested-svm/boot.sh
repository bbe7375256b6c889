#!/usr/bin/env bash
# Boots one guest of the matrix and waits for it: QEMU in pure emulation (-accel tcg; the host's /dev/kvm is
# not used) with CPU model CPU, which must have SVM; kvm_amd loaded with npt=NPT; the unpacked kernel KERNEL.
#   boot.sh CPU NPT KERNEL GROUPS       e.g. boot.sh EPYC 0 6.12 sandbox,kvmrun,programs,java
# Results: $WORK/out/CPU-nptNPT-KERNEL/ (results, NAME.log, info) and the console in console.log there.
# Exit status 0 only when the guest ran every group and each passed.
set -euo pipefail
cpu=$1 npt=$2 kernel=$3 groups=$4
WORK=${WORK:?} REPO=${REPO:?}
kdir=$WORK/kernel-$kernel
tag=$cpu-npt$npt-$kernel
out=$WORK/out/$tag
rm -rf "$out"
mkdir -p "$out"
kver=$(cat "$kdir/KVER")
set +e
timeout --foreground -k 10 "${NESTED_TIMEOUT:-2400}" qemu-system-x86_64 -accel tcg -machine q35 -cpu "$cpu" -smp 1 -m 3G \
    -nographic -no-reboot -serial stdio -monitor none -nic none \
    -kernel "$kdir/boot/vmlinuz-$kver" -initrd "$WORK/initrd-$kernel.img" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap,id=hostroot \
    -virtfs local,path="$out",mount_tag=out,security_model=none,id=out \
    -append "console=ttyS0 quiet loglevel=4 panic=-1 nested_kvm_amd=npt=$npt,avic=0 nested_repo=$REPO nested_work=$WORK nested_groups=$groups" \
    </dev/null >"$out/console.log" 2>&1
qemu_rc=$?
set -e
[[ -f $out/done ]] || { echo "$tag: the guest did not finish (qemu exit $qemu_rc); console: $out/console.log"; tail -n 20 "$out/console.log"; exit 1; }
for g in ${groups//,/ }; do
    grep -q "^$g rc=0 " "$out/results" || exit 1
done
