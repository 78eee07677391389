"""All provenance checks for one distribution file, from inputs gathered by the caller.

`check_provenance` takes the artifact and what the index said (project data, this file's
provenance, earlier releases' provenance and metadata) and returns every finding: typosquat,
dependency confusion, index signals, publisher continuity and the source tag comparison. The
network is used only for `git` (tag listing and a shallow fetch) and only when
`compare_with_tag` is set; `IntegrityClient` fetches the inputs over HTTP where the index
serves them.
"""

from __future__ import annotations

import dataclasses
import http.client
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from chainwarden.models import PackageMetadata
from chainwarden.provenance.index import IndexDataError, ProjectInfo, parse_simple_json
from chainwarden.provenance.publisher import ReleaseProvenance, check_publisher, pin_from_earlier
from chainwarden.provenance.repository import check_repository, repository_from_metadata
from chainwarden.provenance.signals import (
    SignalContext,
    check_dependency_confusion,
    check_file_present,
    check_owners,
    check_release,
    check_typosquat,
)

if TYPE_CHECKING:
    from chainwarden.artifact import Artifact
    from chainwarden.models import ArtifactResult, Finding, ScanReport
    from chainwarden.provenance.attestations import AttestationVerifier
    from chainwarden.sources.base import SourceOptions

_MAX_PROVENANCE = 4 * 1024 * 1024
_HTTP_NOT_FOUND = 404


@dataclass(frozen=True, slots=True)
class ProvenanceInputs:
    """What the caller gathered about the file's project. Everything is optional; a check whose
    input is missing does not run (and says nothing), except where absence is itself the news."""

    project: ProjectInfo | None = None
    provenance: bytes | None = None  # this file's provenance object, None if it has none
    provenance_known: bool = False  # True when `provenance=None` means "the index has none"
    earlier_provenance: tuple[ReleaseProvenance, ...] = ()
    earlier_metadata: tuple[PackageMetadata, ...] = ()
    internal_names: frozenset[str] = field(default_factory=frozenset)
    pinned_owners: tuple[str, ...] = ()
    pinned_sha256: str = ""  # the hash a lockfile pins for this file


def check_provenance(
    artifact: Artifact,
    inputs: ProvenanceInputs,
    *,
    cache_dir: Path,
    verifier: AttestationVerifier | None = None,
    compare_with_tag: bool = False,
    context: SignalContext | None = None,
) -> tuple[Finding, ...]:
    """Every provenance finding for `artifact` (a wheel or sdist file)."""
    meta = artifact.metadata
    name = meta.name if meta and meta.name else ""
    version = meta.version if meta else ""
    label = f"{name} {version}".strip() or artifact.ref.label
    filename = artifact.ref.label
    findings: list[Finding] = []
    if name:
        findings += check_typosquat(name, label)
        if inputs.internal_names:
            findings += check_dependency_confusion(name, inputs.internal_names, inputs.project, label)
    project = inputs.project
    if project is not None and version:
        findings += check_release(project, version, label, context, include_yanked=True)
        if project.has_version(version) and inputs.pinned_sha256:
            findings += check_file_present(project, version, filename, inputs.pinned_sha256, label)
        findings += check_owners(inputs.pinned_owners, project.owners, label)
    if inputs.provenance is not None or (inputs.provenance_known and inputs.earlier_provenance):
        data = _file_bytes(artifact)
        if data is not None:
            result = check_publisher(
                label=label,
                filename=filename,
                data=data,
                provenance=inputs.provenance,
                earlier=inputs.earlier_provenance,
                verifier=verifier,
            )
            findings += result.findings
    if compare_with_tag and name and version:
        pinned, _ = pin_from_earlier(inputs.earlier_provenance)
        repository = repository_from_metadata(inputs.earlier_metadata) or (pinned.repository_url if pinned else "")
        earlier_versions = _earlier_versions(project, version) if project else []
        findings += check_repository(
            artifact,
            name=name,
            version=version,
            repository=repository,
            earlier_versions=earlier_versions,
            cache_dir=cache_dir,
        ).findings
    return tuple(findings)


def _earlier_versions(project: ProjectInfo, version: str) -> list[str]:
    versions = project.versions()
    try:
        return versions[: versions.index(version)]
    except ValueError:
        return versions


def _file_bytes(artifact: Artifact) -> bytes | None:
    path = Path(artifact.ref.location)
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


class IntegrityClient:
    """Fetches PEP 740 provenance from an index's integrity API (`https://pypi.org` by default).

    `provenance()` returns None when the index says the file has none (HTTP 404) and raises
    `OSError` with a clear message when the index cannot be asked, so "not attested" and "could
    not check" never look alike."""

    def __init__(self, base_url: str = "https://pypi.org", *, timeout: float = 30.0) -> None:
        scheme = urllib.parse.urlsplit(base_url).scheme
        if scheme not in ("https", "http"):
            msg = f"integrity API URL must be http(s): {base_url}"
            raise ValueError(msg)
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def provenance(self, project: str, version: str, filename: str) -> bytes | None:
        quoted = "/".join(urllib.parse.quote(p, safe="") for p in (canonicalize_name(project), version, filename))
        url = f"{self.base_url}/integrity/{quoted}/provenance"
        request = urllib.request.Request(url, headers={"Accept": "application/vnd.pypi.integrity.v1+json"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - scheme checked above
                body: bytes = response.read(_MAX_PROVENANCE + 1)
        except urllib.error.HTTPError as err:
            err.close()
            if err.code == _HTTP_NOT_FOUND:
                return None
            msg = f"{url}: the integrity API answered HTTP {err.code}"
            raise OSError(msg) from None
        except (urllib.error.URLError, TimeoutError, http.client.HTTPException) as err:
            msg = f"{url}: cannot reach the integrity API ({getattr(err, 'reason', err)})"
            raise OSError(msg) from None
        if len(body) > _MAX_PROVENANCE:
            msg = f"{url}: provenance larger than {_MAX_PROVENANCE} bytes"
            raise OSError(msg)
        return body


_SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
_MAX_PAGE = 64 * 1024 * 1024


def fetch_project(index_url: str, name: str, *, timeout: float = 60.0) -> ProjectInfo:
    """A project's simple-API page in JSON (PEP 691), with PEP 700 upload times and PEP 792 status.
    Raises `OSError` when the index cannot be asked and `IndexDataError` when it answers with
    something else (an HTML-only index)."""
    if urllib.parse.urlsplit(index_url).scheme not in ("https", "http"):
        msg = f"index URL must be http(s): {index_url}"
        raise OSError(msg)
    base = index_url if index_url.endswith("/") else index_url + "/"
    url = urllib.parse.urljoin(base, f"{canonicalize_name(name)}/")
    request = urllib.request.Request(url, headers={"Accept": _SIMPLE_JSON})  # noqa: S310 - scheme checked above
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body: bytes = response.read(_MAX_PAGE + 1)
    except urllib.error.HTTPError as err:
        err.close()
        msg = f"{url}: the index answered HTTP {err.code}"
        raise OSError(msg) from None
    except (urllib.error.URLError, TimeoutError, http.client.HTTPException) as err:
        msg = f"{url}: cannot reach the index ({getattr(err, 'reason', err)})"
        raise OSError(msg) from None
    if len(body) > _MAX_PAGE:
        msg = f"{url}: index page larger than {_MAX_PAGE} bytes"
        raise OSError(msg)
    return parse_simple_json(body)


def with_index_signals(report: ScanReport, options: SourceOptions) -> ScanReport:
    """`report` with index signals (typosquat, vanished/late files, dormancy, PEP 792 status) added
    to every `NAME==VERSION` result. Yanked files are already reported by the index source (CW029).
    A project page that cannot be fetched or read adds nothing: the scan of the same release from
    the same index has just succeeded, and its findings stand."""
    from chainwarden.diff.auto import from_index  # noqa: PLC0415 - diff imports provenance rules

    if options.offline:
        return report
    projects: dict[str, ProjectInfo | None] = {}
    results: list[ArtifactResult] = []
    for result in report.results:
        meta = result.metadata
        if not from_index(result, options) or meta is None or not meta.name or not meta.version:
            results.append(result)
            continue
        key = canonicalize_name(meta.name)
        if key not in projects:
            try:
                projects[key] = fetch_project(options.index_url, meta.name, timeout=options.timeout)
            except (OSError, IndexDataError):
                projects[key] = None
        label = f"{meta.name} {meta.version}"
        extra = [*check_typosquat(meta.name, label)]
        project = projects[key]
        if project is not None:
            extra += check_release(project, meta.version, label, include_yanked=False)
        own = {f.evidence_hash for f in result.findings}
        added = tuple(f for f in extra if f.evidence_hash not in own)
        results.append(dataclasses.replace(result, findings=(*added, *result.findings)))
    return dataclasses.replace(report, results=tuple(results))
