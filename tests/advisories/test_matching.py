"""OSV version-matching semantics, on hand-written records and on the real fixture records."""

from __future__ import annotations

import pytest

from chainwarden.advisories.cvss import cvss3_base_score
from chainwarden.advisories.matching import affected_versions, match
from chainwarden.advisories.merge import merge
from chainwarden.advisories.model import AdvisoryFormatError, parse_advisory
from chainwarden.models import Severity


def record(events=None, versions=None, *, rtype="ECOSYSTEM", name="demo", **extra):
    affected = {"package": {"ecosystem": "PyPI", "name": name}}
    if events is not None:
        affected["ranges"] = [{"type": rtype, "events": events}]
    if versions is not None:
        affected["versions"] = versions
    return parse_advisory({"id": "PYSEC-0000-1", "modified": "2024-01-01T00:00:00Z", "affected": [affected], **extra})


@pytest.mark.parametrize(
    ("version", "hit"),
    [("0.9", False), ("1.0", True), ("1.5", True), ("2.0", False), ("2.0rc1", True), ("3.0", True), ("3.1", False)],
)
def test_introduced_fixed_pairs(version, hit):
    adv = record([{"introduced": "1.0"}, {"fixed": "2.0"}, {"introduced": "3.0"}, {"fixed": "3.1"}])
    assert (match(adv, "demo", version) is not None) is hit


def test_fixed_versions_listed_above_the_installed_one():
    adv = record([{"introduced": "0"}, {"fixed": "1.2"}, {"introduced": "2.0"}, {"fixed": "2.3"}])
    found = match(adv, "Demo", "1.0")
    assert found is not None
    assert found.fixed == ("1.2", "2.3")


def test_last_affected_is_inclusive():
    adv = record([{"introduced": "0"}, {"last_affected": "1.4"}])
    assert match(adv, "demo", "1.4") is not None
    assert match(adv, "demo", "1.4.1") is None


def test_limit_caps_the_range():
    adv = record([{"introduced": "1.0"}, {"limit": "1.5"}])
    assert match(adv, "demo", "1.4") is not None
    assert match(adv, "demo", "1.5") is None


def test_introduced_zero_includes_pre_releases_of_zero():
    # PEP 440 sorts 0.0.0b0 below "0"; OSV's "0" means "from the very first version".
    adv = record([{"introduced": "0"}, {"fixed": "1.0"}])
    assert match(adv, "demo", "0.0.0b0") is not None
    assert match(adv, "demo", "0.dev1") is not None


def test_limit_star_is_no_limit():
    adv = record([{"introduced": "1.0"}, {"limit": "*"}])
    assert match(adv, "demo", "99") is not None


def test_versions_list_alone_matches_exactly():
    adv = record(versions=["1.82.7", "1.82.8"])
    assert match(adv, "demo", "1.82.8") is not None
    assert match(adv, "demo", "1.82.6") is None


def test_versions_list_and_ranges_are_a_union():
    adv = record([{"introduced": "2.0"}, {"fixed": "2.1"}], versions=["1.0"])
    assert match(adv, "demo", "1.0") is not None
    assert match(adv, "demo", "2.0") is not None
    assert match(adv, "demo", "1.5") is None


def test_withdrawn_never_matches():
    adv = record([{"introduced": "0"}], versions=["1.0"], withdrawn="2024-02-01T00:00:00Z")
    assert match(adv, "demo", "1.0") is None


def test_git_ranges_are_skipped_not_parsed_as_versions():
    commit = "b42dd4badf803bb9fb71ac34cd9cb0c249262f2c"
    adv = record([{"introduced": "0"}, {"fixed": commit}], rtype="GIT")
    assert match(adv, "demo", "1.0") is None


def test_semver_ranges_are_read_leniently():
    adv = record([{"introduced": "1.0.0-beta"}, {"fixed": "1.2.0"}], rtype="SEMVER")
    assert match(adv, "demo", "1.1.0") is not None
    assert match(adv, "demo", "1.2.0") is None


def test_unparseable_event_makes_the_match_uncertain_not_a_crash():
    adv = record([{"introduced": "0"}, {"fixed": "not a version!"}])
    found = match(adv, "demo", "5.0")
    assert found is not None
    assert found.uncertain


def test_other_package_and_other_ecosystem_do_not_match():
    adv = record(versions=["1.0"])
    assert match(adv, "other", "1.0") is None
    npm = parse_advisory(
        {"id": "X", "affected": [{"package": {"ecosystem": "npm", "name": "demo"}, "versions": ["1.0"]}]}
    )
    assert match(npm, "demo", "1.0") is None


@pytest.mark.parametrize(
    "text", ["1.0.0", "1", "01.2", "0", "0.0", "2.10", "1.0rc1", "1.0.post0", "1!2.0", "1.0+local", "٣.1", "x.y"]
)
def test_canonical_version_fast_path_agrees_with_packaging(text):
    from packaging.utils import canonicalize_version

    from chainwarden.advisories.matching import _canonical, parse_version

    parsed = parse_version(text)
    assert _canonical(text) == (canonicalize_version(parsed) if parsed is not None else text)


def test_name_normalisation():
    adv = record(versions=["1.0"], name="Zope.Interface")
    assert match(adv, "zope-interface", "1.0") is not None


@pytest.mark.parametrize("doc", [[], "x", {"affected": []}, {"id": 3}, {"id": "  "}])
def test_unusable_records_raise_a_format_error(doc):
    with pytest.raises(AdvisoryFormatError):
        parse_advisory(doc)


def test_hostile_field_types_are_dropped():
    adv = parse_advisory(
        {"id": "X", "aliases": "CVE-1", "affected": [1, {"package": 2}, {"package": {"name": "a"}, "ranges": "no"}]}
    )
    assert adv.aliases == ()
    assert len(adv.affected) == 1


def test_real_mal_record_marks_litellm_1_82_8(mal_record):
    adv = parse_advisory(mal_record)
    assert adv.malicious
    assert match(adv, "litellm", "1.82.8") is not None
    assert match(adv, "litellm", "1.82.7") is not None
    assert match(adv, "litellm", "1.82.6") is None
    (merged,) = merge([match(adv, "litellm", "1.82.8")])
    assert merged.severity is Severity.CRITICAL
    assert merged.aliases == ("PYSEC-2026-2",)


def test_real_record_with_git_and_ecosystem_ranges(pysec_records):
    doc = next(r for r in pysec_records if r["id"] == "PYSEC-2021-335")  # AccessControl
    adv = parse_advisory(doc)
    releases = ["3.0", "4.0", "4.1", "4.2", "4.3", "5.0", "5.1", "5.2", "6.0"]
    assert affected_versions(adv, "accesscontrol", releases) == ["4.0", "4.1", "4.2", "5.0", "5.1"]
    assert match(adv, "AccessControl", "5.1").fixed == ("5.2",)


def test_aliases_merge_into_one_problem():
    pysec = parse_advisory(
        {
            "id": "PYSEC-1",
            "aliases": ["CVE-9"],
            "affected": [{"package": {"ecosystem": "PyPI", "name": "d"}, "versions": ["1"]}],
        }
    )
    ghsa = parse_advisory(
        {
            "id": "GHSA-x",
            "aliases": ["CVE-9"],
            "database_specific": {"severity": "CRITICAL"},
            "affected": [{"package": {"ecosystem": "PyPI", "name": "d"}, "versions": ["1"]}],
        }
    )
    other = parse_advisory(
        {"id": "PYSEC-2", "affected": [{"package": {"ecosystem": "PyPI", "name": "d"}, "versions": ["1"]}]}
    )
    merged = merge([match(pysec, "d", "1"), match(ghsa, "d", "1"), match(other, "d", "1")])
    assert len(merged) == 2
    first = merged[0]
    assert first.id == "PYSEC-1"
    assert set(first.aliases) == {"GHSA-x", "CVE-9"}
    assert first.severity is Severity.CRITICAL
    assert merged[1].severity is Severity.HIGH  # no severity in the record: the default


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        ("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
    ],
)
def test_cvss3_base_scores(vector, score):
    assert cvss3_base_score(vector) == score


@pytest.mark.parametrize(
    "vector", ["", "CVSS:2.0/AV:N", "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:3.1/AV:N"]
)
def test_bad_cvss_vectors(vector):
    assert cvss3_base_score(vector) is None


def test_cvss_vector_sets_the_severity():
    adv = record(
        versions=["1"], severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"}]
    )
    assert adv.severity is Severity.MEDIUM
