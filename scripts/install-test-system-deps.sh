#!/usr/bin/env bash
# Debian packages the tests need: chromium (panel tests), snmp + snmpd (net-snmp reference).
# Idempotent and quick when everything is present.
set -euo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v snmpbulkwalk >/dev/null || need+=(snmp)
[ -x /usr/sbin/snmpd ] || need+=(snmpd)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
