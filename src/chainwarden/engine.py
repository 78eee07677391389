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
import functools
import hashlib
import json
import multiprocessing
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chainwarden import __version__, codec, rules
from chainwarden.analyzers import MODULES as ANALYZER_MODULES
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

#: Below this much work an artifact is analysed in-process: starting workers (a fork server
#: importing the analyzers, ~0.3 s) costs more than they save on a few MB of source.
_INPROCESS_BYTES = 3 * 1024 * 1024
#: An archive this large is worth starting the workers for before it is even opened.
_WARM_ARCHIVE_BYTES = 1024 * 1024
_BATCH_BYTES = 1024 * 1024
_BATCH_FILES = 100


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
    #: Artifacts with less uncached work than this are analysed in this process, not by workers.
    pool_min_bytes: int = _INPROCESS_BYTES

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
    result_key: str = ""  # where the judged result goes in the cache ("" = not cached)
    cached_result: ArtifactResult | None = None


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
        """Workers once they run (artifacts then overlap), else in-process for little work."""
        if self._pool is None and work_bytes < self.options.pool_min_bytes:
            return self._inline
        return self._warm_pool()

    def _warm_pool(self) -> cf.Executor:
        """The worker pool, started now, so workers are ready while this process is still
        opening and reading the first artifact."""
        if self.options.jobs <= 1 or self._custom:
            return self._inline
        if self._pool is None:
            ctx = multiprocessing.get_context(_start_method())
            if ctx.get_start_method() == "forkserver":
                with contextlib.suppress(ValueError, AttributeError):
                    ctx.set_forkserver_preload(["chainwarden.engine", *ANALYZER_MODULES])
            self._pool = cf.ProcessPoolExecutor(max_workers=self.options.jobs, mp_context=ctx)
            for _ in range(self.options.jobs):
                self._pool.submit(os.getpid)
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
        # Several targets (artifacts overlap in the workers) or a big one: start the workers now.
        if len(targets) > 1 or any(_large_target(t) for t in targets):
            self._warm_pool()
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
        """Read the selected files and hand uncached ones to workers as soon as a batch fills,
        so extraction overlaps with reading and decompressing the rest of the archive."""
        t0 = time.perf_counter()
        members = tuple(artifact.members())
        view = ArtifactView(ref=artifact.ref, kind=artifact.ref.kind, metadata=artifact.metadata, members=members)
        result_key = "" if self._custom or not self.options.use_cache else artifact.result_key
        if result_key:
            cached = self._cached_result(result_key)
            if cached is not None:
                return _Prepared(
                    view=view,
                    files=len(members),
                    size=0,
                    unscanned=[],
                    problems=[],
                    selected={},
                    cached={},
                    futures=[],
                    started=t0,
                    cached_result=cached,
                )
        label = view.label
        unscanned = list(artifact.unscanned)
        wanted: dict[str, list[Analyzer[Any]]] = {}
        declared = 0
        for member in members:
            if member.kind is not MemberKind.FILE:
                continue
            for analyzer in self.analyzers:
                if analyzer.select(member, view):
                    wanted.setdefault(member.path, []).append(analyzer)
            if member.path in wanted:
                declared += member.size
        feed = _Feed(self.cache, self._executor(declared), self._inline)
        selected: dict[str, dict[str, str]] = {a.name: {} for a in self.analyzers}
        size = 0
        sizes = {m.path: m.size for m in members}
        known_unscanned = {u.path for u in unscanned}

        # Files for the workers first, so they start at once; files only inline analyzers read
        # (a few header bytes) after, while the workers are busy. Largest first among each: the
        # last batches are small, so the workers finish together.
        def order(path: str) -> tuple[bool, int]:
            return all(a.inline for a in wanted[path]), -sizes.get(path, 0)

        for path in sorted(wanted, key=order):
            analyzers = wanted[path]
            try:
                data, sha = artifact.read_hashed(path)
            except ArtifactError as err:
                if path not in known_unscanned:  # the source already said why
                    unscanned.append(Unscanned(label, path, str(err)))
                continue
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
                feed.add(analyzer, sha, data)
        feed.flush_all()
        return _Prepared(
            view=view,
            files=len(members),
            size=size,
            unscanned=unscanned,
            problems=list(artifact.problems),
            selected=selected,
            cached=feed.cached,
            futures=feed.futures,
            started=t0,
            hits=feed.hits,
            result_key=result_key,
        )

    def _results_version(self) -> str:
        return _result_version(tuple((a.name, a.version) for a in self.analyzers))

    def _cached_result(self, key: str) -> ArtifactResult | None:
        digest = _digest(key)
        text = self.cache.get_many(_RESULTS, self._results_version(), [digest]).get(digest)
        if text is None:
            return None
        try:
            result: ArtifactResult = codec.from_jsonable(ArtifactResult, json.loads(text))
        except (ValueError, TypeError):
            return None  # a damaged entry is a miss
        return result

    def _finish(self, prep: _Prepared, done: int) -> ArtifactResult:
        if prep.cached_result is not None:
            return self._from_cache(prep, prep.cached_result, done)
        label = prep.view.label
        findings: list[Finding] = list(prep.problems)
        errors_by_analyzer: dict[str, dict[str, str]] = {}
        types = {a.name: a.facts_type for a in self.analyzers}
        # sha -> decoded facts, or the reason they are unreadable; decoded as batches come back,
        # while the workers are still busy with the rest.
        decoded: dict[str, dict[str, Any]] = {a.name: {} for a in self.analyzers}
        by_future = {future: name for name, future in prep.futures}
        versions = {a.name: a.version for a in self.analyzers}
        for future in cf.as_completed(by_future):
            name = by_future[future]
            fresh: dict[str, str] = {}
            for sha, text, error in future.result():
                if text is None:
                    errors_by_analyzer.setdefault(name, {})[sha] = error
                else:
                    fresh[sha] = text
                    decoded[name][sha] = _decode(types[name], text)
            # Cached batch by batch while the workers are busy, not all at the end.
            self.cache.put_many(name, versions[name], fresh)
        analyzed = 0
        for analyzer in self.analyzers:
            name = analyzer.name
            known = decoded[name]
            for sha, text in prep.cached.get(name, {}).items():
                if sha not in known:
                    known[sha] = _decode(analyzer.facts_type, text)
            facts: dict[str, Any] = {}
            for path, sha in prep.selected[name].items():
                failure = errors_by_analyzer.get(name, {}).get(sha)
                if failure is not None:
                    findings.append(_analyzer_error(analyzer, label, path, failure))
                    continue
                value = known.get(sha, _Unreadable("no facts"))
                if isinstance(value, _Unreadable):
                    findings.append(_analyzer_error(analyzer, label, path, f"unreadable facts: {value.why}"))
                else:
                    facts[path] = value
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
        result = ArtifactResult(
            ref=prep.view.ref,
            metadata=prep.view.metadata,
            findings=tuple(findings),
            unscanned=tuple(prep.unscanned),
            stats=stats,
        )
        if prep.result_key and not any(f.rule_id == ANALYZER_ERROR.id for f in findings):
            text = json.dumps(codec.to_jsonable(result), separators=(",", ":"))
            self.cache.put_many(_RESULTS, self._results_version(), {_digest(prep.result_key): text})
        return result

    def _from_cache(self, prep: _Prepared, cached: ArtifactResult, done: int) -> ArtifactResult:
        """A result judged before for the same bytes by the same code: only where it was found
        and how long this took are new."""
        stats = dataclasses.replace(
            cached.stats,
            cache_hits=cached.stats.analyzed_files,
            seconds=round(time.perf_counter() - prep.started, 4),
        )
        if self.options.progress is not None:
            self.options.progress(
                Progress(done=done, label=prep.view.label, files=prep.files, bytes=cached.stats.bytes)
            )
        return dataclasses.replace(cached, ref=prep.view.ref, stats=stats)


class _Feed:
    """Per-artifact batching: files wait per analyzer until a batch fills, then the cache is
    asked about them and the misses go to the executor."""

    def __init__(self, cache: FactsCache, executor: cf.Executor, inline: cf.Executor) -> None:
        self.cache = cache
        self.executor = executor
        self.inline = inline
        self.cached: dict[str, dict[str, str]] = {}
        self.futures: list[tuple[str, cf.Future[list[tuple[str, str | None, str]]]]] = []
        self.hits = 0
        self._waiting: dict[str, dict[str, bytes]] = {}
        self._waiting_bytes: dict[str, int] = {}
        self._analyzers: dict[str, Analyzer[Any]] = {}
        self._seen: set[tuple[str, str]] = set()

    def add(self, analyzer: Analyzer[Any], sha: str, data: bytes) -> None:
        name = analyzer.name
        self.cached.setdefault(name, {})
        if (name, sha) in self._seen:
            return
        self._seen.add((name, sha))
        self._analyzers[name] = analyzer
        waiting = self._waiting.setdefault(name, {})
        waiting[sha] = data
        self._waiting_bytes[name] = self._waiting_bytes.get(name, 0) + len(data)
        if self._waiting_bytes[name] >= _BATCH_BYTES or len(waiting) >= _BATCH_FILES:
            self._flush(name)

    def flush_all(self) -> None:
        for name in list(self._waiting):
            self._flush(name)

    def _flush(self, name: str) -> None:
        waiting = self._waiting.pop(name, {})
        self._waiting_bytes[name] = 0
        if not waiting:
            return
        analyzer = self._analyzers[name]
        got = self.cache.get_many(name, analyzer.version, waiting)
        self.cached[name].update(got)
        self.hits += len(got)
        batch = [(sha, data) for sha, data in waiting.items() if sha not in got]
        if not batch:
            return
        if self.executor is self.inline or analyzer.inline:
            future = self.inline.submit(_extract_with, analyzer, batch)
        else:
            future = self.executor.submit(_extract_batch, name, batch)
        self.futures.append((name, future))


@dataclass(frozen=True, slots=True)
class _Unreadable:
    why: str


def _decode(facts_type: type[Any], text: str) -> Any:  # noqa: ANN401 - each analyzer has its own facts type
    try:
        return codec.from_jsonable(facts_type, json.loads(text))
    except (ValueError, TypeError) as err:
        return _Unreadable(str(err))


#: The cache "analyzer" name under which whole artifact results are kept.
_RESULTS = "@artifact-result"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _result_version(analyzers: tuple[tuple[str, str], ...]) -> str:
    """Results are reused only by the very same code: the analyzers in use (name, version) and a
    digest of every source file of chainwarden itself (a judge or rule change needs no version bump)."""
    parts = [__version__, *(f"{name}={version}" for name, version in analyzers), _code_digest()]
    return _digest("\n".join(parts))


@functools.cache
def _code_digest() -> str:
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _start_method() -> str:
    """`fork` when this process has a single thread (the command line): workers start at once
    with the analyzers already imported. With other threads running (a test's HTTP server, the
    gate's proxy) forking is unsafe, so a fork server (analyzers preloaded) starts them."""
    methods = multiprocessing.get_all_start_methods()
    if sys.platform == "linux" and "fork" in methods and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def _large_target(target: str) -> bool:
    """Worth starting workers for before opening it: a directory or an environment (never
    result-cached), or a big archive when workers are slow to start (a fork server). A forked
    worker is ready at once, so then a big archive first checks for its cached result."""
    try:
        path = Path(target)
        if path.is_dir():
            return True
        return path.stat().st_size >= _WARM_ARCHIVE_BYTES and _start_method() != "fork"
    except (OSError, ValueError):
        return False


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
