"""Paired fixtures for the container rules (CW010-CW030), built in code.

`FIXTURES[rule_id] = (malicious_builder, benign_builder)`: each builder writes one artifact
under the directory it is given (a wheel, an sdist or a venv) and returns its path. The benign
one is the nearest harmless twin of the malicious one: the same archive without the lie, or
with the thing just on the safe side of the rule's line. Hostile zips whose headers disagree
are written byte by byte with `build_zip`; nothing here is extracted or run.

Two rules cannot be scanned as a plain path with default settings:

- CW029 comes from the package index. Its builders write an offline index cache (the release
  listing and the cached file) and return the cache directory; scan `INDEX_TARGET` offline
  with that directory as the cache (`INDEX_RULES`).
- CW022's default limit (200,000 members) takes over 13 s to write and scan on 2 cores
  (`bench/zip_members.py`, numbers in docs/benchmarks.md), too slow for a unit test, so its
  pair is scanned with the smaller limit in `LIMITS`; the twins sit on either side of it.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import stat
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from chainwarden import codec
from chainwarden.archive import ArchiveLimits
from chainwarden.index_client import IndexFile
from support import (
    STORED,
    RawEntry,
    add_tar_member,
    build_zip,
    core_metadata,
    fake_install,
    make_venv,
    make_wheel,
    record_line,
)

Builder = Callable[[Path], Path]

NAME, VERSION = "demo", "1.0"
STEM = f"{NAME}-{VERSION}"
DIST_INFO = f"{STEM}.dist-info"
INDEX_TARGET = f"{NAME}=={VERSION}"
INDEX_RULES = frozenset({"CW029"})
LIMITS: dict[str, ArchiveLimits] = {"CW022": ArchiveLimits(max_members=64)}

_INIT = b"def greet():\n    return 'hello'\n"
_MIB = 1024 * 1024
#: Over the default 16 MiB ratio floor, so the default 200:1 ratio limit applies.
_BOMB_BYTES = 17 * _MIB


def _dir(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _wheel(directory: Path, files: dict[str, bytes | str] | None = None, **kwargs: object) -> Path:
    """A valid wheel of `demo` 1.0 with `demo/__init__.py` and `files` (make_wheel's keywords pass through)."""
    content: dict[str, bytes | str] = {"demo/__init__.py": _INIT, **(files or {})}
    return make_wheel(_dir(directory), NAME, VERSION, content, **kwargs)  # type: ignore[arg-type]


def _raw_wheel(directory: Path, entries: list[RawEntry], **zip_options: bytes) -> Path:
    """A wheel written byte by byte: `entries`, then METADATA, WHEEL and a RECORD of every
    central-directory entry. `zip_options` go to `build_zip` (prepend, append, comment)."""
    meta = [
        RawEntry(f"{DIST_INFO}/METADATA", core_metadata(NAME, VERSION)),
        RawEntry(
            f"{DIST_INFO}/WHEEL", b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    ]
    listed = {e.name: e.data for e in (*entries, *meta) if e.in_central_directory and not stat.S_ISLNK(e.mode)}
    rows = [record_line(path, data) for path, data in listed.items()] + [f"{DIST_INFO}/RECORD,,"]
    record = RawEntry(f"{DIST_INFO}/RECORD", ("\n".join(rows) + "\n").encode())
    out = _dir(directory) / f"{STEM}-py3-none-any.whl"
    out.write_bytes(build_zip([*entries, *meta, record], **zip_options))  # type: ignore[arg-type]
    return out


def _sdist(directory: Path, members: list[tuple[str, bytes, dict[str, object]]], *, cut: float = 1.0) -> Path:
    """`demo-1.0.tar.gz` with PKG-INFO and setup.py, then `members` (path under the top
    directory, data, TarInfo attributes). `cut` < 1 keeps only that fraction of the file."""
    out = _dir(directory) / f"{STEM}.tar.gz"
    with tarfile.open(out, "w:gz") as tf:
        add_tar_member(tf, f"{STEM}/PKG-INFO", core_metadata(NAME, VERSION))
        add_tar_member(tf, f"{STEM}/setup.py", b"from setuptools import setup\nsetup()\n")
        for path, data, attrs in members:
            add_tar_member(tf, f"{STEM}/{path}", data, **attrs)
    if cut < 1.0:
        out.write_bytes(out.read_bytes()[: int(out.stat().st_size * cut)])
    return out


def _venv(directory: Path, *, record: bool) -> Path:
    root, site = make_venv(_dir(directory))
    fake_install(site, NAME, VERSION, {"demo/__init__.py": _INIT}, record=record)
    return root


def _index_cache(directory: Path, *, yanked: bool) -> Path:
    """An offline index cache holding the release `demo==1.0`: its listing and its wheel."""
    wheel = _wheel(directory / "dist")
    data = wheel.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    cache = _dir(directory / "cache")
    _dir(cache / "files").joinpath(sha).write_bytes(data)
    listed = IndexFile(
        project=NAME,
        filename=wheel.name,
        url=f"https://pypi.invalid/files/{wheel.name}",
        hashes=(("sha256", sha),),
        yanked=yanked,
        yanked_reason="compromised release" if yanked else "",
    )
    listing = _dir(cache / "releases" / NAME) / f"{VERSION}.json"
    listing.write_text(json.dumps(codec.to_jsonable((listed,))), encoding="utf-8")
    return cache


def _strip_member(wheel: Path, member: str) -> Path:
    """Rewrite `wheel` without `member` (RECORD still lists it)."""
    data = wheel.read_bytes()
    wheel.unlink()
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as dst, zipfile.ZipFile(io.BytesIO(data)) as src:
        for info in src.infolist():
            if info.filename != member:
                dst.writestr(info, src.read(info))
    return wheel


def _ratio_data(size: int, ratio_hint: int) -> bytes:
    """`size` bytes that deflate at roughly `ratio_hint`:1 (64 gives 53:1): blocks of a few random bytes in zeros."""
    rng = random.Random(0)
    block = 4096
    noisy = max(1, block // ratio_hint)
    return b"".join(rng.randbytes(noisy) + b"\0" * (block - noisy) for _ in range(size // block))


def _filler(count: int) -> list[RawEntry]:
    return [RawEntry(f"demo/filler/{i}.txt", b"", method=STORED) for i in range(count)]


_LIMIT = LIMITS["CW022"].max_members
_SHIPPED = 4  # demo/__init__.py, METADATA, WHEEL, RECORD
_LINK = stat.S_IFLNK | 0o777
#: The end-of-central-directory record of another (one-member) zip.
_INNER_END = build_zip([RawEntry("other.py", b"y = 2\n")])[-22:]

FIXTURES: dict[str, tuple[Builder, Builder]] = {
    # A `..` segment climbs out of site-packages; `..` inside a file name does not.
    "CW010": (
        lambda d: _wheel(d, {"../../etc/cron.d/demo": "* * * * * root true\n"}),
        lambda d: _wheel(d, {"demo/..cron.d/demo": "* * * * * root true\n"}),
    ),
    # A backslash is a separator on Windows; the forward-slash spelling is the same file, unambiguous.
    "CW011": (
        lambda d: _wheel(d, {"demo\\helpers.py": "X = 1\n"}),
        lambda d: _wheel(d, {"demo/helpers.py": "X = 1\n"}),
    ),
    # A symlink that climbs out of the archive vs one that climbs only to a sibling directory.
    "CW012": (
        lambda d: _sdist(d, [("demo/config", b"", {"type": tarfile.SYMTYPE, "linkname": "../../../etc/passwd"})]),
        lambda d: _sdist(d, [("demo/config", b"", {"type": tarfile.SYMTYPE, "linkname": "../setup.py"})]),
    ),
    # A symlink inside a wheel (zip, Unix mode S_IFLNK) vs a regular file with the same bytes.
    "CW013": (
        lambda d: _raw_wheel(d, [RawEntry("demo/alias.py", b"__init__.py", method=STORED, mode=_LINK)]),
        lambda d: _raw_wheel(d, [RawEntry("demo/alias.py", b"__init__.py", method=STORED)]),
    ),
    # A character device node vs an empty regular file of the same name.
    "CW014": (
        lambda d: _sdist(d, [("dev/null", b"", {"type": tarfile.CHRTYPE, "devmajor": 1, "devminor": 3})]),
        lambda d: _sdist(d, [("dev/null", b"", {})]),
    ),
    # Two copies of one name (installers keep the last, zipfile readers may use the first) vs two names.
    "CW015": (
        lambda d: _raw_wheel(d, [RawEntry("demo/__init__.py", _INIT), RawEntry("demo/__init__.py", b"evil = 1\n")]),
        lambda d: _raw_wheel(d, [RawEntry("demo/__init__.py", _INIT), RawEntry("demo/_evil.py", b"evil = 1\n")]),
    ),
    # The local header names another file than the central directory does.
    "CW016": (
        lambda d: _raw_wheel(d, [RawEntry("demo/__init__.py", _INIT, local_name=b"demo/evil.py")]),
        lambda d: _raw_wheel(d, [RawEntry("demo/__init__.py", _INIT)]),
    ),
    # A local entry no central record points to (streaming readers install it) vs the same entry listed.
    "CW017": (
        lambda d: _raw_wheel(
            d, [RawEntry("demo/__init__.py", _INIT), RawEntry("demo_hook.pth", b"demo\n", in_central_directory=False)]
        ),
        lambda d: _raw_wheel(d, [RawEntry("demo/__init__.py", _INIT), RawEntry("demo_hook.pth", b"demo\n")]),
    ),
    # Two central records point at the same local header and data.
    "CW018": (
        lambda d: _raw_wheel(d, [RawEntry("demo/__init__.py", _INIT), RawEntry("demo/copy.py", _INIT, cd_offset=0)]),
        lambda d: _raw_wheel(d, [RawEntry("demo/__init__.py", _INIT), RawEntry("demo/copy.py", _INIT)]),
    ),
    # A shell script prepended to the zip (a polyglot) vs the same bytes as the archive comment.
    "CW019": (
        lambda d: _raw_wheel(d, [RawEntry("demo/__init__.py", _INIT)], prepend=b"#!/bin/sh\necho polyglot\n"),
        lambda d: _raw_wheel(d, [RawEntry("demo/__init__.py", _INIT)], comment=b"#!/bin/sh\necho polyglot\n"),
    ),
    # A second end record hidden in the comment vs a comment with the same bytes and a broken signature.
    "CW020": (
        lambda d: _raw_wheel(d, [RawEntry("demo/__init__.py", _INIT)], comment=_INNER_END),
        lambda d: _raw_wheel(d, [RawEntry("demo/__init__.py", _INIT)], comment=b"PK\x05\x07" + _INNER_END[4:]),
    ),
    # 17 MiB of zeros (1028:1) vs 17 MiB that deflates 53:1; both past the 16 MiB floor,
    # on either side of the default 200:1 limit.
    "CW021": (
        lambda d: _wheel(d, {"demo/data.bin": b"\0" * _BOMB_BYTES}),
        lambda d: _wheel(d, {"demo/data.bin": _ratio_data(_BOMB_BYTES, 64)}),
    ),
    # One member over the limit (scanned with `LIMITS`) vs exactly at it.
    "CW022": (
        lambda d: _raw_wheel(d, [RawEntry("demo/__init__.py", _INIT), *_filler(_LIMIT - _SHIPPED + 1)]),
        lambda d: _raw_wheel(d, [RawEntry("demo/__init__.py", _INIT), *_filler(_LIMIT - _SHIPPED)]),
    ),
    # An encrypted member cannot be scanned; the same member unencrypted can.
    "CW023": (
        lambda d: _raw_wheel(
            d, [RawEntry("demo/__init__.py", _INIT), RawEntry("demo/payload.py", b"x = 1\n", flags=0x1)]
        ),
        lambda d: _raw_wheel(d, [RawEntry("demo/__init__.py", _INIT), RawEntry("demo/payload.py", b"x = 1\n")]),
    ),
    # An sdist cut off in the middle of its second member vs the same sdist whole.
    "CW024": (
        lambda d: _sdist(d, [("demo/blob.bin", random.Random(1).randbytes(200_000), {})], cut=0.5),
        lambda d: _sdist(d, [("demo/blob.bin", random.Random(1).randbytes(200_000), {})]),
    ),
    # A file changed after RECORD was written vs the same wheel untouched.
    "CW025": (
        lambda d: _wheel(d, tamper={"demo/__init__.py": "import os\nos.system('true')\n"}),
        _wheel,
    ),
    # A .pth added after the build (not in RECORD) vs the same .pth listed in RECORD.
    "CW026": (
        lambda d: _wheel(d, unrecorded={"demo_paths.pth": "demo\n"}),
        lambda d: _wheel(d, {"demo_paths.pth": "demo\n"}),
    ),
    # A second top-level .dist-info vs a vendored one nested inside the package (as setuptools ships).
    "CW027": (
        lambda d: _wheel(d, {"other-2.0.dist-info/METADATA": core_metadata("other", "2.0")}),
        lambda d: _wheel(d, {"demo/_vendor/other-2.0.dist-info/METADATA": core_metadata("other", "2.0")}),
    ),
    # RECORD lists a file that was removed from the wheel vs the wheel as built.
    "CW028": (
        lambda d: _strip_member(_wheel(d, {"demo/gone.py": "X = 1\n"}), "demo/gone.py"),
        lambda d: _wheel(d, {"demo/gone.py": "X = 1\n"}),
    ),
    # The release's file is yanked on the index vs the same listing not yanked (offline cache).
    "CW029": (
        lambda d: _index_cache(d, yanked=True),
        lambda d: _index_cache(d, yanked=False),
    ),
    # An installed .dist-info without RECORD vs the same installation with it.
    "CW030": (
        lambda d: _venv(d, record=False),
        lambda d: _venv(d, record=True),
    ),
}
