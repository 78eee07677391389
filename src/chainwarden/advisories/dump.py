"""Read and check an OSV dump (a zip of OSV JSON records, such as OSV's `PyPI/all.zip`).

Everything is validated before the database is touched: a damaged zip (bad CRC, truncated),
a member that is not valid JSON or not an OSV record, oversized members, or a zip without a
single record refuses the whole dump with `DumpError`.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from dataclasses import dataclass

from chainwarden.advisories.model import AdvisoryFormatError, parse_advisory

MAX_MEMBER_BYTES = 16 * 1024 * 1024
MAX_TOTAL_BYTES = 4 * 1024 * 1024 * 1024


class DumpError(Exception):
    """The dump is unusable; nothing was written."""


@dataclass(frozen=True, slots=True)
class DumpRecord:
    id: str
    modified: str
    withdrawn: bool
    packages: tuple[str, ...]  # canonical PyPI names the record affects
    raw: bytes  # the record's JSON, as shipped


def read_dump(data: bytes, label: str = "dump") -> tuple[DumpRecord, ...]:
    """Every OSV record in the zip `data`; raises `DumpError` on the first problem found."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        msg = f"{label}: not a readable zip ({exc})"
        raise DumpError(msg) from None
    records: dict[str, DumpRecord] = {}
    total = 0
    with archive:
        for info in archive.infolist():
            if info.is_dir() or not info.filename.endswith(".json"):
                continue
            if info.file_size > MAX_MEMBER_BYTES:
                msg = f"{label}: {info.filename} is {info.file_size} bytes, larger than any OSV record should be"
                raise DumpError(msg)
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                msg = f"{label}: more than {MAX_TOTAL_BYTES} bytes uncompressed"
                raise DumpError(msg)
            record = _read_member(archive, info, label)
            if record.id in records:
                msg = f"{label}: record {record.id} appears twice ({info.filename})"
                raise DumpError(msg)
            records[record.id] = record
    if not records:
        msg = f"{label}: no OSV JSON records in the zip"
        raise DumpError(msg)
    return tuple(records.values())


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> DumpRecord:
    where = f"{label}: {info.filename}"
    try:
        raw = archive.read(info)  # checks the CRC
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError) as exc:
        msg = f"{where}: damaged member ({exc})"
        raise DumpError(msg) from None
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        msg = f"{where}: invalid JSON ({exc})"
        raise DumpError(msg) from None
    try:
        advisory = parse_advisory(doc)
    except AdvisoryFormatError as exc:
        msg = f"{where}: {exc}"
        raise DumpError(msg) from None
    if not advisory.modified:
        msg = f"{where}: record {advisory.id} has no 'modified' timestamp"
        raise DumpError(msg)
    names = sorted({a.name for a in advisory.affected if a.ecosystem == "PyPI"})
    return DumpRecord(advisory.id, advisory.modified, bool(advisory.withdrawn), tuple(names), raw)
