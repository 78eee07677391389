"""Policy: turn findings into a verdict (allow / block) with reasons.

Configuration lives in `pyproject.toml` `[tool.chainwarden]` or `chainwarden.toml` (top
level). Parsing is lenient first and strict second: every problem in the file is reported at
once, as a `ConfigError` whose message says how to fix it.

    [tool.chainwarden]
    fail-on = "high"                # info | low | medium | high | critical

    [[tool.chainwarden.ignore]]
    rule = "CW102"                  # required
    package = "mypkg"               # optional: name as in the artifact's metadata
    path = "mypkg/_boot.pth"        # optional: fnmatch glob on the file path
    evidence = "3f1c…"              # optional: Finding.evidence_hash; lapses when evidence changes
    reason = "reviewed in SEC-123"  # required
    expires = 2027-01-31            # required: ignores do not live forever
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from chainwarden.models import Finding, ScanReport, Severity, SuppressedFinding, Verdict

if TYPE_CHECKING:
    from collections.abc import Iterable

CONFIG_FILES = ("chainwarden.toml", "pyproject.toml")


class ConfigError(Exception):
    """The configuration is invalid; the message lists every problem and where it is."""


@dataclass(frozen=True, slots=True)
class Ignore:
    rule: str
    reason: str
    expires: dt.date
    package: str = ""
    path: str = ""
    evidence: str = ""

    def matches(self, finding: Finding, package: str) -> bool:
        if finding.rule_id != self.rule:
            return False
        if self.package and canonicalize_name(self.package) != canonicalize_name(package):
            return False
        if self.path and not fnmatch.fnmatchcase(finding.location.path, self.path):
            return False
        return not (self.evidence and self.evidence != finding.evidence_hash)


@dataclass(frozen=True, slots=True)
class Policy:
    fail_on: Severity = Severity.HIGH
    ignores: tuple[Ignore, ...] = ()
    source: str = "defaults"
    #: Sections other parts of chainwarden read (gate, guard, watch); kept raw here.
    extra: Mapping[str, Any] = field(default_factory=dict)

    def with_threshold(self, fail_on: Severity | None) -> Policy:
        return self if fail_on is None else dataclasses.replace(self, fail_on=fail_on)

    def evaluate(self, report: ScanReport, *, today: dt.date | None = None) -> Verdict:
        """Block when any finding not covered by a live ignore reaches the threshold."""
        today = today or dt.datetime.now(dt.UTC).date()
        blocking: list[Finding] = []
        suppressed: list[SuppressedFinding] = []
        notes: list[str] = []
        expired_seen: set[Ignore] = set()
        for result in report.results:
            package = result.metadata.name if result.metadata else result.ref.label
            for finding in result.findings:
                ignore = self._matching_ignore(finding, package, today, expired_seen)
                if ignore is not None:
                    suppressed.append(SuppressedFinding(finding, ignore.reason, ignore.expires.isoformat()))
                elif finding.severity >= self.fail_on:
                    blocking.append(finding)
        notes.extend(
            f"ignore for {i.rule} ({i.reason}) expired on {i.expires.isoformat()} and no longer applies"
            for i in sorted(expired_seen, key=lambda i: (i.rule, i.expires))
        )
        return Verdict(
            blocked=bool(blocking),
            threshold=self.fail_on,
            blocking=tuple(blocking),
            suppressed=tuple(suppressed),
            notes=tuple(notes),
        )

    def _matching_ignore(
        self, finding: Finding, package: str, today: dt.date, expired_seen: set[Ignore]
    ) -> Ignore | None:
        for ignore in self.ignores:
            if ignore.matches(finding, package):
                if ignore.expires < today:
                    expired_seen.add(ignore)
                    continue
                return ignore
        return None


def find_config(start: Path) -> Path | None:
    """The nearest chainwarden.toml, or pyproject.toml with a [tool.chainwarden] table, at or above `start`."""
    here = start.resolve()
    for directory in (here, *here.parents):
        for name in CONFIG_FILES:
            candidate = directory / name
            if candidate.is_file() and (name != "pyproject.toml" or _has_tool_table(candidate)):
                return candidate
    return None


def _has_tool_table(path: Path) -> bool:
    try:
        return b"[tool.chainwarden" in path.read_bytes()
    except OSError:
        return False


def load_policy(path: Path | None = None, *, start: Path | None = None) -> Policy:
    """Load the policy from `path`, or the nearest config file above `start` (default: cwd)."""
    if path is None:
        path = find_config(start or Path.cwd())
        if path is None:
            return Policy()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        msg = f"{path}: cannot read: {err.strerror}"
        raise ConfigError(msg) from err
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        msg = f"{path}: not valid TOML: {err}"
        raise ConfigError(msg) from err
    table: Any = data.get("tool", {}).get("chainwarden", {}) if path.name == "pyproject.toml" else data
    return parse_policy(table, source=str(path))


_KNOWN_KEYS = {"fail-on", "ignore"}
#: Keys other parts of chainwarden read from the same table (validated there). A key in neither
#: set is a typo until proven otherwise, and a typo in a security policy must not pass silently.
EXTENSION_KEYS = frozenset(
    {
        # the install gate (chainwarden.gate.config)
        "min-release-age",
        "min-release-age-exempt",
        "block-malicious",
        "require-hashes",
        "allow-sdists",
        "allow",
        "deny",
        "internal-packages",
    }
)


def parse_policy(table: Any, *, source: str = "<config>") -> Policy:  # noqa: ANN401 - untrusted TOML
    problems: list[str] = []
    if not isinstance(table, dict):
        msg = f"{source}: [tool.chainwarden] must be a table"
        raise ConfigError(msg)
    fail_on = Severity.HIGH
    raw = table.get("fail-on", "high")
    if isinstance(raw, str):
        try:
            fail_on = Severity.parse(raw)
        except ValueError as err:
            problems.append(f"fail-on: {err}")
    else:
        problems.append('fail-on: must be a string such as "high"')
    ignores = tuple(_parse_ignores(table.get("ignore", []), problems))
    unknown = sorted(set(table) - _KNOWN_KEYS - EXTENSION_KEYS)
    if unknown:
        known = ", ".join(sorted(_KNOWN_KEYS | EXTENSION_KEYS))
        problems.append(f"unknown key(s) {', '.join(unknown)} (known keys: {known})")
    if problems:
        raise ConfigError(f"{source}: invalid chainwarden configuration:\n" + "\n".join(f"  - {p}" for p in problems))
    extra = {k: v for k, v in table.items() if k not in _KNOWN_KEYS}
    return Policy(fail_on=fail_on, ignores=ignores, source=source, extra=extra)


def _parse_ignores(raw: Any, problems: list[str]) -> Iterable[Ignore]:  # noqa: ANN401 - untrusted TOML
    if not isinstance(raw, list):
        problems.append("ignore: must be an array of tables ([[tool.chainwarden.ignore]])")
        return
    for n, entry in enumerate(raw, 1):
        where = f"ignore #{n}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a table")
            continue
        unknown = set(entry) - {"rule", "reason", "expires", "package", "path", "evidence"}
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        rule, reason, expires = entry.get("rule"), entry.get("reason"), entry.get("expires")
        if not isinstance(rule, str) or not rule:
            problems.append(f"{where}: 'rule' is required (a rule ID such as \"CW101\")")
        if not isinstance(reason, str) or not reason.strip():
            problems.append(f"{where}: 'reason' is required: say why this finding is acceptable")
        if isinstance(expires, str):
            try:
                expires = dt.date.fromisoformat(expires)
            except ValueError:
                problems.append(f"{where}: 'expires' must be a date such as 2027-01-31")
        if isinstance(expires, dt.datetime):
            expires = expires.date()
        if not isinstance(expires, dt.date):
            problems.append(f"{where}: 'expires' is required (a date such as 2027-01-31): ignores must lapse")
        optional = {k: entry.get(k, "") for k in ("package", "path", "evidence")}
        bad = [k for k, v in optional.items() if not isinstance(v, str)]
        problems.extend(f"{where}: '{k}' must be a string" for k in bad)
        if (
            isinstance(rule, str)
            and rule
            and isinstance(reason, str)
            and reason.strip()
            and isinstance(expires, dt.date)
            and not bad
        ):
            yield Ignore(rule=rule, reason=reason.strip(), expires=expires, **optional)
