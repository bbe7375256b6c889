#!/usr/bin/env bash
# Times the Rust example (sdk/examples/json_minify.rs) natively and in the sandbox, as the image programs' benchmark
# does: natively the whole process (median of RUNS), in the sandbox the request (`kvmrun --repeat RUNS`'s
# request_p50_us: copying the input in, the work, the response; boot not counted). The input is COPIES of the JSON
# file in one array (16 of twitter.json: 10 MB), so that starting a process (about 1 ms) is small against the work.
# Prints a Markdown row. Usage (from src-native/, after `make`): RUNS=21 bash sdk/bench-rust.sh [JSON FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-21}
source=${1:-/work/shared/corpus/text/twitter.json}
copies=${COPIES:-16}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
input=$tmp/input.json
{
	printf '['
	for ((i = 0; i < copies; i++)); do
		((i == 0)) || printf ','
		cat "$source"
	done
	printf ']'
} >"$input"
rustc --edition 2021 -O -C target-feature=+crt-static -o "$tmp/json_minify" sdk/examples/json_minify.rs
native=()
for ((i = 0; i < runs; i++)); do
	start=$(date +%s%N)
	"$tmp/json_minify" <"$input" >/dev/null
	native+=($((($(date +%s%N) - start) / 1000)))
done
native_p50=$(printf '%s\n' "${native[@]}" | sort -n | sed -n "$((runs / 2 + 1))p")
build/bin/kvmrun --method POST --body "$input" --repeat "$runs" --warmup 3 --json "$tmp/run.json" --max-memory 256 \
	--out "$tmp/out" "$tmp/json_minify" >/dev/null
sandbox_p50=$(sed -n 's/.*"request_p50_us": *\([0-9]*\).*/\1/p' "$tmp/run.json")
"$tmp/json_minify" <"$input" | cmp -s - "$tmp/out" || { echo "bench-rust: the sandbox's output differs" >&2; exit 1; }
echo "| file | bytes in / out | native µs (process) | sandbox µs (request) | sandbox/native | rustc |"
echo "|---|---|---|---|---|---|"
echo "| $copies × $(basename "$source") | $(stat -c %s "$input") / $(stat -c %s "$tmp/out") | $native_p50 | $sandbox_p50 |" \
	"$(awk -v s="$sandbox_p50" -v n="$native_p50" 'BEGIN { printf "%.2f", s / n }') | $(rustc --version | cut -d' ' -f2) |"
