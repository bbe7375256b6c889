#!/usr/bin/env bash
# Compares the webp program's resizing with `vips thumbnail` (libvips, Debian libvips-tools) on the same inputs:
# 1080p photos to 320 and to 1280 pixels wide, WebP quality 80. Prints two Markdown tables.
#
# Table 1, time (the median over RUNS rounds; each round measures every cell once, so that bursts of load from
# other jobs fall on all cells alike):
#   ours ms      the webp program as a command (process start, decode, resize, encode, write), median of 3;
#   sandbox ms   the same request inside the sandbox: kvmrun --repeat 3, its request_p50_us (boot not counted);
#   vips ms      `vips thumbnail IN OUT.webp[Q=80,strip] WIDTH` with VIPS_CONCURRENCY=1 (our guests run on one thread),
#                median of 3; both shrink JPEGs while decoding (DCT scaling) for small outputs;
#   vips start   `vips thumbnail` of a 1x1 PNG: the command's fixed cost (process start, loading libvips and its
#                modules), which the sandbox does not pay per request (its programs are booted once);
#   ratio        ours ms / vips ms (the target of issue 17: at most 1.5).
#
# Table 2, bytes and quality (not time-dependent, measured once):
#   SSIM         of each output's luma against ImageMagick's Lanczos resize in linear light of the source (same
#                size), with programs/common/tools/ssim.c; bytes: the output sizes (vips 8.14's webpsave keeps the
#                source's ICC, EXIF and XMP despite `strip`: they are removed with webpmux before counting);
#   equal-SSIM   what our program needs for vips's SSIM, as bench-images.sh does for avif: our quality is moved one
#                step at a time from 80 until two neighbouring settings bracket vips's SSIM (one below, one at or
#                above), and the size is interpolated linearly in SSIM between them; "smallest Q" is the lowest of
#                our settings whose SSIM reaches vips's, with its size (an upper bound without interpolation). The
#                last four columns do the same the other way: vips's quality moved from 80 to reach our SSIM.
#                "-" when no two settings in 0..100 bracket the SSIM.
# usage: programs/common/tests/bench-vips.sh [IMAGE...]   (run from src-native/; default: the shared corpus's
#        1080p photos, or samples/rocket.jpg when the corpus is absent)
#   env: RUNS (default 5), BUILD (default build: the programs' build directory), KVMRUN (default $BUILD/bin/kvmrun)
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

# reference N SIZE: the path of image N's reference at SIZE (WxH), made on first use (ImageMagick warns about
# hubble1080.jpg's XMP: stderr is dropped, a failure still shows as ssim's missing file).
reference() {
	local ref=$tmp/$1.$2.ref.ppm
	[[ -e $ref ]] ||
		convert "${images[$1]}" -colorspace RGB -filter Lanczos -resize "$2!" -colorspace sRGB -depth 8 "ppm:$ref" 2>/dev/null
	echo "$ref"
}

ssim_of() { # OUTPUT N: SSIM against image N's reference at the output's size
	local size
	size=$(identify -format '%wx%h' "$1" 2>/dev/null)
	dwebp -quiet "$1" -ppm -o "$tmp/got.ppm"
	"$tmp/ssim" "$(reference "$2" "$size")" "$tmp/got.ppm"
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
echo "| file | to | ours ms | sandbox ms | vips ms | ours/vips | sandbox/(vips − start) |"
echo "|---|---|---|---|---|---|---|"
for n in "${!images[@]}"; do
	f=${images[$n]}
	for w in 320 1280; do
		# shellcheck disable=SC2086 # the lists split into their values on purpose
		o=$(median ${t[$n.$w.o]}) s=$(median ${t[$n.$w.s]:- -}) v=$(median ${t[$n.$w.v]})
		printf '| %s (%s) | %s | %s | %s | %s | %s | %s |\n' "$(basename "$f")" "$(identify -format '%wx%h' "$f" 2>/dev/null)" \
			"$(identify -format '%wx%h' "$tmp/$n.$w.ours.webp")" "$o" "$s" "$v" "$(awk -v a="$o" -v b="$v" 'BEGIN { printf "%.2f", a / b }')" \
			"$(awk -v a="$s" -v b="$v" -v c="$vips_start" 'BEGIN { if (a ~ /^[0-9.]+$/ && b > c) printf "%.2f", a / (b - c); else print "-" }')"
	done
done
echo
echo "vips start (1x1 PNG): $vips_start ms"
echo "webp program $(printf '{"width":W,"quality":80}'); vips $(vips --version | head -1), VIPS_CONCURRENCY=1; medians of $RUNS rounds; $(nproc) cores; load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"

# encode_ours N W Q, encode_vips N W Q: image N to width W at quality Q in $tmp/q.webp; set q_bytes and q_ssim.
encode_ours() {
	"$program" "{\"width\":$2,\"quality\":$3}" <"${images[$1]}" >"$tmp/q.webp" 2>/dev/null
	q_bytes=$(stat -c %s "$tmp/q.webp") q_ssim=$(ssim_of "$tmp/q.webp" "$1")
}
encode_vips() {
	VIPS_CONCURRENCY=1 vips thumbnail "${images[$1]}" "$tmp/q.webp[Q=$3,strip]" "$2"
	strip_metadata "$tmp/q.webp"
	q_bytes=$(stat -c %s "$tmp/q.webp") q_ssim=$(ssim_of "$tmp/q.webp" "$1")
}

ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; } # A >= B for SSIM strings

# equal_ssim ENCODER N W TARGET: walks ENCODER's quality one step at a time from 80 (downwards while its SSIM is at
# or above TARGET, upwards while below) and stops at the first setting on the other side. Sets best_q and best_bytes
# (the lower setting of the two that reaches TARGET) and equal (the bytes interpolated linearly in SSIM between the
# two); "-" when the walk leaves 0..100 first.
equal_ssim() {
	local encoder=$1 n=$2 w=$3 target=$4 q step prev_q prev_bytes prev_ssim lo_bytes lo_ssim hi_bytes hi_ssim
	equal=- best_q=- best_bytes=-
	"$encoder" "$n" "$w" 80
	if ge "$q_ssim" "$target"; then step=-1; else step=1; fi
	prev_q=80 prev_bytes=$q_bytes prev_ssim=$q_ssim
	for ((q = 80 + step; q >= 0 && q <= 100; q += step)); do
		"$encoder" "$n" "$w" "$q"
		if ((step < 0)) && ! ge "$q_ssim" "$target"; then
			best_q=$prev_q hi_bytes=$prev_bytes hi_ssim=$prev_ssim lo_bytes=$q_bytes lo_ssim=$q_ssim
			break
		fi
		if ((step > 0)) && ge "$q_ssim" "$target"; then
			best_q=$q hi_bytes=$q_bytes hi_ssim=$q_ssim lo_bytes=$prev_bytes lo_ssim=$prev_ssim
			break
		fi
		prev_q=$q prev_bytes=$q_bytes prev_ssim=$q_ssim
	done
	[[ $best_q != - ]] || return 0
	best_bytes=$hi_bytes
	equal=$(awk -v r="$target" -v lb="$lo_bytes" -v ls="$lo_ssim" -v hb="$hi_bytes" -v hs="$hi_ssim" \
		'BEGIN { printf "%d\n", (hs > ls) ? lb + (r - ls) / (hs - ls) * (hb - lb) : hb }')
}

percent() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9]+$/ && b > 0) printf "%+.1f%%\n", (a / b - 1) * 100; else print "-" }'; }

echo
echo "| file | to | ours SSIM | vips SSIM | ours bytes | vips bytes | ours equal-SSIM bytes | vs vips | ours smallest Q ≥ vips SSIM | its bytes | vips equal-SSIM bytes | vs ours | vips smallest Q ≥ our SSIM | its bytes |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for n in "${!images[@]}"; do
	f=${images[$n]}
	for w in 320 1280; do
		ours_ssim=$(ssim_of "$tmp/$n.$w.ours.webp" "$n") vips_ssim=$(ssim_of "$tmp/$n.$w.vips.webp" "$n")
		ours_bytes=$(stat -c %s "$tmp/$n.$w.ours.webp") vips_bytes=$(stat -c %s "$tmp/$n.$w.vips.webp")
		equal_ssim encode_ours "$n" "$w" "$vips_ssim"
		row="| $(basename "$f") | $(identify -format '%wx%h' "$tmp/$n.$w.ours.webp") | $ours_ssim | $vips_ssim | $ours_bytes | $vips_bytes"
		row+=" | $equal | $(percent "$equal" "$vips_bytes") | $best_q | $best_bytes" # the next walk resets them
		equal_ssim encode_vips "$n" "$w" "$ours_ssim"
		echo "$row | $equal | $(percent "$equal" "$ours_bytes") | $best_q | $best_bytes |"
	done
done
