"""Find environments, package caches, persistence spots and campaign indicators under roots.

One walk per root, never following symlinks (no loops, no escapes), pruning directories that
cannot hold Python packages. What cannot be read is recorded, never silently skipped.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from chainwarden.models import Unscanned

_PRUNE = frozenset({".git", "node_modules", "__pycache__", ".hg", ".svn", "proc", "sys", "dev"})
_ENV_DIRS = frozenset({"site-packages", "dist-packages"})
_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".tar.bz2", ".zip", ".tgz")
_RC_FILES = frozenset(
    {".bashrc", ".bash_profile", ".bash_login", ".profile", ".zshrc", ".zprofile", ".zshenv", ".kshrc", "config.fish"}
)
#: Indicators of known campaigns: paths relative to a root (a HOME or an image filesystem).
INDICATOR_PATHS = (
    ".config/sysmon/sysmon.py",
    ".config/systemd/user/sysmon.service",
    "tmp/pglog",
    "tmp/.pg_state",
    "tmp/.bun_ran",
)
INDICATOR_NAMES = frozenset({"tpcp.tar.gz", "payload.enc", "session.key.enc"})
MAX_ENTRIES = 5_000_000


@dataclass
class Discovery:
    environments: list[Path] = field(default_factory=list)
    archives: list[Path] = field(default_factory=list)  # wheels and sdists in caches and elsewhere
    cache_blobs: list[Path] = field(default_factory=list)  # HTTP cache bodies that are zip files
    persistence: list[Path] = field(default_factory=list)
    indicators: list[Path] = field(default_factory=list)
    skipped: list[Unscanned] = field(default_factory=list)
    entries: int = 0


def default_roots(home: Path) -> list[Path]:
    """The current user's home and the system's usual Python and persistence places."""
    candidates = [
        home,
        Path("/usr/lib"),
        Path("/usr/local/lib"),
        Path("/opt"),
        Path("/etc/systemd/system"),
        Path("/etc/cron.d"),
        Path("/etc/crontab"),
        Path("/var/spool/cron"),
        Path("/tmp"),  # noqa: S108 - looking for campaign indicators, not writing
    ]
    return [p for p in candidates if p.exists()]


def _is_persistence(path: Path) -> bool:
    parts = path.parts
    name = path.name
    if name in _RC_FILES:
        return True
    if "systemd" in parts and name.endswith((".service", ".timer")):
        return True
    if "autostart" in parts and name.endswith(".desktop"):
        return True
    return "crontabs" in parts or name == "crontab" or (len(parts) > 1 and parts[-2] in ("cron.d", "cron"))


def _is_http_cache_body(path: Path) -> bool:
    text = path.as_posix()
    return ("/pip/http" in text or "/uv/" in text) and "." not in path.name[-6:]


def _sniff_zip(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def discover(roots: list[Path], *, follow_caches: bool = True) -> Discovery:
    found = Discovery()
    for root in roots:
        _walk_root(root, found, follow_caches=follow_caches)
    return found


def _walk_root(root: Path, found: Discovery, *, follow_caches: bool) -> None:
    label = str(root)
    try:
        st = root.lstat()
    except OSError as err:
        found.skipped.append(Unscanned(label, "", f"cannot read: {err.strerror}"))
        return
    if stat.S_ISREG(st.st_mode):
        _classify_file(root, found, follow_caches=follow_caches)
        return
    if not stat.S_ISDIR(st.st_mode):
        found.skipped.append(Unscanned(label, "", "not a directory or regular file"))
        return
    for rel in INDICATOR_PATHS:
        candidate = root / rel
        if candidate.is_file() and not candidate.is_symlink():
            found.indicators.append(candidate)

    def onerror(err: OSError) -> None:
        found.skipped.append(Unscanned(label, str(err.filename or ""), f"unreadable: {err.strerror}"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror, followlinks=False):
        base = Path(dirpath)
        keep = []
        for d in sorted(dirnames):
            if d in _PRUNE:
                continue
            if d in _ENV_DIRS:
                found.environments.append(base / d)
                continue  # the environment source reads it
            keep.append(d)
        dirnames[:] = keep
        for name in filenames:
            found.entries += 1
            if found.entries > MAX_ENTRIES:
                found.skipped.append(Unscanned(label, dirpath, f"stopped after {MAX_ENTRIES} files"))
                dirnames[:] = []
                return
            _classify_file(base / name, found, follow_caches=follow_caches)


def _classify_file(path: Path, found: Discovery, *, follow_caches: bool) -> None:
    if path.is_symlink():
        return
    name = path.name
    if name in INDICATOR_NAMES and path not in found.indicators:
        found.indicators.append(path)
    if name.endswith(_ARCHIVE_SUFFIXES):
        found.archives.append(path)
    elif _is_persistence(path):
        found.persistence.append(path)
    elif follow_caches and _is_http_cache_body(path) and _sniff_zip(path):
        found.cache_blobs.append(path)
