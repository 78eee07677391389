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

from chainwarden.advisories.matching import canonical_version
from chainwarden.advisories.model import PYPI, Advisory, AdvisoryFormatError, RangeType, parse_advisory
from chainwarden.models import Severity

MAX_MEMBER_BYTES = 16 * 1024 * 1024
_MAX_SUMMARY = 200  # as `merge` does for records without a summary
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024


class DumpError(Exception):
    """The dump is unusable; nothing was written."""


@dataclass(frozen=True, slots=True)
class PackageIndex:
    """What the database indexes about one affected package of a record."""

    name: str  # canonical PyPI name
    ranges: str  # JSON: [[type, [[event, value], ...]], ...], ECOSYSTEM/SEMVER ranges only
    versions: tuple[str, ...]  # the enumerated versions, canonical PEP 440 form


@dataclass(frozen=True, slots=True)
class DumpRecord:
    id: str
    modified: str
    withdrawn: bool
    aliases: tuple[str, ...]
    summary: str  # the record's summary, else the first line of its details
    severity: Severity | None
    packages: tuple[PackageIndex, ...]
    raw: bytes  # the record's JSON, as shipped


def index_packages(advisory: Advisory) -> tuple[PackageIndex, ...]:
    by_name: dict[str, tuple[list[list[object]], set[str]]] = {}
    for affected in advisory.affected:
        if affected.ecosystem != PYPI:
            continue
        ranges, versions = by_name.setdefault(affected.name, ([], set()))
        for rng in affected.ranges:
            if rng.type in {RangeType.ECOSYSTEM, RangeType.SEMVER}:
                ranges.append([rng.type.value, [[e.kind.value, e.value] for e in rng.events]])
        versions.update(canonical_version(v) for v in affected.versions)
    return tuple(
        PackageIndex(name, json.dumps(ranges, separators=(",", ":")), tuple(sorted(versions)))
        for name, (ranges, versions) in sorted(by_name.items())
    )


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
    return DumpRecord(
        id=advisory.id,
        modified=advisory.modified,
        withdrawn=bool(advisory.withdrawn),
        aliases=advisory.aliases,
        summary=advisory.summary.strip() or advisory.details.strip().split("\n", 1)[0][:_MAX_SUMMARY],
        severity=advisory.severity,
        packages=index_packages(advisory),
        raw=raw,
    )
