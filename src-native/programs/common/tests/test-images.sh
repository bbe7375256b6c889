#!/usr/bin/env bash
# Tests an image program (webp, avif or image) on real images and on broken input, checking every output with
# independent tools: dwebp / avifdec (strict mode, its default) and ImageMagick decode it, the decoded size must
# match, and the SSIM of its luma against ImageMagick's own decoding of the source must reach a threshold.
# Animations are read back with libwebp's animation decoder (tools/webp-frames.c: ImageMagick 6 composites
# animated WebP wrongly) and compared frame by frame, with their delays and loop count. Resizes are compared with
# ImageMagick's Lanczos in linear light; colour with ImageMagick's Little CMS conversion through ICC profiles.
#
# usage: programs/common/tests/test-images.sh webp|avif|image [native|sandbox]      (run from src-native/)
#   native  (default) runs build/programs/NAME as a command: ARG_JSON CONTENT_TYPE < input > output,
#           status and headers on stderr.
#   sandbox runs the same cases through build/bin/kvmrun (the intended interface:
#           kvmrun --method POST --body FILE --arg JSON --content-type CT --out OUT --json RESULT.json PROGRAM).
#           The watermark cases run it as a program of a library written in the temporary directory
#           (kvmrun --library), whose allowed_paths grant it the mark files.
#           The mode may also be chosen with KVMFILTER_TEST_MODE=sandbox; KVMRUN=PATH selects another kvmrun.
#           Skipped while kvmrun does not exist.
# Prints one line per case and ends with "N passed, N failed"; exits non-zero when a case fails.
set -euo pipefail
cd "$(dirname "$0")/../../.."   # src-native/

name=${1:?usage: $0 webp|avif|image [native|sandbox]}
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

case "$name" in webp | avif | image) ;; *) echo "unknown program '$name' (webp, avif or image)" >&2; exit 2 ;; esac
case "$mode" in native | sandbox) ;; *) echo "unknown mode '$mode' (native or sandbox)" >&2; exit 2 ;; esac
[[ -x "$program" ]] || { echo "$program is not built (make -C src-native programs)" >&2; exit 2; }
if [[ $mode == sandbox && ! -x "$kvmrun" ]]; then
	echo "SKIP all $name sandbox cases: $kvmrun does not exist yet (the lead builds it on branch main)"
	echo "0 passed, 0 failed"
	exit 0
fi
for tool in convert identify compare dwebp cwebp img2webp webpmux avifdec; do
	command -v "$tool" >/dev/null || { echo "missing test tool $tool (see src-native/mk/packages-test.txt)" >&2; exit 2; }
done

# The helpers: SSIM (ImageMagick 6 has no SSIM metric), an animated WebP reader, ICC profiles for sRGB and P3.
gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$tmp/ssim" programs/common/tools/ssim.c -lm
gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$tmp/webp-frames" programs/common/tools/webp-frames.c -lwebpdemux -lwebp
gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$tmp/make-icc" programs/common/tools/make-icc.c -lm
"$tmp/make-icc" srgb "$tmp/srgb.icc"
"$tmp/make-icc" p3 "$tmp/p3.icc"
srgb="$tmp/srgb.icc"

# lanczos WxH: ImageMagick options for the resize the programs do (Lanczos-3 in linear light).
lanczos() { echo "-colorspace RGB -filter Lanczos -resize $1! -colorspace sRGB"; }

# SSIM threshold for the default quality (webp 80, avif 60). Measured on these files and the corpus: 0.93-0.98
# (cwebp -q 80 gives identical numbers for webp). A wrongly oriented, mirrored, shifted or channel-swapped image
# scores far lower (rocket.jpg against itself rotated 180 degrees: 0.56), so 0.90 separates right from wrong
# while leaving room for other library versions. Resize cases make the reference with ImageMagick's Lanczos
# filter in linear light, the same filter as ours, so they compare the same scaling.
ssim_min=0.90

# run ARG CONTENT_TYPE INPUT OUT: runs the program; sets rc, status, xfailed. In the sandbox, with library=FILE set,
# the program is run as program $name of that program library (kvmrun --library), which grants it host files
# through allowed_paths (the watermark cases).
run() {
	local arg=$1 ct=$2 input=$3 out=$4 target=$program
	local from=()
	rc=0
	if [[ $mode == native ]]; then
		"$program" "$arg" "$ct" <"$input" >"$out" 2>"$tmp/stderr" || rc=$?
		status=$(sed -n 's/^status: //p' "$tmp/stderr" | head -1)
		xfailed=$(sed -n 's/^X-Failed: //p' "$tmp/stderr" | head -1)
	else
		rm -f "$out" "$tmp/result.json"
		if [[ -n ${library:-} ]]; then from=(--library "$library"); target=$name; fi
		"$kvmrun" "${from[@]}" --method POST --body "$input" --arg "$arg" --content-type "$ct" --out "$out" \
			--json "$tmp/result.json" "$target" >"$tmp/stderr" 2>&1 || rc=$?
		status=$(grep -o '"status"[[:space:]]*:[[:space:]]*[0-9]*' "$tmp/result.json" 2>/dev/null | grep -o '[0-9]*$' | head -1 || true)
		# kvmrun --json lists response headers as JSON strings: "X-Failed: reason" (with \" escapes).
		xfailed=$(grep -io '"x-failed: \([^"\\]\|\\.\)*"' "$tmp/result.json" 2>/dev/null | head -1 |
			sed 's/^"[^:]*: //; s/"$//; s/\\"/"/g' || true)
		[[ -f $out ]] || : >"$out"
	fi
}

pass() { echo "PASS $name: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $name: $1: $2"; failed=$((failed + 1)); }

# kind FILE: webp, avif, jpeg, png or unknown, from the first bytes.
kind() {
	local magic
	magic=$(head -c 12 "$1" | od -An -tx1 | tr -d ' \n')
	case $magic in
	52494646????????57454250) echo webp ;;
	????????66747970*) echo avif ;;
	ffd8ff*) echo jpeg ;;
	89504e47*) echo png ;;
	*) echo unknown ;;
	esac
}

# decode OUT PNG: decodes the program's output with the independent decoder into a PNG (keeps alpha).
decode() {
	case $(kind "$1") in
	webp) dwebp -quiet "$1" -pam -o "$tmp/decoded.pam" && convert "$tmp/decoded.pam" "PNG32:$2" ;;
	avif) avifdec "$1" "$2" >/dev/null ;;
	jpeg | png) convert "$1" "PNG32:$2" ;;
	*) echo "output is not an image: $(head -c 16 "$1" | od -An -tx1)" >&2; return 1 ;;
	esac
}

# good NAME INPUT ARG EXPECTED_WxH [IM_OPS...]: a valid conversion. The output must decode with the independent
# decoder and with ImageMagick, have the expected size, and match `convert INPUT -auto-orient IM_OPS` by SSIM.
# Set ref=FILE for the call to compare against FILE instead of INPUT; set region=WxH+X+Y to also require the SSIM
# of that part alone (where a watermark lands: a small part barely moves the whole image's SSIM).
good() {
	local case=$1 input=$2 arg=$3 want=$4
	shift 4
	local out="$tmp/out.$name" size im_size ssim region_ssim=''
	run "$arg" "" "$input" "$out"
	if [[ $rc -ne 0 || $status != 200 ]]; then
		fail "$case" "exit $rc, status '$status', X-Failed '$xfailed'; output: $(tail -c 600 "$tmp/stderr" | tr '\n' ' ')"
		return
	fi
	if ! decode "$out" "$tmp/decoded.png" 2>"$tmp/decode.err"; then fail "$case" "output does not decode: $(head -c 300 "$tmp/decode.err")"; return; fi
	size=$(identify -format '%wx%h' "$tmp/decoded.png")
	im_size=$(identify -format '%wx%h' "$out" 2>/dev/null || echo "ImageMagick cannot read it")
	if [[ $size != "$want" || $im_size != "$want" ]]; then fail "$case" "size $size (ImageMagick: $im_size), expected $want"; return; fi
	# The source's ICC profile (rocket.jpg is Adobe RGB) converted to sRGB, as the programs do by default;
	# ImageMagick assigns the sRGB profile to an image without one, which changes nothing.
	# -quiet: ImageMagick's XML parser complains about the XMP packet of a corpus photo (hubble1080.jpg); the
	# pixels are what is compared.
	convert -quiet "${ref:-$input}[0]" -auto-orient -profile "$srgb" "$@" +repage -background gray50 -flatten -depth 8 "ppm:$tmp/ref.ppm"
	convert "$tmp/decoded.png" -background gray50 -flatten -depth 8 "ppm:$tmp/got.ppm"
	if ! ssim=$("$tmp/ssim" "$tmp/ref.ppm" "$tmp/got.ppm" 2>&1); then fail "$case" "SSIM: $ssim"; return; fi
	if [[ -n ${region:-} ]]; then
		convert "$tmp/ref.ppm" -crop "$region" +repage "ppm:$tmp/ref-region.ppm"
		convert "$tmp/got.ppm" -crop "$region" +repage "ppm:$tmp/got-region.ppm"
		if ! region_ssim=$("$tmp/ssim" "$tmp/ref-region.ppm" "$tmp/got-region.ppm" 2>&1); then fail "$case" "SSIM of $region: $region_ssim"; return; fi
	fi
	if ! awk -v s="$ssim" -v r="${region_ssim:-1}" -v m="${min:-$ssim_min}" 'BEGIN { exit !(s >= m && r >= m) }'; then
		fail "$case" "SSIM $ssim${region_ssim:+, $region_ssim in $region}: below ${min:-$ssim_min}"
	else
		pass "$case ($want, SSIM $ssim${region_ssim:+, $region_ssim in $region})"
	fi
}

# bad NAME INPUT ARG STATUS [TEXT]: a rejected request: exact status, X-Failed present (and containing TEXT,
# e.g. the option's name), non-zero exit, no image output.
bad() {
	local case=$1 input=$2 arg=$3 want=$4 text=${5:-}
	local out="$tmp/out.$name"
	run "$arg" "" "$input" "$out"
	if [[ $status != "$want" ]]; then fail "$case" "status '$status', expected $want (X-Failed '$xfailed')"
	elif [[ -z $xfailed ]]; then fail "$case" "no X-Failed header"
	elif [[ -n $text && $xfailed != *"$text"* ]]; then fail "$case" "X-Failed '$xfailed' does not mention $text"
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
# EXIF orientation outside JPEG: a PNG eXIf chunk (testdata/orient-6-exif.png: orient-1's pixels, tagged 6) and
# a WebP EXIF chunk (cwebp -metadata exif keeps orient-6.jpg's) are applied too, as libvips and browsers do.
ref=$data/orient-6.jpg good "PNG eXIf orientation 6" $data/orient-6-exif.png '' 80x120
cwebp -quiet -q 95 -metadata exif $data/orient-6.jpg -o "$tmp/orient-6.webp"
ref=$data/orient-6.jpg good "WebP EXIF orientation 6" "$tmp/orient-6.webp" '' 80x120
good "resize width, keep aspect" $samples/rocket.jpg '{"resize":[200,0]}' 200x133 $(lanczos 200x133)
good "resize height, keep aspect" $samples/rocket.jpg '{"resize":[0,100]}' 150x100 $(lanczos 150x100)
good "resize both" $samples/grace_hopper.jpg '{"resize":[300,300]}' 300x300 $(lanczos 300x300)
good "enlarge" $samples/palette_color.png '{"resize":[40,40]}' 40x40 $(lanczos 40x40)
good "crop" $samples/grace_hopper.jpg '{"crop":[100,50,200,150]}' 200x150 -crop 200x150+100+50 +repage
good "crop then resize" $samples/grace_hopper.jpg '{"crop":[100,50,200,150],"resize":[100,0]}' 100x75 \
	-crop 200x150+100+50 +repage $(lanczos 100x75)
good "crop on the oriented image" $data/orient-6.jpg '{"crop":[0,0,80,60]}' 80x60 -crop 80x60+0+0 +repage
good "quality option" $samples/rocket.jpg '{"quality":90}' 640x427
good "odd size 3x5" $data/alpha.png '{"crop":[58,38,3,5]}' 3x5 -crop 3x5+58+38 +repage
good "single pixel" $data/alpha.png '{"crop":[60,40,1,1]}' 1x1 -crop 1x1+60+40 +repage
# A still GIF made from a frame of the animated sample.
convert "$samples/no_time_for_that_tiny.gif[0]" "$tmp/still.gif"
good "GIF still" "$tmp/still.gif" '' 14x25
if [[ $name != avif ]]; then
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
	good "GIF input" "$tmp/still.gif" '{"speed":10}' 14x25
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
if [[ $name != avif ]]; then
	bad "method out of range" $samples/rocket.jpg '{"method":7}' 400 method
	bad "lossless not a boolean" $samples/rocket.jpg '{"lossless":1}' 400 lossless
else
	bad "speed out of range" $samples/rocket.jpg '{"speed":11}' 400 speed
	bad "webp-only key" $samples/rocket.jpg '{"method":4}' 400 method
fi

# ---- too many pixels (checked from the header, before decoding) ----
bad "max_pixels below the JPEG size" $samples/grace_hopper.jpg '{"max_pixels":300000}' 413
bad "max_pixels below the PNG size" $data/chelsea.png '{"max_pixels":1000}' 413
# A 65535x65535 GIF header (4.3 gigapixels) with no image data: must be refused from the header alone.
printf 'GIF89a\xff\xff\xff\xff\x00\x00\x00;' >"$tmp/huge.gif"
bad "GIF header of 65535x65535" "$tmp/huge.gif" '' 413
bad "resize above max_pixels" $samples/palette_color.png '{"resize":[2000,2000],"max_pixels":1000000}' 413

# ---- animation: GIF, APNG and animated WebP become animated WebP (webp, image); refused elsewhere ----
# References: the APNG's frames composited with ImageMagick from its source frames (testdata/anim-frames, made
# into testdata/animated.png by tools/make-apng.py: 4 frames, 100/150/200/50 ms, 3 plays, every dispose_op and
# blend_op); a GIF made from the same frames with every disposal, composited by ImageMagick's -coalesce; an
# animated WebP made by img2webp from the composited frames.
frames=$data/anim-frames
mkdir -p "$tmp/apng-ref" "$tmp/gif-ref"
convert $frames/f1.png PNG32:"$tmp/apng-ref/ref-0.png"
convert "$tmp/apng-ref/ref-0.png" $frames/f2.png -geometry +4+4 -compose Over -composite PNG32:"$tmp/apng-ref/ref-1.png"
# frame 2 is disposed to the background (its rectangle cleared), frame 3 replaces its rectangle (blend source)
convert "$tmp/apng-ref/ref-0.png" -region 20x16+4+4 -alpha transparent +region PNG32:"$tmp/after-2.png"
convert "$tmp/after-2.png" $frames/f3.png -geometry +28+12 -compose Copy -composite PNG32:"$tmp/apng-ref/ref-2.png"
# frame 3 is disposed to the previous state, so frame 4 is drawn over the canvas as it was after frame 2
convert "$tmp/after-2.png" $frames/f4.png -geometry +0+0 -compose Over -composite PNG32:"$tmp/apng-ref/ref-3.png"
convert -dispose none -delay 10 $frames/f1.png -dispose background -delay 15 -page +4+4 $frames/f2.png \
	-dispose previous -delay 20 -page +28+12 $frames/f3.png -dispose none -delay 5 -page +0+0 $frames/f4.png \
	-loop 3 "$tmp/animated.gif"
convert "$tmp/animated.gif" -coalesce PNG32:"$tmp/gif-ref/ref-%d.png"
r="$tmp/apng-ref"
img2webp -loop 2 -lossless -d 80 $r/ref-0.png -d 120 $r/ref-1.png -d 60 $r/ref-2.png -d 40 $r/ref-3.png \
	-o "$tmp/animated.webp" >/dev/null 2>&1

# anim_good CASE INPUT ARG WxH FRAMES "DURATIONS" LOOP REFDIR [IM_OPS...]: the output is an animated WebP whose
# frame count and loop count (in the container, per webpmux, and as libwebp plays it), delays and size are the
# expected ones, and whose every frame matches REFDIR/ref-N.png with IM_OPS applied: within 1% per channel when
# exact=1, else by SSIM (at least $min, default $ssim_min).
anim_good() {
	local case=$1 input=$2 arg=$3 want=$4 frames=$5 durations=$6 loop=$7 refs=$8
	shift 8
	local out="$tmp/anim.out" got info delays worst=1 i ssim ae
	run "$arg" "" "$input" "$out"
	if [[ $rc -ne 0 || $status != 200 ]]; then fail "$case" "exit $rc, status '$status', X-Failed '$xfailed'"; return; fi
	if [[ $(kind "$out") != webp ]]; then fail "$case" "output is $(kind "$out"), not WebP"; return; fi
	rm -f "$tmp"/frame-*.pam
	if ! got=$("$tmp/webp-frames" "$out" "$tmp/frame" 2>&1); then fail "$case" "libwebp cannot play it: $got"; return; fi
	info=$(webpmux -info "$out" 2>&1)
	delays=$(grep -E '^[0-9]+ ' <<<"$got" | awk '{print $2}' | xargs)
	if ! grep -q "Number of frames: $frames\$" <<<"$info" || ! grep -q "Loop Count : $loop\$" <<<"$info"; then
		fail "$case" "webpmux: $(grep -E 'frames|Loop' <<<"$info" | tr '\n' ' '), expected $frames frames, loop $loop"; return
	fi
	if [[ $(grep '^frames' <<<"$got") != "frames $frames" || $(grep '^loop' <<<"$got") != "loop $loop" ]]; then
		fail "$case" "played: $(grep -E '^(frames|loop)' <<<"$got" | tr '\n' ' ')"; return
	fi
	if [[ $delays != "$durations" ]]; then fail "$case" "delays '$delays' ms, expected '$durations'"; return; fi
	if [[ $(identify -format '%wx%h' "$tmp/frame-0.pam") != "$want" ]]; then
		fail "$case" "size $(identify -format '%wx%h' "$tmp/frame-0.pam"), expected $want"; return
	fi
	for ((i = 0; i < frames; i++)); do
		convert "$refs/ref-$i.png" "$@" +repage -background gray50 -flatten -depth 8 "ppm:$tmp/ref.ppm"
		convert "$tmp/frame-$i.pam" -background gray50 -flatten -depth 8 "ppm:$tmp/got.ppm"
		if [[ ${exact:-0} == 1 ]]; then
			ae=$(compare -metric AE -fuzz 1% "$tmp/ref.ppm" "$tmp/got.ppm" null: 2>&1 || true)
			if [[ $ae != 0 ]]; then fail "$case" "frame $i: $ae pixels differ from the reference"; return; fi
		else
			ssim=$("$tmp/ssim" "$tmp/ref.ppm" "$tmp/got.ppm")
			if ! awk -v s="$ssim" -v m="${min:-$ssim_min}" 'BEGIN { exit !(s >= m) }'; then
				fail "$case" "frame $i: SSIM $ssim below ${min:-$ssim_min}"; return
			fi
			worst=$(awk -v a="$worst" -v b="$ssim" 'BEGIN { print (b < a ? b : a) }')
		fi
	done
	pass "$case ($want, $frames frames, $durations ms, loop $loop$([[ ${exact:-0} == 1 ]] && echo ', exact' || echo ", SSIM >= $worst"))"
}

lossless='{"lossless":true}'
if [[ $name != avif ]]; then
	exact=1 anim_good "APNG: frames, delays, plays, dispose and blend" $data/animated.png "$lossless" 48x32 4 \
		"100 150 200 50" 3 "$tmp/apng-ref"
	exact=1 anim_good "GIF: frames, delays, loop, every disposal" "$tmp/animated.gif" "$lossless" 48x32 4 \
		"100 150 200 50" 3 "$tmp/gif-ref"
	exact=1 anim_good "animated WebP: frames, delays, loop" "$tmp/animated.webp" "$lossless" 48x32 4 \
		"80 120 60 40" 2 "$tmp/apng-ref"
	anim_good "APNG to lossy WebP" $data/animated.png '' 48x32 4 "100 150 200 50" 3 "$tmp/apng-ref"
	min=0.98 anim_good "animation resized: every frame the same size" $data/animated.png \
		'{"width":24,"lossless":true}' 24x16 4 "100 150 200 50" 3 "$tmp/apng-ref" $(lanczos 24x16)
	min=0.98 anim_good "animation cropped (cover): every frame the same crop" "$tmp/animated.gif" \
		'{"width":16,"height":16,"lossless":true}' 16x16 4 "100 150 200 50" 3 "$tmp/gif-ref" \
		-crop 32x32+8+0 +repage $(lanczos 16x16)
	# The 24-frame sample against ImageMagick's frames and delays, and gif2webp's loop count.
	convert $samples/no_time_for_that_tiny.gif -coalesce PNG32:"$tmp/gif-ref/sample-%d.png"
	for f in "$tmp"/gif-ref/sample-*.png; do n=${f##*-}; mv "$f" "$tmp/gif-ref/s-ref-${n%.png}.png"; done
	mkdir -p "$tmp/sample-ref"
	for f in "$tmp"/gif-ref/s-ref-*.png; do mv "$f" "$tmp/sample-ref/${f##*/s-}"; done
	sample_delays=$(identify -format '%T ' $samples/no_time_for_that_tiny.gif | awk '{ for (i = 1; i <= NF; i++) printf "%s%d", (i > 1 ? " " : ""), $i * 10 }')
	gif2webp -quiet $samples/no_time_for_that_tiny.gif -o "$tmp/gif2webp.webp"
	sample_loop=$(webpmux -info "$tmp/gif2webp.webp" | sed -n 's/.*Loop Count : \([0-9]*\).*/\1/p')
	anim_good "24-frame GIF sample (delays from ImageMagick, loop as gif2webp)" $samples/no_time_for_that_tiny.gif \
		'' 14x25 24 "$sample_delays" "$sample_loop" "$tmp/sample-ref"
	bad "more frames than max_frames" $data/animated.png '{"max_frames":3}' 413 max_frames
else
	for input in $data/animated.png "$tmp/animated.gif" "$tmp/animated.webp"; do
		bad "animated $(kind "$input" | sed 's/unknown/GIF/') input refused: original served" "$input" '' 415 "animated input:"
	done
fi
if [[ $name == image ]]; then
	for format in avif jpeg png; do
		bad "animated input refused for format $format" $data/animated.png "{\"format\":\"$format\"}" 415 "animated input:"
	done
fi
# Broken animations fail as a whole (the filter serves the original), never as a shorter animation. The avif
# program refuses them as animated from their container structure, before decoding anything.
if [[ $name == avif ]]; then broken=415 broken_text="animated input:"; else broken=422 broken_text=""; fi
bad "APNG: acTL announces more frames than there are" $data/animated-5-announced.png '' $broken \
	"${broken_text:-announces 5 frames}"
head -c 450 $data/animated.png >"$tmp/apng-truncated.png"
bad "APNG truncated inside a frame" "$tmp/apng-truncated.png" '' $broken "$broken_text"
cp $data/animated.png "$tmp/apng-corrupt.png"
printf '\x55' | dd of="$tmp/apng-corrupt.png" bs=1 seek=400 conv=notrunc status=none
bad "APNG with a damaged frame (CRC mismatch)" "$tmp/apng-corrupt.png" '' $broken "$broken_text"
size=$(stat -c %s "$tmp/animated.gif")
head -c $((size * 3 / 4)) "$tmp/animated.gif" >"$tmp/gif-truncated.gif"
bad "GIF animation truncated" "$tmp/gif-truncated.gif" '' $broken "$broken_text"
size=$(stat -c %s "$tmp/animated.webp")
head -c $((size * 3 / 4)) "$tmp/animated.webp" >"$tmp/webp-truncated.webp"
bad "animated WebP truncated" "$tmp/webp-truncated.webp" '' 422

# ---- per-request options: size, fit, gravity, dpr, enlarge (programs/common/image_args.c) ----
# For the image program the output is PNG, so the comparison measures the geometry and the resampling alone:
# SSIM at least 0.98 against ImageMagick's Lanczos in linear light. webp and avif check the same options with
# their lossy output at the usual threshold.
if [[ $name == image ]]; then p='"format":"png",'; geo_min=0.98; else p=''; geo_min=$ssim_min; fi
min=$geo_min good "width only (aspect kept)" $samples/rocket.jpg "{$p\"width\":320}" 320x214 $(lanczos 320x214)
min=$geo_min good "height and dpr 2" $samples/rocket.jpg "{$p\"height\":100,\"dpr\":2}" 300x200 $(lanczos 300x200)
min=$geo_min good "width and dpr 1.5" $samples/rocket.jpg "{$p\"width\":100,\"dpr\":1.5}" 150x100 $(lanczos 150x100)
min=$geo_min good "cover (default fit), centre" $samples/rocket.jpg "{$p\"width\":200,\"height\":200}" 200x200 \
	-crop 427x427+106+0 $(lanczos 200x200)
min=$geo_min good "cover, gravity west" $samples/rocket.jpg "{$p\"width\":200,\"height\":200,\"gravity\":\"west\"}" 200x200 \
	-crop 427x427+0+0 $(lanczos 200x200)
min=$geo_min good "cover, gravity southeast" $samples/grace_hopper.jpg "{$p\"width\":256,\"height\":100,\"gravity\":\"southeast\"}" \
	256x100 -crop 512x200+0+400 $(lanczos 256x100)
min=$geo_min good "cover, gravity north" $samples/grace_hopper.jpg "{$p\"width\":256,\"height\":100,\"gravity\":\"north\"}" \
	256x100 -crop 512x200+0+0 $(lanczos 256x100)
min=$geo_min good "fill stretches" $samples/rocket.jpg "{$p\"width\":300,\"height\":100,\"fit\":\"fill\"}" 300x100 $(lanczos 300x100)
min=$geo_min good "inside fits the box" $samples/rocket.jpg "{$p\"width\":300,\"height\":300,\"fit\":\"inside\"}" 300x200 $(lanczos 300x200)
min=$geo_min good "contain pads to the box" $samples/rocket.jpg "{$p\"width\":200,\"height\":200,\"fit\":\"contain\"}" 200x200 \
	$(lanczos 200x133) -background none -extent 200x200+0-33
min=$geo_min good "no enlarging by default" $samples/rocket.jpg "{$p\"width\":1000}" 640x427
min=$geo_min good "enlarge on request" $samples/rocket.jpg "{$p\"width\":1000,\"enlarge\":true}" 1000x667 $(lanczos 1000x667)
min=$geo_min good "crop, then width" $samples/grace_hopper.jpg "{$p\"crop\":[100,50,200,150],\"width\":100}" 100x75 \
	-crop 200x150+100+50 +repage $(lanczos 100x75)
min=$geo_min good "width on an EXIF-rotated JPEG" $data/orient-6.jpg "{$p\"width\":40}" 40x60 $(lanczos 40x60)
# Small outputs from JPEG decode it at 1/2 or 1/4 of its size first (DCT scaling): the same result.
min=$geo_min good "JPEG shrunk 4x while decoding" $samples/grace_hopper.jpg "{$p\"width\":40}" 40x47 $(lanczos 40x47)
min=$geo_min good "JPEG shrunk 2x while decoding, EXIF-rotated" $data/orient-6.jpg "{$p\"width\":10}" 10x15 $(lanczos 10x15)
min=$geo_min good "JPEG shrunk 2x while decoding, cropped" $samples/grace_hopper.jpg "{$p\"crop\":[100,50,200,150],\"width\":20}" \
	20x15 -crop 200x150+100+50 +repage $(lanczos 20x15)
# gravity smart: detail (a photo) on the right of a flat grey 300x100 canvas (and, turned, at the bottom of a
# 100x300 one); the 100x100 crop must keep the photo: at most 3% of its pixels may be the flat grey (the window
# may start a column or two early, where the photo's edge is itself detail). Centre gravity, the control, gives
# two thirds grey.
convert -size 300x100 xc:'#999999' \( $samples/grace_hopper.jpg -resize '100x100!' \) -geometry +200+0 -composite \
	-depth 8 "$tmp/smart.png"
convert "$tmp/smart.png" -rotate 90 "$tmp/smart-tall.png"
# grey_share FILE: the share of pixels that are exactly the background grey.
grey_share() { convert "$1" -alpha off -fill white -opaque '#999999' -fill black +opaque white -format '%[fx:mean]' info:; }
for gravity in smart center; do
	for input in "$tmp/smart.png" "$tmp/smart-tall.png"; do
		run "{$p\"width\":100,\"height\":100,\"gravity\":\"$gravity\"}" "" "$input" "$tmp/gravity.out"
		decode "$tmp/gravity.out" "$tmp/gravity.png"
		share=$(grey_share "$tmp/gravity.png")
		case="gravity $gravity on $(basename "$input" .png)"
		if [[ $gravity == smart ]] && awk -v s="$share" 'BEGIN { exit !(s <= 0.03) }'; then pass "$case keeps the photo (grey share $share)"
		elif [[ $gravity == center ]] && awk -v s="$share" 'BEGIN { exit !(s >= 0.5) }'; then pass "control: $case is mostly grey ($share)"
		else fail "$case" "grey share $share (status $status)"; fi
	done
done

if [[ $name == image ]]; then
	# Every image of samples/ and of the shared corpus (when present; KVMFILTER_CORPUS names another folder),
	# made 320 wide and cropped to 200x120 (cover), as PNG: SSIM at least 0.98 against ImageMagick.
	corpus=${KVMFILTER_CORPUS:-/work/shared/corpus/images}
	for input in $samples/*.jpg $samples/*.png $data/chelsea.png $([[ -d $corpus ]] && ls "$corpus"/*.jpg "$corpus"/*.png); do
		geometry=$(identify -format '%w %h' "$input[0]" 2>/dev/null)
		read -r iw ih <<<"$geometry"
		h=$(awk -v w="$iw" -v h="$ih" 'BEGIN { v = int(h * 320 / w + 0.5); print v < 1 ? 1 : v }')
		want_w=320 want_h=$h ops=$(lanczos 320x$h)
		if ((iw < 320)); then want_w=$iw want_h=$ih ops=""; fi
		min=0.98 good "corpus $(basename "$input"): width 320" "$input" '{"format":"png","width":320}' ${want_w}x$want_h $ops
		# cover 200x120: the largest 5:3 region, centred (rounded as the program does), then scaled
		crop=$(awk -v w="$iw" -v h="$ih" 'BEGIN {
			if (w * 120 > h * 200) { rw = int(h * 200 / 120 + 0.5); rh = h } else { rw = w; rh = int(w * 120 / 200 + 0.5) }
			printf "%dx%d+%d+%d", rw, rh, int((w - rw) / 2), int((h - rh) / 2) }')
		if ((iw >= 200 && ih >= 120)); then
			min=0.98 good "corpus $(basename "$input"): cover 200x120" "$input" '{"format":"png","width":200,"height":120}' 200x120 \
				-crop "$crop" +repage $(lanczos 200x120)
		fi
	done
	# Output formats and the background colour.
	for format in jpeg png avif webp; do
		run "{\"format\":\"$format\",\"width\":64}" "" $data/alpha.png "$tmp/format.out"
		if [[ $status == 200 && $(kind "$tmp/format.out") == "$format" ]]; then pass "format $format gives $format"
		else fail "format $format gives $format" "status $status, output $(kind "$tmp/format.out")"; fi
	done
	run '{"format":"jpeg","width":200,"height":200,"fit":"contain","background":"ff0000"}' "" $samples/rocket.jpg "$tmp/bg.jpg"
	corner=$(convert "$tmp/bg.jpg" -crop 4x4+2+2 -format '%[fx:int(255*mean.r)] %[fx:int(255*mean.g)] %[fx:int(255*mean.b)]' info: 2>&1)
	if [[ $status == 200 ]] && awk -v c="$corner" 'BEGIN { split(c, v, " "); exit !(v[1] > 240 && v[2] < 15 && v[3] < 15) }'; then
		pass "background colour fills the padding ($corner)"
	else fail "background colour fills the padding" "status $status, corner $corner"; fi
	bad "format not supported" $samples/rocket.jpg '{"format":"gif"}' 400 format
	bad "format auto (resolved by the filter)" $samples/rocket.jpg '{"format":"auto"}' 400 format
	bad "speed with format webp" $samples/rocket.jpg '{"speed":5}' 400 speed
	bad "method with format avif" $samples/rocket.jpg '{"format":"avif","method":3}' 400 method
	bad "lossless with format jpeg" $samples/rocket.jpg '{"format":"jpeg","lossless":true}' 400 lossless
fi
bad "width 0" $samples/rocket.jpg '{"width":0}' 400 width
bad "width above 16383" $samples/rocket.jpg '{"width":16384}' 400 width
bad "width as a string" $samples/rocket.jpg '{"width":"100"}' 400 width
bad "height negative" $samples/rocket.jpg '{"height":-1}' 400 height
bad "fit unknown" $samples/rocket.jpg '{"width":10,"height":10,"fit":"crop"}' 400 '"cover", "contain", "fill", "inside"'
bad "gravity unknown" $samples/rocket.jpg '{"width":10,"height":10,"gravity":"middle"}' 400 gravity
bad "dpr 0" $samples/rocket.jpg '{"width":10,"dpr":0}' 400 dpr
bad "dpr above 8" $samples/rocket.jpg '{"width":10,"dpr":9}' 400 dpr
bad "dpr as a string" $samples/rocket.jpg '{"width":10,"dpr":"2"}' 400 dpr
bad "enlarge not a boolean" $samples/rocket.jpg '{"width":10,"enlarge":"yes"}' 400 enlarge
bad "background not a colour" $samples/rocket.jpg '{"background":"red"}' 400 background
bad "icc unknown" $samples/rocket.jpg '{"icc":"none"}' 400 icc
bad "resize together with width" $samples/rocket.jpg '{"resize":[10,10],"width":10}' 400 resize
bad "max_frames 0" $samples/rocket.jpg '{"max_frames":0}' 400 max_frames
bad "width times dpr above the largest side" $samples/rocket.jpg '{"width":10000,"enlarge":true,"dpr":2}' 413 "16383"
bad "output above max_pixels" $samples/rocket.jpg '{"width":4000,"height":4000,"enlarge":true,"max_pixels":1000000}' 413 max_pixels

# ---- watermark (programs/common/image_watermark.c) ----
# The mark, made here: shapes with anti-aliased edges and several levels of alpha on a transparent ground, 200x80.
# The references composite it with ImageMagick as docs/writing-programs.md describes: its width a fraction of the
# output's, its height by its aspect ratio, scaled with the same Lanczos in linear light, its alpha times the
# opacity, source-over at the gravity, `margin` (a fraction of the output's width) from the edges it sits against.
mark="$tmp/mark.png"
convert -size 200x80 xc:none -fill 'rgba(255,255,255,0.8)' -stroke 'rgba(0,0,0,0.9)' -strokewidth 3 \
	-draw 'roundrectangle 4,4 195,75 15,15' -stroke none -fill 'rgba(200,30,30,0.9)' -draw 'circle 40,40 40,15' \
	-fill black -draw 'rectangle 80,25 180,55' -fill 'rgba(30,60,220,0.6)' -draw 'polygon 120,10 190,70 60,70' \
	PNG32:"$mark"
printf 'this is not an image\n' >"$tmp/mark.txt"
# In the sandbox the program opens host files only through its library's allowed_paths: the watermark cases run it
# as program $name of this library (kvmrun --library), which grants the two files above and nothing else.
case $program in /*) program_path=$program ;; *) program_path=$PWD/$program ;; esac
printf '{"%s": {"filename": "%s", "allowed_paths": ["%s", "%s"]}}\n' "$name" "$program_path" "$mark" "$tmp/mark.txt" \
	>"$tmp/library.json"
library=$tmp/library.json
# mark_ops W H SIZE OPACITY GRAVITY MARGIN: sets mark_im (ImageMagick options compositing $mark, 200x80, onto a W x H
# output by the rules above) and mark_region (WxH+X+Y, where the mark lands: good's region check). ImageMagick
# centres at W/2 - w/2 (each halved), the programs at (W - w)/2: the cases keep to sizes where the two agree.
mark_ops() {
	local W=$1 H=$2 size=$3 opacity=$4 gravity=$5 margin=$6 w h m x y geometry
	read -r w h m <<<"$(awk -v W="$W" -v s="$size" -v mg="$margin" 'BEGIN { w = int(s * W + 0.5); if (w < 1) w = 1;
		h = int(80 * w / 200 + 0.5); if (h < 1) h = 1; print w, h, int(mg * W + 0.5) }')"
	case $gravity in
	northwest | southwest | west) x=$m ;; northeast | southeast | east) x=$((W - w - m)) ;; *) x=$(((W - w) / 2)) ;;
	esac
	case $gravity in
	northwest | northeast | north) y=$m ;; southwest | southeast | south) y=$((H - h - m)) ;; *) y=$(((H - h) / 2)) ;;
	esac
	# ImageMagick adds the -geometry offset on the centred axis too: 0 there.
	case $gravity in
	center) geometry=+0+0 ;; north | south) geometry=+0+$m ;; east | west) geometry=+$m+0 ;; *) geometry=+$m+$m ;;
	esac
	# +gravity: the setting would otherwise stay for good's own steps after these options.
	mark_im=(\( "$mark" $(lanczos ${w}x$h) -alpha set -channel A -evaluate multiply "$opacity" +channel \)
		-gravity "$gravity" -geometry "$geometry" -compose over -composite +gravity)
	mark_region=${w}x$h+$x+$y
}
wm() { echo "\"watermark\":{\"file\":\"$mark\"$1}"; } # the watermark member, with more members in $1
mark_ops 320 214 0.2 0.5 southeast 0.02
region=$mark_region min=$geo_min good "watermark southeast, default size, opacity and margin" $samples/rocket.jpg \
	"{$p\"width\":320,$(wm '')}" 320x214 $(lanczos 320x214) "${mark_im[@]}"
se_im=("${mark_im[@]}") se_region=$mark_region
mark_ops 256 300 0.5 1 northwest 0
region=$mark_region min=$geo_min good "watermark northwest, opacity 1, size 0.5, margin 0" $samples/grace_hopper.jpg \
	"{$p\"width\":256,$(wm ',"gravity":"northwest","opacity":1,"size":0.5,"margin":0')}" 256x300 $(lanczos 256x300) \
	"${mark_im[@]}"
# size 1 on a 200-wide output: the mark at its own width (not resampled), centred.
mark_ops 200 133 1 0.3 center 0.02
region=$mark_region min=$geo_min good "watermark center, size 1 (the mark's own width), opacity 0.3" $data/chelsea.png \
	"{$p\"width\":200,$(wm ',"gravity":"center","size":1,"opacity":0.3')}" 200x133 $(lanczos 200x133) "${mark_im[@]}"
# Onto transparent pixels: the output's alpha grows where the mark covers it (source-over).
mark_ops 120 80 0.5 0.8 south 0.05
region=$mark_region min=$geo_min good "watermark south on an image with alpha" $data/alpha.png \
	"{$p$(wm ',"gravity":"south","size":0.5,"opacity":0.8,"margin":0.05')}" 120x80 "${mark_im[@]}"
# The mark goes onto the final canvas, padding included (fit contain).
mark_ops 200 200 0.2 1 northeast 0.02
region=$mark_region min=$geo_min good "watermark on the padding of fit contain" $samples/rocket.jpg \
	"{$p\"width\":200,\"height\":200,\"fit\":\"contain\",$(wm ',"gravity":"northeast","opacity":1')}" 200x200 \
	$(lanczos 200x133) -background none -extent 200x200+0-33 "${mark_im[@]}"
# control CASE [good's arguments]: good must fail on its SSIM with these: the check tells such an output from a right
# one, so the cases above could fail.
control() {
	local case=$1 saved_passed=$passed saved_failed=$failed line
	shift
	good "$case" "$@" >"$tmp/control"
	passed=$saved_passed failed=$saved_failed
	line=$(cat "$tmp/control")
	if [[ $line == FAIL*": SSIM "* ]]; then pass "control: $case is refused (SSIM ${line##*: SSIM })"
	else fail "control: $case" "the check accepts it: $line"; fi
}
region=$se_region min=$geo_min control "no mark, against the southeast reference" $samples/rocket.jpg \
	"{$p\"width\":320}" 320x214 $(lanczos 320x214) "${se_im[@]}"
mark_ops 320 214 0.2 0.5 northwest 0.02
region=$mark_region min=$geo_min control "the southeast mark, against a northwest reference" $samples/rocket.jpg \
	"{$p\"width\":320,$(wm '')}" 320x214 $(lanczos 320x214) "${mark_im[@]}"
mark_ops 320 214 0.2 1 southeast 0.02
region=$mark_region min=$geo_min control "opacity 0.5, against an opacity 1 reference" $samples/rocket.jpg \
	"{$p\"width\":320,$(wm '')}" 320x214 $(lanczos 320x214) "${mark_im[@]}"
if [[ $name != avif ]]; then
	# Every frame of an animation carries the mark (scaled once, composited on each).
	mark_ops 48 32 0.5 1 east 0.05
	min=0.98 anim_good "watermark on every frame of an animation" $data/animated.png \
		"{\"lossless\":true,$(wm ',"gravity":"east","size":0.5,"opacity":1,"margin":0.05')}" 48x32 4 \
		"100 150 200 50" 3 "$tmp/apng-ref" "${mark_im[@]}"
fi
bad "watermark gravity unknown" $samples/rocket.jpg "{$(wm ',"gravity":"bottom"')}" 400 '"watermark": "gravity"'
bad "watermark gravity smart" $samples/rocket.jpg "{$(wm ',"gravity":"smart"')}" 400 '"southwest"; got "smart"'
bad "watermark opacity 2" $samples/rocket.jpg "{$(wm ',"opacity":2')}" 400 '"watermark": "opacity"'
bad "watermark size 0" $samples/rocket.jpg "{$(wm ',"size":0')}" 400 '"watermark": "size"'
bad "watermark size above 1" $samples/rocket.jpg "{$(wm ',"size":1.5')}" 400 '"watermark": "size"'
bad "watermark margin above 0.5" $samples/rocket.jpg "{$(wm ',"margin":0.6')}" 400 '"watermark": "margin"'
bad "watermark unknown member" $samples/rocket.jpg "{$(wm ',"position":"se"')}" 400 'unknown key "position"'
bad "watermark without file" $samples/rocket.jpg '{"watermark":{"opacity":0.5}}' 400 'needs "file"'
bad "watermark file not a string" $samples/rocket.jpg '{"watermark":{"file":1}}' 400 '"watermark": "file"'
bad "watermark not an object" $samples/rocket.jpg "{\"watermark\":\"$mark\"}" 400 '"watermark" (byte 13) must be an object'
# The file is the server's configuration, not the request's: a missing or broken one answers 500.
bad "watermark file missing" $samples/rocket.jpg "{\"watermark\":{\"file\":\"$tmp/no-such-mark.png\"}}" 500 \
	"cannot be opened: No such file or directory"
bad "watermark file not an image" $samples/rocket.jpg "{\"watermark\":{\"file\":\"$tmp/mark.txt\"}}" 500 \
	"is not a usable image: unsupported input type"
library=''
if [[ $mode == sandbox ]]; then
	# Without the library the same file is outside the sandbox: the program cannot open it.
	bad "watermark file not in allowed_paths" $samples/rocket.jpg "{$(wm '')}" 500 \
		"No such file or directory (a sandboxed program opens only its library's allowed_paths)"
	# A non-ephemeral instance keeps the decoded mark between requests (image_watermark.c): a sequence of requests
	# on one instance, switching to another mark file and back, must answer what each request answers alone.
	convert "$mark" -flop -negate PNG32:"$tmp/mark2.png"
	printf '{"%s": {"filename": "%s", "ephemeral": false, "allowed_paths": ["%s", "%s"]}}\n' "$name" "$program_path" \
		"$mark" "$tmp/mark2.png" >"$tmp/library-kept.json"
	marks=("{$p\"width\":320,$(wm '')}" "{$p\"width\":320,\"watermark\":{\"file\":\"$tmp/mark2.png\",\"size\":0.3}}")
	for i in 1 2; do
		"$kvmrun" --library "$tmp/library-kept.json" --body $samples/rocket.jpg --arg "${marks[i - 1]}" \
			--out "$tmp/alone-$i.out" "$name" >/dev/null 2>&1 || true
	done
	"$kvmrun" --library "$tmp/library-kept.json" --body $samples/rocket.jpg --arg "${marks[0]}" --arg "${marks[0]}" \
		--arg "${marks[1]}" --arg "${marks[0]}" --out "$tmp/sequence.out" "$name" >/dev/null 2>&1 || true
	for i in 1 1 2 1; do cat "$tmp/alone-$i.out"; echo; done >"$tmp/sequence.want"
	if [[ -s $tmp/alone-1.out && -s $tmp/alone-2.out ]] && ! cmp -s "$tmp/alone-1.out" "$tmp/alone-2.out" &&
		cmp -s "$tmp/sequence.out" "$tmp/sequence.want"; then
		pass "watermark kept between requests of one instance, reloaded for another file"
	else fail "watermark kept between requests of one instance, reloaded for another file" \
		"the sequence's answers differ from the single requests' ($(stat -c %s "$tmp/sequence.out") bytes, want $(stat -c %s "$tmp/sequence.want"))"; fi
fi

# ---- colour: ICC profiles (programs/common/image_colour.c) ----
# testdata/display-p3.png: six saturated sRGB colours and a photo, converted by ImageMagick (Little CMS) to
# Display P3 and tagged with the P3 profile made by tools/make-icc.c. Seen through its profile it must keep its
# colours: by default the programs convert it to sRGB (and drop the profile); with "icc":"keep" they carry the
# profile. The reference is ImageMagick's conversion of the input to sRGB; the colours are compared as the mean of
# the centre of each colour patch (8-bit values, sRGB).
p3=$data/display-p3.png
convert $p3 -profile "$srgb" -depth 8 "ppm:$tmp/p3-ref.ppm"
# patches FILE: the mean R G B (0-255) of the centre 8x8 of each 16x16 colour patch, one line of 18 numbers.
patches() {
	local i out=""
	for i in 0 1 2 3 4 5; do
		out+=$(convert "$1" -crop 8x8+$((i * 16 + 4))+4 +repage -format '%[fx:255*mean.r] %[fx:255*mean.g] %[fx:255*mean.b] ' info:)
	done
	echo "$out"
}
# colours_match CASE FILE TOLERANCE: FILE (already in sRGB) has the reference's patch colours within TOLERANCE.
colours_match() {
	local got want worst
	got=$(patches "$2")
	want=$(patches "$tmp/p3-ref.ppm")
	worst=$(awk -v a="$got" -v b="$want" 'BEGIN { n = split(a, x, " "); split(b, y, " "); m = 0;
		for (i = 1; i <= n; i++) { d = x[i] - y[i]; if (d < 0) d = -d; if (d > m) m = d } printf "%.1f", m }')
	if awk -v w="$worst" -v t="$3" 'BEGIN { exit !(w <= t) }'; then pass "$1 (largest patch difference $worst/255)"
	else fail "$1" "a patch differs by $worst/255 (allowed $3): got $got, want $want"; fi
}
# The control: the same pixels read as sRGB (profile ignored) are far off, so the comparison can fail.
convert $p3 +profile '*' -depth 8 "ppm:$tmp/p3-stripped.ppm"
stripped=$(awk -v a="$(patches "$tmp/p3-stripped.ppm")" -v b="$(patches "$tmp/p3-ref.ppm")" 'BEGIN { n = split(a, x, " ");
	split(b, y, " "); m = 0; for (i = 1; i <= n; i++) { d = x[i] - y[i]; if (d < 0) d = -d; if (d > m) m = d } print m }')
if awk -v m="$stripped" 'BEGIN { exit !(m > 20) }'; then pass "control: P3 read as sRGB is off by $stripped/255"
else fail "control: P3 read as sRGB is off" "only $stripped/255"; fi
case $name in
webp) lossless_arg='"lossless":true' tolerance=2 ;;
avif) lossless_arg='"quality":100' tolerance=8 ;;
image) lossless_arg='"format":"png"' tolerance=1 ;;
esac
run "{$lossless_arg}" "" $p3 "$tmp/p3.out"
decode "$tmp/p3.out" "$tmp/p3-out.png"
colours_match "Display P3 converted to sRGB keeps its colours" "$tmp/p3-out.png" $tolerance
if identify -verbose "$tmp/p3-out.png" 2>/dev/null | grep -qi 'Profile-icc'; then fail "converted output carries no profile" "a profile is present"
else pass "converted output carries no profile"; fi
convert $p3 "$tmp/p3-in.icc"
run "{$lossless_arg,\"icc\":\"keep\"}" "" $p3 "$tmp/p3-keep.out"
case $name in
avif)
	if avifdec --info "$tmp/p3-keep.out" 2>&1 | grep -q 'ICC Profile *: Present (504 bytes)'; then pass "icc keep: AVIF colr prof box"
	else fail "icc keep: AVIF colr prof box" "$(avifdec --info "$tmp/p3-keep.out" 2>&1 | grep -i icc)"; fi
	avifdec "$tmp/p3-keep.out" "$tmp/p3-keep.png" >/dev/null ;;
*)
	if [[ $(kind "$tmp/p3-keep.out") == webp ]]; then
		webpmux -get icc "$tmp/p3-keep.out" -o "$tmp/p3-keep.icc" >/dev/null 2>&1 || true
		if cmp -s "$tmp/p3-keep.icc" "$tmp/p3-in.icc"; then pass "icc keep: WebP ICCP chunk is the input's profile"
		else fail "icc keep: WebP ICCP chunk is the input's profile" "missing or different"; fi
		dwebp -quiet "$tmp/p3-keep.out" -pam -o "$tmp/p3-keep.pam"
		convert "$tmp/p3-keep.pam" -profile "$tmp/p3-in.icc" "$tmp/p3-keep.png"
	else
		convert "$tmp/p3-keep.out" "$tmp/p3-keep.png"
	fi ;;
esac
convert "$tmp/p3-keep.png" -profile "$srgb" -depth 8 "ppm:$tmp/p3-keep.ppm"
colours_match "icc keep: the carried profile gives the same colours" "$tmp/p3-keep.ppm" $tolerance
# The same image as a JPEG (profile in APP2 segments), and resized: conversion happens before resampling.
convert $p3 -quality 98 -sampling-factor 1x1 "$tmp/p3.jpg"
convert "$tmp/p3.jpg" -profile "$srgb" -depth 8 "ppm:$tmp/p3-ref.ppm"
run "{$lossless_arg}" "" "$tmp/p3.jpg" "$tmp/p3-jpeg.out"
decode "$tmp/p3-jpeg.out" "$tmp/p3-jpeg.png"
colours_match "Display P3 JPEG (APP2 profile) converted to sRGB" "$tmp/p3-jpeg.png" $((tolerance + 2))
ssim_min=$geo_min good "Display P3 resized: converted, then scaled in linear light" $p3 "{$lossless_arg,\"width\":48}" 48x40 $(lanczos 48x40)
ssim_min=0.90

# ---- sandbox only: GET, and on_error after a timeout ----
if [[ $mode == sandbox ]]; then
	"$kvmrun" --method GET --out "$tmp/get.out" --json "$tmp/get.json" "$program" >/dev/null 2>&1 || true
	if grep -q '"status": *400' "$tmp/get.json" && grep -q 'X-Failed: GET needs ?url=SOURCE' "$tmp/get.json"; then
		pass "GET without ?url= answers 400 with X-Failed"
	else fail "GET without ?url= answers 400 with X-Failed" "$(head -c 300 "$tmp/get.json")"; fi
	# GET ?url=SOURCE: the input fetched from an origin (python3's http.server on 127.0.0.1) that the library's
	# egress policy allows; one it does not allow is refused, named.
	mkdir -p "$tmp/www"
	cp $samples/rocket.jpg "$tmp/www/rocket.jpg"
	source tests/http-origin.sh
	start_origin "$tmp/www"
	port=$origin_port
	printf '{ "p": { "filename": "%s", "egress": { "hosts": ["127.0.0.1"], "ports": [%s], "addresses": ["127.0.0.1"] } } }' \
		"$(realpath "$program")" "$port" >"$tmp/egress.json"
	"$kvmrun" --library "$tmp/egress.json" --method GET --out "$tmp/fetched.out" --json "$tmp/fetched.json" \
		--url "/thumb?url=http%3A%2F%2F127.0.0.1%3A$port%2Frocket.jpg&options=%7B%22width%22%3A40%7D" p >/dev/null 2>&1 || true
	if grep -q '"status": *200' "$tmp/fetched.json" && decode "$tmp/fetched.out" "$tmp/fetched.png" &&
		[[ $(identify -format '%w' "$tmp/fetched.png") == 40 ]]; then
		pass "GET ?url= fetches the input from an allowed origin and converts it (&options= width 40)"
	else fail "GET ?url= fetches the input from an allowed origin and converts it (width 40)" "$(head -c 300 "$tmp/fetched.json")"; fi
	"$kvmrun" --library "$tmp/egress.json" --method GET --url "/thumb?url=http://localhost:$port/rocket.jpg" \
		--json "$tmp/refused.json" p >/dev/null 2>&1 || true
	if grep -q '"status": *502' "$tmp/refused.json" && grep -q "egress policy does not allow it" "$tmp/refused.json"; then
		pass "GET ?url= of a host the policy does not list answers 502, naming the policy"
	else fail "GET ?url= of a host the policy does not list answers 502, naming the policy" "$(head -c 300 "$tmp/refused.json")"; fi
	stop_origin
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
