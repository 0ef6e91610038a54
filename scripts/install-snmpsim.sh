#!/usr/bin/env bash
# Install snmpsim (the simulated SNMP agent for tests, benchmarks and `flask facho
# simulate-olt`) in its own venv, .venv-snmpsim at the repo root. Idempotent: when the
# pinned versions are already there it only checks and exits (well under a second).
#
# Why a separate venv: snmpsim 1.2 brings pysnmp 7 / pyasn1, which the app does not use.
# snmpsim needs pysmi beside it. Run as root it drops privileges to `nobody`, who cannot read
# a Python under /root: facho.ops.olt_sim sets SNMPSIM_ALLOW_ROOT=true (snmpsim's own switch);
# by hand, add `--process-user=root --process-group=root` or that variable.
#
# Serve a folder of .snmprec files (community = file name without .snmprec):
#   SNMPSIM_ALLOW_ROOT=true .venv-snmpsim/bin/snmpsim-command-responder \
#       --data-dir=DIR --cache-dir=/tmp/snmpsim-cache \
#       --agent-udpv4-endpoint=127.0.0.1:16100 --logging-method=null
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${FACHO_SNMPSIM_VENV:-$ROOT/.venv-snmpsim}"
PYTHON="${PYTHON:-python3.11}"
PINS=(
  snmpsim==1.2.2 pysnmp==7.1.30 pysmi==2.0.0 pyasn1==0.6.5
  Jinja2==3.1.6 MarkupSafe==3.0.4 lark==1.3.1 requests==2.34.2
  certifi==2026.10.19.post1 charset-normalizer==3.5.2 idna==3.20 urllib3==2.8.0
  # SNMPv3 privacy (DES/AES): without it snmpsim answers "Ciphering services not available"
  cryptography==51.0.1 cffi==2.1.1 pycparser==3.12
)
STAMP="$VENV/.facho-pins"
WANT="$(printf '%s\n' "${PINS[@]}")"

if [[ -x "$VENV/bin/snmpsim-command-responder" && -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then
  echo "snmpsim already installed in $VENV"
  exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PINS[@]}"
"$VENV/bin/snmpsim-command-responder" --version >/dev/null
printf '%s\n' "$WANT" > "$STAMP"
echo "snmpsim installed in $VENV"
