"""Advisory benchmarks: offline-database speed and the range-evaluation oracle.

    .venv/bin/python bench/advisories.py speed            # 500 dependencies against the offline DB
    .venv/bin/python bench/advisories.py oracle           # ranges vs. enumerated versions, real release history
    .venv/bin/python bench/advisories.py all --write-docs

Both use the real records in ../shared/fixtures/osv/ (PYSEC YAML zip + MAL-2026-2144). The
oracle fetches each project's release list from PyPI's JSON API (cached in
bench/_data/pypi-releases/); for every record that carries both ECOSYSTEM ranges and an
enumerated `versions` list it compares the versions chainwarden's range evaluation marks as
affected with the list, and classifies every disagreement.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from _common import DATA, ROOT, command_line, machine, now, table, write_section
from chainwarden.advisories.check import check
from chainwarden.advisories.database import update
from chainwarden.advisories.dump import read_dump
from chainwarden.advisories.matching import affected_versions, parse_version
from chainwarden.advisories.model import RangeType, parse_advisory
from chainwarden.advisories.services.base import Query
from chainwarden.advisories.services.offline import OfflineService

OSV = ROOT.parent / "shared" / "fixtures" / "osv"
RELEASES = DATA / "pypi-releases"


def load_records() -> list[dict]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    out = []
    with zipfile.ZipFile(OSV / "pypa-advisory-database-2024-10-10.zip") as archive:
        for name in archive.namelist():
            if name.endswith(".yaml"):
                doc = yaml.load(archive.read(name), Loader=loader)
                out.append(json.loads(json.dumps(doc, default=str)))
    out.append(json.loads((OSV / "MAL-2026-2144.json").read_text()))
    return out


def json_zip(records: list[dict]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for record in records:
            archive.writestr(f"{record['id']}.json", json.dumps(record))
    return buffer.getvalue()


# --- speed -----------------------------------------------------------------------------------


def speed(records: list[dict], runs: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "advisories.sqlite3"
        started = time.perf_counter()
        dump = read_dump(json_zip(records), "fixtures")
        checked = time.perf_counter() - started
        started = time.perf_counter()
        update(db, dump, "fixtures")
        built = time.perf_counter() - started
        started = time.perf_counter()
        again = update(db, dump, "fixtures")
        incremental = time.perf_counter() - started
        rng = random.Random(1)
        # One version per distinct package, drawn from a record's enumerated list (so it matches).
        by_name: dict[str, Query] = {}
        for record in rng.sample(records, len(records)):
            for affected in record.get("affected", []):
                name = affected["package"]["name"]
                if name not in by_name:
                    by_name[name] = Query(name, rng.choice(affected.get("versions") or ["0.0.1"]))
        vulnerable = list(by_name.values())
        mixes = {
            "100 at an affected version + 400 without any advisory": vulnerable[:100]
            + [Query(f"no-advisory-pkg-{i}", "1.0.0") for i in range(400)],
            "500 with advisories, at a version past every fix (999.0)": [
                Query(q.name, "999.0") for q in vulnerable[:500]
            ],
            "worst case: 500 with advisories, each at an affected version": vulnerable[:500],
        }
        rows = []
        for label, queries in mixes.items():
            assert len(queries) == 500, (label, len(queries))
            times, cpu, matches = [], [], 0
            for _ in range(runs):
                started, started_cpu = time.perf_counter(), time.process_time()
                matches = len(check(OfflineService(db), queries).matches)
                times.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
            rows.append(
                [
                    label,
                    f"{statistics.median(times) * 1000:.0f} ms",
                    f"{min(times) * 1000:.0f} ms",
                    f"{statistics.median(cpu) * 1000:.0f} ms",
                    str(matches),
                ]
            )
    lines = [
        (
            f"Records: {len(records)} real OSV records (PYSEC fixture zip + MAL-2026-2144). "
            f"Checking the dump: {checked:.2f} s; building the database: {built:.2f} s; "
            f"re-running the update with nothing changed (incremental): {incremental:.3f} s "
            f"({again.unchanged} unchanged)."
        ),
        "",
        (
            f"500 dependencies per audit, opening the database and matching included, {runs} runs "
            f"(load average when measured: {os.getloadavg()[0]:.1f}):"
        ),
        "",
        table(["dependencies", "median wall", "best wall", "median CPU", "matches"], rows),
    ]
    return "\n".join(lines)


# --- oracle ----------------------------------------------------------------------------------


def fetch_releases(name: str) -> dict[str, str] | None:
    """{version: first upload time} from PyPI's JSON API, cached on disk; None if unknown."""
    RELEASES.mkdir(parents=True, exist_ok=True)
    cached = RELEASES / f"{name}.json"
    if cached.exists():
        data = json.loads(cached.read_text())
        return data if data is not None else None
    url = f"https://pypi.org/pypi/{name}/json"
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            doc = json.load(response)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            cached.write_text("null")
        return None
    except (urllib.error.URLError, TimeoutError, OSError):
        return None
    out: dict[str, str] = {}
    for version, files in doc.get("releases", {}).items():
        times = sorted(f.get("upload_time_iso_8601", "") for f in files if isinstance(f, dict))
        out[version] = times[0] if times else ""
    cached.write_text(json.dumps(out))
    return out


def oracle(records: list[dict], jobs: int) -> tuple[str, list[dict]]:
    cases = []
    for doc in records:
        adv = parse_advisory(doc)
        for affected in adv.affected:
            has_range = any(r.type in {RangeType.ECOSYSTEM, RangeType.SEMVER} for r in affected.ranges)
            if has_range and affected.versions and affected.ecosystem == "PyPI":
                cases.append((adv, affected))
    names = sorted({a.name for _, a in cases})
    with ThreadPoolExecutor(jobs) as pool:
        histories = dict(zip(names, pool.map(fetch_releases, names), strict=True))
    agree = 0
    kinds: dict[str, int] = {}
    disagreements: list[dict] = []
    missing = 0
    for adv, affected in cases:
        history = histories.get(affected.name)
        if history is None:
            missing += 1
            continue
        releases = sorted(history, key=lambda v: (parse_version(v) is None, str(parse_version(v) or v)))
        computed = set(affected_versions(adv, affected.name, releases))
        listed = set(affected.versions)
        if computed == listed:
            agree += 1
            continue
        extra = sorted(computed - listed)
        lacking = sorted(listed - computed)
        reasons = set()
        for version in lacking:
            if version not in history:
                reasons.add("listed version no longer on PyPI")
            elif parse_version(version) is None:
                reasons.add("listed version is not PEP 440")
            else:
                reasons.add("listed but outside the ranges")
        for version in extra:
            uploaded = history.get(version, "")
            if uploaded and adv.modified and uploaded > adv.modified:
                reasons.add("released after the record was last modified")
            else:
                reasons.add("in the ranges but not listed")
        for reason in reasons:
            kinds[reason] = kinds.get(reason, 0) + 1
        disagreements.append(
            {"id": adv.id, "package": affected.name, "extra": extra, "missing": lacking, "reasons": sorted(reasons)}
        )
    rows = [[k, str(v)] for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])]
    explained = {
        "listed version no longer on PyPI",
        "listed version is not PEP 440",
        "released after the record was last modified",
    }
    unexplained = [d for d in disagreements if set(d["reasons"]) - explained]
    compared = len(cases) - missing
    lines = [
        (
            f"Records x packages with both ECOSYSTEM ranges and a `versions` list: {len(cases)} "
            f"({len(names)} projects); release history fetched for {compared} "
            f"({missing} projects unknown to PyPI today)."
        ),
        "",
        (
            f"**Agree exactly: {agree} of {compared} ({100 * agree / max(compared, 1):.1f}%).** "
            f"Disagreements: {len(disagreements)}, by cause (a case can have more than one):"
        ),
        "",
        table(["cause", "cases"], rows) if rows else "(none)",
        "",
        f"Cases whose every differing version is one of the first three causes: "
        f"{len(disagreements) - len(unexplained)}; the rest ({len(unexplained)}): "
        + (", ".join(f"{d['id']} ({d['package']})" for d in unexplained) or "none")
        + ".",
    ]
    return "\n".join(lines), disagreements


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["speed", "oracle", "all"])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=8, help="parallel PyPI fetches for the oracle")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    records = load_records()
    body = ["## Advisories (`bench/advisories.py`)", "", f"Command: `{command_line()}` — {now()} — {machine()}", ""]
    if args.what in {"speed", "all"}:
        body += ["### Offline database speed", "", speed(records, args.runs), ""]
    if args.what in {"oracle", "all"}:
        text, disagreements = oracle(records, args.jobs)
        out = ROOT / "bench" / "_out" / "advisories-oracle.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(disagreements, indent=1))
        body += [
            "### Range evaluation against the enumerated versions (oracle)",
            "",
            text,
            "",
            "Every disagreement is listed in `bench/_out/advisories-oracle.json`.",
            "",
        ]
    report = "\n".join(body)
    sys.stdout.write(report + "\n")
    if args.write_docs:
        write_section("advisories" if args.what == "all" else f"advisories-{args.what}", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
