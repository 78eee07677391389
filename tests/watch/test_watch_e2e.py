"""`chainwarden watch` end to end: a malicious release appears on a loopback index; the webhook
hears about it within 60 s; a `kill -9` mid-scan loses nothing; repeats keep their idempotency key."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.index_server import IndexedFile, IndexedProject, IndexServer
from support.packages import make_wheel
from support.webhook import WebhookReceiver

pytestmark = pytest.mark.slow

STAGE = base64.b64encode(b"print('exfiltrate to https://metrics.quietpkg.invalid/')").decode()
PTH = (
    "import os, subprocess, sys; subprocess.Popen([sys.executable, '-c', "
    f"\"import base64; exec(base64.b64decode('{STAGE}'))\"], stdout=subprocess.DEVNULL)\n"
)


def _iso(delta: dt.timedelta) -> str:
    return (dt.datetime.now(dt.UTC) - delta).isoformat().replace("+00:00", "Z")


def _wait(predicate, timeout: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def _known_versions(db: Path) -> list[str]:
    if not db.exists():
        return []
    try:
        with contextlib.closing(sqlite3.connect(db)) as conn, conn:
            rows = conn.execute("SELECT known_versions FROM packages WHERE name='quietpkg'").fetchall()
    except sqlite3.Error:
        return []
    return json.loads(rows[0][0]) if rows else []


def _release_state(db: Path) -> str:
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        rows = conn.execute("SELECT state FROM releases WHERE name='quietpkg' AND version='1.1'").fetchall()
    return rows[0][0] if rows else ""


def _start(project: Path, index: IndexServer, hook: WebhookReceiver, db: Path, cache: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CHAINWARDEN_CACHE_DIR": str(cache)}
    env.pop("CI", None)
    cmd = [
        sys.executable, "-m", "chainwarden", "watch", str(project), "--index-url", index.simple_url,
        "--interval", "10", "--webhook", hook.url, "--db", str(db), "--jobs", "1",
        "--advisory-db", str(cache / "no-advisories.sqlite3"),
    ]  # fmt: skip
    with log.open("ab") as out:  # the child keeps its own descriptor
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)


def test_alert_within_60s_survives_kill_9_with_same_key(tmp_path: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    old = make_wheel(build, "quietpkg", "1.0", {"quietpkg/__init__.py": "X = 1\n"})
    new = make_wheel(build, "quietpkg", "1.1", {"quietpkg/__init__.py": "X = 1\n", "quietpkg_init.pth": PTH})
    project = tmp_path / "service-a"
    project.mkdir()
    (project / "requirements.txt").write_text("quietpkg>=1.0\n")
    db, cache, log = tmp_path / "watch.sqlite3", tmp_path / "cache", tmp_path / "watch.log"
    with IndexServer([IndexedProject("quietpkg", [IndexedFile.from_path(old, upload_time=_iso(dt.timedelta(days=90)))])]) as index, WebhookReceiver() as hook:
        proc = _start(project, index, hook, db, cache, log)
        try:
            _wait(lambda: _known_versions(db) == ["1.0"], 60, "the first poll")
            # The malicious release appears; its download stalls so that we can kill the watcher mid-scan.
            index.file_delay[new.name] = 30.0
            index.add_file("quietpkg", IndexedFile.from_path(new, upload_time=_iso(dt.timedelta(minutes=1))))
            appeared = time.monotonic()
            _wait(lambda: any(new.name in r.path for r in index.requests), 30, "the scan to start downloading")
            assert _release_state(db) == "scanning"
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert hook.deliveries == []  # nothing was sent before the kill
        index.file_delay.clear()
        hook.fail_next = 1  # the first delivery fails: the retry must carry the same key
        proc = _start(project, index, hook, db, cache, log)
        try:
            _wait(lambda: len(hook.accepted()) >= 1, 60 - (time.monotonic() - appeared), "the alert")
            waited = time.monotonic() - appeared
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    assert waited < 60, f"alert took {waited:.1f}s"
    failed = [d for d in hook.deliveries if d.status == 500]
    (ok,) = hook.accepted()
    assert failed, "the first attempt should have failed on purpose"
    assert {d.key for d in hook.deliveries} == {ok.key}
    assert ok.body["idempotency_key"] == ok.key
    body = json.dumps(ok.body)
    assert ok.body["package"] == "quietpkg"
    assert ok.body["version"] == "1.1"
    assert "quietpkg_init.pth" in body
    assert any(p["path"] == str(project.resolve()) and p["receives_it"] for p in ok.body["projects"])
    assert ok.body["cooldown"]["holding"] is True
