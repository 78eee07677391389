"""GuardDog, for a side-by-side comparison in `detection.py` (only if it is installed).

GuardDog lives in its own venv, `bench/_data/venv-guarddog` (never a chainwarden
dependency). It refreshes popularity lists over the network at start-up unless
`GUARDDOG_TOP_PACKAGES_CACHE_LOCATION` points at a copy of its bundled resources whose
`downloaded_timestamp` is recent: `prepare()` makes that copy, so GuardDog never reaches out.

GuardDog needs a file on disk. Malicious samples are written to a fresh directory on
`/dev/shm` (tmpfs: memory, never the disk), GuardDog's own TMPDIR points there as well (it
unpacks archives to scan them with semgrep), and the directory is removed as soon as that
one scan ends. Nothing is installed or run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _common import DATA

VENV = DATA / "venv-guarddog"
RESOURCES = DATA / "guarddog-resources"
TIMEOUT = 600


@dataclass(frozen=True, slots=True)
class GuardDogResult:
    label: str  # GuardDog's risk label ("high_risk", "suspicious", ...) or "error"
    score: float
    issues: int
    seconds: float
    error: str = ""


def executable() -> Path | None:
    exe = VENV / "bin" / "guarddog"
    return exe if exe.exists() else None


def version() -> str:
    exe = executable()
    if exe is None:
        return ""
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=False, timeout=60)
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "?"


def prepare() -> None:
    """Copy GuardDog's bundled popularity lists and mark them fresh (no network at start-up)."""
    bundled = next((VENV / "lib").glob("python3*/site-packages/guarddog/analyzer/metadata/resources"), None)
    if bundled is None:
        msg = f"GuardDog resources not found under {VENV}"
        raise FileNotFoundError(msg)
    RESOURCES.mkdir(parents=True, exist_ok=True)
    for src in bundled.iterdir():
        dst = RESOURCES / src.name
        shutil.copyfile(src, dst)
        if src.suffix == ".json":
            data = json.loads(dst.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                data["downloaded_timestamp"] = int(time.time())
                dst.write_text(json.dumps(data), encoding="utf-8")


def _env(tmpdir: str) -> dict[str, str]:
    env = dict(os.environ)
    env["GUARDDOG_TOP_PACKAGES_CACHE_LOCATION"] = str(RESOURCES)
    env["TMPDIR"] = tmpdir
    return env


def scan_file(path: Path, tmpdir: str) -> GuardDogResult:
    exe = executable()
    if exe is None:
        return GuardDogResult("error", 0.0, 0, 0.0, "guarddog not installed")
    t0 = time.perf_counter()
    try:
        out = subprocess.run(
            [str(exe), "pypi", "scan", str(path), "--output-format", "json"],
            capture_output=True,
            text=True,
            check=False,
            timeout=TIMEOUT,
            env=_env(tmpdir),
        )
    except subprocess.TimeoutExpired:
        return GuardDogResult("error", 0.0, 0, time.perf_counter() - t0, f"timeout after {TIMEOUT} s")
    seconds = time.perf_counter() - t0
    try:
        data = json.loads(out.stdout)
    except json.JSONDecodeError:
        tail = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no output"]
        return GuardDogResult("error", 0.0, 0, seconds, tail[0][:200])
    risk = data.get("risk_score") or {}
    return GuardDogResult(
        str(risk.get("label", "none")), float(risk.get("score", 0.0)), int(data.get("issues", 0)), seconds
    )


def scan_benign(path: Path) -> GuardDogResult:
    tmp = tempfile.mkdtemp(prefix="cw-guarddog-", dir=_tmpfs())
    try:
        return scan_file(path, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def scan_bytes(name: str, data: bytes) -> GuardDogResult:
    """Scan a malicious sample held in memory: written to tmpfs for this one scan, then removed."""
    shm = _tmpfs()
    if shm is None:
        return GuardDogResult("error", 0.0, 0, 0.0, "no tmpfs (/dev/shm): malicious samples are not written to disk")
    tmp = tempfile.mkdtemp(prefix="cw-guarddog-", dir=shm)
    try:
        target = Path(tmp) / name
        target.write_bytes(data)
        target.chmod(0o400)
        return scan_file(target, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _tmpfs() -> str | None:
    return "/dev/shm" if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK) else None
