#!/usr/bin/env bash
# Set up, then run the whole test suite.  Kernel tests need root and BPF; with
# PYCAP_REQUIRE_KERNEL=1 (as in CI) they fail instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
