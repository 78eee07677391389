"""The scan pipeline: targets -> artifacts -> per-file facts (cached, parallel) -> findings.

Data flows one way. For each artifact the engine reads every file some analyzer selects,
hashes it, takes cached facts where it can and sends the rest to worker processes in
batches; then each analyzer judges the whole artifact from its facts. Artifacts are
pipelined: the next one is read while workers extract the previous ones.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chainwarden import __version__, codec, rules
from chainwarden.analyzers import by_name
from chainwarden.analyzers.base import Analyzer, ArtifactView
from chainwarden.artifact import ArtifactError
from chainwarden.cache import FactsCache
from chainwarden.models import (
    ArtifactResult,
    ArtifactStats,
    Evidence,
    Finding,
    Location,
    MemberKind,
    ScanReport,
    Unscanned,
)
from chainwarden.paths import default_cache_dir
from chainwarden.rules.core import ANALYZER_ERROR
from chainwarden.sources import source_for
from chainwarden.sources.base import SourceOptions

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from chainwarden.artifact import Artifact

#: Below this much work an artifact is analysed in-process: a worker round trip costs more.
_INPROCESS_BYTES = 512 * 1024
_BATCH_BYTES = 2 * 1024 * 1024
_BATCH_FILES = 200


@dataclass(frozen=True, slots=True)
class Progress:
    """Reported after each artifact: how many are done and which one just finished."""

    done: int
    label: str
    files: int
    bytes: int


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """How to scan. `cache_dir=None` means the default cache; `use_cache=False` disables it."""

    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    use_cache: bool = True
    cache_dir: Path | None = None
    analyzers: tuple[str, ...] | None = None
    index_url: str = "https://pypi.org/simple/"
    offline: bool = False
    progress: Callable[[Progress], None] | None = None

    def source_options(self) -> SourceOptions:
        return SourceOptions(cache_dir=self.resolved_cache_dir, index_url=self.index_url, offline=self.offline)

    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else default_cache_dir()


# ---------------------------------------------------------------- worker side

_WORKER_ANALYZERS: dict[str, Analyzer[Any]] = {}


def _worker_analyzer(name: str) -> Analyzer[Any]:
    analyzer = _WORKER_ANALYZERS.get(name)
    if analyzer is None:
        (analyzer,) = by_name((name,))
        _WORKER_ANALYZERS[name] = analyzer
    return analyzer


def _extract_batch(name: str, items: list[tuple[str, bytes]]) -> list[tuple[str, str | None, str]]:
    """Worker-process entry: the analyzer is rebuilt from the registry by name."""
    return _extract_with(_worker_analyzer(name), items)


def _extract_with(analyzer: Analyzer[Any], items: list[tuple[str, bytes]]) -> list[tuple[str, str | None, str]]:
    """(sha256, facts JSON or None, error text) for each item."""
    out: list[tuple[str, str | None, str]] = []
    for sha, data in items:
        try:
            facts = analyzer.extract(data)
            out.append((sha, json.dumps(codec.to_jsonable(facts), separators=(",", ":")), ""))
        except (RecursionError, MemoryError) as err:
            out.append((sha, None, f"{type(err).__name__} while analysing"))
        except Exception as err:  # noqa: BLE001 - an analyzer bug must become a visible CW000 finding, not a crash
            out.append((sha, None, f"{type(err).__name__}: {err}"))
    return out


class _InlineExecutor(cf.Executor):
    """Runs submitted work immediately; used for jobs=1 and small artifacts."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:  # noqa: ANN401
        future: cf.Future[Any] = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as err:  # noqa: BLE001 - handed to the future, re-raised by .result()
            future.set_exception(err)
        return future


# ---------------------------------------------------------------- main side


@dataclass(slots=True)
class _Prepared:
    view: ArtifactView
    files: int
    size: int
    unscanned: list[Unscanned]
    problems: list[Finding]
    # analyzer name -> path -> sha256
    selected: dict[str, dict[str, str]]
    cached: dict[str, dict[str, str]]  # analyzer name -> sha -> facts json
    futures: list[tuple[str, cf.Future[list[tuple[str, str | None, str]]]]]
    started: float
    hits: int = 0


class Scanner:
    """Scans targets with a set of analyzers, a cache and a worker pool. Reusable across scans;
    close it (or use it as a context manager) to stop the workers."""

    def __init__(self, options: ScanOptions | None = None, analyzers: Sequence[Analyzer[Any]] | None = None) -> None:
        """`analyzers` overrides the registry (in-process only: workers rebuild analyzers by name)."""
        self.options = options or ScanOptions()
        self.analyzers = tuple(analyzers) if analyzers is not None else by_name(self.options.analyzers)
        cache_path = self.options.resolved_cache_dir / "facts.sqlite3" if self.options.use_cache else None
        self.cache = FactsCache(cache_path)
        self._pool: cf.ProcessPoolExecutor | None = None
        self._inline = _InlineExecutor()
        self._custom = analyzers is not None

    def __enter__(self) -> Scanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        self.cache.close()

    def _executor(self, work_bytes: int) -> cf.Executor:
        if self.options.jobs <= 1 or work_bytes < _INPROCESS_BYTES or self._custom:
            return self._inline
        if self._pool is None:
            # forkserver: safe with threads in the parent (tests run HTTP servers in threads).
            method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
            ctx = multiprocessing.get_context(method)
            with contextlib.suppress(ValueError, AttributeError):
                ctx.set_forkserver_preload(["chainwarden.engine"])
            self._pool = cf.ProcessPoolExecutor(max_workers=self.options.jobs, mp_context=ctx)
        return self._pool

    # -- public API

    def scan(self, targets: Sequence[str]) -> ScanReport:
        started = time.perf_counter()
        stamp = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        results: list[ArtifactResult] = []
        errors: list[str] = []
        for result in self.iter_scan(targets, errors):
            results.append(result)
        return ScanReport(
            tool_version=__version__,
            started=stamp,
            results=tuple(results),
            errors=tuple(errors),
            seconds=round(time.perf_counter() - started, 3),
        )

    def iter_scan(self, targets: Sequence[str], errors: list[str]) -> Iterator[ArtifactResult]:
        """Yield results as artifacts finish; target-level failures are appended to `errors`."""
        window = max(2, self.options.jobs * 2)
        pending: deque[_Prepared] = deque()
        done = 0
        for artifact in self._artifacts(targets, errors):
            with artifact:
                pending.append(self._prepare(artifact))
            while len(pending) > window:
                done += 1
                yield self._finish(pending.popleft(), done)
        while pending:
            done += 1
            yield self._finish(pending.popleft(), done)

    def scan_artifact(self, artifact: Artifact) -> ArtifactResult:
        """Scan one already-open artifact (used by diff, gate and watch)."""
        return self._finish(self._prepare(artifact), 1)

    # -- steps

    def _artifacts(self, targets: Sequence[str], errors: list[str]) -> Iterator[Artifact]:
        options = self.options.source_options()
        for target in targets:
            try:
                source = source_for(target)
                yield from source.open(target, options)
            except ArtifactError as err:
                errors.append(str(err))
            except OSError as err:
                errors.append(f"{target}: {err.strerror or err}")

    def _prepare(self, artifact: Artifact) -> _Prepared:
        t0 = time.perf_counter()
        members = tuple(artifact.members())
        view = ArtifactView(ref=artifact.ref, kind=artifact.ref.kind, metadata=artifact.metadata, members=members)
        label = view.label
        unscanned = list(artifact.unscanned)
        wanted: dict[str, list[Analyzer[Any]]] = {}
        for member in members:
            if member.kind is not MemberKind.FILE:
                continue
            for analyzer in self.analyzers:
                if analyzer.select(member, view):
                    wanted.setdefault(member.path, []).append(analyzer)
        selected: dict[str, dict[str, str]] = {a.name: {} for a in self.analyzers}
        blobs: dict[str, bytes] = {}
        size = 0
        for path, analyzers in wanted.items():
            try:
                data = artifact.read(path)
            except ArtifactError as err:
                unscanned.append(Unscanned(label, path, str(err)))
                continue
            sha = hashlib.sha256(data).hexdigest()
            size += len(data)
            for analyzer in analyzers:
                if len(data) > analyzer.max_bytes:
                    unscanned.append(
                        Unscanned(
                            label, path, f"{len(data)} bytes is over {analyzer.name}'s {analyzer.max_bytes} limit"
                        )
                    )
                    continue
                selected[analyzer.name][path] = sha
            blobs[sha] = data
        cached: dict[str, dict[str, str]] = {}
        futures: list[tuple[str, cf.Future[list[tuple[str, str | None, str]]]]] = []
        hits = 0
        misses_by_analyzer: dict[str, list[str]] = {}
        for analyzer in self.analyzers:
            shas = set(selected[analyzer.name].values())
            got = self.cache.get_many(analyzer.name, analyzer.version, shas)
            cached[analyzer.name] = got
            hits += len(got)
            misses_by_analyzer[analyzer.name] = sorted(shas - got.keys())
        work = sum(len(blobs[s]) for misses in misses_by_analyzer.values() for s in misses)
        executor = self._executor(work)
        by_analyzer_name = {a.name: a for a in self.analyzers}
        for name, misses in misses_by_analyzer.items():
            for batch in _batches(misses, blobs):
                if executor is self._inline:
                    future = executor.submit(_extract_with, by_analyzer_name[name], batch)
                else:
                    future = executor.submit(_extract_batch, name, batch)
                futures.append((name, future))
        return _Prepared(
            view=view,
            files=len(members),
            size=size,
            unscanned=unscanned,
            problems=list(artifact.problems),
            selected=selected,
            cached=cached,
            futures=futures,
            started=t0,
            hits=hits,
        )

    def _finish(self, prep: _Prepared, done: int) -> ArtifactResult:
        label = prep.view.label
        findings: list[Finding] = list(prep.problems)
        errors_by_analyzer: dict[str, dict[str, str]] = {}
        fresh: dict[str, dict[str, str]] = {}
        for name, future in prep.futures:
            for sha, text, error in future.result():
                if text is None:
                    errors_by_analyzer.setdefault(name, {})[sha] = error
                else:
                    fresh.setdefault(name, {})[sha] = text
        analyzed = 0
        for analyzer in self.analyzers:
            name = analyzer.name
            new = fresh.get(name, {})
            self.cache.put_many(name, analyzer.version, new)
            texts = {**prep.cached.get(name, {}), **new}
            facts: dict[str, Any] = {}
            for path, sha in prep.selected[name].items():
                failure = errors_by_analyzer.get(name, {}).get(sha)
                if failure is not None:
                    findings.append(_analyzer_error(analyzer, label, path, failure))
                    continue
                try:
                    facts[path] = codec.from_jsonable(analyzer.facts_type, json.loads(texts[sha]))
                except (KeyError, ValueError, TypeError) as err:
                    findings.append(_analyzer_error(analyzer, label, path, f"unreadable facts: {err}"))
            analyzed += len(facts)
            try:
                judged = list(analyzer.judge(prep.view, facts))
            except Exception as err:  # noqa: BLE001 - a judge bug must surface as a CW000 finding
                findings.append(_analyzer_error(analyzer, label, "", f"{type(err).__name__}: {err}"))
                continue
            findings.extend(_stamp(f, analyzer) for f in judged)
        findings.sort(key=lambda f: f.sort_key)
        stats = ArtifactStats(
            files=prep.files,
            bytes=prep.size,
            analyzed_files=analyzed,
            cache_hits=prep.hits,
            seconds=round(time.perf_counter() - prep.started, 4),
        )
        if self.options.progress is not None:
            self.options.progress(Progress(done=done, label=label, files=prep.files, bytes=prep.size))
        return ArtifactResult(
            ref=prep.view.ref,
            metadata=prep.view.metadata,
            findings=tuple(findings),
            unscanned=tuple(prep.unscanned),
            stats=stats,
        )


def _batches(shas: list[str], blobs: dict[str, bytes]) -> Iterator[list[tuple[str, bytes]]]:
    batch: list[tuple[str, bytes]] = []
    size = 0
    for sha in shas:
        data = blobs[sha]
        batch.append((sha, data))
        size += len(data)
        if size >= _BATCH_BYTES or len(batch) >= _BATCH_FILES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _stamp(finding: Finding, analyzer: Analyzer[Any]) -> Finding:
    if finding.analyzer:
        return finding
    return dataclasses.replace(finding, analyzer=analyzer.name, analyzer_version=analyzer.version)


def _analyzer_error(analyzer: Analyzer[Any], label: str, path: str, error: str) -> Finding:
    rule = rules.get(ANALYZER_ERROR.id)
    return Finding(
        rule_id=rule.id,
        severity=rule.severity,
        message=f"{analyzer.name} could not analyse {path or 'the artifact'}: {error}",
        location=Location(artifact=label, path=path),
        evidence=Evidence(snippet=error),
        analyzer=analyzer.name,
        analyzer_version=analyzer.version,
    )


def scan(targets: Sequence[str], options: ScanOptions | None = None) -> ScanReport:
    """Scan paths and `name==version` specs; the whole pipeline in one call."""
    with Scanner(options) as scanner:
        return scanner.scan(targets)


def default_options(**overrides: Any) -> ScanOptions:  # noqa: ANN401 - forwards dataclass fields
    return dataclasses.replace(ScanOptions(), **overrides)


__all__ = ["Progress", "ScanOptions", "Scanner", "default_options", "scan"]
