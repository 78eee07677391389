"""Paired fixtures for the native-binary rules (CW300-CW304), built in code.

`FIXTURES[rule_id] = (malicious_builder, benign_builder)`: each builder writes one artifact
under the directory it is given and returns its path. The binaries are headers only: enough
for magic-byte identification, never runnable.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from pathlib import Path

from fixtures_pth import write_wheel

from support.packages import make_sdist

Builder = Callable[[Path], Path]


def elf(kind: str = "dyn", *, extra: bytes = b"") -> bytes:
    """A 64-bit little-endian x86_64 ELF header; kind: exec, dyn (shared library) or pie."""
    e_type = 2 if kind == "exec" else 3
    phnum = 1 if kind == "pie" else 0
    header = b"\x7fELF\x02\x01\x01" + b"\x00" * 9
    header += struct.pack("<HHIQQQIHHHHHH", e_type, 0x3E, 1, 0, 64 if phnum else 0, 0, 0, 64, 56, phnum, 64, 0, 0)
    program = struct.pack("<IIQQQQQQ", 3, 4, 0, 0, 0, 0, 0, 1) if phnum else b""  # PT_INTERP
    return header + program + extra


def pe(*, dll: bool = True) -> bytes:
    lfanew = 0x40
    dos = b"MZ" + b"\x00" * (0x3C - 2) + struct.pack("<I", lfanew)
    characteristics = 0x2002 if dll else 0x0002
    coff = struct.pack("<HHIIIHH", 0x8664, 0, 0, 0, 0, 0, characteristics)
    return dos + b"PE\x00\x00" + coff


def macho_bundle() -> bytes:
    return b"\xcf\xfa\xed\xfe" + struct.pack("<IIIII", 0x01000007, 3, 8, 0, 0) + b"\x00" * 8


def wav() -> bytes:
    return b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " + b"\x00" * 24


def write_sdist(dest: Path, name: str, files: Mapping[str, bytes]) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    return make_sdist(dest, name, "1.0", dict(files))


_PLATFORM = "cp311-cp311-manylinux_2_17_x86_64"


def _wheel(files: Mapping[str, bytes], tag: str = _PLATFORM) -> Builder:
    def build(dest: Path) -> Path:
        return write_wheel(dest, "demo", {"demo/__init__.py": b"", **files}, tag=tag)

    return build


def _sdist(files: Mapping[str, bytes]) -> Builder:
    def build(dest: Path) -> Path:
        return write_sdist(dest, "demo", {"setup.py": b"from setuptools import setup\nsetup()\n", **files})

    return build


_BUN = elf("pie", extra=b"\x00" * 64 + b"https://github.com/oven-sh/bun/issues BUN_INSTALL")

FIXTURES: dict[str, tuple[Builder, Builder]] = {
    "CW300": (_wheel({"demo/_speedups.cpython-311-x86_64-linux-gnu.so": elf()}), _wheel({}, "py3-none-any")),
    "CW301": (
        _sdist({"demo/_speedups.cpython-311-x86_64-linux-gnu.so": elf()}),
        _wheel({"demo/_speedups.cpython-311-x86_64-linux-gnu.so": elf()}),
    ),
    "CW302": (_wheel({"demo/assets/ringtone.wav": elf("pie")}), _wheel({"demo/assets/ringtone.wav": wav()})),
    "CW303": (
        _wheel({"demo/libdemo.so": b"/* GNU ld script */\nGROUP ( libdemo.so.1 )\n"}),
        _wheel({"demo/libdemo.so": elf()}),
    ),
    "CW304": (_wheel({"demo/_runtime/bun": _BUN}), _wheel({"demo/bin/demo-tool": elf("pie")})),
}
