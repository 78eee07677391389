"""Dashboard pages over projects, packages, releases and search (alerts are in `alert_pages`).

Each page function takes the store and the request's parameters and returns a `View`: the
title, the active navigation entry and the escaped HTML content. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chainwarden.watch.web import evidence, queries
from chainwarden.watch.web.layout import esc, href, link, row, severity_tag, table, tag, verdict_tag, when

if TYPE_CHECKING:
    from chainwarden.watch.store import Alert, Release, Store
    from chainwarden.watch.web.queries import PackageRisk

_LIST_LIMIT = 300


class NotFoundError(LookupError):
    """The page names something the store does not have."""


@dataclass(frozen=True, slots=True)
class View:
    title: str
    active: str
    content: str
    status: int = 200


def release_link(name: str, version: str) -> str:
    return f'<a class="nw" href="{href("releases", name, version)}">{esc(name)} {esc(version)}</a>'


def alert_rows(alerts: list[Alert]) -> list[str]:
    return [
        row(
            f'<a href="{href("alerts", str(a.id))}">#{a.id}</a>',
            when(a.created),
            f'<span class="nw">{esc(a.kind)}</span>',
            release_link(a.name, a.version),
            esc(str(a.payload.get("title", "")) if isinstance(a.payload, dict) else ""),
            tag(a.status, f"st-{a.status}"),
        )
        for a in alerts
    ]


ALERT_HEAD = ("Alert", "Created", "Kind", "Release", "Title", "Status")


def _tile(number: int, label: str, url: str, *, alarm: bool = False) -> str:
    css = "tile alarm" if alarm and number else "tile"
    return f'<a class="{css}" href="{url}"><div class="n">{number}</div><div class="l">{esc(label)}</div></a>'


def overview(store: Store) -> View:
    c = queries.counts(store)
    tiles = "".join(
        [
            _tile(c.open_alerts, "open alerts", "/alerts", alarm=True),
            _tile(c.blocked, "blocked releases", "/releases?verdict=blocked", alarm=True),
            _tile(c.projects, "watched projects", "/projects"),
            _tile(c.dependencies, "watched packages", "/projects"),
            _tile(c.releases, "new releases seen", "/releases"),
            _tile(c.pending, "waiting for a scan", "/releases?verdict=pending"),
            _tile(c.failed, "scans failed", "/releases?verdict=failed", alarm=True),
        ]
    )
    blocked = [
        row(
            release_link(r.name, r.version),
            when(r.first_seen),
            severity_tag(r.worst),
            esc(r.summary),
        )
        for r in queries.blocked_releases(store)
    ]
    content = (
        f'<h1>Overview</h1><div class="tiles">{tiles}</div>'
        "<h2>Open alerts</h2>"
        + table(ALERT_HEAD, alert_rows(store.alerts(limit=10, status="open")), "No open alerts.")
        + "<h2>Latest blocked releases</h2>"
        + table(("Release", "Seen", "Worst", "Why"), blocked, "No release has been blocked.")
    )
    return View("Overview", "overview", content)


def _risk_dot(risk: str) -> str:
    return f'<span class="risk {risk}" title="{esc(queries.RISK_LABEL.get(risk, risk))}"></span>'


def _legend() -> str:
    entries = "".join(f"<li>{_risk_dot(r)}{esc(queries.RISK_LABEL[r])}</li>" for r in queries.RISK_ORDER)
    return f'<ul class="legend" aria-label="Legend">{entries}</ul>'


def _risk_of(risks: dict[str, PackageRisk], name: str) -> str:
    found = risks.get(name)
    return found.risk if found is not None else "unseen"


def projects(store: Store) -> View:
    risks = queries.package_risks(store)
    deps_by_project: dict[int, list[tuple[str, bool]]] = {}
    for pid, name, _version, _spec, direct in store.dependencies():
        deps_by_project.setdefault(pid, []).append((name, direct))
    rows = []
    for pid, path, refreshed in store.projects():
        deps = deps_by_project.get(pid, [])
        tally = dict.fromkeys(queries.RISK_ORDER, 0)
        for name, _ in deps:
            tally[_risk_of(risks, name)] += 1
        chips = (
            " ".join(f"{_risk_dot(r)}{n}" for r, n in tally.items() if n and r != "unseen")
            or '<span class="muted">nothing flagged</span>'
        )
        direct_count = sum(1 for _, d in deps if d)
        rows.append(
            row(
                link(path, "projects", str(pid)),
                f"{len(deps)} <span class='muted'>({direct_count} direct)</span>",
                chips,
                when(refreshed),
            )
        )
    content = (
        "<h1>Projects</h1>"
        + _legend()
        + table(
            ("Project", "Dependencies", "Risk", "Refreshed"),
            rows,
            "No project is watched yet: run `chainwarden watch`.",
        )
    )
    return View("Projects", "projects", content)


def _risk_bar(tally: dict[str, int]) -> str:
    total = sum(tally.values())
    if not total:
        return ""
    x, rects = 0.0, []
    for risk in queries.RISK_ORDER:
        width = 1000 * tally.get(risk, 0) / total
        if width:
            rects.append(
                f'<rect class="{risk}" x="{x:.1f}" y="0" width="{width:.1f}" height="18">'
                f"<title>{tally[risk]} {esc(queries.RISK_LABEL[risk])}</title></rect>"
            )
            x += width
    return (
        '<svg class="bar" viewBox="0 0 1000 18" preserveAspectRatio="none" width="100%" height="18" role="img" '
        f'aria-label="dependencies by risk">{"".join(rects)}</svg>'
    )


def _node(name: str, version: str, spec: str, risk: PackageRisk | None) -> str:
    level = risk.risk if risk is not None else "unseen"
    note = ""
    if risk is not None and risk.blocked:
        note = f' <span class="sev-high">blocked: {esc(", ".join(risk.blocked[-3:]))}</span>'
    elif risk is not None and risk.latest:
        note = f' <span class="muted">latest seen {esc(risk.latest)}</span>'
    pinned = f' <span class="muted">{esc(version or spec or "unpinned")}</span>'
    return (
        f'<li><span class="node {level}">{_risk_dot(level)}'
        f'<a href="{href("packages", name)}">{esc(name)}</a>{pinned}</span>{note}</li>'
    )


def project(store: Store, project_id: int) -> View:
    found = [p for p in store.projects() if p[0] == project_id]
    if not found:
        raise NotFoundError(f"no project #{project_id}")
    _, path, refreshed = found[0]
    risks = queries.package_risks(store, project_id)
    deps = store.dependencies(project_id)
    tally = dict.fromkeys(queries.RISK_ORDER, 0)
    for _, name, *_ in deps:
        tally[_risk_of(risks, name)] += 1

    def branch(title: str, group: list[tuple[int, str, str, str, bool]]) -> str:
        # worst first, then by name: what needs attention sits at the top of each branch
        group = sorted(group, key=lambda d: (queries.RISK_ORDER.index(_risk_of(risks, d[1])), d[1]))
        nodes = "".join(_node(name, version, spec, risks.get(name)) for _, name, version, spec, _ in group)
        return f'<li><span class="node">{esc(title)} ({len(group)})</span><ul>{nodes}</ul></li>' if group else ""

    direct = [d for d in deps if d[4]]
    indirect = [d for d in deps if not d[4]]
    tree = (
        f'<ul class="tree"><li><span class="node root">{esc(path)}</span><ul>'
        f"{branch('direct dependencies', direct)}{branch('indirect (from the lock or environment)', indirect)}"
        "</ul></li></ul>"
    )
    content = (
        f"<h1>{esc(path)}</h1>"
        f'<p class="muted">{len(deps)} dependencies · refreshed {when(refreshed)}</p>'
        f'<div class="panel">{_risk_bar(tally)}{_legend()}</div>'
        "<h2>Dependency graph</h2>"
        '<p class="muted">Each package is coloured by the worst verdict of the new releases the watcher has seen.</p>'
        + (f'<div class="panel">{tree}</div>' if deps else '<p class="empty">No dependencies recorded.</p>')
    )
    return View(path, "projects", content)


def package(store: Store, name: str) -> View:
    releases = queries.releases_of(store, name)
    exposed = store.exposed_projects(name)
    if not releases and not exposed:
        raise NotFoundError(f"no package {name!r} in the store")
    exposed_rows = [row(esc(path), esc(pinned or "-"), esc(spec or "-")) for path, pinned, spec in exposed]
    content = (
        f"<h1>{esc(name)}</h1><h2>Projects that depend on it</h2>"
        + table(("Project", "Pinned", "Specifier"), exposed_rows, "No watched project depends on it.")
        + "<h2>Releases seen</h2>"
        + _release_table(store, releases, "No new release seen since the watcher started.")
    )
    return View(name, "releases", content)


def _changed(found: list[tuple[str, str, str]]) -> str:
    if not found:
        return '<span class="muted">-</span>'
    shown = "".join(f"<li><code>{esc(rule)}</code> {esc(message)}</li>" for rule, _, message in found[:3])
    more = f'<li class="muted">and {len(found) - 3} more</li>' if len(found) > 3 else ""  # noqa: PLR2004
    return f"<ul>{shown}{more}</ul>"


def _release_table(store: Store, releases: list[Release], empty: str) -> str:
    diffs = queries.changes(store, releases)
    rows = [
        row(
            release_link(r.name, r.version),
            when(r.first_seen),
            verdict_tag(r.verdict, r.state),
            severity_tag(r.worst),
            _changed(diffs.get((r.name, r.version), [])),
            esc(r.summary),
        )
        for r in releases
    ]
    return table(("Release", "Seen", "Verdict", "Worst", "What changed", "Summary"), rows, empty)


_VERDICTS = ("", "blocked", "allowed", "pending", "failed")


def _matches(release: Release, verdict: str) -> bool:
    if verdict == "pending":
        return release.state in ("new", "scanning")
    if verdict == "failed":
        return release.state == "failed"
    return not verdict or release.verdict == verdict


def releases(store: Store, query: str, verdict: str) -> View:
    verdict = verdict if verdict in _VERDICTS else ""
    found = [r for r in store.releases(limit=_LIST_LIMIT, query=query) if _matches(r, verdict)]
    options = "".join(
        f'<option value="{v}"{" selected" if v == verdict else ""}>{v or "any verdict"}</option>' for v in _VERDICTS
    )
    form = (
        '<form method="get" action="/releases" class="panel">'
        f'<input type="text" name="q" value="{esc(query)}" placeholder="package or summary" aria-label="filter"> '
        f'<select name="verdict" aria-label="verdict">{options}</select> <button type="submit">Filter</button></form>'
    )
    content = "<h1>Releases</h1>" + form + _release_table(store, found, "No release matches.")
    return View("Releases", "releases", content)


def release(store: Store, name: str, version: str) -> View:
    rel = store.release(name, version)
    if rel is None:
        raise NotFoundError(f"no release {name} {version} in the store")
    facts = [
        ("Verdict", verdict_tag(rel.verdict, rel.state)),
        ("Worst finding", severity_tag(rel.worst)),
        ("Summary", esc(rel.summary or "-")),
        ("First seen", when(rel.first_seen)),
        ("Uploaded", when(rel.uploaded) if rel.uploaded else "unknown"),
    ]
    dl = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in facts)
    alerts = [
        row(f'<a href="{href("alerts", str(i))}">#{i}</a>', esc(kind), tag(status, f"st-{status}"), when(created))
        for i, kind, status, created in queries.alerts_for(store, name, version)
    ]
    exposed = [row(esc(p), esc(v or "-"), esc(s or "-")) for p, v, s in store.exposed_projects(name)]
    diffs = queries.changes(store, [rel]).get((name, version), [])
    changed = "".join(
        f"<li>{severity_tag(sev)} <code>{esc(rule)}</code> {esc(message)}</li>" for rule, sev, message in diffs
    )
    content = (
        f'<h1>{esc(name)} {esc(version)}</h1><div class="panel"><dl class="facts">{dl}</dl>'
        f'<a href="{href("packages", name)}">all releases of {esc(name)}</a></div>'
        + (f"<h2>What changed since the previous release</h2><ul>{changed}</ul>" if changed else "")
        + ("<h2>Alerts</h2>" + table(("Alert", "Kind", "Status", "Created"), alerts, "") if alerts else "")
        + "<h2>Exposed projects</h2>"
        + table(("Project", "Pinned", "Specifier"), exposed, "No watched project depends on it.")
        + "<h2>Findings and evidence</h2>"
        + scan_evidence(store, name, version)
    )
    return View(f"{name} {version}", "releases", content)


def scan_evidence(store: Store, name: str, version: str, *, only_blocking: bool = False) -> str:
    """Every finding of the release's latest scan as an evidence card (blocking ones first)."""
    scan = store.latest_scan(name, version)
    if scan is None:
        return '<p class="empty">Not scanned yet.</p>'
    scan_id, document = scan
    groups = evidence.report_findings(document) if isinstance(document, dict) else []
    if not groups:
        groups = [("", [evidence.row_finding(r) for r in store.findings(scan_id)])]
    parts = []
    for artifact, findings in groups:
        shown = findings
        if only_blocking and any(evidence.text(f, "status") == "blocking" for f in findings):
            shown = [f for f in findings if evidence.text(f, "status") == "blocking"]
        if artifact:
            parts.append(f"<h3>{esc(artifact)}</h3>")
        parts += [evidence.finding_card(f) for f in shown] or ['<p class="empty">No findings.</p>']
        if len(shown) < len(findings):
            parts.append(
                f'<p class="muted">{len(findings) - len(shown)} more below the threshold: '
                f'see <a href="{href("releases", name, version)}">the release</a>.</p>'
            )
    errors = [e for e in evidence.items(document, "errors") if isinstance(e, str)]
    if errors:
        parts.append("<h3>Scan errors</h3><ul>" + "".join(f"<li>{esc(e)}</li>" for e in errors) + "</ul>")
    return "\n".join(parts)


def search(store: Store, query: str) -> View:
    if not query.strip():
        hint = "Type a package name, a rule id, a file name or words of a message."
        content = f'<h1>Search</h1><p class="muted">{hint}</p>'
        return View("Search", "", content)
    matching = queries.packages_matching(store, query)
    packages = [row(link(name, "packages", name), str(n), esc(pins)) for name, n, pins in matching]
    found_releases = store.releases(limit=50, query=query)
    findings = [
        row(
            release_link(str(n), str(v)),
            f"<code>{esc(str(rule))}</code>",
            severity_tag(str(sev)),
            f"<code>{esc(evidence.where(str(path), str(line or '')))}</code>",
            esc(str(message)),
        )
        for n, v, rule, sev, path, line, message in store.search_findings(query)
    ]
    content = (
        f"<h1>Search: {esc(query)}</h1><h2>Packages</h2>"
        + table(("Package", "Projects", "Pinned"), packages, "No watched package matches.")
        + "<h2>Releases</h2>"
        + _release_table(store, found_releases, "No release matches.")
        + "<h2>Findings</h2>"
        + table(("Release", "Rule", "Severity", "File", "Message"), findings, "No finding matches.")
    )
    return View(f"Search: {query}", "", content)


__all__ = [
    "ALERT_HEAD",
    "NotFoundError",
    "View",
    "alert_rows",
    "overview",
    "package",
    "project",
    "projects",
    "release",
    "release_link",
    "releases",
    "scan_evidence",
    "search",
]
