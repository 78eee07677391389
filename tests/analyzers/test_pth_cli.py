"""End to end: `chainwarden scan` on wheels built here, with .pth files real and malicious."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rules"))

from fixtures_pth import LEGITIMATE, LITELLM_LINE, write_wheel

from chainwarden.cli import main
from chainwarden.cli.common import IO


def scan(tmp_path: Path, files: dict[str, bytes]) -> tuple[int, str]:
    wheel = write_wheel(tmp_path / "dist", "demo", {"demo/__init__.py": b"", **files})
    out, err = io.StringIO(), io.StringIO()
    code = main(["scan", "--no-cache", "--jobs", "1", "--format", "json", str(wheel)], IO(out, err))
    return code, out.getvalue() + err.getvalue()


@pytest.mark.parametrize(
    "files",
    [
        {"litellm_init.pth": LITELLM_LINE},
        {"litellm_init.pth": b"# litellm\x0c" + LITELLM_LINE},
        {"demo-1.0.data/purelib/litellm_init.pth": LITELLM_LINE},
    ],
    ids=["root", "form-feed", "data-purelib"],
)
def test_litellm_style_pth_is_blocked_and_shown(tmp_path: Path, files: dict[str, bytes]) -> None:
    code, output = scan(tmp_path, files)
    assert code == 1, output
    assert "CW102" in output
    assert "subprocess.Popen([sys.executable" in output


def test_legitimate_pth_files_pass(tmp_path: Path) -> None:
    code, output = scan(tmp_path, dict(LEGITIMATE))
    assert code == 0, output
    assert "CW100" in output  # reported, not blocking
