"""`sources.memory.open_bytes`: wheels and sdists scanned from bytes that never touch the disk."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chainwarden.analyzers.pth import PthAnalyzer
from chainwarden.artifact import ArtifactError
from chainwarden.engine import Scanner, ScanOptions
from chainwarden.models import ArtifactKind
from chainwarden.sources.memory import open_bytes
from support.packages import make_sdist, make_wheel

if TYPE_CHECKING:
    from pathlib import Path


def test_wheel_from_bytes_routes_data_files_to_site_packages(tmp_path: Path) -> None:
    wheel = make_wheel(
        tmp_path, "demo", "1.0", {"demo/__init__.py": ""}, data_files={"purelib/demo.pth": "import os\n"}
    )
    with open_bytes(wheel.read_bytes(), wheel.name) as art:
        assert art.ref.kind is ArtifactKind.WHEEL
        assert art.ref.location == f"memory:{wheel.name}"
        paths = {m.path: m.install_path for m in art.members()}
        assert paths["demo-1.0.data/purelib/demo.pth"] == "demo.pth"
        assert art.metadata is not None
        assert art.metadata.name == "demo"
        with Scanner(ScanOptions(jobs=1, use_cache=False), analyzers=[PthAnalyzer()]) as scanner:
            result = scanner.scan_artifact(art)
    assert [f.rule_id for f in result.findings if f.rule_id.startswith("CW1")] == ["CW100"]


@pytest.mark.parametrize("fmt", ["gztar", "zip", "bztar"])
def test_sdist_from_bytes(tmp_path: Path, fmt: str) -> None:
    sdist = make_sdist(tmp_path, "demo", "1.0", {"setup.py": "print(1)\n"}, fmt=fmt)
    with open_bytes(sdist.read_bytes(), sdist.name) as art:
        assert art.ref.kind is ArtifactKind.SDIST
        assert art.read("demo-1.0/setup.py") == b"print(1)\n"


def test_unknown_names_and_garbage_are_clear_errors() -> None:
    with pytest.raises(ArtifactError, match="not a wheel or sdist"):
        open_bytes(b"PK\x05\x06" + b"\x00" * 18, "demo.exe")
    with pytest.raises(ArtifactError):
        open_bytes(b"not an archive at all", "demo-1.0-py3-none-any.whl")
    with pytest.raises(ArtifactError):
        open_bytes(b"not an archive at all", "demo-1.0.tar.gz")
