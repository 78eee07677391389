"""Paired fixtures for the provenance (CW500-CW528) and release-diff (CW600-CW606) rules.

`FIXTURES[rule_id] = (malicious_builder, benign_builder)`. These rules judge a *situation*
(a release and its predecessor, index data, an attestation, a repository), not one artifact,
so each builder sets the situation up in code under the directory it is given, runs the check
that owns the rule and returns its findings. The malicious one must raise the rule, the benign
one must not. Network targets are `.invalid` names only; git repositories are local.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "diff"))

from diffpairs import DecodeExecAnalyzer, MemoryArtifact, benign_pair, entry_points, litellm_files, litellm_pair, wheel  # noqa: E402

from chainwarden.diff.release import diff_artifacts, no_baseline_finding  # noqa: E402
from chainwarden.engine import Scanner, ScanOptions  # noqa: E402
from chainwarden.models import ArtifactKind, Finding  # noqa: E402
from chainwarden.provenance.index import parse_pypi_json, parse_simple_json  # noqa: E402
from chainwarden.provenance.publisher import ReleaseProvenance, check_publisher  # noqa: E402
from chainwarden.provenance.repository import check_repository  # noqa: E402
from chainwarden.provenance.signals import (  # noqa: E402
    check_dependency_confusion,
    check_owners,
    check_release,
    check_typosquat,
)

Builder = Callable[[Path], Sequence[Finding]]

ATTESTATIONS = TESTS.parent.parent / "shared" / "fixtures" / "attestations"
INDEX = TESTS / "fixtures" / "index"
SDIST = "pypi_attestations-0.0.19.tar.gz"


# ------------------------------------------------------------------ attestations


def _prov(publisher: dict[str, str] | None = None) -> bytes:
    data = (ATTESTATIONS / f"{SDIST}.provenance").read_bytes()
    if publisher is None:
        return data
    doc = json.loads(data)
    doc["attestation_bundles"][0]["publisher"] = {"kind": "GitHub", **publisher}
    return json.dumps(doc).encode()


def _publisher(
    data_suffix: bytes = b"", provenance: bytes | None = b"default", earlier: bytes | None = None
) -> Builder:
    def build(tmp: Path) -> Sequence[Finding]:
        del tmp
        prov = _prov() if provenance == b"default" else provenance
        history = [ReleaseProvenance("0.0.18", _prov() if earlier is None else earlier)]
        data = (ATTESTATIONS / SDIST).read_bytes() + data_suffix
        return check_publisher(
            label="x", filename=SDIST, data=data, provenance=prov, earlier=history, verifier=None
        ).findings

    return build


# ------------------------------------------------------------------ index data


def _pypi(name: str) -> object:
    return parse_pypi_json((INDEX / f"{name}.json").read_bytes())


def _release(name: str, version: str, mutate: Callable[[object], object] | None = None) -> Builder:
    def build(tmp: Path) -> Sequence[Finding]:
        del tmp
        project = _pypi(name)
        if mutate is not None:
            project = mutate(project)
        return check_release(project, version, f"{name} {version}")  # type: ignore[arg-type]

    return build


def _late(project: object) -> object:
    old = project.release("2.31.0")  # type: ignore[attr-defined]
    late = dataclasses.replace(
        old[0],
        filename="requests-2.31.0-1-py3-none-any.whl",
        packagetype="bdist_wheel",
        upload_time=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
    )
    return dataclasses.replace(project, files=(*project.files, late))  # type: ignore[call-overload]


def _dormant(project: object) -> object:
    last = project.versions()[-1]  # type: ignore[attr-defined]
    files = tuple(
        dataclasses.replace(f, upload_time=f.upload_time + dt.timedelta(days=900))
        if f.version == last and f.upload_time
        else f
        for f in project.files  # type: ignore[attr-defined]
    )
    return dataclasses.replace(project, files=files)  # type: ignore[call-overload]


def _status(status: str) -> Builder:
    def build(tmp: Path) -> Sequence[Finding]:
        del tmp
        doc = json.loads((INDEX / "simple-requests.json").read_bytes())
        if status:
            doc["project-status"] = {"status": status}
        return check_release(parse_simple_json(json.dumps(doc)), "2.32.3", "requests")

    return build


# ------------------------------------------------------------------ repositories


def _git(repo: Path, *args: str) -> None:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@x.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@x.invalid",
        "HOME": str(repo),
        "PATH": "/usr/bin:/bin",
    }
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def _repo_check(*, tag_new: bool, extra: dict[str, bytes] | None = None, url: str = "", attested: str = "") -> Builder:
    def build(tmp: Path) -> Sequence[Finding]:
        repo = tmp / "upstream"
        repo.mkdir(parents=True)
        _git(repo, "init", "-q", "-b", "main")
        for version in ("1.82.6", "1.82.8"):
            for rel, data in litellm_files(version).items():
                (repo / rel).parent.mkdir(parents=True, exist_ok=True)
                (repo / rel).write_bytes(data)
            _git(repo, "add", "-A")
            _git(repo, "commit", "-q", "-m", version)
            if version == "1.82.6" or tag_new:
                _git(repo, "tag", f"v{version}")
        files = {**litellm_files("1.82.8"), **(extra or {})}
        art = wheel("litellm", "1.82.8", files)
        return check_repository(
            art,
            name="litellm",
            version="1.82.8",
            repository=url or repo.as_uri(),
            earlier_versions=["1.82.6"],
            cache_dir=tmp / "cache",
            attested_commit=attested,
        ).findings

    return build


# ------------------------------------------------------------------ diffs


def _diff(pair: Callable[[], tuple[MemoryArtifact, MemoryArtifact]], *, analyse: bool = False) -> Builder:
    def build(tmp: Path) -> Sequence[Finding]:
        old, new = pair()
        if not analyse:
            return diff_artifacts(old, new).findings
        with Scanner(ScanOptions(jobs=1, cache_dir=tmp / "cache"), analyzers=[DecodeExecAnalyzer()]) as scanner:
            return diff_artifacts(old, new, scanner).findings

    return build


def _pkg_pair(
    old_files: dict[str, bytes], new_files: dict[str, bytes], **new_kwargs: object
) -> Callable[[], tuple[MemoryArtifact, MemoryArtifact]]:
    def pair() -> tuple[MemoryArtifact, MemoryArtifact]:
        old_kwargs = {k: v for k, v in new_kwargs.items() if k.startswith("old_")}
        new_only = {k: v for k, v in new_kwargs.items() if not k.startswith("old_")}
        old = wheel("pkg", "1.0", old_files, **{k[4:]: v for k, v in old_kwargs.items()})  # type: ignore[arg-type]
        return old, wheel("pkg", "1.1", new_files, **new_only)  # type: ignore[arg-type]

    return pair


def _sdist_pair(setup: bytes) -> Callable[[], tuple[MemoryArtifact, MemoryArtifact]]:
    def one(version: str, setup_py: bytes) -> MemoryArtifact:
        root = f"pkg-{version}"
        info = f"Metadata-Version: 2.1\nName: pkg\nVersion: {version}\n\n".encode()
        art = MemoryArtifact(
            {f"{root}/PKG-INFO": info, f"{root}/setup.py": setup_py}, kind=ArtifactKind.SDIST, label=root
        )
        art.metadata = MemoryArtifact({"PKG-INFO": info}).metadata
        return art

    base = b"from setuptools import setup\nsetup()\n"
    return lambda: (one("1.0", base), one("1.1", setup))


def _no_baseline(tmp: Path) -> Sequence[Finding]:
    del tmp
    return [no_baseline_finding("pkg 1.0", "pkg has no release before 1.0 on the index")]


INIT = {"pkg/__init__.py": b""}

FIXTURES: dict[str, tuple[Builder, Builder]] = {
    "CW500": (_publisher(provenance=None), _publisher()),
    "CW501": (
        _publisher(earlier=_prov({"repository": "original/pypi-attestations", "workflow": "release.yml"})),
        _publisher(),
    ),
    "CW502": (_publisher(data_suffix=b"tampered"), _publisher()),
    "CW503": (_publisher(provenance=b'{"version": 1, "attestation_bundles": "nope"}'), _publisher()),
    "CW510": (_repo_check(tag_new=False), _repo_check(tag_new=True)),
    "CW511": (_repo_check(tag_new=True, extra={"litellm_init.pth": b"import os\n"}), _repo_check(tag_new=True)),
    "CW512": (
        _repo_check(tag_new=True, extra={"litellm/main.py": b"import os\nos.system('true')\n"}),
        _repo_check(tag_new=True),
    ),
    "CW513": (_repo_check(tag_new=True, url="file:///nonexistent/chainwarden-test-repo"), _repo_check(tag_new=True)),
    "CW520": (lambda tmp: check_typosquat("reqeusts", "reqeusts"), lambda tmp: check_typosquat("requests", "requests")),
    "CW521": (
        lambda tmp: check_dependency_confusion("requests", ["requests"], _pypi("requests"), "x"),  # type: ignore[arg-type]
        lambda tmp: check_dependency_confusion("acme-internal-lib", ["acme-internal-lib"], None, "x"),
    ),
    "CW522": (_release("requests", "2.31.0", _late), _release("requests", "2.31.0")),
    "CW523": (_release("requests", "2.34.2", _dormant), _release("requests", "2.34.2")),
    "CW524": (
        lambda tmp: check_owners(["alice"], ["mallory"], "x"),
        lambda tmp: check_owners(["alice"], ["alice"], "x"),
    ),
    "CW526": (_status("quarantined"), _status("")),
    "CW527": (_status("archived"), _status("")),
    "CW528": (_release("litellm", "1.82.8"), _release("litellm", "1.82.6")),
    "CW600": (_diff(litellm_pair, analyse=True), _diff(benign_pair, analyse=True)),
    "CW601": (_diff(litellm_pair), _diff(benign_pair)),
    "CW602": (
        _diff(_pkg_pair(INIT, {**INIT, "pkg/rt": b"\x7fELF\x02\x01\x01" + b"\0" * 32})),
        _diff(_pkg_pair(INIT, {**INIT, "pkg/data.txt": b"ELF\n"})),
    ),
    "CW603": (
        _diff(_sdist_pair(b"import os\nos.system('curl https://x.invalid')\n")),
        _diff(_sdist_pair(b"from setuptools import setup\nsetup()\n")),
    ),
    "CW604": (_diff(_pkg_pair(INIT, INIT, requires=["evil-helper"])), _diff(_pkg_pair(INIT, INIT))),
    "CW605": (
        _diff(_pkg_pair(INIT, INIT, entry_points=entry_points([("pytest11", "pkg", "pkg.plugin")]))),
        _diff(_pkg_pair(INIT, INIT)),
    ),
    "CW606": (_no_baseline, lambda tmp: diff_artifacts(*benign_pair()).findings),
}
