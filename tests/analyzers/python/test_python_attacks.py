"""Packages in the shape of each real attack are blocked with evidence; their clean versions are not."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from pyscan_helpers import scan

from chainwarden.models import Severity, Trigger
from support.attack_shapes import ATTACKS

if TYPE_CHECKING:
    from pathlib import Path

BLOCK = Severity.HIGH  # the default policy threshold


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_is_blocked_with_evidence(tmp_path: Path, attack: str) -> None:
    malicious, _, rule_id = ATTACKS[attack]
    findings = scan(malicious(tmp_path / "bad"), tmp_path)
    blocking = [f for f in findings if f.severity >= BLOCK]
    assert blocking, findings
    hit = next(f for f in blocking if f.rule_id == rule_id)
    assert hit.trigger in {Trigger.IMPORT, Trigger.INSTALL, Trigger.INTERPRETER_START}
    assert hit.location.path
    assert hit.location.line
    assert hit.capabilities
    detail = dict(hit.evidence.detail)
    assert detail["trigger"] == hit.trigger.value
    assert detail["how it runs"]


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_clean_version_is_not_blocked(tmp_path: Path, attack: str) -> None:
    _, clean, _ = ATTACKS[attack]
    findings = scan(clean(tmp_path / "good"), tmp_path)
    assert not [f for f in findings if f.severity >= BLOCK], findings


def test_litellm_1_82_8_shows_the_decoding_chain_at_interpreter_start(tmp_path: Path) -> None:
    malicious, _, _ = ATTACKS["litellm-1.82.8"]
    findings = scan(malicious(tmp_path / "bad"), tmp_path)
    decode = [f for f in findings if f.rule_id == "CW201"]
    assert decode
    assert all(f.trigger is Trigger.INTERPRETER_START for f in decode)
    assert max(f.severity for f in decode) is Severity.CRITICAL
    methods = max((tuple(s.method for s in f.evidence.decoded) for f in findings), key=len)
    assert methods[:2] == ("base64", "base64")
    child = next(f for f in findings if f.rule_id == "CW204")
    assert child.severity is Severity.CRITICAL
    assert child.location.path == "litellm_init.pth"
    exfil = next(f for f in findings if f.rule_id == "CW203")
    assert "secrets" in exfil.capabilities
    assert "network" in exfil.capabilities


def test_litellm_1_82_7_runs_at_import_of_the_submodule(tmp_path: Path) -> None:
    malicious, _, _ = ATTACKS["litellm-1.82.7"]
    findings = scan(malicious(tmp_path / "bad"), tmp_path)
    hit = next(f for f in findings if f.rule_id == "CW201")
    assert hit.location.path == "litellm/proxy/proxy_server.py"
    assert hit.trigger is Trigger.IMPORT
    assert hit.evidence.decoded[0].method == "base64"
    assert "import os, subprocess" in hit.evidence.decoded[0].preview


def test_pth_import_reaches_the_payload_module(tmp_path: Path) -> None:
    malicious, _, _ = ATTACKS["pth-import-boot"]
    findings = scan(malicious(tmp_path / "bad"), tmp_path)
    hit = next(f for f in findings if f.rule_id == "CW203")
    assert hit.location.path == "pkg_boot.py"
    assert hit.trigger is Trigger.INTERPRETER_START
    assert "zz_pkg.pth" in dict(hit.evidence.detail)["how it runs"]


def test_lightning_thread_and_runtime(tmp_path: Path) -> None:
    malicious, _, _ = ATTACKS["lightning-runtime"]
    findings = scan(malicious(tmp_path / "bad"), tmp_path)
    rules = {f.rule_id: f for f in findings}
    assert rules["CW208"].location.path == "lightning/__init__.py"
    assert "thread" in dict(rules["CW208"].evidence.detail)["how it runs"]
    assert rules["CW202"].location.path == "lightning/_runtime/start.py"
    assert "CW209" in rules


def test_setup_stealer_is_an_install_trigger(tmp_path: Path) -> None:
    malicious, _, _ = ATTACKS["setup-stealer"]
    findings = scan(malicious(tmp_path / "bad"), tmp_path)
    hit = next(f for f in findings if f.rule_id == "CW203")
    assert hit.trigger is Trigger.INSTALL
    assert hit.location.path.endswith("setup.py")
    assert any(f.rule_id == "CW216" for f in findings)
