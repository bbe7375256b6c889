#!/usr/bin/env bash
# Native throughput of the minify program on the corpus files: the size reduction, the in-process speed
# (`minify --bench`, no process start-up or I/O) and the time of one whole command run (start-up, read, minify,
# write). Prints a Markdown table for docs.
# Usage: bench.sh [PROGRAM] [ITERATIONS]   (defaults: src-native/build/programs/minify, 20)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROGRAM=${1:-$HERE/../../../build/programs/minify}
ITERATIONS=${2:-20}
DATA=$HERE/../testdata
[ -x "$PROGRAM" ] || { echo "minify program not found: $PROGRAM (make -C src-native programs)" >&2; exit 2; }

echo "minify native benchmark: $ITERATIONS iterations per file, $(uname -m), $(nproc) CPU(s)"
echo
echo "| file | type | input bytes | output bytes | reduction | in-process MB/s | ms per command run |"
echo "|---|---|---:|---:|---:|---:|---:|"
for entry in twitter.json:json:application/json jquery.js:js:text/javascript bootstrap.css:css:text/css \
	im-architecture.html:html:text/html; do
	IFS=: read -r file type ctype <<<"$entry"
	read -r _ in out seconds mbps < <("$PROGRAM" --bench "$ITERATIONS" "$type" <"$DATA/$file")
	start=$(date +%s%N)
	for _ in $(seq 1 "$ITERATIONS"); do
		"$PROGRAM" '' "$ctype" <"$DATA/$file" >/dev/null 2>&1
	done
	end=$(date +%s%N)
	ms=$(awk -v ns=$((end - start)) -v n="$ITERATIONS" 'BEGIN { printf "%.2f", ns / n / 1e6 }')
	reduction=$(awk -v a="$in" -v b="$out" 'BEGIN { printf "%.1f%%", (a - b) * 100 / a }')
	echo "| $file | $type | $in | $out | $reduction | $mbps | $ms |"
done
