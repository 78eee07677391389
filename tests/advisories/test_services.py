"""Online services with injected clients replaying recorded real responses (no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chainwarden.advisories.check import check
from chainwarden.advisories.http import NetworkError, UrllibClient
from chainwarden.advisories.services.base import Query, ServiceError
from chainwarden.advisories.services.osv import OsvService
from chainwarden.advisories.services.pypi import PyPIService

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "pypi-json"


class Replay:
    """GETs answered from a table of recorded bodies; everything else is 'network down'."""

    def __init__(self, gets=None, posts=None):
        self.gets = gets or {}
        self.posts = posts or []
        self.seen: list[tuple[str, object]] = []

    def get(self, url: str) -> bytes:
        self.seen.append(("GET", url))
        if url not in self.gets:
            raise NetworkError(f"{url}: HTTP 404", status=404)
        body = self.gets[url]
        if isinstance(body, Exception):
            raise body
        return body

    def post_json(self, url: str, body: object) -> bytes:
        self.seen.append(("POST", body))
        if not self.posts:
            raise NetworkError(f"{url}: [Errno -3] Temporary failure in name resolution")
        return self.posts.pop(0)(body)


def test_pypi_recorded_vulnerabilities_are_merged_by_alias():
    client = Replay({"https://pypi.org/pypi/pycrypto/2.6.1/json": (RECORDED / "pycrypto.json").read_bytes()})
    report = check(PyPIService(client), [Query("pycrypto", "2.6.1")])
    ids = [m.id for m in report.matches]
    # The recording lists PYSEC-2018-97 and GHSA-6528-wvf6-f6qg for the same CVE: one problem.
    assert "PYSEC-2018-97" in ids
    assert "GHSA-6528-wvf6-f6qg" not in ids
    assert all(not m.fixed for m in report.matches)  # pycrypto is dead: nothing fixes it


def test_pypi_fixed_in_reaches_the_match():
    doc = json.loads((RECORDED / "ecdsa.json").read_text())
    doc["vulnerabilities"][0]["fixed_in"] = ["0.20.0"]
    client = Replay({"https://pypi.org/pypi/ecdsa/0.19.2/json": json.dumps(doc).encode()})
    report = check(PyPIService(client), [Query("ecdsa", "0.19.2")])
    assert any(m.fixed == ("0.20.0",) for m in report.matches)


def test_pypi_withdrawn_entries_do_not_match():
    doc = json.loads((RECORDED / "pycrypto.json").read_text())
    for vuln in doc["vulnerabilities"]:
        vuln["withdrawn"] = "2026-01-01T00:00:00Z"
    client = Replay({"https://pypi.org/pypi/pycrypto/2.6.1/json": json.dumps(doc).encode()})
    assert check(PyPIService(client), [Query("pycrypto", "2.6.1")]).matches == ()


def test_pypi_unknown_release_is_skipped_not_clean():
    client = Replay({"https://pypi.org/pypi/pycrypto/2.6.1/json": (RECORDED / "pycrypto.json").read_bytes()})
    report = check(PyPIService(client), [Query("pycrypto", "2.6.1"), Query("litellm", "1.82.8")])
    assert [s.query.name for s in report.skipped] == ["litellm"]
    assert "not found" in report.skipped[0].reason


def test_pypi_network_down_is_a_service_error_that_suggests_offline():
    client = Replay({"x": NetworkError("down")})
    client.get = lambda url: (_ for _ in ()).throw(NetworkError("connection refused"))  # type: ignore[method-assign]
    with pytest.raises(ServiceError) as info:
        check(PyPIService(client), [Query("a", "1")])
    assert "--offline" in str(info.value)


def test_osv_querybatch_then_one_get_per_record(mal_record):
    # The querybatch answer has the documented shape: ids and `modified` only, in query order.
    def batch(body):
        assert body == {
            "queries": [
                {"package": {"name": "litellm", "ecosystem": "PyPI"}, "version": "1.82.8"},
                {"package": {"name": "six", "ecosystem": "PyPI"}, "version": "1.16.0"},
            ]
        }
        return json.dumps(
            {"results": [{"vulns": [{"id": "MAL-2026-2144", "modified": mal_record["modified"]}]}, {}]}
        ).encode()

    client = Replay({"https://api.osv.dev/v1/vulns/MAL-2026-2144": json.dumps(mal_record).encode()}, [batch])
    report = check(OsvService(client), [Query("litellm", "1.82.8"), Query("six", "1.16.0")])
    assert [(m.name, m.id, m.malicious) for m in report.matches] == [("litellm", "MAL-2026-2144", True)]
    assert [kind for kind, _ in client.seen] == ["POST", "GET"]


def test_osv_follows_page_tokens(mal_record, pysec_records):
    other = next(r for r in pysec_records if r["affected"][0]["package"]["name"] == "urllib3")
    pages = [
        lambda body: json.dumps({"results": [{"vulns": [{"id": "MAL-2026-2144"}], "next_page_token": "t1"}]}).encode(),
        lambda body: (
            json.dumps({"results": [{"vulns": [{"id": other["id"]}]}]}).encode()
            if body["queries"][0].get("page_token") == "t1"
            else b"{}"
        ),
    ]
    gets = {
        "https://api.osv.dev/v1/vulns/MAL-2026-2144": json.dumps(mal_record).encode(),
        f"https://api.osv.dev/v1/vulns/{other['id']}": json.dumps(other).encode(),
    }
    client = Replay(gets, pages)
    report = check(OsvService(client), [Query("litellm", "1.82.8")])
    assert [m.id for m in report.matches] == ["MAL-2026-2144"]  # the urllib3 record does not affect litellm
    assert sum(1 for kind, _ in client.seen if kind == "GET") == 2


def test_osv_network_down_suggests_the_offline_database():
    with pytest.raises(ServiceError) as info:
        check(OsvService(Replay()), [Query("a", "1")])
    assert "--offline" in str(info.value)
    assert "db update" in str(info.value)


def test_osv_record_that_cannot_be_fetched_skips_its_package():
    batch = lambda body: json.dumps({"results": [{"vulns": [{"id": "GHSA-gone"}]}]}).encode()  # noqa: E731
    report = check(OsvService(Replay({}, [batch])), [Query("a", "1")])
    assert report.matches == ()
    assert report.skipped
    assert "GHSA-gone" in report.skipped[0].reason


@pytest.mark.parametrize("answer", [b"<html>", b"[]", json.dumps({"results": [{}, {}]}).encode()])
def test_osv_malformed_batch_answers_are_errors(answer):
    with pytest.raises(ServiceError):
        check(OsvService(Replay({}, [lambda body: answer])), [Query("a", "1")])


def test_real_client_refuses_plain_http_without_connecting():
    with pytest.raises(NetworkError, match="non-HTTPS"):
        UrllibClient().get("http://127.0.0.1:9/none")
