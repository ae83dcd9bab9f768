#!/usr/bin/env bash
# The Prometheus alert rules (deploy/prometheus/alerts.yml) are checked and unit-tested with
# promtool (tests/test_alert_rules.py), which Debian ships in its prometheus package. Installs it
# when it is missing and this machine can (root with apt-get); otherwise says how, and those
# tests are skipped with that reason.
set -euo pipefail
if command -v promtool >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing Debian's promtool for the alert rules' tests (apt-get install prometheus)"
  if apt-get install -y -q --no-install-recommends prometheus >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 \
           && apt-get install -y -q --no-install-recommends prometheus >/dev/null 2>&1; }; then
    # the package starts a Prometheus server: the tests need only its promtool
    (service prometheus stop || pkill -x prometheus || true) >/dev/null 2>&1
    exit 0
  fi
fi
echo "==> promtool is not installed, and could not be here: the alert rules' tests will be skipped."
echo "    Install it (Debian: sudo apt-get install prometheus) and run make test again."
