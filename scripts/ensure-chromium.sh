#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the browser tests (tests/e2e/test_browser.py),
# installing the `chromium` package when it is missing. Playwright drives it as it is:
# no browser is ever downloaded. Used by `make test`; safe to run again. Needs root (or sudo).
set -euo pipefail
log() { echo "ensure-chromium: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  log "no /usr/bin/chromium and no apt-get to install it: the browser tests will be skipped"
  exit 0
fi
log "installing chromium (Debian package)"
as_root apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >&2
