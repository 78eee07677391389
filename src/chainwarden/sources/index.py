"""`NAME==VERSION` from a package index: every wheel and sdist of that release.

Files are downloaded through `IndexClient` into the content-addressed cache
(`<cache>/files/<sha256>`) and verified against the index's hashes; cached files are reused.
The artifacts are ordinary wheel / sdist artifacts whose location is the cached file, so they
reopen through those sources. The file list of a release is remembered in the cache, so a
release scanned once can be scanned again with `offline`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from chainwarden import codec
from chainwarden.archive.common import make_finding
from chainwarden.artifact import Artifact, ArtifactError
from chainwarden.models import ArtifactKind, ArtifactRef, Finding
from chainwarden.rules import archive as rules
from chainwarden.sources.base import Source, SourceOptions
from chainwarden.sources.sdist import SdistArtifact
from chainwarden.sources.wheel import WheelArtifact

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from chainwarden.archive import ArchiveLimits
    from chainwarden.index_client import IndexClient, IndexFile

_TARGET = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*==\s*([A-Za-z0-9][A-Za-z0-9.+!_-]*)\s*$")


def parse_target(target: str) -> tuple[str, str] | None:
    """(name, version) for `name==version`, else None."""
    match = _TARGET.match(target)
    return (match.group(1), match.group(2)) if match else None


def _default_client(options: SourceOptions) -> IndexClient:
    # Imported here: path targets (the common case) never load the HTTP and TLS stack.
    from chainwarden.index_client import IndexClient  # noqa: PLC0415

    return IndexClient(options.index_url, timeout=options.timeout)


def _listing_path(cache_dir: Path, name: str, version: str) -> Path:
    return cache_dir / "releases" / canonicalize_name(name) / f"{version}.json"


class IndexSource(Source):
    """Claims `name==version`; `client_factory` builds the index client from the options."""

    name = "index"
    kinds = ()  # its artifacts are wheels and sdists and reopen through those sources

    def __init__(
        self,
        limits: ArchiveLimits | None = None,
        client_factory: Callable[[SourceOptions], IndexClient] | None = None,
    ) -> None:
        self.limits = limits
        self._client_factory = client_factory or _default_client

    def claims(self, target: str) -> bool:
        return parse_target(target) is not None and not Path(target).exists()

    def open(self, target: str, options: SourceOptions) -> Iterator[Artifact]:
        parsed = parse_target(target)
        if parsed is None:
            msg = f"{target}: expected NAME==VERSION"
            raise ArtifactError(msg)
        name, version = parsed
        client = self._client_factory(options)
        files = self._release_files(client, name, version, options)
        for file in files:
            yield self._artifact(client, file, options)

    def _release_files(
        self, client: IndexClient, name: str, version: str, options: SourceOptions
    ) -> tuple[IndexFile, ...]:
        listing = _listing_path(options.cache_dir, name, version)
        if options.offline:
            from chainwarden.index_client import IndexFile  # noqa: PLC0415 - the HTTP stack only when a release is asked for

            try:
                return codec.from_jsonable(tuple[IndexFile, ...], json.loads(listing.read_bytes()))
            except (OSError, ValueError) as err:
                msg = f"{name}=={version}: not in the cache, and offline mode forbids asking the index"
                raise ArtifactError(msg) from err
        page = client.project(name)
        files = tuple(f for f in page.for_version(version) if f.kind in ("wheel", "sdist"))
        if not files:
            known = ", ".join(page.versions[-5:]) or "none"
            msg = f"{name}=={version}: no wheel or sdist for this version on {client.index_url} (latest: {known})"
            raise ArtifactError(msg)
        try:
            listing.parent.mkdir(parents=True, exist_ok=True)
            listing.write_text(json.dumps(codec.to_jsonable(files)), encoding="utf-8")
        except OSError:
            pass  # remembering the listing is a convenience for offline runs, not required
        return files

    def _artifact(self, client: IndexClient, file: IndexFile, options: SourceOptions) -> Artifact:
        if options.offline:
            path = client.cached_path(file, options.cache_dir)
            if path is None:
                msg = f"{file.filename}: not in the cache, and offline mode forbids downloading it"
                raise ArtifactError(msg)
        else:
            path = client.download(file, options.cache_dir)
        extra: list[Finding] = []
        if file.yanked:
            reason = f": {file.yanked_reason}" if file.yanked_reason else ""
            extra.append(make_finding(rules.INDEX_YANKED, f"{file.filename} is yanked{reason}", file.filename))
        kind = ArtifactKind.WHEEL if file.kind == "wheel" else ArtifactKind.SDIST
        ref = ArtifactRef(kind, str(path), label=file.filename, sha256=path.name)
        if kind is ArtifactKind.WHEEL:
            return WheelArtifact(path, ref, limits=self.limits, index_file=file, extra_problems=extra)
        return SdistArtifact(path, ref, limits=self.limits, index_file=file, extra_problems=extra)

    def reopen(self, ref: ArtifactRef, options: SourceOptions) -> Artifact:
        del options
        msg = f"{ref.label}: index artifacts reopen as wheels or sdists"
        raise ArtifactError(msg)
