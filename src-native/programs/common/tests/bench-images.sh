#!/usr/bin/env bash
# Times the webp and avif programs natively against the reference encoders at the same settings, per corpus file:
#   webp (quality 80, method 4)  vs  cwebp -q 80 -m 4
#   avif (quality Q, speed S)    vs  avifenc --min/--max QUANTIZER -s S -y 420 -r full -j 1
# where QUANTIZER = round((100 - Q) * 63 / 100) as in programs/avif/avif.c (alpha: QUANTIZER / 2).
# Prints a Markdown table: best of RUNS wall-clock times in milliseconds and output bytes.
# usage: programs/common/tests/bench-images.sh [IMAGE...]     (run from src-native/; default: the shared corpus,
#        or the test images when it is absent)
#   env: RUNS (default 3), AVIF_QUALITY (default 60), AVIF_SPEED (default 8)
set -euo pipefail
cd "$(dirname "$0")/../../.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
quality=${AVIF_QUALITY:-60}
speed=${AVIF_SPEED:-8}
quantizer=$((((100 - quality) * 63 + 50) / 100))
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for tool in cwebp avifenc identify; do
	command -v "$tool" >/dev/null || { echo "missing $tool (see src-native/mk/packages-test.txt)" >&2; exit 2; }
done
for p in webp avif; do
	[[ -x $BUILD/programs/$p ]] || { echo "$BUILD/programs/$p is not built" >&2; exit 2; }
done
if [[ $# -eq 0 ]]; then
	if [[ -d /work/shared/corpus/images ]]; then set -- /work/shared/corpus/images/*
	else set -- programs/common/testdata/*.jpg programs/common/testdata/*.png; fi
fi

# best_ms OUT COMMAND...: runs the command RUNS times, prints the fastest wall time in ms; output bytes in OUT.
best_ms() {
	local out=$1 best= start end ms
	shift
	for ((i = 0; i < RUNS; i++)); do
		start=$(date +%s%N)
		"$@" >/dev/null 2>&1 || { echo "failed"; return; }
		end=$(date +%s%N)
		ms=$(((end - start) / 1000000))
		if [[ -z $best || $ms -lt $best ]]; then best=$ms; fi
	done
	echo "$best"
}

echo "| file | pixels | webp ms | webp bytes | cwebp ms | cwebp bytes | avif ms | avif bytes | avifenc ms | avifenc bytes |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for f in "$@"; do
	pixels=$(identify -format '%wx%h' "${f}[0]")
	webp_ms=$(best_ms "$tmp/a.webp" sh -c "'$BUILD/programs/webp' '{\"quality\":80,\"method\":4}' < '$f' > '$tmp/a.webp'")
	cwebp_ms=$(best_ms "$tmp/b.webp" cwebp -quiet -q 80 -m 4 "$f" -o "$tmp/b.webp")
	avif_ms=$(best_ms "$tmp/a.avif" sh -c "'$BUILD/programs/avif' '{\"quality\":$quality,\"speed\":$speed}' < '$f' > '$tmp/a.avif'")
	avifenc_ms=$(best_ms "$tmp/b.avif" avifenc -j 1 -s "$speed" --min "$quantizer" --max "$quantizer" \
		--minalpha $((quantizer / 2)) --maxalpha $((quantizer / 2)) -y 420 -r full "$f" "$tmp/b.avif")
	if [[ $f == *.gif ]]; then avifenc_ms="n/a (no GIF input)"; fi
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(basename "$f")" "$pixels" \
		"$webp_ms" "$(stat -c %s "$tmp/a.webp" 2>/dev/null || echo -)" "$cwebp_ms" "$(stat -c %s "$tmp/b.webp" 2>/dev/null || echo -)" \
		"$avif_ms" "$(stat -c %s "$tmp/a.avif" 2>/dev/null || echo -)" "$avifenc_ms" "$(stat -c %s "$tmp/b.avif" 2>/dev/null || echo -)"
	rm -f "$tmp"/a.* "$tmp"/b.*
done
echo
echo "settings: webp quality 80 method 4; avif quality $quality (quantizer $quantizer) speed $speed; best of $RUNS runs; $(nproc) cores"
