#!/usr/bin/env bash
# Install ngspice (with KLU) and its shared library.
#
# ngspice >= 41 is built with KLU; Debian bookworm's own ngspice 39 is not, and its
# Sparse 1.3 reordering makes a 128x128 crossbar take minutes. On bookworm the newer
# build comes from the backports suite, which is added from the mirror that the
# machine's apt sources already name (no host is written here).
# Falls back to the distribution's ngspice with a warning when no newer one exists.
set -euo pipefail

want_major=41
log() { echo "[setup-ngspice] $*" >&2; }

ngspice_major() {
  command -v ngspice >/dev/null 2>&1 || { echo 0; return; }
  ngspice -v 2>/dev/null | sed -n 's/.*ngspice-\([0-9]\+\).*/\1/p' | head -n1 | grep . || echo 0
}

have_shared_lib() { ls /usr/lib/*/libngspice.so >/dev/null 2>&1 || ls /usr/lib/libngspice.so >/dev/null 2>&1; }

if [ "$(ngspice_major)" -ge "$want_major" ] && have_shared_lib; then
  log "ngspice $(ngspice_major) with shared library already installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
if ! command -v apt-get >/dev/null 2>&1; then
  log "WARNING: no apt-get here; install ngspice >= $want_major (with KLU) and libngspice by hand"
  exit 0
fi

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")

# The first Debian mirror the machine is already configured with (deb822 or one-line sources).
configured_mirror() {
  {
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      awk 'BEGIN{RS=""} /Suites:[^\n]*'"$codename"'([ \n]|$)/ && !/security/ {
             if (match($0, /URIs:[ \t]*[^ \t\n]+/)) { u=substr($0,RSTART,RLENGTH); sub(/URIs:[ \t]*/,"",u); print u } }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [ -f "$f" ] || continue
      awk -v c="$codename" '$1=="deb" && $0 !~ /security/ { for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i+1)==c) print $i; break } }' "$f"
    done
  } | head -n1
}

backports_list=/etc/apt/sources.list.d/spicenn-backports.list
if [ -n "$codename" ] && [ "$codename" = bookworm ] && [ ! -f "$backports_list" ]; then
  mirror=$(configured_mirror || true)
  if [ -n "$mirror" ]; then
    log "adding ${codename}-backports from the configured mirror"
    echo "deb $mirror ${codename}-backports main" | $SUDO tee "$backports_list" >/dev/null
  else
    log "WARNING: no configured Debian mirror found; cannot add ${codename}-backports"
  fi
fi

$SUDO apt-get update -qq
export DEBIAN_FRONTEND=noninteractive
pkgs="ngspice libngspice0 libngspice0-dev"
# (capture first: grep -q closing the pipe early would fail the pipeline under pipefail)
policy=$(apt-cache policy ngspice 2>/dev/null || true)
if [ -f "$backports_list" ] && grep -q "${codename}-backports" <<<"$policy"; then
  $SUDO apt-get install -y -qq -t "${codename}-backports" $pkgs >/dev/null
else
  $SUDO apt-get install -y -qq $pkgs >/dev/null || $SUDO apt-get install -y -qq ngspice libngspice0 >/dev/null
fi

major=$(ngspice_major)
if [ "$major" -lt "$want_major" ]; then
  log "WARNING: ngspice $major installed, which has no KLU; large crossbars will be very slow"
else
  log "ngspice $major installed (KLU available)"
fi
