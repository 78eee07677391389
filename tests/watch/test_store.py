"""The results store behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from chainwarden.watch.store import Store, StoreError


def test_migrations_are_idempotent(store_url: str) -> None:
    store = Store.open(store_url)
    assert store.migrate() == 2
    store.close()
    again = Store.open(store_url)
    assert again.migrate() == 2
    again.close()


def test_projects_dependencies_and_exposure(store_url: str) -> None:
    store = Store.open(store_url)
    pid = store.upsert_project("/p/a", [("quietpkg", "", ">=1.0", True), ("requests", "2.32.3", "==2.32.3", False)])
    store.upsert_project("/p/b", [("quietpkg", "1.0", "==1.0", True)])
    assert store.upsert_project("/p/a", [("quietpkg", "", ">=1.0", True)]) == pid  # replaces the list
    assert [d[1] for d in store.dependencies(pid)] == ["quietpkg"]
    assert store.exposed_projects("quietpkg") == [("/p/a", "", ">=1.0"), ("/p/b", "1.0", "==1.0")]
    assert store.package_names() == ["quietpkg", "requests"]
    store.close()


def test_release_lifecycle_survives_reopen(store_url: str) -> None:
    store = Store.open(store_url)
    store.upsert_project("/p", [("quietpkg", "", "", True)])
    store.save_poll_state("quietpkg", "etag1", "7", ["1.0"])
    assert store.poll_state("quietpkg") == ("etag1", "7", ["1.0"])
    assert store.add_release("quietpkg", "1.1", "2026-03-24T10:52:00Z")
    assert not store.add_release("quietpkg", "1.1", "")
    store.mark_scanning("quietpkg", "1.1")
    store.close()
    # a crash mid-scan: the release is still pending after reopening
    store = Store.open(store_url)
    (pending,) = store.pending_releases()
    assert (pending.name, pending.version, pending.state) == ("quietpkg", "1.1", "scanning")
    scan_id = store.record_scan(
        "quietpkg",
        "1.1",
        started="t",
        blocked=True,
        worst="critical",
        summary="CW101 critical",
        report={"ok": True},
        findings=[("CW101", "critical", "interpreter-start", "quietpkg_init.pth", 1, "runs code", "import os")],
        alert=("key-1", "release-blocked", {"package": "quietpkg"}),
    )
    assert store.pending_releases() == []
    assert store.release("quietpkg", "1.1").verdict == "blocked"
    assert store.findings(scan_id)[0][1] == "CW101"
    assert store.search_findings("pth")[0][0] == "quietpkg"
    assert store.latest_scan("quietpkg", "1.1") == (scan_id, {"ok": True})
    store.close()


def test_alert_outbox_dedupes_and_tracks_delivery(store_url: str) -> None:
    store = Store.open(store_url)
    store.add_alert("k1", "release-blocked", "quietpkg", "1.1", {"a": 1})
    store.add_alert("k1", "release-blocked", "quietpkg", "1.1", {"a": 2})  # same key: ignored
    (alert,) = store.undelivered("9999")
    assert alert.payload == {"a": 1}
    store.mark_attempt(alert.id, "HTTP 500", "2999-01-01T00:00:00+00:00")
    assert store.undelivered("2026-01-01") == []  # backing off
    assert len(store.undelivered("3000")) == 1
    store.mark_delivered(alert.id)
    assert store.undelivered("3000") == []
    assert store.acknowledge(alert.id, "ignored", "false positive, reviewed")
    assert store.alert(alert.id).status == "ignored"
    with pytest.raises(StoreError):
        store.acknowledge(alert.id, "deleted", "")
    store.close()


def test_unusable_locations_are_clear_errors(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot open the store"):
        Store.open(str(blocker / "sub" / "db.sqlite3"))
    with pytest.raises(StoreError, match="cannot connect to PostgreSQL"):
        Store.open("postgresql://nobody@127.0.0.1:1/none")
