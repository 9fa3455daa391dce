#!/usr/bin/env bash
# Install Debian's chromium for the report tests (headless, driven by Playwright with
# executablePath /usr/bin/chromium). Prints nothing on success; the tests skip without it.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
fi
