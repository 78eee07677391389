"""What the gate decides about one file on the index, and why — shared by the proxy and `install`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

if TYPE_CHECKING:
    from chainwarden.gate.config import GatePolicy
    from chainwarden.index_client import IndexFile


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str


class AdvisoryCheck(Protocol):
    def __call__(self, name: str, version: str) -> str | None:
        """The id and summary of a malicious-package record for name==version, or None."""


def name_version(filename: str) -> tuple[str, str] | None:
    """(normalised name, version) from a wheel or sdist file name, or None if it is neither."""
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
            return str(name), str(version)
        name, version = parse_sdist_filename(filename)
        return str(name), str(version)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


def human_age(seconds: float) -> str:
    if seconds < 3600:  # noqa: PLR2004
        return f"{int(seconds // 60)} minutes"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.1f} days"


def decide_listing(  # noqa: PLR0911 - one return per reason to refuse
    file: IndexFile,
    policy: GatePolicy,
    now: dt.datetime,
    advisories: AdvisoryCheck | None = None,
) -> Decision:
    """Whether an installer may see this file at all (before any download or scan)."""
    parsed = name_version(file.filename)
    if parsed is None:
        return Decision(allowed=False, reason=f"{file.filename} is neither a wheel nor an sdist")
    name, version = parsed
    if not file.filename.endswith(".whl") and not policy.allow_sdists:
        return Decision(
            allowed=False,
            reason="sdists run their build backend (package code) to install; set allow-sdists = true to permit them",
        )
    denial = policy.denial(name, version)
    if denial:
        return Decision(allowed=False, reason=denial)
    cooldown = policy.cooldown_for(name)
    if cooldown > 0:
        uploaded = file.uploaded
        if uploaded is None:
            return Decision(
                allowed=False,
                reason="the index gives no upload time for this file, so its age cannot be checked (fail closed)",
            )
        if uploaded.tzinfo is None:
            uploaded = uploaded.replace(tzinfo=dt.UTC)
        age = (now - uploaded).total_seconds()
        if age < cooldown:
            return Decision(
                allowed=False,
                reason=(
                    f"uploaded {human_age(max(age, 0))} ago; the policy's minimum release age is {human_age(cooldown)}"
                ),
            )
    if advisories is not None and policy.block_malicious:
        record = advisories(canonicalize_name(name), version)
        if record:
            return Decision(allowed=False, reason=f"known malicious: {record}")
    return Decision(allowed=True, reason="")
