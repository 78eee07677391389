"""Dashboard page latency over a large store: 5,000 watched dependencies across 20 projects,
2,000 scanned releases (a tenth blocked, with alerts), every page fetched over loopback HTTP.

    .venv/bin/python bench/dashboard.py [--deps 5000] [--releases 2000] [--rounds 20] [--write-docs]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from _common import command_line, machine, now, table, write_section
from chainwarden.models import (
    ArtifactKind,
    ArtifactRef,
    ArtifactResult,
    DecodedStage,
    Evidence,
    Finding,
    Location,
    ScanReport,
    Severity,
    Trigger,
    Verdict,
)
from chainwarden.report.json import as_document
from chainwarden.watch.store import Store
from chainwarden.watch.web import Auth, make_server

TOKEN = "bench-token-0123456789abcdef"


def populate(store: Store, deps: int, releases: int) -> None:
    names = [f"pkg{i:05d}" for i in range(deps)]
    for p in range(20):
        chosen = names[p::20] + names[:50]  # every project shares the first 50
        store.upsert_project(f"/srv/project-{p:02d}", [(n, "1.0", "==1.0", i < 10) for i, n in enumerate(chosen)])
    for i in range(releases):
        name, blocked = names[i % deps], i % 10 == 0
        store.add_release(name, "1.1", "2026-03-24T10:52:00+00:00")
        findings = (
            Finding("CW101", Severity.CRITICAL if blocked else Severity.LOW, f"{name}: .pth runs code",
                    Location(name, f"{name}_init.pth", 1), Trigger.INTERPRETER_START,
                    evidence=Evidence("exec(b64decode(...))", (DecodedStage("base64", "import os"),))),
            Finding("CW600", Severity.HIGH if blocked else Severity.INFO, f"1.1 adds {name}_init.pth",
                    Location(name, f"{name}_init.pth")),
        )  # fmt: skip
        result = ArtifactResult(ArtifactRef(ArtifactKind.WHEEL, f"/c/{name}.whl", f"{name}.whl"), None, findings)
        verdict = Verdict(blocked=blocked, threshold=Severity.HIGH, blocking=findings if blocked else ())
        store.record_scan(
            name, "1.1", started="2026-03-24T10:53:00+00:00", blocked=blocked,
            worst="critical" if blocked else "low", summary="CW101",
            report=as_document(ScanReport("0.1.0", "2026-03-24T10:53:00+00:00", (result,)), verdict),
            findings=[(f.rule_id, f.severity.label, f.trigger.value, f.location.path, 1, f.message, "x")
                      for f in findings],
            alert=(f"key-{name}", "release-blocked", {"title": f"{name} 1.1 blocked", "package": name})
            if blocked else None,
        )  # fmt: skip


def measure(base: str, path: str, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {TOKEN}"})
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as resp:
            resp.read()
            assert resp.status == 200, path
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deps", type=int, default=5000)
    parser.add_argument("--releases", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(str(Path(tmp) / "watch.sqlite3"))
        started = time.perf_counter()
        populate(store, args.deps, args.releases)
        fill = time.perf_counter() - started
        alert_id = store.alerts(limit=1)[0].id
        server = make_server(store, Auth(TOKEN))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = server.url.rstrip("/")
        pages = [
            "/", "/projects", "/projects/1", "/releases", "/releases?verdict=blocked", "/releases/pkg00000/1.1",
            "/alerts", f"/alerts/{alert_id}", "/search?q=pkg0001", "/api/alerts",
        ]  # fmt: skip
        rows = []
        for path in pages:
            times = sorted(measure(base, path, args.rounds))
            p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
            rows.append([f"`{path}`", f"{statistics.median(times) * 1000:.0f}", f"{p95 * 1000:.0f}"])
        server.shutdown()
        store.close()
    body = "\n".join(
        [
            "## Dashboard page latency (`bench/dashboard.py`)",
            "",
            f"Command: `{command_line()}`  ",
            f"Date: {now()}  ",
            f"Machine: {machine()}",
            "",
            (
                f"A SQLite store with {args.deps} watched dependencies across 20 projects (about {args.deps // 20 + 50} each), "
                f"{args.releases} scanned releases ({args.releases // 10} blocked, each with an alert) — filled in "
                f"{fill:.1f} s. Each page fetched {args.rounds} times over loopback HTTP with the Bearer token, "
                "one request at a time; times include rendering and every query."
            ),
            "",
            table(["page", "median ms", "p95 ms"], rows),
            "",
            "Load average right after the run (1 / 5 / 15 min): "
            + " / ".join(f"{x:.1f}" for x in os.getloadavg())
            + " — on a shared 2-core machine, so these are upper bounds.",
        ]
    )
    print(body)
    if args.write_docs:
        write_section("dashboard", body)


if __name__ == "__main__":
    main()
