"""The explicit registry of sources, in the order they are asked "is this target yours?"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainwarden.artifact import ArtifactError
from chainwarden.sources.directory import DirectorySource
from chainwarden.sources.environment import EnvironmentSource
from chainwarden.sources.index import IndexSource
from chainwarden.sources.modelfile import ModelFileSource
from chainwarden.sources.sdist import SdistSource
from chainwarden.sources.wheel import WheelSource

if TYPE_CHECKING:
    from chainwarden.artifact import Artifact
    from chainwarden.models import ArtifactRef
    from chainwarden.sources.base import Source, SourceOptions

#: Order matters: specific claims (a file with a known suffix, `name==version`) come first,
#: the catch-all directory last.
SOURCES: tuple[Source, ...] = (
    IndexSource(),
    WheelSource(),
    SdistSource(),
    EnvironmentSource(),
    ModelFileSource(),
    DirectorySource(),
)


def source_for(target: str) -> Source:
    for source in SOURCES:
        if source.claims(target):
            return source
    msg = (
        f"{target}: not a wheel, sdist, directory, environment, model file or NAME==VERSION "
        "(check the path exists and is readable)"
    )
    raise ArtifactError(msg)


def reopen(ref: ArtifactRef, options: SourceOptions) -> Artifact:
    for source in SOURCES:
        if ref.kind in source.kinds:
            return source.reopen(ref, options)
    msg = f"no source reopens {ref.kind} artifacts"
    raise ArtifactError(msg)
