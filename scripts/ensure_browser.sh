#!/usr/bin/env bash
# The web pages are tested in a real headless browser: Debian's Chromium (tests/test_sign_in.py,
# driven by tools/browser's playwright-core). Installs it when it is missing and this machine
# can (root with apt-get); otherwise says how, and those tests are skipped with that reason.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing Debian's Chromium for the browser tests (apt-get install chromium)"
  if apt-get install -y -q chromium >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }; then
    exit 0
  fi
fi
echo "==> Chromium is not installed, and could not be here: the browser tests will be skipped."
echo "    Install it (Debian: sudo apt-get install chromium) and run make test again."
