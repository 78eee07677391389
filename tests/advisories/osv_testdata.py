"""Real OSV data for the advisory tests: the MAL record for litellm and 2,600+ PYSEC records.

The PYSEC records ship as OSV YAML inside a zip in shared/fixtures; `make_zip` packs records
into the JSON zip form OSV's own dump uses (in memory; nothing is copied into the repository).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import yaml

OSV_FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "osv"  # shared/ sits beside the repo
MAL_RECORD = OSV_FIXTURES / "MAL-2026-2144.json"
PYSEC_ZIP = OSV_FIXTURES / "pypa-advisory-database-2024-10-10.zip"
LOCKFILES = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles"


def _json_default(value: object) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)  # YAML dates


def load_pysec_records() -> list[dict]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    records = []
    with zipfile.ZipFile(PYSEC_ZIP) as archive:
        for name in archive.namelist():
            if name.endswith(".yaml"):
                doc = yaml.load(archive.read(name), Loader=loader)
                records.append(json.loads(json.dumps(doc, default=_json_default)))
    return records


def make_zip(records: list[dict], extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for record in records:
            archive.writestr(f"{record['id']}.json", json.dumps(record))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()
