#!/usr/bin/env bash
# Set up pycap on a Debian machine, as root: system packages, then a virtual
# environment in .venv with pycap and its test dependencies.  Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: run as root (pycap captures with AF_PACKET and loads BPF programs)" >&2
    exit 1
fi

if command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    need=""
    for pkg in python3 python3-venv python3-pip iproute2 netbase tcpdump; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need="$need $pkg"
    done
    if [ -n "$need" ]; then
        apt-get update -qq
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $need >/dev/null
    fi
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'
echo "pycap installed in $(pwd)/.venv (run .venv/bin/pycap)"
