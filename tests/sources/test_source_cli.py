"""Sources end to end through `chainwarden scan`: exit codes for hostile, broken and clean inputs."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pytest

from chainwarden.cli import main
from chainwarden.cli.common import IO
from chainwarden.cli.exit_codes import ExitCode
from chainwarden.sources import SOURCES, source_for
from chainwarden.sources.directory import DirectorySource
from chainwarden.sources.environment import EnvironmentSource
from chainwarden.sources.index import IndexSource
from chainwarden.sources.sdist import SdistSource
from chainwarden.sources.wheel import WheelSource
from support import IndexedFile, RawEntry, build_zip, fake_install, make_sdist, make_venv, make_wheel

if TYPE_CHECKING:
    from pathlib import Path

    from support import IndexServer


def _scan(tmp_path: Path, *targets: str, extra: tuple[str, ...] = ()) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    argv = ["scan", "--no-cache", "--jobs", "1", "--cache-dir", str(tmp_path / "cache"), "--format", "json", *extra]
    code = main([*argv, *targets], IO(out, err))
    return code, out.getvalue(), err.getvalue()


def test_registry_order() -> None:
    order = [type(s) for s in SOURCES]
    mine = [IndexSource, WheelSource, SdistSource, EnvironmentSource, DirectorySource]
    assert [t for t in order if t in mine] == mine
    assert order[-1] is DirectorySource  # the catch-all comes last


def test_source_for_each_kind_of_target(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": ""})
    sdist = make_sdist(tmp_path, "demo", "1.0", {"setup.py": ""})
    root, _ = make_venv(tmp_path)
    project = tmp_path / "project"
    project.mkdir()
    assert isinstance(source_for(str(wheel)), WheelSource)
    assert isinstance(source_for(str(sdist)), SdistSource)
    assert isinstance(source_for(str(root)), EnvironmentSource)
    assert isinstance(source_for(str(project)), DirectorySource)
    assert isinstance(source_for("demo==1.0"), IndexSource)


def test_clean_wheel_exits_0(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": "x = 1\n"})
    code, out, err = _scan(tmp_path, str(wheel))
    assert code == ExitCode.CLEAN, out + err


def test_parser_differential_wheel_is_blocked(tmp_path: Path) -> None:
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    path.write_bytes(build_zip([RawEntry("demo/__init__.py", b"x = 1\n", local_name=b"demo/evil_.py")]))
    code, out, _ = _scan(tmp_path, str(path))
    assert code == ExitCode.BLOCKED
    assert "CW016" in out


@pytest.mark.parametrize("content", [b"", b"garbage" * 100, b"PK\x05\x06" + b"\xff" * 18])
def test_corrupt_wheel_exits_2_with_one_line(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken-1.0-py3-none-any.whl"
    path.write_bytes(content)
    code, _, err = _scan(tmp_path, str(path))
    assert code == ExitCode.ERROR
    assert "broken-1.0-py3-none-any.whl" in err
    assert "Traceback" not in err


def test_clean_venv_exits_0(tmp_path: Path) -> None:
    root, site = make_venv(tmp_path)
    fake_install(site, "good", "1.0", {"good/__init__.py": "x = 1\n"})
    code, out, err = _scan(tmp_path, str(root))
    assert code == ExitCode.CLEAN, out + err


def test_tampered_install_is_blocked(tmp_path: Path) -> None:
    root, site = make_venv(tmp_path)
    fake_install(site, "good", "1.0", {"good/__init__.py": "x = 1\n"}, tamper={"good/__init__.py": "y = 2\n"})
    code, out, _ = _scan(tmp_path, str(root))
    assert code == ExitCode.BLOCKED
    assert "CW025" in out


def test_index_release_scans_and_index_down_exits_2(tmp_path: Path, index_server: IndexServer) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": "x = 1\n"})
    index_server.add_file("demo", IndexedFile.from_path(wheel))
    code, out, err = _scan(tmp_path, "demo==1.0", extra=("--index-url", index_server.simple_url))
    assert code == ExitCode.CLEAN, out + err
    assert wheel.name in out
    index_server.fail_status = 503
    code, _, err = _scan(tmp_path, "demo==1.1", extra=("--index-url", index_server.simple_url))
    assert code == ExitCode.ERROR
    assert "HTTP 503" in err
    assert "Traceback" not in err


def test_index_hash_mismatch_exits_2(tmp_path: Path, index_server: IndexServer) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": "x = 1\n"})
    index_server.add_file("demo", IndexedFile.from_path(wheel, hashes={"sha256": "f" * 64}))
    code, _, err = _scan(tmp_path, "demo==1.0", extra=("--index-url", index_server.simple_url))
    assert code == ExitCode.ERROR
    assert "does not match" in err
