"""`chainwarden diff` end to end: real wheel files, a loopback index, every output format."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

import pytest
from diffpairs import PROXY_MALICIOUS, PTH_MALICIOUS, litellm_files

from chainwarden.cli import main
from chainwarden.cli.common import IO
from support import IndexedFile, IndexServer, make_wheel

if TYPE_CHECKING:
    from pathlib import Path


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), IO(out, err))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def wheels(tmp_path: Path) -> dict[str, Path]:
    d = tmp_path / "dist"
    d.mkdir()
    bad = litellm_files("1.82.8")
    bad["litellm/proxy/proxy_server.py"] = PROXY_MALICIOUS
    bad["litellm_init.pth"] = PTH_MALICIOUS
    return {
        "1.82.5": make_wheel(d, "litellm", "1.82.5", litellm_files("1.82.5")),
        "1.82.6": make_wheel(d, "litellm", "1.82.6", litellm_files("1.82.6")),
        "1.82.8": make_wheel(d, "litellm", "1.82.8", bad),
    }


def test_diff_two_wheels_leads_with_the_pth(wheels: dict[str, Path], tmp_path: Path) -> None:
    code, out, _ = _run(
        "diff", str(wheels["1.82.6"]), str(wheels["1.82.8"]), "--cache-dir", str(tmp_path / "c"), "-j", "1"
    )
    assert code == 1  # blocked: a new startup hook is high severity
    lines = out.splitlines()
    assert lines[0] == "What is new in litellm 1.82.8 (compared with litellm 1.82.6):"
    assert lines[1].startswith(
        "  - adds `litellm_init.pth`, a .pth file with code lines, which executes code at interpreter start"
    )
    # the real Python analyzer sees the payload injected into proxy_server.py at import
    assert lines[2].startswith("  - `litellm/proxy/proxy_server.py` gains decode-then-exec")
    assert lines[2].endswith("reachable at import")
    assert "1 added, 1 modified" in out


def test_diff_json_report_holds_the_delta(wheels: dict[str, Path], tmp_path: Path) -> None:
    code, out, _ = _run(
        "diff",
        str(wheels["1.82.6"]),
        str(wheels["1.82.8"]),
        "--format",
        "json",
        "--cache-dir",
        str(tmp_path / "c"),
        "-j",
        "1",
    )
    assert code == 1
    doc = json.loads(out)
    text = json.dumps(doc)
    assert "CW601" in text
    assert "litellm_init.pth" in text


@pytest.mark.parametrize("fmt", ["sarif", "markdown"])
def test_diff_other_formats(wheels: dict[str, Path], tmp_path: Path, fmt: str) -> None:
    code, out, _ = _run(
        "diff",
        str(wheels["1.82.6"]),
        str(wheels["1.82.8"]),
        "--format",
        fmt,
        "--cache-dir",
        str(tmp_path / "c"),
        "-j",
        "1",
    )
    assert code == 1
    assert "CW601" in out


def test_benign_diff_passes(wheels: dict[str, Path], tmp_path: Path) -> None:
    code, out, _ = _run(
        "diff", str(wheels["1.82.5"]), str(wheels["1.82.6"]), "--cache-dir", str(tmp_path / "c"), "-j", "1"
    )
    assert code == 0, out
    assert "  - nothing that runs by itself" in out
    assert "changed only in the version string" in out


def test_previous_release_comes_from_the_index(
    wheels: dict[str, Path], tmp_path: Path, index_server: IndexServer
) -> None:
    for version in ("1.82.5", "1.82.6"):
        index_server.add_file("litellm", IndexedFile.from_path(wheels[version]))
    code, out, _ = _run(
        "diff",
        str(wheels["1.82.8"]),
        "--index-url",
        index_server.simple_url,
        "--cache-dir",
        str(tmp_path / "c"),
        "-j",
        "1",
    )
    assert code == 1
    assert "compared with litellm 1.82.6" in out.splitlines()[0]
    assert "note: compared with the previous release litellm 1.82.6" in out


def test_name_version_targets(wheels: dict[str, Path], tmp_path: Path, index_server: IndexServer) -> None:
    for version in ("1.82.6", "1.82.8"):
        index_server.add_file("litellm", IndexedFile.from_path(wheels[version]))
    code, out, _ = _run(
        "diff", "litellm==1.82.8", "--index-url", index_server.simple_url, "--cache-dir", str(tmp_path / "c"), "-j", "1"
    )
    assert code == 1
    assert "litellm_init.pth" in out.splitlines()[1]


def test_yanked_predecessor_is_skipped_with_a_note(
    wheels: dict[str, Path], tmp_path: Path, index_server: IndexServer
) -> None:
    index_server.add_file("litellm", IndexedFile.from_path(wheels["1.82.5"]))
    index_server.add_file("litellm", IndexedFile.from_path(wheels["1.82.6"], yanked="broken"))
    code, out, _ = _run(
        "diff",
        str(wheels["1.82.8"]),
        "--index-url",
        index_server.simple_url,
        "--cache-dir",
        str(tmp_path / "c"),
        "-j",
        "1",
    )
    assert code == 1
    assert "note: litellm 1.82.6 skipped: every file is yanked" in out
    assert "compared with litellm 1.82.5" in out.splitlines()[0]


def test_no_previous_release_is_said(wheels: dict[str, Path], tmp_path: Path, index_server: IndexServer) -> None:
    index_server.add_file("litellm", IndexedFile.from_path(wheels["1.82.8"]))
    code, out, _ = _run(
        "diff",
        str(wheels["1.82.8"]),
        "--index-url",
        index_server.simple_url,
        "--cache-dir",
        str(tmp_path / "c"),
        "-j",
        "1",
    )
    assert "CW606" in out
    assert "no release diff: litellm has no release before 1.82.8" in out
    assert code in (0, 1)  # the scan of the release itself may block on its own findings


def test_unreachable_index_is_said_not_passed(wheels: dict[str, Path], tmp_path: Path) -> None:
    _code, out, _ = _run(
        "diff",
        str(wheels["1.82.8"]),
        "--index-url",
        "http://127.0.0.1:9/simple/",
        "--cache-dir",
        str(tmp_path / "c"),
        "-j",
        "1",
    )
    assert "CW606" in out
    assert "cannot list litellm on the index" in out


def test_bad_targets_are_clear_errors(tmp_path: Path) -> None:
    code, _, err = _run("diff", str(tmp_path / "missing.whl"), str(tmp_path / "other.whl"))
    assert code == 2
    assert err.startswith("chainwarden: error:")
    code, _, err = _run("diff", "a", "b", "c")
    assert code == 2
    assert "one or two targets" in err
    broken = tmp_path / "broken-1.0-py3-none-any.whl"
    broken.write_bytes(b"not a zip")
    code, _, err = _run("diff", str(broken), str(broken), "--cache-dir", str(tmp_path / "c"))
    assert code == 2
    assert "chainwarden: error:" in err


def test_scan_name_version_diffs_against_the_previous_release(
    wheels: dict[str, Path], tmp_path: Path, index_server: IndexServer
) -> None:
    for version in ("1.82.6", "1.82.8"):
        index_server.add_file("litellm", IndexedFile.from_path(wheels[version]))
    base = (
        "scan",
        "litellm==1.82.8",
        "--index-url",
        index_server.simple_url,
        "--cache-dir",
        str(tmp_path / "c"),
        "-j",
        "1",
        "--format",
        "json",
    )
    code, out, _ = _run(*base)
    assert code == 1
    assert "CW601" in out
    code, out, _ = _run(*base, "--no-diff")
    assert code == 1  # the .pth is still found by the scan itself
    assert "CW601" not in out
