"""Find code hidden in data: long encoded constants decoded blind, and `python -c` in commands.

`blind_decode` peels base64/base32/base85/hex and zlib/gzip/bz2/lzma layers off a constant
nobody visibly decodes (the decoder may be hidden or computed), up to a fixed depth, and
returns the result only when it looks like Python source.
"""

from __future__ import annotations

import ast
import base64
import binascii
import re
import shlex

from chainwarden.analyzers.python.deobfuscate import MAX_OUTPUT, Unknown, _bounded_decompress, preview
from chainwarden.models import DecodedStage

MAX_LAYERS = 6
#: What `blind_decode` returns instead of code when the data is a native executable.
EXECUTABLE = "\0executable"
EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")
MAX_INPUT = 4 * 1024 * 1024

_B64 = re.compile(rb"[A-Za-z0-9+/=\s_-]+")
_HEX = re.compile(rb"(?:[0-9a-fA-F]{2}\s*)+")
_B32 = re.compile(rb"[A-Z2-7=\s]+")
_MAGIC = ((b"\x78", "zlib"), (b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ", "lzma"), (b"\x5d\x00\x00", "lzma"))
_CODE_HINT = re.compile(r"^\s*(?:import |from \S+ import |exec\(|eval\(|def |class |[A-Za-z_]\w* ?= )", re.MULTILINE)
_PYTHON_C = re.compile(r"python[0-9.]*(?:\.exe)?\s+-c\s", re.IGNORECASE)


def _layer(data: bytes) -> tuple[str, bytes] | None:  # noqa: PLR0911 - one per encoding
    stripped = data.strip()
    for magic, method in _MAGIC:
        if stripped.startswith(magic):
            try:
                return method, _bounded_decompress(stripped, method)
            except Unknown:
                return None
    compact = re.sub(rb"\s+", b"", stripped)
    try:
        if len(compact) % 2 == 0 and _HEX.fullmatch(compact):
            return "hex", binascii.unhexlify(compact)
        if _B32.fullmatch(compact) and len(compact) % 8 == 0 and _B64.fullmatch(compact.lower()) is not None:
            return "base32", base64.b32decode(compact)
        if _B64.fullmatch(compact):
            alt = b"-_" if b"-" in compact or b"_" in compact else None
            return "base64", base64.b64decode(compact + b"=" * (-len(compact) % 4), alt)
    except (binascii.Error, ValueError):
        pass
    try:
        return "base85", base64.b85decode(compact)
    except ValueError:
        return None


def looks_like_code(text: str) -> bool:
    if not _CODE_HINT.search(text[:4096]):
        return False
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def blind_decode(data: str | bytes) -> tuple[str, tuple[DecodedStage, ...]] | None:
    """(code, stages) when `data` is encoded Python source, else None."""
    raw = data.encode("latin-1", "ignore") if isinstance(data, str) else data
    if len(raw) > MAX_INPUT:
        return None
    stages: list[DecodedStage] = []
    for _ in range(MAX_LAYERS):
        step = _layer(raw)
        if step is None or not step[1] or len(step[1]) > MAX_OUTPUT:
            return None
        method, raw = step
        stages.append(DecodedStage(method, preview(raw)))
        if raw.startswith(EXECUTABLE_MAGIC):
            return EXECUTABLE, tuple(stages)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if looks_like_code(text):
            return text, tuple(stages)
    return None


def shell_code(command: str) -> str | None:
    """The code of a `python -c CODE` inside a shell command line, if any."""
    m = _PYTHON_C.search(command)
    if m is None:
        return None
    rest = command[m.end() :]
    try:
        words = shlex.split(rest)
    except ValueError:
        words = rest.split(None, 1)
    return words[0] if words else None


_PS_ENCODED = re.compile(r"-e(?:nc(?:odedcommand)?|c)?\s+([A-Za-z0-9+/=]{16,})", re.IGNORECASE)


def powershell_encoded(command: str) -> str | None:
    """The script of `powershell -EncodedCommand BASE64` (UTF-16LE inside base64), if any."""
    if "powershell" not in command.lower() and "pwsh" not in command.lower():
        return None
    m = _PS_ENCODED.search(command)
    if m is None:
        return None
    try:
        return base64.b64decode(m.group(1) + "=" * (-len(m.group(1)) % 4)).decode("utf-16-le")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
