"""The source interface: turn a target the user named into artifacts.

One module per input format. Each source answers two questions: "is this target mine?"
(cheap, no heavy I/O) and "open it" (yield one or more artifacts; an environment yields one
per distribution plus one for files that no RECORD owns). `reopen` rebuilds an artifact
from its `ArtifactRef` inside a worker process.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from collections.abc import Iterator

    from chainwarden.artifact import Artifact
    from chainwarden.models import ArtifactKind, ArtifactRef


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """What sources may need from the outside world; set by the caller, never read from globals."""

    cache_dir: Path
    index_url: str = "https://pypi.org/simple/"
    offline: bool = False
    timeout: float = 60.0


class Source(abc.ABC):
    name: ClassVar[str]
    kinds: ClassVar[tuple[ArtifactKind, ...]]

    @abc.abstractmethod
    def claims(self, target: str) -> bool:
        """Cheap: is `target` (a path or `name==version`) for this source?"""

    @abc.abstractmethod
    def open(self, target: str, options: SourceOptions) -> Iterator[Artifact]:
        """Yield the artifacts the target holds. Raise `ArtifactError` for a target that cannot
        be read at all; problems inside it become findings on the artifact."""

    @abc.abstractmethod
    def reopen(self, ref: ArtifactRef, options: SourceOptions) -> Artifact:
        """Open the artifact `ref` points at again (in another process)."""
