"""The index client and the `name==version` source against the loopback test index."""

from __future__ import annotations

import hashlib
import json
import socket
import urllib.request
from typing import TYPE_CHECKING

import pytest

from chainwarden.artifact import ArtifactError
from chainwarden.index_client import (
    HashMismatch,
    IndexClient,
    IndexClientError,
    IndexUnavailable,
    ProjectNotFound,
    parse_html_page,
    version_from_filename,
)
from chainwarden.models import ArtifactKind
from chainwarden.sources import reopen, source_for
from chainwarden.sources.base import SourceOptions
from chainwarden.sources.index import IndexSource, parse_target
from chainwarden.sources.sdist import SdistArtifact
from chainwarden.sources.wheel import WheelArtifact
from support import IndexedFile, IndexServer, make_sdist, make_wheel

if TYPE_CHECKING:
    from pathlib import Path

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


def _publish(index: IndexServer, tmp_path: Path) -> tuple[IndexedFile, IndexedFile, IndexedFile]:
    wheel = make_wheel(tmp_path, "demo-pkg", "1.0", {"demo_pkg/__init__.py": "x = 1\n"})
    sdist = make_sdist(tmp_path, "demo-pkg", "1.0", {"setup.py": "from setuptools import setup\n"})
    newer = make_wheel(tmp_path, "demo-pkg", "1.1", {"demo_pkg/__init__.py": "x = 2\n"})
    files = (
        IndexedFile.from_path(
            wheel, upload_time="2026-03-24T10:39:00.000000Z", requires_python=">=3.9", core_metadata=b"Name: demo-pkg\n"
        ),
        IndexedFile.from_path(sdist, upload_time="2026-03-24T10:40:00.000000Z", yanked="compromised release"),
        IndexedFile.from_path(newer, upload_time="2026-04-01T00:00:00Z"),
    )
    for f in files:
        index.add_file("demo-pkg", f)
    return files


def _options(tmp_path: Path, index: IndexServer, *, offline: bool = False) -> SourceOptions:
    return SourceOptions(cache_dir=tmp_path / "cache", index_url=index.simple_url, offline=offline, timeout=5)


def test_json_listing_keeps_pep700_and_yanked(tmp_path: Path, index_server: IndexServer) -> None:
    wheel, sdist, _ = _publish(index_server, tmp_path)
    page = IndexClient(index_server.simple_url, timeout=5).project("Demo_Pkg")
    assert page.name == "demo-pkg"
    assert page.versions == ("1.0", "1.1")
    by_name = {f.filename: f for f in page.files}
    w = by_name[wheel.filename]
    assert w.sha256 == hashlib.sha256(wheel.content).hexdigest()
    assert w.upload_time == "2026-03-24T10:39:00.000000Z"
    assert w.uploaded is not None
    assert w.uploaded.year == 2026
    assert w.requires_python == ">=3.9"
    assert w.core_metadata
    assert w.size == len(wheel.content)
    assert (w.kind, w.version) == ("wheel", "1.0")
    s = by_name[sdist.filename]
    assert (s.yanked, s.yanked_reason, s.kind) == (True, "compromised release", "sdist")
    assert JSON_TYPE in index_server.requests[-1].accept
    assert index_server.requests[-1].path == "/simple/demo-pkg/"


def test_html_fallback_gives_the_same_files(tmp_path: Path) -> None:
    with IndexServer(json_enabled=False) as index:
        wheel, sdist, _ = _publish(index, tmp_path)
        page = IndexClient(index.simple_url, timeout=5).project("demo-pkg")
    by_name = {f.filename: f for f in page.files}
    assert set(by_name) == {wheel.filename, sdist.filename, "demo_pkg-1.1-py3-none-any.whl"}
    w = by_name[wheel.filename]
    assert w.sha256 == hashlib.sha256(wheel.content).hexdigest()
    assert w.requires_python == ">=3.9"  # entity-decoded
    assert w.core_metadata
    assert w.upload_time == ""  # HTML has no PEP 700 times
    assert by_name[sdist.filename].yanked_reason == "compromised release"
    assert page.versions == ("1.0", "1.1")


def test_html_parsing_resolves_relative_links() -> None:
    body = b'<a href="../../files/x-1.0.tar.gz#sha256=ABCD" data-yanked="">x-1.0.tar.gz</a>'
    page = parse_html_page("x", "https://example.invalid/simple/x/", body)
    (f,) = page.files
    assert f.url == "https://example.invalid/files/x-1.0.tar.gz"
    assert f.hashes == (("sha256", "abcd"),)
    assert f.yanked
    assert f.yanked_reason == ""


@pytest.mark.parametrize(
    ("filename", "version"),
    [
        ("demo-1.0-py3-none-any.whl", "1.0"),
        ("python-dateutil-2.8.2.tar.gz", "2.8.2"),
        ("pkg-1.0rc1.zip", "1.0rc1"),
        ("pkg-0.1.tar.bz2", "0.1"),
        ("pkg-0.1-py2.7.egg", "0.1"),
    ],
)
def test_version_from_filename(filename: str, version: str) -> None:
    assert version_from_filename(filename) == version


def test_download_verifies_caches_and_reuses(tmp_path: Path, index_server: IndexServer) -> None:
    wheel, _, _ = _publish(index_server, tmp_path)
    client = IndexClient(index_server.simple_url, timeout=5)
    (listed,) = [f for f in client.files("demo-pkg", "1.0") if f.kind == "wheel"]
    path = client.download(listed, tmp_path / "cache")
    assert path == tmp_path / "cache" / "files" / listed.sha256
    assert path.read_bytes() == wheel.content
    downloads = [r for r in index_server.requests if r.path.startswith("/files/")]
    assert len(downloads) == 1
    assert client.download(listed, tmp_path / "cache") == path
    assert len([r for r in index_server.requests if r.path.startswith("/files/")]) == 1  # reused
    path.write_bytes(b"corrupted cache entry")
    assert client.download(listed, tmp_path / "cache").read_bytes() == wheel.content  # refetched
    assert sorted(p.name for p in (tmp_path / "cache" / "files").iterdir()) == [listed.sha256]


def test_hash_mismatch_is_an_error_and_leaves_nothing(tmp_path: Path, index_server: IndexServer) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": ""})
    index_server.add_file("demo", IndexedFile.from_path(wheel, hashes={"sha256": "0" * 64}))
    client = IndexClient(index_server.simple_url, timeout=5)
    (listed,) = client.files("demo", "1.0")
    with pytest.raises(HashMismatch, match="does not match"):
        client.download(listed, tmp_path / "cache")
    assert list((tmp_path / "cache" / "files").iterdir()) == []
    with pytest.raises(ArtifactError, match="does not match"):
        list(IndexSource().open("demo==1.0", _options(tmp_path, index_server)))


def test_file_without_usable_hash_is_refused(tmp_path: Path, index_server: IndexServer) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": ""})
    index_server.add_file("demo", IndexedFile.from_path(wheel, hashes={"md5": hashlib.md5(b"x").hexdigest()}))
    client = IndexClient(index_server.simple_url, timeout=5)
    (listed,) = client.files("demo")
    with pytest.raises(IndexClientError, match="no usable hash"):
        client.download(listed, tmp_path / "cache")


def test_unknown_project_is_not_found(index_server: IndexServer) -> None:
    with pytest.raises(ProjectNotFound, match="404"):
        IndexClient(index_server.simple_url, timeout=5).project("nope")


def test_index_answering_503_is_unavailable(index_server: IndexServer) -> None:
    index_server.fail_status = 503
    with pytest.raises(IndexUnavailable, match="HTTP 503"):
        IndexClient(index_server.simple_url, timeout=5).project("demo")


def test_index_down_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port on loopback that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    options = SourceOptions(cache_dir=tmp_path / "cache", index_url=f"http://127.0.0.1:{port}/simple/", timeout=2)
    with pytest.raises(IndexUnavailable) as err:
        list(IndexSource().open("demo==1.0", options))
    assert "cannot reach the package index" in str(err.value)
    assert "\n" not in str(err.value)


def test_non_http_index_url_is_refused() -> None:
    with pytest.raises(IndexClientError, match="http"):
        IndexClient("file:///etc/")


def test_source_yields_every_file_of_the_version(tmp_path: Path, index_server: IndexServer) -> None:
    wheel, sdist, _ = _publish(index_server, tmp_path)
    source = source_for("demo-pkg==1.0")
    assert isinstance(source, IndexSource)
    artifacts = list(source.open("demo-pkg==1.0", _options(tmp_path, index_server)))
    assert [a.ref.label for a in artifacts] == [wheel.filename, sdist.filename]
    w, s = artifacts
    assert isinstance(w, WheelArtifact)
    assert isinstance(s, SdistArtifact)
    assert w.ref.kind is ArtifactKind.WHEEL
    assert s.ref.kind is ArtifactKind.SDIST
    assert w.ref.location == str(tmp_path / "cache" / "files" / hashlib.sha256(wheel.content).hexdigest())
    assert w.ref.sha256 == hashlib.sha256(wheel.content).hexdigest()
    assert w.index_file is not None
    assert w.index_file.upload_time == "2026-03-24T10:39:00.000000Z"
    assert w.metadata is not None
    assert w.metadata.name == "demo-pkg"
    assert w.problems == ()
    (yanked,) = s.problems
    assert yanked.rule_id == "CW029"
    assert "compromised release" in yanked.message
    again = reopen(w.ref, _options(tmp_path, index_server))  # through the wheel source, no network
    assert list(again.members()) == list(w.members())


def test_missing_version_lists_known_versions(tmp_path: Path, index_server: IndexServer) -> None:
    _publish(index_server, tmp_path)
    with pytest.raises(ArtifactError, match=r"no wheel or sdist .*1\.0, 1\.1"):
        list(IndexSource().open("demo-pkg==9.9", _options(tmp_path, index_server)))


def test_offline_uses_what_was_cached(tmp_path: Path, index_server: IndexServer) -> None:
    _publish(index_server, tmp_path)
    with pytest.raises(ArtifactError, match="offline"):
        list(IndexSource().open("demo-pkg==1.0", _options(tmp_path, index_server, offline=True)))
    online = [a.ref for a in IndexSource().open("demo-pkg==1.0", _options(tmp_path, index_server))]
    seen = len(index_server.requests)
    offline = [a.ref for a in IndexSource().open("demo-pkg==1.0", _options(tmp_path, index_server, offline=True))]
    assert offline == online
    assert len(index_server.requests) == seen


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("requests==2.31.0", ("requests", "2.31.0")),
        (" Demo_Pkg == 1.0rc1 ", ("Demo_Pkg", "1.0rc1")),
        ("requests>=2", None),
        ("requests", None),
        ("./dist/x.whl", None),
    ],
)
def test_parse_target(target: str, expected: tuple[str, str] | None) -> None:
    assert parse_target(target) == expected


def test_existing_path_is_not_an_index_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "odd==1.0").mkdir()
    assert not IndexSource().claims("odd==1.0")


def test_pypi_json_api_for_later_issues(tmp_path: Path, index_server: IndexServer) -> None:
    _publish(index_server, tmp_path)
    index_server.projects["demo-pkg"].vulnerabilities = [{"id": "PYSEC-0000-1", "fixed_in": ["1.1"]}]
    with urllib.request.urlopen(f"{index_server.url}/pypi/demo-pkg/json", timeout=5) as response:
        doc = json.loads(response.read())
    assert doc["info"]["version"] == "1.1"
    assert sorted(doc["releases"]) == ["1.0", "1.1"]
    assert doc["vulnerabilities"][0]["id"] == "PYSEC-0000-1"
    yanked = [f for f in doc["releases"]["1.0"] if f["yanked"]]
    assert yanked[0]["yanked_reason"] == "compromised release"
    with urllib.request.urlopen(f"{index_server.url}/pypi/demo-pkg/1.0/json", timeout=5) as response:
        assert len(json.loads(response.read())["urls"]) == 2


def test_core_metadata_is_fetched_and_verified(tmp_path: Path) -> None:
    for json_enabled in (True, False):
        with IndexServer(json_enabled=json_enabled) as index:
            wheel, sdist, _ = _publish(index, tmp_path)
            client = IndexClient(index.simple_url, timeout=5)
            by_name = {f.filename: f for f in client.files("demo-pkg")}
            listed = by_name[wheel.filename]
            assert listed.core_metadata_hashes == (("sha256", hashlib.sha256(b"Name: demo-pkg\n").hexdigest()),)
            assert client.core_metadata(listed) == b"Name: demo-pkg\n"
            with pytest.raises(IndexClientError, match="no separate metadata"):
                client.core_metadata(by_name[sdist.filename])
            wheel.core_metadata = b"Name: tampered\n"  # served bytes change, the listing we hold does not
            with pytest.raises(HashMismatch):
                client.core_metadata(listed)
