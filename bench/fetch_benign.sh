#!/usr/bin/env bash
# Download the benign corpus (a wheel and the sdist of every pin in benign-pypi.txt) into
# bench/_data/benign/{wheel,sdist}/ -- gitignored. Needs PyPI; nothing is installed or run.
#
#   bench/fetch_benign.sh            # CHAINWARDEN_CORPUS overrides ../shared/corpus
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CORPUS=${CHAINWARDEN_CORPUS:-$HERE/../../shared/corpus}
exec bash "$CORPUS/fetch-benign.sh" "$HERE/_data/benign" "$@"
