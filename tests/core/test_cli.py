from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from chainwarden.cli import COMMANDS, main
from chainwarden.cli.common import IO
from chainwarden.cli.exit_codes import ExitCode


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), IO(out, err))
    return code, out.getvalue(), err.getvalue()


def test_exit_code_table() -> None:
    assert [int(c) for c in ExitCode] == [0, 1, 2]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert "chainwarden" in capsys.readouterr().out


def test_no_command_is_an_error() -> None:
    code, _, err = _run()
    assert code == ExitCode.ERROR
    assert "usage" in err


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in COMMANDS:
        assert main([command.name, "--help"]) == 0
        assert command.name in capsys.readouterr().out
    assert main(["--help"]) == 0
    listing = capsys.readouterr().out
    assert all(command.name in listing for command in COMMANDS)


def test_scan_clean_directory(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("print('hello')\n")
    code, out, _ = _run("scan", "--no-cache", "--jobs", "1", str(tmp_path))
    assert code == ExitCode.CLEAN, out
    assert "nothing at or above high" in out.lower()


def test_scan_missing_path_exits_2(tmp_path: Path) -> None:
    code, _, err = _run("scan", "--no-cache", str(tmp_path / "missing.whl"))
    assert code == ExitCode.ERROR
    assert "missing.whl" in err
    assert "Traceback" not in err


def test_bad_config_exits_2_with_reason(tmp_path: Path) -> None:
    cfg = tmp_path / "chainwarden.toml"
    cfg.write_text('fail-on = "sometimes"\n')
    code, _, err = _run("scan", "--no-cache", "--config", str(cfg), str(tmp_path))
    assert code == ExitCode.ERROR
    assert "unknown severity 'sometimes'" in err


def test_json_output_to_file(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("x = 1\n")
    out_file = tmp_path / "out" / "r.json"
    code, _, _ = _run("scan", "--no-cache", "-f", "json", "-o", str(out_file), str(tmp_path))
    assert code == ExitCode.CLEAN
    doc = json.loads(out_file.read_text())
    assert doc["schema_version"] == "1.0"
    assert doc["verdict"]["blocked"] is False


def test_bad_jobs_exits_2(tmp_path: Path) -> None:
    code, _, err = _run("scan", "--jobs", "0", str(tmp_path))
    assert code == ExitCode.ERROR
    assert "--jobs" in err
