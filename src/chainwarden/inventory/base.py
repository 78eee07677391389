"""The inventory-parser interface: one module per dependency-file format.

Each parser answers "is this file mine?" from the path alone (cheap, no reading), and parses
a file into `FileInventory` values. Parsing never raises on bad content: a malformed,
truncated or unknown-version file becomes a `Problem` in the result.
"""

from __future__ import annotations

import abc
import tomllib
from typing import TYPE_CHECKING, Any, ClassVar

from chainwarden.inventory.model import FileInventory, Problem

if TYPE_CHECKING:
    from pathlib import Path

#: Dependency files larger than this are refused (the biggest real locks are a few MB).
MAX_FILE_BYTES = 64 * 1024 * 1024


class Parser(abc.ABC):
    name: ClassVar[str]

    @abc.abstractmethod
    def claims(self, path: Path) -> bool:
        """Cheap: judging by its name (and kind), is `path` this parser's format?"""

    @abc.abstractmethod
    def parse(self, path: Path) -> tuple[FileInventory, ...]:
        """What the file says (more than one value when it includes other files)."""


class UnreadableError(Exception):
    """Internal: a file could not be read; parsers turn it into a `Problem`."""


def read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            msg = f"{size} bytes is larger than any dependency file should be"
            raise UnreadableError(msg)
        return path.read_bytes()
    except OSError as exc:
        raise UnreadableError(exc.strerror or str(exc)) from None


def read_text(path: Path) -> str:
    data = read_bytes(path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 text (byte {exc.start})"
        raise UnreadableError(msg) from None


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(read_text(path))
    except tomllib.TOMLDecodeError as exc:
        msg = f"invalid TOML ({exc})"
        raise UnreadableError(msg) from None


def failed(path: Path, fmt: str, message: str, *, locked: bool = False) -> tuple[FileInventory, ...]:
    return (FileInventory(str(path), fmt, problems=(Problem(str(path), message),), locked=locked),)


class RefusedError(Exception):
    """A lockfile that cannot be read, or whose version this chainwarden does not read: `result`
    is the problem value the parser returns."""

    def __init__(self, result: tuple[FileInventory, ...]) -> None:
        super().__init__(result[0].problems[0].message)
        self.result = result


def read_versioned_toml(
    path: Path, fmt: str, version: str, key: tuple[str, ...], majors: frozenset[str]
) -> dict[str, Any]:
    """The TOML document of a lockfile whose version (at `key`, a path of table names) has a major
    part in `majors`; otherwise raise `RefusedError` with the problem to report. `version` names
    the field in messages (e.g. "pdm.lock lock_version")."""
    try:
        doc = read_toml(path)
    except UnreadableError as exc:
        raise RefusedError(failed(path, fmt, str(exc), locked=True)) from None
    node: Any = doc
    for part in key[:-1]:
        node = table(node.get(part))
    found = text(node.get(key[-1]))
    if found.split(".")[0] not in majors:
        message = f"{version} {found or 'missing'} is not one this chainwarden reads"
        raise RefusedError(failed(path, fmt, message, locked=True))
    return doc


def table(value: object) -> dict[str, Any]:
    """`value` if it is a TOML table/JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def array(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def text(value: object) -> str:
    return value if isinstance(value, str) else ""
