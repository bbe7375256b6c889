#!/usr/bin/env bash
# Throughput of the minify program on the corpus files: the size reduction, the native in-process speed
# (`minify --bench`: no process start-up or I/O), the time of one whole native command run (start-up, read,
# minify, write) and, when kvmrun is built, the median time of one request inside the sandbox (VM already
# booted; includes copying the body in and out). Prints a Markdown table for docs.
# Usage: bench.sh [PROGRAM] [ITERATIONS]   (defaults: src-native/build/programs/minify, 20)
# Environment: KVMRUN=path (default src-native/build/bin/kvmrun)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROGRAM=${1:-$HERE/../../../build/programs/minify}
ITERATIONS=${2:-20}
KVMRUN=${KVMRUN:-$HERE/../../../build/bin/kvmrun}
DATA=$HERE/../../../../samples # the repository's sample files
[ -x "$PROGRAM" ] || { echo "minify program not found: $PROGRAM (make -C src-native programs)" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "minify benchmark: $ITERATIONS iterations per file, $(uname -m), $(nproc) CPU(s)"
[ -x "$KVMRUN" ] || echo "(sandbox column skipped: kvmrun not built at $KVMRUN)"
echo
echo "| file | type | input bytes | output bytes | reduction | native in-process MB/s | native ms per command run | sandbox ms per request (p50) |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for entry in twitter.json:json:application/json jquery.js:js:text/javascript bootstrap.css:css:text/css \
	im-architecture.html:html:text/html; do
	IFS=: read -r file type ctype <<<"$entry"
	read -r _ in out _ mbps < <("$PROGRAM" --bench "$ITERATIONS" "$type" <"$DATA/$file")
	start=$(date +%s%N)
	for _ in $(seq 1 "$ITERATIONS"); do
		"$PROGRAM" '' "$ctype" <"$DATA/$file" >/dev/null 2>&1
	done
	end=$(date +%s%N)
	ms=$(awk -v ns=$((end - start)) -v n="$ITERATIONS" 'BEGIN { printf "%.2f", ns / n / 1e6 }')
	reduction=$(awk -v a="$in" -v b="$out" 'BEGIN { printf "%.1f%%", (a - b) * 100 / a }')
	sandbox=-
	if [ -x "$KVMRUN" ] && "$KVMRUN" --method POST --body "$DATA/$file" --content-type "$ctype" --out "$TMP/out" \
		--json "$TMP/result.json" --repeat "$ITERATIONS" "$PROGRAM" >/dev/null 2>&1; then
		sandbox=$(node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
			console.log((r.timings.request_p50_us / 1000).toFixed(2))' "$TMP/result.json" 2>/dev/null || echo '?')
	fi
	echo "| $file | $type | $in | $out | $reduction | $mbps | $ms | $sandbox |"
done
