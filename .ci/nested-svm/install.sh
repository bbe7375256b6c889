#!/usr/bin/env bash
# Installs what the emulated-SVM stage needs and fetches the guest kernels. Run as root.
#   install.sh KERNEL...     KERNEL: 6.1 or 6.12 (Debian 12's linux-image-amd64 and linux-image-6.12-amd64)
# Each kernel package is downloaded, not installed: its vmlinuz and modules are unpacked with dpkg-deb -x
# into $WORK/kernel-KERNEL, with KVER naming the exact version inside.
set -euo pipefail
WORK=${WORK:?}
packages=(
    "qemu-system-x86: QEMU, to emulate an AMD CPU with SVM (-accel tcg: the host's own /dev/kvm is never used)"
    "busybox-static: the guest's /init shell, mount and insmod before the host's root file system is mounted"
    "kmod: modprobe --show-depends, to list the guest's kvm_amd and 9p modules in load order"
    "cpio: to pack the initramfs"
    "xz-utils: to decompress the kernel's .ko.xz modules (busybox insmod reads plain .ko only)"
    "zstd: the same for .ko.zst modules"
)
missing=()
for p in "${packages[@]}"; do
    name=${p%%:*}
    if [[ $(dpkg-query -W -f='${db:Status-Status}' "$name" 2>/dev/null) != installed ]]; then
        echo "nested-svm: installing $p"
        missing+=("$name")
    fi
done
if ((${#missing[@]})); then
    apt-get -q update >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends "${missing[@]}" >"$WORK/apt.log" 2>&1 ||
        { cat "$WORK/apt.log"; exit 1; }
else
    echo "nested-svm: qemu-system-x86, busybox-static, kmod, cpio, xz-utils, zstd are installed"
fi

for kernel in "$@"; do
    case $kernel in
        6.1) meta=linux-image-amd64 ;;
        6.12) meta=linux-image-6.12-amd64 ;;
        *) echo "nested-svm: unknown guest kernel '$kernel' (6.1 or 6.12)" >&2; exit 2 ;;
    esac
    kdir=$WORK/kernel-$kernel
    [[ -f $kdir/KVER ]] && continue
    # The versioned package the meta-package points at, e.g. linux-image-6.1.0-57-amd64.
    pkg=$(apt-cache depends "$meta" | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    [[ -n $pkg ]] || { apt-get -q update >/dev/null; pkg=$(apt-cache depends "$meta" | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'); }
    [[ -n $pkg ]] || { echo "nested-svm: apt-cache finds no package behind $meta" >&2; exit 1; }
    echo "nested-svm: fetching the guest kernel $pkg (downloaded and unpacked, not installed)"
    mkdir -p "$WORK/debs" "$kdir"
    chown _apt: "$WORK/debs" 2>/dev/null || true # apt-get download runs as _apt where it can
    (cd "$WORK/debs" && { ls "${pkg}"_*.deb >/dev/null 2>&1 || apt-get -q download "$pkg" >/dev/null; })
    dpkg-deb -x "$WORK/debs/${pkg}"_*.deb "$kdir"
    kver=${pkg#linux-image-}
    depmod -b "$kdir" "$kver"
    echo "$kver" >"$kdir/KVER"
done
