#!/usr/bin/env bash
# Makes sure Debian's Chromium and ChromeDriver are installed for DemoPageBrowserIT: installs them with apt-get when
# running as root, otherwise prints the command to run and leaves the decision to the test (it skips, or fails
# under REQUIRE_KVM=1 as in CI). Quick and silent when both are present: two command lookups.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "browser prereqs: chromium or chromedriver missing; the browser test needs them. Install (as root) with:" >&2
    echo "    apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver" >&2
    exit 0
fi
# apt's own chatter (debconf's notes on stderr among it) goes to a log, shown only when the install fails.
log=$(mktemp)
echo "browser prereqs: installing Debian's chromium and chromium-driver (apt-get's output in $log)"
if ! { apt-get -q update && DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends \
        chromium chromium-driver; } >"$log" 2>&1; then
    cat "$log" >&2
    exit 1
fi
command -v chromium >/dev/null && command -v chromedriver >/dev/null
