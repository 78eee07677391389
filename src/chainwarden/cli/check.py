"""`chainwarden check [PATH]`: the gate's verdict on a project's pins, without installing (for CI).

Everything `audit` checks (malicious and vulnerable versions, unpinned and hash-less
requirements) plus the gate's policy: minimum release age from the index's upload times,
allow and deny lists, required hashes, internal names published on the public index.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from chainwarden.advisories.audit import audit
from chainwarden.advisories.services.base import ServiceError
from chainwarden.advisories.services.offline import OfflineService
from chainwarden.cli import audit as audit_cli
from chainwarden.cli.common import emit
from chainwarden.cli.exit_codes import ExitCode
from chainwarden.gate.check import check_packages
from chainwarden.gate.config import gate_policy
from chainwarden.index_client import IndexClient
from chainwarden.inventory.discover import InventoryError, discover
from chainwarden.inventory.model import Package

if TYPE_CHECKING:
    import argparse
    from pathlib import Path

    from chainwarden.cli.common import IO
    from chainwarden.models import ArtifactResult, Finding

NAME = "check"
HELP = "apply the install gate's policy to a project's pinned dependencies without installing (CI)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    audit_cli.add_arguments(parser)
    parser.add_argument("--index-url", "-i", default="https://pypi.org/simple/", help="index for upload times")
    parser.add_argument("--min-release-age", help="override the policy's minimum release age (e.g. 7d, 0 = off)")


def run(args: argparse.Namespace, io: IO) -> int:
    target: Path = args.path
    policy = audit_cli._policy(args, target)  # noqa: SLF001 - shared with audit on purpose
    gate = gate_policy(policy, min_release_age=args.min_release_age)
    try:
        inventory = discover(target, walk=args.walk)
        service = OfflineService(args.db) if args.db else audit_cli._service(args)  # noqa: SLF001
        result = audit(inventory, service)
    except (InventoryError, ServiceError) as exc:
        io.error(str(exc))
        return ExitCode.ERROR
    pins = list(inventory.packages) + [
        Package(r.name, r.pinned_version or "", hashes=r.hashes, source=r.file)
        for r in inventory.requirements
        if r.pinned_version and not inventory.package(r.name)
    ]
    index = None if args.offline else IndexClient(args.index_url)
    checked = check_packages(pins, gate, index=index)
    by_package: dict[tuple[str, str], list[Finding]] = {}
    for finding in checked.findings:
        name, _, version = finding.evidence.snippet.partition("==")
        by_package.setdefault((canonicalize_name(name), version), []).append(finding)
    results: list[ArtifactResult] = []
    for res in result.report.results:
        key = (canonicalize_name(res.metadata.name), res.metadata.version) if res.metadata else ("", "")
        extra = tuple(by_package.pop(key, []))
        results.append(
            dataclasses.replace(
                res,
                findings=tuple(sorted((*res.findings, *extra), key=lambda f: f.sort_key)),
                unscanned=(*res.unscanned, *(u for u in checked.unscanned if u.path == f"{key[0]}=={key[1]}")),
            )
        )
    report = dataclasses.replace(result.report, results=tuple(results))
    verdict = policy.evaluate(report)
    emit(io, args, report, verdict)
    for note in result.notes:
        io.warn(note)
    return ExitCode.BLOCKED if verdict.blocked else ExitCode.CLEAN
