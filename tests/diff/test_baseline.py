"""Choosing the previous release from recorded real simple-API pages."""

from __future__ import annotations

import json
from pathlib import Path

from chainwarden.diff.baseline import Baseline, choose_baseline
from chainwarden.index_client import parse_json_page

INDEX = Path(__file__).resolve().parents[1] / "fixtures" / "index"


def _page(name: str, mutate: object = None):  # type: ignore[no-untyped-def]
    body = (INDEX / f"simple-{name}.json").read_bytes()
    if callable(mutate):
        doc = json.loads(body)
        mutate(doc)
        body = json.dumps(doc).encode()
    return parse_json_page(name, f"https://pypi.org/simple/{name}/", body)


def test_previous_release_of_litellm_skips_the_deleted_ones() -> None:
    base = choose_baseline(_page("litellm"), "1.82.8", "litellm-1.82.8-py3-none-any.whl")
    assert isinstance(base, Baseline)
    assert base.version == "1.82.6"
    assert base.file.filename == "litellm-1.82.6-py3-none-any.whl"


def test_yanked_predecessors_are_skipped_and_said() -> None:
    base = choose_baseline(_page("requests"), "2.32.2", "requests-2.32.2-py3-none-any.whl")
    assert isinstance(base, Baseline)
    assert base.version == "2.31.0"
    assert base.notes == (
        "requests 2.32.1 skipped: every file is yanked",
        "requests 2.32.0 skipped: every file is yanked",
    )


def test_sdist_only_predecessor_is_used_with_a_note() -> None:
    def drop_wheels(doc: dict) -> None:  # type: ignore[type-arg]
        doc["files"] = [
            f
            for f in doc["files"]
            if not (f["filename"].startswith("requests-2.31.0") and f["filename"].endswith(".whl"))
        ]

    base = choose_baseline(_page("requests", drop_wheels), "2.32.2", "requests-2.32.2-py3-none-any.whl")
    assert isinstance(base, Baseline)
    assert base.file.filename == "requests-2.31.0.tar.gz"
    assert "only an sdist exists" in base.notes[-1]


def test_no_previous_release() -> None:
    first = _page("requests").versions[0]
    reason = choose_baseline(_page("requests"), first, "")
    assert isinstance(reason, str)
    assert "no release before" in reason


def test_every_predecessor_yanked() -> None:
    def yank_all(doc: dict) -> None:  # type: ignore[type-arg]
        for f in doc["files"]:
            f["yanked"] = True

    reason = choose_baseline(_page("requests", yank_all), "2.32.3", "")
    assert isinstance(reason, str)
    assert reason.startswith("no usable release of requests before 2.32.3")


def test_pre_releases_are_not_baselines_for_finals_and_bad_versions_are_refused() -> None:
    page = _page("requests")
    base = choose_baseline(page, "2.0.0", "")
    assert isinstance(base, Baseline)
    assert "rc" not in base.version
    assert "b" not in base.version
    assert "not a PEP 440 version" in str(choose_baseline(page, "not-a-version", ""))
