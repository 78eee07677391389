"""The facts the model analyzer records about one file: plain frozen data, cached by content hash.

`extract` turns a file's bytes into a `ModelFacts`; `judge` turns facts into findings. Nothing here
holds a reference to the bytes or to anything that was parsed out of them beyond short strings.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ModelFormat(enum.StrEnum):
    """What a file's bytes say it is (never what its name says)."""

    NOT_A_MODEL = ""
    PICKLE = "pickle"
    TORCH_ZIP = "pytorch-zip"
    TORCH_LEGACY = "pytorch-legacy"
    TORCH_TAR = "pytorch-tar"
    JOBLIB = "joblib"
    NUMPY = "numpy"
    NUMPY_ZIP = "numpy-npz"
    KERAS = "keras"
    SAFETENSORS = "safetensors"
    GGUF = "gguf"
    HDF5 = "hdf5"
    SEVEN_ZIP = "7z"
    ZIP = "zip"
    TAR = "tar"
    COMPRESSED = "compressed"
    UNKNOWN = "unknown"  # a binary the analyzer could not place


class IssueKind(enum.StrEnum):
    """Everything other than an imported global that the analyzer can report about a model file."""

    HIDDEN_GLOBAL = "hidden-global"  # STACK_GLOBAL from computed names, EXT codes
    INDIRECT_CALL = "indirect-call"  # calling a value computed at load time
    GLOBAL_MUTATION = "global-mutation"  # BUILD on an imported class or function
    BROKEN_STREAM = "broken-stream"  # truncated, malformed, unknown opcode, bad protocol
    TRAILING_DATA = "trailing-data"  # bytes after the last STOP that are not a pickle
    APPENDED_PICKLE = "appended-pickle"  # a further pickle stream after the first
    LIMIT = "limit"  # a resource cap was reached: the rest was not analysed
    UNVERIFIABLE = "unverifiable"  # a container the analyzer cannot open
    KERAS_LAMBDA = "keras-lambda"  # Lambda layer / marshalled function / unsafe-deserialization switch
    KERAS_MODULE = "keras-module"  # a Keras config object from a module outside Keras
    HEADER_INVALID = "header-invalid"  # safetensors / GGUF / npy header inconsistencies
    CONTAINER_ANOMALY = "container-anomaly"  # zip CRC mismatch, duplicate or odd names, missing data.pkl
    TEMPLATE_CODE = "template-code"  # GGUF chat template reaching Python internals
    TORCHSCRIPT = "torchscript"  # a TorchScript archive: its code/ runs in the TorchScript interpreter


@dataclass(frozen=True, slots=True)
class GlobalRef:
    """One import a pickle stream makes (GLOBAL, STACK_GLOBAL, INST): `module` + `name` resolved fully."""

    module: str
    name: str
    where: str  # inner path of the stream inside the container ("" for a raw pickle)
    offset: int  # byte offset of the importing opcode within that stream's bytes
    opcode: str
    called: bool  # reached REDUCE / NEWOBJ / OBJ / INST (or BUILD as a class instance)
    stream: int = 0  # which pickle of a multi-pickle file (0 = first)

    @property
    def qualified(self) -> str:
        return f"{self.module}.{self.name}" if self.module else self.name


@dataclass(frozen=True, slots=True)
class ModelIssue:
    kind: IssueKind
    where: str
    offset: int
    detail: str


@dataclass(frozen=True, slots=True)
class ModelFacts:
    format: ModelFormat
    sha256: str = ""
    size: int = 0
    globals: tuple[GlobalRef, ...] = ()
    issues: tuple[ModelIssue, ...] = ()
    pickles: int = 0  # pickle streams analysed

    @property
    def is_model(self) -> bool:
        return self.format is not ModelFormat.NOT_A_MODEL
