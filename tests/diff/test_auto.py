"""`scan NAME==VERSION` -> automatic diff against the previous release on a loopback index."""

from __future__ import annotations

from typing import TYPE_CHECKING

from diffpairs import PROXY_MALICIOUS, PTH_MALICIOUS, litellm_files

from chainwarden.diff.auto import with_previous_release
from chainwarden.engine import Scanner, ScanOptions
from chainwarden.models import ArtifactKind, ArtifactRef, ArtifactResult
from support import IndexedFile, IndexServer, make_wheel

if TYPE_CHECKING:
    from pathlib import Path


def _publish(tmp_path: Path, index_server: IndexServer, *versions: str) -> None:
    d = tmp_path / "dist"
    d.mkdir(exist_ok=True)
    for version in versions:
        files = litellm_files(version)
        if version == "1.82.8":
            files["litellm/proxy/proxy_server.py"] = PROXY_MALICIOUS
            files["litellm_init.pth"] = PTH_MALICIOUS
        index_server.add_file("litellm", IndexedFile.from_path(make_wheel(d, "litellm", version, files)))


def test_scan_result_gains_the_diff_first(tmp_path: Path, index_server: IndexServer) -> None:
    _publish(tmp_path, index_server, "1.82.6", "1.82.8")
    options = ScanOptions(jobs=1, cache_dir=tmp_path / "c", index_url=index_server.simple_url)
    with Scanner(options) as scanner:
        report = scanner.scan(["litellm==1.82.8"])
        (result,) = report.results
        merged = with_previous_release(result, scanner, options.source_options())
    assert merged.findings[0].rule_id == "CW601"
    assert merged.findings[0].location.path == "litellm_init.pth"
    assert len(merged.findings) > len(result.findings)
    # the scan's own findings are kept as they were, after the diff's; none of them twice
    added = merged.findings[: len(merged.findings) - len(result.findings)]
    assert merged.findings[len(added) :] == result.findings
    assert not {f.evidence_hash for f in added} & {f.evidence_hash for f in result.findings}


def test_first_release_gets_a_no_baseline_note(tmp_path: Path, index_server: IndexServer) -> None:
    _publish(tmp_path, index_server, "1.82.6")
    options = ScanOptions(jobs=1, cache_dir=tmp_path / "c", index_url=index_server.simple_url)
    with Scanner(options) as scanner:
        (result,) = scanner.scan(["litellm==1.82.6"]).results
        merged = with_previous_release(result, scanner, options.source_options())
    assert merged.findings[0].rule_id == "CW606"
    assert "no release before 1.82.6" in merged.findings[0].message


def test_non_archive_result_is_said_not_dropped(tmp_path: Path) -> None:
    ref = ArtifactRef(ArtifactKind.DIRECTORY, str(tmp_path), "proj")
    result = ArtifactResult(ref=ref, metadata=None, findings=())
    with Scanner(ScanOptions(jobs=1, cache_dir=tmp_path / "c")) as scanner:
        merged = with_previous_release(result, scanner, ScanOptions(cache_dir=tmp_path / "c").source_options())
    assert [f.rule_id for f in merged.findings] == ["CW606"]
    assert "only wheels and sdists" in merged.findings[0].message


def test_report_level_diff_only_touches_index_results(tmp_path: Path, index_server: IndexServer) -> None:
    from chainwarden.diff.auto import with_previous_releases

    _publish(tmp_path, index_server, "1.82.6", "1.82.8")
    local = make_wheel(tmp_path / "dist", "other", "1.0", {"other/__init__.py": ""})
    options = ScanOptions(jobs=1, cache_dir=tmp_path / "c", index_url=index_server.simple_url)
    with Scanner(options) as scanner:
        report = scanner.scan(["litellm==1.82.8", str(local)])
        merged = with_previous_releases(report, scanner, options.source_options())
    by_label = {r.ref.label: r for r in merged.results}
    assert by_label["litellm-1.82.8-py3-none-any.whl"].findings[0].rule_id == "CW601"
    assert by_label["other-1.0-py3-none-any.whl"] == next(r for r in report.results if r.ref.label.startswith("other"))
