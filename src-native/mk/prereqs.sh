#!/usr/bin/env bash
# Checks that the Debian packages the native build (mode "build") or the native tests (mode "test") need
# are installed. Missing ones are installed when running as root with apt-get; otherwise this prints the
# exact apt-get command to run and fails. Quick when everything is present: one dpkg-query per package.
# Usage: prereqs.sh build|test      (the lists are packages-build.txt and packages-test.txt beside this file)
set -euo pipefail

mode=${1:-build}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
case $mode in
    build | test) list=$here/packages-$mode.txt ;;
    *)
        echo "prereqs.sh: unknown mode '$mode'; allowed: build, test" >&2
        exit 2
        ;;
esac

is_installed() { # package -> true when dpkg knows it as installed
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

# Lines are "package [command] [# why]"; a line that is only a comment says why for the packages below it.
# Prints "package<TAB>why" for each package that is missing.
missing_packages() {
    local line package command why section=""
    while IFS= read -r line; do
        if [[ -z ${line// /} ]]; then
            section=""
            continue
        fi
        if [[ $line =~ ^[[:space:]]*# ]]; then
            section=$(sed 's/^[[:space:]]*#[[:space:]]*//' <<<"$line")
            continue
        fi
        why=$section
        if [[ $line == *"#"* ]]; then
            why=$(sed 's/^[^#]*#[[:space:]]*//' <<<"$line")
        fi
        read -r package command _ <<<"${line%%#*}"
        [[ -n $package ]] || continue
        if [[ -n $command ]] && command -v "$command" >/dev/null 2>&1; then
            continue
        fi
        is_installed "$package" || printf '%s\t%s\n' "$package" "$why"
    done <"$list"
}

explain() { # "package<TAB>why" lines -> one readable line each
    local package why
    while IFS=$'\t' read -r package why; do
        echo "prereqs:   $package  (${why:-needed for the native $mode})"
    done
}

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "prereqs: not a Debian-based system (no dpkg-query), cannot check the $mode packages." >&2
    echo "prereqs: make sure the equivalents of these Debian packages are installed: $(sed 's/#.*//' "$list" | awk 'NF {print $1}' | xargs)" >&2
    exit 0
fi

mapfile -t missing_lines < <(missing_packages)
missing=()
for entry in "${missing_lines[@]}"; do
    missing+=("${entry%%$'\t'*}")
done
if ((${#missing[@]} == 0)); then
    echo "prereqs: the Debian packages for the native $mode are present"
    exit 0
fi

install_command="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "prereqs: missing Debian packages needed for the native $mode:" >&2
    printf '%s\n' "${missing_lines[@]}" | explain >&2
    echo "prereqs: install them (as root) with:" >&2
    echo "    apt-get update && $install_command" >&2
    exit 1
fi

# Say what is installed and why before anything is installed.
echo "prereqs: installing Debian packages needed for the native $mode (apt-get, as root):"
printf '%s\n' "${missing_lines[@]}" | explain
apt-get -q update
DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends "${missing[@]}"

mapfile -t still_missing < <(missing_packages | cut -f1)
if ((${#still_missing[@]} > 0)); then
    echo "prereqs: still missing after apt-get install: ${still_missing[*]}" >&2
    exit 1
fi
echo "prereqs: installed ${missing[*]}"
