#!/usr/bin/env bash
# Debian's Chromium for the console's browser tests (tests/console): Playwright drives it by its
# path, so no browser build is ever downloaded. Noto CJK and emoji fonts so the Chinese UI and the
# chats' emoji render (the screenshots in docs/ show text, not boxes). Idempotent: quiet and
# instant when all are there.
set -euo pipefail
say() { printf '\033[1m[chromium]\033[0m %s\n' "$*" >&2; }

if [ -x /usr/bin/chromium ] && dpkg -s fonts-noto-cjk fonts-noto-color-emoji >/dev/null 2>&1; then
  exit 0
fi
SUDO=()
[ "$(id -u)" -eq 0 ] || SUDO=(sudo)
export DEBIAN_FRONTEND=noninteractive
say "installing Debian's chromium and fonts (apt-get)"
"${SUDO[@]}" apt-get update -q >&2
# Recommends would pull GPU drivers and desktop helpers a headless browser never uses.
"${SUDO[@]}" apt-get install -y -q --no-install-recommends chromium fonts-noto-cjk fonts-noto-color-emoji fonts-liberation >&2
say "$(/usr/bin/chromium --version 2>/dev/null || echo 'chromium installed')"
