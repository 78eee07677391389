"""The analyzer in the pipeline: selection, judging, the model-file source, caching, the ML-BOM list."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chainwarden.analyzers.base import ArtifactView
from chainwarden.analyzers.mlmodels.analyzer import ModelAnalyzer
from chainwarden.analyzers.mlmodels.globals import GlobalClass, classify
from chainwarden.analyzers.mlmodels.sbom import ModelVerdict, model_components
from chainwarden.engine import Scanner, ScanOptions
from chainwarden.models import ArtifactKind, ArtifactRef, Member, MemberKind, Severity, Trigger
from chainwarden.sources import source_for
from chainwarden.sources.base import SourceOptions
from chainwarden.sources.modelfile import ModelFileSource
from support import modelcraft as mc

if TYPE_CHECKING:
    from pathlib import Path


def _view(kind: ArtifactKind = ArtifactKind.DIRECTORY) -> ArtifactView:
    return ArtifactView(ArtifactRef(kind, "/x", "x"), kind, None, ())


@pytest.mark.parametrize(
    ("path", "selected"),
    [
        ("model.pt", True),
        ("a/b/pytorch_model.bin", True),
        ("x.pkl.gz", True),
        ("weights", True),
        ("site.pth", True),
        ("module.py", False),
        ("README.md", False),
        ("data.csv.gz", False),
    ],
)
def test_select_by_suffix_or_no_suffix(path: str, selected: bool) -> None:
    assert ModelAnalyzer().select(Member(path, 10), _view()) is selected


def test_select_everything_in_a_model_artifact_but_not_empty_or_special_files() -> None:
    analyzer = ModelAnalyzer()
    assert analyzer.select(Member("model.whatever", 10), _view(ArtifactKind.MODEL))
    assert not analyzer.select(Member("model.pt", 0), _view())
    assert not analyzer.select(Member("model.pt", 0, MemberKind.SYMLINK), _view())


def test_findings_name_the_callable_offset_and_trigger() -> None:
    findings = mc.findings_for(mc.torch_zip(mc.call("os", "system", mc.string0("id"))), "model.pt")
    [hit] = [f for f in findings if f.rule_id == "CW801"]
    assert hit.severity is Severity.CRITICAL
    assert hit.trigger is Trigger.MODEL_LOAD
    assert hit.location.path == "model.pt!archive/data.pkl"
    assert ("callable", "os.system") in hit.evidence.detail
    assert ("offset", "2") in hit.evidence.detail
    assert "byte 2" in hit.message


def test_repeated_unknown_global_is_one_finding() -> None:
    one = mc.global_("mypkg", "Layer") + mc.EMPTY_TUPLE + mc.REDUCE + mc.POP
    data = mc.proto(2) + one * 20 + mc.NONE + mc.STOP
    hits = [f for f in mc.findings_for(data) if f.rule_id == "CW802"]
    assert len(hits) == 1
    assert "20 times" in hits[0].message


def test_unrecognised_bytes_under_a_model_name_are_unverifiable() -> None:
    blob = bytes(range(256)) * 4
    assert "CW806" in mc.rule_ids(blob, "model.pt")
    assert mc.rule_ids(blob, "firmware.bin") == set()
    assert mc.rule_ids(b"plain text\n", "notes.pkl") == set()


def test_classify_is_exact_not_prefix() -> None:
    assert classify("torch._utils", "_rebuild_tensor_v2") is GlobalClass.SAFE
    assert classify("torch._utils", "_rebuild_tensor_v2.__globals__") is GlobalClass.DANGEROUS
    assert classify("torch", "hub.load") is GlobalClass.DANGEROUS
    assert classify("torch", "nn.Module") is GlobalClass.UNKNOWN
    assert classify("__builtin__", "set") is GlobalClass.SAFE
    assert classify("__builtin__", "eval") is GlobalClass.DANGEROUS
    assert classify("commands", "getoutput") is GlobalClass.DANGEROUS  # Python 2 name, mapped to subprocess
    assert classify("os", "") is GlobalClass.DANGEROUS
    assert classify("not a module", "x") is GlobalClass.DANGEROUS


def test_model_file_source_claims_by_suffix_or_magic(tmp_path: Path) -> None:
    source = ModelFileSource()
    (tmp_path / "m.pt").write_bytes(b"anything")
    (tmp_path / "noname").write_bytes(mc.torch_zip(mc.torch_state_dict_pickle()))
    (tmp_path / "notes").write_bytes(b"hello")
    (tmp_path / "pkg-1.0-py3-none-any.whl").write_bytes(b"PK\x03\x04")
    assert source.claims(str(tmp_path / "m.pt"))
    assert source.claims(str(tmp_path / "noname"))
    assert not source.claims(str(tmp_path / "notes"))
    assert not source.claims(str(tmp_path / "pkg-1.0-py3-none-any.whl"))
    assert not source.claims(str(tmp_path))
    assert isinstance(source_for(str(tmp_path / "m.pt")), ModelFileSource)


def _scan(tmp_path: Path, target: Path, *, use_cache: bool = False):  # type: ignore[no-untyped-def]
    options = ScanOptions(jobs=1, use_cache=use_cache, cache_dir=tmp_path / "cache")
    [artifact] = source_for(str(target)).open(str(target), SourceOptions(cache_dir=tmp_path / "cache"))
    with Scanner(options, analyzers=[ModelAnalyzer()]) as scanner, artifact:
        return scanner.scan_artifact(artifact)


def test_cached_facts_give_the_same_findings(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    path.write_bytes(mc.torch_zip(mc.call("os", "system", mc.string0("id"))))
    first = _scan(tmp_path, path, use_cache=True)
    second = _scan(tmp_path, path, use_cache=True)
    assert second.stats.cache_hits >= 1
    assert [f.message for f in first.findings] == [f.message for f in second.findings]
    assert "CW801" in {f.rule_id for f in second.findings}


def test_directory_of_models(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "good.pt").write_bytes(mc.torch_zip(mc.torch_state_dict_pickle()))
    (models / "bad.pkl").write_bytes(mc.call("runpy", "run_path", mc.string0("/tmp/x.py")))
    (models / "broken.pt").write_bytes(mc.SEVEN_ZIP)
    (models / "sloppy.safetensors").write_bytes(mc.safetensors({"w": ("F32", [2], b"\0" * 8)}, offsets={"w": [0, 4]}))
    result = _scan(tmp_path, models)
    components = {c.path: c for c in model_components([result])}
    assert set(components) == {"good.pt", "bad.pkl", "broken.pt", "sloppy.safetensors"}
    assert components["good.pt"].verdict is ModelVerdict.CLEAN
    assert components["good.pt"].format == "pytorch-zip"
    assert len(components["good.pt"].sha256) == 64
    assert components["bad.pkl"].verdict is ModelVerdict.MALICIOUS
    assert components["broken.pt"].verdict is ModelVerdict.UNVERIFIABLE
    assert components["sloppy.safetensors"].verdict is ModelVerdict.SUSPICIOUS


def test_cli_blocks_a_malicious_model_and_passes_a_clean_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from chainwarden.cli import main

    bad = tmp_path / "evil.pkl"
    bad.write_bytes(mc.call("os", "system", mc.string0(mc.REVERSE_SHELL)))
    good = tmp_path / "good.pt"
    good.write_bytes(mc.torch_zip(mc.torch_state_dict_pickle()))
    cache = ["--cache-dir", str(tmp_path / "cache")]
    assert main(["scan", *cache, str(bad)]) == 1
    assert "os.system" in capsys.readouterr().out
    assert main(["scan", *cache, str(good)]) == 0


def test_cyclonedx_component_for_a_model(tmp_path: Path) -> None:
    from cyclonedx.model.component import ComponentType

    from chainwarden.analyzers.mlmodels.sbom import cyclonedx_component

    path = tmp_path / "model.pt"
    path.write_bytes(mc.torch_zip(mc.torch_state_dict_pickle()))
    [info] = model_components([_scan(tmp_path, path)])
    component = cyclonedx_component(info)
    assert component.type is ComponentType.MACHINE_LEARNING_MODEL
    assert [h.content for h in component.hashes] == [info.sha256]
    assert {p.name: p.value for p in component.properties}["chainwarden:model:verdict"] == "clean"


def test_a_model_too_large_to_read_is_analysed_through_a_memory_map(tmp_path: Path) -> None:
    from chainwarden.sources.modelfile import ModelFileArtifact

    path = tmp_path / "pytorch_model.bin"
    path.write_bytes(mc.torch_zip(mc.call("os", "system", mc.string0("id")), extra={"archive/data/1": b"\0" * 4096}))
    ref = ArtifactRef(ArtifactKind.MODEL, str(path), path.name)
    artifact = ModelFileArtifact(path, ref, max_bytes=1024)
    assert list(artifact.members()) == []
    assert "CW801" in {f.rule_id for f in artifact.problems}
    options = ScanOptions(jobs=1, use_cache=False, cache_dir=tmp_path / "cache")
    with Scanner(options, analyzers=[ModelAnalyzer()]) as scanner, artifact:
        result = scanner.scan_artifact(artifact)
    assert "CW801" in {f.rule_id for f in result.findings}
    assert not result.unscanned


def test_inside_packages_unknown_data_pickles_are_medium_but_hostile_ones_stay_critical() -> None:
    doctree = mc.call("docutils.nodes", "document", mc.NONE)
    [unknown] = [f for f in mc.findings_for(doctree, "docs/.doctrees/index.pickle", "wheel") if f.rule_id == "CW802"]
    assert unknown.severity is Severity.MEDIUM
    assert "package data" in unknown.message
    [strict] = [f for f in mc.findings_for(doctree, "index.pickle", "model") if f.rule_id == "CW802"]
    assert strict.severity is Severity.HIGH
    nullifai = mc.call("os", "system", mc.string0("id"))[:-1] + b"\xff"
    by_rule = {f.rule_id: f.severity for f in mc.findings_for(nullifai, "pkg/model.pkl", "sdist")}
    assert by_rule["CW801"] is Severity.CRITICAL
    assert by_rule["CW804"] is Severity.HIGH  # a broken stream next to a payload is not relaxed


def test_a_text_file_of_lines_starting_with_c_is_not_a_pickle() -> None:
    routines = b"ccopy\ncgeev\ncgelsd\ncgemm\ncgesdd\ncgesv\ncgetrf\ncheevd\n"  # numpy's lapack_lite list
    assert mc.rule_ids(routines, "wrapped_routines") == set()


def test_a_wheel_that_ships_a_malicious_model_is_blocked(tmp_path: Path) -> None:
    from support.packages import make_wheel

    wheel = make_wheel(
        tmp_path,
        "weights-pkg",
        "1.0",
        {
            "weights_pkg/__init__.py": b"",
            "weights_pkg/model.pt": mc.torch_zip(mc.call("os", "system", mc.string0(mc.REVERSE_SHELL))),
            "weights_pkg/good.safetensors": mc.safetensors({"w": ("F32", [1], b"\0" * 4)}),
        },
    )
    result = _scan(tmp_path, wheel)
    hits = [f for f in result.findings if f.rule_id == "CW801"]
    assert hits
    assert hits[0].severity is Severity.CRITICAL
    assert hits[0].location.path == "weights_pkg/model.pt!archive/data.pkl"
    assert {c.path for c in model_components([result])} == {"weights_pkg/model.pt", "weights_pkg/good.safetensors"}


def test_model_components_make_a_valid_cyclonedx_1_6_bom(tmp_path: Path) -> None:
    from cyclonedx.model.bom import Bom
    from cyclonedx.output.json import JsonV1Dot6
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    from chainwarden.analyzers.mlmodels.sbom import cyclonedx_component

    models = tmp_path / "models"
    models.mkdir()
    (models / "good.pt").write_bytes(mc.torch_zip(mc.torch_state_dict_pickle()))
    (models / "bad.pkl").write_bytes(mc.call("os", "system", mc.string0("id")))
    components = [cyclonedx_component(info) for info in model_components([_scan(tmp_path, models)])]
    text = JsonV1Dot6(Bom(components=components)).output_as_string()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    assert '"machine-learning-model"' in text
