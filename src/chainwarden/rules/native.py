"""Rules for native binaries (ELF, PE, Mach-O) inside packages."""

from __future__ import annotations

from chainwarden.models import Severity
from chainwarden.rules import Rule

_CATEGORY = "native"
_LIGHTNING = "https://github.com/Lightning-AI/pytorch-lightning/issues/21689"
_TORCHTRITON = "https://pytorch.org/blog/compromised-nightly-dependency/"

EXPECTED_BINARIES = Rule(
    id="CW300",
    title="Native binaries at expected places",
    severity=Severity.INFO,
    rationale=(
        "Platform wheels ship compiled extension modules and shared libraries; that is normal. "
        "They are listed so that a release which suddenly gains binaries shows up in a diff, and "
        "because a binary's behaviour cannot be read the way Python source can."
    ),
    category=_CATEGORY,
)

UNEXPECTED_BINARY = Rule(
    id="CW301",
    title="Native binary in a source distribution or pure-Python wheel",
    severity=Severity.MEDIUM,
    rationale=(
        "An sdist is meant to be built from source, and a py3-none-any wheel declares that it "
        "holds no compiled code. A prebuilt ELF, PE or Mach-O file in either is not built by "
        "anyone downstream and cannot be reviewed as source; torchtriton hid its stealer in one."
    ),
    references=(_TORCHTRITON,),
    attack="T1027.009",
    category=_CATEGORY,
)

DISGUISED_BINARY = Rule(
    id="CW302",
    title="Native binary disguised under a data or media name",
    severity=Severity.HIGH,
    rationale=(
        "An executable or library whose name says image, audio, text or data (`.png`, `.wav`, "
        "`.txt`, `.json`...) is hidden on purpose: nothing legitimate needs to rename a binary "
        "to look like an asset. Payloads smuggled as media files (telnyx's WAV files) are a "
        "recurring trick."
    ),
    references=("https://osv.dev/vulnerability/PYSEC-2026-3",),
    attack="T1036.008",
    category=_CATEGORY,
)

NAMED_NATIVE_NOT_BINARY = Rule(
    id="CW303",
    title="File named like a native library is not one",
    severity=Severity.LOW,
    rationale=(
        "A `.so`, `.pyd`, `.dylib` or `.dll` that is not an ELF, PE or Mach-O file is either a "
        "linker script or something else wearing a library's name; worth a look, rarely harmful "
        "by itself."
    ),
    attack="T1036",
    category=_CATEGORY,
)

BUNDLED_RUNTIME = Rule(
    id="CW304",
    title="Bundled JavaScript runtime executable",
    severity=Severity.MEDIUM,
    rationale=(
        "A Python package that carries a Bun, Node.js or Deno executable can run JavaScript "
        "that Python-focused review never reads. The 2025-2026 Shai-Hulud and lightning attacks "
        "ran their stealers on a bundled or downloaded Bun runtime. Some platform wheels ship a "
        "runtime on purpose (medium); in an sdist, a pure-Python wheel or under an asset name "
        "the finding is high."
    ),
    references=(_LIGHTNING,),
    attack="T1059.007",
    category=_CATEGORY,
)

RULES: tuple[Rule, ...] = (
    EXPECTED_BINARIES,
    UNEXPECTED_BINARY,
    DISGUISED_BINARY,
    NAMED_NATIVE_NOT_BINARY,
    BUNDLED_RUNTIME,
)
