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
echo "browser prereqs: installing Debian's chromium and chromium-driver"
apt-get -q update
DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends chromium chromium-driver
command -v chromium >/dev/null && command -v chromedriver >/dev/null
