"""Scanning one benchmark sample (runs in worker processes of `detection.py`).

Malicious samples are read out of their encrypted zip *into memory* and scanned from there
(`chainwarden.sources.memory`); nothing is extracted, written, installed or run. Benign
files go through the ordinary `chainwarden scan` sources.
"""

from __future__ import annotations

import hashlib
import re
import signal
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from _common import MALICIOUS

if TYPE_CHECKING:
    from types import FrameType

    from chainwarden.artifact import Artifact
    from chainwarden.engine import Scanner
    from chainwarden.models import ArtifactResult

PASSWORD = b"infected"
SAMPLE_TIMEOUT = 180  # seconds; a sample that takes longer is reported as an error
_CODE_SUFFIXES = (".py", ".pyw", ".pth", ".start", ".sh", ".bat", ".cmd", ".ps1", ".js", ".vbs")


@dataclass(frozen=True, slots=True)
class Sample:
    side: str  # "malicious" | "benign"
    ident: str  # manifest relpath, or the benign file's path
    name: str  # package name
    kind: str  # wheel | sdist | zip


@dataclass(frozen=True, slots=True)
class Outcome:
    sample: Sample
    blocked: bool
    error: str
    max_severity: str
    rules: tuple[str, ...]  # rule ids of the blocking findings
    triggers: tuple[str, ...]  # triggers of the blocking findings
    seen: tuple[str, ...]  # every rule id found, at any severity
    top: str  # the most severe finding, one line
    fingerprint: str  # normalised code-content hash, for grouping near-duplicates
    size: int
    seconds: float


_SCANNER: Scanner | None = None


def _scanner() -> Scanner:
    global _SCANNER  # noqa: PLW0603 - one scanner per worker process
    if _SCANNER is None:
        from chainwarden.engine import Scanner, ScanOptions

        _SCANNER = Scanner(ScanOptions(jobs=1, use_cache=False))
    return _SCANNER


def read_sample(relpath: str) -> tuple[str, bytes]:
    """(inner file name, inner bytes) of one malicious sample, in memory only."""
    with zipfile.ZipFile(MALICIOUS / relpath) as zf:
        (info,) = [i for i in zf.infolist() if not i.is_dir()][:1]
        return info.filename.rsplit("/", 1)[-1], zf.read(info, pwd=PASSWORD)


def fingerprint(art: Artifact, name: str, version: str) -> str:
    """Hash of the artifact's code files with the package's name and version blanked out, so
    that the hundred re-uploads of one payload under new names group together."""
    tokens = {t for t in (name, name.replace("-", "_"), name.replace("_", "-"), version) if len(t) > 1}
    pattern = re.compile("|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True)), re.IGNORECASE)
    hashes = set()
    for m in art.members():
        if not m.path.endswith(_CODE_SUFFIXES) or ".dist-info/" in m.path or ".egg-info/" in m.path:
            continue
        try:
            text = art.read(m.path).decode("utf-8", "replace")
        except Exception:  # unreadable member: not part of the fingerprint
            continue
        if tokens:
            text = pattern.sub("\x00", text)
        text = re.sub(r"\s+", " ", text).strip()
        if text:
            hashes.add(hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16])
    if not hashes:
        hashes = {
            hashlib.sha256(" ".join(sorted(m.path.rsplit("/", 1)[-1] for m in art.members())).encode()).hexdigest()
        }
    return hashlib.sha256(" ".join(sorted(hashes)).encode()).hexdigest()[:16]


def _outcome(sample: Sample, result: ArtifactResult | None, *, error: str, fp: str, size: int, t0: float) -> Outcome:
    from chainwarden.models import ScanReport
    from chainwarden.policy import Policy

    if result is None:
        return Outcome(
            sample,
            blocked=False,
            error=error,
            max_severity="",
            rules=(),
            triggers=(),
            seen=(),
            top="",
            fingerprint=fp,
            size=size,
            seconds=time.perf_counter() - t0,
        )
    verdict = Policy().evaluate(ScanReport("bench", "", (result,)))
    findings = sorted(result.findings, key=lambda f: f.sort_key)
    top = ""
    if findings:
        f = findings[0]
        where = f"{f.location.path}:{f.location.line}" if f.location.line else f.location.path
        top = f"{f.rule_id} {f.severity.label} {f.trigger.value} {where}: {f.message}"[:300]
    return Outcome(
        sample,
        verdict.blocked,
        error,
        findings[0].severity.label if findings else "",
        tuple(sorted({f.rule_id for f in verdict.blocking})),
        tuple(sorted({f.trigger.value for f in verdict.blocking})),
        tuple(sorted({f.rule_id for f in findings})),
        top,
        fp,
        size,
        time.perf_counter() - t0,
    )


def _alarm(signum: int, frame: FrameType | None) -> None:
    del signum, frame
    raise TimeoutError(f"no result within {SAMPLE_TIMEOUT} s")


def scan_sample(sample: Sample) -> Outcome:
    """Scan one sample; any failure becomes an `error` outcome rather than an exception."""
    from chainwarden.sources.memory import open_bytes

    t0 = time.perf_counter()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(SAMPLE_TIMEOUT)
    size, fp = 0, ""
    try:
        if sample.side == "malicious":
            inner, data = read_sample(sample.ident)
            size = len(data)
            with open_bytes(data, inner) as art:
                meta = art.metadata
                fp = fingerprint(art, meta.name if meta else sample.name, meta.version if meta else "")
                result = _scanner().scan_artifact(art)
            return _outcome(sample, result, error="", fp=fp, size=size, t0=t0)
        size = Path(sample.ident).stat().st_size
        errors: list[str] = []
        results = list(_scanner().iter_scan([sample.ident], errors))
        if not results:
            return _outcome(sample, None, error="; ".join(errors) or "no artifact", fp=fp, size=size, t0=t0)
        return _outcome(sample, results[0], error="; ".join(errors), fp=fp, size=size, t0=t0)
    except Exception as err:  # a crash on one sample is a result to report, not the end of the run
        return _outcome(sample, None, error=f"{type(err).__name__}: {err}"[:300], fp=fp, size=size, t0=t0)
    finally:
        signal.alarm(0)
