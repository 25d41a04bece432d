#!/usr/bin/env bash
# The embedded demo: set up, then capture self-made traffic in a private netns.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/pycap demo "$@"
