"""The gate's policy: minimum release age, allow/deny lists, hashes, sdists, internal names.

[tool.chainwarden]
min-release-age = "7d"                 # 0 turns the cooldown off; units s, m, h, d, w
min-release-age-exempt = ["my-lib"]    # packages the cooldown does not hold back
block-malicious = true                 # refuse releases with a MAL- advisory
require-hashes = false                 # `check`/`sync`: every pin must carry a hash
allow-sdists = false                   # sdists run code to build: refused by default
allow = []                             # if non-empty, only these packages may be installed
deny = ["evil-pkg", "litellm==1.82.8"] # names or name==version pins never installed
internal-packages = ["acme-*"]         # names that must never come from the public index
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from chainwarden.policy import ConfigError

if TYPE_CHECKING:
    from chainwarden.policy import Policy

DEFAULT_MIN_AGE_SECONDS = 7 * 86400
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


def parse_duration(text: str | float) -> float:
    """Seconds from `"7d"`, `"12h"`, `"90m"`, `"0"` or a number of seconds."""
    if isinstance(text, bool):
        raise ValueError("a duration is a number with a unit, such as 7d")  # noqa: TRY004 - a config value error
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError("a duration cannot be negative")
        return float(text)
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration (use a number with s, m, h, d or w, such as 7d)")
    value, unit = match.groups()
    return float(value) * _UNITS[unit or "s"]


@dataclass(frozen=True, slots=True)
class Pin:
    """A deny-list entry: a name, optionally with an exact version."""

    name: str
    version: Version | None = None

    def matches(self, name: str, version: str) -> bool:
        if canonicalize_name(name) != self.name:
            return False
        if self.version is None:
            return True
        try:
            return Version(version) == self.version
        except InvalidVersion:
            return False


@dataclass(frozen=True, slots=True)
class GatePolicy:
    min_release_age: float = DEFAULT_MIN_AGE_SECONDS
    min_release_age_exempt: frozenset[str] = frozenset()
    block_malicious: bool = True
    require_hashes: bool = False
    allow_sdists: bool = False
    allow: frozenset[str] = frozenset()
    deny: tuple[Pin, ...] = ()
    internal_packages: tuple[str, ...] = ()

    def cooldown_for(self, name: str) -> float:
        return 0.0 if canonicalize_name(name) in self.min_release_age_exempt else self.min_release_age

    def denial(self, name: str, version: str) -> str | None:
        """Why the lists refuse `name==version`, or None."""
        canon = canonicalize_name(name)
        for pin in self.deny:
            if pin.matches(canon, version):
                return (
                    f"{canon} is on the deny list"
                    if pin.version is None
                    else f"{canon}=={pin.version} is on the deny list"
                )
        if self.allow and canon not in self.allow:
            return f"{canon} is not on the allow list"
        return None

    def is_internal(self, name: str) -> bool:
        canon = canonicalize_name(name)
        return any(fnmatch.fnmatchcase(canon, pattern) for pattern in self.internal_packages)


def gate_policy(policy: Policy, *, min_release_age: str | None = None) -> GatePolicy:
    """Read the gate's keys from the policy's table; `min_release_age` (the CLI flag) wins."""
    raw = policy.extra
    problems: list[str] = []

    def names(key: str) -> list[str]:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{key}: must be a list of package names")
            return []
        return [canonicalize_name(v) if "==" not in v else v for v in value]

    def flag(key: str, default: bool) -> bool:
        value = raw.get(key, default)
        if not isinstance(value, bool):
            problems.append(f"{key}: must be true or false")
            return default
        return value

    age: Any = min_release_age if min_release_age is not None else raw.get("min-release-age", DEFAULT_MIN_AGE_SECONDS)
    seconds = float(DEFAULT_MIN_AGE_SECONDS)
    try:
        seconds = parse_duration(age)
    except ValueError as err:
        problems.append(f"min-release-age: {err}")
    deny: list[Pin] = []
    for entry in names("deny"):
        try:
            req = Requirement(entry)
        except InvalidRequirement:
            problems.append(f"deny: {entry!r} is not a name or name==version")
            continue
        versions = [s.version for s in req.specifier if s.operator == "=="]
        if len(req.specifier) and not versions:
            problems.append(f"deny: {entry!r}: only exact pins (==) are supported")
            continue
        deny.append(Pin(canonicalize_name(req.name), Version(versions[0]) if versions else None))
    allow = frozenset(names("allow"))
    internal = tuple(names("internal-packages"))
    clash = {p.name for p in deny if p.version is None} & allow
    if clash:
        problems.append(f"allow and deny both name {', '.join(sorted(clash))}: a package cannot be in both")
    result = GatePolicy(
        min_release_age=seconds,
        min_release_age_exempt=frozenset(names("min-release-age-exempt")),
        block_malicious=flag("block-malicious", default=True),
        require_hashes=flag("require-hashes", default=False),
        allow_sdists=flag("allow-sdists", default=False),
        allow=allow,
        deny=tuple(deny),
        internal_packages=internal,
    )
    if problems:
        raise ConfigError(f"{policy.source}: invalid gate settings:\n" + "\n".join(f"  - {p}" for p in problems))
    return result
