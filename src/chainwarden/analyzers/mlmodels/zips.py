"""Zip-based model containers: PyTorch archives, Keras `.keras`, numpy `.npz`, and zips of models.

Members are read from their local headers the way PyTorch's reader does, so a wrong CRC does
not hide a pickle (picklescan CVE-2025-10156); the mismatch is reported instead.
"""

from __future__ import annotations

import posixpath
import struct
import zipfile
import zlib
from typing import TYPE_CHECKING

from chainwarden.analyzers.mlmodels import keras, numpyfmt
from chainwarden.analyzers.mlmodels.context import MAX_DEPTH, MAX_MEMBER_BYTES, MAX_MEMBERS, BufferReader
from chainwarden.analyzers.mlmodels.facts import IssueKind, ModelFormat
from chainwarden.analyzers.mlmodels.inflate import InflateError, Method, inflate
from chainwarden.analyzers.mlmodels.pickles import analyse_pickle, looks_like_pickle

if TYPE_CHECKING:
    from collections.abc import Callable

    from chainwarden.analyzers.mlmodels.context import Context
    from chainwarden.analyzers.mlmodels.pickleops import Buffer

_LOCAL_HEADER = b"PK\x03\x04"
_METHODS: dict[int, Method] = {zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_BZIP2: "bz2"}
_PICKLE_SUFFIXES = (".pkl", ".pickle")
_HEAD = 64 * 1024
_MAX_CONFIG = 16 * 1024 * 1024  # a Keras config.json


class MemberError(Exception):
    """A member that cannot be read (encrypted, unknown compression, broken header)."""


def read_member(
    buf: Buffer, info: zipfile.ZipInfo, limit: int = MAX_MEMBER_BYTES, *, partial: bool = False
) -> tuple[bytes, list[str]]:
    """The member's bytes and what is odd about it, read as PyTorch reads it: the encryption flag,
    the CRC and the local header's name do not stop the read. Raises MemberError when there is
    nothing to read or, unless `partial` (a sniffing read of the first `limit` bytes), when the
    member holds more than `limit` bytes, whatever its header claims."""
    odd: list[str] = []
    if info.flag_bits & 0x1:
        odd.append("the encryption flag is set (PyTorch ignores it and reads the member)")
    off = info.header_offset
    if off < 0 or off + 30 > len(buf) or bytes(buf[off : off + 4]) != _LOCAL_HEADER:
        raise MemberError("no local file header where the central directory points")
    name_len, extra_len = struct.unpack("<HH", buf[off + 26 : off + 30])
    local_name = bytes(buf[off + 30 : off + 30 + name_len])
    if local_name not in (info.orig_filename.encode("utf-8"), info.orig_filename.encode("cp437", "replace")):
        odd.append(f"the local header names it {local_name[:80]!r}")
    start = off + 30 + name_len + extra_len
    end = start + info.compress_size
    if end > len(buf):
        raise MemberError("member data is truncated")
    method = _METHODS.get(info.compress_type)
    want = limit if partial else limit + 1
    if info.compress_type == zipfile.ZIP_STORED:
        data = bytes(buf[start : min(end, start + want)])
    elif method is not None:
        try:
            data = inflate(buf, start, end, method, want)
        except InflateError as err:
            msg = f"cannot decompress: {err}"
            raise MemberError(msg) from None
    else:
        msg = f"compression method {info.compress_type} is not supported"
        raise MemberError(msg)
    if len(data) > limit:
        msg = f"larger than {limit} bytes"
        raise MemberError(msg)
    if not partial and len(data) != info.file_size:
        odd.append(f"holds {len(data)} bytes where the directory says {info.file_size}")
    elif not partial and zlib.crc32(data) != info.CRC:
        odd.append("CRC-32 mismatch (PyTorch does not check it)")
    return data, odd


def _odd_name(name: str) -> bool:
    return (
        not name
        or name.startswith(("/", "\\"))
        or "\\" in name
        or any(ord(c) < 0x20 for c in name)  # noqa: PLR2004 - control characters
        or ".." in posixpath.normpath(name).split("/")
    )


def analyse_zip(buf: Buffer, where: str, ctx: Context, depth: int, nested: Callable[..., ModelFormat]) -> ModelFormat:
    try:
        archive = zipfile.ZipFile(BufferReader(buf))
        infos = archive.infolist()
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        ValueError,
        EOFError,
        struct.error,
        NotImplementedError,  # "zip file version 13.8" from a damaged directory entry
        OverflowError,
    ) as err:
        ctx.issue(IssueKind.UNVERIFIABLE, where, 0, f"zip container cannot be read: {err}")
        return ModelFormat.ZIP
    if len(infos) > MAX_MEMBERS:
        ctx.issue(IssueKind.LIMIT, where, 0, f"{len(infos)} zip entries; only the first {MAX_MEMBERS} were looked at")
        infos = infos[:MAX_MEMBERS]
    names = [i.filename for i in infos]
    _check_names(names, where, ctx)
    files = [i for i in infos if not i.filename.endswith("/")]  # ZipInfo.is_dir fails on an empty name
    if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
        return _torch(buf, files, where, ctx)
    if "config.json" in names and ("metadata.json" in names or "model.weights.h5" in names):
        return _keras(buf, files, where, ctx)
    if files and all(i.filename.endswith(".npy") for i in files):
        for info in files:
            head = _read_head(buf, info, ctx)
            if head is None:
                break
            if head and not numpyfmt.holds_objects(head):
                numpyfmt.analyse_npy(head, _join(where, info.filename), ctx, total_size=info.file_size)
                continue
            data = _read(buf, info, where, ctx)
            if data is not None:
                numpyfmt.analyse_npy(data, _join(where, info.filename), ctx)
        return ModelFormat.NUMPY_ZIP
    return _generic(buf, files, where, ctx, depth=depth, nested=nested)


def _check_names(names: list[str], where: str, ctx: Context) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            ctx.issue(IssueKind.CONTAINER_ANOMALY, where, 0, f"zip entry {name!r} appears more than once")
        seen.add(name)
        if _odd_name(name):
            ctx.issue(IssueKind.CONTAINER_ANOMALY, where, 0, f"zip entry with an unsafe name: {name!r}")


def _join(where: str, name: str) -> str:
    return f"{where}!{name}" if where else name


def _read(buf: Buffer, info: zipfile.ZipInfo, where: str, ctx: Context, limit: int = MAX_MEMBER_BYTES) -> bytes | None:
    path = _join(where, info.filename)
    if not ctx.spend(min(info.file_size, limit), path):
        return None
    try:
        data, odd = read_member(buf, info, limit)
    except MemberError as err:
        ctx.issue(IssueKind.UNVERIFIABLE, path, 0, f"zip member cannot be read: {err}")
        return None
    for problem in odd:
        ctx.issue(IssueKind.CONTAINER_ANOMALY, path, 0, f"zip member anomaly: {problem}")
    return data


def _torch(buf: Buffer, files: list[zipfile.ZipInfo], where: str, ctx: Context) -> ModelFormat:
    data_pkls = [i for i in files if i.filename == "data.pkl" or i.filename.endswith("/data.pkl")]
    if len(data_pkls) > 1:
        listed = ", ".join(i.filename for i in data_pkls[:5])
        ctx.issue(IssueKind.CONTAINER_ANOMALY, where, 0, f"several data.pkl entries ({listed})")
    torchscript = any(i.filename.endswith("/constants.pkl") or "/code/__torch__/" in i.filename for i in files)
    if torchscript:
        code = sum(1 for i in files if "/code/" in i.filename and i.filename.endswith(".py"))
        ctx.issue(
            IssueKind.TORCHSCRIPT,
            where,
            0,
            f"TorchScript archive with {code} code files: torch.jit.load compiles and runs them",
        )
    for info in files:
        if not info.filename.endswith(_PICKLE_SUFFIXES) and not _pickle_inside(buf, info, ctx):
            continue
        data = _read(buf, info, where, ctx)
        if data is not None:
            analyse_pickle(data, 0, len(data), _join(where, info.filename), ctx, torchscript=torchscript)
    return ModelFormat.TORCH_ZIP


def _pickle_inside(buf: Buffer, info: zipfile.ZipInfo, ctx: Context) -> bool:
    """A pickle under another name (picklescan GHSA-769v-p64c-89pr); tensor data under data/ is skipped."""
    if "/data/" in f"/{info.filename}":
        return False
    head = _read_head(buf, info, ctx)
    if not head:
        return False
    return looks_like_pickle(head, 0, len(head))


def _keras(buf: Buffer, files: list[zipfile.ZipInfo], where: str, ctx: Context) -> ModelFormat:
    for info in files:
        if info.filename == "config.json":
            data = _read(buf, info, where, ctx, _MAX_CONFIG)
            if data is not None:
                keras.check_config(data, _join(where, info.filename), ctx)
        elif info.filename.endswith(_PICKLE_SUFFIXES):
            data = _read(buf, info, where, ctx)
            if data is not None:
                analyse_pickle(data, 0, len(data), _join(where, info.filename), ctx)
    return ModelFormat.KERAS


def _generic(
    buf: Buffer,
    files: list[zipfile.ZipInfo],
    where: str,
    ctx: Context,
    *,
    depth: int,
    nested: Callable[..., ModelFormat],
) -> ModelFormat:
    """A zip that is no known model layout: look inside for models, a bounded number of levels deep."""
    if depth + 1 > MAX_DEPTH:
        ctx.issue(IssueKind.LIMIT, where, 0, "containers nested too deeply; the inner zip was not opened")
        return ModelFormat.ZIP
    found = False
    for info in files:
        path = _join(where, info.filename)
        if info.file_size == 0:
            continue
        head = _read_head(buf, info, ctx)
        if head is None:
            return ModelFormat.ZIP
        if not _maybe_model(head, info.filename):
            continue
        data = _read(buf, info, where, ctx)
        if data is None:
            found = True
            continue
        fmt = nested(data, path, ctx, depth + 1)
        found = found or fmt is not ModelFormat.NOT_A_MODEL
    return ModelFormat.ZIP if found else ModelFormat.NOT_A_MODEL


def _read_head(buf: Buffer, info: zipfile.ZipInfo, ctx: Context) -> bytes | None:
    """The first 64 KiB of a member, for sniffing; None once the file's byte budget is spent."""
    if not ctx.spend(min(info.file_size, _HEAD), "zip member heads"):
        return None
    try:
        data, _ = read_member(buf, info, limit=_HEAD, partial=True)
    except MemberError:
        return b""  # unreadable: let the full read report why
    return data


def _maybe_model(head: bytes, name: str) -> bool:
    if not head:
        return True
    if head.startswith((b"PK\x03\x04", b"\x93NUMPY", b"GGUF", b"7z\xbc\xaf\x27\x1c", b"\x89HDF", b"\x1f\x8b", b"BZh")):
        return True
    if name.endswith((*_PICKLE_SUFFIXES, ".pt", ".pth", ".bin", ".ckpt", ".joblib", ".safetensors")):
        return True
    return looks_like_pickle(head, 0, len(head))
