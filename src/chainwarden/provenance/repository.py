"""Does the release have a tag in its source repository, and do the artifact's files match it?

The repository URL comes from earlier releases' metadata or from the pinned publisher, never
from the suspect artifact. Tags are listed with `git ls-remote`; the matching tag is fetched
shallowly into the cache; files are compared by git blob hash (no checkout, nothing from the
repository is ever run: hooks are disabled and only plumbing commands are used). Generated
files (PKG-INFO, `*.egg-info`, `*.dist-info`, `_version.py`, compiled extensions) are
tolerated; files the tag does not have are listed, because an added `.pth` is exactly that.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from chainwarden.artifact import ArtifactError
from chainwarden.models import ArtifactKind, Evidence, Finding, Location, MemberKind
from chainwarden.rules.provenance import FILES_DIFFER_FROM_TAG, FILES_NOT_IN_TAG, REPOSITORY_UNVERIFIED, TAG_MISSING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    from chainwarden.artifact import Artifact
    from chainwarden.models import PackageMetadata
    from chainwarden.rules import Rule

ANALYZER = "repository"
ANALYZER_VERSION = "1"
_MAX_LISTED = 25  # findings per kind before the rest is summarised in one
_REPO_LABELS = ("source", "source code", "repository", "code", "github", "gitlab", "homepage", "home-page", "home")
_REPO_URL = re.compile(r"^(https://(?:github\.com|gitlab\.com|codeberg\.org|bitbucket\.org)/[^/\s]+/[^/\s#?]+)")
_GENERATED = re.compile(
    r"(^|/)(PKG-INFO|setup\.cfg|_version\.py|version\.py|__about__\.py|RECORD|WHEEL|METADATA|INSTALLER|REQUESTED"
    r"|entry_points\.txt|top_level\.txt|SOURCES\.txt|dependency_links\.txt|requires\.txt|not-zip-safe)$"
    r"|\.(egg-info|dist-info)/|\.(so|pyd|dylib|dll)$|(^|/)__pycache__/"
)


class GitError(Exception):
    """A git command failed; the message is git's own first line."""


@dataclass(frozen=True, slots=True)
class RepositoryCheck:
    findings: tuple[Finding, ...]
    repository: str
    tag: str = ""
    commit: str = ""
    differing: tuple[str, ...] = ()
    not_in_tag: tuple[str, ...] = ()
    compared: int = 0


# ------------------------------------------------------------------ where the source lives


def repository_url(url: str) -> str:
    """A canonical clone URL for a GitHub/GitLab/... project URL, or "" if it is not one."""
    match = _REPO_URL.match(url.strip())
    if not match:
        return ""
    return match.group(1).removesuffix(".git").rstrip("/")


def repository_from_metadata(earlier: Iterable[PackageMetadata]) -> str:
    """The source repository most earlier releases name (labels like Source/Repository/Homepage)."""
    votes: Counter[str] = Counter()
    for meta in earlier:
        urls = [u for label, u in meta.project_urls if label.strip().lower() in _REPO_LABELS]
        if meta.home_page:
            urls.append(meta.home_page)
        for url in {repository_url(u) for u in urls} - {""}:
            votes[url.lower()] += 1
    return votes.most_common(1)[0][0] if votes else ""


def tag_candidates(name: str, version: str) -> list[str]:
    """Tag names projects use for a version, most common first."""
    versions = [version]
    try:
        normal = str(Version(version))
        if normal != version:
            versions.append(normal)
    except InvalidVersion:
        pass
    canon = canonicalize_name(name)
    names = list(dict.fromkeys([name, canon, canon.replace("-", "_"), name.lower()]))
    out: list[str] = []
    for v in versions:
        out += [f"v{v}", v, f"release-{v}", f"release/{v}", f"version-{v}", f"V{v}"]
        for n in names:
            out += [f"{n}-{v}", f"{n}-v{v}", f"{n}_{v}", f"{n}_v{v}", f"{n}@{v}", f"{n}/{v}", f"{n}/v{v}"]
    return list(dict.fromkeys(out))


def find_tag(tags: dict[str, str], name: str, version: str) -> str:
    for candidate in tag_candidates(name, version):
        if candidate in tags:
            return candidate
    return ""


# ------------------------------------------------------------------ git plumbing


def _git(args: Sequence[str], *, cwd: Path | None = None, timeout: float = 120.0, stdin: bytes | None = None) -> bytes:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_ASKPASS": "/bin/false",
        "SSH_ASKPASS": "/bin/false",
    }
    # Only plain transports: `ext::` and friends would run a command named by the URL.
    safe = ("https", "http", "ssh", "git", "file")
    protocols = [arg for p in safe for arg in ("-c", f"protocol.{p}.allow=always")]
    cmd = ["git", "-c", "core.hooksPath=/dev/null", "-c", "protocol.allow=never", *protocols, *args]
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, input=stdin, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        msg = f"git {args[0]} timed out after {timeout:.0f}s"
        raise GitError(msg) from None
    except OSError as err:
        msg = f"cannot run git: {err.strerror}"
        raise GitError(msg) from err
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        msg = lines[-1] if lines else f"git {args[0]} exited {proc.returncode}"
        raise GitError(msg)
    return proc.stdout


def list_tags(url: str, *, timeout: float = 60.0) -> dict[str, str]:
    """tag name -> commit (annotated tags peeled), from `git ls-remote --tags`."""
    out = _git(["ls-remote", "--tags", "--", url], timeout=timeout)
    tags: dict[str, str] = {}
    for line in out.decode("utf-8", "replace").splitlines():
        sha, _, ref = line.partition("\t")
        if not ref.startswith("refs/tags/"):
            continue
        name = ref.removeprefix("refs/tags/")
        if name.endswith("^{}"):
            tags[name[:-3]] = sha  # the peeled commit wins over the tag object
        else:
            tags.setdefault(name, sha)
    return tags


def fetch_tree(url: str, tag: str, cache_dir: Path, *, timeout: float = 300.0) -> tuple[str, dict[str, str]]:
    """Shallow-fetch `tag` into a cache repository; return (commit, {path: blob sha1})."""
    repo = cache_dir / "git" / hashlib.sha256(url.encode()).hexdigest()[:24]
    if not (repo / "HEAD").exists():
        repo.mkdir(parents=True, exist_ok=True)
        _git(["init", "-q", "--bare", str(repo)])
    ref = f"refs/chainwarden/{hashlib.sha256(tag.encode()).hexdigest()[:16]}"
    _git(["fetch", "-q", "--depth", "1", "--no-tags", "--", url, f"+refs/tags/{tag}:{ref}"], cwd=repo, timeout=timeout)
    commit = _git(["rev-parse", f"{ref}^{{commit}}"], cwd=repo).decode().strip()
    listing = _git(["ls-tree", "-r", "-z", "--full-tree", commit], cwd=repo)
    tree: dict[str, str] = {}
    for entry in listing.split(b"\0"):
        meta, _, path = entry.partition(b"\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == b"blob":  # noqa: PLR2004 - "<mode> <type> <sha>"
            tree[path.decode("utf-8", "surrogateescape")] = parts[2].decode()
    return commit, tree


def read_blobs(repo_url: str, cache_dir: Path, shas: Sequence[str]) -> dict[str, bytes]:
    repo = cache_dir / "git" / hashlib.sha256(repo_url.encode()).hexdigest()[:24]
    out: dict[str, bytes] = {}
    for sha in shas:
        try:
            out[sha] = _git(["cat-file", "blob", sha], cwd=repo)
        except GitError:
            continue
    return out


def blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


# ------------------------------------------------------------------ the check


def _finding(rule: Rule, label: str, message: str, path: str = "", detail: tuple[tuple[str, str], ...] = ()) -> Finding:
    return Finding(
        rule_id=rule.id,
        severity=rule.severity,
        message=message,
        location=Location(artifact=label, path=path),
        evidence=Evidence(snippet=message, detail=detail),
        analyzer=ANALYZER,
        analyzer_version=ANALYZER_VERSION,
    )


def _artifact_files(artifact: Artifact) -> dict[str, str]:
    """Source-relative path -> real member path (sdist top directory dropped, wheel .data mapped)."""
    out: dict[str, str] = {}
    for member in artifact.members():
        if member.kind is not MemberKind.FILE:
            continue
        rel = member.path
        if artifact.ref.kind is ArtifactKind.SDIST and "/" in rel:
            rel = rel.split("/", 1)[1]
        elif artifact.ref.kind is ArtifactKind.WHEEL and member.install_path:
            rel = member.install_path
        out[rel] = member.path
    return out


def _best_prefix(paths: Iterable[str], tree: dict[str, str]) -> str:
    """The directory of the repository the artifact's paths live under ("" , "src/", "python/", ...)."""
    by_name: dict[str, list[str]] = {}
    for repo_path in tree:
        by_name.setdefault(PurePosixPath(repo_path).name, []).append(repo_path)
    votes: Counter[str] = Counter()
    for path in paths:
        if _GENERATED.search(path):
            continue
        for repo_path in by_name.get(PurePosixPath(path).name, ()):
            if repo_path == path:
                votes[""] += 1
            elif repo_path.endswith("/" + path):
                votes[repo_path[: -len(path)]] += 1
    return votes.most_common(1)[0][0] if votes else ""


def _normalise(data: bytes, version: str) -> bytes:
    return data.replace(version.encode(), b"{version}") if version else data


def check_repository(  # noqa: C901 - a linear sequence of checks, each with its own early exit
    artifact: Artifact,
    *,
    name: str,
    version: str,
    repository: str,
    earlier_versions: Sequence[str],
    cache_dir: Path,
    tags: dict[str, str] | None = None,
    attested_commit: str = "",
) -> RepositoryCheck:
    """Compare `artifact` (release `name` `version`) with its tag in `repository`.

    `earlier_versions` (oldest first) decide whether a missing tag is news: it is reported only
    if at least one of the last five had a tag. `tags` may be passed to skip `git ls-remote`.
    `attested_commit` (from the attestation's Source Repository Digest) must match the tag.
    """
    label = f"{name} {version}"
    if not repository:
        return RepositoryCheck((), "")
    try:
        tags = tags if tags is not None else list_tags(repository)
    except GitError as err:
        finding = _finding(REPOSITORY_UNVERIFIED, label, f"cannot list the tags of {repository}: {err}")
        return RepositoryCheck((finding,), repository)
    tag = find_tag(tags, name, version)
    if not tag:
        recent = list(earlier_versions)[-5:]
        tagged = [v for v in recent if find_tag(tags, name, v)]
        if not tagged:
            return RepositoryCheck((), repository)
        message = (
            f"{repository} has no tag for {version} (tried {', '.join(tag_candidates(name, version)[:4])}, ...); "
            f"earlier releases {', '.join(tagged)} are tagged"
        )
        return RepositoryCheck((_finding(TAG_MISSING, label, message),), repository)
    findings: list[Finding] = []
    try:
        commit, tree = fetch_tree(repository, tag, cache_dir)
    except GitError as err:
        finding = _finding(REPOSITORY_UNVERIFIED, label, f"cannot fetch tag {tag} of {repository}: {err}")
        return RepositoryCheck((finding,), repository, tag)
    if attested_commit and not commit.startswith(attested_commit.lower()) and commit != attested_commit.lower():
        findings.append(
            _finding(
                REPOSITORY_UNVERIFIED,
                label,
                f"tag {tag} of {repository} points at {commit[:12]}, but the attestation was built from "
                f"{attested_commit[:12]}: the tag was moved or the history rewritten",
            )
        )
    files = _artifact_files(artifact)
    prefix = _best_prefix(files, tree)
    not_in_tag: list[str] = []
    differing: list[str] = []
    to_read: dict[str, tuple[str, bytes]] = {}
    for rel, member_path in sorted(files.items()):
        if _GENERATED.search(rel):
            continue
        repo_sha = tree.get(prefix + rel) or tree.get(rel)
        try:
            data = artifact.read(member_path)
        except ArtifactError:
            continue  # the scan reports unreadable members; nothing to compare here
        if repo_sha is None:
            not_in_tag.append(member_path)
        elif blob_sha1(data) != repo_sha:
            to_read[repo_sha] = (member_path, data)
    blobs = read_blobs(repository, cache_dir, list(to_read))
    for sha, (member_path, data) in sorted(to_read.items(), key=lambda kv: kv[1][0]):
        original = blobs.get(sha)
        if original is not None and _normalise(original, version) == _normalise(data, version):
            continue
        differing.append(member_path)
    detail = (("tag", tag), ("commit", commit), ("repository", repository))
    for path in not_in_tag[:_MAX_LISTED]:
        findings.append(
            _finding(FILES_NOT_IN_TAG, label, f"`{path}` is not in tag {tag} of {repository}", path, detail)
        )
    if len(not_in_tag) > _MAX_LISTED:
        rest = len(not_in_tag) - _MAX_LISTED
        findings.append(_finding(FILES_NOT_IN_TAG, label, f"{rest} more files are not in tag {tag}", "", detail))
    for path in differing[:_MAX_LISTED]:
        findings.append(
            _finding(FILES_DIFFER_FROM_TAG, label, f"`{path}` differs from tag {tag} of {repository}", path, detail)
        )
    if len(differing) > _MAX_LISTED:
        rest = len(differing) - _MAX_LISTED
        findings.append(_finding(FILES_DIFFER_FROM_TAG, label, f"{rest} more files differ from tag {tag}", "", detail))
    return RepositoryCheck(
        tuple(findings),
        repository,
        tag,
        commit,
        tuple(differing),
        tuple(not_in_tag),
        compared=len(files),
    )
