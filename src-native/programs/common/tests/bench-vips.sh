#!/usr/bin/env bash
# Compares the webp program's resizing with `vips thumbnail` (libvips, Debian libvips-tools) on the same inputs:
# 1080p photos to 320 and to 1280 pixels wide, WebP quality 80. Prints a Markdown table.
#   ours ms      the webp program as a command (process start, decode, resize, encode, write), median of 3;
#   sandbox ms   the same request inside the sandbox: kvmrun --repeat 3, its request_p50_us (boot not counted);
#   vips ms      `vips thumbnail IN OUT.webp[Q=80,strip] WIDTH` with VIPS_CONCURRENCY=1 (our guests run on one thread),
#                median of 3; both shrink JPEGs while decoding (DCT scaling) for small outputs;
#   vips start   `vips thumbnail` of a 1x1 PNG: the command's fixed cost (process start, loading libvips and its
#                modules), which the sandbox does not pay per request (its programs are booted once);
#   ratio        ours ms / vips ms (the target of issue 17: at most 1.5);
#   SSIM         of each output's luma against ImageMagick's Lanczos resize in linear light of the source (same
#                size), with programs/common/tools/ssim.c; bytes: the output sizes (vips 8.14's webpsave keeps the
#                source's ICC, EXIF and XMP despite `strip`: they are removed with webpmux before counting).
# The table gives the median over RUNS rounds (each round measures every cell once, so that bursts of load from
# other jobs fall on all cells alike).
# usage: programs/common/tests/bench-vips.sh [IMAGE...]   (run from src-native/; default: the shared corpus's
#        1080p photos, or samples/rocket.jpg when the corpus is absent)    env: RUNS (default 5), KVMRUN
set -euo pipefail
cd "$(dirname "$0")/../../.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-5}
kvmrun=${KVMRUN:-$BUILD/bin/kvmrun}
program=$BUILD/programs/webp
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[[ -x $program ]] || { echo "$program is not built" >&2; exit 2; }
command -v vips >/dev/null || { echo "vips is missing: apt-get install libvips-tools" >&2; exit 2; }
if [[ $# -eq 0 ]]; then
	corpus=/work/shared/corpus/images
	if [[ -d $corpus ]]; then set -- $corpus/hubble1080.jpg $corpus/collage1080.jpg; else set -- ../samples/rocket.jpg; fi
fi
gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$tmp/ssim" programs/common/tools/ssim.c -lm

median() { printf '%s\n' "$@" | sort -n | awk '{ t[NR] = $1 } END { printf "%.1f\n", NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2 }'; }

# wall_ms COMMAND...: the median wall time of 3 runs in ms.
wall_ms() {
	local start end walls=()
	for ((j = 0; j < 3; j++)); do
		start=$EPOCHREALTIME
		"$@" >/dev/null 2>&1
		end=$EPOCHREALTIME
		walls+=("$(awk -v s="$start" -v e="$end" 'BEGIN { print (e - s) * 1000 }')")
	done
	median "${walls[@]}"
}

ours() { "$program" "$1" <"$2" >"$3"; }

sandbox_ms() {
	[[ -x $kvmrun ]] || { echo -; return; }
	"$kvmrun" --max-memory 1024 --max-request-memory 768 --repeat 3 --body "$2" --arg "$1" --out /dev/null \
		--json "$tmp/result.json" "$program" >/dev/null 2>&1 &&
		awk '{ if (match($0, /"request_p50_us": [0-9]+/)) printf "%.1f\n", substr($0, RSTART + 18, RLENGTH - 18) / 1000 }' "$tmp/result.json"
}

ssim_of() { # OUTPUT SOURCE: SSIM against ImageMagick's Lanczos in linear light at the output's size
	local size
	size=$(identify -format '%wx%h' "$1" 2>/dev/null)
	dwebp -quiet "$1" -ppm -o "$tmp/got.ppm"
	convert "$2" -colorspace RGB -filter Lanczos -resize "$size!" -colorspace sRGB -depth 8 "ppm:$tmp/ref.ppm"
	"$tmp/ssim" "$tmp/ref.ppm" "$tmp/got.ppm"
}

convert -size 1x1 xc:gray "$tmp/tiny.png"
# strip_metadata FILE: removes the ICC, EXIF and XMP chunks (in place).
strip_metadata() {
	local what
	for what in icc exif xmp; do
		webpmux -strip $what "$1" -o "$1.stripped" >/dev/null 2>&1 && mv "$1.stripped" "$1"
	done
	return 0
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A t
images=("$@")
for ((r = 0; r < RUNS; r++)); do
	for n in "${!images[@]}"; do
		for w in 320 1280; do
			f=${images[$n]}
			t[$n.$w.o]+=" $(wall_ms ours "{\"width\":$w,\"quality\":80}" "$f" "$tmp/$n.$w.ours.webp")"
			t[$n.$w.s]+=" $(sandbox_ms "{\"width\":$w,\"quality\":80}" "$f")"
			t[$n.$w.v]+=" $(VIPS_CONCURRENCY=1 wall_ms vips thumbnail "$f" "$tmp/$n.$w.vips.webp[Q=80,strip]" $w)"
		done
	done
	t[start]+=" $(VIPS_CONCURRENCY=1 wall_ms vips thumbnail "$tmp/tiny.png" "$tmp/tiny.webp[Q=80,strip]" 1)"
done
# shellcheck disable=SC2086
vips_start=$(median ${t[start]})
for n in "${!images[@]}"; do for w in 320 1280; do strip_metadata "$tmp/$n.$w.vips.webp"; done; done
echo "| file | to | ours ms | sandbox ms | vips ms | ours/vips | sandbox/(vips - start) | ours SSIM | vips SSIM | ours bytes | vips bytes |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for n in "${!images[@]}"; do
	f=${images[$n]}
	for w in 320 1280; do
		# shellcheck disable=SC2086 # the lists split into their values on purpose
		o=$(median ${t[$n.$w.o]}) s=$(median ${t[$n.$w.s]:- -}) v=$(median ${t[$n.$w.v]})
		printf '| %s (%s) | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(basename "$f")" "$(identify -format '%wx%h' "$f")" \
			"$(identify -format '%wx%h' "$tmp/$n.$w.ours.webp")" "$o" "$s" "$v" "$(awk -v a="$o" -v b="$v" 'BEGIN { printf "%.2f", a / b }')" \
			"$(awk -v a="$s" -v b="$v" -v c="$vips_start" 'BEGIN { if (a ~ /^[0-9.]+$/ && b > c) printf "%.2f", a / (b - c); else print "-" }')" \
			"$(ssim_of "$tmp/$n.$w.ours.webp" "$f")" "$(ssim_of "$tmp/$n.$w.vips.webp" "$f")" \
			"$(stat -c %s "$tmp/$n.$w.ours.webp")" "$(stat -c %s "$tmp/$n.$w.vips.webp")"
	done
done
echo
echo "vips start (1x1 PNG): $vips_start ms"
echo "webp program $(printf '{"width":W,"quality":80}'); vips $(vips --version | head -1), VIPS_CONCURRENCY=1; medians of $RUNS rounds; $(nproc) cores; load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
