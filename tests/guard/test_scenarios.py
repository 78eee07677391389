"""The issue's done-when scenarios: a litellm-style `.pth` payload run through `chainwarden run`."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import pytest
from guardkit import Env, Listener, events, reports, write

if TYPE_CHECKING:
    from pathlib import Path

POLICY = """
[packages.evilllm]
exec = ["python"]
"""


def _approve_all(env: Env, tmp_path: Path) -> Path:
    from chainwarden.guard.baseline import render_baseline, scan_pth

    baseline = tmp_path / "all.toml"
    baseline.write_text(render_baseline(scan_pth(env.site)))
    return baseline


def test_unapproved_pth_is_refused_while_setuptools_pth_runs(target_env: Env, listener: Listener, tmp_path: Path,
                                                            capfd: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log.jsonl"
    code, out, err = target_env.run(capfd, "--log", str(log), "--baseline", str(target_env.baseline),
                                    program=["-c", "print('CWREPORT app {}')"])
    assert code == 0
    found = reports(out)
    assert found["setuptools"] == {"pth": "ran"}
    assert "app" in found
    assert "payload" not in found  # the litellm-style line never ran
    assert "evilllm_init.pth" in err
    assert "not in the approved .pth baseline" in err
    refused = [e for e in events(log) if e["event"] == "site.pth" and e["decision"] == "refused"]
    assert refused
    assert {e["package"] for e in refused} == {"evilllm"}  # 3.11 runs a venv's .pth files twice, as without the guard
    assert {e["line"] for e in refused} == {1}  # as site counts (3.13 numbers lines from 1 itself)
    assert listener.accepted == []


def test_approved_pth_payload_is_blocked_and_attributed(target_env: Env, listener: Listener, tmp_path: Path,
                                                       capfd: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log.jsonl"
    policy = write(tmp_path / "policy.toml", POLICY)
    code, out, _err = target_env.run(capfd, "--policy", str(policy), "--log", str(log), "--baseline",
                                     str(_approve_all(target_env, tmp_path)), program=["-c", "pass"])
    assert code == 0
    found = reports(out)
    assert found["payload"] == {"read": "blocked", "connect": "blocked", "exec_b64": "blocked", "spawn": "ok"}
    # the payload's `sys.executable -c` child is guarded and its actions attributed to evilllm
    assert found["child"] == {"read": "blocked", "connect": "blocked", "exec_b64": "blocked"}
    assert listener.accepted == []
    denied = [e for e in events(log) if e["decision"] == "denied"]
    pids = {e["pid"] for e in denied}
    assert len(pids) == 2  # the parent and its guarded child
    assert {e["package"] for e in denied} == {"evilllm"}
    caps = {(e["capability"], e["event"]) for e in denied}
    assert ("read", "open") in caps
    assert ("net", "socket.getaddrinfo") in caps
    assert ("dynamic_code", "compile") in caps
    assert ("exec", "os.system") in caps  # from the thread evilllm started
    read = next(e for e in denied if e["capability"] == "read")
    assert str(read["target"]).endswith("/.ssh/id_rsa")
    assert 'fs.read = ["' in str(read["policy_line"])
    spawn = next(e for e in events(log) if e["event"] == "subprocess.Popen")
    assert spawn["child"] == "guarded"
    assert spawn["decision"] == "allowed"


def test_monitor_mode_logs_everything_and_blocks_nothing(target_env: Env, listener: Listener, tmp_path: Path,
                                                        capfd: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log.jsonl"
    code, out, _err = target_env.run(capfd, "--mode", "monitor", "--log", str(log), program=["-c", "pass"])
    assert code == 0
    found = reports(out)
    assert found["payload"] == {"read": "ok", "connect": "ok", "exec_b64": "ok", "spawn": "ok"}
    assert found["child"] == {"read": "ok", "connect": "ok", "exec_b64": "ok"}
    assert len(listener.accepted) == 2
    logged = events(log)
    would = {(e["capability"], e["package"]) for e in logged if e["decision"] == "would-deny"}
    assert {("read", "evilllm"), ("net", "evilllm"), ("dynamic_code", "evilllm"), ("exec", "evilllm")} <= would
    assert {e["target"].rsplit("/", 1)[-1] for e in logged if e["event"] == "site.pth"} == {
        "distutils-precedence.pth", "evilllm_init.pth"}
    assert any(e["event"] == "socket.connect" and e["target"].startswith("127.0.0.2:") for e in logged)


def test_malformed_policy_refuses_to_start(attack_env: Env, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    policy = write(tmp_path / "bad.toml", """
    [packages.evilllm]
    net = "everything"
    fs.raed = ["/tmp"]
    [packages.other]
    net = ["example.com:http"]
    """)
    code, out, err = attack_env.run(capfd, "--policy", str(policy), program=["-c", "print('CWREPORT app {}')"])
    assert code == 2
    assert "app" not in reports(out)
    assert "will not start" in err
    assert "net: expected a list" in err
    assert "unknown key 'raed'" in err
    assert "bad port" in err


def test_policy_granting_nothing_still_runs_app_code(attack_env: Env, tmp_path: Path,
                                                     capfd: pytest.CaptureFixture[str]) -> None:
    policy = write(tmp_path / "empty.toml", "version = 1\n[packages.not-installed-anywhere]\n")
    code, out, _err = attack_env.run(capfd, "--policy", str(policy), "--baseline", str(attack_env.baseline),
                                     program=["-c", ("import os; open(os.path.expanduser('~/.ssh/id_rsa')).read(); "
                                              "print('CWREPORT app {}')")])
    assert code == 0
    assert "app" in reports(out)  # the application's own code is trusted by default


def test_codegen_at_import_needs_no_grant_but_decoded_exec_does(target_env: Env, tmp_path: Path,
                                                                capfd: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log.jsonl"
    code, out, _err = target_env.run(
        capfd, "--log", str(log), "--baseline", str(target_env.baseline),
        program=["-c", "import json, codegen_pkg; print('CWREPORT codegen ' + json.dumps({'r': codegen_pkg.decoded()}))"])
    assert code == 0
    assert reports(out)["codegen"] == {"r": "blocked"}
    dyn = [e for e in events(log) if e["capability"] == "dynamic_code"]
    assert [e["package"] for e in dyn] == ["codegen-pkg"]  # only the exec(b64decode(...))
    assert dyn[0]["target"] == "x=1"


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_multiprocessing_child_is_guarded_and_keeps_site(target_env: Env, method: str, tmp_path: Path,
                                                        capfd: pytest.CaptureFixture[str]) -> None:
    app = write(tmp_path / "mpapp.py", f"""
    import multiprocessing, mpdemo
    if __name__ == "__main__":
        p = multiprocessing.get_context({method!r}).Process(target=mpdemo.work)
        p.start()
        p.join()
    """)
    code, out, _err = target_env.run(capfd, "--baseline", str(target_env.baseline), program=[str(app)])
    assert code == 0
    assert reports(out)["mp"] == {"text": "blocked no_site=0 guarded=True"}


def test_script_arguments_options_and_exit_status_pass_through(target_env: Env, tmp_path: Path,
                                                               capfd: pytest.CaptureFixture[str]) -> None:
    app = write(tmp_path / "script.py", """
    import json, subprocess, sys
    child = ("import json, sys; print('CWREPORT child ' + json.dumps({'B': sys.flags.dont_write_bytecode, "
             "'guarded': '_cw_guard' in sys.modules, 'no_site': sys.flags.no_site}), flush=True)")
    subprocess.run([sys.executable, "-B", "-c", child], check=True)
    print("CWREPORT script " + json.dumps({"argv": sys.argv[1:], "main": __name__, "u": sys.stdout.write_through}),
          flush=True)
    sys.exit(3)
    """)
    code, out, _err = target_env.run(capfd, "--baseline", str(target_env.baseline),
                                     program=["-u", str(app), "a", "--b"])
    assert code == 3
    found = reports(out)
    assert found["script"] == {"argv": ["a", "--b"], "main": "__main__", "u": True}
    assert found["child"] == {"B": 1, "guarded": True, "no_site": 0}  # options re-applied, site kept


FLAGS = ("import json, sys; print('CWREPORT flags ' + json.dumps({'repr': repr(sys.flags), 'len': len(sys.flags), "
         "'match': list(type(sys.flags).__match_args__), 'fields': {n: getattr(sys.flags, n) for n in dir(sys.flags) "
         "if not n.startswith('_') and n not in ('count', 'index')}}), flush=True)")


def test_sys_flags_mirror_an_unguarded_run(target_env: Env, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    # the guard starts the interpreter with -S and replaces sys.flags: every field (3.13's `gil` lies outside
    # the tuple) must read as it would have without the guard
    plain = subprocess.run([str(target_env.python), "-X", "dev", "-c", FLAGS], capture_output=True, text=True,
                           check=True)
    code, out, _err = target_env.run(capfd, "--baseline", str(target_env.baseline), program=["-X", "dev", "-c", FLAGS])
    assert code == 0
    expected = reports(plain.stdout)["flags"]
    assert expected["fields"]["dev_mode"] is True
    assert reports(out)["flags"] == expected


def test_frozen_modules_load_but_a_package_unmarshalling_its_own_bytes_is_refused(
        target_env: Env, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    # 3.13 unmarshals frozen modules (site, os, runpy...) at import; only FrozenImporter loading them is exempt
    log = tmp_path / "log.jsonl"
    code, out, err = target_env.run(capfd, "--log", str(log), "--baseline", str(target_env.baseline),
                                    program=["-c", "import marshaler, runpy, importlib.util; marshaler.run()"])
    assert code == 0, err
    assert reports(out)["marshal"] == {"frozen_get_code": "ok", "own": "blocked", "frames_removed": "blocked",
                                       "patched_imp_exec": "blocked", "fake_imp_exec": "blocked",
                                       "patched_imp_get_code": "blocked"}
    denied = [e for e in events(log) if e["decision"] == "denied"]
    assert {(e["package"], e["event"]) for e in denied} == {("marshaler", "marshal.loads")}
    assert len(denied) == 5


@pytest.mark.parametrize("app_imports_it", [False, True])
def test_package_cannot_escape_into_a_subinterpreter(target_env: Env, app_imports_it: bool, tmp_path: Path,
                                                     capfd: pytest.CaptureFixture[str]) -> None:
    # Audit hooks are per interpreter, so a subinterpreter runs unseen. Loading the modules that create
    # them is refused to packages; 3.11/3.12 also announce each new interpreter (refused), 3.13 does not.
    modern = target_env.site.parent.name not in ("python3.11", "python3.12")
    if app_imports_it and modern:
        pytest.skip("3.13 raises no event when an already imported _interpreters creates one (documented)")
    log = tmp_path / "log.jsonl"
    preload = f"import {'_interpreters' if modern else '_xxsubinterpreters'}; " if app_imports_it else ""
    code, out, err = target_env.run(capfd, "--log", str(log), "--baseline", str(target_env.baseline),
                                    program=["-c", preload + "import subinterp; subinterp.run()"])
    if code != 0 and app_imports_it and target_env.site.parent.name == "python3.12":
        # CPython 3.12.1 crashes (SIGSEGV) when the creation event is refused: the program stops, nothing escapes
        assert "subinterp" not in reports(out)
    else:
        assert code == 0, err
        assert reports(out)["subinterp"] == {"stage": "create" if app_imports_it else "import", "result": "blocked"}
    denied = [e for e in events(log) if e["decision"] == "denied"]
    assert [(e["package"], e["capability"], e["target"]) for e in denied] == [("subinterp", "native", "<subinterpreter>")]
    assert denied[0]["policy_line"] == '[packages.subinterp] native = ["<subinterpreter>"]'
