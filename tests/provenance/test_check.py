"""The provenance orchestrator over a real attested sdist, and the integrity API client on loopback."""

from __future__ import annotations

import datetime as dt
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from chainwarden.models import ArtifactKind, ArtifactRef
from chainwarden.provenance.check import IntegrityClient, ProvenanceInputs, check_provenance
from chainwarden.provenance.index import IndexFile, ProjectInfo
from chainwarden.provenance.publisher import ReleaseProvenance
from chainwarden.sources.sdist import SdistArtifact

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "attestations"
SDIST = "pypi_attestations-0.0.19.tar.gz"


def _artifact() -> SdistArtifact:
    path = FIXTURES / SDIST
    return SdistArtifact(path, ArtifactRef(ArtifactKind.SDIST, str(path), label=SDIST))


def _project(*, with_current: bool = True) -> ProjectInfo:
    t = dt.datetime(2024, 12, 4, tzinfo=dt.UTC)
    files = [IndexFile("pypi_attestations-0.0.18.tar.gz", "0.0.18", "sdist", upload_time=t - dt.timedelta(days=20))]
    if with_current:
        files.append(IndexFile(SDIST, "0.0.19", "sdist", upload_time=t))
    return ProjectInfo("pypi-attestations", tuple(files), owners=("woodruffw",))


def _prov() -> bytes:
    return (FIXTURES / f"{SDIST}.provenance").read_bytes()


def test_attested_release_with_pinned_publisher_is_clean(tmp_path: Path) -> None:
    pytest.importorskip("pypi_attestations", reason="the optional 'provenance' extra is not installed")
    inputs = ProvenanceInputs(
        project=_project(),
        provenance=_prov(),
        earlier_provenance=(ReleaseProvenance("0.0.18", _prov()),),
        pinned_owners=("woodruffw",),
    )
    with _artifact() as art:
        assert art.metadata is not None
        assert art.metadata.version == "0.0.19"
        assert check_provenance(art, inputs, cache_dir=tmp_path) == ()


def test_everything_wrong_at_once(tmp_path: Path) -> None:
    inputs = ProvenanceInputs(
        project=_project(with_current=False),
        provenance=None,
        provenance_known=True,
        earlier_provenance=(ReleaseProvenance("0.0.18", _prov()),),
        internal_names=frozenset({"pypi-attestations"}),
        pinned_owners=("someone-else",),
    )
    with _artifact() as art:
        rules = [f.rule_id for f in check_provenance(art, inputs, cache_dir=tmp_path)]
    assert rules == ["CW521", "CW528", "CW524", "CW500"]


def test_tag_comparison_needs_a_repository_from_earlier_releases(tmp_path: Path) -> None:
    """The suspect sdist's own Project-URLs are never used: with no earlier metadata and no pinned
    publisher there is no repository to compare with (and git is never run)."""
    inputs = ProvenanceInputs(project=_project())
    with _artifact() as art:
        assert art.metadata is not None
        findings = check_provenance(art, inputs, cache_dir=tmp_path, compare_with_tag=True)
    assert findings == ()
    assert not (tmp_path / "git").exists()


class _Handler(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        if self.path == f"/integrity/pypi-attestations/0.0.19/{SDIST}/provenance":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(self.body)
        elif self.path.startswith("/integrity/broken/"):
            self.send_response(500)
            self.end_headers()
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_integrity_client_on_loopback() -> None:
    _Handler.body = _prov()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = IntegrityClient(f"http://127.0.0.1:{server.server_address[1]}", timeout=5)
        assert client.provenance("PyPI_Attestations", "0.0.19", SDIST) == _prov()
        assert client.provenance("pypi-attestations", "0.0.18", "x.tar.gz") is None
        with pytest.raises(OSError, match="HTTP 500"):
            client.provenance("broken", "1", "x.tar.gz")
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(OSError, match="cannot reach"):
        IntegrityClient("http://127.0.0.1:9", timeout=2).provenance("x", "1", "x.tar.gz")
    with pytest.raises(ValueError, match="http"):
        IntegrityClient("file:///etc")


def test_scan_results_gain_index_signals(tmp_path: Path, index_server: object) -> None:
    from chainwarden.engine import Scanner, ScanOptions
    from chainwarden.provenance.check import with_index_signals
    from support import IndexedFile, make_wheel

    d = tmp_path / "dist"
    d.mkdir()
    old = make_wheel(d, "litelm", "1.0", {"litelm/__init__.py": "x = 1\n"})
    new = make_wheel(d, "litelm", "1.1", {"litelm/__init__.py": "x = 2\n"})
    index_server.add_file("litelm", IndexedFile.from_path(old, upload_time="2021-01-01T00:00:00Z"))  # type: ignore[attr-defined]
    index_server.add_file("litelm", IndexedFile.from_path(new, upload_time="2026-01-01T00:00:00Z"))  # type: ignore[attr-defined]
    options = ScanOptions(jobs=1, cache_dir=tmp_path / "c", index_url=index_server.simple_url)  # type: ignore[attr-defined]
    with Scanner(options) as scanner:
        report = scanner.scan(["litelm==1.1", str(old)])
    merged = with_index_signals(report, options.source_options())
    by_label = {r.ref.label: r for r in merged.results}
    from_index = by_label["litelm-1.1-py3-none-any.whl"]
    assert [f.rule_id for f in from_index.findings[:2]] == ["CW520", "CW523"]
    assert "`litellm`" in from_index.findings[0].message
    local = next(r for r in report.results if r.ref.location == str(old))
    assert by_label[local.ref.label] == local  # paths are not index releases
    offline = with_index_signals(report, ScanOptions(cache_dir=tmp_path / "c", offline=True).source_options())
    assert offline == report


def test_missing_extra_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from chainwarden.provenance.attestations import AttestationVerifier, VerifierUnavailableError

    monkeypatch.setitem(__import__("sys").modules, "pypi_attestations", None)
    with pytest.raises(VerifierUnavailableError, match=r"pip install 'chainwarden\[provenance\]'"):
        AttestationVerifier()
