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

# Lines are "package [command]"; '#' starts a comment.
missing_packages() {
    local package command
    while read -r package command _; do
        [[ -n $package ]] || continue
        if [[ -n $command ]] && command -v "$command" >/dev/null 2>&1; then
            continue
        fi
        is_installed "$package" || echo "$package"
    done < <(sed 's/#.*//' "$list")
}

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "prereqs: not a Debian-based system (no dpkg-query), cannot check the $mode packages." >&2
    echo "prereqs: make sure the equivalents of these Debian packages are installed: $(sed 's/#.*//' "$list" | awk 'NF {print $1}' | xargs)" >&2
    exit 0
fi

mapfile -t missing < <(missing_packages)
if ((${#missing[@]} == 0)); then
    echo "prereqs: the Debian packages for the native $mode are present"
    exit 0
fi

install_command="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "prereqs: missing Debian packages needed for the native $mode: ${missing[*]}" >&2
    echo "prereqs: install them (as root) with:" >&2
    echo "    apt-get update && $install_command" >&2
    exit 1
fi

echo "prereqs: installing Debian packages needed for the native $mode: ${missing[*]}"
apt-get -q update
DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends "${missing[@]}"

mapfile -t still_missing < <(missing_packages)
if ((${#still_missing[@]} > 0)); then
    echo "prereqs: still missing after apt-get install: ${still_missing[*]}" >&2
    exit 1
fi
echo "prereqs: installed ${missing[*]}"
