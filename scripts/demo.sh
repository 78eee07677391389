#!/usr/bin/env bash
# Set up, then scan a real release from PyPI: litellm 1.82.6 (the last clean release before
# the March 2026 compromise), every file of it, with the release diff and report.
# Then scan a litellm-1.82.8-shaped wheel built locally (never run) to show a block.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== chainwarden scan litellm==1.82.6 (real release from PyPI)"
.venv/bin/chainwarden scan "litellm==1.82.6" || true
echo
echo "== chainwarden scan of a litellm-1.82.8-shaped wheel (built here, never installed or run)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
.venv/bin/python scripts/make_demo_wheel.py "$tmp"
.venv/bin/chainwarden scan "$tmp"/*.whl || echo "(exit code $? = blocked by policy, as it should be)"
