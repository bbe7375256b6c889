#!/usr/bin/env bash
# Times the JSON example programs of the language bindings natively and in the sandbox, as the image programs'
# benchmark does: the Rust one (sdk/examples/json_minify.rs) and the Go one (sdk/go/examples/json_format, compact).
# Natively the whole process (median of RUNS), in the sandbox the request (`kvmrun --repeat RUNS`'s request_p50_us:
# copying the input in, the work, the response; boot not counted). The input is COPIES of the JSON file in one
# array (16 of twitter.json: 10 MB), so that starting a process (about 1 ms) is small against the work. Each
# program's sandbox output is checked against its native output. Prints a Markdown table.
# Usage (from src-native/, after `make`): RUNS=21 bash sdk/bench-json.sh [JSON FILE]
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
(cd sdk/go && CGO_ENABLED=0 GOCACHE="$tmp/gocache" GOPATH="$tmp/gopath" go build -o "$tmp/json_format" ./examples/json_format)

# bench LABEL VERSION MAX_MEMORY_MIB ARG PROGRAM: one row
bench() {
	local label=$1 version=$2 memory=$3 arg=$4 program=$5 native=() i start
	for ((i = 0; i < runs; i++)); do
		start=$(date +%s%N)
		"$program" $arg <"$input" >/dev/null
		native+=($((($(date +%s%N) - start) / 1000)))
	done
	local native_p50 sandbox_p50
	native_p50=$(printf '%s\n' "${native[@]}" | sort -n | sed -n "$((runs / 2 + 1))p")
	build/bin/kvmrun --method POST --body "$input" ${arg:+--arg "$arg"} --repeat "$runs" --warmup 3 \
		--json "$tmp/run.json" --max-memory "$memory" --out "$tmp/out" "$program" >/dev/null 2>&1
	sandbox_p50=$(sed -n 's/.*"request_p50_us": *\([0-9]*\).*/\1/p' "$tmp/run.json")
	exits=$(sed -n 's/.*"exits": *\([0-9]*\).*/\1/p' "$tmp/run.json")
	"$program" $arg <"$input" | cmp -s - "$tmp/out" || { echo "bench-json: $label's sandbox output differs" >&2; exit 1; }
	echo "| $label | $copies × $(basename "$source") | $(stat -c %s "$input") / $(stat -c %s "$tmp/out") | $native_p50 |" \
		"$sandbox_p50 | $(awk -v s="$sandbox_p50" -v n="$native_p50" 'BEGIN { printf "%.2f", s / n }') | $exits | $version |"
}
echo "| program | file | bytes in / out | native µs (process) | sandbox µs (request) | sandbox/native | exits per request | compiler |"
echo "|---|---|---|---|---|---|---|---|"
bench "json_minify (Rust)" "rustc $(rustc --version | cut -d' ' -f2)" 256 "" "$tmp/json_minify"
bench "json_format compact (Go)" "$(go version | cut -d' ' -f3)" 1024 compact "$tmp/json_format"
