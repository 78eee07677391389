"""Containers recognised by their bytes: real benign layouts are clean, odd ones are reported."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import pickle
import struct
import tarfile
import zipfile

import pytest

from chainwarden.analyzers.mlmodels.facts import IssueKind, ModelFormat
from chainwarden.analyzers.mlmodels.scan import scan_model, scan_model_file
from support import modelcraft as mc

BENIGN = {
    "torch zip": (mc.torch_zip(mc.torch_state_dict_pickle()), ModelFormat.TORCH_ZIP),
    "torch zip, other prefix": (mc.torch_zip(mc.torch_state_dict_pickle(), prefix="resnet"), ModelFormat.TORCH_ZIP),
    "torch legacy": (mc.torch_legacy(), ModelFormat.TORCH_LEGACY),
    "raw pickle": (mc.torch_state_dict_pickle(), ModelFormat.PICKLE),
    "npy float": (mc.NPY_FLOAT, ModelFormat.NUMPY),
    "npy object": (mc.NPY_OBJECT, ModelFormat.NUMPY),
    "npz": (mc.npz({"a.npy": mc.NPY_FLOAT, "b.npy": mc.NPY_OBJECT}), ModelFormat.NUMPY_ZIP),
    "joblib": (mc.JOBLIB_DUMP, ModelFormat.JOBLIB),
    "joblib gzip": (gzip.compress(mc.JOBLIB_DUMP), ModelFormat.JOBLIB),
    "joblib bz2": (bz2.compress(mc.JOBLIB_DUMP), ModelFormat.JOBLIB),
    "joblib xz": (lzma.compress(mc.JOBLIB_DUMP), ModelFormat.JOBLIB),
    "joblib lzma": (lzma.compress(mc.JOBLIB_DUMP, format=lzma.FORMAT_ALONE), ModelFormat.JOBLIB),
    "keras": (mc.keras_zip([mc.dense_layer()]), ModelFormat.KERAS),
    "safetensors": (mc.safetensors({"w": ("F32", [2, 2], b"\0" * 16), "b": ("BF16", [2], b"\0" * 4)}), ModelFormat.SAFETENSORS),
    "gguf": (mc.gguf({"general.architecture": "llama", "tokenizer.chat_template": "{{ messages[0].content }}"}), ModelFormat.GGUF),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_benign_layouts_are_clean(name: str) -> None:
    data, fmt = BENIGN[name]
    facts = scan_model(data)
    assert facts.format is fmt
    assert facts.issues == ()
    from chainwarden.analyzers.mlmodels.globals import GlobalClass, classify

    assert all(classify(g.module, g.name) is GlobalClass.SAFE for g in facts.globals), facts.globals


def test_torchscript_classes_are_not_python_imports() -> None:
    facts = scan_model(mc.torchscript_zip())
    assert [i.kind for i in facts.issues] == [IssueKind.TORCHSCRIPT]
    assert not [g for g in facts.globals if g.module.startswith("__torch__")]
    outside = scan_model(mc.call("__torch__.model", "Net", mc.NONE))
    assert "__torch__.model.Net" in {g.qualified for g in outside.globals}


def test_joblib_array_bytes_are_skipped_not_parsed() -> None:
    facts = scan_model(mc.JOBLIB_DUMP)
    assert facts.pickles == 1
    assert {g.qualified for g in facts.globals} >= {"joblib.numpy_pickle.NumpyArrayWrapper", "numpy.dtype"}


def test_joblib_object_array_is_a_nested_pickle_that_is_scanned() -> None:
    evil = mc.call("os", "system", mc.string0("id"))
    head = mc.proto(4) + mc.JOBLIB_DUMP.split(b"\x8c\x02f8")[0][11:]  # without the FRAME, whose length changes
    data = (
        head + b"\x8c\x02O8\x94\x89\x88\x87\x94R\x94(K\x03\x8c\x01|\x94NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?t\x94b"
        b"\x8c\nallow_mmap\x94\x89ub" + evil + mc.STOP
    )
    facts = scan_model(data)
    assert "os.system" in {g.qualified for g in facts.globals}


def test_legacy_torch_tensor_bytes_after_five_pickles_are_data() -> None:
    facts = scan_model(mc.torch_legacy())
    assert facts.pickles == 5
    assert facts.issues == ()


def test_legacy_torch_with_a_broken_pickle_is_reported() -> None:
    data = mc.LEGACY_MAGIC + mc.proto(2) + b"M\xe9"
    kinds = {i.kind for i in scan_model(data).issues}
    assert IssueKind.BROKEN_STREAM in kinds


def test_path_file_is_not_a_model() -> None:
    for text in (b"import os; os.system('x')\nimport sys\n", b"./src\n", b"# comment\n/opt/lib\n"):
        assert scan_model(text).format is ModelFormat.NOT_A_MODEL


def test_binary_path_file_that_is_a_pickle_is_a_model() -> None:
    assert scan_model(mc.call("os", "system", mc.string0("id"))).format is ModelFormat.PICKLE


def test_trailing_newlines_are_not_trailing_data() -> None:
    assert scan_model(pickle.dumps([1], protocol=2) + b"\n").issues == ()


def test_trailing_garbage_is_reported() -> None:
    kinds = {i.kind for i in scan_model(pickle.dumps([1], protocol=2) + b"\xff" * 100).issues}
    assert kinds == {IssueKind.TRAILING_DATA}


def test_hdf5_is_unverifiable_and_a_lambda_inside_is_found() -> None:
    data = mc.HDF5 + b'{"class_name": "Lambda", "config": {}}' + b"\0" * 16
    kinds = [i.kind for i in scan_model(data).issues]
    assert IssueKind.UNVERIFIABLE in kinds
    assert IssueKind.KERAS_LAMBDA in kinds


def test_lz4_is_unverifiable() -> None:
    kinds = {i.kind for i in scan_model(b"\x04\x22\x4d\x18" + b"\0" * 32).issues}
    assert kinds == {IssueKind.UNVERIFIABLE}


def test_unreadable_zip_is_unverifiable() -> None:
    kinds = {i.kind for i in scan_model(b"PK\x03\x04" + b"\0" * 40).issues}
    assert IssueKind.UNVERIFIABLE in kinds


def test_zip_with_duplicate_and_traversing_names() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("archive/data.pkl", mc.torch_state_dict_pickle())
        zf.writestr("../../etc/evil.pkl", mc.call("os", "system", mc.string0("id")))
        with pytest.warns(UserWarning, match="Duplicate name"):
            zf.writestr("archive/data.pkl", mc.call("os", "system", mc.string0("id")))
    facts = scan_model(out.getvalue())
    details = " ".join(i.detail for i in facts.issues)
    assert "more than once" in details
    assert "unsafe name" in details
    assert "several data.pkl" in details
    assert "os.system" in {g.qualified for g in facts.globals}


def test_generic_zip_of_models_is_opened_to_a_bounded_depth() -> None:
    inner = mc.npz({"x.npy": mc.NPY_OBJECT})
    data = mc.npz({"bundle/evil.pkl": mc.call("os", "system", mc.string0("id")), "bundle/arrays.npz": inner})
    facts = scan_model(data)
    assert facts.format is ModelFormat.ZIP
    assert "os.system" in {g.qualified for g in facts.globals}
    nested = data
    for _ in range(6):
        nested = mc.npz({"inner.zip": nested})
    assert IssueKind.LIMIT in {i.kind for i in scan_model(nested).issues}


def test_zip_of_text_is_not_a_model() -> None:
    assert scan_model(mc.npz({"README.md": b"# hi\n"})).format is ModelFormat.NOT_A_MODEL


def test_tar_of_a_pickle_is_scanned() -> None:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tf:
        payload = mc.call("os", "system", mc.string0("id"))
        info = tarfile.TarInfo("pickle")
        info.size = len(payload)
        tf.addfile(info, io.BytesIO(payload))
    facts = scan_model(out.getvalue())
    assert facts.format is ModelFormat.TAR
    assert "os.system" in {g.qualified for g in facts.globals}


@pytest.mark.parametrize(
    ("tensors", "offsets", "expect"),
    [
        ({"w": ("F32", [2], b"\0" * 8)}, {"w": [0, 4]}, "need 8"),
        ({"w": ("F32", [1], b"\0" * 4), "v": ("F32", [1], b"\0" * 4)}, {"v": [0, 4]}, "overlaps"),
        ({"w": ("F32", [1], b"\0" * 4)}, {"w": [0, 400]}, "outside"),
        ({"w": ("XX", [1], b"\0" * 4)}, {}, "unknown dtype"),
    ],
)
def test_safetensors_inconsistencies(
    tensors: dict[str, tuple[str, list[int], bytes]], offsets: dict[str, list[int]], expect: str
) -> None:
    facts = scan_model(mc.safetensors(tensors, offsets=offsets))
    assert facts.format is ModelFormat.SAFETENSORS
    assert any(expect in i.detail for i in facts.issues), facts.issues


def test_safetensors_header_longer_than_the_file() -> None:
    data = struct.pack("<Q", 10**9) + b"{}"
    assert scan_model(data).format is not ModelFormat.SAFETENSORS


def test_gguf_truncated_metadata_and_absurd_counts() -> None:
    good = mc.gguf({"general.name": "x" * 40})
    assert IssueKind.HEADER_INVALID in {i.kind for i in scan_model(good[:-10]).issues}
    absurd = b"GGUF" + struct.pack("<IQQ", 3, 10**12, 10**12)
    assert IssueKind.HEADER_INVALID in {i.kind for i in scan_model(absurd).issues}
    assert IssueKind.HEADER_INVALID in {i.kind for i in scan_model(b"GGUF" + struct.pack("<IQQ", 9, 0, 0)).issues}


def test_gguf_big_endian_is_read() -> None:
    data = b"GGUF" + struct.pack(">IQQ", 3, 0, 1) + struct.pack(">Q", 4) + b"name" + struct.pack(">IQ", 8, 1) + b"x"
    assert scan_model(data).issues == ()


def test_npy_header_problems() -> None:
    assert scan_model(mc.npy({"descr": "<f8", "fortran_order": False, "shape": (100,)}, b"\0" * 8)).issues
    assert scan_model(b"\x93NUMPY\x01\x00\xff\xff{").issues
    bad_literal = b"\x93NUMPY\x01\x00" + struct.pack("<H", 8) + b"__import"
    assert scan_model(bad_literal).issues


def test_npy_python2_long_shape_is_accepted() -> None:
    head = b"{'descr': '<f8', 'fortran_order': False, 'shape': (2L,), }"
    data = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head + b"\0" * 16
    assert scan_model(data).issues == ()


def test_scan_model_file_maps_the_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "big.pt"
    path.write_bytes(mc.torch_zip(mc.torch_state_dict_pickle(), extra={"archive/data/1": b"\0" * 5_000_000}))
    facts = scan_model_file(path)
    assert facts.format is ModelFormat.TORCH_ZIP
    assert facts.issues == ()
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    assert scan_model_file(empty).format is ModelFormat.NOT_A_MODEL


def test_joblib_zlib_stream_is_opened_but_text_starting_like_zlib_is_not() -> None:
    import zlib

    assert scan_model(zlib.compress(mc.JOBLIB_DUMP)).format is ModelFormat.JOBLIB
    assert scan_model(b"x^ looks like a zlib header but is a note\n").format is ModelFormat.NOT_A_MODEL


def test_torchscript_list_rebuilders_are_allowed() -> None:
    from chainwarden.analyzers.mlmodels.globals import GlobalClass, classify

    assert classify("torch.jit._pickle", "build_intlist") is GlobalClass.SAFE
    assert classify("torch.jit", "load") is GlobalClass.DANGEROUS


def test_deeply_nested_keras_config_is_an_issue_not_a_crash() -> None:
    config = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("config.json", config)
        zf.writestr("metadata.json", b"{}")
    assert IssueKind.UNVERIFIABLE in {i.kind for i in scan_model(out.getvalue()).issues}


def test_deeply_nested_pickle_containers_are_bounded() -> None:
    data = mc.proto(4) + (mc.EMPTY_LIST + mc.MARK) * 20_000 + mc.STOP
    assert IssueKind.LIMIT in {i.kind for i in scan_model(data).issues}


def test_gguf_chat_template_injection_is_found_and_plain_templates_are_not() -> None:
    evil = mc.gguf({"tokenizer.chat_template": "{{ cycler.__init__.__globals__.os.popen('id').read() }}"})
    assert IssueKind.TEMPLATE_CODE in {i.kind for i in scan_model(evil).issues}
    plain = "{% for m in messages %}{% if m['role'] == 'user' %}{{ m['content'] | trim }}{% endif %}{% endfor %}"
    assert scan_model(mc.gguf({"tokenizer.chat_template": plain})).issues == ()


def test_legacy_torch_tar_records_are_walked() -> None:
    facts = scan_model(mc.torch_tar())
    assert facts.format is ModelFormat.TORCH_TAR
    assert facts.issues == ()
    assert "torch.FloatStorage" in {g.qualified for g in facts.globals}
    assert mc.rule_ids(mc.torch_tar(), "old.pt") == {"CW800"}


def test_legacy_torch_tar_payloads_are_found() -> None:
    in_pickle = scan_model(mc.torch_tar(main=mc.call("os", "system", mc.string0("id"))))
    assert "os.system" in {g.qualified for g in in_pickle.globals}
    in_record = scan_model(mc.torch_tar(storage_record=mc.call("os", "system", mc.string0("id"))))
    assert "os.system" in {g.qualified for g in in_record.globals}
    assert IssueKind.BROKEN_STREAM in {i.kind for i in in_record.issues}  # no storage type to size it by


def test_zip_member_larger_than_its_directory_entry_says_is_reported() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", mc.torch_state_dict_pickle() + b"\0" * 1000)
    raw = bytearray(out.getvalue())
    central = raw.find(b"PK\x01\x02")
    raw[central + 24 : central + 28] = struct.pack("<I", 10)  # uncompressed size in the central directory
    details = " ".join(i.detail for i in scan_model(bytes(raw)).issues)
    assert "where the directory says 10" in details


def test_nested_zip_depth_limit_is_reported_once() -> None:
    nested = mc.npz({"x.pkl": mc.call("os", "system", mc.string0("id"))})
    for _ in range(6):
        nested = mc.npz({"a.zip": nested, "b.zip": nested})
    limits = [i for i in scan_model(nested).issues if i.kind is IssueKind.LIMIT]
    assert 1 <= len(limits) <= 8


def test_gguf_metadata_bomb_is_capped() -> None:
    from chainwarden.analyzers.mlmodels import headers

    items = 200
    body = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 3) + b"tok" + struct.pack("<IIQ", 9, 8, items)
    body += (struct.pack("<Q", 1) + b"x") * items
    old = headers._GGUF_MAX_VALUES
    headers._GGUF_MAX_VALUES = 50
    try:
        kinds = {i.kind for i in scan_model(body).issues}
    finally:
        headers._GGUF_MAX_VALUES = old
    assert IssueKind.LIMIT in kinds
    assert scan_model(body).issues == ()


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_mutated_containers_never_raise(name: str) -> None:
    import random

    rng = random.Random(name)
    original = BENIGN[name][0]
    for _ in range(150):
        data = bytearray(original)
        for _ in range(rng.randrange(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        cut = rng.choice([len(data), rng.randrange(1, len(data) + 1)])
        scan_model(bytes(data[:cut]))  # must return facts, never raise
