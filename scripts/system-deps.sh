#!/usr/bin/env bash
# Debian packages the test suite needs: Chromium for browser tests, CJK fonts so Chinese
# renders, emoji fonts (Noto Color Emoji for PDF text, monochrome Symbola for matplotlib's
# chart labels), gettext for makemessages, poppler for PDF checks. Installed only when
# missing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# fc-list -q: its exit code says whether the family is there (a `fc-list | grep -q` pipe
# fails now and then under pipefail: grep exits first and fc-list gets SIGPIPE)
fc-list -q "Noto Sans CJK SC" 2>/dev/null || need+=(fonts-noto-cjk)
fc-list -q "Noto Color Emoji" 2>/dev/null || need+=(fonts-noto-color-emoji)
fc-list -q "Symbola" 2>/dev/null || need+=(fonts-symbola)
command -v msgfmt >/dev/null 2>&1 || need+=(gettext)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
if [ ${#need[@]} -eq 0 ]; then
  echo "system-deps: all present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing ${need[*]}; install them with: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
echo "system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${need[@]}"
