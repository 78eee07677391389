"""The guard's capability policy: a TOML file parsed strictly, rendered back for `learn`.

A malformed policy raises `ConfigError` listing every problem; the launcher then refuses to start the
program at all rather than running it unguarded.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from chainwarden.guard.runtime._cw_guard import SECRETS
from chainwarden.guard.runtime._cw_match import normalize_name
from chainwarden.policy import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

MODES = ("monitor", "enforce", "learn")
_CAP_KEYS = frozenset({"net", "fs", "exec", "dynamic_code", "native", "introspect"})
_TOP_KEYS = frozenset({"version", "guard", "app", "defaults", "packages"})

Grant = bool | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What one principal (a distribution, or the application's own code) may do."""

    net: tuple[str, ...] = ()
    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()
    exec: Grant = False
    dynamic_code: bool = False
    native: Grant = False
    introspect: bool = False

    def to_config(self) -> dict[str, object]:
        return {"net": list(self.net), "read": list(self.read), "write": list(self.write),
                "exec": _grant_value(self.exec), "dynamic_code": self.dynamic_code,
                "native": _grant_value(self.native), "introspect": self.introspect}


#: The application's own code may do everything unless the policy has an `[app]` table.
APP_DEFAULT = Capabilities(net=("*",), read=("**",), write=("**",), exec=True, dynamic_code=True, native=True,
                           introspect=True)


@dataclass(frozen=True, slots=True)
class GuardPolicy:
    """A parsed policy: `[app]`, `[defaults]` for unlisted distributions, and `[packages.NAME]`."""

    app: Capabilities = APP_DEFAULT
    defaults: Capabilities = Capabilities()
    packages: dict[str, Capabilities] = field(default_factory=dict)
    protect: tuple[str, ...] = ()
    source: str = ""

    def to_config(self, *, mode: str, log: str, baseline: dict[str, dict[str, object]] | None) -> dict[str, object]:
        """The plain-literal configuration the runtime reads (it never parses TOML itself)."""
        if mode not in MODES:
            raise ConfigError(f"unknown guard mode {mode!r} (choose from {', '.join(MODES)})")
        return {"version": 1, "mode": "monitor" if mode == "learn" else mode, "learn": mode == "learn",
                "policy_file": self.source, "log": log, "app": self.app.to_config(),
                "defaults": self.defaults.to_config(),
                "packages": {name: caps.to_config() for name, caps in sorted(self.packages.items())},
                "protect": [*SECRETS, *self.protect], "baseline": baseline}


def _grant_value(grant: Grant) -> bool | list[str]:
    return grant if isinstance(grant, bool) else list(grant)


def _strings(value: object, where: str, errors: list[str]) -> tuple[str, ...]:
    if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    errors.append(f"{where}: expected a list of non-empty strings, got {value!r}")
    return ()


def _grant(value: object, where: str, errors: list[str]) -> Grant:
    if isinstance(value, bool):
        return value
    return _strings(value, where, errors)


def _flag(value: object, where: str, errors: list[str]) -> bool:
    if isinstance(value, bool):
        return value
    errors.append(f"{where}: expected true or false, got {value!r}")
    return False


def _net_patterns(values: tuple[str, ...], where: str, errors: list[str]) -> tuple[str, ...]:
    for v in values:
        host, sep, port = v.rpartition(":")
        if v == "*" or not sep or host.endswith(":"):
            continue
        low, dash, high = port.partition("-")
        if port != "*" and not (low.isdigit() and (not dash or high.isdigit())):
            errors.append(f"{where}: {v!r} has a bad port (use a number, a range like 8000-8100, or *)")
    return values


def _capabilities(raw: object, where: str, base: Capabilities, errors: list[str]) -> Capabilities:
    if not isinstance(raw, dict):
        errors.append(f"{where}: expected a table, got {raw!r}")
        return base
    errors.extend(f"{where}: unknown key {key!r} (known: {', '.join(sorted(_CAP_KEYS))})"
                  for key in raw.keys() - _CAP_KEYS)
    caps = base
    if "net" in raw:
        caps = replace(caps, net=_net_patterns(_strings(raw["net"], f"{where}.net", errors), f"{where}.net", errors))
    fs = raw.get("fs", {})
    if not isinstance(fs, dict):
        errors.append(f"{where}.fs: expected a table with read/write, got {fs!r}")
        fs = {}
    errors.extend(f"{where}.fs: unknown key {key!r} (known: read, write)" for key in fs.keys() - {"read", "write"})
    if "read" in fs:
        caps = replace(caps, read=_strings(fs["read"], f"{where}.fs.read", errors))
    if "write" in fs:
        caps = replace(caps, write=_strings(fs["write"], f"{where}.fs.write", errors))
    if "exec" in raw:
        caps = replace(caps, exec=_grant(raw["exec"], f"{where}.exec", errors))
    if "native" in raw:
        caps = replace(caps, native=_grant(raw["native"], f"{where}.native", errors))
    if "dynamic_code" in raw:
        caps = replace(caps, dynamic_code=_flag(raw["dynamic_code"], f"{where}.dynamic_code", errors))
    if "introspect" in raw:
        caps = replace(caps, introspect=_flag(raw["introspect"], f"{where}.introspect", errors))
    return caps


def parse_policy(text: str, source: str = "<policy>") -> GuardPolicy:
    """Parse and validate policy text; raises `ConfigError` naming every problem at once."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{source}: not valid TOML: {err}") from None
    errors: list[str] = [f"{source}: unknown top-level key {key!r} (known: {', '.join(sorted(_TOP_KEYS))})"
                         for key in data.keys() - _TOP_KEYS]
    if data.get("version", 1) != 1:
        errors.append(f"{source}: version must be 1, got {data['version']!r}")
    guard = data.get("guard", {})
    protect: tuple[str, ...] = ()
    if not isinstance(guard, dict) or guard.keys() - {"protect"}:
        errors.append(f"{source}: [guard] may only contain `protect` (a list of path globs)")
    elif "protect" in guard:
        protect = _strings(guard["protect"], f"{source}: guard.protect", errors)
    app = _capabilities(data["app"], f"{source}: [app]", Capabilities(), errors) if "app" in data else APP_DEFAULT
    defaults = _capabilities(data.get("defaults", {}), f"{source}: [defaults]", Capabilities(), errors)
    packages: dict[str, Capabilities] = {}
    raw_packages = data.get("packages", {})
    if not isinstance(raw_packages, dict):
        errors.append(f"{source}: [packages] must be a table of [packages.NAME] tables")
        raw_packages = {}
    for name, raw in raw_packages.items():
        key = name if name.startswith("unowned:") else normalize_name(name)
        packages[key] = _capabilities(raw, f"{source}: [packages.{name}]", Capabilities(), errors)
    if errors:
        raise ConfigError("invalid guard policy; the guard will not start:\n  " + "\n  ".join(errors))
    return GuardPolicy(app=app, defaults=defaults, packages=packages, protect=protect, source=source)


def load_policy_file(path: Path) -> GuardPolicy:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read guard policy {path}: {err}") from None
    return parse_policy(text, str(path))


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def render_caps(caps: Capabilities) -> list[str]:
    lines: list[str] = []
    if caps.net:
        lines.append(f"net = {_toml_list(caps.net)}")
    if caps.read:
        lines.append(f"fs.read = {_toml_list(caps.read)}")
    if caps.write:
        lines.append(f"fs.write = {_toml_list(caps.write)}")
    for key in ("exec", "native"):
        grant: Grant = getattr(caps, key)
        if grant:
            lines.append(f"{key} = {'true' if grant is True else _toml_list(grant)}")  # type: ignore[arg-type]
    lines.extend(f"{key} = true" for key in ("dynamic_code", "introspect") if getattr(caps, key))
    return lines


def render_policy(policy: GuardPolicy, header: str = "") -> str:
    """TOML text for `policy`; parsing it gives back an equal policy."""
    out = [f"# {line}" for line in header.splitlines()]
    out.append("version = 1")
    if policy.protect:
        out += ["", "[guard]", f"protect = {_toml_list(policy.protect)}"]
    if policy.app != APP_DEFAULT:
        out += ["", "[app]", *render_caps(policy.app)]
    if policy.defaults != Capabilities():
        out += ["", "[defaults]", *render_caps(policy.defaults)]
    for name, caps in sorted(policy.packages.items()):
        out += ["", f"[packages.{_toml_str(name) if ':' in name else name}]", *render_caps(caps)]
    return "\n".join(out) + "\n"
