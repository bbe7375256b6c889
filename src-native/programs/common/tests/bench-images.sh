#!/usr/bin/env bash
# Compares the webp and avif programs with the reference encoders, per image. Prints two Markdown tables.
#
# Table 1, time and size at the same settings:
#   webp (quality 80, method 4)  vs  cwebp -q 80 -m 4
#   avif (quality Q, speed S)    vs  avifenc --min/--max QUANTIZER -s S -y 420 -r full -j 1 --ignore-icc/xmp/exif
# where QUANTIZER = round((100 - Q) * 63 / 100) as in programs/avif/avif.c (alpha: QUANTIZER / 2). Our programs
# write no ICC/XMP/Exif, so avifenc is told to leave them out too (chelsea.png carries 6 KB of them).
# Times are in ms. Each round measures every column once, as the median of 3 back-to-back runs:
#   native   the whole process (start, decode, convert, encode, write), run without KVM_NAME; the reference
#            encoders the same way;
#   sandbox  requests inside the sandbox: a freshly booted kvmrun --repeat 3, its request_p50_us (copying the
#            input in, decoding, encoding, the response; boot and freeze are not counted). "-" without kvmrun.
# The table gives the median over RUNS rounds; a round goes over every image and column once, so that bursts of
# load from other jobs on the machine fall on all of them alike. sandbox/native is the ratio of the two medians.
#
# Table 2, avif at equal quality (avifdec and ImageMagick required): both outputs are decoded with avifdec, and
# the SSIM of their luma against ImageMagick's decoding of the source is computed with programs/common/tools/ssim.c
# (4 decimals). "equal-SSIM bytes" is what our program needs for avifenc's SSIM: our quality setting is moved one
# step at a time from Q until two neighbouring settings bracket avifenc's SSIM (one below, one at or above), and
# the size is interpolated linearly in SSIM between them. "smallest Q >= SSIM" is the lowest of our quality
# settings whose SSIM reaches avifenc's, with its size (an upper bound without interpolation). The CPU times
# (user + system, medians like the wall times of table 1, measured in the same runs) compare the two encoders'
# work with less noise from other jobs than wall time.
#
# A reference encoder that is not installed (cwebp: package webp; avifenc, avifdec: libavif-bin) shows "-";
# cwebp and avifenc cannot read GIF.
# usage: programs/common/tests/bench-images.sh [IMAGE...]     (run from src-native/; default: the shared corpus,
#        or the repository's samples/ when it is absent)
#   env: RUNS (default 5), AVIF_QUALITY (default 60), AVIF_SPEED (default 8), KVMRUN (default build/bin/kvmrun)
set -euo pipefail
cd "$(dirname "$0")/../../.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-5}
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
	else set -- ../samples/*.jpg ../samples/*.png ../samples/*.gif; fi
fi

# time_ms IN OUT COMMAND...: runs COMMAND < IN > OUT 3 times, prints the median wall time in ms with one decimal
# ("failed" if a run fails): the same statistic as the sandbox's (see sandbox_ms). Also writes the median CPU time
# (user + system) to $tmp/cpu: less disturbed by other jobs than wall time, so it compares two encoders better.
time_ms() {
	local in=$1 out=$2 start end user sys walls=() cpus=() TIMEFORMAT='%3U %3S'
	shift 2
	for ((j = 0; j < 3; j++)); do
		start=$EPOCHREALTIME # finer than time's own %R (ms), and no clock process to fork
		{ time "$@" <"$in" >"$out" 2>/dev/null; } 2>"$tmp/time" || { echo failed; echo failed >"$tmp/cpu"; return; }
		end=$EPOCHREALTIME
		read -r user sys <"$tmp/time"
		walls+=("$(awk -v s="$start" -v e="$end" 'BEGIN { print (e - s) * 1000 }')")
		cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { print (u + s) * 1000 }')")
	done
	median "${cpus[@]}" >"$tmp/cpu"
	median "${walls[@]}"
}

# median NUMBER...: their median with one decimal; "failed" if one failed, "-" if one is "-".
median() {
	local v
	for v in "$@"; do [[ $v == failed || $v == - ]] && { echo "$v"; return; }; done
	printf '%s\n' "$@" | sort -n | awk '{ t[NR] = $1 } END { printf "%.1f\n", NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2 }'
}

# bytes FILE: its size, or "-" when absent.
bytes() { stat -c %s "$1" 2>/dev/null || echo -; }

# ratio A B: A / B with two decimals, "-" unless both are numbers.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f\n", a / b; else print "-" }'; }

# sandbox_ms PROGRAM ARG INPUT: the median of 3 requests in a freshly booted sandbox in ms, "-" without kvmrun.
# (The first request after boot is slower, it touches pages for the first time: the median leaves it out.)
sandbox_ms() {
	[[ -x $kvmrun ]] || { echo -; return; }
	# Enough request memory for large images (avif needs about 20 bytes per pixel).
	if "$kvmrun" --max-memory 1024 --max-request-memory 768 --repeat 3 --body "$3" --arg "$2" \
		--out /dev/null --json "$tmp/result.json" "$1" >/dev/null 2>&1 &&
		grep -q '"status": 200' "$tmp/result.json"; then
		awk '{ if (match($0, /"request_p50_us": [0-9]+/)) printf "%.1f\n", substr($0, RSTART + 18, RLENGTH - 18) / 1000 }' "$tmp/result.json"
	else
		echo failed
	fi
}

avifenc_args=(-j 1 -s "$speed" --min "$quantizer" --max "$quantizer" --minalpha $((quantizer / 2))
	--maxalpha $((quantizer / 2)) -y 420 -r full --ignore-icc --ignore-xmp --ignore-exif)
webp_arg='{"quality":80,"method":4}'
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
avif_arg="{\"quality\":$quality,\"speed\":$speed}"
echo "| file | size | webp ms | webp sandbox ms | sandbox/native | webp bytes | cwebp ms | cwebp bytes | avif ms | avif sandbox ms | sandbox/native | avif bytes | avifenc ms | avifenc bytes |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
# Times per image and column, each a space-separated list with one value per round: times[IMAGE_INDEX.COLUMN].
# Rounds go over all images, so that a burst of load from other jobs on the machine, which can last longer than
# all the runs of one image, spoils one or two rounds of every image instead of every round of one image.
declare -A times
images=("$@")
for ((i = 0; i < RUNS; i++)); do
	for n in "${!images[@]}"; do
		f=${images[$n]}
		refs=false
		[[ $f != *.gif ]] && refs=true # cwebp and avifenc cannot read GIF
		times[$n.w]+=" $(time_ms "$f" "$tmp/$n.a.webp" "$BUILD/programs/webp" "$webp_arg")"
		times[$n.ws]+=" $(sandbox_ms "$BUILD/programs/webp" "$webp_arg" "$f")"
		times[$n.a]+=" $(time_ms "$f" "$tmp/$n.a.avif" "$BUILD/programs/avif" "$avif_arg")"
		times[$n.acpu]+=" $(cat "$tmp/cpu")"
		times[$n.as]+=" $(sandbox_ms "$BUILD/programs/avif" "$avif_arg" "$f")"
		if $refs && have cwebp; then
			times[$n.cw]+=" $(time_ms /dev/null /dev/null cwebp -quiet -q 80 -m 4 "$f" -o "$tmp/$n.b.webp")"
		else times[$n.cw]+=" -"; fi
		if $refs && have avifenc; then
			times[$n.ae]+=" $(time_ms /dev/null /dev/null avifenc "${avifenc_args[@]}" "$f" "$tmp/$n.b.avif")"
			times[$n.aecpu]+=" $(cat "$tmp/cpu")"
		else times[$n.ae]+=" -" times[$n.aecpu]+=" -"; fi
	done
done
for n in "${!images[@]}"; do
	f=${images[$n]}
	size=$(identify -format '%wx%h' "${f}[0]" 2>/dev/null || echo "?")
	# shellcheck disable=SC2086 # the lists split into their values on purpose
	webp_ms=$(median ${times[$n.w]}) webp_sb=$(median ${times[$n.ws]}) avif_ms=$(median ${times[$n.a]}) avif_sb=$(median ${times[$n.as]})
	# shellcheck disable=SC2086
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(basename "$f")" "$size" \
		"$webp_ms" "$webp_sb" "$(ratio "$webp_sb" "$webp_ms")" "$(bytes "$tmp/$n.a.webp")" "$(median ${times[$n.cw]})" "$(bytes "$tmp/$n.b.webp")" \
		"$avif_ms" "$avif_sb" "$(ratio "$avif_sb" "$avif_ms")" "$(bytes "$tmp/$n.a.avif")" "$(median ${times[$n.ae]})" "$(bytes "$tmp/$n.b.avif")"
done
echo
echo "settings: webp quality 80 method 4; avif quality $quality (quantizer $quantizer) speed $speed; medians of $RUNS rounds; $(nproc) cores; load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"

have avifenc && have avifdec && have convert || { echo; echo "(no equal-quality table: avifenc, avifdec or convert missing)"; exit 0; }
gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$tmp/ssim" programs/common/tools/ssim.c -lm

# ssim_of AVIF: SSIM of its decoding against $tmp/src.ppm, or "-" when it cannot be decoded or compared.
ssim_of() {
	rm -f "$tmp/dec.png" "$tmp/dec.ppm"
	avifdec "$1" "$tmp/dec.png" >/dev/null 2>&1 && convert "$tmp/dec.png" "$tmp/dec.ppm" 2>/dev/null &&
		"$tmp/ssim" "$tmp/src.ppm" "$tmp/dec.ppm" 2>/dev/null || echo -
}

# ours Q: encodes the current source with our program at quality Q; sets q_bytes and q_ssim.
ours() {
	rm -f "$tmp/q.avif"
	"$BUILD/programs/avif" "{\"quality\":$1,\"speed\":$speed}" <"$src" >"$tmp/q.avif" 2>/dev/null || true
	q_bytes=$(bytes "$tmp/q.avif")
	q_ssim=$(ssim_of "$tmp/q.avif")
}

# ge A B: A >= B for SSIM strings.
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

echo
echo "| file | avifenc bytes | avifenc SSIM | avif bytes (Q$quality) | avif SSIM (Q$quality) | equal-SSIM bytes | vs avifenc | smallest Q >= SSIM | its bytes | avif CPU ms | avifenc CPU ms | CPU ratio |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for n in "${!images[@]}"; do
	src=${images[$n]}
	[[ $src == *.gif ]] && continue
	# A failure leaves no file behind (not the previous image's), and shows as "-" in the table.
	rm -f "$tmp/src.ppm" "$tmp/r.avif"
	convert "$src" -auto-orient "$tmp/src.ppm" 2>/dev/null || true
	avifenc "${avifenc_args[@]}" "$src" "$tmp/r.avif" >/dev/null 2>&1 || true
	r_bytes=$(bytes "$tmp/r.avif") r_ssim=$(ssim_of "$tmp/r.avif")
	ours "$quality"
	same_bytes=$q_bytes same_ssim=$q_ssim
	equal=- best_q=- best_bytes=-
	if [[ $r_ssim != - && $same_ssim != - ]]; then
		# Walk towards avifenc's SSIM: downwards while ours is at or above it, upwards while below; stop at the
		# first setting on the other side (at most 15 steps).
		if ge "$same_ssim" "$r_ssim"; then step=-1; else step=1; fi
		prev_q=$quality prev_bytes=$q_bytes prev_ssim=$q_ssim
		for ((k = 1; k <= 15; k++)); do
			q=$((quality + step * k))
			((q >= 0 && q <= 100)) || break
			ours "$q"
			[[ $q_ssim != - ]] || break
			if ((step < 0)) && ! ge "$q_ssim" "$r_ssim"; then
				hi_bytes=$prev_bytes hi_ssim=$prev_ssim lo_bytes=$q_bytes lo_ssim=$q_ssim best_q=$prev_q
				break
			fi
			if ((step > 0)) && ge "$q_ssim" "$r_ssim"; then
				hi_bytes=$q_bytes hi_ssim=$q_ssim lo_bytes=$prev_bytes lo_ssim=$prev_ssim best_q=$q
				break
			fi
			prev_q=$q prev_bytes=$q_bytes prev_ssim=$q_ssim
		done
		if [[ $best_q != - ]]; then
			best_bytes=$hi_bytes
			equal=$(awk -v r="$r_ssim" -v lb="$lo_bytes" -v ls="$lo_ssim" -v hb="$hi_bytes" -v hs="$hi_ssim" \
				'BEGIN { printf "%d\n", (hs > ls) ? lb + (r - ls) / (hs - ls) * (hb - lb) : hb }')
		fi
	fi
	# shellcheck disable=SC2086 # the lists split into their values on purpose
	cpu=$(median ${times[$n.acpu]}) ref_cpu=$(median ${times[$n.aecpu]})
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(basename "$src")" "$r_bytes" "$r_ssim" \
		"$same_bytes" "$same_ssim" "$equal" \
		"$(awk -v a="$equal" -v b="$r_bytes" 'BEGIN { if (a ~ /^[0-9]+$/ && b > 0) printf "%+.1f%%\n", (a / b - 1) * 100; else print "-" }')" \
		"$best_q" "$best_bytes" "$cpu" "$ref_cpu" "$(ratio "$cpu" "$ref_cpu")"
done
