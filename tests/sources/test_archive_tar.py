"""The tar reader against hostile archives built in code: links, devices, traversal, bombs, damage."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from typing import TYPE_CHECKING

import pytest

from chainwarden.archive import ArchiveLimits, TarReader, open_archive
from chainwarden.artifact import ArtifactError
from chainwarden.models import MemberKind, Severity
from support import add_tar_member

if TYPE_CHECKING:
    from pathlib import Path


def _tar(tmp_path: Path, build, mode: str = "w:gz", name: str = "a.tar.gz") -> Path:
    path = tmp_path / name
    with tarfile.open(path, mode) as tf:
        build(tf)
    return path


def _rules(reader: TarReader) -> set[str]:
    return {f.rule_id for f in reader.problems}


@pytest.mark.parametrize(
    ("mode", "name"), [("w:gz", "a.tar.gz"), ("w:bz2", "a.tar.bz2"), ("w:xz", "a.tar.xz"), ("w", "a.tar")]
)
def test_clean_tar_reads_in_every_compression(tmp_path: Path, mode: str, name: str) -> None:
    def build(tf: tarfile.TarFile) -> None:
        add_tar_member(tf, "pkg-1.0/", type=tarfile.DIRTYPE)
        add_tar_member(tf, "pkg-1.0/setup.py", b"from setuptools import setup\n")
        add_tar_member(tf, "pkg-1.0/pkg/__init__.py", b"x = 1\n")

    reader = open_archive(_tar(tmp_path, build, mode, name), name)
    assert isinstance(reader, TarReader)
    assert reader.problems == ()
    assert reader.unscanned == ()
    assert [m.path for m in reader.members()] == ["pkg-1.0/setup.py", "pkg-1.0/pkg/__init__.py"]
    assert reader.read("pkg-1.0/pkg/__init__.py") == b"x = 1\n"


@pytest.mark.parametrize(
    ("linkname", "hard", "rule"),
    [
        ("../../../../etc/passwd", False, "CW012"),
        ("/etc/passwd", False, "CW012"),
        ("setup.py", False, "CW013"),
        ("../outside", True, "CW012"),
        ("pkg-1.0/setup.py", True, "CW013"),
    ],
)
def test_links(tmp_path: Path, linkname: str, hard: bool, rule: str) -> None:
    def build(tf: tarfile.TarFile) -> None:
        add_tar_member(tf, "pkg-1.0/setup.py", b"x")
        add_tar_member(tf, "pkg-1.0/link", type=tarfile.LNKTYPE if hard else tarfile.SYMTYPE, linkname=linkname)

    reader = TarReader(_tar(tmp_path, build), "a.tar.gz")
    assert rule in _rules(reader)
    link = reader.members()[-1]
    assert link.link_target == linkname
    assert link.kind is (MemberKind.OTHER if hard else MemberKind.SYMLINK)
    assert "pkg-1.0/link" in {u.path for u in reader.unscanned}
    with pytest.raises(ArtifactError):
        reader.read("pkg-1.0/link")


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_device_files(tmp_path: Path, kind: bytes) -> None:
    def build(tf: tarfile.TarFile) -> None:
        add_tar_member(tf, "pkg-1.0/setup.py", b"x")
        add_tar_member(tf, "pkg-1.0/dev", type=kind, devmajor=1, devminor=3)

    reader = TarReader(_tar(tmp_path, build), "a.tar.gz")
    (special,) = [f for f in reader.problems if f.rule_id == "CW014"]
    assert special.severity is Severity.HIGH
    assert "pkg-1.0/dev" in {u.path for u in reader.unscanned}


@pytest.mark.parametrize("name", ["../evil.py", "/abs/evil.py", "pkg/../../evil.py"])
def test_traversal_members(tmp_path: Path, name: str) -> None:
    reader = TarReader(_tar(tmp_path, lambda tf: add_tar_member(tf, name, b"payload")), "a.tar.gz")
    traversal = [f for f in reader.problems if f.rule_id == "CW010"]
    assert traversal
    assert traversal[0].severity is Severity.CRITICAL
    assert reader.read(name) == b"payload"


def test_duplicate_members_keep_both(tmp_path: Path) -> None:
    def build(tf: tarfile.TarFile) -> None:
        add_tar_member(tf, "pkg/setup.py", b"benign")
        add_tar_member(tf, "pkg/setup.py", b"evil")

    reader = TarReader(_tar(tmp_path, build), "a.tar.gz")
    assert "CW015" in _rules(reader)
    assert reader.read("pkg/setup.py") == b"evil"  # the copy extraction leaves behind
    assert reader.read("pkg/setup.py (duplicate 1)") == b"benign"


def test_duplicate_of_an_oversized_member_is_still_read(tmp_path: Path) -> None:
    def build(tf: tarfile.TarFile) -> None:
        add_tar_member(tf, "pkg/setup.py", b"B" * 5000)
        add_tar_member(tf, "pkg/setup.py", b"evil")

    reader = TarReader(_tar(tmp_path, build), "a.tar.gz", ArchiveLimits(max_member_bytes=1000))
    assert [u.path for u in reader.unscanned] == ["pkg/setup.py (duplicate 1)"]
    assert [m.path for m, _ in reader.read_all()] == ["pkg/setup.py"]


def test_gigabyte_declared_member_is_not_read(tmp_path: Path) -> None:
    """A header declaring 1 GiB with almost no data behind it: listed, unscanned, no 1 GiB read."""
    first = tarfile.TarInfo("pkg/a.py")
    first.size = 6
    huge = tarfile.TarInfo("pkg/huge.bin")
    huge.size = 1024**3
    raw = first.tobuf() + b"x = 1\n".ljust(512, b"\0") + huge.tobuf() + b"\0" * 4096
    path = tmp_path / "huge.tar.gz"
    path.write_bytes(gzip.compress(raw))
    reader = TarReader(path, "huge.tar.gz")
    sizes = {m.path: m.size for m in reader.members()}
    assert sizes == {"pkg/a.py": 6, "pkg/huge.bin": 1024**3}
    assert "pkg/huge.bin" in {u.path for u in reader.unscanned}
    assert "CW024" in _rules(reader)  # the data is not there: truncated
    assert reader.read("pkg/a.py") == b"x = 1\n"


def test_bomb_by_ratio_stops_early(tmp_path: Path) -> None:
    def build(tf: tarfile.TarFile) -> None:
        add_tar_member(tf, "pkg/setup.py", b"x")
        add_tar_member(tf, "pkg/zeros.bin", b"\0" * (8 * 1024 * 1024))
        add_tar_member(tf, "pkg/after.py", b"hidden")

    limits = ArchiveLimits(ratio_floor_bytes=1024 * 1024, max_ratio=50)
    reader = TarReader(_tar(tmp_path, build), "a.tar.gz", limits)
    assert "CW021" in _rules(reader)
    assert "pkg/after.py" not in {m.path for m in reader.members()}
    assert any("not scanned" in u.reason for u in reader.unscanned)


def test_bomb_by_absolute_size(tmp_path: Path) -> None:
    def build(tf: tarfile.TarFile) -> None:
        for i in range(4):
            add_tar_member(tf, f"pkg/f{i}.bin", os.urandom(50_000))

    reader = TarReader(_tar(tmp_path, build), "a.tar.gz", ArchiveLimits(max_total_bytes=120_000))
    assert "CW021" in _rules(reader)
    assert len(reader.members()) < 4


def test_member_over_member_limit_is_unscanned(tmp_path: Path) -> None:
    def build(tf: tarfile.TarFile) -> None:
        add_tar_member(tf, "pkg/big.bin", b"B" * 5000)
        add_tar_member(tf, "pkg/small.py", b"x")

    reader = TarReader(_tar(tmp_path, build), "a.tar.gz", ArchiveLimits(max_member_bytes=1000))
    assert [u.path for u in reader.unscanned] == ["pkg/big.bin"]
    assert reader.read("pkg/small.py") == b"x"
    assert reader.problems == ()


def test_member_count_limit(tmp_path: Path) -> None:
    def build(tf: tarfile.TarFile) -> None:
        for i in range(10):
            add_tar_member(tf, f"f{i}.py", b"")

    reader = TarReader(_tar(tmp_path, build), "a.tar.gz", ArchiveLimits(max_members=3))
    assert "CW022" in _rules(reader)
    assert len(reader.members()) == 3


def test_data_after_end_of_archive(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        add_tar_member(tf, "pkg/setup.py", b"x")
    path = tmp_path / "a.tar"
    path.write_bytes(buf.getvalue() + b"HIDDEN MEMBER DATA" * 40)
    reader = TarReader(path, "a.tar")
    assert "CW019" in _rules(reader)


def test_garbage_after_gzip_stream(tmp_path: Path) -> None:
    path = _tar(tmp_path, lambda tf: add_tar_member(tf, "pkg/setup.py", b"x"))
    path.write_bytes(path.read_bytes() + b"not gzip at all")
    reader = TarReader(path, "a.tar.gz")
    assert reader.problems  # damaged trailer is reported, not ignored
    assert reader.read("pkg/setup.py") == b"x"


def test_truncated_tar_gz(tmp_path: Path) -> None:
    def build(tf: tarfile.TarFile) -> None:
        add_tar_member(tf, "pkg/a.py", b"a" * 100)
        add_tar_member(tf, "pkg/b.bin", os.urandom(200_000))

    path = _tar(tmp_path, build)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    reader = TarReader(path, "a.tar.gz")
    assert "CW024" in _rules(reader)
    assert reader.read("pkg/a.py") == b"a" * 100


@pytest.mark.parametrize(
    "data",
    [b"\x1f\x8b" + os.urandom(200), gzip.compress(os.urandom(2000)), gzip.compress(b"")[:10]],
    ids=["bad-gzip", "gzip-of-noise", "truncated-gzip-header"],
)
def test_corrupt_archives_are_clear_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "bad.tar.gz"
    path.write_bytes(data)
    with pytest.raises(ArtifactError) as err:
        open_archive(path, "bad.tar.gz")
    assert "\n" not in str(err.value)


def test_empty_tar_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="empty"):
        TarReader(_tar(tmp_path, lambda tf: None), "a.tar.gz")


def test_empty_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "zero.tar.gz"
    path.write_bytes(b"")
    with pytest.raises(ArtifactError, match="empty file"):
        open_archive(path, "zero.tar.gz")
