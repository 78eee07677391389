"""What a project or environment depends on, as frozen values.

A `Requirement` is what a file *asks for* (`requests>=2`, maybe unpinned, maybe without
hashes); a `Package` is what a lock or an environment *pins* (`requests==2.32.3`, with its
hashes and its dependency edges). A file that cannot be read is a `Problem`, never an
exception that escapes and never a silent empty result.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from packaging.utils import canonicalize_name


class Ecosystem(enum.StrEnum):
    PYPI = "PyPI"
    CONDA = "conda"


@dataclass(frozen=True, slots=True)
class Requirement:
    """One requirement as a file states it."""

    name: str
    specifier: str = ""  # ">=2,<3", "==1.0"; "" for none
    extras: tuple[str, ...] = ()
    marker: str = ""
    url: str = ""  # a direct URL or VCS reference
    editable: bool = False
    hashes: tuple[str, ...] = ()  # "sha256:<hex>"
    file: str = ""
    line: int | None = None
    group: str = ""  # "dependencies", "optional:dev", "group:test", "poetry:main", ...
    text: str = ""  # the line as written, for reports

    @property
    def key(self) -> str:
        return canonicalize_name(self.name)

    @property
    def pinned_version(self) -> str | None:
        """The exact version a `==` (or `===`) specifier pins, or None."""
        spec = self.specifier.strip()
        for op in ("===", "=="):
            if spec.startswith(op) and "," not in spec:
                version = spec[len(op) :].strip()
                if version and "*" not in version:
                    return version
        return None


@dataclass(frozen=True, slots=True)
class Package:
    """One resolved distribution: exact version, hashes, dependency edges, where it came from."""

    name: str
    version: str  # "" when the source does not say (a problem is recorded alongside)
    ecosystem: Ecosystem = Ecosystem.PYPI
    hashes: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()  # canonical names this package requires (locks record edges)
    direct: bool | None = None  # None: the source cannot tell direct from transitive
    source: str = ""  # the file (or dist-info / conda-meta record) that pinned it
    url: str = ""  # where the lock says it comes from, when not the default index

    @property
    def key(self) -> str:
        return canonicalize_name(self.name)


@dataclass(frozen=True, slots=True)
class Problem:
    """A file, or an entry in it, that could not be understood."""

    file: str
    message: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class FileInventory:
    """What one file says. `locked` is True for lockfiles and environments (exact pins)."""

    file: str
    format: str
    packages: tuple[Package, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    problems: tuple[Problem, ...] = ()
    locked: bool = False


@dataclass(frozen=True, slots=True)
class Conflict:
    """One package pinned at different versions by different files."""

    name: str
    pins: tuple[tuple[str, str], ...]  # (version, file)


@dataclass(frozen=True, slots=True)
class Inventory:
    """The merged dependency graph of everything found under one target."""

    files: tuple[FileInventory, ...]
    packages: tuple[Package, ...]
    conflicts: tuple[Conflict, ...] = ()

    @property
    def requirements(self) -> tuple[Requirement, ...]:
        return tuple(r for f in self.files for r in f.requirements)

    @property
    def problems(self) -> tuple[Problem, ...]:
        return tuple(p for f in self.files for p in f.problems)

    def package(self, name: str) -> tuple[Package, ...]:
        key = canonicalize_name(name)
        return tuple(p for p in self.packages if p.key == key)

    def path_to(self, name: str) -> tuple[str, ...]:
        """A shortest chain of names from a direct dependency to `name` (empty if unknown)."""
        key = canonicalize_name(name)
        edges: dict[str, set[str]] = {}
        for p in self.packages:
            edges.setdefault(p.key, set()).update(p.dependencies)
        starts = [p.key for p in self.packages if p.direct]
        frontier: list[tuple[str, ...]] = [(s,) for s in sorted(set(starts))]
        seen = set(starts)
        while frontier:
            nxt: list[tuple[str, ...]] = []
            for chain in frontier:
                if chain[-1] == key:
                    return chain
                for dep in sorted(edges.get(chain[-1], ())):
                    if dep not in seen:
                        seen.add(dep)
                        nxt.append((*chain, dep))
            frontier = nxt
        return ()
