#!/usr/bin/env bash
# Download a torch-sized wheel (torch for CPython 3.11, manylinux x86_64, ~540 MB) into
# bench/_data/big/ -- gitignored -- for the single-wheel rows of bench/speed.py. The file is
# checked against the sha256 PyPI publishes for it. Nothing is installed or run.
#
#   bench/fetch_big.sh [VERSION]     # default: the newest torch release on PyPI
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DEST="$HERE/_data/big"
mkdir -p "$DEST"
URL_AND_SHA=$(python3 - "${1:-}" <<'PY'
import json, sys, urllib.parse, urllib.request
version = sys.argv[1]
page = f"https://pypi.org/pypi/torch/{version}/json" if version else "https://pypi.org/pypi/torch/json"
with urllib.request.urlopen(page, timeout=60) as r:
    data = json.load(r)
for f in data["urls"]:
    if f["filename"].endswith("-cp311-cp311-manylinux_2_28_x86_64.whl"):
        print(urllib.parse.urljoin(page, f["url"]), f["filename"], f["digests"]["sha256"])
        break
else:
    sys.exit("no cp311 manylinux x86_64 wheel in that torch release")
PY
)
read -r URL NAME SHA <<<"$URL_AND_SHA"
if [ -f "$DEST/$NAME" ] && echo "$SHA  $DEST/$NAME" | sha256sum -c --quiet 2>/dev/null; then
    echo "$NAME already here"; exit 0
fi
echo "fetching $NAME" >&2
curl -fsSL --retry 3 -o "$DEST/$NAME.part" "$URL"
echo "$SHA  $DEST/$NAME.part" | sha256sum -c --quiet
mv "$DEST/$NAME.part" "$DEST/$NAME"
echo "$NAME"
