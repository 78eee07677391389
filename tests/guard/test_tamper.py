"""The guard's state cannot be switched off from ordinary Python code in the guarded program.

Each attempt is made by a third-party test distribution (`tamperer`) inside a guarded run; after it,
reading the fake key must still be refused, and attempts that cannot be refused must be logged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from guardkit import Env, events, reports

if TYPE_CHECKING:
    from pathlib import Path


def _attempt(env: Env, kind: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> tuple[dict[str, object], list[dict[str, object]]]:
    log = tmp_path / "log.jsonl"
    code, out, err = env.run(capfd, "--log", str(log), "--baseline", str(env.baseline),
                             program=["-c", f"import tamperer; tamperer.attempt({kind!r})"])
    assert code == 0, err
    return reports(out)["tamper"], events(log)


@pytest.mark.parametrize("kind", ["sys_modules", "monkeypatch", "builtins", "thread_start", "audit_hook"])
def test_attempt_leaves_the_guard_enforcing(attack_env: Env, kind: str, tmp_path: Path,
                                            capfd: pytest.CaptureFixture[str]) -> None:
    result, logged = _attempt(attack_env, kind, tmp_path, capfd)
    assert result["read"] == "blocked"
    assert any(e["capability"] == "read" and e["package"] == "tamperer" and e["decision"] == "denied" for e in logged)


@pytest.mark.parametrize(("kind", "detected"), [
    ("sys_modules", "sys-modules"),
    ("monkeypatch", "monkey-patch"),
    ("thread_start", "thread-start-restored"),
    ("audit_hook", "audit-hook-added"),
])
def test_attempt_that_cannot_be_refused_is_logged(attack_env: Env, kind: str, detected: str, tmp_path: Path,
                                                  capfd: pytest.CaptureFixture[str]) -> None:
    _result, logged = _attempt(attack_env, kind, tmp_path, capfd)
    tampers = [e for e in logged if e["event"] == "chainwarden.tamper"]
    assert [e["target"] for e in tampers] == [detected]


def test_gc_and_frame_introspection_are_refused(attack_env: Env, tmp_path: Path,
                                                capfd: pytest.CaptureFixture[str]) -> None:
    result, logged = _attempt(attack_env, "gc", tmp_path, capfd)
    assert result["gc"] == "blocked"
    assert result["referrers"] == "blocked"
    result, logged = _attempt(attack_env, "frames", tmp_path, capfd)
    assert result["frames"] == "blocked"
    assert result["exceptions"] == "blocked"
    assert any(e["capability"] == "introspect" and e["package"] == "tamperer" for e in logged)


def test_thread_start_restore_is_refused_and_logged_on_every_version(target_env: Env, tmp_path: Path,
                                                                     capfd: pytest.CaptureFixture[str]) -> None:
    # 3.13's threading starts threads through _thread.start_joinable_thread: the guard wraps both
    result, logged = _attempt(target_env, "thread_start", tmp_path, capfd)
    assert result["restored"]  # the attempt found a wrapper to undo
    assert result["read"] == "blocked"
    assert result["thread_read"] == "blocked"
    assert [e["target"] for e in logged if e["event"] == "chainwarden.tamper"] == ["thread-start-restored"]
    reads = [e for e in logged if e["capability"] == "read" and e["decision"] == "denied"]
    assert [e["package"] for e in reads] == ["tamperer", "tamperer"]


def test_refusal_traceback_does_not_lead_to_guard_state_on_every_version(target_env: Env, tmp_path: Path,
                                                                         capfd: pytest.CaptureFixture[str]) -> None:
    # 3.13's frame.f_locals is a live proxy (PEP 667): the hook's frame must still hold nothing of the guard
    result, _logged = _attempt(target_env, "traceback", tmp_path, capfd)
    assert result["leaked"] == []
