"""`chainwarden verify` (RECORD hashes, unowned files, .pth baseline) and `chainwarden guard install`."""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING

import pytest
from guardkit import DISTUTILS_PTH, EVIL_PTH, PAYLOAD, TARGETS, add_distribution, events, reports

from chainwarden.cli import main
from chainwarden.guard.baseline import GUARD_PTH

if TYPE_CHECKING:
    from pathlib import Path


def _site(tmp_path: Path) -> Path:
    site = tmp_path / "site-packages"
    add_distribution(site, "setuptools", "69.0.0", {"distutils-precedence.pth": DISTUTILS_PTH,
                                                     "_distutils_hack/__init__.py": "def add_shim():\n    pass\n"})
    return site


def test_verify_clean_then_tampered(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = _site(tmp_path)
    baseline = tmp_path / "baseline.toml"
    assert main(["verify", str(site), "--write-baseline", str(baseline)]) == 0
    assert main(["verify", str(site), "--baseline", str(baseline)]) == 0
    assert "0 problem(s)" in capsys.readouterr().out

    (site / "_distutils_hack" / "__init__.py").write_text("import os\n")
    (site / "dropper.py").write_text("x = 1\n")
    (site / "distutils-precedence.pth").write_text(DISTUTILS_PTH + "import os; os.system('true')\n")
    add_distribution(site, "evilllm", "1.82.8", {"evilllm/__init__.py": "", "evilllm_init.pth": EVIL_PTH})
    assert main(["verify", str(site), "--baseline", str(baseline)]) == 1
    out = capsys.readouterr().out
    kinds = {line.split()[0] for line in out.splitlines()[:-1]}
    assert kinds == {"modified", "unowned", "new-pth", "changed-pth"}
    assert "evilllm_init.pth" in out
    assert "dropper.py" in out


def test_verify_reports_bad_baseline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "b.toml"
    bad.write_text("[[pth]]\nname = 3\n")
    assert main(["verify", str(_site(tmp_path)), "--baseline", str(bad)]) == 2
    assert "needs name, sha256 and lines" in capsys.readouterr().err


@pytest.mark.parametrize("python", TARGETS)
def test_guard_install_bootstrap_guards_plain_interpreter(python: str, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    subprocess.run([python, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    site = next((tmp_path / "venv").glob("lib/python3*/site-packages"))
    add_distribution(site, "setuptools", "69.0.0", {
        "distutils-precedence.pth": DISTUTILS_PTH,
        "_distutils_hack/__init__.py": "def add_shim():\n    print('CWREPORT setuptools {}', flush=True)\n"})
    baseline = tmp_path / "baseline.toml"
    assert main(["verify", str(site), "--write-baseline", str(baseline)]) == 0
    add_distribution(site, "evilllm", "1.82.8", {"evilllm/__init__.py": "", "evilllm/_payload.py": PAYLOAD,
                                                  "evilllm_init.pth": EVIL_PTH})
    (site / " early.pth").write_text("import sys\n")
    log = tmp_path / "log.jsonl"
    code = main(["guard", "install", "--env", str(tmp_path / "venv"), "--baseline", str(baseline),
                 "--log", str(log)])
    captured = capsys.readouterr()
    assert code == 1  # a .pth sorts before the bootstrap
    assert "' early.pth' sorts before the bootstrap" in captured.err
    assert "\\x01.pth" in captured.err
    assert (site / GUARD_PTH).exists()

    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    env = {**os.environ, "HOME": str(home), "CW_TEST_PORT": "9"}
    proc = subprocess.run([str(tmp_path / "venv" / "bin" / "python"), "-c", "print('CWREPORT app {}')"],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert set(reports(proc.stdout)) == {"setuptools", "app"}
    assert "evilllm_init.pth" in proc.stderr
    refused = [e for e in events(log) if e["event"] == "site.pth" and e["decision"] == "refused"]
    # ' early.pth' ran unguarded on site's first pass; 3.11 processes a venv's .pth files twice
    assert {e["package"] for e in refused} <= {"evilllm", "unowned: early.pth"}
    assert "evilllm" in {e["package"] for e in refused}

    assert main(["verify", str(site), "--baseline", str(baseline)]) == 1
    out = capsys.readouterr().out
    assert "pth-sorts-first" in out
    assert "_chainwarden_guard" not in out  # the bootstrap's own files are not reported as unowned

    assert main(["guard", "uninstall", "--env", str(tmp_path / "venv")]) == 0
    assert not (site / GUARD_PTH).exists()


def test_pth_line_behind_a_bom_counts_as_executable(tmp_path: Path) -> None:
    # Python 3.13's site decodes .pth files as utf-8-sig and runs such a line; 3.11/3.12 do not
    from chainwarden.guard.baseline import line_hash, scan_pth

    (tmp_path / "bom.pth").write_bytes(b"\xef\xbb\xbfimport os; os.getpid()\r\n./lib\n")
    [pth] = scan_pth(tmp_path)
    assert pth.exec_lines == (line_hash("import os; os.getpid()"),)
