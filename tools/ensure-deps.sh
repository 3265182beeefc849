#!/usr/bin/env bash
# Installs the Debian packages ReportLink needs to build, run and test, if any is
# missing. As root it uses apt-get; otherwise it prints the exact command to run.
# Usage: tools/ensure-deps.sh [build|run|check|bench]   (default: check)
set -euo pipefail

want=${1:-check}
build_pkgs=(build-essential pkg-config libwebsockets-dev libcjson-dev libssl-dev zlib1g-dev
            libreoffice-dev libreoffice-writer python3-uno zip unzip)
run_pkgs=(xvfb xauth python3-websocket openssl)
check_pkgs=(xvfb xauth python3-websocket openssl nodejs npm clang libclang-rt-dev valgrind
            poppler-utils libreoffice-l10n-fr dbus gnome-keyring libsecret-1-0 libsecret-tools)
# make check: tests/lo/test_screens.py runs the office in French, as doctors do
# (libreoffice-l10n-fr: its menus and dialogs in French).
# make check: every LibreOffice test runs its office in a D-Bus session of its own
# (dbus) with a real GNOME Keyring (gnome-keyring), where ReportLink keeps the
# doctor's key through libsecret (libsecret-1-0, opened at run time); the tests
# read the keyring with secret-tool (libsecret-tools). tests/lo/keyring.py.
# make bench: the Python alternative runs as a Python macro inside the office;
# the start-up rows start a visible office on Xvfb; its offices, like the tests',
# run in a D-Bus session with a GNOME Keyring (tests/lo/office.py).
bench_pkgs=(python3-websocket libreoffice-script-provider-python xvfb dbus gnome-keyring libsecret-1-0 libsecret-tools)

pkgs=("${build_pkgs[@]}")
case "$want" in
  build) ;;
  run) pkgs+=("${run_pkgs[@]}") ;;
  check) pkgs+=("${run_pkgs[@]}" "${check_pkgs[@]}") ;;
  bench) pkgs+=("${bench_pkgs[@]}") ;;
  *) echo "usage: $0 [build|run|check|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  # nodejs may come from another source than Debian: a working node+npm is enough.
  if [ "$p" = nodejs ] || [ "$p" = npm ]; then
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && continue
  fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

echo "ReportLink needs these Debian packages: ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
else
  echo "Run this, then try again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
