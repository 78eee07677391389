"""A standalone model file given on the command line (`chainwarden scan model.pt`).

The file is one artifact with one member. It is claimed by its suffix or, for names that say
nothing, by the magic bytes at its start; the model analyzer then decides from the content.
A file too large to hand to analyzers as bytes (multi-gigabyte checkpoints) is analysed while
it is opened, through a memory map that touches only its pickles, and its findings are the
artifact's `problems`.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import TYPE_CHECKING

from chainwarden.artifact import Artifact, ArtifactError
from chainwarden.models import ArtifactKind, ArtifactRef, Member, MemberKind
from chainwarden.sources.base import Source, SourceOptions
from chainwarden.sources.directory import read_regular_file

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from chainwarden.models import Finding

#: A single model file is read whole up to this size; larger ones are analysed through a memory map.
MAX_MODEL_BYTES = 512 * 1024 * 1024
_MAGICS = (
    b"PK\x03\x04",
    b"\x80\x02",
    b"\x80\x03",
    b"\x80\x04",
    b"\x80\x05",
    b"\x93NUMPY",
    b"GGUF",
    b"7z\xbc\xaf\x27\x1c",
    b"\x89HDF\r\n\x1a\n",
)
_ARCHIVES = (".whl", ".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tar.xz", ".egg")


def _is_model_name(name: str) -> bool:
    from chainwarden.analyzers.mlmodels.analyzer import MODEL_SUFFIXES  # noqa: PLC0415 - keeps --help fast

    lower = name.lower()
    parts = lower.split(".")
    return len(parts) > 1 and ("." + parts[-1] in MODEL_SUFFIXES or "." + ".".join(parts[-2:]) in MODEL_SUFFIXES)


def _judge_mapped(path: Path, ref: ArtifactRef, member: Member) -> tuple[Finding, ...]:
    from chainwarden.analyzers.base import ArtifactView  # noqa: PLC0415 - keeps --help fast
    from chainwarden.analyzers.mlmodels.analyzer import ModelAnalyzer  # noqa: PLC0415
    from chainwarden.analyzers.mlmodels.scan import scan_model_file  # noqa: PLC0415

    try:
        facts = scan_model_file(path)
    except (OSError, ValueError) as err:
        msg = f"{path}: cannot be mapped: {err}"
        raise ArtifactError(msg) from err
    view = ArtifactView(ref, ArtifactKind.MODEL, None, (member,))
    return tuple(ModelAnalyzer().judge(view, {member.path: facts}))


class ModelFileArtifact(Artifact):
    def __init__(self, path: Path, ref: ArtifactRef, *, max_bytes: int = MAX_MODEL_BYTES) -> None:
        self.path = path
        self.ref = ref
        self.metadata = None
        self._max = max_bytes
        try:
            size = path.lstat().st_size
        except OSError as err:
            msg = f"{path}: {err.strerror}"
            raise ArtifactError(msg) from err
        member = Member(path.name, size, MemberKind.FILE)
        self._problems: tuple[Finding, ...] = ()
        if size > max_bytes:
            self._members: tuple[Member, ...] = ()
            self._problems = _judge_mapped(path, ref, member)
        else:
            self._members = (member,)

    def members(self) -> Sequence[Member]:
        return self._members

    @property
    def problems(self) -> Sequence[Finding]:
        return self._problems

    def read(self, path: str) -> bytes:
        if path != self.path.name:
            msg = f"{path}: not in this artifact"
            raise ArtifactError(msg)
        return read_regular_file(self.path.parent, path, self._max)


class ModelFileSource(Source):
    name = "model-file"
    kinds = (ArtifactKind.MODEL,)

    def claims(self, target: str) -> bool:
        path = Path(target)
        try:
            if not stat.S_ISREG(path.stat().st_mode) or path.name.lower().endswith(_ARCHIVES):
                return False
            if _is_model_name(path.name):
                return True
            with path.open("rb") as fh:
                return fh.read(16).startswith(_MAGICS)
        except OSError:
            return False

    def open(self, target: str, options: SourceOptions) -> Iterator[Artifact]:
        del options
        path = Path(target).resolve()
        yield ModelFileArtifact(path, ArtifactRef(ArtifactKind.MODEL, str(path), label=path.name))

    def reopen(self, ref: ArtifactRef, options: SourceOptions) -> Artifact:
        del options
        return ModelFileArtifact(Path(ref.location), ref)
