"""Index signals over recorded real index responses (tests/fixtures/index, see its README)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from chainwarden.provenance.index import IndexDataError, ProjectInfo, parse_pypi_json, parse_simple_json
from chainwarden.provenance.signals import (
    check_dependency_confusion,
    check_file_present,
    check_owners,
    check_release,
    check_typosquat,
    popular_names,
    typosquat_target,
)

INDEX = Path(__file__).resolve().parents[1] / "fixtures" / "index"


def _pypi(name: str) -> ProjectInfo:
    return parse_pypi_json((INDEX / f"{name}.json").read_bytes())


def _simple(name: str) -> ProjectInfo:
    return parse_simple_json((INDEX / f"simple-{name}.json").read_bytes())


def _rules(findings: list) -> list[str]:
    return [f.rule_id for f in findings]


def test_pypi_json_parses_real_litellm() -> None:
    project = _pypi("litellm")
    assert project.name == "litellm"
    assert "1.82.6" in project.versions()
    files = {f.filename for f in project.release("1.82.6")}
    assert {"litellm-1.82.6.tar.gz", "litellm-1.82.6-py3-none-any.whl"} <= files
    assert ("Repository", "https://github.com/BerriAI/litellm") in project.project_urls
    assert project.first_upload("1.82.6") == dt.datetime(2026, 3, 22, 6, 35, 56, 795579, tzinfo=dt.UTC)


def test_simple_json_parses_real_litellm_with_upload_times() -> None:
    project = _simple("litellm")
    wheel = next(f for f in project.release("1.82.6") if f.is_wheel)
    assert wheel.upload_time is not None
    assert len(wheel.sha256) == 64


def test_deleted_litellm_releases_are_vanished_never_clean() -> None:
    """litellm 1.82.7 and 1.82.8 were deleted after the compromise: the real index no longer has them."""
    for project in (_pypi("litellm"), _simple("litellm")):
        for version in ("1.82.7", "1.82.8"):
            findings = check_release(project, version, f"litellm {version}")
            assert _rules(findings) == ["CW528"], (project, version)
            assert "not on the index" in findings[0].message
        assert check_release(project, "1.82.6", "litellm 1.82.6") == []


def test_pinned_file_gone_or_rehashed() -> None:
    project = _pypi("litellm")
    wheel = next(f for f in project.release("1.82.6") if f.is_wheel)
    assert check_file_present(project, "1.82.6", wheel.filename, wheel.sha256, "x") == []
    assert _rules(check_file_present(project, "1.82.8", "litellm-1.82.8-py3-none-any.whl", "", "x")) == ["CW528"]
    swapped = check_file_present(project, "1.82.6", wheel.filename, "0" * 64, "x")
    assert _rules(swapped) == ["CW528"]
    assert swapped[0].severity.label == "critical"


def test_real_yanked_requests_release() -> None:
    project = _pypi("requests")
    findings = check_release(project, "2.32.0", "requests 2.32.0")
    assert set(_rules(findings)) == {"CW029"}
    assert len(findings) == 2
    assert check_release(project, "2.32.0", "x", include_yanked=False) == []
    assert check_release(project, "2.32.3", "requests 2.32.3") == []


def test_late_wheel_added_to_an_old_release() -> None:
    project = _pypi("requests")
    old = project.release("2.31.0")
    late = dataclasses.replace(
        old[0],
        filename="requests-2.31.0-1-py3-none-any.whl",
        packagetype="bdist_wheel",
        upload_time=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
    )
    tampered = dataclasses.replace(project, files=(*project.files, late))
    findings = check_release(tampered, "2.31.0", "requests 2.31.0")
    assert _rules(findings) == ["CW522"]
    assert "requests-2.31.0-1-py3-none-any.whl was uploaded 1013 days after" in findings[0].message


def test_dormant_project_release() -> None:
    project = _pypi("requests")
    versions = project.versions()
    last = versions[-1]
    shifted = tuple(
        dataclasses.replace(f, upload_time=f.upload_time + dt.timedelta(days=900))
        if f.version == last and f.upload_time
        else f
        for f in project.files
    )
    gap_before = project.first_upload(last) - project.first_upload(versions[-2])  # type: ignore[operator]
    findings = check_release(dataclasses.replace(project, files=shifted), last, "requests")
    assert _rules(findings) == ["CW523"]
    assert gap_before < dt.timedelta(days=730)  # the real release cadence is not dormant
    assert check_release(project, last, "requests") == []


@pytest.mark.parametrize(("status", "rule"), [("quarantined", "CW526"), ("archived", "CW527"), ("deprecated", "CW527")])
def test_project_status_pep_792(status: str, rule: str) -> None:
    doc = json.loads((INDEX / "simple-requests.json").read_bytes())
    doc["project-status"] = {"status": status, "reason": "under review"}
    project = parse_simple_json(json.dumps(doc))
    findings = check_release(project, "2.32.3", "requests")
    assert _rules(findings) == [rule]
    assert "under review" in findings[0].message


def test_owner_change() -> None:
    owners = _pypi("requests").owners
    assert "nateprewitt" in owners
    assert check_owners(owners, owners, "x") == []
    changed = check_owners(owners, (*owners, "newcomer"), "x")
    assert _rules(changed) == ["CW524"]
    assert "added newcomer" in changed[0].message
    assert check_owners((), owners, "x") == []  # nothing pinned: nothing to compare


def test_dependency_confusion() -> None:
    public = _pypi("requests")
    assert _rules(check_dependency_confusion("Requests", ["requests", "acme-internal"], public, "x")) == ["CW521"]
    assert check_dependency_confusion("acme-internal", ["acme-internal"], None, "x") == []
    assert check_dependency_confusion("requests", ["acme-internal"], public, "x") == []


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("reqeusts", "requests"),
        ("requets", "requests"),
        ("litelm", "litellm"),
        ("lite-llm", "litellm"),
        ("1itellm", "litellm"),
        ("urllib4", "urllib3"),
    ],
)
def test_typosquats(name: str, target: str) -> None:
    assert typosquat_target(name) == target
    findings = check_typosquat(name, name)
    assert _rules(findings) == ["CW520"]
    assert f"`{target}`" in findings[0].message


@pytest.mark.parametrize(
    "name", ["requests", "request", "litellm", "numpy", "my-private-thing", "six", "openai-agents"]
)
def test_not_typosquats(name: str) -> None:
    assert typosquat_target(name) == ""


def test_popular_list_is_bundled_and_ordered() -> None:
    names = popular_names()
    assert len(names) > 4000
    assert names.index("requests") < names.index("litellm")


@pytest.mark.parametrize("payload", [b"nope", b"[]", b'{"info": {}}', b'{"info": {"name": "x"}, "releases": []}'])
def test_malformed_index_documents(payload: bytes) -> None:
    with pytest.raises(IndexDataError):
        parse_pypi_json(payload)
    with pytest.raises(IndexDataError):
        parse_simple_json(payload)


def test_broken_file_entries_are_counted_not_fatal() -> None:
    doc = {
        "info": {"name": "x"},
        "releases": {"1.0": [{"filename": 3}, {"filename": "x-1.0.tar.gz", "upload_time": "garbage"}], "2.0": []},
    }
    project = parse_pypi_json(json.dumps(doc))
    assert project.skipped == 1
    assert project.versions() == ["1.0"]
    assert project.empty_versions == ("2.0",)
    assert "listed with no files" in check_release(project, "2.0", "x")[0].message
