#!/usr/bin/env bash
# Tests an image program (webp or avif) on real images and on broken input, checking every output with
# independent tools: dwebp / avifdec (strict mode, its default) and ImageMagick decode it, the decoded size must
# match, and the SSIM of its luma against ImageMagick's own decoding of the source must reach a threshold.
#
# usage: programs/common/tests/test-images.sh webp|avif [native|sandbox]      (run from src-native/)
#   native  (default) runs build/programs/NAME as a command: ARG_JSON CONTENT_TYPE < input > output,
#           status and headers on stderr.
#   sandbox runs the same cases through build/bin/kvmrun (the intended interface:
#           kvmrun --method POST --body FILE --arg JSON --content-type CT --out OUT --json RESULT.json PROGRAM).
#           The mode may also be chosen with KVMFILTER_TEST_MODE=sandbox; KVMRUN=PATH selects another kvmrun.
#           Skipped while kvmrun does not exist.
# Prints one line per case and ends with "N passed, N failed"; exits non-zero when a case fails.
set -euo pipefail
cd "$(dirname "$0")/../../.."   # src-native/

name=${1:?usage: $0 webp|avif [native|sandbox]}
mode=${2:-${KVMFILTER_TEST_MODE:-native}}
BUILD=${BUILD:-build}
program="$BUILD/programs/$name"
kvmrun=${KVMRUN:-$BUILD/bin/kvmrun}  # KVMRUN overrides, e.g. a kvmrun built elsewhere
data=programs/common/testdata  # images made for these tests
samples=../samples              # the repository's sample images
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

case "$name" in webp | avif) ;; *) echo "unknown program '$name' (webp or avif)" >&2; exit 2 ;; esac
case "$mode" in native | sandbox) ;; *) echo "unknown mode '$mode' (native or sandbox)" >&2; exit 2 ;; esac
[[ -x "$program" ]] || { echo "$program is not built (make -C src-native programs)" >&2; exit 2; }
if [[ $mode == sandbox && ! -x "$kvmrun" ]]; then
	echo "SKIP all $name sandbox cases: $kvmrun does not exist yet (the lead builds it on branch main)"
	echo "0 passed, 0 failed"
	exit 0
fi
for tool in convert identify dwebp cwebp img2webp avifdec; do
	command -v "$tool" >/dev/null || { echo "missing test tool $tool (see src-native/mk/packages-test.txt)" >&2; exit 2; }
done

# The SSIM helper (ImageMagick 6 has no SSIM metric).
gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$tmp/ssim" programs/common/tools/ssim.c -lm

# SSIM threshold for the default quality (webp 80, avif 60). Measured on these files and the corpus: 0.93-0.98
# (cwebp -q 80 gives identical numbers for webp). A wrongly oriented, mirrored, shifted or channel-swapped image
# scores far lower (rocket.jpg against itself rotated 180 degrees: 0.56), so 0.90 separates right from wrong
# while leaving room for other library versions. Resize cases make the reference with ImageMagick's Triangle
# filter, the same kind of filter as ours, so they compare the same scaling.
ssim_min=0.90

# run ARG CONTENT_TYPE INPUT OUT: runs the program; sets rc, status, xfailed.
run() {
	local arg=$1 ct=$2 input=$3 out=$4
	rc=0
	if [[ $mode == native ]]; then
		"$program" "$arg" "$ct" <"$input" >"$out" 2>"$tmp/stderr" || rc=$?
		status=$(sed -n 's/^status: //p' "$tmp/stderr" | head -1)
		xfailed=$(sed -n 's/^X-Failed: //p' "$tmp/stderr" | head -1)
	else
		rm -f "$out" "$tmp/result.json"
		"$kvmrun" --method POST --body "$input" --arg "$arg" --content-type "$ct" --out "$out" \
			--json "$tmp/result.json" "$program" >"$tmp/stderr" 2>&1 || rc=$?
		status=$(grep -o '"status"[[:space:]]*:[[:space:]]*[0-9]*' "$tmp/result.json" 2>/dev/null | grep -o '[0-9]*$' | head -1 || true)
		# kvmrun --json lists response headers as JSON strings: "X-Failed: reason" (with \" escapes).
		xfailed=$(grep -io '"x-failed: \([^"\\]\|\\.\)*"' "$tmp/result.json" 2>/dev/null | head -1 |
			sed 's/^"[^:]*: //; s/"$//; s/\\"/"/g' || true)
		[[ -f $out ]] || : >"$out"
	fi
}

pass() { echo "PASS $name: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $name: $1: $2"; failed=$((failed + 1)); }

# decode OUT PNG: decodes the program's output with the independent decoder into a PNG (keeps alpha).
decode() {
	if [[ $name == webp ]]; then
		dwebp -quiet "$1" -pam -o "$tmp/decoded.pam" && convert "$tmp/decoded.pam" "PNG32:$2"
	else
		avifdec "$1" "$2" >/dev/null
	fi
}

# good NAME INPUT ARG EXPECTED_WxH [IM_OPS...]: a valid conversion. The output must decode with the independent
# decoder and with ImageMagick, have the expected size, and match `convert INPUT -auto-orient IM_OPS` by SSIM.
# Set ref=FILE for the call to compare against FILE instead of INPUT.
good() {
	local case=$1 input=$2 arg=$3 want=$4
	shift 4
	local out="$tmp/out.$name" size im_size ssim
	run "$arg" "" "$input" "$out"
	if [[ $rc -ne 0 || $status != 200 ]]; then fail "$case" "exit $rc, status '$status', X-Failed '$xfailed'"; return; fi
	if ! decode "$out" "$tmp/decoded.png" 2>"$tmp/decode.err"; then fail "$case" "output does not decode: $(head -c 300 "$tmp/decode.err")"; return; fi
	size=$(identify -format '%wx%h' "$tmp/decoded.png")
	im_size=$(identify -format '%wx%h' "$out" 2>/dev/null || echo "ImageMagick cannot read it")
	if [[ $size != "$want" || $im_size != "$want" ]]; then fail "$case" "size $size (ImageMagick: $im_size), expected $want"; return; fi
	convert "${ref:-$input}[0]" -auto-orient "$@" +repage -background gray50 -flatten -depth 8 "ppm:$tmp/ref.ppm"
	convert "$tmp/decoded.png" -background gray50 -flatten -depth 8 "ppm:$tmp/got.ppm"
	if ! ssim=$("$tmp/ssim" "$tmp/ref.ppm" "$tmp/got.ppm" 2>&1); then fail "$case" "SSIM: $ssim"; return; fi
	if awk -v s="$ssim" -v m="$ssim_min" 'BEGIN { exit !(s >= m) }'; then
		pass "$case ($want, SSIM $ssim)"
	else
		fail "$case" "SSIM $ssim below $ssim_min"
	fi
}

# bad NAME INPUT ARG STATUS: a rejected request: exact status, X-Failed present, non-zero exit, no image output.
bad() {
	local case=$1 input=$2 arg=$3 want=$4
	local out="$tmp/out.$name"
	run "$arg" "" "$input" "$out"
	if [[ $status != "$want" ]]; then fail "$case" "status '$status', expected $want (X-Failed '$xfailed')"
	elif [[ -z $xfailed ]]; then fail "$case" "no X-Failed header"
	elif [[ $rc -eq 0 && $mode == native ]]; then fail "$case" "exit code 0"
	elif [[ $mode == native && -s $out ]]; then fail "$case" "wrote $(stat -c %s "$out") bytes of output"
	elif [[ $mode == sandbox ]] && identify "$out" >/dev/null 2>&1; then fail "$case" "answered an image"
	else pass "$case ($want: $xfailed)"; fi
}

# ---- valid input ----
good "JPEG photo" $samples/grace_hopper.jpg '' 512x600
good "JPEG photo 2" $samples/rocket.jpg '{}' 640x427
good "PNG RGB" $data/chelsea.png '' 451x300
good "PNG palette" $samples/palette_color.png '' 10x10
good "PNG 16-bit" $data/rgb16.png '' 96x64
good "PNG with alpha" $data/alpha.png '' 120x80
good "GIF first frame of an animation" $samples/no_time_for_that_tiny.gif '' 14x25
good "GIF interlaced with transparency" $data/trans-interlaced.gif '' 120x80
# More PNG colour types and JPEG codings, made from the test images with ImageMagick.
convert $data/alpha.png -colorspace Gray PNG32:"$tmp/gray-alpha-rgba.png"
convert "$tmp/gray-alpha-rgba.png" -define png:color-type=4 "$tmp/gray-alpha.png"
good "PNG grayscale with alpha (colour type 4)" "$tmp/gray-alpha.png" '' 120x80
convert $samples/rocket.jpg -resize 64x43 -monochrome -define png:bit-depth=1 -define png:color-type=0 "$tmp/bw.png"
good "PNG 1-bit grayscale" "$tmp/bw.png" '' 64x43
convert $data/alpha.png -channel A -threshold 50% +channel PNG8:"$tmp/palette-trns.png"
good "PNG palette with tRNS" "$tmp/palette-trns.png" '' 120x80
convert $data/chelsea.png -interlace PNG "$tmp/adam7.png"
good "PNG interlaced (Adam7)" "$tmp/adam7.png" '' 451x300
convert $samples/rocket.jpg -interlace JPEG -quality 90 "$tmp/progressive.jpg"
good "JPEG progressive" "$tmp/progressive.jpg" '' 640x427
good "JPEG CMYK" $data/cmyk.jpg '' 64x75
good "JPEG grayscale" $data/gray.jpg '' 64x75
for n in 1 2 3 4 5 6 7 8; do
	if [[ $n -ge 5 ]]; then want=80x120; else want=120x80; fi
	good "JPEG EXIF orientation $n" $data/orient-$n.jpg '' $want
done
good "resize width, keep aspect" $samples/rocket.jpg '{"resize":[200,0]}' 200x133 -filter Triangle -resize '200x133!'
good "resize height, keep aspect" $samples/rocket.jpg '{"resize":[0,100]}' 150x100 -filter Triangle -resize '150x100!'
good "resize both" $samples/grace_hopper.jpg '{"resize":[300,300]}' 300x300 -filter Triangle -resize '300x300!'
good "enlarge" $samples/palette_color.png '{"resize":[40,40]}' 40x40 -filter Triangle -resize '40x40!'
good "crop" $samples/grace_hopper.jpg '{"crop":[100,50,200,150]}' 200x150 -crop 200x150+100+50 +repage
good "crop then resize" $samples/grace_hopper.jpg '{"crop":[100,50,200,150],"resize":[100,0]}' 100x75 \
	-crop 200x150+100+50 +repage -filter Triangle -resize '100x75!'
good "crop on the oriented image" $data/orient-6.jpg '{"crop":[0,0,80,60]}' 80x60 -crop 80x60+0+0 +repage
good "quality option" $samples/rocket.jpg '{"quality":90}' 640x427
good "odd size 3x5" $data/alpha.png '{"crop":[58,38,3,5]}' 3x5 -crop 3x5+58+38 +repage
good "single pixel" $data/alpha.png '{"crop":[60,40,1,1]}' 1x1 -crop 1x1+60+40 +repage
# An animated WebP (made with img2webp): the first frame is converted.
convert $data/orient-1.jpg "$tmp/frame1.png"
convert $data/orient-1.jpg -negate "$tmp/frame2.png"
img2webp -q 95 "$tmp/frame1.png" "$tmp/frame2.png" -o "$tmp/animated.webp" >/dev/null 2>&1
ref="$tmp/frame1.png" good "animated WebP input: first frame" "$tmp/animated.webp" '' 120x80
if [[ $name == webp ]]; then
	good "method option" $samples/rocket.jpg '{"method":0}' 640x427
	cwebp -quiet -q 90 $samples/rocket.jpg -o "$tmp/input.webp"
	good "WebP input (re-encode)" "$tmp/input.webp" '' 640x427
	cwebp -quiet -q 90 $data/alpha.png -o "$tmp/input-alpha.webp"
	good "WebP input with alpha" "$tmp/input-alpha.webp" '' 120x80
	# Lossless must reproduce every pixel.
	run '{"lossless":true}' "" $samples/palette_color.png "$tmp/lossless.webp"
	dwebp -quiet "$tmp/lossless.webp" -pam -o "$tmp/lossless.pam"
	ae=$(compare -metric AE $samples/palette_color.png "$tmp/lossless.pam" null: 2>&1 || true)
	if [[ $status == 200 && $ae == 0 ]]; then pass "lossless is exact"; else fail "lossless is exact" "status $status, $ae pixels differ"; fi
else
	good "speed option" $samples/rocket.jpg '{"speed":4}' 640x427
	good "GIF input" $samples/no_time_for_that_tiny.gif '{"speed":10}' 14x25
fi

# Alpha is kept when the source has transparency, and absent when it does not.
run '' "" $data/alpha.png "$tmp/alpha.out"
decode "$tmp/alpha.out" "$tmp/alpha.png"
if [[ $(identify -format '%[opaque]' "$tmp/alpha.png") == [Ff]alse ]]; then pass "alpha preserved"; else fail "alpha preserved" "decoded image is opaque"; fi
if [[ $name == avif ]]; then
	# avifdec --info prints "Alpha : Absent" without an alpha item, otherwise how the alpha is stored.
	if avifdec --info "$tmp/alpha.out" 2>&1 | grep 'Alpha *:' | grep -qv Absent; then pass "avifdec reports an alpha item"; else fail "avifdec reports an alpha item" "$(avifdec --info "$tmp/alpha.out" 2>&1 | grep -i alpha)"; fi
	run '' "" $samples/rocket.jpg "$tmp/opaque.out"
	if avifdec --info "$tmp/opaque.out" 2>&1 | grep -q 'Alpha *: Absent'; then pass "no alpha item for an opaque image"; else fail "no alpha item for an opaque image" "alpha present"; fi
	info=$(avifdec --info "$tmp/opaque.out" 2>&1)
	if grep -q 'Format *: YUV420' <<<"$info" && grep -q 'Range *: Full' <<<"$info" && grep -q 'Matrix Coeffs. *: 6' <<<"$info"; then
		pass "signals 8-bit 4:2:0, full range, BT.601"
	else fail "signals 8-bit 4:2:0, full range, BT.601" "$(tr '\n' ' ' <<<"$info")"; fi
fi

# Higher quality gives a bigger file.
run '{"quality":10}' "" $samples/rocket.jpg "$tmp/q10"
run '{"quality":95}' "" $samples/rocket.jpg "$tmp/q95"
if [[ $(stat -c %s "$tmp/q10") -lt $(stat -c %s "$tmp/q95") ]]; then pass "quality 10 smaller than quality 95"
else fail "quality 10 smaller than quality 95" "$(stat -c %s "$tmp/q10") vs $(stat -c %s "$tmp/q95") bytes"; fi

# ---- broken input ----
size=$(stat -c %s $samples/grace_hopper.jpg)
head -c $((size / 2)) $samples/grace_hopper.jpg >"$tmp/truncated.jpg"
bad "truncated JPEG" "$tmp/truncated.jpg" '' 422
head -c 400 $samples/grace_hopper.jpg >"$tmp/header-only.jpg"
bad "JPEG cut inside the headers" "$tmp/header-only.jpg" '' 422
# A JPEG whose entropy-coded data is replaced by a run of 0xFF bytes (no valid marker after it).
{ head -c 3000 $samples/grace_hopper.jpg; head -c 2000 /dev/zero | tr '\0' '\377'; } >"$tmp/corrupt.jpg"
bad "corrupted JPEG data" "$tmp/corrupt.jpg" '' 422
size=$(stat -c %s $data/chelsea.png)
head -c $((size * 2 / 3)) $data/chelsea.png >"$tmp/truncated.png"
bad "truncated PNG" "$tmp/truncated.png" '' 422
# Change one byte inside the image data (the second IDAT chunk starts at byte 22221): its CRC no longer matches.
cp $data/chelsea.png "$tmp/corrupt.png"
printf '\x55' | dd of="$tmp/corrupt.png" bs=1 seek=30000 conv=notrunc status=none
bad "corrupted PNG (CRC mismatch)" "$tmp/corrupt.png" '' 422
head -c 2000 $data/trans-interlaced.gif >"$tmp/truncated.gif"
bad "truncated GIF" "$tmp/truncated.gif" '' 422
cwebp -quiet -q 80 $samples/rocket.jpg -o "$tmp/whole.webp"
head -c 3000 "$tmp/whole.webp" >"$tmp/truncated.webp"
bad "truncated WebP" "$tmp/truncated.webp" '' 422
printf 'hello, I am text\n' >"$tmp/text.txt"
bad "text body" "$tmp/text.txt" '' 415
: >"$tmp/empty"
bad "empty body" "$tmp/empty" '' 415
convert $samples/palette_color.png "bmp:$tmp/image.bmp"
bad "BMP (unsupported type)" "$tmp/image.bmp" '' 415
cp $samples/grace_hopper.jpg "$tmp/no-magic.jpg"
printf 'XX' | dd of="$tmp/no-magic.jpg" bs=1 seek=0 conv=notrunc status=none
bad "JPEG without its magic bytes" "$tmp/no-magic.jpg" '' 415

# ---- bad arguments ----
bad "quality out of range" $samples/rocket.jpg '{"quality":101}' 400
bad "quality not an integer" $samples/rocket.jpg '{"quality":80.5}' 400
bad "quality as a string" $samples/rocket.jpg '{"quality":"80"}' 400
bad "unknown key" $samples/rocket.jpg '{"qualty":80}' 400
bad "arg not JSON" $samples/rocket.jpg 'quality=80' 400
bad "arg JSON with trailing garbage" $samples/rocket.jpg '{"quality":80} x' 400
bad "arg not an object" $samples/rocket.jpg '[80]' 400
bad "resize with one number" $samples/rocket.jpg '{"resize":[100]}' 400
bad "resize negative" $samples/rocket.jpg '{"resize":[-1,0]}' 400
bad "crop outside the image" $samples/rocket.jpg '{"crop":[600,0,100,100]}' 400
bad "crop of zero width" $samples/rocket.jpg '{"crop":[0,0,0,10]}' 400
if [[ $name == webp ]]; then
	bad "method out of range" $samples/rocket.jpg '{"method":7}' 400
	bad "lossless not a boolean" $samples/rocket.jpg '{"lossless":1}' 400
else
	bad "speed out of range" $samples/rocket.jpg '{"speed":11}' 400
	bad "webp-only key" $samples/rocket.jpg '{"method":4}' 400
fi

# ---- too many pixels (checked from the header, before decoding) ----
bad "max_pixels below the JPEG size" $samples/grace_hopper.jpg '{"max_pixels":300000}' 413
bad "max_pixels below the PNG size" $data/chelsea.png '{"max_pixels":1000}' 413
# A 65535x65535 GIF header (4.3 gigapixels) with no image data: must be refused from the header alone.
printf 'GIF89a\xff\xff\xff\xff\x00\x00\x00;' >"$tmp/huge.gif"
bad "GIF header of 65535x65535" "$tmp/huge.gif" '' 413
bad "resize above max_pixels" $samples/palette_color.png '{"resize":[2000,2000],"max_pixels":1000000}' 413

# ---- sandbox only: GET, and on_error after a timeout ----
if [[ $mode == sandbox ]]; then
	"$kvmrun" --method GET --out "$tmp/get.out" --json "$tmp/get.json" "$program" >/dev/null 2>&1 || true
	if grep -q '"status": *400' "$tmp/get.json" && grep -q 'X-Failed: GET is not supported' "$tmp/get.json"; then
		pass "GET answers 400 with X-Failed"
	else fail "GET answers 400 with X-Failed" "$(head -c 300 "$tmp/get.json")"; fi
	# A 1 ms limit stops the conversion; on_error must answer the original bytes, with X-Failed.
	"$kvmrun" --body $samples/rocket.jpg --content-type image/jpeg --max-request-time 0.001 --out "$tmp/oe.out" \
		--json "$tmp/oe.json" "$program" >/dev/null 2>&1 || true
	if grep -q '"on_error_used": *true' "$tmp/oe.json" && grep -q 'X-Failed: ' "$tmp/oe.json" &&
		grep -q '"content_type": *"image/jpeg"' "$tmp/oe.json" && cmp -s "$tmp/oe.out" $samples/rocket.jpg; then
		pass "on_error after a timeout answers the original bytes"
	else fail "on_error after a timeout answers the original bytes" "$(head -c 400 "$tmp/oe.json")"; fi
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
