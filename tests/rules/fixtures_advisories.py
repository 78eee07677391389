"""Paired fixtures for the dependency rules (CW400-CW406), built in code.

`FIXTURES[rule_id] = (malicious_builder, benign_builder)`: each builder writes a small project
under the directory it is given and returns it. `advisory_zip()` is the OSV dump they are
audited against: the real MAL-2026-2144 record plus one vulnerability record made here.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

Builder = Callable[[Path], Path]
MAL_RECORD = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "osv" / "MAL-2026-2144.json"
HASH = "--hash=sha256:" + "1" * 64

VULN_RECORD = {
    "id": "PYSEC-0000-1",
    "modified": "2024-01-01T00:00:00Z",
    "aliases": ["CVE-0000-0001"],
    "summary": "demo-vuln before 2.0 lets a request read any file",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "demo-vuln"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}],
        }
    ],
}


def advisory_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("MAL-2026-2144.json", MAL_RECORD.read_bytes())
        archive.writestr("PYSEC-0000-1.json", json.dumps(VULN_RECORD))
    return buffer.getvalue()


def _files(files: dict[str, str]) -> Builder:
    def build(dest: Path) -> Path:
        dest.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (dest / name).write_text(text)
        return dest

    return build


def _uv_lock(version: str = "2.32.3") -> str:
    return (
        'version = 1\nrevision = 2\n\n[[package]]\nname = "app"\nversion = "0.1.0"\nsource = { virtual = "." }\n'
        'dependencies = [{ name = "requests" }]\n\n[[package]]\nname = "requests"\n'
        f'version = "{version}"\nsource = {{ registry = "https://pypi.org/simple" }}\n'
        f'wheels = [{{ url = "https://files.pythonhosted.org/r.whl", hash = "sha256:{"2" * 64}" }}]\n'
    )


FIXTURES: dict[str, tuple[Builder, Builder]] = {
    "CW400": (
        _files({"requirements.txt": f"litellm==1.82.8 {HASH}\n"}),
        _files({"requirements.txt": f"litellm==1.82.6 {HASH}\n"}),
    ),
    "CW401": (
        _files({"requirements.txt": f"demo-vuln==1.5 {HASH}\n"}),
        _files({"requirements.txt": f"demo-vuln==2.0 {HASH}\n"}),
    ),
    "CW402": (
        _files({"requirements.txt": "flask>=2\n"}),
        _files({"requirements.txt": f"flask==3.0.0 {HASH}\n"}),
    ),
    "CW403": (
        _files({"requirements.txt": "six==1.16.0\n"}),
        _files({"requirements.txt": f"six==1.16.0 {HASH}\n"}),
    ),
    "CW404": (
        _files({"uv.lock": "version = 1\n[[package]\n"}),
        _files({"uv.lock": _uv_lock()}),
    ),
    "CW405": (
        _files({"requirements.txt": f"legacy===2004-not-pep440 {HASH}\n"}),
        _files({"requirements.txt": f"legacy===2004.1 {HASH}\n"}),
    ),
    "CW406": (
        _files({"uv.lock": _uv_lock("2.32.3"), "requirements.txt": f"requests==2.31.0 {HASH}\n"}),
        _files({"uv.lock": _uv_lock("2.32.3"), "requirements.txt": f"requests==2.32.3 {HASH}\n"}),
    ),
}
