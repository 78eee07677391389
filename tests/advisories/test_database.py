"""The offline database: built from the real OSV records, incremental, integrity-checked."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import zipfile

import pytest
from osv_testdata import make_zip

from chainwarden.advisories.check import check
from chainwarden.advisories.database import AdvisoryDatabase, DatabaseError, update
from chainwarden.advisories.dump import DumpError, read_dump
from chainwarden.advisories.services.base import Query, ServiceError
from chainwarden.advisories.services.offline import OfflineService


def test_built_from_real_records_answers_litellm(offline_db):
    report = check(OfflineService(offline_db), [Query("litellm", "1.82.8"), Query("litellm", "1.82.6")])
    assert [(m.name, m.version, m.id, m.malicious) for m in report.matches] == [
        ("litellm", "1.82.8", "MAL-2026-2144", True)
    ]


def test_info_counts_the_records(offline_db, pysec_records):
    with AdvisoryDatabase.open(offline_db) as db:
        info = db.info()
    assert info.records == len(pysec_records) + 1
    assert info.packages > 500
    assert info.newest_modified == "2026-03-26T09:53:17Z"


def test_incremental_update_rewrites_only_what_changed(tmp_path, pysec_records, mal_record):
    path = tmp_path / "db.sqlite3"
    first = update(path, read_dump(make_zip([*pysec_records[:50], mal_record])), "a")
    assert (first.added, first.rebuilt) == (51, True)
    changed = dict(pysec_records[0], modified="2030-01-01T00:00:00Z", summary="changed")
    second = update(path, read_dump(make_zip([changed, *pysec_records[1:49], mal_record])), "b")
    assert (second.added, second.changed, second.removed, second.unchanged, second.rebuilt) == (0, 1, 1, 49, False)
    with AdvisoryDatabase.open(path) as db:
        assert db.info().records == 50
        assert db.info().source == "b"


def test_withdrawn_record_is_stored_but_never_matches(tmp_path, mal_record):
    withdrawn = dict(mal_record, withdrawn="2026-03-27T00:00:00Z")
    path = tmp_path / "db.sqlite3"
    update(path, read_dump(make_zip([withdrawn])), "x")
    report = check(OfflineService(path), [Query("litellm", "1.82.8")])
    assert report.matches == ()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a zip at all", "not a readable zip"),
        (make_zip([], {"README.txt": b"hi"}), "no OSV JSON records"),
        (make_zip([], {"A.json": b"{not json"}), "invalid JSON"),
        (make_zip([], {"A.json": b"[1, 2]"}), "must be a JSON object"),
        (make_zip([], {"A.json": json.dumps({"id": "A"}).encode()}), "no 'modified'"),
        (
            make_zip([{"id": "A", "modified": "x"}], {"dup/A.json": json.dumps({"id": "A", "modified": "x"}).encode()}),
            "twice",
        ),
    ],
)
def test_bad_dumps_are_refused(data, message):
    with pytest.raises(DumpError, match=message):
        read_dump(data, "dump.zip")


def test_crc_damage_is_refused(mal_record):
    data = bytearray(make_zip([mal_record]))
    offset = data.index(b"PK\x03\x04")
    name_len = int.from_bytes(data[offset + 26 : offset + 28], "little")
    extra_len = int.from_bytes(data[offset + 28 : offset + 30], "little")
    body = offset + 30 + name_len + extra_len
    data[body + 5] ^= 0xFF  # flip a byte of the compressed member
    with pytest.raises(DumpError):
        read_dump(bytes(data), "damaged.zip")


def test_truncated_zip_is_refused(osv_json_zip):
    with pytest.raises(DumpError):
        read_dump(osv_json_zip[: len(osv_json_zip) // 2], "truncated.zip")


def test_corrupt_database_is_detected_with_a_rebuild_hint(tmp_path):
    path = tmp_path / "db.sqlite3"
    path.write_bytes(b"garbage" * 100)
    with pytest.raises(DatabaseError) as info:
        AdvisoryDatabase.open(path)
    assert "corrupt" in str(info.value)
    assert "chainwarden db update" in info.value.hint
    with pytest.raises(ServiceError, match="db update"):
        OfflineService(path).lookup([Query("a", "1")])


def test_database_of_another_schema_is_refused(tmp_path):
    path = tmp_path / "db.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE meta (key TEXT, value TEXT)")
        conn.execute("INSERT INTO meta VALUES ('schema_version', '999')")
    conn.close()
    with pytest.raises(DatabaseError, match="schema 999"):
        AdvisoryDatabase.open(path)


def test_missing_database_says_how_to_create_it(tmp_path):
    with pytest.raises(ServiceError, match="db update"):
        OfflineService(tmp_path / "none.sqlite3").lookup([Query("a", "1")])


def test_update_replaces_a_corrupt_database(tmp_path, mal_record):
    path = tmp_path / "db.sqlite3"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    stats = update(path, read_dump(make_zip([mal_record])), "x")
    assert stats.rebuilt
    with AdvisoryDatabase.open(path) as db:
        assert db.info().records == 1


def test_stale_database_is_noted(tmp_path, mal_record):
    path = tmp_path / "db.sqlite3"
    update(path, read_dump(make_zip([mal_record])), "x")
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE meta SET value = '2020-01-01T00:00:00+00:00' WHERE key = 'updated'")
    conn.close()
    result = OfflineService(path).lookup([Query("litellm", "1.82.8")])
    assert any("days old" in note for note in result.notes)


def test_zip_members_larger_than_a_record_could_be_are_refused():
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("BIG.json", b" " * (17 * 1024 * 1024))
    with pytest.raises(DumpError, match="larger than"):
        read_dump(buffer.getvalue(), "bomb.zip")


def test_index_answers_exactly_what_full_records_answer(offline_db, pysec_records, mal_record):
    """The database decides from its index (enumerated versions + ranges); brute force over the
    full records with `match` must give the same merged findings for every query."""
    import random

    from chainwarden.advisories.matching import match
    from chainwarden.advisories.merge import merge
    from chainwarden.advisories.model import parse_advisory

    records = [parse_advisory(r) for r in [*pysec_records, mal_record]]
    by_name: dict[str, list] = {}
    for adv in records:
        for affected in adv.affected:
            by_name.setdefault(affected.name, []).append(adv)
    rng = random.Random(5)
    queries = []
    for name in rng.sample(sorted(by_name), 150):
        listed = [v for adv in by_name[name] for a in adv.affected_for(name) for v in a.versions]
        for version in {*rng.sample(listed, min(2, len(listed))), "0.0.1", "999.0", "1.0", "2.0.0rc1"}:
            queries.append(Query(name, version))
    indexed = check(OfflineService(offline_db), queries)
    got = {(m.name, m.version, m.id, m.aliases, m.fixed, m.severity, m.malicious) for m in indexed.matches}
    want = set()
    for q in queries:
        hits = [m for adv in by_name[q.name] if (m := match(adv, q.name, q.version))]
        want |= {(m.name, m.version, m.id, m.aliases, m.fixed, m.severity, m.malicious) for m in merge(hits)}
    assert got == want
    assert len(want) > 100


def test_full_record_is_kept(offline_db):
    with AdvisoryDatabase.open(offline_db) as db:
        record = db.record("MAL-2026-2144")
        assert record is not None
        assert record.malicious
        assert "litellm" in record.details
        assert db.record("NOPE-1") is None


def test_truncated_database_is_detected_without_a_full_scan(tmp_path, offline_db):
    path = tmp_path / "db.sqlite3"
    data = offline_db.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatabaseError, match="truncated"):
        AdvisoryDatabase.open(path)
    with pytest.raises(ServiceError, match="db update"):
        OfflineService(path).lookup([Query("litellm", "1.82.8")])


def test_damaged_pages_are_caught_by_the_thorough_check_or_while_reading(tmp_path, offline_db):
    path = tmp_path / "db.sqlite3"
    data = bytearray(offline_db.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    for page in range(2, len(data) // page_size, 3):  # scribble over every third page
        start = page * page_size
        data[start : start + 64] = b"\xa5" * 64
    path.write_bytes(bytes(data))
    with pytest.raises(DatabaseError, match="corrupt"):
        AdvisoryDatabase.open(path, thorough=True)
    # An audit does not scan every page up front, but never answers from a damaged one.
    names = [f"pkg{i}" for i in range(50)] + ["litellm", "django", "requests", "urllib3", "jinja2"]
    with pytest.raises(ServiceError, match="corrupt"):
        OfflineService(path).lookup([Query(n, "1.0") for n in names])
