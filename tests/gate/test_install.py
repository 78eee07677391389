"""`chainwarden install` through the gate, against a loopback index (issue: install gate)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from pathlib import Path

from chainwarden.cli import main
from chainwarden.cli.common import IO
from chainwarden.gate.config import GatePolicy
from chainwarden.gate.decisions import decide_listing
from chainwarden.index_client import IndexFile
from gate.conftest import GateWorld, installed, uninstall


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), IO(out, err))
    return code, out.getvalue(), err.getvalue()


def _install(world: GateWorld, python: str, cache: Path, *extra: str) -> tuple[int, str, str]:
    return _run("install", "--index-url", world.server.simple_url, "--python", python, "--cache-dir", str(cache), *extra)


def test_cooldown_picks_previous_release_of_transitive_dependency(
    gate_world: GateWorld, target_python: str, tmp_path: Path
) -> None:
    code, out, err = _install(gate_world, target_python, tmp_path, "app")
    try:
        assert code == 0, err
        assert installed(target_python)["quietllm"] == "1.0"
        assert "quietllm-1.1-py3-none-any.whl" in err  # said why it was skipped
        assert "minimum release age" in err
        # The installed files are exactly the scanned ones: the checked hash is the index file's hash.
        want = hashlib.sha256(gate_world.files["old"].read_bytes()).hexdigest()
        assert f"sha256:{want}" in out
        site = Path(target_python).parent.parent / "lib"
        assert not list(site.glob("python*/site-packages/quietllm_init.pth"))
        # the runtime guard's baseline records the environment's approved .pth files
        baseline = Path(target_python).parent.parent / "chainwarden-pth-baseline.toml"
        assert "approved .pth baseline" in out
        present = sorted(p.name for p in site.glob("python*/site-packages/*.pth"))  # setuptools' on 3.11
        approved = baseline.read_text()
        assert approved.count("name = ") == len(present)
        for name in present:
            assert f'name = "{name}"' in approved
    finally:
        uninstall(target_python, "app", "quietllm")


def test_without_cooldown_the_scan_refuses_the_malicious_release(
    gate_world: GateWorld, target_python: str, tmp_path: Path
) -> None:
    code, out, err = _install(gate_world, target_python, tmp_path, "--min-release-age", "0", "quietllm==1.1")
    assert code == 1, out + err
    assert "quietllm-1.1-py3-none-any.whl" in err
    assert "blocked by scan" in err
    assert "quietllm_init.pth" in err
    assert "quietllm" not in installed(target_python)


def test_without_cooldown_unpinned_resolution_falls_back_to_a_passing_release(
    gate_world: GateWorld, target_python: str, tmp_path: Path
) -> None:
    code, _, err = _install(gate_world, target_python, tmp_path, "--min-release-age", "0", "app")
    try:
        assert code == 0, err
        assert installed(target_python)["quietllm"] == "1.0"
        assert "blocked by scan" in err
    finally:
        uninstall(target_python, "app", "quietllm")


def test_canary_sdist_never_runs(gate_world: GateWorld, target_python: str, tmp_path: Path) -> None:
    code, _, err = _install(gate_world, target_python, tmp_path, "canary")
    assert code == 1, err
    assert "sdists run their build backend" in err
    assert not gate_world.marker.exists()


def test_file_without_upload_time_fails_closed(gate_world: GateWorld, target_python: str, tmp_path: Path) -> None:
    code, _, err = _install(gate_world, target_python, tmp_path, "undated")
    assert code == 1
    assert "no upload time" in err
    assert "undated" not in installed(target_python)


def test_decide_listing_reasons() -> None:
    now = dt.datetime(2026, 3, 24, 12, 0, tzinfo=dt.UTC)
    young = IndexFile("litellm", "litellm-1.82.8-py3-none-any.whl", "u", (("sha256", "0" * 64),), upload_time="2026-03-24T10:52:00Z")
    assert "minimum release age" in decide_listing(young, GatePolicy(), now).reason
    assert decide_listing(young, GatePolicy(min_release_age=0), now).allowed
    denied = GatePolicy(min_release_age=0, deny=())
    malicious = decide_listing(young, denied, now, advisories=lambda n, v: "MAL-2026-2144" if v == "1.82.8" else None)
    assert malicious.reason == "known malicious: MAL-2026-2144"
    exempt = GatePolicy(min_release_age_exempt=frozenset({"litellm"}))
    assert decide_listing(young, exempt, now).allowed
