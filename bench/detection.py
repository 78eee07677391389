"""Detection benchmark: recall on the malicious corpus, false positives on the benign corpus.

    .venv/bin/python bench/detection.py --sample 300 --seed 1      # quick
    .venv/bin/python bench/detection.py --write-docs               # full run, into docs/benchmarks.md

At the default policy threshold (block at high), overall, per rule and per trigger, with
near-duplicate malicious samples grouped (normalised code-content hash) so that one flood of
re-uploads does not dominate, and every miss and false positive listed. Malicious samples are
read from their encrypted zips into memory only. Where GuardDog is installed in
`bench/_data/venv-guarddog`, a subset goes through it in the same run (see `_guarddog.py`).
Per-sample results are written to `bench/_out/` (gitignored).
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures as cf
import csv
import dataclasses
import json
import random
import re
import sys
import time
from pathlib import Path

from _common import BENIGN, MALICIOUS, OUT, benign_files, command_line, machine, now, pct, table, write_section
from _detect import Outcome, Sample, read_sample, scan_sample


def _family(name: str) -> str:
    return re.sub(r"[\d._\-]+", "", name.lower()) or name.lower()


def _only(path: Path | None) -> set[str] | None:
    """Sample idents named in a file: one per line, or the `sample` column of a misses tsv."""
    if path is None:
        return None
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        ident = cols[1] if len(cols) > 1 else cols[0]
        if ident.strip() and ident != "sample":
            names.add(ident.strip())
    return names


def malicious_samples(sample: int | None, seed: int, only: set[str] | None = None) -> list[Sample]:
    with (MALICIOUS / "manifest.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if only is not None:
        rows = [r for r in rows if r["relpath"] in only]
    if sample is not None and sample < len(rows):
        rows = random.Random(seed).sample(rows, sample)
    return [Sample("malicious", r["relpath"], r["package"], r["kind"]) for r in rows]


def benign_samples(sample: int | None, seed: int, only: set[str] | None = None) -> list[Sample]:
    files = benign_files()
    if only is not None:
        files = [p for p in files if str(p) in only]
    if sample is not None and sample < len(files):
        files = sorted(random.Random(seed).sample(files, sample))
    return [Sample("benign", str(p), p.name.split("-", 1)[0], p.parent.name) for p in files]


def run_chainwarden(samples: list[Sample], jobs: int) -> list[Outcome]:
    done: list[Outcome] = []
    t0 = time.perf_counter()
    with cf.ProcessPoolExecutor(max_workers=jobs) as pool:
        for i, outcome in enumerate(pool.map(scan_sample, samples, chunksize=4), 1):
            done.append(outcome)
            if i % 250 == 0 or i == len(samples):
                print(f"  chainwarden: {i}/{len(samples)} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return done


# ---------------------------------------------------------------- report


def _rule_titles() -> dict[str, str]:
    from chainwarden.rules import all_rules

    return {r.id: r.title for r in all_rules().values()}


def _groups(outcomes: list[Outcome]) -> dict[str, list[Outcome]]:
    groups: dict[str, list[Outcome]] = collections.defaultdict(list)
    for o in outcomes:
        groups[o.fingerprint or f"error:{o.sample.ident}"].append(o)
    return groups


def overall_section(mal: list[Outcome], ben: list[Outcome]) -> str:
    groups = _groups(mal)
    group_recall = sum(sum(o.blocked for o in g) / len(g) for g in groups.values()) / len(groups) if groups else 0
    fully = sum(all(o.blocked for o in g) for g in groups.values())
    rows = []
    if mal:
        blocked = sum(o.blocked for o in mal)
        errors = sum(bool(o.error) and not o.blocked for o in mal)
        rows.append(["malicious samples", str(len(mal)), str(blocked), pct(blocked, len(mal)), str(errors)])
        rows.append(
            [
                "malicious, near-duplicates grouped",
                f"{len(groups)} groups",
                f"{fully} fully blocked",
                f"{100 * group_recall:.1f}% (mean per group)",
                "",
            ]
        )
    for kind in ("wheel", "sdist"):
        part = [o for o in ben if o.sample.kind == kind]
        if part:
            blocked = sum(o.blocked for o in part)
            rows.append([f"benign {kind}s", str(len(part)), str(blocked), pct(blocked, len(part)), str(_errors(part))])
    if ben:
        blocked = sum(o.blocked for o in ben)
        rows.append(["benign, all", str(len(ben)), str(blocked), pct(blocked, len(ben)), str(_errors(ben))])
    head = ["set", "artifacts", "blocked", "rate", "errors"]
    return table(head, rows)


def _errors(outcomes: list[Outcome]) -> int:
    return sum(bool(o.error) for o in outcomes)


def per_rule_section(mal: list[Outcome], ben: list[Outcome]) -> str:
    titles = _rule_titles()
    by_rule: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0, 0])
    for o in mal:
        for r in o.rules:
            by_rule[r][0] += 1
        if len(o.rules) == 1:
            by_rule[o.rules[0]][1] += 1
    mal_groups = _groups(mal)
    for g in mal_groups.values():
        for r in {r for o in g for r in o.rules}:
            by_rule[r][2] += 1
    for o in ben:
        for r in o.rules:
            by_rule[r][3] += 1
    rows = [
        [rid, titles.get(rid, "?"), str(c[0]), str(c[1]), str(c[2]), str(c[3])]
        for rid, c in sorted(by_rule.items(), key=lambda kv: (-kv[1][0], kv[0]))
    ]
    head = ["rule", "title", "malicious blocked", "sole blocker", "groups", "benign blocked (FP)"]
    return table(head, rows) if rows else "_no blocking findings_"


def per_trigger_section(mal: list[Outcome], ben: list[Outcome]) -> str:
    counts: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for o in mal:
        for t in o.triggers:
            counts[t][0] += 1
    for o in ben:
        for t in o.triggers:
            counts[t][1] += 1
    for always in ("install", "import", "interpreter-start"):  # the three the issue asks about, even at zero
        counts.setdefault(always, [0, 0])
    rows = [[t, str(c[0]), pct(c[0], len(mal)), str(c[1])] for t, c in sorted(counts.items(), key=lambda kv: -kv[1][0])]
    head = ["trigger of a blocking finding", "malicious samples", "share of malicious", "benign artifacts"]
    return table(head, rows) if rows else "_no blocking findings_"


def misses_section(mal: list[Outcome], limit: int) -> str:
    groups = _groups([o for o in mal if not o.blocked])
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[1][0].sample.name))
    rows = []
    for key, g in ordered[:limit]:
        names = sorted({o.sample.name for o in g})
        shown = ", ".join(names[:4]) + (f" (+{len(names) - 4})" if len(names) > 4 else "")
        reason = g[0].error or g[0].top or "no finding"
        rows.append([str(len(g)), shown, key[:12], reason[:160]])
    more = f"\n\n{len(ordered) - limit} more groups: see the per-sample file." if len(ordered) > limit else ""
    return (table(["samples", "packages", "group", "best finding / error"], rows) if rows else "_none_") + more


def fp_section(ben: list[Outcome]) -> str:
    rows = [
        [Path(o.sample.ident).name, ", ".join(o.rules), o.top[:200]]
        for o in sorted(ben, key=lambda o: o.sample.ident)
        if o.blocked
    ]
    errors = [[Path(o.sample.ident).name, "error", o.error[:200]] for o in ben if o.error and not o.blocked]
    return table(["artifact", "blocking rules", "top finding"], rows + errors) if rows or errors else "_none_"


def speed_line(outcomes: list[Outcome]) -> str:
    if not outcomes:
        return ""
    secs = sum(o.seconds for o in outcomes)
    mb = sum(o.size for o in outcomes) / 1e6
    return f"{len(outcomes)} artifacts, {mb:.1f} MB, {secs:.1f} s of worker time ({secs / len(outcomes):.3f} s each)"


# ---------------------------------------------------------------- GuardDog


def run_guarddog(mal: list[Outcome], ben: list[Outcome], *, n_mal: int, n_ben: int, seed: int, jobs: int) -> str:
    import _guarddog

    if _guarddog.executable() is None:
        return "_GuardDog is not installed in `bench/_data/venv-guarddog`; no comparison in this run._"
    _guarddog.prepare()
    rng = random.Random(seed)
    mal_pick = rng.sample(mal, min(n_mal, len(mal)))
    ben_pick = rng.sample(ben, min(n_ben, len(ben)))

    def gd(o: Outcome) -> tuple[Outcome, _guarddog.GuardDogResult]:
        if o.sample.side == "malicious":
            name, data = read_sample(o.sample.ident)
            return o, _guarddog.scan_bytes(name, data)
        return o, _guarddog.scan_benign(Path(o.sample.ident))

    results: list[tuple[Outcome, _guarddog.GuardDogResult]] = []
    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(max_workers=jobs) as pool:
        for i, pair in enumerate(pool.map(gd, mal_pick + ben_pick), 1):
            results.append(pair)
            if i % 25 == 0:
                print(
                    f"  guarddog: {i}/{len(mal_pick) + len(ben_pick)} in {time.perf_counter() - t0:.0f} s",
                    file=sys.stderr,
                )
    rows = []
    for side in ("malicious", "benign"):
        part = [(o, g) for o, g in results if o.sample.side == side]
        if not part:
            continue
        n = len(part)
        cw = sum(o.blocked for o, _ in part)
        high = sum(g.label == "high_risk" for _, g in part)
        susp = sum(g.label in ("high_risk", "suspicious") for _, g in part)
        errs = sum(g.label == "error" for _, g in part)
        cw_s = sum(o.seconds for o, _ in part) / n
        gd_s = sum(g.seconds for _, g in part) / n
        rows.append([side, str(n), pct(cw, n), pct(high, n), pct(susp, n), str(errs), f"{cw_s:.2f}", f"{gd_s:.2f}"])
    head = [
        "set",
        "artifacts",
        "chainwarden blocked",
        "GuardDog high_risk",
        "GuardDog suspicious or worse",
        "GuardDog errors",
        "chainwarden s/artifact",
        "GuardDog s/artifact",
    ]
    note = (
        f"GuardDog {_guarddog.version()}, same files, same run; {len(mal_pick)} malicious and "
        f"{len(ben_pick)} benign artifacts drawn with seed {seed}. Malicious samples were written to "
        "`/dev/shm` (tmpfs) for GuardDog only, scanned (never installed or run) and deleted right after."
    )
    gd_fp = [
        f"`{Path(o.sample.ident).name}` ({g.label}, score {g.score})"
        for o, g in results
        if o.sample.side == "benign" and g.label == "high_risk"
    ]
    fps = "\n\nGuardDog `high_risk` on benign: " + (", ".join(gd_fp) if gd_fp else "none") + "."
    return note + "\n\n" + table(head, rows) + fps


# ---------------------------------------------------------------- main


@dataclasses.dataclass(frozen=True)
class Meta:
    command: str
    started: str
    machine: str
    scope: str
    wall: float
    jobs: int
    raw: str
    misses: str


def render(meta: Meta, mal: list[Outcome], ben: list[Outcome], gd: str, misses: int) -> str:
    return "\n\n".join(
        [
            "## Detection (recall and false positives)",
            (
                f"Command: `{meta.command}`  \nDate: {meta.started}  \nMachine: {meta.machine}  \n"
                f"Scope: {meta.scope}; threshold: default policy (block at high); wall time {meta.wall:.0f} s "
                f"with {meta.jobs} workers. Per-sample results: `bench/_out/{meta.raw}`, every miss and "
                f"false positive: `bench/_out/{meta.misses}`."
            ),
            "### Overall\n\n" + overall_section(mal, ben),
            "### Per rule (blocking findings)\n\n" + per_rule_section(mal, ben),
            "### Per trigger (blocking findings)\n\n" + per_trigger_section(mal, ben),
            "### Benign artifacts blocked (false positives) and errors\n\n" + fp_section(ben),
            "### Missed malicious samples, grouped\n\n" + misses_section(mal, misses),
            "### Scan time\n\n"
            + "\n".join(f"- {side}: {speed_line(o)}" for side, o in (("malicious", mal), ("benign", ben)) if o),
            *(["### Side by side with GuardDog\n\n" + gd] if gd else []),
        ]
    )


def rerender(path: Path, *, write_docs: bool, misses: int) -> int:
    """Rebuild the Markdown of an earlier run from its per-sample JSON (and GuardDog sidecar)."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    outcomes = []
    for row in rows:
        sample = Sample(**row.pop("sample"))
        fields = {k: tuple(v) if isinstance(v, list) else v for k, v in row.items()}
        outcomes.append(Outcome(sample=sample, **fields))
    mal = [o for o in outcomes if o.sample.side == "malicious"]
    ben = [o for o in outcomes if o.sample.side == "benign"]
    sidecar = path.with_name(path.stem + "-guarddog.md")
    gd = sidecar.read_text(encoding="utf-8") if sidecar.exists() else ""
    recorded = path.with_name(path.stem + "-meta.json")
    if recorded.exists():
        meta = Meta(**json.loads(recorded.read_text(encoding="utf-8")))
    else:
        meta = Meta("(not recorded)", path.stem, machine(), "as recorded", 0.0, 0, path.name, f"{path.stem}-misses.tsv")
    body = render(meta, mal, ben, gd, misses)
    print(body)
    if write_docs:
        write_section("detection", body)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sample", type=int, help="draw N malicious samples (default: all)")
    p.add_argument("--benign-sample", type=int, help="draw N benign artifacts (default: all)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--no-malicious", action="store_true")
    p.add_argument("--no-benign", action="store_true")
    p.add_argument("--guarddog", choices=("auto", "off"), default="auto")
    p.add_argument("--guarddog-malicious", type=int, default=150, help="malicious samples given to GuardDog")
    p.add_argument("--guarddog-benign", type=int, default=60, help="benign artifacts given to GuardDog")
    p.add_argument("--misses", type=int, default=60, help="missed groups listed in the Markdown")
    p.add_argument("--write-docs", action="store_true", help="replace the detection section of docs/benchmarks.md")
    p.add_argument("--from-json", type=Path, help="re-render the report of an earlier run's per-sample JSON (no scan)")
    p.add_argument(
        "--only",
        type=Path,
        help="scan only the samples named in FILE (one per line, or the `sample` column of a misses tsv)",
    )
    args = p.parse_args(argv)
    if args.from_json is not None:
        return rerender(args.from_json, write_docs=args.write_docs, misses=args.misses)

    if not args.no_malicious and not (MALICIOUS / "manifest.csv").exists():
        print(f"no malicious corpus at {MALICIOUS}", file=sys.stderr)
        return 2
    if not args.no_benign and not benign_files():
        print(f"no benign corpus in {BENIGN}: run bench/fetch_benign.sh", file=sys.stderr)
        return 2
    started = now()
    t0 = time.perf_counter()
    only = _only(args.only)
    samples = [] if args.no_malicious else malicious_samples(args.sample, args.seed, only)
    samples += [] if args.no_benign else benign_samples(args.benign_sample, args.seed, only)
    outcomes = run_chainwarden(samples, args.jobs)
    mal = [o for o in outcomes if o.sample.side == "malicious"]
    ben = [o for o in outcomes if o.sample.side == "benign"]
    wall = time.perf_counter() - t0
    gd = ""
    if args.guarddog == "auto":
        gd = run_guarddog(
            mal, ben, n_mal=args.guarddog_malicious, n_ben=args.guarddog_benign, seed=args.seed, jobs=args.jobs
        )

    OUT.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    raw = OUT / f"detection-{stamp}.json"
    raw.write_text(json.dumps([dataclasses.asdict(o) for o in outcomes], indent=1), encoding="utf-8")
    misses = OUT / f"detection-{stamp}-misses.tsv"
    with misses.open("w", encoding="utf-8") as fh:
        fh.write("side\tsample\tgroup\terror\ttop finding\n")
        for o in outcomes:
            if (o.sample.side == "malicious") != o.blocked:
                fh.write(f"{o.sample.side}\t{o.sample.ident}\t{o.fingerprint}\t{o.error}\t{o.top}\n")

    if gd:
        raw.with_name(raw.stem + "-guarddog.md").write_text(gd, encoding="utf-8")
    scope = "full corpus" if args.sample is None else f"--sample {args.sample} --seed {args.seed}"
    if only is not None:
        scope = f"--only {args.only} ({len(samples)} artifacts)"
    meta = Meta(command_line(), started, machine(), scope, wall, args.jobs, raw.name, misses.name)
    raw.with_name(raw.stem + "-meta.json").write_text(json.dumps(dataclasses.asdict(meta)), encoding="utf-8")
    body = render(meta, mal, ben, gd, args.misses)
    (OUT / "detection-latest.md").write_text(body + "\n", encoding="utf-8")
    print(body)
    if args.write_docs:
        write_section("detection", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
