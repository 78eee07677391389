"""Parse core metadata (METADATA / PKG-INFO), entry_points.txt and RECORD from bytes.

Lenient by design: a hostile or broken file yields what could be read; nothing here raises
on bad content.
"""

from __future__ import annotations

import csv
import email.parser
import email.policy
import io
import tomllib
from typing import TYPE_CHECKING

from chainwarden.models import EntryPoint, PackageMetadata, RecordEntry

if TYPE_CHECKING:
    from pathlib import Path

_MAX_TEXT = 4 * 1024 * 1024


def _text(data: bytes) -> str:
    return data[:_MAX_TEXT].decode("utf-8", "replace")


def parse_core_metadata(
    data: bytes,
    *,
    entry_points: bytes | None = None,
    record: bytes | None = None,
) -> PackageMetadata:
    msg = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(data[:_MAX_TEXT], headersonly=True)

    def header(key: str) -> str:
        value = msg.get(key)
        return str(value).strip() if value is not None else ""

    urls: list[tuple[str, str]] = []
    for raw in msg.get_all("Project-URL") or []:
        label, _, url = str(raw).partition(",")
        urls.append((label.strip(), url.strip()))
    return PackageMetadata(
        name=header("Name"),
        version=header("Version"),
        summary=header("Summary"),
        requires_dist=tuple(str(r).strip() for r in msg.get_all("Requires-Dist") or []),
        entry_points=parse_entry_points(entry_points) if entry_points is not None else (),
        record=parse_record(record) if record is not None else None,
        home_page=header("Home-page"),
        project_urls=tuple(urls),
    )


def parse_entry_points(data: bytes) -> tuple[EntryPoint, ...]:
    """entry_points.txt is INI-like; parsed by hand because configparser rejects duplicates."""
    group = ""
    out: list[EntryPoint] = []
    for raw in _text(data).splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1].strip()
            continue
        name, sep, value = line.partition("=")
        if sep and group:
            out.append(EntryPoint(group, name.strip(), value.strip()))
    return tuple(out)


def parse_record(data: bytes) -> tuple[RecordEntry, ...]:
    out: list[RecordEntry] = []
    for row in csv.reader(io.StringIO(_text(data))):
        if not row or not row[0]:
            continue
        path = row[0]
        digest = row[1] if len(row) > 1 else ""
        size: int | None = None
        if len(row) > 2 and row[2].isdigit():  # noqa: PLR2004 - RECORD's third column
            size = int(row[2])
        out.append(RecordEntry(path, digest, size))
    return tuple(out)


def metadata_from_directory(root: Path) -> PackageMetadata | None:
    """An unpacked sdist has PKG-INFO; a checkout has pyproject.toml. Neither is required."""
    pkg_info = root / "PKG-INFO"
    try:
        if pkg_info.is_file():
            return parse_core_metadata(pkg_info.read_bytes())
        pyproject = root / "pyproject.toml"
        if pyproject.is_file():
            return metadata_from_pyproject(pyproject.read_bytes())
    except OSError:
        return None
    return None


def metadata_from_pyproject(data: bytes) -> PackageMetadata | None:
    try:
        doc = tomllib.loads(_text(data))
    except tomllib.TOMLDecodeError:
        return None
    project = doc.get("project")
    if not isinstance(project, dict):
        return None
    name = project.get("name")
    version = project.get("version", "")
    deps = project.get("dependencies", [])
    return PackageMetadata(
        name=name if isinstance(name, str) else "",
        version=version if isinstance(version, str) else "",
        summary=str(project.get("description", "")),
        requires_dist=tuple(d for d in deps if isinstance(d, str)) if isinstance(deps, list) else (),
    )
