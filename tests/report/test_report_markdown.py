"""The Markdown summary: PR-comment friendly, escaped as GitHub renders it, capped in length.

Rendering goes through cmarkgfm (GitHub's fork of cmark) with raw HTML allowed, so a hostile
string that became a tag, a link or a broken table would show up in the HTML checked here.
"""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser
from pathlib import Path

import cmarkgfm
from cmarkgfm.cmark import Options
from report_builders import SCRIPT_FILE, empty, finding, hostile, sample, verdict_for, wheel_result

from chainwarden.models import ArtifactKind, ArtifactRef, ArtifactResult, ScanReport, Severity, Unscanned
from chainwarden.policy import Ignore
from chainwarden.report import markdown, render

SNAPSHOTS = Path(__file__).parent / "snapshots"
#: Tags cmark produces from Markdown, plus the two our report writes as raw HTML.
ALLOWED_TAGS = {"h2", "h3", "p", "strong", "em", "table", "thead", "tbody", "tr", "th", "td", "code", "pre",
                "ul", "li", "blockquote", "details", "summary"}


class Inspector(HTMLParser):
    """Collects tags, table rows and text that is not inside code."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.rows: list[int] = []
        self.prose: list[str] = []
        self.code: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [a for a in attrs if a[0] != "lang"]  # cmark's <pre lang="text">
        if tag == "tr":
            self.rows.append(0)
        if tag in ("td", "th"):
            self.rows[-1] += 1
        if tag in ("code", "pre"):
            self._depth += 1

    def handle_endtag(self, tag):
        if tag in ("code", "pre"):
            self._depth -= 1

    def handle_data(self, data):
        (self.code if self._depth else self.prose).append(data)


def as_github(text: str) -> Inspector:
    html = cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE)
    inspector = Inspector()
    inspector.feed(html)
    return inspector


def md(report: ScanReport, **kwargs) -> str:
    return render(report, verdict_for(report, **kwargs), "markdown")


def test_snapshot():
    ignore = Ignore("CW101", "reviewed in SEC-1", dt.date(2027, 1, 31))
    # Regenerate after an intended change: write md(sample(), ignores=(ignore,)) to the file and review the diff.
    assert md(sample(), ignores=(ignore,)) == (SNAPSHOTS / "sample.md").read_text(encoding="utf-8")


def test_renders_as_intended_on_github():
    page = as_github(md(sample()))
    assert set(page.tags) <= ALLOWED_TAGS
    assert page.attrs == []
    assert page.tags.count("details") == 4
    assert set(page.rows) == {5, 6}  # package table and findings table, no broken rows


def test_hostile_strings_stay_text():
    text = md(hostile())
    page = as_github(text)
    assert set(page.tags) <= ALLOWED_TAGS, page.tags  # no <script>, <img>, no autolinked <a>
    assert page.attrs == []
    prose = "".join(page.prose)
    assert "@" not in prose  # a mention would ping someone; inside code it does not
    assert "://" not in prose
    assert "\x1b" not in text
    assert "\u202e" not in text
    code = "".join(page.code)
    assert f"{SCRIPT_FILE}:1" in code
    assert "\\x1b[2J" in code
    assert set(page.rows) == {5, 6}


def test_capped_with_a_note_and_keeps_unscanned_and_errors():
    findings = tuple(finding(path=f"pkg/m{n}.py", line=n + 1, snippet="x = 1\n" * 50) for n in range(300))
    unscanned = (Unscanned("evilpkg", "big.bin", "larger than the limit"),)
    report = ScanReport("0.1.0", "", (wheel_result(findings, unscanned=unscanned),), errors=("boom",))
    text = markdown.render(report, verdict_for(report), max_chars=8000)
    assert len(text) <= 8000
    assert "Truncated:" in text
    assert "of 300 findings" in text
    assert "`big.bin`" in text
    assert "`boom`" in text
    full = markdown.render(report, verdict_for(report))
    assert len(full) <= markdown.MAX_CHARS
    assert "Truncated:" in full
    assert set(as_github(text).tags) <= ALLOWED_TAGS


def test_not_truncated_when_it_fits():
    assert "Truncated" not in md(sample())


def test_empty_report():
    text = md(empty())
    assert text.startswith("## chainwarden: ✅ passed")
    assert "Nothing was scanned." in text


def test_backticks_in_names_cannot_close_the_code_span():
    result = ArtifactResult(ArtifactRef(ArtifactKind.WHEEL, "/x.whl", "x.whl"), None, (finding(path="a``b`c.py", severity=Severity.LOW),))
    page = as_github(md(ScanReport("0.1.0", "", (result,))))
    assert "a``b`c.py:1" in "".join(page.code)
