#!/usr/bin/env bash
# Creates ./.venv with the trainer's pinned requirements (python/requirements.txt).
# Idempotent: a venv whose recorded requirements match is left alone.
# Usage: scripts/python-env.sh [VENV_DIR]   (default .venv in the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.venv}"
req="python/requirements.txt"
stamp="$venv/.expert-cli-requirements"

if [ -f "$stamp" ] && cmp -s "$req" "$stamp" && [ -x "$venv/bin/python" ]; then
  echo "python-env: $venv is up to date" >&2
  exit 0
fi
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
  else
    echo "error: python3 has no venv/ensurepip module; install python3-venv and run again" >&2
    exit 1
  fi
fi
echo "python-env: installing $req into $venv (torch is ~6 GB the first time)" >&2
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
cp "$req" "$stamp"
echo "python-env: ready ($("$venv/bin/python" -c 'import sys; print(sys.version.split()[0])'))" >&2
