"""The one exit-code table every command follows."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    CLEAN = 0  # nothing at or above the policy threshold
    BLOCKED = 1  # the policy blocks: findings at or above the threshold
    ERROR = 2  # bad input, bad configuration, or the tool could not do its job
