"""`chainwarden audit` and `chainwarden db` end to end, offline, on the real fixtures."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from osv_testdata import make_zip

from chainwarden.cli import main
from chainwarden.cli.common import IO
from chainwarden.cli.exit_codes import ExitCode

LOCKFILES = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles"
TOOLS = ("uv", "poetry", "pdm", "pylock", "pip-compile", "pipenv")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), IO(out, err))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a socket fails the test."""
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("the offline audit tried to use the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def audit_json(project: Path, db: Path, *extra: str) -> tuple[int, dict]:
    code, out, err = run("audit", str(project), "--offline", "--db", str(db), "--format", "json", *extra)
    assert code != ExitCode.ERROR, err
    return code, json.loads(out)


def findings(doc: dict) -> list[dict]:
    return [f for r in doc["results"] for f in r["findings"]]


@pytest.mark.parametrize("project", ["direct", "transitive"])
@pytest.mark.parametrize("tool", TOOLS)
def test_litellm_1_82_8_is_critical_in_every_format_offline(project, tool, offline_db, no_network, tmp_path):
    target = tmp_path / tool
    shutil.copytree(LOCKFILES / project / tool, target)  # no chainwarden.toml above tmp_path
    code, doc = audit_json(target, offline_db)
    assert code == ExitCode.BLOCKED
    mal = [f for f in findings(doc) if f["rule_id"] == "CW400"]
    assert len(mal) == 1
    assert mal[0]["severity"] == "critical"
    assert "MAL-2026-2144" in mal[0]["message"]
    detail = {d["name"]: d["value"] for d in mal[0]["evidence"]["detail"]}
    assert detail["dependency"] == ("direct" if project == "direct" else "transitive")


def test_vulnerabilities_carry_their_fixed_versions(offline_db, tmp_path):
    shutil.copytree(LOCKFILES / "direct" / "uv", tmp_path / "p")
    _, doc = audit_json(tmp_path / "p", offline_db)
    messages = [f["message"] for f in findings(doc) if f["rule_id"] == "CW401"]
    requests = next(m for m in messages if m.startswith("requests 2.25.0"))
    assert "PYSEC-2023-74" in requests
    assert "Fixed in 2.31.0" in requests


def test_transitive_finding_names_the_chain(offline_db, tmp_path):
    shutil.copytree(LOCKFILES / "transitive" / "uv", tmp_path / "p")
    code, out, _ = run("audit", str(tmp_path / "p"), "--offline", "--db", str(offline_db))
    assert code == ExitCode.BLOCKED
    assert "Reached through httpx -> litellm" in out


def test_withdrawn_record_never_matches_end_to_end(tmp_path, mal_record):
    db = tmp_path / "db.sqlite3"
    src = tmp_path / "osv.zip"
    src.write_bytes(make_zip([dict(mal_record, withdrawn="2026-03-27T00:00:00Z")]))
    assert run("db", "update", "--from", str(src), "--db", str(db))[0] == ExitCode.CLEAN
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "requirements.txt").write_text("litellm==1.82.8 --hash=sha256:" + "0" * 64 + "\n")
    code, doc = audit_json(tmp_path / "p", db)
    assert code == ExitCode.CLEAN
    assert findings(doc) == []


def test_policy_ignore_with_reason_and_expiry(offline_db, tmp_path):
    shutil.copytree(LOCKFILES / "transitive" / "uv", tmp_path / "p")
    (tmp_path / "p" / "chainwarden.toml").write_text(
        '[[ignore]]\nrule = "CW400"\npackage = "litellm"\nreason = "quarantined build host, SEC-1"\nexpires = 2999-01-01\n'
    )
    code, doc = audit_json(tmp_path / "p", offline_db)
    assert code == ExitCode.CLEAN
    assert doc["verdict"]["suppressed"][0]["reason"] == "quarantined build host, SEC-1"
    (tmp_path / "p" / "chainwarden.toml").write_text(
        '[[ignore]]\nrule = "CW400"\npackage = "litellm"\nreason = "old"\nexpires = 2000-01-01\n'
    )
    code, _ = audit_json(tmp_path / "p", offline_db)
    assert code == ExitCode.BLOCKED


def test_cyclonedx_sbom_with_vex_validates_against_1_6(offline_db, tmp_path):
    shutil.copytree(LOCKFILES / "transitive" / "uv", tmp_path / "p")
    out = tmp_path / "sbom.json"
    code, _, _ = run(
        "audit",
        str(tmp_path / "p"),
        "--offline",
        "--db",
        str(offline_db),
        "--format",
        "cyclonedx",
        "--output",
        str(out),
    )
    assert code == ExitCode.BLOCKED
    text = out.read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6"
    purls = {c["purl"] for c in bom["components"]}
    assert "pkg:pypi/litellm@1.82.8" in purls
    assert "pkg:pypi/httpx@0.27.0" in purls
    (vuln,) = bom["vulnerabilities"]
    assert vuln["id"] == "MAL-2026-2144"
    assert vuln["analysis"]["state"] == "exploitable"
    assert vuln["affects"][0]["ref"] == "pkg:pypi/litellm@1.82.8"
    edges = {d["ref"]: set(d.get("dependsOn", [])) for d in bom["dependencies"]}
    assert "pkg:pypi/litellm@1.82.8" in edges["pkg:pypi/httpx@0.27.0"]
    assert edges["chainwarden:target"] == {"pkg:pypi/httpx@0.27.0"}


def test_cyclonedx_vex_marks_ignored_advisories_not_affected(offline_db, tmp_path):
    shutil.copytree(LOCKFILES / "direct" / "uv", tmp_path / "p")
    (tmp_path / "p" / "chainwarden.toml").write_text(
        '[[ignore]]\nrule = "CW401"\npackage = "idna"\nreason = "no untrusted input reaches idna.encode"\nexpires = 2999-01-01\n'
    )
    code, out, _ = run("audit", str(tmp_path / "p"), "--offline", "--db", str(offline_db), "-f", "cyclonedx")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(out) is None
    states = {v["id"]: v["analysis"] for v in json.loads(out)["vulnerabilities"]}
    assert states["PYSEC-2024-60"]["state"] == "not_affected"
    assert "no untrusted input" in states["PYSEC-2024-60"]["detail"]
    assert states["PYSEC-2023-74"]["state"] == "in_triage"
    assert code == ExitCode.BLOCKED


def test_unpinned_and_hashless_requirements_are_flagged(offline_db, tmp_path):
    (tmp_path / "requirements.txt").write_text("flask>=2\nsix==1.16.0\n")
    code, doc = audit_json(tmp_path, offline_db, "--fail-on", "low")
    rules = sorted(f["rule_id"] for f in findings(doc))
    assert rules == ["CW402", "CW403"]
    assert code == ExitCode.BLOCKED


def test_broken_lockfile_is_an_error_not_a_clean_pass(offline_db, tmp_path):
    (tmp_path / "uv.lock").write_text("version = 1\n[[package]\n")
    code, out, err = run("audit", str(tmp_path), "--offline", "--db", str(offline_db))
    assert code == ExitCode.ERROR
    assert "invalid TOML" in err
    assert "CW404" in out


def test_missing_database_is_an_error_that_says_how_to_build_it(tmp_path):
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    code, _, err = run("audit", str(tmp_path), "--offline", "--db", str(tmp_path / "none.sqlite3"))
    assert code == ExitCode.ERROR
    assert "chainwarden db update" in err


def test_corrupt_database_is_refused(tmp_path):
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    (tmp_path / "db.sqlite3").write_bytes(b"\0" * 1000)
    code, _, err = run("audit", str(tmp_path), "--offline", "--db", str(tmp_path / "db.sqlite3"))
    assert code == ExitCode.ERROR
    assert "corrupt" in err
    assert "db update" in err


def test_db_update_refuses_a_corrupt_zip_and_keeps_the_previous_database(tmp_path, mal_record):
    db = tmp_path / "db.sqlite3"
    good = tmp_path / "good.zip"
    good.write_bytes(make_zip([mal_record]))
    assert run("db", "update", "--from", str(good), "--db", str(db))[0] == ExitCode.CLEAN
    before = db.read_bytes()
    bad = tmp_path / "bad.zip"
    bad.write_bytes(make_zip([mal_record], {"broken.json": b"{"}))
    code, _, err = run("db", "update", "--from", str(bad), "--db", str(db))
    assert code == ExitCode.ERROR
    assert "refusing" in err
    assert "left as it was" in err
    assert db.read_bytes() == before
    code, out, _ = run("db", "info", "--db", str(db))
    assert code == ExitCode.CLEAN
    assert "records: 1" in out


def test_db_update_is_incremental(tmp_path, mal_record):
    db = tmp_path / "db.sqlite3"
    src = tmp_path / "osv.zip"
    src.write_bytes(make_zip([mal_record]))
    assert "1 added" in run("db", "update", "--from", str(src), "--db", str(db))[1]
    assert "1 unchanged" in run("db", "update", "--from", str(src), "--db", str(db))[1]


def test_db_default_location_is_the_cache_dir(tmp_path, monkeypatch, mal_record):
    monkeypatch.setenv("CHAINWARDEN_CACHE_DIR", str(tmp_path / "cache"))
    src = tmp_path / "osv.zip"
    src.write_bytes(make_zip([mal_record]))
    assert run("db", "update", "--from", str(src))[0] == ExitCode.CLEAN
    assert (tmp_path / "cache" / "advisories.sqlite3").is_file()


def test_online_audit_with_the_network_down_suggests_offline(tmp_path, monkeypatch):
    from chainwarden.advisories.http import NetworkError
    from chainwarden.cli import audit as audit_cli

    class Down:
        def get(self, url):
            raise NetworkError(f"{url}: [Errno -3] Temporary failure in name resolution")

        def post_json(self, url, body):
            raise NetworkError(f"{url}: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(audit_cli, "UrllibClient", Down)
    (tmp_path / "requirements.txt").write_text("six==1.16.0 --hash=sha256:" + "0" * 64 + "\n")
    for service in ("osv", "pypi"):
        code, _, err = run("audit", str(tmp_path), "--service", service)
        assert code == ExitCode.ERROR
        assert "--offline" in err
        assert "db update" in err


def test_db_update_from_a_url_uses_the_injected_client(tmp_path, monkeypatch, mal_record):
    from chainwarden.advisories.http import NetworkError
    from chainwarden.cli import db as db_cli

    served = make_zip([mal_record])
    asked: list[str] = []

    class Serve:
        def __init__(self, **kwargs):
            pass

        def get(self, url):
            asked.append(url)
            if "down" in url:
                raise NetworkError(f"{url}: timed out")
            return served

    monkeypatch.setattr(db_cli, "UrllibClient", Serve)
    db = tmp_path / "db.sqlite3"
    code, out, _ = run("db", "update", "--db", str(db))
    assert code == ExitCode.CLEAN
    assert asked == ["https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"]
    assert "1 added" in out
    code, _, err = run("db", "update", "--db", str(db), "--from", "https://down.invalid/all.zip")
    assert code == ExitCode.ERROR
    assert "--from FILE" in err


def test_db_without_action_is_an_error():
    code, _, err = run("db")
    assert code == ExitCode.ERROR
    assert "db update" in err


def _dist_info(site: Path, name: str, version: str) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


@pytest.mark.parametrize("layout", ["venv", "conda", "image"])
def test_litellm_in_environments_and_images_is_critical(layout, offline_db, tmp_path, no_network):
    root = tmp_path / layout
    if layout == "venv":
        _dist_info(root / "lib" / "python3.12" / "site-packages", "litellm", "1.82.8")
    elif layout == "conda":
        (root / "conda-meta").mkdir(parents=True)
        record = {"name": "litellm", "version": "1.82.8", "build": "pyhd8ed1ab_0", "depends": ["python >=3.9"]}
        (root / "conda-meta" / "litellm-1.82.8-pyhd8ed1ab_0.json").write_text(json.dumps(record))
    else:
        _dist_info(root / "usr" / "local" / "lib" / "python3.12" / "site-packages", "requests", "2.32.3")
        _dist_info(root / "app" / ".venv" / "lib" / "python3.12" / "site-packages", "litellm", "1.82.8")
        (root / "etc").mkdir()
    code, doc = audit_json(root, offline_db)
    assert code == ExitCode.BLOCKED
    assert [f["rule_id"] for f in findings(doc) if f["severity"] == "critical"] == ["CW400"]
