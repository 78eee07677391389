"""The analyzer interface.

An analyzer works in two steps so that results can be cached per file yet judged per package:

1. `extract(data)`: one file's bytes -> that file's *facts* (a frozen dataclass of plain data:
   what it defines, imports, calls, decodes). Pure, depends on the bytes only, cached by
   content hash + analyzer name + version, runs in worker processes.
2. `judge(view, facts)`: all of an artifact's facts -> findings. Severity depends on the
   whole package (an edited `__init__.py` makes an unchanged module run at import), so this
   step is never cached and always sees every selected file.

Analyzers never print, never read global configuration and never touch the network except
through clients injected at construction.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from chainwarden.models import ArtifactKind, ArtifactRef, Member, PackageMetadata

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from chainwarden.models import Finding

FactsT = TypeVar("FactsT")


@dataclass(frozen=True, slots=True)
class ArtifactView:
    """What `judge` may know about the artifact besides the facts: its identity and file list."""

    ref: ArtifactRef
    kind: ArtifactKind
    metadata: PackageMetadata | None
    members: Sequence[Member]

    @property
    def label(self) -> str:
        if self.metadata is not None:
            return f"{self.metadata.name}-{self.metadata.version}"
        return self.ref.label


class Analyzer(abc.ABC, Generic[FactsT]):
    """Subclass with a `name`, a `version` (bump it whenever facts change shape or meaning),
    a `facts_type`, and the three methods."""

    name: ClassVar[str]
    version: ClassVar[str]
    facts_type: ClassVar[type[Any]]
    #: Files larger than this are not given to `extract` (reported unscanned instead).
    max_bytes: ClassVar[int] = 32 * 1024 * 1024
    #: `extract` only reads a few header bytes: it runs in the scanning process, because
    #: copying whole files to a worker would cost more than the work.
    inline: ClassVar[bool] = False

    @abc.abstractmethod
    def select(self, member: Member, view: ArtifactView) -> bool:
        """Cheap test: does this analyzer want this file? Never reads bytes."""

    @abc.abstractmethod
    def extract(self, data: bytes) -> FactsT:
        """Facts about one file's bytes. Must not raise on hostile input: record the problem
        in the facts instead (a syntax error is a fact)."""

    @abc.abstractmethod
    def judge(self, view: ArtifactView, facts: Mapping[str, FactsT]) -> Iterable[Finding]:
        """Findings for the artifact from the facts of every selected file, keyed by path."""
