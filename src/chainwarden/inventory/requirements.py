"""pip requirements files: `-r`/`-c` includes, `--hash`, markers, extras, URLs, editables,
line continuations, and pip-compile's `# via` annotations (which give edges and direct-ness)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as Pep508
from packaging.utils import canonicalize_name

from chainwarden.inventory.base import Parser, UnreadableError, read_text
from chainwarden.inventory.model import FileInventory, Package, Problem, Requirement

FORMAT = "requirements"
MAX_INCLUDE_DEPTH = 16
_COMMENT = re.compile(r"(^|\s+)#.*$")
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
_WHEEL = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._]*)-([^-]+)-")
_VIA = re.compile(r"^\s*#\s+(via\b)?\s*(.*)$")
#: Options that take a value and say nothing about which packages are installed.
_VALUE_OPTIONS = frozenset(
    {"-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--trusted-host", "--no-binary",
     "--only-binary", "--use-feature", "--config-settings", "--global-option", "--progress-bar"}
)
_FLAG_OPTIONS = frozenset({"--pre", "--prefer-binary", "--require-hashes", "--no-index", "--no-deps"})


@dataclass(slots=True)
class _Entry:
    req: Requirement
    via: list[str] = field(default_factory=list)


def _logical_lines(content: str) -> list[tuple[int, str, list[str]]]:
    """(first line number, joined line, raw comment lines that follow it) with continuations joined."""
    out: list[tuple[int, str, list[str]]] = []
    pending = ""
    start = 0
    for number, raw in enumerate(content.splitlines(), start=1):
        if not pending and raw.lstrip().startswith("#"):
            if out:
                out[-1][2].append(raw)
            continue
        line = _COMMENT.sub("", raw) if not pending or not raw.lstrip().startswith("#") else ""
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined = (pending + line).strip()
        pending = ""
        if joined:
            out.append((start, joined, []))
    if pending.strip():
        out.append((start, pending.strip(), []))
    return out


def _split_hashes(line: str) -> tuple[str, tuple[str, ...]]:
    hashes: list[str] = []
    kept: list[str] = []
    for token in line.split():
        if token.startswith("--hash="):
            hashes.append(token.removeprefix("--hash="))
        elif token == "--hash":
            kept.append(token)  # value follows; handled below
        else:
            kept.append(token)
    rest: list[str] = []
    skip = False
    for index, token in enumerate(kept):
        if skip:
            skip = False
            continue
        if token == "--hash" and index + 1 < len(kept):
            hashes.append(kept[index + 1])
            skip = True
            continue
        rest.append(token)
    return " ".join(rest), tuple(h.replace("=", ":", 1) if ":" not in h else h for h in hashes)


def _name_from_url(url: str) -> str:
    egg = _EGG.search(url)
    if egg:
        return egg.group(1)
    last = urlsplit(url).path.rsplit("/", 1)[-1]
    wheel = _WHEEL.match(last)
    if wheel and (last.endswith((".whl", ".tar.gz", ".zip"))):
        return wheel.group(1)
    return ""


def _parse_via(comments: list[str]) -> list[str]:
    """pip-compile writes `# via x` or `# via` followed by `#   x` lines."""
    parents: list[str] = []
    started = False
    for raw in comments:
        match = _VIA.match(raw)
        if not match:
            continue
        if match.group(1):
            started = True
            if match.group(2).strip():
                parents.append(match.group(2).strip())
        elif started and match.group(2).strip():
            parents.append(match.group(2).strip())
    return parents


class RequirementsParser(Parser):
    name: ClassVar[str] = FORMAT

    def claims(self, path: Path) -> bool:
        name = path.name.lower()
        if not name.endswith((".txt", ".in")):
            return False
        return name.startswith("requirements") or name.endswith(("-requirements.txt", "constraints.txt")) or (
            path.parent.name.lower() == "requirements"
        )

    def parse(self, path: Path) -> tuple[FileInventory, ...]:
        results: list[FileInventory] = []
        self._parse(path, results, seen=set(), depth=0, constraint=False)
        return tuple(results)

    def _parse(self, path: Path, results: list[FileInventory], seen: set[Path], depth: int, constraint: bool) -> None:
        resolved = path.resolve()
        if resolved in seen:
            return
        seen.add(resolved)
        try:
            content = read_text(path)
        except UnreadableError as exc:
            results.append(FileInventory(str(path), FORMAT, problems=(Problem(str(path), str(exc)),)))
            return
        entries: list[_Entry] = []
        problems: list[Problem] = []
        includes: list[tuple[Path, bool]] = []
        for number, line, comments in _logical_lines(content):
            entry = self._line(path, number, line, problems, includes, constraint)
            if entry is not None:
                entry.via = _parse_via(comments)
                entries.append(entry)
        results.append(self._inventory(path, entries, problems))
        for target, is_constraint in includes:
            if depth >= MAX_INCLUDE_DEPTH:
                problems.append(Problem(str(path), f"includes nest deeper than {MAX_INCLUDE_DEPTH} files"))
                break
            self._parse(target, results, seen, depth + 1, constraint or is_constraint)

    def _line(
        self,
        path: Path,
        number: int,
        line: str,
        problems: list[Problem],
        includes: list[tuple[Path, bool]],
        constraint: bool,
    ) -> _Entry | None:
        where = str(path)
        try:
            tokens = shlex.split(line, posix=True)
        except ValueError:
            tokens = line.split()
        head = tokens[0] if tokens else ""
        option, _, inline = head.partition("=")
        if option in {"-r", "--requirement", "-c", "--constraint"}:
            target = inline or (tokens[1] if len(tokens) > 1 else "")
            if not target:
                problems.append(Problem(where, f"{option} without a file name", number))
            elif "://" in target:
                problems.append(Problem(where, f"remote include {target} was not fetched", number))
            else:
                includes.append((path.parent / target, option in {"-c", "--constraint"}))
            return None
        if option in _VALUE_OPTIONS or option in _FLAG_OPTIONS:
            return None
        if head.startswith("-") and option not in {"-e", "--editable"}:
            problems.append(Problem(where, f"unknown option {head}", number))
            return None
        group = "constraint" if constraint else "requirements"
        if option in {"-e", "--editable"}:
            target = inline or (tokens[1] if len(tokens) > 1 else "")
            name = _name_from_url(target) or Path(target.rstrip("/")).name
            req = Requirement(name, url=target, editable=True, file=where, line=number, group=group, text=line)
            return _Entry(req)
        body, hashes = _split_hashes(line)
        if re.match(r"^[a-z0-9+.-]+://", body, re.IGNORECASE) or body.startswith(("./", "../", "/")):
            url = body.split(";", 1)[0].strip()
            name = _name_from_url(url)
            if not name:
                problems.append(Problem(where, f"cannot tell which package {url} is", number))
                return None
            return _Entry(Requirement(name, url=url, hashes=hashes, file=where, line=number, group=group, text=line))
        try:
            parsed = Pep508(body)
        except InvalidRequirement as exc:
            problems.append(Problem(where, f"invalid requirement {body!r}: {exc}", number))
            return None
        req = Requirement(
            name=parsed.name,
            specifier=str(parsed.specifier),
            extras=tuple(sorted(parsed.extras)),
            marker=str(parsed.marker) if parsed.marker else "",
            url=parsed.url or "",
            hashes=hashes,
            file=where,
            line=number,
            group=group,
            text=line,
        )
        return _Entry(req)

    @staticmethod
    def _inventory(path: Path, entries: list[_Entry], problems: list[Problem]) -> FileInventory:
        children: dict[str, set[str]] = {}
        for entry in entries:
            for parent in entry.via:
                if not parent.startswith(("-r", "-c")):
                    key = canonicalize_name(parent.split()[0])
                    children.setdefault(key, set()).add(entry.req.key)
        packages: list[Package] = []
        for entry in entries:
            version = entry.req.pinned_version
            if version is None or entry.req.group == "constraint":
                continue
            direct: bool | None = None
            if entry.via:
                direct = any(p.startswith(("-r", "-c")) or "pyproject.toml" in p or ".in" in p for p in entry.via)
            packages.append(
                Package(
                    name=entry.req.name,
                    version=version,
                    hashes=entry.req.hashes,
                    dependencies=tuple(sorted(children.get(entry.req.key, ()))),
                    direct=direct if direct is not None else True,
                    source=str(path),
                )
            )
        return FileInventory(
            str(path),
            FORMAT,
            packages=tuple(packages),
            requirements=tuple(e.req for e in entries),
            problems=tuple(problems),
        )
