#!/usr/bin/env bash
# Install healthlayer with its test dependencies into .venv and run the whole test suite.
# Extra arguments go to pytest, for example: scripts/test.sh -k stickiness
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
exec .venv/bin/python -m pytest "$@"
