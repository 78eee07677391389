"""The advisory-service interface: package versions in, candidate OSV records out.

A service returns the records that *may* concern each query; `chainwarden.advisories.audit`
decides with `matching.match`, so every service is judged by the same rules. A query the
service could not answer is a `Skipped` value, never an empty answer.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from chainwarden.advisories.model import Advisory

if TYPE_CHECKING:
    from collections.abc import Sequence


class ServiceError(Exception):
    """The whole service is unusable (network down, database missing or corrupt).

    `hint` tells the user what to do about it.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base} ({self.hint})" if self.hint else base


@dataclass(frozen=True, slots=True)
class Query:
    name: str
    version: str


@dataclass(frozen=True, slots=True)
class Skipped:
    query: Query
    reason: str


@dataclass(frozen=True, slots=True)
class Answer:
    query: Query
    advisories: tuple[Advisory, ...]


@dataclass(frozen=True, slots=True)
class LookupResult:
    answers: tuple[Answer, ...]
    skipped: tuple[Skipped, ...] = ()
    notes: tuple[str, ...] = ()


class AdvisoryService(abc.ABC):
    name: ClassVar[str]

    @abc.abstractmethod
    def lookup(self, queries: Sequence[Query]) -> LookupResult:
        """Candidate records for each query. Raise `ServiceError` only if nothing can be answered."""
