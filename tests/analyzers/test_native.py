"""The native-binary analyzer: identification by magic bytes, judgement by where a binary sits."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rules"))

from fixtures_native import elf, macho_bundle, pe, wav
from fixtures_pth import DictArtifact

from chainwarden.analyzers.base import ArtifactView
from chainwarden.analyzers.native import EXECUTABLE, LIBRARY, OBJECT, NativeAnalyzer, identify
from chainwarden.models import ArtifactKind, ArtifactRef, Finding, Severity

ANALYZER = NativeAnalyzer()
PURE_WHEEL = {"demo-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
PLATFORM_WHEEL = {
    "demo-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-manylinux_2_17_x86_64\n"
}


def judge(files: dict[str, bytes], kind: ArtifactKind = ArtifactKind.WHEEL, label: str = "demo") -> list[Finding]:
    art = DictArtifact(files, kind, label)
    view = ArtifactView(ArtifactRef(kind, label, label), kind, None, art.members())
    facts = {m.path: ANALYZER.extract(art.read(m.path)) for m in art.members() if ANALYZER.select(m, view)}
    return sorted(ANALYZER.judge(view, facts), key=lambda f: f.sort_key)


def rules(files: dict[str, bytes], kind: ArtifactKind = ArtifactKind.WHEEL, label: str = "demo") -> list[str]:
    return [f.rule_id for f in judge(files, kind, label)]


# ---------------------------------------------------------------- identification


@pytest.mark.parametrize(
    ("data", "fmt", "role"),
    [
        (elf("dyn"), "elf", LIBRARY),
        (elf("exec"), "elf", EXECUTABLE),
        (elf("pie"), "elf", EXECUTABLE),
        (pe(dll=True), "pe", LIBRARY),
        (pe(dll=False), "pe", EXECUTABLE),
        (macho_bundle(), "macho", LIBRARY),
    ],
)
def test_identify_by_magic(data: bytes, fmt: str, role: str) -> None:
    facts = identify(data)
    assert (facts.format, facts.role) == (fmt, role)
    assert facts.arch == "x86_64"


def test_fat_macho_and_java_class_share_a_magic() -> None:
    thin = macho_bundle()
    fat = b"\xca\xfe\xba\xbe" + struct.pack(">I", 1) + struct.pack(">IIIII", 0x01000007, 3, 28, len(thin), 0) + thin
    assert identify(fat).format == "macho-fat"
    assert identify(fat).role == LIBRARY
    java = b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + b"\x00" * 32
    assert identify(java).format == ""


def test_elf_relocatable_is_an_object() -> None:
    data = bytearray(elf("dyn"))
    data[16:18] = struct.pack("<H", 1)
    assert identify(bytes(data)).role == OBJECT


@pytest.mark.parametrize(
    "data", [b"", b"MZ", b"MZ" + b"\xff" * 80, b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe\xff"]
)
def test_truncated_headers_never_raise(data: bytes) -> None:
    identify(data)


def test_runtime_markers_only_in_executables() -> None:
    marker = b"\x00oven-sh/bun\x00"
    assert identify(elf("pie", extra=marker)).runtime == "bun"
    assert identify(elf("dyn", extra=marker)).runtime == ""
    assert identify(elf("exec", extra=b"node::Start NODE_OPTIONS")).runtime == "node"


# ---------------------------------------------------------------- judgement by place


def test_extension_modules_in_a_platform_wheel_are_info() -> None:
    files = {**PLATFORM_WHEEL, "demo/_c.cpython-311-x86_64-linux-gnu.so": elf(), "demo.libs/libz.so.1": elf()}
    findings = judge(files)
    assert [(f.rule_id, f.severity) for f in findings] == [("CW300", Severity.INFO)]
    assert "2 native binaries" in findings[0].message


def test_pure_wheel_with_a_binary_is_medium() -> None:
    assert rules({**PURE_WHEEL, "demo/_c.so": elf()}) == ["CW301"]
    assert rules({"demo/_c.so": elf()}, label="demo-1.0-py3-none-any.whl") == ["CW301"]


def test_binary_in_an_sdist_is_medium() -> None:
    findings = judge({"demo-1.0/demo/_c.so": elf(), "demo-1.0/setup.py": b""}, ArtifactKind.SDIST)
    assert [(f.rule_id, f.severity) for f in findings] == [("CW301", Severity.MEDIUM)]


@pytest.mark.parametrize("name", ["demo/ringtone.wav", "demo/logo.png", "demo/readme.txt", "demo/data.json"])
def test_binary_under_an_asset_name_is_high(name: str) -> None:
    findings = judge({**PLATFORM_WHEEL, name: elf("pie")})
    assert [(f.rule_id, f.severity) for f in findings] == [("CW302", Severity.HIGH)]


def test_real_assets_and_text_are_not_binaries() -> None:
    assert rules({**PURE_WHEEL, "demo/ringtone.wav": wav(), "demo/notes.txt": b"MZ is a prefix"}) == []


def test_named_like_a_library_but_is_not_one() -> None:
    assert rules({**PLATFORM_WHEEL, "demo/libx.so": b"GROUP ( libx.so.1 )\n"}) == ["CW303"]


@pytest.mark.parametrize("name", ["demo/_runtime/bun", "demo/bin/node.exe", "demo/bin/deno"])
def test_runtime_by_name(name: str) -> None:
    data = pe(dll=False) if name.endswith(".exe") else elf("pie")
    findings = judge({**PLATFORM_WHEEL, name: data})
    assert [(f.rule_id, f.severity) for f in findings] == [("CW304", Severity.MEDIUM)]


def test_runtime_by_strings_under_any_name() -> None:
    assert rules({**PLATFORM_WHEEL, "demo/_bin/helper": elf("pie", extra=b"BUN_INSTALL")}) == ["CW304"]


@pytest.mark.parametrize(
    ("files", "kind"),
    [
        ({**PURE_WHEEL, "demo/_runtime/bun": elf("pie")}, ArtifactKind.WHEEL),
        ({"demo-1.0/demo/bin/node": elf("pie")}, ArtifactKind.SDIST),
        ({**PLATFORM_WHEEL, "demo/hangup.wav": elf("pie", extra=b"oven-sh/bun")}, ArtifactKind.WHEEL),
    ],
)
def test_runtime_where_no_binary_belongs_is_high(files: dict[str, bytes], kind: ArtifactKind) -> None:
    findings = judge(files, kind)
    assert [(f.rule_id, f.severity) for f in findings] == [("CW304", Severity.HIGH)]


def test_executable_without_suffix_in_platform_wheel_is_expected() -> None:
    assert rules({**PLATFORM_WHEEL, "demo-1.0.data/scripts/demo": elf("pie")}) == ["CW300"]


def test_python_sources_are_not_read() -> None:
    art = DictArtifact({"demo/x.py": elf()})
    view = ArtifactView(art.ref, ArtifactKind.WHEEL, None, art.members())
    assert not ANALYZER.select(art.members()[0], view)
