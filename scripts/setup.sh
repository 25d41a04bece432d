#!/usr/bin/env bash
# Set up pycap on a Debian machine, as root: system packages, then a virtual
# environment in .venv with pycap and its test dependencies.  Idempotent.
#
#   --bcc (or PYCAP_BCC=1): also the optional BCC backend (pycap --backend bcc):
#   Debian's python3-bpfcc and kernel headers, linked where BCC looks for them.
set -euo pipefail
cd "$(dirname "$0")/.."

BCC="${PYCAP_BCC:-0}"
for arg in "$@"; do
    case "$arg" in
        --bcc) BCC=1 ;;
        *) echo "setup.sh: unknown option $arg (known: --bcc)" >&2; exit 2 ;;
    esac
done

if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: run as root (pycap captures with AF_PACKET and loads BPF programs)" >&2
    exit 1
fi

if command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    need=""
    # gcc, libc6-dev, python3-dev: the C half of the -w path (pycap.capture._ringcodec)
    pkgs="python3 python3-venv python3-pip python3-dev gcc libc6-dev iproute2 netbase tcpdump"
    if [ "$BCC" = 1 ]; then
        pkgs="$pkgs python3-bpfcc linux-headers-$(dpkg --print-architecture)"
    fi
    for pkg in $pkgs; do
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
# The extension is optional for pip (pycap runs without it, slower): say so if
# it was not built.  Editing pycap/capture/_ringcodec.c needs this script (or
# `pip install -e .`) again.
.venv/bin/python -c 'import pycap.capture._ringcodec' 2>/dev/null \
    || echo "setup.sh: warning: the C extension pycap.capture._ringcodec was not built" \
            "(needs gcc and Python's headers); -w uses its Python loops" >&2
# Bytecode now, once: an editable install writes none, and where
# PYTHONDONTWRITEBYTECODE is set every start would compile pycap again (~0.2 s).
.venv/bin/python -m compileall -q pycap >/dev/null

if [ "$BCC" = 1 ]; then
    # BCC compiles against /lib/modules/$(uname -r)/build.  A kernel without
    # its own headers package (a custom or cloud kernel) gets Debian's newest
    # installed headers: build -> linux-headers-*-ARCH, source -> its -common
    # twin.  Enough for socket filters, which use no kernel-internal layout.
    release="$(uname -r)"
    build="/lib/modules/$release/build"
    if [ ! -d "$build/include" ]; then
        headers="$(ls -d /usr/src/linux-headers-*-"$(dpkg --print-architecture)" 2>/dev/null \
                   | sort -V | tail -n 1)"
        if [ -z "$headers" ] || [ ! -d "${headers%-*}-common" ]; then
            echo "setup.sh: no Debian kernel headers under /usr/src for BCC" >&2
            exit 1
        fi
        mkdir -p "/lib/modules/$release"
        ln -sfn "$headers" "$build"
        ln -sfn "${headers%-*}-common" "/lib/modules/$release/source"
    fi
    # pycap imports Debian's bcc package itself when the venv's Python cannot
    .venv/bin/python -c 'import sys; from pycap.kernel.bcc_loader import unavailable
why = unavailable(); print(why or "BCC backend ready", file=sys.stderr); sys.exit(1 if why else 0)'
fi
echo "pycap installed in $(pwd)/.venv (run .venv/bin/pycap)"
