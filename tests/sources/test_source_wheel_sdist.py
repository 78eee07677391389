"""Wheel and sdist sources on packages built in code: install paths, metadata, RECORD checks."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from typing import TYPE_CHECKING

import pytest

from chainwarden.artifact import ArtifactError
from chainwarden.models import ArtifactKind, MemberKind, Severity
from chainwarden.sources import reopen, source_for
from chainwarden.sources.base import SourceOptions
from chainwarden.sources.sdist import SdistSource
from chainwarden.sources.wheel import WheelSource, wheel_install_path
from support import make_sdist, make_wheel

if TYPE_CHECKING:
    from pathlib import Path

    from chainwarden.artifact import Artifact


def _options(tmp_path: Path) -> SourceOptions:
    return SourceOptions(cache_dir=tmp_path / "cache")


def _open_one(target: Path, tmp_path: Path) -> Artifact:
    (artifact,) = source_for(str(target)).open(str(target), _options(tmp_path))
    return artifact


def _rules(artifact: Artifact) -> list[str]:
    return sorted(f.rule_id for f in artifact.problems)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("pkg/__init__.py", "pkg/__init__.py"),
        ("evil.pth", "evil.pth"),
        ("pkg-1.0.dist-info/METADATA", "pkg-1.0.dist-info/METADATA"),
        ("pkg-1.0.data/purelib/evil.pth", "evil.pth"),
        ("pkg-1.0.data/platlib/pkg/_native.so", "pkg/_native.so"),
        ("pkg-1.0.data/data/lib/python3.12/site-packages/evil.pth", "evil.pth"),
        ("pkg-1.0.data/data/lib/python3.13t/site-packages/x/y.py", "x/y.py"),
        ("pkg-1.0.data/data/lib/pypy3.10/site-packages/evil.pth", "evil.pth"),
        ("pkg-1.0.data/data/Lib/site-packages/evil.pth", "evil.pth"),
        ("pkg-1.0.data/data/share/doc/readme", ""),
        ("pkg-1.0.data/scripts/tool", ""),
        ("pkg-1.0.data/headers/pkg.h", ""),
        ("other.data/purelib/sneaky.pth", "sneaky.pth"),  # installers treat any *.data dir as a scheme dir
        ("pkg-1.0.data/purelib", ""),
    ],
)
def test_wheel_install_path(path: str, expected: str) -> None:
    assert wheel_install_path(path) == expected


def test_wheel_members_metadata_and_clean_record(tmp_path: Path) -> None:
    wheel = make_wheel(
        tmp_path,
        "Demo-Pkg",
        "1.0",
        {"demo_pkg/__init__.py": "x = 1\n"},
        data_files={"purelib/demo.pth": "import os\n", "scripts/tool": "#!python\n"},
        entry_points={"console_scripts": {"demo": "demo_pkg:main"}},
        metadata={"Summary": "A demo", "Requires-Dist": ["requests>=2", "rich"]},
    )
    artifact = _open_one(wheel, tmp_path)
    assert artifact.ref.kind is ArtifactKind.WHEEL
    assert artifact.ref.label == wheel.name
    assert len(artifact.ref.sha256) == 64
    assert artifact.metadata is not None
    assert (artifact.metadata.name, artifact.metadata.version, artifact.metadata.summary) == (
        "Demo-Pkg",
        "1.0",
        "A demo",
    )
    assert artifact.metadata.requires_dist == ("requests>=2", "rich")
    assert [(e.group, e.name, e.value) for e in artifact.metadata.entry_points] == [
        ("console_scripts", "demo", "demo_pkg:main")
    ]
    assert artifact.metadata.record is not None
    assert len(artifact.metadata.record) == 7
    installs = {m.path: m.install_path for m in artifact.members()}
    assert installs["Demo_Pkg-1.0.data/purelib/demo.pth"] == "demo.pth"
    assert installs["Demo_Pkg-1.0.data/scripts/tool"] == ""
    assert installs["demo_pkg/__init__.py"] == "demo_pkg/__init__.py"
    assert artifact.read("Demo_Pkg-1.0.data/purelib/demo.pth") == b"import os\n"
    assert artifact.problems == ()
    assert artifact.unscanned == ()


def test_wheel_tampered_after_build(tmp_path: Path) -> None:
    wheel = make_wheel(
        tmp_path, "demo", "1.0", {"demo/__init__.py": "x = 1\n"}, tamper={"demo/__init__.py": "evil()\n"}
    )
    artifact = _open_one(wheel, tmp_path)
    (finding,) = artifact.problems
    assert finding.rule_id == "CW025"
    assert finding.severity is Severity.HIGH
    assert finding.location.path == "demo/__init__.py"


def test_wheel_file_missing_from_record(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": ""}, unrecorded={"persist.pth": "import os\n"})
    artifact = _open_one(wheel, tmp_path)
    assert _rules(artifact) == ["CW026"]
    assert artifact.problems[0].location.path == "persist.pth"


def test_wheel_record_lists_missing_file(tmp_path: Path) -> None:
    full = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": "", "demo/gone.py": ""})
    stripped = tmp_path / "out" / full.name
    stripped.parent.mkdir()
    with zipfile.ZipFile(full) as src, zipfile.ZipFile(stripped, "w") as dst:
        for info in src.infolist():
            if info.filename != "demo/gone.py":
                dst.writestr(info, src.read(info))
    assert _rules(_open_one(stripped, tmp_path)) == ["CW028"]


def test_wheel_without_record(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": ""}, record=False)
    artifact = _open_one(wheel, tmp_path)
    assert _rules(artifact) == ["CW027"]
    assert artifact.metadata is not None
    assert artifact.metadata.record is None


def test_wheel_without_dist_info(tmp_path: Path) -> None:
    path = tmp_path / "bare-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("bare.py", "x = 1\n")
    artifact = _open_one(path, tmp_path)
    assert artifact.metadata is None
    assert _rules(artifact) == ["CW027"]
    assert [m.path for m in artifact.members()] == ["bare.py"]


def test_wheel_with_two_dist_info_directories(tmp_path: Path) -> None:
    wheel = make_wheel(
        tmp_path, "demo", "1.0", {"demo/__init__.py": ""}, unrecorded={"other-2.0.dist-info/METADATA": "Name: other\n"}
    )
    artifact = _open_one(wheel, tmp_path)
    assert "CW027" in _rules(artifact)
    assert artifact.metadata is not None
    assert artifact.metadata.name == "demo"  # the one named like the file wins


def test_wheel_weak_record_hash(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": ""})
    out = tmp_path / "weak" / wheel.name
    out.parent.mkdir()
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("RECORD"):
                data = data.replace(b"demo/__init__.py,sha256=", b"demo/__init__.py,md5=")
            dst.writestr(info, data)
    findings = [f for f in _open_one(out, tmp_path).problems if f.rule_id == "CW025"]
    assert findings
    assert findings[0].severity is Severity.MEDIUM


def test_wheel_with_duplicate_member_shadowed_copy_does_not_install(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": "x = 1\n"})
    with zipfile.ZipFile(wheel, "a") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        zf.writestr("demo/__init__.py", "evil()\n")
    artifact = _open_one(wheel, tmp_path)
    installs = {m.path: m.install_path for m in artifact.members()}
    assert installs["demo/__init__.py (duplicate 1)"] == ""
    assert installs["demo/__init__.py"] == "demo/__init__.py"
    rules = _rules(artifact)
    assert "CW015" in rules
    assert "CW025" in rules  # the surviving copy does not match RECORD


def test_not_a_zip_wheel_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "fake-1.0-py3-none-any.whl"
    path.write_bytes(b"this is not a zip file at all")
    with pytest.raises(ArtifactError, match=r"fake-1\.0-py3-none-any\.whl"):
        _open_one(path, tmp_path)


def test_missing_wheel_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="no such file"):
        list(WheelSource().open(str(tmp_path / "nope-1.0-py3-none-any.whl"), _options(tmp_path)))


def test_wheel_reopens_identically(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": "x = 1\n"})
    first = _open_one(wheel, tmp_path)
    again = reopen(first.ref, _options(tmp_path))
    assert list(again.members()) == list(first.members())
    assert again.metadata == first.metadata


@pytest.mark.parametrize("fmt", ["gztar", "bztar", "xztar", "tar", "zip"])
def test_sdist_formats_and_pkg_info(tmp_path: Path, fmt: str) -> None:
    sdist = make_sdist(
        tmp_path,
        "demo",
        "2.0",
        {"setup.py": "from setuptools import setup\nsetup()\n"},
        fmt=fmt,
        metadata={"Summary": "sdist demo"},
    )
    artifact = _open_one(sdist, tmp_path)
    assert artifact.ref.kind is ArtifactKind.SDIST
    assert artifact.metadata is not None
    assert (artifact.metadata.name, artifact.metadata.version, artifact.metadata.summary) == (
        "demo",
        "2.0",
        "sdist demo",
    )
    assert {m.path for m in artifact.members()} == {"demo-2.0/setup.py", "demo-2.0/PKG-INFO"}
    assert all(m.install_path == "" and m.kind is MemberKind.FILE for m in artifact.members())
    assert artifact.read("demo-2.0/setup.py").startswith(b"from setuptools")
    assert artifact.problems == ()
    again = reopen(artifact.ref, _options(tmp_path))
    assert list(again.members()) == list(artifact.members())


def test_sdist_metadata_from_pyproject_when_no_pkg_info(tmp_path: Path) -> None:
    pyproject = '[project]\nname = "fromtoml"\nversion = "3.1"\ndependencies = ["attrs"]\n'
    sdist = make_sdist(tmp_path, "fromtoml", "3.1", {"pyproject.toml": pyproject}, pkg_info=False)
    artifact = _open_one(sdist, tmp_path)
    assert artifact.metadata is not None
    assert (artifact.metadata.name, artifact.metadata.version) == ("fromtoml", "3.1")
    assert artifact.metadata.requires_dist == ("attrs",)


def test_sdist_without_any_metadata(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path, "anon", "1.0", {"anon.py": "x = 1\n"}, pkg_info=False)
    assert _open_one(sdist, tmp_path).metadata is None


def test_zip_sdist_corrupt_member_is_found_when_problems_are_read(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path, "demo", "1.0", {"setup.py": "x = 1\n" * 50}, fmt="zip")
    data = bytearray(sdist.read_bytes())
    offset = data.index(b"demo-1.0/setup.py") + len("demo-1.0/setup.py") + 2
    data[offset] ^= 0xFF  # flip a byte of the first member's compressed data
    sdist.write_bytes(bytes(data))
    artifact = _open_one(sdist, tmp_path)
    assert "CW023" in _rules(artifact)


def test_sdist_source_claims(tmp_path: Path) -> None:
    source = SdistSource()
    for name in ("a-1.tar.gz", "a-1.tgz", "a-1.tar.bz2", "a-1.zip", "a-1.tar.xz", "A-1.TAR.GZ"):
        assert source.claims(str(tmp_path / name))
    assert not source.claims(str(tmp_path / "a-1-py3-none-any.whl"))
    (tmp_path / "dir.zip").mkdir()
    assert not source.claims(str(tmp_path / "dir.zip"))


def test_record_check_after_reads_uses_remembered_digests(tmp_path: Path) -> None:
    wheel = make_wheel(
        tmp_path, "demo", "1.0", {"demo/__init__.py": "x = 1\n", "demo/b.py": "y = 2\n"}, tamper={"demo/b.py": "z\n"}
    )
    out = tmp_path / "mixed" / wheel.name
    out.parent.mkdir()
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("RECORD"):  # a sha512 line forces a second read of that member
                lines = data.decode().splitlines()
                lines = [
                    "demo/__init__.py,sha512="
                    + base64.urlsafe_b64encode(hashlib.sha512(b"x = 1\n").digest()).decode().rstrip("=")
                    + ",6"
                    if line.startswith("demo/__init__.py,")
                    else line
                    for line in lines
                ]
                data = ("\n".join(lines) + "\n").encode()
            dst.writestr(info, data)
    artifact = _open_one(out, tmp_path)
    assert artifact.read("demo/__init__.py") == b"x = 1\n"
    assert artifact.read("demo/b.py") == b"z\n"
    assert [(f.rule_id, f.location.path) for f in artifact.problems] == [("CW025", "demo/b.py")]
