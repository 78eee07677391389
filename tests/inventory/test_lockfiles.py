"""Every lockfile format parses its real example (tests/fixtures/lockfiles, made by the real tools)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainwarden.inventory.discover import discover, find_targets, parser_for

LOCKFILES = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles"
TOOLS = ("uv", "poetry", "pdm", "pylock", "pip-compile", "pipenv")
LOCK_NAMES = {
    "uv": "uv.lock",
    "poetry": "poetry.lock",
    "pdm": "pdm.lock",
    "pylock": "pylock.toml",
    "pip-compile": "requirements.txt",
    "pipenv": "Pipfile.lock",
}
#: Resolved by the tools on 2026-11-26 (plus the hand-inserted litellm, see the fixture README).
DIRECT = {"certifi", "chardet", "idna", "litellm", "requests", "urllib3"}
TRANSITIVE = {"anyio", "certifi", "h11", "httpcore", "httpx", "idna", "litellm", "sniffio", "typing-extensions"}


@pytest.mark.parametrize("tool", TOOLS)
def test_direct_project_parses(tool):
    inv = discover(LOCKFILES / "direct" / tool)
    assert inv.problems == ()
    assert {p.key for p in inv.packages} == DIRECT
    versions = {p.key: p.version for p in inv.packages}
    assert versions["requests"] == "2.25.0"
    assert versions["litellm"] == "1.82.8"
    (litellm,) = inv.package("litellm")
    assert litellm.direct is True
    assert litellm.source.endswith(LOCK_NAMES[tool])
    (requests,) = inv.package("requests")
    assert requests.direct is True
    assert all(h.startswith("sha256:") and len(h) == 71 for h in requests.hashes)
    assert requests.hashes  # every real tool recorded hashes for requests


@pytest.mark.parametrize("tool", TOOLS)
def test_transitive_project_parses(tool):
    inv = discover(LOCKFILES / "transitive" / tool)
    assert inv.problems == ()
    assert {p.key for p in inv.packages} == TRANSITIVE
    (litellm,) = inv.package("litellm")
    assert litellm.direct is False
    (httpx,) = inv.package("httpx")
    assert httpx.direct is True


@pytest.mark.parametrize("tool", ["uv", "poetry", "pdm", "pip-compile"])
def test_locks_with_edges_give_the_path(tool):
    inv = discover(LOCKFILES / "transitive" / tool)
    assert inv.path_to("litellm") == ("httpx", "litellm")
    (httpx,) = inv.package("httpx")
    assert {"anyio", "httpcore", "litellm"} <= set(httpx.dependencies)


def test_each_file_is_claimed_by_its_parser():
    for tool, name in LOCK_NAMES.items():
        path = LOCKFILES / "direct" / tool / name
        parser = parser_for(path)
        assert parser is not None, path
        assert find_targets(path) == [path]
    assert parser_for(Path("pylock.dev.toml")) is not None
    assert parser_for(Path("requirements/dev.lock")).name == "requirements"  # uv pip compile output
    assert parser_for(Path("requirements-dev.txt")).name == "requirements"
    assert parser_for(Path("foo.lock")) is None
    assert parser_for(Path("pylock.a.b.toml")) is None
    assert parser_for(Path("README.md")) is None


def test_which_file_declared_what():
    inv = discover(LOCKFILES / "direct" / "uv")
    formats = {Path(f.file).name: f.format for f in inv.files}
    assert formats == {"uv.lock": "uv.lock", "pyproject.toml": "pyproject.toml"}
    declared = {r.key: r.pinned_version for r in inv.requirements}
    assert declared == {"litellm": "1.82.8", "requests": "2.25.0"}
