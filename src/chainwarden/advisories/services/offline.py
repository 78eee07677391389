"""Answer from the local SQLite database; never touches the network."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from packaging.utils import canonicalize_name

from chainwarden.advisories.database import AdvisoryDatabase, DatabaseError
from chainwarden.advisories.services.base import AdvisoryService, Answer, LookupResult, Query, ServiceError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

#: Older than this, the database is called stale in the report (it still answers).
STALE_AFTER_DAYS = 7.0


class OfflineService(AdvisoryService):
    name: ClassVar[str] = "offline"

    def __init__(self, path: Path) -> None:
        self.path = path

    def lookup(self, queries: Sequence[Query]) -> LookupResult:
        try:
            with AdvisoryDatabase.open(self.path) as db:
                info = db.info()
                found = db.candidates([(canonicalize_name(q.name), q.version) for q in queries])
        except DatabaseError as exc:
            raise ServiceError(str(exc), exc.hint) from None
        notes: list[str] = []
        age = info.age_days()
        if age is None or age > STALE_AFTER_DAYS:
            shown = "of unknown age" if age is None else f"{age:.0f} days old"
            notes.append(f"offline advisory database {self.path} is {shown}; refresh it with `chainwarden db update`")
        answers = tuple(Answer(q, found[canonicalize_name(q.name), q.version]) for q in queries)
        return LookupResult(answers, notes=tuple(notes))
