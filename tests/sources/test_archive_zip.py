"""The defensive zip reader against hostile archives built byte by byte (tests/support/zipcraft.py)."""

from __future__ import annotations

import os
import stat
import zipfile
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest

from chainwarden.archive import ArchiveLimits, ZipReader, open_archive
from chainwarden.artifact import ArtifactError
from chainwarden.models import MemberKind, Severity
from support import STORED, RawEntry, build_zip

if TYPE_CHECKING:
    from pathlib import Path


def _open(tmp_path: Path, data: bytes, limits: ArchiveLimits | None = None) -> ZipReader:
    path = tmp_path / "a.zip"
    path.write_bytes(data)
    return ZipReader(path, "a.zip", limits)


def _rules(reader: ZipReader) -> set[str]:
    return {f.rule_id for f in reader.problems}


def _clean_entries() -> list[RawEntry]:
    return [RawEntry("pkg/__init__.py", b"x = 1\n"), RawEntry("pkg/data.txt", b"hello " * 50, method=STORED)]


def test_clean_archive_has_no_problems_and_reads(tmp_path: Path) -> None:
    reader = _open(tmp_path, build_zip(_clean_entries()))
    assert reader.problems == ()
    assert [m.path for m in reader.members()] == ["pkg/__init__.py", "pkg/data.txt"]
    assert reader.read("pkg/__init__.py") == b"x = 1\n"
    assert reader.read("pkg/data.txt") == b"hello " * 50
    assert [m.path for m, _ in reader.read_all()] == ["pkg/__init__.py", "pkg/data.txt"]
    assert reader.problems == ()


def test_zipfile_written_archive_is_clean(tmp_path: Path) -> None:
    path = tmp_path / "z.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.py", "print('hi')\n")
        zf.writestr("b/", "")
        zf.writestr("c.bin", os.urandom(1000), compress_type=zipfile.ZIP_BZIP2)
        zf.writestr("d.txt", "lzma " * 100, compress_type=zipfile.ZIP_LZMA)
        # zipfile writes a data descriptor when streaming into the archive
        with zf.open("e.txt", "w") as fh:
            fh.write(b"streamed\n")
    reader = open_archive(path, "z.zip")
    assert reader.problems == ()
    assert [m.path for m in reader.members()] == ["a.py", "c.bin", "d.txt", "e.txt"]
    assert reader.read("d.txt") == b"lzma " * 100
    assert reader.read("e.txt") == b"streamed\n"
    assert len(reader.read("c.bin")) == 1000


@pytest.mark.parametrize(
    "data",
    [b"", b"not a zip at all" * 10, b"PK\x03\x04" + b"\0" * 40],
    ids=["empty-file", "garbage", "local-header-only"],
)
def test_not_a_zip_is_a_clear_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "bad.whl"
    path.write_bytes(data)
    with pytest.raises(ArtifactError) as err:
        open_archive(path, "bad.whl")
    assert "\n" not in str(err.value)


def test_truncated_archive_is_a_clear_error(tmp_path: Path) -> None:
    data = build_zip(_clean_entries())
    with pytest.raises(ArtifactError, match=r"end-of-central-directory|corrupt"):
        _open(tmp_path, data[: len(data) // 2])
    with pytest.raises(ArtifactError):
        _open(tmp_path, data[:-5])


def test_empty_archive_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="empty archive"):
        _open(tmp_path, build_zip([]))


def test_bomb_by_ratio_is_reported(tmp_path: Path) -> None:
    limits = ArchiveLimits(ratio_floor_bytes=1024 * 1024, max_ratio=100)
    reader = _open(tmp_path, build_zip([RawEntry("zeros.bin", b"\0" * (4 * 1024 * 1024))]), limits)
    bombs = [f for f in reader.problems if f.rule_id == "CW021"]
    assert bombs
    assert bombs[0].severity >= Severity.HIGH
    assert "ratio" in bombs[0].message


def test_bomb_by_absolute_size_is_reported_and_rest_unscanned(tmp_path: Path) -> None:
    limits = ArchiveLimits(max_total_bytes=100_000)
    entries = [RawEntry(f"f{i}.bin", os.urandom(40_000), method=STORED) for i in range(4)]
    reader = _open(tmp_path, build_zip(entries), limits)
    assert "CW021" in _rules(reader)
    assert {u.path for u in reader.unscanned} == {"f2.bin", "f3.bin"}
    with pytest.raises(ArtifactError):
        reader.read("f3.bin")
    assert reader.read("f0.bin")


def test_lying_size_is_caught_while_inflating(tmp_path: Path) -> None:
    """Headers claim 100 bytes; the data inflates to 8 MiB. The read stops right past 100."""
    entry = RawEntry("bomb.txt", b"A" * (8 * 1024 * 1024), cd_usize=100, local_usize=100)
    reader = _open(tmp_path, build_zip([entry]))
    assert reader.problems == ()  # headers agree with each other
    with pytest.raises(ArtifactError, match="inflates past"):
        reader.read("bomb.txt")
    assert "CW016" in _rules(reader)
    assert [u.path for u in reader.unscanned] == ["bomb.txt"]


def test_one_gigabyte_declared_member_is_not_read(tmp_path: Path) -> None:
    gib = 1024**3
    entry = RawEntry("huge.bin", b"tiny", method=STORED, cd_usize=gib, local_usize=gib, cd_csize=4, local_csize=4)
    reader = _open(tmp_path, build_zip([entry, RawEntry("ok.py", b"x = 1\n")]))
    (huge,) = [m for m in reader.members() if m.path == "huge.bin"]
    assert huge.size == gib
    assert [u.path for u in reader.unscanned] == ["huge.bin"]
    assert "member limit" in reader.unscanned[0].reason
    assert "CW021" in _rules(reader)  # 1 GiB from 4 bytes
    with pytest.raises(ArtifactError):
        reader.read("huge.bin")
    assert [m.path for m, _ in reader.read_all()] == ["ok.py"]


def test_prepended_data_is_reported(tmp_path: Path) -> None:
    reader = _open(tmp_path, build_zip(_clean_entries(), prepend=b"#!/bin/sh\necho polyglot\n"))
    extra = [f for f in reader.problems if f.rule_id == "CW019"]
    assert extra
    assert "prepended" in extra[0].message
    assert reader.read("pkg/__init__.py") == b"x = 1\n"


def test_prepended_data_with_unadjusted_offsets_is_a_differential(tmp_path: Path) -> None:
    data = build_zip(_clean_entries(), prepend=b"X" * 100, offsets_include_prepend=False)
    reader = _open(tmp_path, data)
    assert {"CW016", "CW019"} <= _rules(reader)
    assert reader.read("pkg/__init__.py") == b"x = 1\n"  # read where zipfile would


def test_appended_data_is_reported(tmp_path: Path) -> None:
    reader = _open(tmp_path, build_zip(_clean_entries(), append=b"trailing payload"))
    assert any(f.rule_id == "CW019" and "appended" in f.message for f in reader.problems)


def test_data_between_entries_and_directory_is_reported(tmp_path: Path) -> None:
    reader = _open(tmp_path, build_zip(_clean_entries(), between=b"\0" * 64))
    assert any(f.rule_id == "CW019" and "between" in f.message for f in reader.problems)


def test_central_directory_and_local_name_mismatch_is_critical(tmp_path: Path) -> None:
    entry = RawEntry("pkg/harmless.py", b"x = 1\n", local_name=b"pkg/evil.py")
    reader = _open(tmp_path, build_zip([entry]))
    (finding,) = [f for f in reader.problems if f.rule_id == "CW016"]
    assert finding.severity is Severity.CRITICAL
    assert "pkg/evil.py" in finding.message
    assert finding.location.path == "pkg/harmless.py"


@pytest.mark.parametrize(
    ("override", "needle"),
    [({"local_method": STORED}, "method"), ({"local_usize": 3}, "size"), ({"local_csize": 1}, "compressed size")],
)
def test_local_header_field_mismatches(tmp_path: Path, override: dict[str, int], needle: str) -> None:
    reader = _open(tmp_path, build_zip([RawEntry("a.py", b"x = 1\n" * 10, **override)]))  # type: ignore[arg-type]
    assert any(f.rule_id == "CW016" and needle in f.message for f in reader.problems)


def test_duplicate_entries_are_critical_and_both_visible(tmp_path: Path) -> None:
    entries = [RawEntry("pkg/a.py", b"first = 1\n"), RawEntry("pkg/a.py", b"second = 2\n")]
    reader = _open(tmp_path, build_zip(entries))
    dup = [f for f in reader.problems if f.rule_id == "CW015"]
    assert dup
    assert dup[0].severity is Severity.CRITICAL
    assert [m.path for m in reader.members()] == ["pkg/a.py (duplicate 1)", "pkg/a.py"]
    assert reader.read("pkg/a.py") == b"second = 2\n"  # what extraction leaves on disk
    assert reader.read("pkg/a.py (duplicate 1)") == b"first = 1\n"


def test_duplicates_after_normalization(tmp_path: Path) -> None:
    reader = _open(tmp_path, build_zip([RawEntry("pkg/a.py", b"1"), RawEntry("pkg/./a.py", b"2")]))
    assert "CW015" in _rules(reader)


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("../../etc/cron.d/evil", "CW010"),
        ("pkg/../../outside.py", "CW010"),
        ("/etc/passwd", "CW010"),
        ("C:/Windows/evil.dll", "CW010"),
        ("..\\..\\evil.py", "CW010"),
        ("pkg\\evil.py", "CW011"),
        ("pkg/bad\x01name.py", "CW011"),
    ],
)
def test_unsafe_member_names(tmp_path: Path, name: str, rule: str) -> None:
    reader = _open(tmp_path, build_zip([RawEntry(name, b"x")]))
    assert rule in _rules(reader)
    assert reader.read(name) == b"x"  # still scanned


def test_hidden_local_entry_is_critical(tmp_path: Path) -> None:
    entries = [
        RawEntry("pkg/__init__.py", b"x = 1\n"),
        RawEntry("evil.pth", b"import os\n", in_central_directory=False),
    ]
    reader = _open(tmp_path, build_zip(entries))
    hidden = [f for f in reader.problems if f.rule_id == "CW017"]
    assert hidden
    assert hidden[0].severity is Severity.CRITICAL
    assert "evil.pth" in hidden[0].message
    assert [m.path for m in reader.members()] == ["pkg/__init__.py"]


def test_overlapping_entries_are_critical(tmp_path: Path) -> None:
    entries = [RawEntry("a.txt", b"A" * 100), RawEntry("b.txt", b"A" * 100, cd_offset=0)]
    reader = _open(tmp_path, build_zip(entries))
    assert "CW018" in _rules(reader)


def test_entry_count_mismatch_is_reported(tmp_path: Path) -> None:
    reader = _open(tmp_path, build_zip(_clean_entries(), eocd_entries=1))
    assert any(f.rule_id == "CW016" and "counts 1" in f.message for f in reader.problems)


def test_unicode_path_extra_field_disagreement(tmp_path: Path) -> None:
    reader = _open(tmp_path, build_zip([RawEntry("safe.py", b"x", unicode_path="evil.pth")]))
    assert any(f.rule_id == "CW016" and "evil.pth" in f.message for f in reader.problems)


def test_second_end_record_is_critical(tmp_path: Path) -> None:
    inner = build_zip([RawEntry("other.py", b"y")])
    data = build_zip(_clean_entries(), comment=inner[-22:])
    reader = _open(tmp_path, data)
    assert "CW020" in _rules(reader)


def test_crc_mismatch_is_reported_on_read(tmp_path: Path) -> None:
    reader = _open(tmp_path, build_zip([RawEntry("a.py", b"x = 1\n", crc=1234)]))
    assert list(reader.read_all()) == []
    assert any(f.rule_id == "CW023" and "CRC" in f.message for f in reader.problems)


def test_corrupt_deflate_stream_is_reported(tmp_path: Path) -> None:
    entry = RawEntry("a.py", b"x = 1\n", compressed=b"\xff\xff\xff\xff\xff\xff")
    reader = _open(tmp_path, build_zip([entry]))
    with pytest.raises(ArtifactError):
        reader.read("a.py")
    assert reader.problems


@pytest.mark.parametrize(
    ("target", "rule"), [("../../../../etc/shadow", "CW012"), ("/etc/shadow", "CW012"), ("sibling.py", "CW013")]
)
def test_symlinks(tmp_path: Path, target: str, rule: str) -> None:
    entry = RawEntry("pkg/link", target.encode(), method=STORED, mode=stat.S_IFLNK | 0o777)
    reader = _open(tmp_path, build_zip([entry]))
    (member,) = reader.members()
    assert member.kind is MemberKind.SYMLINK
    assert member.link_target == target
    assert rule in _rules(reader)
    assert [u.path for u in reader.unscanned] == ["pkg/link"]


def test_device_file_in_zip(tmp_path: Path) -> None:
    reader = _open(tmp_path, build_zip([RawEntry("dev/null", b"", mode=stat.S_IFCHR | 0o666)]))
    assert "CW014" in _rules(reader)
    assert reader.members()[0].kind is MemberKind.DEVICE


def test_member_count_limit(tmp_path: Path) -> None:
    entries = [RawEntry(f"f{i}.py", b"") for i in range(12)]
    reader = _open(tmp_path, build_zip(entries), ArchiveLimits(max_members=5))
    assert "CW022" in _rules(reader)
    assert len(reader.members()) == 5


def test_zip64_archive_reads(tmp_path: Path) -> None:
    path = tmp_path / "z64.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        info = zipfile.ZipInfo("big.py")
        with zf.open(info, "w", force_zip64=True) as fh:
            fh.write(b"print('zip64')\n")
    data = path.read_bytes()
    assert data[18:26] == b"\xff" * 8  # sizes live in the local zip64 extra field
    reader = ZipReader(path, "z64.zip")
    assert reader.problems == ()
    assert reader.read("big.py") == b"print('zip64')\n"


def test_concurrent_reads_from_threads(tmp_path: Path) -> None:
    entries = [RawEntry(f"m{i}.py", f"value = {i}\n".encode() * 200) for i in range(40)]
    reader = _open(tmp_path, build_zip(entries))
    names = [m.path for m in reader.members()] * 5
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(reader.read, names))
    assert all(data == f"value = {names[i][1:-3]}\n".encode() * 200 for i, data in enumerate(results))
    assert reader.problems == ()


def test_duplicate_of_an_oversized_member_is_still_read(tmp_path: Path) -> None:
    entries = [RawEntry("pkg/a.py", b"B" * 5000, method=STORED), RawEntry("pkg/a.py", b"evil()\n")]
    reader = _open(tmp_path, build_zip(entries), ArchiveLimits(max_member_bytes=1000))
    assert [u.path for u in reader.unscanned] == ["pkg/a.py (duplicate 1)"]
    assert reader.read("pkg/a.py") == b"evil()\n"


def test_zip64_end_records_are_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 1)  # make zipfile write zip64 end records for 3 entries
    path = tmp_path / "z64eocd.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(3):
            zf.writestr(f"m{i}.py", f"x = {i}\n")
    assert b"PK\x06\x06" in path.read_bytes()
    assert b"PK\x06\x07" in path.read_bytes()
    monkeypatch.undo()
    reader = ZipReader(path, "z64eocd.zip")
    assert reader.problems == ()
    assert [reader.read(f"m{i}.py") for i in range(3)] == [b"x = 0\n", b"x = 1\n", b"x = 2\n"]


def test_encrypted_member_is_reported_not_read(tmp_path: Path) -> None:
    reader = _open(tmp_path, build_zip([RawEntry("secret.py", b"payload", flags=0x1), RawEntry("ok.py", b"x")]))
    assert any(f.rule_id == "CW023" and "encrypted" in f.message for f in reader.problems)
    assert [u.path for u in reader.unscanned] == ["secret.py"]
    assert [m.path for m, _ in reader.read_all()] == ["ok.py"]


def test_name_zipfile_cannot_decode_is_a_differential(tmp_path: Path) -> None:
    """UTF-8 flag with bytes that are not UTF-8: zipfile (pip) refuses, other readers guess."""
    reader = _open(tmp_path, build_zip([RawEntry("x", b"x", raw_name=b"pkg/\xff\xfe.py", flags=0x800)]))
    assert any(f.rule_id == "CW016" and "zipfile" in f.message for f in reader.problems)
