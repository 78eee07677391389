"""The approved `.pth` baseline and `chainwarden verify`: installed files against RECORD and baseline.

A baseline pins every `.pth` file of an environment by the SHA-256 of its content and of each line
that `site` would execute; the guard runs only executable lines whose hash is pinned. Everything
here reads files; nothing imports or runs what it inspects.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import tomllib
from dataclasses import dataclass
from pathlib import Path

from chainwarden.guard.runtime._cw_match import normalize_name
from chainwarden.policy import ConfigError

GUARD_PTH = "!chainwarden-guard.pth"
GUARD_DIR = "_chainwarden_guard"
_HEX_DIGEST = 64


@dataclass(frozen=True, slots=True)
class PthFile:
    name: str
    path: Path
    sha256: str
    owner: str  # distribution whose RECORD lists it, or "" when none does
    exec_lines: tuple[str, ...]  # SHA-256 of each line `site` would exec()


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str  # modified | missing | unowned | new-pth | changed-pth | pth-sorts-first
    path: str
    detail: str


def executable_lines(text: str) -> list[str]:
    """Lines of a `.pth` file that `site` executes (those starting with `import` + space/tab)."""
    return [line for line in text.splitlines() if line.startswith(("import ", "import\t"))]


def line_hash(line: str) -> str:
    return hashlib.sha256(line.rstrip("\r\n").encode("utf-8", "surrogateescape")).hexdigest()


def _record_rows(dist_info: Path) -> list[list[str]]:
    try:
        text = (dist_info / "RECORD").read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        return []
    return [row for row in csv.reader(io.StringIO(text)) if row]


def owners(site_dir: Path) -> dict[str, str]:
    """Relative path → owning distribution, from every RECORD in `site_dir`."""
    table: dict[str, str] = {}
    for dist_info in sorted(site_dir.glob("*.dist-info")):
        dist = normalize_name(dist_info.name[: -len(".dist-info")].rsplit("-", 1)[0])
        for row in _record_rows(dist_info):
            table.setdefault(row[0], dist)
    return table


def scan_pth(site_dir: Path) -> list[PthFile]:
    table = owners(site_dir)
    out: list[PthFile] = []
    for path in sorted(site_dir.glob("*.pth")):
        data = path.read_bytes()
        # Python 3.13's `site` decodes with utf-8-sig, so a line behind a BOM runs there: count it too
        text = data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
        out.append(PthFile(path.name, path, hashlib.sha256(data).hexdigest(), table.get(path.name, ""),
                           tuple(line_hash(line) for line in executable_lines(text))))
    return out


def render_baseline(files: list[PthFile]) -> str:
    lines = ["# chainwarden approved .pth baseline: review each file before approving it.", "version = 1"]
    for f in files:
        if f.name == GUARD_PTH:
            continue
        hashes = ", ".join(f'"{h}"' for h in f.exec_lines)
        lines += ["", "[[pth]]", f'name = "{f.name}"', f'sha256 = "{f.sha256}"', f'distribution = "{f.owner}"',
                  f"lines = [{hashes}]"]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class Baseline:
    files: dict[str, tuple[str, tuple[str, ...]]]  # name -> (file sha256, executable line hashes)
    owners: dict[str, str]  # name -> distribution recorded when the file was approved

    def runtime_table(self) -> dict[str, dict[str, object]]:
        """What the guard runtime reads: the approved line hashes (and owner) of each `.pth` file."""
        return {name: {"lines": list(lines), "distribution": self.owners.get(name, "")}
                for name, (_sha, lines) in self.files.items()}


def load_baseline(path: Path) -> Baseline:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"cannot read .pth baseline {path}: {err}") from None
    errors: list[str] = []
    files: dict[str, tuple[str, tuple[str, ...]]] = {}
    owners: dict[str, str] = {}
    entries = data.get("pth", [])
    if data.get("version", 1) != 1 or not isinstance(entries, list):
        errors.append("expected `version = 1` and [[pth]] tables")
        entries = []
    for i, entry in enumerate(entries):
        ok = isinstance(entry, dict) and isinstance(entry.get("name"), str) and isinstance(entry.get("sha256"), str)
        lines = entry.get("lines", []) if isinstance(entry, dict) else None
        digests = isinstance(lines, list) and all(isinstance(x, str) and len(x) == _HEX_DIGEST for x in lines)
        if not ok or not digests:
            errors.append(f"[[pth]] #{i + 1}: needs name, sha256 and lines (a list of SHA-256 hex digests)")
            continue
        files[entry["name"]] = (entry["sha256"], tuple(lines) if isinstance(lines, list) else ())
        if isinstance(entry.get("distribution"), str) and entry["distribution"]:
            owners[entry["name"]] = entry["distribution"]
    if errors:
        raise ConfigError(f"invalid .pth baseline {path}; the guard will not start:\n  " + "\n  ".join(errors))
    return Baseline(files, owners)


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def site_dirs_of(path: Path) -> list[Path]:
    """`path` itself if it holds distributions, else the site-packages of a virtual environment at `path`."""
    if any(path.glob("*.dist-info")) or path.name in ("site-packages", "dist-packages"):
        return [path]
    return sorted(p for p in path.glob("lib/python3*/site-packages") if p.is_dir())


def verify(site_dir: Path, baseline: Baseline | None) -> list[Problem]:
    """Installed files against their RECORD hashes, unowned files, and `.pth` files against the baseline."""
    problems: list[Problem] = []
    owned: set[str] = set()
    for dist_info in sorted(site_dir.glob("*.dist-info")):
        for row in _record_rows(dist_info):
            rel = row[0]
            owned.add(rel)
            if not row[1:] or not row[1].startswith("sha256=") or rel.startswith(".."):
                continue
            target = site_dir / rel
            if not target.is_file():
                problems.append(Problem("missing", rel, f"listed in {dist_info.name}/RECORD but not installed"))
            elif _file_hash(target) != row[1][len("sha256="):]:
                problems.append(Problem("modified", rel, f"content differs from the hash in {dist_info.name}/RECORD"))
    for path in sorted(site_dir.rglob("*")):
        rel = path.relative_to(site_dir).as_posix()
        if path.is_dir() or "__pycache__" in path.parts or rel in owned or rel.endswith(".pyc"):
            continue
        if rel == GUARD_PTH or rel.startswith(GUARD_DIR + "/"):
            continue
        problems.append(Problem("unowned", rel, "no RECORD lists this file"))
    return problems + _pth_problems(site_dir, baseline)


def _pth_problems(site_dir: Path, baseline: Baseline | None) -> list[Problem]:
    problems: list[Problem] = []
    for pth in scan_pth(site_dir):
        if pth.name == GUARD_PTH:
            continue
        if pth.name < GUARD_PTH and (site_dir / GUARD_PTH).exists():
            problems.append(Problem("pth-sorts-first", pth.name, f"sorts before {GUARD_PTH}, so it runs unguarded"))
        if baseline is None:
            continue
        known = baseline.files.get(pth.name)
        if known is None:
            problems.append(Problem("new-pth", pth.name, f"not in the approved baseline ({len(pth.exec_lines)} "
                                    "executable line(s))"))
        elif known[0] != pth.sha256:
            problems.append(Problem("changed-pth", pth.name, "content differs from the approved baseline"))
    return problems
