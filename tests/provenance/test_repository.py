"""Tag and file comparison against local git repositories built in the test (file:// URLs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "diff"))

from diffpairs import MemoryArtifact, litellm_files, wheel

from chainwarden.models import ArtifactKind, PackageMetadata
from chainwarden.provenance.repository import (
    check_repository,
    find_tag,
    list_tags,
    repository_from_metadata,
    repository_url,
    tag_candidates,
)


def _git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@x.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@x.invalid",
        "HOME": str(repo),
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def _repo(tmp_path: Path, versions: dict[str, str], *, layout: str = "", tag_format: str = "v{v}") -> Path:
    """A repository with one commit and tag per version; `versions` maps version -> tag format or ''."""
    repo = tmp_path / "upstream"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    for version, fmt in versions.items():
        for rel, data in litellm_files(version).items():
            path = repo / layout / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        (repo / "README.md").write_text(f"release {version}\n")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", f"release {version}")
        if fmt:
            _git(repo, "tag", "-a", "-m", version, (fmt or tag_format).format(v=version))
    return repo


def _url(repo: Path) -> str:
    return repo.as_uri()


def _rules(check: object) -> list[str]:
    return [f.rule_id for f in check.findings]  # type: ignore[attr-defined]


def test_matching_tag_and_files_is_clean(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"1.82.5": "v{v}", "1.82.6": "v{v}"})
    art = wheel("litellm", "1.82.6", litellm_files("1.82.6"))
    check = check_repository(
        art,
        name="litellm",
        version="1.82.6",
        repository=_url(repo),
        earlier_versions=["1.82.5"],
        cache_dir=tmp_path / "cache",
    )
    assert check.findings == ()
    assert check.tag == "v1.82.6"
    assert check.compared > 0


def test_added_pth_and_modified_module_are_listed(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"1.82.6": "v{v}", "1.82.8": "v{v}"})
    files = litellm_files("1.82.8")
    files["litellm/proxy/proxy_server.py"] += b"\nimport base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n"
    files["litellm_init.pth"] = b"import os; os.system('true')\n"
    art = wheel("litellm", "1.82.8", files)
    check = check_repository(
        art,
        name="litellm",
        version="1.82.8",
        repository=_url(repo),
        earlier_versions=["1.82.6"],
        cache_dir=tmp_path / "cache",
    )
    assert check.not_in_tag == ("litellm_init.pth",)
    assert check.differing == ("litellm/proxy/proxy_server.py",)
    assert _rules(check) == ["CW511", "CW512"]
    assert "`litellm_init.pth` is not in tag v1.82.8" in check.findings[0].message


def test_missing_tag_reported_when_earlier_releases_were_tagged(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"1.82.5": "v{v}", "1.82.6": "v{v}", "1.82.8": ""})
    art = wheel("litellm", "1.82.8", litellm_files("1.82.8"))
    check = check_repository(
        art,
        name="litellm",
        version="1.82.8",
        repository=_url(repo),
        earlier_versions=["1.82.5", "1.82.6"],
        cache_dir=tmp_path / "cache",
    )
    assert _rules(check) == ["CW510"]
    assert "earlier releases 1.82.5, 1.82.6 are tagged" in check.findings[0].message


def test_missing_tag_not_reported_for_a_project_that_never_tags(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"1.0": "", "1.1": ""})
    art = wheel("litellm", "1.1", litellm_files("1.1"))
    check = check_repository(
        art,
        name="litellm",
        version="1.1",
        repository=_url(repo),
        earlier_versions=["1.0"],
        cache_dir=tmp_path / "cache",
    )
    assert check.findings == ()


def test_src_layout_sdist_with_generated_files_and_odd_tag_name(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"2.0": "litellm-v{v}"}, layout="src")
    root = "litellm-2.0"
    files = {f"{root}/src/{k}": v for k, v in litellm_files("2.0").items()}
    files[f"{root}/PKG-INFO"] = b"Metadata-Version: 2.1\nName: litellm\nVersion: 2.0\n\n"
    files[f"{root}/src/litellm.egg-info/SOURCES.txt"] = b"x\n"
    files[f"{root}/src/litellm/_version.py"] = b"version = '2.0'\n"
    files[f"{root}/README.md"] = b"release 2.0\n"
    art = MemoryArtifact(files, kind=ArtifactKind.SDIST, label=root)
    check = check_repository(
        art, name="litellm", version="2.0", repository=_url(repo), earlier_versions=[], cache_dir=tmp_path / "cache"
    )
    assert check.tag == "litellm-v2.0"
    assert check.findings == ()


def test_dev_version_placeholder_is_a_real_difference(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"3.0": "{v}"})
    files = litellm_files("3.0")
    (repo / "litellm" / "__init__.py").write_bytes(b'__version__ = "0.0.0.dev0"\nfrom litellm.main import completion\n')
    _git(repo, "commit", "-q", "-am", "dev version")
    _git(repo, "tag", "-f", "3.0")
    check = check_repository(
        wheel("litellm", "3.0", files),
        name="litellm",
        version="3.0",
        repository=_url(repo),
        earlier_versions=[],
        cache_dir=tmp_path / "cache",
    )
    # "0.0.0.dev0" is not the version string, so this one is a real difference
    assert check.differing == ("litellm/__init__.py",)


def test_unreachable_repository_is_reported(tmp_path: Path) -> None:
    art = wheel("litellm", "1.0", litellm_files("1.0"))
    check = check_repository(
        art,
        name="litellm",
        version="1.0",
        repository=(tmp_path / "absent").as_uri(),
        earlier_versions=[],
        cache_dir=tmp_path / "cache",
    )
    assert _rules(check) == ["CW513"]
    assert "cannot list the tags" in check.findings[0].message


def test_rewritten_history_is_reported(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"1.0": "v{v}"})
    attested = _git(repo, "rev-parse", "HEAD").strip()
    (repo / "litellm" / "main.py").write_bytes(litellm_files("1.0")["litellm/main.py"])
    (repo / "NEWS").write_text("rewritten\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "--amend", "-m", "rewritten")
    _git(repo, "tag", "-f", "-a", "-m", "moved", "v1.0")
    art = wheel("litellm", "1.0", litellm_files("1.0"))
    check = check_repository(
        art,
        name="litellm",
        version="1.0",
        repository=_url(repo),
        earlier_versions=[],
        cache_dir=tmp_path / "cache",
        attested_commit=attested,
    )
    assert _rules(check) == ["CW513"]
    assert "the tag was moved or the history rewritten" in check.findings[0].message


def test_list_tags_peels_annotated_tags(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"1.0": "v{v}"})
    _git(repo, "tag", "weird/tag-name_1.0+local")
    tags = list_tags(_url(repo))
    head = _git(repo, "rev-parse", "HEAD").strip()
    assert tags["v1.0"] == head
    assert "weird/tag-name_1.0+local" in tags


def test_tag_candidates_and_lookup() -> None:
    candidates = tag_candidates("My_Pkg", "1.2.3")
    assert candidates[:2] == ["v1.2.3", "1.2.3"]
    assert {"my-pkg-1.2.3", "my_pkg-v1.2.3", "My_Pkg-1.2.3"} <= set(candidates)
    assert find_tag({"my-pkg-v1.2.3": "x"}, "My_Pkg", "1.2.3") == "my-pkg-v1.2.3"
    assert find_tag({"v1.2.30": "x", "1.2.3.post1": "y"}, "My_Pkg", "1.2.3") == ""
    assert "v1.0rc1" in tag_candidates("x", "1.0-rc1")


def test_repository_from_earlier_metadata_not_the_suspect() -> None:
    earlier = [
        PackageMetadata("litellm", "1.82.5", project_urls=(("Repository", "https://github.com/BerriAI/litellm"),)),
        PackageMetadata("litellm", "1.82.6", project_urls=(("Source", "https://github.com/BerriAI/litellm.git"),)),
    ]
    assert repository_from_metadata(earlier) == "https://github.com/berriai/litellm"
    assert repository_url("https://github.com/psf/requests/tree/main") == "https://github.com/psf/requests"
    assert repository_url("https://docs.example.invalid/") == ""
    assert repository_from_metadata([]) == ""


@pytest.mark.parametrize(
    "bad", ["--upload-pack=touch {marker}", "-oProxyCommand=touch {marker}", "ext::sh -c touch% {marker}"]
)
def test_hostile_urls_run_nothing(tmp_path: Path, bad: str) -> None:
    marker = tmp_path / "pwned"
    art = wheel("x", "1.0", {"x/__init__.py": b""})
    url = bad.format(marker=marker)
    check = check_repository(
        art, name="x", version="1.0", repository=url, earlier_versions=[], cache_dir=tmp_path / "c"
    )
    assert _rules(check) == ["CW513"]
    assert not marker.exists()
