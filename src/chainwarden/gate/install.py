"""`chainwarden install`: resolve through the gate, scan exactly those files, install them by hash.

Resolution runs `pip install --dry-run --report` against the local filtering index with
`--only-binary :all:`, so no package code runs and the cooldown applies *inside* resolution:
pip picks the newest release that is old enough instead of failing. Every file pip chose was
fetched through the proxy, which hash-checked and scanned it; a file the scan blocks is hidden
and resolution runs again, so the newest release that passes is chosen. Then pip installs
those local files with `--no-index --no-deps --require-hashes`: no second resolution, no
window between check and install.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chainwarden.gate.decisions import Decision
from chainwarden.gate.target import pip_command

if TYPE_CHECKING:
    from collections.abc import Sequence

    from chainwarden.engine import Scanner
    from chainwarden.gate.proxy import GateIndex, ProxyServer
    from chainwarden.policy import Policy

_MAX_ROUNDS = 5


class GateError(Exception):
    """Resolution or installation failed; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class PlannedFile:
    name: str
    version: str
    filename: str
    sha256: str
    path: Path


@dataclass(frozen=True, slots=True)
class InstallPlan:
    files: tuple[PlannedFile, ...]
    refused: tuple[tuple[str, str], ...]  # (filename, reason) the gate refused on the way


def make_file_scanner(scanner: Scanner, policy: Policy, *, owned: bool = False) -> FileScannerImpl:
    """`owned`: closing the file scanner closes `scanner` too (it was made for it)."""
    return FileScannerImpl(scanner, policy, owned=owned)


class FileScannerImpl:
    """Scans one downloaded file with the engine and the policy; one scan at a time."""

    def __init__(self, scanner: Scanner, policy: Policy, *, owned: bool = False) -> None:
        self.scanner = scanner
        self.policy = policy
        self._owned = owned
        self._lock = threading.Lock()

    def close(self) -> None:
        if self._owned:
            with self._lock:
                self.scanner.close()

    def __call__(self, path: Path) -> Decision:
        with self._lock:
            report = self.scanner.scan([str(path)])
        if report.errors:
            return Decision(allowed=False, reason="could not scan: " + "; ".join(report.errors))
        verdict = self.policy.evaluate(report)
        if not verdict.blocked:
            return Decision(allowed=True, reason="scanned: nothing at or above " + verdict.threshold.label)
        shown = []
        for f in verdict.blocking[:3]:
            where = f.location.path + (f":{f.location.line}" if f.location.line else "")
            shown.append(f"{f.rule_id} {f.severity.label} {where}: {f.message}")
        more = f" (+{len(verdict.blocking) - 3} more)" if len(verdict.blocking) > 3 else ""  # noqa: PLR2004
        return Decision(allowed=False, reason="blocked by scan: " + "; ".join(shown) + more)


def _pip_report(
    python: str, requirements: Sequence[str], index_url: str, extra: Sequence[str]
) -> tuple[int, str, dict[str, object]]:
    with tempfile.TemporaryDirectory(prefix="chainwarden-") as tmp:
        report = Path(tmp) / "report.json"
        cmd = pip_command(
            python, "install", "--dry-run", "--ignore-installed", "--quiet",
            "--disable-pip-version-check", "--no-input",
            "--only-binary", ":all:",
            "--index-url", index_url,
            "--report", str(report),
            *extra, *requirements,
        )  # fmt: skip
        env = {"PIP_CONFIG_FILE": "/dev/null", "PATH": "/usr/bin:/bin", "PIP_NO_CACHE_DIR": "1"}
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env, timeout=1800)
        doc: dict[str, object] = {}
        if proc.returncode == 0 and report.is_file():
            doc = json.loads(report.read_text(encoding="utf-8"))
        return proc.returncode, proc.stderr, doc


def plan(
    requirements: Sequence[str],
    *,
    python: str,
    proxy: ProxyServer,
    pip_args: Sequence[str] = (),
) -> InstallPlan:
    """Work out, through the gate, exactly which files would be installed."""
    index: GateIndex = proxy.index
    last_error = ""
    for _ in range(_MAX_ROUNDS):
        before = index.refusals()
        code, stderr, doc = _pip_report(python, requirements, proxy.url, pip_args)
        if code == 0:
            return InstallPlan(files=tuple(_planned(doc, index)), refused=index.refusals())
        last_error = stderr.strip()
        if index.refusals() == before:
            break  # nothing new was refused: retrying cannot help
    refused = index.refusals()
    detail = "\n".join(f"  - {fn}: {why}" for fn, why in refused)
    msg = "resolution failed through the gate"
    if detail:
        msg += f"; refused on the way:\n{detail}"
    tail = "\n".join(last_error.splitlines()[-6:])
    if tail:
        msg += f"\npip said:\n{tail}"
    raise GateError(msg)


def _planned(doc: dict[str, object], index: GateIndex) -> list[PlannedFile]:
    items = doc.get("install", [])
    out: list[PlannedFile] = []
    for item in items if isinstance(items, list) else []:
        url = item.get("download_info", {}).get("url", "")
        filename = url.rsplit("/", 1)[-1]
        path, reason = index.fetch(_unquote(filename))
        if path is None:
            raise GateError(f"{filename}: {reason}")
        meta = item.get("metadata", {})
        sha = path.parent.name
        out.append(PlannedFile(str(meta.get("name", "")), str(meta.get("version", "")), path.name, sha, path))
    return out


def _unquote(text: str) -> str:
    import urllib.parse  # noqa: PLC0415

    return urllib.parse.unquote(text.split("#", 1)[0])


def install_files(files: Sequence[PlannedFile], *, python: str) -> None:
    """Install exactly these local files, each checked against the hash that was scanned."""
    if not files:
        return
    with tempfile.TemporaryDirectory(prefix="chainwarden-") as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text("".join(f"{f.path} --hash=sha256:{f.sha256}\n" for f in files), encoding="utf-8")
        cmd = pip_command(
            python, "install", "--no-index", "--no-deps", "--require-hashes",
            "--disable-pip-version-check", "--no-input", "--quiet", "--only-binary", ":all:", "-r", str(req),
        )  # fmt: skip
        env = {"PIP_CONFIG_FILE": "/dev/null", "PATH": "/usr/bin:/bin"}
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env, timeout=1800)
        if proc.returncode != 0:
            raise GateError("pip could not install the checked files:\n" + proc.stderr.strip()[-2000:])


def write_guard_baseline(python: str, path: Path | None) -> tuple[Path, list[str]]:
    """Record the target environment's `.pth` files (hashes of each file and executable line) as
    the runtime guard's approved baseline. Returns the file written and the `.pth` files that no
    RECORD owns (approved too, but worth a look: post-install persistence leaves such files)."""
    from chainwarden.gate.target import purelib_command  # noqa: PLC0415
    from chainwarden.guard.baseline import render_baseline, scan_pth  # noqa: PLC0415 - only after installs

    proc = subprocess.run(purelib_command(python), capture_output=True, text=True, check=False, timeout=120)
    if proc.returncode != 0:
        raise GateError(f"{python}: cannot locate its site-packages: {proc.stderr.strip()[-300:]}")
    site = Path(proc.stdout.strip())
    files = scan_pth(site)
    target = path or site.parents[2] / "chainwarden-pth-baseline.toml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_baseline(files), encoding="utf-8")
    return target, [f.name for f in files if not f.owner]
