"""Build wheels and sdists in code, for tests that need a real package file.

`make_wheel` writes a valid wheel (METADATA, WHEEL, entry_points.txt, RECORD with sha256
hashes); `tamper` and `unrecorded` make it lie about itself. `make_sdist` writes an sdist with
PKG-INFO in its top directory. Nothing here runs what it writes.

    wheel = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": "x = 1\\n"},
                       data_files={"purelib/demo.pth": "import os\\n"},
                       entry_points={"console_scripts": {"demo": "demo:main"}})
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import tarfile
import zipfile
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

Content = bytes | str

#: A fixed timestamp so built files are byte-for-byte reproducible.
_EPOCH = (2020, 1, 1, 0, 0, 0)
_MTIME = 1577836800


def _bytes(value: Content) -> bytes:
    return value.encode() if isinstance(value, str) else value


def escape_name(name: str) -> str:
    """The distribution name as wheel and sdist file names spell it (`my-pkg` -> `my_pkg`)."""
    return re.sub(r"[-_.]+", "_", name)


def record_line(path: str, data: bytes) -> str:
    """One RECORD row: path, `sha256=<urlsafe b64, no padding>`, size."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def core_metadata(name: str, version: str, headers: Mapping[str, str | Sequence[str]] | None = None) -> bytes:
    """METADATA / PKG-INFO text. `headers` adds fields; a sequence value repeats the field."""
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    for key, value in (headers or {}).items():
        for item in [value] if isinstance(value, str) else value:
            lines.append(f"{key}: {item}")
    return ("\n".join(lines) + "\n\n").encode()


def entry_points_text(groups: Mapping[str, Mapping[str, str]]) -> bytes:
    out: list[str] = []
    for group, entries in groups.items():
        out.append(f"[{group}]")
        out += [f"{key} = {value}" for key, value in entries.items()]
        out.append("")
    return "\n".join(out).encode()


def make_wheel(
    directory: Path,
    name: str,
    version: str,
    files: Mapping[str, Content] | None = None,
    *,
    data_files: Mapping[str, Content] | None = None,
    entry_points: Mapping[str, Mapping[str, str]] | None = None,
    metadata: Mapping[str, str | Sequence[str]] | None = None,
    tag: str = "py3-none-any",
    record: bool = True,
    unrecorded: Mapping[str, Content] | None = None,
    tamper: Mapping[str, Content] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """Write `{name}-{version}-{tag}.whl` into `directory` and return its path.

    files:       paths relative to the wheel root (they land in site-packages as is)
    data_files:  paths under `{name}-{version}.data/`, e.g. `purelib/x.pth`, `scripts/tool`,
                 `data/lib/python3.12/site-packages/x.pth`
    entry_points: {"console_scripts": {"tool": "pkg.cli:main"}}
    metadata:    extra METADATA headers, e.g. {"Summary": "...", "Requires-Dist": ["a", "b"]}
    record:      False leaves RECORD out
    unrecorded:  files added to the wheel but not listed in RECORD
    tamper:      files whose bytes are replaced after RECORD was computed
    """
    stem = f"{escape_name(name)}-{version}"
    dist_info = f"{stem}.dist-info"
    content: dict[str, bytes] = {path: _bytes(data) for path, data in (files or {}).items()}
    for path, data in (data_files or {}).items():
        content[f"{stem}.data/{path}"] = _bytes(data)
    content[f"{dist_info}/METADATA"] = core_metadata(name, version, metadata)
    content[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: chainwarden-tests\nRoot-Is-Purelib: true\nTag: {tag}\n"
    ).encode()
    if entry_points:
        content[f"{dist_info}/entry_points.txt"] = entry_points_text(entry_points)
    if record:
        rows = [record_line(path, data) for path, data in content.items()]
        rows.append(f"{dist_info}/RECORD,,")
        content[f"{dist_info}/RECORD"] = ("\n".join(rows) + "\n").encode()
    for path, data in (tamper or {}).items():
        content[path] = _bytes(data)
    for path, data in (unrecorded or {}).items():
        content[path] = _bytes(data)
    out = directory / f"{stem}-{tag}.whl"
    with zipfile.ZipFile(out, "w", compression) as zf:
        for path, data in content.items():
            zf.writestr(zipfile.ZipInfo(path, _EPOCH), data, compress_type=compression)
    return out


_SDIST_FORMATS = {"gztar": ".tar.gz", "bztar": ".tar.bz2", "xztar": ".tar.xz", "tar": ".tar", "zip": ".zip"}


def make_sdist(
    directory: Path,
    name: str,
    version: str,
    files: Mapping[str, Content] | None = None,
    *,
    fmt: str = "gztar",
    pkg_info: bool = True,
    metadata: Mapping[str, str | Sequence[str]] | None = None,
) -> Path:
    """Write `{name}-{version}.tar.gz` (or `fmt`: gztar, bztar, xztar, tar, zip) into `directory`.

    Every path in `files` is placed under the top directory `{name}-{version}/`; PKG-INFO is
    added there unless `pkg_info` is False.
    """
    stem = f"{escape_name(name)}-{version}"
    content = {f"{stem}/{path}": _bytes(data) for path, data in (files or {}).items()}
    if pkg_info:
        content[f"{stem}/PKG-INFO"] = core_metadata(name, version, metadata)
    out = directory / f"{stem}{_SDIST_FORMATS[fmt]}"
    if fmt == "zip":
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for path, data in content.items():
                zf.writestr(zipfile.ZipInfo(path, _EPOCH), data, compress_type=zipfile.ZIP_DEFLATED)
        return out
    mode = {"gztar": "w:gz", "bztar": "w:bz2", "xztar": "w:xz", "tar": "w"}[fmt]
    with tarfile.open(out, mode) as tf:  # type: ignore[call-overload]
        for path, data in content.items():
            add_tar_member(tf, path, data)
    return out


def add_tar_member(tf: tarfile.TarFile, path: str, data: bytes = b"", **attrs: object) -> None:
    """Add one member; `attrs` set TarInfo fields (type=tarfile.SYMTYPE, linkname=..., size=...)."""
    info = tarfile.TarInfo(path)
    info.size = len(data)
    info.mtime = _MTIME
    info.mode = 0o644
    for key, value in attrs.items():
        setattr(info, key, value)
    tf.addfile(info, io.BytesIO(data) if info.isreg() else None)
