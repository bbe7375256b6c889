#!/usr/bin/env bash
# Times the webp and avif programs against the reference encoders at the same settings, per image:
#   webp (quality 80, method 4)  vs  cwebp -q 80 -m 4
#   avif (quality Q, speed S)    vs  avifenc --min/--max QUANTIZER -s S -y 420 -r full -j 1
# where QUANTIZER = round((100 - Q) * 63 / 100) as in programs/avif/avif.c (alpha: QUANTIZER / 2).
# Native times are the best of RUNS wall-clock runs of the whole process (decode, convert, encode, write), in ms.
# When kvmrun exists, the "sandbox" columns give the median request time inside the sandbox (kvmrun --repeat RUNS,
# request_p50_us: the request only, the VM already booted and frozen).
# Prints a Markdown table. A reference encoder that is not installed (cwebp: package webp; avifenc: libavif-bin)
# shows "-"; cwebp and avifenc cannot read GIF.
# usage: programs/common/tests/bench-images.sh [IMAGE...]     (run from src-native/; default: the shared corpus,
#        or the test images when it is absent)
#   env: RUNS (default 3), AVIF_QUALITY (default 60), AVIF_SPEED (default 8), KVMRUN (default build/bin/kvmrun)
set -euo pipefail
cd "$(dirname "$0")/../../.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
quality=${AVIF_QUALITY:-60}
speed=${AVIF_SPEED:-8}
quantizer=$((((100 - quality) * 63 + 50) / 100))
kvmrun=${KVMRUN:-$BUILD/bin/kvmrun}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for p in webp avif; do
	[[ -x $BUILD/programs/$p ]] || { echo "$BUILD/programs/$p is not built" >&2; exit 2; }
done
have() { command -v "$1" >/dev/null; }
if [[ $# -eq 0 ]]; then
	if [[ -d /work/shared/corpus/images ]]; then set -- /work/shared/corpus/images/*
	else set -- programs/common/testdata/*.jpg programs/common/testdata/*.png; fi
fi

# best_ms COMMAND...: runs the command RUNS times, prints the fastest wall time in ms ("failed" if it fails).
best_ms() {
	local best= start end ms
	for ((i = 0; i < RUNS; i++)); do
		start=$(date +%s%N)
		"$@" >/dev/null 2>&1 || { echo "failed"; return; }
		end=$(date +%s%N)
		ms=$(((end - start) / 1000000))
		if [[ -z $best || $ms -lt $best ]]; then best=$ms; fi
	done
	echo "$best"
}

# bytes FILE: its size, or "-" when absent.
bytes() { stat -c %s "$1" 2>/dev/null || echo -; }

# sandbox_ms PROGRAM ARG INPUT: median request time in the sandbox in ms, "-" without kvmrun.
sandbox_ms() {
	[[ -x $kvmrun ]] || { echo -; return; }
	# Enough request memory for large images (avif needs about 20 bytes per pixel).
	if "$kvmrun" --max-memory 1024 --max-request-memory 768 --repeat "$RUNS" --body "$3" --arg "$2" \
		--out /dev/null --json "$tmp/result.json" "$1" >/dev/null 2>&1 &&
		grep -q '"status": 200' "$tmp/result.json"; then
		awk '{ if (match($0, /"request_p50_us": [0-9]+/)) printf "%.1f\n", substr($0, RSTART + 18, RLENGTH - 18) / 1000 }' "$tmp/result.json"
	else
		echo failed
	fi
}

webp_arg='{"quality":80,"method":4}'
avif_arg="{\"quality\":$quality,\"speed\":$speed}"
echo "| file | size | webp ms | webp sandbox ms | webp bytes | cwebp ms | cwebp bytes | avif ms | avif sandbox ms | avif bytes | avifenc ms | avifenc bytes |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for f in "$@"; do
	rm -f "$tmp"/a.* "$tmp"/b.*
	size=$(identify -format '%wx%h' "${f}[0]" 2>/dev/null || echo "?")
	webp_ms=$(best_ms sh -c "'$BUILD/programs/webp' '$webp_arg' < '$f' > '$tmp/a.webp'")
	avif_ms=$(best_ms sh -c "'$BUILD/programs/avif' '$avif_arg' < '$f' > '$tmp/a.avif'")
	cwebp_ms=- avifenc_ms=-
	if [[ $f != *.gif ]]; then
		if have cwebp; then cwebp_ms=$(best_ms cwebp -quiet -q 80 -m 4 "$f" -o "$tmp/b.webp"); fi
		if have avifenc; then
			avifenc_ms=$(best_ms avifenc -j 1 -s "$speed" --min "$quantizer" --max "$quantizer" \
				--minalpha $((quantizer / 2)) --maxalpha $((quantizer / 2)) -y 420 -r full "$f" "$tmp/b.avif")
		fi
	fi
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(basename "$f")" "$size" \
		"$webp_ms" "$(sandbox_ms "$BUILD/programs/webp" "$webp_arg" "$f")" "$(bytes "$tmp/a.webp")" \
		"$cwebp_ms" "$(bytes "$tmp/b.webp")" \
		"$avif_ms" "$(sandbox_ms "$BUILD/programs/avif" "$avif_arg" "$f")" "$(bytes "$tmp/a.avif")" \
		"$avifenc_ms" "$(bytes "$tmp/b.avif")"
done
echo
echo "settings: webp quality 80 method 4; avif quality $quality (quantizer $quantizer) speed $speed; best of $RUNS native runs; $(nproc) cores"
