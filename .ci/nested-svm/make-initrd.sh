#!/usr/bin/env bash
# Packs the guest's initramfs for one unpacked kernel: static busybox, /init, and the modules the guest
# loads itself (9p over virtio, to mount the host's root file system; kvm and kvm_amd), decompressed and
# listed in load order. Nothing of the project goes in: the guest runs it from the host's root, read-only.
#   make-initrd.sh KDIR OUTPUT
set -euo pipefail
kdir=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
kver=$(cat "$kdir/KVER")
modules=$kdir/lib/modules/$kver
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,host,modules}
cp /bin/busybox "$root/bin/busybox"
install -m 755 "$here/init" "$root/init"
# list NAME MODULE...: the module files MODULE needs, in load order, into /modules/NAME.list
list() {
    local name=$1 m f dst
    shift
    : >"$root/modules/$name.list"
    for m in "$@"; do
        modprobe --show-depends -d "$kdir" -S "$kver" "$m" | awk '$1 == "insmod" {print $2}' | while read -r f; do
            dst=/modules/$(basename "$f")
            dst=${dst%.xz} dst=${dst%.zst}
            grep -qxF "$dst" "$root/modules/$name.list" && continue
            case $f in
                *.xz) xz -dc "$f" >"$root$dst" ;;
                *.zst) zstd -qdc "$f" >"$root$dst" ;;
                *) cp "$f" "$root$dst" ;;
            esac
            echo "$dst" >>"$root/modules/$name.list"
        done
    done
}
list 9p virtio_pci 9pnet_virtio 9p
list kvm kvm_amd
[[ -s $root/modules/kvm.list ]] || { echo "nested-svm: $kver has no kvm_amd module" >&2; exit 1; }
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
