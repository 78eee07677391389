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
#: pip-compile's `# via` names what asked for a pin: an input file or a project manifest
#: (`-r requirements.in`, `app (pyproject.toml)`) makes it direct; `-c` constraints do not.
_DIRECT_VIA = re.compile(r"^-r\s|\((pyproject\.toml|setup\.py|setup\.cfg)\)$|\.in$")
_VIA = re.compile(r"^\s*#\s+(via\b)?\s*(.*)$")
#: Options that take a value and say nothing about which packages are installed.
_VALUE_OPTIONS = frozenset(
    {
        "-i",
        "--index-url",
        "--extra-index-url",
        "-f",
        "--find-links",
        "--trusted-host",
        "--no-binary",
        "--only-binary",
        "--use-feature",
        "--config-settings",
        "--global-option",
        "--progress-bar",
    }
)
_FLAG_OPTIONS = frozenset({"--pre", "--prefer-binary", "--require-hashes", "--no-index", "--no-deps"})


@dataclass(slots=True)
class _Entry:
    req: Requirement
    via: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Context:
    """What parsing one file collects besides its requirements."""

    path: Path
    group: str
    problems: list[Problem] = field(default_factory=list)
    includes: list[tuple[Path, bool]] = field(default_factory=list)

    @property
    def where(self) -> str:
        return str(self.path)

    def problem(self, message: str, line: int) -> None:
        self.problems.append(Problem(self.where, message, line))

    def include(self, option: str, target: str, line: int) -> None:
        if not target:
            self.problem(f"{option} without a file name", line)
        elif "://" in target:
            self.problem(f"remote include {target} was not fetched", line)
        else:
            self.includes.append((self.path.parent / target, option in {"-c", "--constraint"}))


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
    """The line without its `--hash` options, and the hashes as `algorithm:hex`."""
    hashes: list[str] = []
    rest: list[str] = []
    words = iter(line.split())
    for word in words:
        if word.startswith("--hash="):
            hashes.append(word.removeprefix("--hash="))
        elif word == "--hash":
            hashes.append(next(words, ""))
        else:
            rest.append(word)
    return " ".join(rest), tuple(h if ":" in h else h.replace("=", ":", 1) for h in hashes if h)


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
        if not match or not raw[:1].isspace():  # pip-compile indents its annotations
            started = False
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
        if not name.endswith((".txt", ".in", ".lock")):  # `uv pip compile -o requirements/dev.lock`
            return False
        return (
            name.startswith("requirements")
            or name.endswith(("-requirements.txt", "constraints.txt"))
            or (path.parent.name.lower() == "requirements")
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
        ctx = _Context(path, "constraint" if constraint else "requirements")
        for number, line, comments in _logical_lines(content):
            entry = self._line(ctx, number, line)
            if entry is not None:
                entry.via = _parse_via(comments)
                entries.append(entry)
        if ctx.includes and depth >= MAX_INCLUDE_DEPTH:
            ctx.problems.append(
                Problem(str(path), f"includes nest deeper than {MAX_INCLUDE_DEPTH} files; not followed")
            )
            ctx.includes.clear()
        results.append(self._inventory(path, entries, ctx.problems))
        for target, is_constraint in ctx.includes:
            self._parse(target, results, seen, depth + 1, constraint or is_constraint)

    def _line(self, ctx: _Context, number: int, line: str) -> _Entry | None:
        try:
            tokens = shlex.split(line, posix=True)
        except ValueError:
            tokens = line.split()
        head = tokens[0] if tokens else ""
        option, _, inline = head.partition("=")
        value = inline or (tokens[1] if len(tokens) > 1 else "")
        if option in {"-r", "--requirement", "-c", "--constraint"}:
            ctx.include(option, value, number)
            return None
        if option in _VALUE_OPTIONS or option in _FLAG_OPTIONS:
            return None
        if head.startswith("-") and option not in {"-e", "--editable"}:
            ctx.problem(f"unknown option {head}", number)
            return None
        if option in {"-e", "--editable"}:
            name = _name_from_url(value) or Path(value.rstrip("/")).name
            return _Entry(
                Requirement(name, url=value, editable=True, file=ctx.where, line=number, group=ctx.group, text=line)
            )
        return self._requirement(ctx, number, line)

    @staticmethod
    def _requirement(ctx: _Context, number: int, line: str) -> _Entry | None:
        body, hashes = _split_hashes(line)
        if re.match(r"^[a-z0-9+.-]+://", body, re.IGNORECASE) or body.startswith(("./", "../", "/")):
            url = body.split(";", 1)[0].strip()
            name = _name_from_url(url)
            if not name:
                ctx.problem(f"cannot tell which package {url} is", number)
                return None
            return _Entry(
                Requirement(name, url=url, hashes=hashes, file=ctx.where, line=number, group=ctx.group, text=line)
            )
        try:
            parsed = Pep508(body)
        except InvalidRequirement as exc:
            ctx.problem(f"invalid requirement {body!r}: {exc}", number)
            return None
        req = Requirement(
            name=parsed.name,
            specifier=str(parsed.specifier),
            extras=tuple(sorted(parsed.extras)),
            marker=str(parsed.marker) if parsed.marker else "",
            url=parsed.url or "",
            hashes=hashes,
            file=ctx.where,
            line=number,
            group=ctx.group,
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
                direct = any(_DIRECT_VIA.search(p) for p in entry.via)
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
