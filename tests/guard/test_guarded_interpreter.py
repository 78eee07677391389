"""The guarded interpreter (`sys.executable` inside the guard) has a stable name in policies: `$PYTHON`.

Inside the guard `sys.executable` is a shim in a private temporary directory whose path changes every
run; hints, learned policies and grants must not depend on it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from guardkit import Env, events, reports, write

from chainwarden.guard.policy import load_policy_file

SPAWN = ("import json, subprocess, sys; p = subprocess.run([sys.executable, '-c', "
         "\"import sys; print('CWREPORT child ' + str('_cw_guard' in sys.modules))\"], check=False); "
         "print('CWREPORT parent {\"rc\": %d}' % p.returncode, flush=True)")


def _run(env: Env, capfd: pytest.CaptureFixture[str], tmp_path: Path, policy: str,
         program: str = SPAWN) -> tuple[int, str, str, list[dict[str, object]]]:
    log = tmp_path / "log.jsonl"
    log.unlink(missing_ok=True)
    code, out, err = env.run(capfd, "--policy", str(write(tmp_path / "policy.toml", policy)), "--log", str(log),
                             "--baseline", str(env.baseline), program=["-c", program])
    return code, out, err, events(log)


def test_refusal_hint_names_the_guarded_interpreter_stably(attack_env: Env, tmp_path: Path,
                                                           capfd: pytest.CaptureFixture[str]) -> None:
    code, out, err, logged = _run(attack_env, capfd, tmp_path, "[app]\nnet = []\n")
    assert code == 1
    assert "parent" not in reports(out)
    assert "add to " in err
    assert err.rstrip().endswith('[app] exec = ["$PYTHON"]')
    assert "chainwarden-guard-" not in err.rstrip().rsplit("add to", 1)[1]
    assert str(attack_env.python) in err  # the message still says which interpreter that is
    spawn = next(e for e in logged if e["event"] == "subprocess.Popen")
    assert (spawn["target"], spawn["child"], spawn["interpreter"]) == ("$PYTHON", "guarded", str(attack_env.python))
    assert spawn["policy_line"] == '[app] exec = ["$PYTHON"]'


def test_python_token_real_path_and_basename_grant_the_guarded_child(attack_env: Env, tmp_path: Path,
                                                                    capfd: pytest.CaptureFixture[str]) -> None:
    for grant in ("$PYTHON", str(attack_env.python), "python"):
        code, out, err, _logged = _run(attack_env, capfd, tmp_path, f"[app]\nexec = [{grant!r}]\n")
        assert code == 0, (grant, err)
        found = reports(out)
        assert found["parent"] == {"rc": 0}
        assert found["child"] == {"text": "True"}  # started through the shim: guarded


def test_python_token_does_not_grant_an_unguarded_interpreter(attack_env: Env, tmp_path: Path,
                                                             capfd: pytest.CaptureFixture[str]) -> None:
    program = f"import subprocess; subprocess.run([{str(attack_env.python)!r}, '-c', 'pass'])"
    code, _out, err, _logged = _run(attack_env, capfd, tmp_path, "[app]\nexec = ['$PYTHON']\n", program)
    assert code == 1
    assert f"may not run {attack_env.python} " in err


def test_learn_writes_the_python_token_not_the_shim_path(attack_env: Env, tmp_path: Path,
                                                         capfd: pytest.CaptureFixture[str]) -> None:
    from chainwarden.guard.baseline import render_baseline, scan_pth

    baseline = tmp_path / "all.toml"
    baseline.write_text(render_baseline(scan_pth(attack_env.site)))  # let the evilllm payload run and spawn
    policy = tmp_path / "learned.toml"
    code, out, _err = attack_env.run(capfd, "--mode", "learn", "--policy", str(policy), "--baseline", str(baseline),
                                     program=["-c", "pass"])
    assert code == 0
    assert reports(out)["payload"]["spawn"] == "ok"
    assert "chainwarden-guard-" not in policy.read_text()
    learned = load_policy_file(policy)
    assert "$PYTHON" in learned.packages["evilllm"].exec


def test_an_unsupported_target_interpreter_is_an_error_not_a_run(tmp_path: Path) -> None:
    """Python 3.10 has no audit-hook features the guard needs: exit 2 (error), the program never runs."""
    old = sorted(Path.home().glob(".pyenv/versions/3.10.*/bin/python3.10")) or [
        Path(p) for p in [shutil.which("python3.10")] if p
    ]
    if not old:
        pytest.skip("no Python 3.10 on this machine")
    marker = tmp_path / "ran"
    done = subprocess.run(
        [sys.executable, "-m", "chainwarden", "run", "--mode", "monitor", "--",
         str(old[-1]), "-c", f"open({str(marker)!r}, 'w').close()"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "must be Python 3.11 or newer" in done.stderr
    assert not marker.exists()
