#!/usr/bin/env bash
# Runs each argument as one shell command (from the current directory, src-native/), keeps going after a
# failure so one run shows every broken suite, then prints a summary and fails if any command failed.
# Usage: run-commands.sh LABEL [COMMAND...]     (the Makefile passes TEST_COMMANDS or BENCH_COMMANDS)
set -uo pipefail

label=${1:?usage: run-commands.sh LABEL [COMMAND...]}
shift

if (($# == 0)); then
    echo "$label: nothing to run (no fragment adds commands yet)"
    exit 0
fi

passed=0
failed=()
for command in "$@"; do
    echo "$label: running: $command"
    if bash -c "$command"; then
        passed=$((passed + 1))
    else
        status=$?
        echo "$label: FAILED (exit status $status): $command" >&2
        failed+=("$command")
    fi
done

echo "$label: ${passed} passed, ${#failed[@]} failed"
if ((${#failed[@]} > 0)); then
    printf '%s: failed: %s\n' "$label" "${failed[@]}" >&2
    exit 1
fi
