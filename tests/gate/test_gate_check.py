"""`chainwarden check`: the gate's policy on a project's pins, without installing."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from chainwarden.advisories.database import update
from chainwarden.advisories.dump import read_dump
from chainwarden.cli import main
from chainwarden.cli.common import IO
from gate.conftest import GateWorld

MAL = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "osv" / "MAL-2026-2144.json"


def _db(tmp_path: Path) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("MAL-2026-2144.json", MAL.read_bytes())
    db = tmp_path / "advisories.sqlite3"
    update(db, read_dump(buf.getvalue()), "test")
    return db


def _check(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["check", *argv], IO(out, err))
    return code, out.getvalue(), err.getvalue()


def test_young_pin_is_blocked_and_old_pin_passes(gate_world: GateWorld, tmp_path: Path) -> None:
    db = _db(tmp_path)
    project = tmp_path / "proj"
    project.mkdir()
    req = project / "requirements.txt"
    req.write_text("quietllm==1.1 --hash=sha256:" + "0" * 64 + "\n")
    code, out, _ = _check(str(project), "--db", str(db), "--index-url", gate_world.server.simple_url, "-f", "json")
    assert code == 1
    doc = json.loads(out)
    rules = {f["rule_id"] for r in doc["results"] for f in r["findings"]}
    assert "CW701" in rules
    req.write_text("quietllm==1.0 --hash=sha256:" + "0" * 64 + "\n")
    code, out, err = _check(str(project), "--db", str(db), "--index-url", gate_world.server.simple_url)
    assert code == 0, out + err


def test_offline_check_reports_malicious_pin_and_skipped_age(tmp_path: Path) -> None:
    db = _db(tmp_path)
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("litellm==1.82.8\n")
    code, out, _ = _check(str(project), "--offline", "--db", str(db), "-f", "json")
    assert code == 1
    doc = json.loads(out)
    findings = [f for r in doc["results"] for f in r["findings"]]
    assert any(f["severity"] == "critical" and "MAL-2026-2144" in f["message"] for f in findings)
    unscanned = [u for r in doc["results"] for u in r["unscanned"]]
    assert any("offline" in u["reason"] for u in unscanned)


def test_deny_list_and_required_hashes(gate_world: GateWorld, tmp_path: Path) -> None:
    db = _db(tmp_path)
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("quietllm==1.0\n")
    (project / "chainwarden.toml").write_text('require-hashes = true\ndeny = ["quietllm==1.0"]\n')
    code, out, _ = _check(str(project), "--db", str(db), "--index-url", gate_world.server.simple_url, "-f", "json")
    assert code == 1
    rules = {f["rule_id"] for r in json.loads(out)["results"] for f in r["findings"]}
    assert {"CW702", "CW703"} <= rules


def test_conflicting_lists_are_a_config_error(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("x==1\n")
    (project / "chainwarden.toml").write_text('allow = ["x"]\ndeny = ["x"]\nmin-release-age = "soon"\n')
    code, _, err = _check(str(project), "--offline", "--db", str(tmp_path / "none.sqlite3"))
    assert code == 2
    assert "cannot be in both" in err
    assert "min-release-age" in err
