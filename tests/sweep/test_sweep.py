"""`chainwarden sweep` on a temporary HOME: a litellm-1.82.8-shaped compromise, and a clean twin."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from chainwarden.advisories.database import update
from chainwarden.advisories.dump import read_dump
from chainwarden.cli import main
from chainwarden.cli.common import IO
from support.packages import make_wheel

MAL = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "osv" / "MAL-2026-2144.json"
STAGE = base64.b64encode(b"print('would steal ~/.ssh and POST to models.litellm.invalid')").decode()
PTH = (
    "import os, subprocess, sys; subprocess.Popen([sys.executable, '-c', "
    f"\"import base64; exec(base64.b64decode('{STAGE}'))\"], stdout=subprocess.DEVNULL)\n"
)
UNIT = """[Unit]
Description=System Telemetry Service

[Service]
ExecStart=/usr/bin/python3 %h/.config/sysmon/sysmon.py
Restart=always

[Install]
WantedBy=default.target
"""


def _venv(home: Path) -> Path:
    env = home / "project" / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True, capture_output=True)
    return next(env.glob("lib/python*/site-packages"))


def _install_wheel(wheel: Path, site: Path) -> None:
    """Unpack a test wheel into site-packages the way an installer lays it out (never run)."""
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)


def _home(tmp_path: Path, *, malicious: bool) -> Path:
    home = tmp_path / ("hit" if malicious else "clean")
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n")
    (home / ".ssh" / "id_rsa.pub").write_text("ssh-rsa AAAA fake\n")
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text("[default]\naws_access_key_id = AKIAFAKEFAKEFAKEFAKE\n")
    (home / ".bashrc").write_text("export PATH=$HOME/bin:$PATH\nalias ll='ls -l'\n")
    site = _venv(home)
    build = tmp_path / ("build-hit" if malicious else "build-clean")
    build.mkdir()
    files = {"litellm/__init__.py": "VERSION = '1.82.x'\n"}
    version = "1.82.6"
    if malicious:
        files["litellm_init.pth"] = PTH
        version = "1.82.8"
    wheel = make_wheel(build, "litellm", version, files)
    _install_wheel(wheel, site)
    cache = home / ".cache" / "pip" / "wheels" / "ab" / "cd"
    cache.mkdir(parents=True)
    shutil.copy(wheel, cache / wheel.name)
    if malicious:
        unit = home / ".config" / "systemd" / "user"
        unit.mkdir(parents=True)
        (unit / "sysmon.service").write_text(UNIT)
        (home / ".config" / "sysmon").mkdir()
        (home / ".config" / "sysmon" / "sysmon.py").write_text("# stage-2 poller (inert test file)\n")
    return home


@pytest.fixture
def advisory_db(tmp_path: Path) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("MAL-2026-2144.json", MAL.read_bytes())
    db = tmp_path / "advisories.sqlite3"
    update(db, read_dump(buf.getvalue()), "test")
    return db


def _sweep(home: Path, db: Path, tmp_path: Path, *extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    argv = ["sweep", str(home), "--home", str(home), "--db", str(db), "--cache-dir", str(tmp_path / "cwcache"), "-j", "1"]
    code = main([*argv, *extra], IO(out, err))
    return code, out.getvalue(), err.getvalue()


def test_sweep_finds_distribution_cache_persistence_and_secrets(tmp_path: Path, advisory_db: Path) -> None:
    home = _home(tmp_path, malicious=True)
    code, out, err = _sweep(home, advisory_db, tmp_path, "-f", "json")
    assert code == 1, err
    doc = json.loads(out)
    findings = [(r["artifact"]["location"], f) for r in doc["results"] for f in r["findings"]]
    rules = {f["rule_id"] for _, f in findings}
    # the installed distribution: its .pth runs at interpreter start, and the MAL record names it
    assert any(f["location"]["path"] == "litellm_init.pth" and f["severity"] == "critical" for _, f in findings)
    assert any(f["rule_id"] == "CW400" and "MAL-2026-2144" in f["message"] and "site-packages" in loc for loc, f in findings)
    # the same wheel in the pip cache
    assert any(loc.endswith(".cache/pip/wheels/ab/cd/litellm-1.82.8-py3-none-any.whl") for loc, f in findings)
    # the persistence: the unit and the campaign's file indicator
    assert "CW901" in rules
    assert any(f["rule_id"] == "CW900" and f["location"]["path"].endswith(".config/sysmon/sysmon.py") for _, f in findings)
    # both secrets to rotate, and not the public key
    rotate = {f["location"]["path"] for _, f in findings if f["rule_id"] == "CW903"}
    assert str(home / ".ssh" / "id_rsa") in rotate
    assert str(home / ".aws" / "credentials") in rotate
    assert not any(p.endswith(".pub") for p in rotate)


def test_clean_twin_has_no_findings(tmp_path: Path, advisory_db: Path) -> None:
    home = _home(tmp_path, malicious=False)
    code, out, err = _sweep(home, advisory_db, tmp_path, "-f", "json")
    assert code == 0, out + err
    doc = json.loads(out)
    findings = [f for r in doc["results"] for f in r["findings"] if f["severity"] in ("high", "critical", "medium")]
    assert findings == []


def test_terminal_summary_and_quarantine_roundtrip(tmp_path: Path, advisory_db: Path) -> None:
    home = _home(tmp_path, malicious=True)
    vault = tmp_path / "vault"
    code, out, err = _sweep(home, advisory_db, tmp_path, "--quarantine", str(vault))
    assert code == 1
    assert "YES" in out
    assert "Secrets to rotate" in out
    pth = next(home.glob("project/.venv/lib/python*/site-packages/litellm_init.pth"), None)
    assert pth is None  # moved, not deleted
    assert (home / ".config/systemd/user/sysmon.service").exists() is False
    manifest = json.loads((vault / "chainwarden-quarantine.json").read_text())
    assert len(manifest) >= 3
    assert "undo with" in err
    out2, err2 = io.StringIO(), io.StringIO()
    assert main(["sweep", "--restore", str(vault)], IO(out2, err2)) == 0
    assert (home / ".config/systemd/user/sysmon.service").exists()
    assert next(home.glob("project/.venv/lib/python*/site-packages/litellm_init.pth"), None) is not None


def test_bad_roots_are_reported_not_crashed(tmp_path: Path, advisory_db: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    loop = tmp_path / "loop"
    loop.mkdir()
    (loop / "self").symlink_to(loop)
    out, err = io.StringIO(), io.StringIO()
    code = main(["sweep", str(tmp_path / "missing"), str(afile), str(loop), "--home", str(loop), "--db", str(advisory_db), "-j", "1", "--cache-dir", str(tmp_path / "c")], IO(out, err))
    assert code == 2  # a root that was asked for and not read is never a silent "clean"
    assert "missing: no such file" in err.getvalue()
    assert "Traceback" not in err.getvalue()
