#!/usr/bin/env bash
# Set up, then run the whole test suite.  Kernel tests need root and BPF; with
# PYCAP_REQUIRE_KERNEL=1 (as in CI) they fail instead of skipping (the BCC
# tests too, which is why setup installs the optional BCC backend here).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --bcc     # the BCC parity tests need BCC and kernel headers
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
