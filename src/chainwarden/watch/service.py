"""The watch loop: refresh projects, poll the index, scan new releases, match advisories, deliver.

Each step commits to the store before the next one acts on it, so the loop can be killed at
any point and resumes where it stopped: releases left in 'scanning' are scanned again, alerts
not yet delivered are delivered again with the same idempotency key.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from chainwarden.advisories.check import check
from chainwarden.advisories.services.base import AdvisoryService, Query, ServiceError
from chainwarden.engine import Scanner
from chainwarden.gate.config import GatePolicy
from chainwarden.inventory.discover import InventoryError, discover
from chainwarden.policy import Policy
from chainwarden.watch.alerts import deliver_pending
from chainwarden.watch.judge import alert_key, cooldown_status, judge_release
from chainwarden.watch.poller import poll_many
from chainwarden.watch.store import Store, StoreError, now_iso

log = logging.getLogger("chainwarden.watch")


@dataclass
class CycleStats:
    polled: int = 0
    changed: int = 0
    new_releases: int = 0
    scanned: int = 0
    alerts_delivered: int = 0
    alerts_failed: int = 0
    poll_seconds: float = 0.0
    poll_bytes: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class Watcher:
    store: Store
    scanner: Scanner
    policy: Policy
    gate: GatePolicy
    index_url: str
    paths: list[Path]
    advisories: AdvisoryService | None = None
    webhook: str | None = None
    slack: bool = False
    stream: TextIO | None = None
    workers: int = 16
    stop_event: threading.Event = field(default_factory=threading.Event)

    # -- projects

    def refresh_projects(self) -> list[str]:
        problems: list[str] = []
        for path in self.paths:
            try:
                inventory = discover(path)
            except InventoryError as err:
                problems.append(f"{path}: {err}")
                continue
            deps: dict[str, tuple[str, str, str, bool]] = {}
            for pkg in inventory.packages:
                deps[pkg.key] = (pkg.key, pkg.version, f"=={pkg.version}" if pkg.version else "", bool(pkg.direct))
            for req in inventory.requirements:
                if req.key not in deps and not req.url:
                    deps[req.key] = (req.key, req.pinned_version or "", req.specifier, True)
            problems.extend(f"{p.file}: {p.message}" for p in inventory.problems)
            self.store.upsert_project(str(path.resolve()), sorted(deps.values()))
        return problems

    # -- one cycle

    def poll(self, stats: CycleStats) -> None:
        names = self.store.package_names()
        states = {n: self.store.poll_state(n)[:2] for n in names}
        started = time.monotonic()
        results = poll_many(self.index_url, states, workers=self.workers)
        stats.poll_seconds = time.monotonic() - started
        stats.polled = len(results)
        for res in results:
            stats.poll_bytes += res.bytes
            if res.error:
                stats.errors.append(f"{res.name}: {res.error}")
                continue
            if not res.changed:
                self.store.save_poll_state(res.name, res.etag, res.serial, self.store.poll_state(res.name)[2])
                continue
            stats.changed += 1
            _, _, known = self.store.poll_state(res.name)
            if known:  # the first poll only records what exists; later ones find what is new
                for version in res.versions:
                    if version not in known and self.store.add_release(
                        res.name, version, res.uploaded.get(version, "")
                    ):
                        stats.new_releases += 1
                        log.info("new release %s %s", res.name, version)
            self.store.save_poll_state(res.name, res.etag, res.serial, res.versions or known)

    def scan_pending(self, stats: CycleStats) -> None:
        for release in self.store.pending_releases():
            if self.stop_event.is_set():
                return
            self.store.mark_scanning(release.name, release.version)
            started = now_iso()
            try:
                judgement = judge_release(
                    release.name, release.version, scanner=self.scanner, policy=self.policy, advisories=self.advisories
                )
            except (OSError, ValueError, StoreError) as err:
                self.store.mark_failed(release.name, release.version, str(err))
                stats.errors.append(f"{release.name} {release.version}: {err}")
                continue
            alert = None
            if judgement.blocked:
                alert = self._release_alert(release.name, release.version, release.uploaded, judgement)
            self.store.record_scan(
                release.name,
                release.version,
                started=started,
                blocked=judgement.blocked,
                worst=judgement.worst,
                summary=judgement.summary,
                report=judgement.report,
                findings=[
                    (
                        f.rule_id,
                        f.severity.label,
                        f.trigger.value,
                        f.location.path,
                        f.location.line,
                        f.message,
                        f.evidence.snippet[:4000],
                    )
                    for f in judgement.findings
                ],
                alert=alert,
            )
            stats.scanned += 1

    def _release_alert(
        self,
        name: str,
        version: str,
        uploaded: str,
        judgement: Any,  # noqa: ANN401 - a Judgement
    ) -> tuple[str, str, dict[str, Any]]:
        projects = []
        for path, pinned, spec in self.store.exposed_projects(name):
            projects.append({"path": path, "pinned": pinned, "spec": spec, "receives_it": _admits(spec, version)})
        cooldown = cooldown_status(uploaded, self.gate, name)
        top = [f for f in judgement.findings if f.severity.label in ("critical", "high")][:5]
        advice = (
            f"Do not upgrade {name} to {version}. Pin {name}!={version} (or add it to the policy's deny list) "
            "and keep installs behind `chainwarden install`/`proxy` so the gate refuses it."
        )
        payload = {
            "title": f"{name} {version} is blocked by policy: {judgement.summary}",
            "package": name,
            "version": version,
            "uploaded": uploaded,
            "projects": projects,
            "what_changed": list(judgement.changes[:10]),
            "findings": [
                {
                    "rule_id": f.rule_id,
                    "severity": f.severity.label,
                    "trigger": f.trigger.value,
                    "path": f.location.path,
                    "line": f.location.line,
                    "message": f.message,
                    "decoded": [s.method for s in f.evidence.decoded],
                }
                for f in top
            ],
            "cooldown": cooldown,
            "advice": advice,
        }
        return alert_key("release-blocked", name, version), "release-blocked", payload

    def check_advisories(self, stats: CycleStats) -> None:
        if self.advisories is None:
            return
        pins = {(name, version) for _, name, version, _, _ in self.store.dependencies() if version}
        if not pins:
            return
        try:
            outcome = check(self.advisories, [Query(n, v) for n, v in sorted(pins)])
        except ServiceError as err:
            stats.errors.append(f"advisories: {err}")
            return
        for match in outcome.matches:
            projects = [
                {"path": p, "pinned": v, "spec": s}
                for p, v, s in self.store.exposed_projects(match.name)
                if v == match.version
            ]
            kind = "malicious-package" if match.malicious else "vulnerability"
            label = "malicious" if match.malicious else "vulnerable"
            payload = {
                "title": f"{match.name} {match.version}: {match.id} ({label})",
                "package": match.name,
                "version": match.version,
                "advisory": match.id,
                "aliases": list(match.aliases),
                "severity": "critical" if match.malicious else match.severity.label,
                "summary": match.summary,
                "fixed": list(match.fixed),
                "projects": projects,
                "advice": "Remove it and rotate every secret it could read (`chainwarden sweep`)."
                if match.malicious
                else (f"Upgrade to {', '.join(match.fixed)}." if match.fixed else "No fixed version is known."),
            }
            self.store.add_alert(
                alert_key(kind, match.id, match.name, match.version), kind, match.name, match.version, payload
            )

    def deliver(self, stats: CycleStats) -> None:
        delivered, failed = deliver_pending(self.store, webhook=self.webhook, slack=self.slack, stream=self.stream)
        stats.alerts_delivered += delivered
        stats.alerts_failed += failed

    def cycle(self) -> CycleStats:
        stats = CycleStats()
        self.deliver(stats)  # first: anything a previous run left undelivered
        stats.errors.extend(self.refresh_projects())
        self.poll(stats)
        self.scan_pending(stats)
        self.check_advisories(stats)
        self.deliver(stats)
        return stats

    def run_forever(self, interval: float) -> None:
        while not self.stop_event.is_set():
            started = time.monotonic()
            stats = self.cycle()
            log.info(
                "cycle: polled %d (%d changed, %.2fs, %d bytes), %d new, %d scanned, %d alert(s) delivered, %d failed",
                stats.polled, stats.changed, stats.poll_seconds, stats.poll_bytes, stats.new_releases, stats.scanned,
                stats.alerts_delivered, stats.alerts_failed,
            )  # fmt: skip
            for error in stats.errors[:20]:
                log.warning("%s", error)
            delay = max(0.0, interval - (time.monotonic() - started))
            # deliver retries while waiting for the next poll
            while delay > 0 and not self.stop_event.wait(min(delay, 2.0)):
                delay -= 2.0
                self.deliver(CycleStats())


def _admits(spec: str, version: str) -> bool:
    if not spec:
        return True
    try:
        return SpecifierSet(spec).contains(Version(version), prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return True


__all__ = ["CycleStats", "Watcher"]
