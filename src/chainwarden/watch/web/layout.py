"""The dashboard's page shell: stylesheet, navigation bar, small HTML helpers.

No scripts at all and one constant stylesheet: the Content-Security-Policy allows that
stylesheet by its hash and nothing else, so even an escaping bug could not run code, restyle
the page with injected `<style>` or load anything from the network.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
from dataclasses import dataclass
from urllib.parse import quote

from chainwarden.report.html import esc

CSS = """
:root{--bg:#f6f8fa;--panel:#fff;--fg:#1b1f24;--muted:#59636e;--line:#d1d9e0;--code:#eff2f5;--nav:#1f2328;
--navfg:#e6edf3;--accent:#0969da;--critical:#8b0000;--high:#cf222e;--medium:#9a6700;--low:#0969da;
--info:#59636e;--ok:#1a7f37;--unknown:#8c959f;--error:#8250df}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--panel:#151b23;--fg:#e6edf3;--muted:#9198a1;
--line:#3d444d;--code:#1f2630;--nav:#010409;--accent:#58a6ff;--critical:#ff7b72;--high:#f85149;
--medium:#d29922;--low:#58a6ff;--info:#9198a1;--ok:#3fb950;--unknown:#6e7681;--error:#a371f7}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;
overflow-wrap:anywhere}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
nav.top{background:var(--nav);color:var(--navfg);display:flex;align-items:center;gap:1.2rem;padding:.55rem 1.5rem;
flex-wrap:wrap}
nav.top .brand{font-weight:700;color:var(--navfg);font-size:1.05rem;letter-spacing:.02em}
nav.top a{color:var(--navfg);opacity:.8;padding:.2rem .1rem;border-bottom:2px solid transparent}
nav.top a.on{opacity:1;border-bottom-color:var(--navfg)}nav.top a:hover{opacity:1;text-decoration:none}
nav.top .spacer{flex:1}
nav.top form{display:flex;gap:.4rem;margin:0}
nav.top input[type=search]{width:15rem;border-radius:6px;border:1px solid #3d444d;background:#0d1117;color:#e6edf3;
padding:.25rem .5rem}
.badge{display:inline-block;min-width:1.3rem;text-align:center;border-radius:999px;background:var(--high);color:#fff;
font-size:.75rem;font-weight:700;padding:0 .35rem;margin-left:.25rem}
main{max-width:78rem;margin:0 auto;padding:1.2rem 1.5rem 3rem}
h1{font-size:1.5rem;margin:.3rem 0 .8rem}
h2{font-size:1.15rem;margin:1.4rem 0 .5rem}h3{font-size:1rem;margin:.9rem 0 .3rem}
.panel{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:.9rem 1.1rem;margin:.8rem 0}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(10rem,1fr));gap:.8rem;margin:.8rem 0}
a.tile{display:block;color:var(--fg)}a.tile:hover{text-decoration:none;border-color:var(--accent)}
.tile{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:.7rem 1rem}
.tile .n{font-size:1.7rem;font-weight:700}.tile .l{color:var(--muted);font-size:.85rem}
.tile.alarm{border-color:var(--high)}.tile.alarm .n{color:var(--high)}
table{border-collapse:collapse;width:100%;background:var(--panel);border:1px solid var(--line);border-radius:8px}
th,td{border-bottom:1px solid var(--line);padding:.35rem .6rem;text-align:left;vertical-align:top}
th{font-size:.8rem;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.03em;white-space:nowrap}
tr:last-child td{border-bottom:none}td.nw,.nw{white-space:nowrap}
td ul{margin:0;padding-left:1rem}
code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
code{background:var(--code);padding:.05rem .3rem;border-radius:4px}
pre{background:var(--code);padding:.6rem .8rem;border-radius:6px;overflow-x:auto;white-space:pre-wrap;margin:.4rem 0}
pre code{background:none;padding:0}
.muted{color:var(--muted)}.empty{color:var(--muted);font-style:italic}
.tag{display:inline-block;border-radius:4px;padding:0 .45rem;font-size:.8rem;font-weight:600;
border:1px solid currentColor;white-space:nowrap}
.sev-critical{color:var(--critical)}.sev-high{color:var(--high)}.sev-medium{color:var(--medium)}
.sev-low{color:var(--low)}.sev-info{color:var(--info)}
.v-blocked,.st-open,.st-blocking{color:var(--high)}.v-allowed,.st-acknowledged{color:var(--ok)}
.v-pending,.st-ignored,.st-reported,.st-suppressed{color:var(--muted)}.v-failed{color:var(--error)}
.risk{display:inline-block;width:.8rem;height:.8rem;border-radius:50%;margin-right:.35rem;vertical-align:-.05rem;
background:var(--unknown)}
.risk.blocked{background:var(--high)}.risk.warn{background:var(--medium)}.risk.clean{background:var(--ok)}
.risk.error{background:var(--error)}.risk.unseen{background:var(--unknown)}.risk.pending{background:var(--low)}
svg.bar rect.blocked{fill:var(--high)}svg.bar rect.warn{fill:var(--medium)}svg.bar rect.clean{fill:var(--ok)}
svg.bar rect.error{fill:var(--error)}svg.bar rect.unseen{fill:var(--unknown)}
svg.bar rect.pending{fill:var(--low)}
ul.legend{display:flex;gap:1rem;list-style:none;padding:0;margin:.3rem 0;flex-wrap:wrap;font-size:.9rem}
ul.tree,ul.tree ul{list-style:none;margin:0;padding-left:1.3rem}
ul.tree{padding-left:0}
ul.tree li{position:relative;padding:.12rem 0 .12rem .9rem}
ul.tree ul li::before{content:"";position:absolute;left:-.4rem;top:0;bottom:0;border-left:1px solid var(--line)}
ul.tree ul li::after{content:"";position:absolute;left:-.4rem;top:.85rem;width:1rem;border-top:1px solid var(--line)}
ul.tree ul li:last-child::before{bottom:auto;height:.85rem}
.node{display:inline-block;border:1px solid var(--line);border-radius:6px;padding:.05rem .5rem;background:var(--panel)}
.node.blocked{border-color:var(--high)}.node.warn{border-color:var(--medium)}.node.error{border-color:var(--error)}
.node.root{font-weight:700}
article.finding{background:var(--panel);border:1px solid var(--line);border-left:4px solid var(--line);
border-radius:6px;padding:.7rem 1rem;margin:.8rem 0}
article.finding.critical{border-left-color:var(--critical)}article.finding.high{border-left-color:var(--high)}
article.finding.medium{border-left-color:var(--medium)}article.finding.low{border-left-color:var(--low)}
.fhead{display:flex;gap:.5rem;align-items:baseline;flex-wrap:wrap}
dl.facts{display:grid;grid-template-columns:minmax(6rem,max-content) minmax(0,1fr);gap:.15rem .9rem;margin:.4rem 0}
dl.facts dt{color:var(--muted);max-width:14rem}dl.facts dd{margin:0}
ol.stages{margin:.3rem 0;padding-left:1.4rem}
form.inline{display:inline}
.actions{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:.8rem}
.actions form.act{margin:0}
form.act{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:.8rem 1rem;margin:.6rem 0}
form.act label{display:block;font-weight:600;margin-bottom:.3rem}
textarea,input[type=text],input[type=password],select{font:inherit;border:1px solid var(--line);border-radius:6px;
padding:.35rem .5rem;background:var(--bg);color:var(--fg)}
textarea{width:100%;min-height:3.5rem}
button{font:inherit;font-weight:600;border-radius:6px;border:1px solid var(--line);background:var(--panel);
color:var(--fg);padding:.3rem .9rem;cursor:pointer}
button.primary{background:var(--ok);border-color:var(--ok);color:#fff}button.danger{color:var(--high)}
button.link{border:none;background:none;color:var(--navfg);opacity:.8;padding:0;font-weight:400}
.flash{border:1px solid var(--ok);border-radius:8px;padding:.5rem .9rem;margin:.6rem 0;background:var(--panel)}
.flash.bad{border-color:var(--high)}
.tabs{display:flex;gap:.4rem;margin:.5rem 0}
.tabs a{border:1px solid var(--line);border-radius:999px;padding:.05rem .7rem;background:var(--panel)}
.tabs a.on{border-color:var(--accent);font-weight:600}
.login{max-width:26rem;margin:12vh auto;background:var(--panel);border:1px solid var(--line);border-radius:10px;
padding:1.5rem 1.8rem}
.login input{width:100%;margin:.4rem 0 .9rem}
footer{max-width:78rem;margin:0 auto;padding:0 1.5rem 2rem;color:var(--muted);font-size:.8rem}
"""

STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
CSP = (
    f"default-src 'none'; style-src '{STYLE_HASH}'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)

NAV = (
    ("overview", "/", "Overview"),
    ("projects", "/projects", "Projects"),
    ("releases", "/releases", "Releases"),
    ("alerts", "/alerts", "Alerts"),
)


@dataclass(frozen=True, slots=True)
class Chrome:
    """What every signed-in page shows around its content."""

    csrf: str
    open_alerts: int
    query: str = ""


def href(*parts: str, **params: str) -> str:
    """A local URL with each path segment and parameter percent-encoded (then HTML-escaped)."""
    path = "/" + "/".join(quote(p, safe="") for p in parts)
    if params:
        path += "?" + "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in params.items())
    return html.escape(path, quote=True)


def link(text: str, *parts: str) -> str:
    return f'<a href="{href(*parts)}">{esc(text)}</a>'


def when(iso: str) -> str:
    """An ISO 8601 UTC timestamp as `2026-03-24 10:52 UTC` (the exact value in `datetime`)."""
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return esc(iso or "-")
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    shown = moment.strftime("%Y-%m-%d %H:%M") + (" UTC" if moment.tzinfo is not None else "")
    return f'<time class="nw" datetime="{esc(iso)}">{shown}</time>'


def tag(text: str, css: str) -> str:
    return f'<span class="tag {html.escape(css, quote=True)}">{esc(text)}</span>'


def severity_tag(label: str) -> str:
    label = label.lower()
    if label not in ("critical", "high", "medium", "low", "info"):
        return '<span class="muted">-</span>' if not label else esc(label)
    return tag(label.upper(), f"sev-{label}")


def verdict_tag(verdict: str, state: str) -> str:
    if state == "failed":
        return tag("scan failed", "v-failed")
    if state in ("new", "scanning") or not verdict:
        return tag("pending" if state == "new" else state or "pending", "v-pending")
    return tag(verdict, "v-blocked" if verdict == "blocked" else "v-allowed")


def table(head: tuple[str, ...], rows: list[str], empty: str) -> str:
    """A table from pre-rendered `<tr>` rows, or a muted sentence when there are none."""
    if not rows:
        return f'<p class="empty">{esc(empty)}</p>'
    cells = "".join(f"<th>{esc(h)}</th>" for h in head)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def row(*cells: str) -> str:
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def csrf_field(csrf: str) -> str:
    return f'<input type="hidden" name="csrf" value="{html.escape(csrf, quote=True)}">'


def _nav(active: str, chrome: Chrome) -> str:
    items = []
    for key, url, label in NAV:
        on = ' class="on"' if key == active else ""
        badge = f'<span class="badge">{chrome.open_alerts}</span>' if key == "alerts" and chrome.open_alerts else ""
        items.append(f'<a href="{url}"{on}>{label}{badge}</a>')
    search = (
        '<form method="get" action="/search" role="search">'
        f'<input type="search" name="q" placeholder="Search packages, findings…" value="{esc(chrome.query)}" '
        'aria-label="Search"></form>'
    )
    logout = (
        f'<form method="post" action="/logout" class="inline">{csrf_field(chrome.csrf)}'
        '<button class="link" type="submit">Sign out</button></form>'
    )
    return (
        f'<nav class="top"><a class="brand" href="/">chainwarden</a>{"".join(items)}'
        f'<span class="spacer"></span>{search}{logout}</nav>'
    )


def document(title: str, body: str) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="referrer" content="no-referrer">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(title)} · chainwarden</title>",
            f"<style>{CSS}</style>",
            "</head>",
            f"<body>{body}</body>",
            "</html>",
            "",
        ]
    )


def page(title: str, content: str, *, active: str, chrome: Chrome, flash: str = "", bad: bool = False) -> str:
    """A full signed-in page: navigation bar, optional flash message, content, footer."""
    note = f'<div class="flash{" bad" if bad else ""}" role="status">{esc(flash)}</div>' if flash else ""
    footer = (
        "<footer>chainwarden watch dashboard · text from scanned packages is shown escaped, with control and "
        "bidi characters as \\x / \\u escapes · this page runs no scripts and loads nothing else.</footer>"
    )
    return document(title, f"{_nav(active, chrome)}<main>{note}{content}</main>{footer}")


__all__ = [
    "CSP",
    "CSS",
    "Chrome",
    "csrf_field",
    "document",
    "esc",
    "href",
    "link",
    "page",
    "row",
    "severity_tag",
    "table",
    "tag",
    "verdict_tag",
    "when",
]
