#!/usr/bin/env bash
# Install a real headless browser for the tests of HTML output: Debian's
# chromium-headless-shell (from the machine's configured apt sources). Skipped, with a
# warning, where there is no apt-get; the HTML test then says what is missing.
set -euo pipefail
log() { echo "[setup-browser] $*" >&2; }
if command -v chromium-headless-shell >/dev/null 2>&1; then
  log "chromium-headless-shell already installed"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  log "WARNING: no apt-get here; install chromium-headless-shell (or chromium) by hand for the HTML report test"
  exit 0
fi
SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -q >/dev/null || log "WARNING: apt-get update failed; trying the package lists as they are"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends chromium-headless-shell >/dev/null
log "installed $(chromium-headless-shell --version 2>/dev/null || echo chromium-headless-shell)"
