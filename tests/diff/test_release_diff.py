"""The release diff: litellm-shaped attack pair, benign release, renames, churn, bad input."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest
from diffpairs import (
    PROXY_CLEAN,
    DecodeExecAnalyzer,
    MemoryArtifact,
    benign_pair,
    entry_points,
    litellm_files,
    litellm_pair,
    wheel,
)

from chainwarden.diff.files import ChangeKind, diff_files, normalise_path
from chainwarden.diff.release import as_report, diff_artifacts
from chainwarden.engine import Scanner, ScanOptions
from chainwarden.models import ArtifactKind, Severity, Trigger

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def scanner(tmp_path: Path) -> Scanner:
    with Scanner(ScanOptions(jobs=1, cache_dir=tmp_path / "cache"), analyzers=[DecodeExecAnalyzer()]) as s:
        yield s  # type: ignore[misc]


def test_litellm_pair_names_the_pth_then_the_decode_exec_first(scanner: Scanner) -> None:
    old, new = litellm_pair()
    diff = diff_artifacts(old, new, scanner)
    assert diff.headlines[0].startswith(
        "adds `litellm_init.pth`, a .pth file with code lines, which executes code at interpreter start"
    )
    assert "decode-then-exec" in diff.headlines[0]
    assert diff.headlines[1] == "`litellm/proxy/proxy_server.py` gains decode-then-exec reachable at import"
    rules = [f.rule_id for f in diff.findings]
    assert rules[:3] == ["CW601", "CW600", "CW600"]
    assert diff.findings[0].trigger is Trigger.INTERPRETER_START
    cw600 = [f for f in diff.findings if f.rule_id == "CW600"]
    assert {f.location.path for f in cw600} == {"litellm_init.pth", "litellm/proxy/proxy_server.py"}
    assert all(f.severity is Severity.CRITICAL for f in cw600)
    # version-only churn is not "modified"
    assert [c.path for c in diff.files.of(ChangeKind.VERSION_ONLY)] == [
        "litellm-1.82.8.dist-info/METADATA",
        "litellm/__init__.py",
    ]
    assert [c.path for c in diff.files.of(ChangeKind.MODIFIED)] == ["litellm/proxy/proxy_server.py"]
    assert "1 added, 1 modified" in diff.summary


def test_litellm_pair_without_analyzers_still_reports_the_pth() -> None:
    old, new = litellm_pair()
    diff = diff_artifacts(old, new)
    assert diff.findings[0].rule_id == "CW601"
    assert diff.findings[0].location.path == "litellm_init.pth"


def test_benign_release_has_no_automatic_capability(scanner: Scanner) -> None:
    old, new = benign_pair()
    diff = diff_artifacts(old, new, scanner)
    assert diff.findings == ()
    assert {c.path for c in diff.files.of(ChangeKind.ADDED)} == {"litellm/caching.py"}
    assert diff.headlines == ()


def test_warm_cache_analyses_only_changed_files_and_is_fast(scanner: Scanner) -> None:
    old, new = litellm_pair()
    diff_artifacts(old, old, scanner)  # old release scanned before (as in CI or watch)
    DecodeExecAnalyzer.calls.clear()
    started = time.perf_counter()
    diff = diff_artifacts(old, new, scanner)
    elapsed = time.perf_counter() - started
    # proxy_server.py and litellm_init.pth are new content; __init__.py changed its version string.
    assert len(DecodeExecAnalyzer.calls) == 3
    assert elapsed < 1.0
    assert diff.findings[0].rule_id == "CW601"


def test_existing_capability_is_not_news(scanner: Scanner) -> None:
    _, mid = litellm_pair()
    files = {k.replace("1.82.8", "1.82.9"): v for k, v in mid.files.items()}
    files["litellm/__init__.py"] = b'__version__ = "1.82.9"\n'
    later = MemoryArtifact(files, label="litellm-1.82.9")
    later.metadata = mid.metadata
    diff = diff_artifacts(mid, later, scanner)
    assert not [f for f in diff.findings if f.rule_id in ("CW600", "CW601")]


def test_decode_exec_only_inside_a_function_is_not_automatic(scanner: Scanner) -> None:
    old = wheel("pkg", "1.0", {"pkg/__init__.py": b"x = 1\n"})
    body = b"import base64\ndef run(s):\n    exec(base64.b64decode(s))\n"
    new = wheel("pkg", "1.1", {"pkg/__init__.py": b"x = 1\n", "pkg/tools.py": body})
    diff = diff_artifacts(old, new, scanner)
    assert [f.rule_id for f in diff.findings] == ["TEST001"]
    assert diff.findings[0].trigger is Trigger.CALL
    assert not diff.capabilities[0].automatic


def test_renamed_files_are_paired_and_keep_their_capabilities(scanner: Scanner) -> None:
    files = litellm_files("2.0")
    files["litellm/loader.py"] = b"import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n"
    old = wheel("litellm", "2.0", files)
    moved = dict(litellm_files("2.1"))
    moved["litellm/core/loader.py"] = files["litellm/loader.py"]
    moved["litellm/server.py"] = moved.pop("litellm/proxy/proxy_server.py")
    new = wheel("litellm", "2.1", moved)
    diff = diff_artifacts(old, new, scanner)
    assert diff.files.renames == {
        "litellm/core/loader.py": "litellm/loader.py",
        "litellm/server.py": "litellm/proxy/proxy_server.py",
    }
    assert not diff.files.of(ChangeKind.ADDED)
    assert not [f for f in diff.findings if f.rule_id == "CW600"]


def test_new_binary_install_hook_dependency_entry_point_and_author() -> None:
    old = wheel(
        "pkg",
        "1.0",
        {"pkg/__init__.py": b""},
        requires=["requests"],
        entry_points=entry_points([("console_scripts", "pkg", "pkg:main")]),
    )
    new = wheel(
        "pkg",
        "1.1",
        {"pkg/__init__.py": b"", "pkg/_rt.bin": b"\x7fELF\x02\x01\x01" + b"\0" * 64},
        requires=["requests", "evil-helper>=1"],
        entry_points=entry_points([("console_scripts", "pkg", "pkg.evil:main"), ("pytest11", "pkg", "pkg.plugin")]),
        author="Someone Else",
    )
    diff = diff_artifacts(old, new)
    rules = [f.rule_id for f in diff.findings]
    assert rules == ["CW602", "CW605", "CW605", "CW604", "CW524"]
    text = "\n".join(diff.headlines)
    assert "adds native binary `pkg/_rt.bin`" in text
    assert "retargets entry point [console_scripts] pkg from pkg:main to pkg.evil:main" in text
    assert "adds dependency `evil-helper>=1`" in text
    assert "'BerriAI' -> 'Someone Else'" in text


def test_sdist_setup_py_and_build_system_changes_are_install_hooks() -> None:
    def sdist(version: str, setup: bytes, pyproject: bytes) -> MemoryArtifact:
        root = f"pkg-{version}"
        files = {
            f"{root}/PKG-INFO": f"Metadata-Version: 2.1\nName: pkg\nVersion: {version}\n\n".encode(),
            f"{root}/setup.py": setup,
            f"{root}/pyproject.toml": pyproject,
            f"{root}/pkg/__init__.py": f'__version__ = "{version}"\n'.encode(),
        }
        art = MemoryArtifact(files, kind=ArtifactKind.SDIST, label=root)
        art.metadata = MemoryArtifact({"PKG-INFO": files[f"{root}/PKG-INFO"]}).metadata
        return art

    pyproject = b'[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
    old = sdist("1.0", b"from setuptools import setup\nsetup()\n", pyproject)
    same = sdist("1.1", b"from setuptools import setup\nsetup()\n", pyproject + b"\n[project]\nname = 'pkg'\n")
    assert diff_artifacts(old, same).findings == ()
    hooked = sdist(
        "1.2",
        b"import os\nos.system('curl https://x.invalid')\nfrom setuptools import setup\nsetup()\n",
        pyproject.replace(b'setuptools"]', b'setuptools", "evil-backend"]'),
    )
    diff = diff_artifacts(old, hooked)
    assert [(f.rule_id, f.location.path) for f in diff.findings] == [
        ("CW603", "pkg-1.2/pyproject.toml"),
        ("CW603", "pkg-1.2/setup.py"),
    ]
    assert all(f.trigger is Trigger.INSTALL for f in diff.findings)


def test_pth_in_data_purelib_and_modified_pth_gaining_code() -> None:
    old = wheel("pkg", "1.0", {"pkg/__init__.py": b"", "pkg-1.0.data/purelib/pkg.pth": b"/opt/pkg/lib\n"})
    new = wheel(
        "pkg", "1.1", {"pkg/__init__.py": b"", "pkg-1.1.data/purelib/pkg.pth": b"/opt/pkg/lib\nimport pkg._boot\n"}
    )
    diff = diff_artifacts(old, new)
    assert [f.rule_id for f in diff.findings] == ["CW601"]
    assert diff.headlines[0].startswith("turns `pkg.pth` into a .pth file with code lines")


def test_path_only_pth_is_not_a_startup_hook() -> None:
    old = wheel("pkg", "1.0", {"pkg/__init__.py": b""})
    new = wheel("pkg", "1.1", {"pkg/__init__.py": b"", "pkg.pth": b"/opt/pkg/lib\n# import nothing\n"})
    assert diff_artifacts(old, new).findings == ()


def test_ten_thousand_files_diff_quickly() -> None:
    files = {f"big/m{i:05d}.py": f"X = {i}\n".encode() for i in range(10_000)}
    old = wheel("big", "1.0", files)
    changed = dict(files)
    changed["big/m00042.py"] = b"X = 'changed'\n"
    changed["big.pth"] = b"import big\n"
    new = wheel("big", "1.1", changed)
    started = time.perf_counter()
    diff = diff_artifacts(old, new)
    assert time.perf_counter() - started < 15  # linear work; a quadratic pairing would take minutes
    assert [c.path for c in diff.files.of(ChangeKind.MODIFIED)] == ["big/m00042.py"]
    assert diff.findings[0].rule_id == "CW601"


def test_unreadable_file_is_reported_not_assumed_unchanged() -> None:
    old, new = benign_pair()
    new.unreadable.add("litellm/main.py")
    diff = diff_artifacts(old, new)
    assert [u.path for u in diff.unscanned] == ["litellm/main.py"]
    assert "not compared" in diff.unscanned[0].reason


def test_identical_artifacts_have_no_changes() -> None:
    old, _ = litellm_pair()
    diff = diff_artifacts(old, old)
    assert diff.files.changes == ()
    assert diff.summary.endswith("no file changes")


def test_report_holds_only_the_delta(scanner: Scanner) -> None:
    old, new = litellm_pair()
    report = as_report(diff_artifacts(old, new, scanner), tool_version="0", started="now")
    (result,) = report.results
    assert result.findings[0].rule_id == "CW601"
    assert all(f.rule_id.startswith("CW6") for f in result.findings)


def test_normalise_path() -> None:
    assert normalise_path("pkg-1.0.dist-info/METADATA", "1.0") == "pkg-{version}.dist-info/METADATA"
    assert normalise_path("pkg-1.0/setup.py", "1.0") == "pkg-{version}/setup.py"
    assert normalise_path("pkg/v1.0/x.py", "1.0") == "pkg/v1.0/x.py"


def test_version_substring_collision_is_still_a_change() -> None:
    """Replacing "1.0" by a placeholder must not hide a real change that only touches digits."""
    old = wheel("pkg", "1.0", {"pkg/a.py": b"URL = 'https://example.invalid/1.0'\n"})
    new = wheel("pkg", "1.1", {"pkg/a.py": b"URL = 'https://evil.invalid/1.1'\n"})
    diff = diff_files(old, new, "1.0", "1.1")
    assert [c.path for c in diff.of(ChangeKind.MODIFIED)] == ["pkg/a.py"]
    near = diff_files(
        wheel("pkg", "1.0", {"pkg/a.py": b"LIB = '11.0'\n"}),
        wheel("pkg", "1.1", {"pkg/a.py": b"LIB = '11.1'\n"}),
        "1.0",
        "1.1",
    )
    assert [c.path for c in near.of(ChangeKind.MODIFIED)] == ["pkg/a.py"]
    churn = diff_files(
        wheel("pkg", "1.0", {"pkg/a.py": PROXY_CLEAN + b"V = '1.0'\n"}),
        wheel("pkg", "1.1", {"pkg/a.py": PROXY_CLEAN + b"V = '1.1'\n"}),
        "1.0",
        "1.1",
    )
    assert [c.path for c in churn.of(ChangeKind.VERSION_ONLY)] == ["pkg-1.1.dist-info/METADATA", "pkg/a.py"]


def test_pth_below_site_packages_is_inert_in_a_wheel() -> None:
    """`site` only reads .pth files directly in site-packages; one inside a package never runs."""
    old = wheel("pkg", "1.0", {"pkg/__init__.py": b""})
    new = wheel("pkg", "1.1", {"pkg/__init__.py": b"", "pkg/data/example.pth": b"import os\n"})
    assert diff_artifacts(old, new).findings == ()


def test_wheel_compared_with_an_sdist_only_predecessor() -> None:
    """An sdist-only predecessor: compared by source path, packaging files ignored, no false install hook."""
    root = "litellm-1.82.6"
    files = {f"{root}/src/{k}": v for k, v in litellm_files("1.82.6").items()}
    files[f"{root}/PKG-INFO"] = b"Metadata-Version: 2.1\nName: litellm\nVersion: 1.82.6\n\n"
    files[f"{root}/setup.py"] = b"from setuptools import setup\nsetup()\n"
    files[f"{root}/tests/test_main.py"] = b"def test():\n    pass\n"
    old = MemoryArtifact(files, kind=ArtifactKind.SDIST, label=root)
    old.metadata = MemoryArtifact({"PKG-INFO": files[f"{root}/PKG-INFO"]}).metadata
    _, new = litellm_pair()
    diff = diff_artifacts(old, new)
    assert diff.files.cross_kind
    assert [c.path for c in diff.files.of(ChangeKind.ADDED)] == ["litellm_init.pth"]
    assert [c.path for c in diff.files.of(ChangeKind.MODIFIED)] == ["litellm/proxy/proxy_server.py"]
    assert [f.rule_id for f in diff.findings] == ["CW601"]


def test_in_tree_build_backend_changes_are_install_hooks() -> None:
    pyproject = b'[build-system]\nrequires = []\nbuild-backend = "backend:api"\nbackend-path = ["_build"]\n'

    def sdist(version: str, backend: bytes) -> MemoryArtifact:
        root = f"pkg-{version}"
        files = {
            f"{root}/PKG-INFO": f"Metadata-Version: 2.1\nName: pkg\nVersion: {version}\n\n".encode(),
            f"{root}/pyproject.toml": pyproject,
            f"{root}/_build/backend.py": backend,
            f"{root}/_build/notes.txt": version.encode(),
            f"{root}/pkg/__init__.py": b"x = 1\n",
        }
        art = MemoryArtifact(files, kind=ArtifactKind.SDIST, label=root)
        art.metadata = MemoryArtifact({"PKG-INFO": files[f"{root}/PKG-INFO"]}).metadata
        return art

    clean = b"def build_wheel(*a):\n    return ''\n"
    assert diff_artifacts(sdist("1.0", clean), sdist("1.1", clean)).findings == ()
    hooked = diff_artifacts(sdist("1.0", clean), sdist("1.2", clean + b"import os\nos.system('id')\n"))
    assert [(f.rule_id, f.location.path) for f in hooked.findings] == [("CW603", "pkg-1.2/_build/backend.py")]
