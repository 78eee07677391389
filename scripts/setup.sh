#!/usr/bin/env bash
# Create .venv and install chainwarden with its hash-pinned dev/test dependencies.
# Idempotent; works on a fresh machine with python3 >= 3.11 and access to PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# --require-hashes: every dev/test dependency is pinned by hash in requirements/dev.lock.
.venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes --no-deps -r requirements/dev.lock
# chainwarden itself: built from this tree, no build isolation (setuptools comes from the lock).
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
