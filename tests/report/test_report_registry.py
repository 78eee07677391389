"""The format registry: every registered format renders every kind of report."""

from __future__ import annotations

import pytest
from report_builders import empty, finding, hostile, sample, verdict_for, wheel_result

from chainwarden.models import ScanReport, Severity, Trigger
from chainwarden.report import FORMATS, _registry, render

MINE = ("terminal", "json", "sarif", "markdown", "html")


def test_formats_match_the_registry():
    assert set(FORMATS) == set(_registry())
    assert len(FORMATS) == len(set(FORMATS))
    assert set(MINE) <= set(FORMATS)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("build", [sample, empty], ids=["sample", "empty"])
def test_every_format_renders(fmt, build):
    report = build()
    text = render(report, verdict_for(report), fmt)
    assert isinstance(text, str)
    assert text.endswith("\n")


# TODO: walk every format once cyclonedx accepts undecodable bytes (lone surrogates) in paths.
@pytest.mark.parametrize("fmt", MINE)
def test_hostile_report_renders_as_utf8(fmt):
    text = render(hostile(), verdict_for(hostile()), fmt)
    text.encode("utf-8")  # no lone surrogates reach the output


@pytest.mark.parametrize("fmt", MINE)
def test_every_severity_and_trigger(fmt):
    findings = tuple(
        finding(severity=s, trigger=t, path=f"m{s.value}{n}.py") for s in Severity for n, t in enumerate(Trigger)
    )
    report = ScanReport("0.1.0", "", (wheel_result(findings),))
    text = render(report, verdict_for(report), fmt)
    for sev in Severity:
        assert sev.label in text.lower()


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown format 'pdf'"):
        render(empty(), verdict_for(empty()), "pdf")
