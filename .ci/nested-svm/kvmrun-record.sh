#!/usr/bin/env bash
# A stand-in for kvmrun (the program suites take it as KVMRUN=...) that runs the real one, unchanged, and
# records the call for replay.c: the arguments (with the body stored by content), what came out (the
# --json result without its timings, the SHA-256 of the --out file) and the exit status.
#   NESTED_KVMRUN   the real kvmrun        NESTED_CORPUS   where the calls go (calls/, bodies/)
set -uo pipefail
"$NESTED_KVMRUN" "$@"
rc=$?
args=() body='' out='' json=''
while (($#)); do
    case $1 in
        --body) body=$2; args+=(--body @BODY); shift 2 ;;
        --out) out=$2; shift 2 ;;
        --json) json=$2; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
[[ -n $out ]] || exit $rc # the suites always give --out; a call without it is not compared
# A call with --library (the watermark cases grant their mark file through allowed_paths) is not replayed:
# replay.c takes kvmrun's single options only. allowed_paths itself runs in the guest in the C suite (files).
for a in "${args[@]}"; do [[ $a != --library ]] || exit $rc; done
calls=$NESTED_CORPUS/calls
mkdir -p "$calls" "$NESTED_CORPUS/bodies"
call=$(mktemp "$calls/$(printf '%05d' "$(find "$calls" -name '*.args' | wc -l)")-XXXX")
mv "$call" "$call.args"
call=$call.args
if [[ -n $body ]]; then
    sum=$(sha256sum <"$body" | cut -c1-64)
    cp "$body" "$NESTED_CORPUS/bodies/$sum"
    printf '%s\0' "$sum" >"${call%.args}.body"
fi
# The program by its path relative to src-native/ (the suites run there and name it so).
printf '%s\0' "${args[@]}" >"$call"
{
    echo "exit $rc"
    if [[ -f $out ]]; then echo "out $(sha256sum <"$out" | cut -c1-64) $(stat -c %s "$out")"; else echo "out none"; fi
    [[ -n $json && -f $json ]] && sed 's/, "timings": {[^}]*}//' "$json"
} >"${call%.args}.expect"
exit $rc
