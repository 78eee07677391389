"""Recognise a model container by its magic bytes (never its name) and send it to its reader.

Containers the analyzer cannot open (7z, HDF5, LZ4, encrypted zips) are reported as
unverifiable: never silently clean.
"""

from __future__ import annotations

import tarfile
from typing import TYPE_CHECKING

from chainwarden.analyzers.mlmodels import headers, keras, zips
from chainwarden.analyzers.mlmodels.context import MAX_DEPTH, MAX_MEMBER_BYTES, BufferReader
from chainwarden.analyzers.mlmodels.facts import IssueKind, ModelFormat
from chainwarden.analyzers.mlmodels.inflate import InflateError, Method, inflate
from chainwarden.analyzers.mlmodels.numpyfmt import NPY_MAGIC, analyse_npy
from chainwarden.analyzers.mlmodels.pickles import analyse_pickle, looks_like_pickle
from chainwarden.analyzers.mlmodels.torchtar import analyse_torch_tar_records

if TYPE_CHECKING:
    from chainwarden.analyzers.mlmodels.context import Context
    from chainwarden.analyzers.mlmodels.pickleops import Buffer

SEVEN_ZIP_MAGIC = b"7z\xbc\xaf\x27\x1c"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_LZ4_MAGIC = b"\x04\x22\x4d\x18"
_TORCH_TAR_MEMBERS = frozenset({"sys_info", "pickle", "storages", "tensors"})


def analyse(buf: Buffer, where: str, ctx: Context, depth: int = 0) -> ModelFormat:  # noqa: PLR0911 - one per format
    head = bytes(buf[:16])
    if head.startswith(SEVEN_ZIP_MAGIC):
        ctx.issue(
            IssueKind.UNVERIFIABLE,
            where,
            0,
            "7z-compressed container: cannot be opened here, and is how nullifAI models evaded scanners",
        )
        return ModelFormat.SEVEN_ZIP
    if head.startswith(HDF5_MAGIC):
        ctx.issue(IssueKind.UNVERIFIABLE, where, 0, "HDF5 model: no HDF5 reader, its layers were not verified")
        keras.scan_hdf5_for_lambda(bytes(buf[: 64 * 1024 * 1024]), where, ctx)
        return ModelFormat.HDF5
    if head.startswith(_ZIP_MAGICS):
        return zips.analyse_zip(buf, where, ctx, depth, analyse)
    if head.startswith(headers.GGUF_MAGIC):
        headers.check_gguf(buf, where, ctx)
        return ModelFormat.GGUF
    if head.startswith(NPY_MAGIC):
        analyse_npy(buf, where, ctx)
        return ModelFormat.NUMPY
    if head.startswith(_LZ4_MAGIC):
        ctx.issue(IssueKind.UNVERIFIABLE, where, 0, "LZ4-compressed data (joblib lz4): not opened")
        return ModelFormat.COMPRESSED
    method = _method(head)
    if method is not None and (method != "zlib" or _inflates(buf)):
        return _compressed(buf, where, ctx, depth, method)
    if len(buf) > 262 and bytes(buf[257:262]) == b"ustar":  # noqa: PLR2004 - POSIX tar magic offset
        return _tar(buf, where, ctx, depth)
    if headers.looks_like_safetensors(buf):
        headers.check_safetensors(buf, where, ctx)
        return ModelFormat.SAFETENSORS
    if looks_like_pickle(buf, 0, len(buf)):
        return analyse_pickle(buf, 0, len(buf), where, ctx)
    return ModelFormat.UNKNOWN if _binary(head + bytes(buf[16:4096])) else ModelFormat.NOT_A_MODEL


def _binary(sample: bytes) -> bool:
    if b"\0" in sample:
        return True
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as err:
        return err.start < len(sample) - 4  # a multi-byte character cut by the sample's end is still text
    return False


def _method(head: bytes) -> Method | None:
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if len(head) >= 2 and head[0] == 0x78 and (head[0] << 8 | head[1]) % 31 == 0:  # noqa: PLR2004 - zlib header
        return "zlib"  # joblib's "zlib" compressor writes a bare zlib stream
    if head.startswith(b"BZh"):
        return "bz2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(b"\x5d\x00\x00"):  # raw .lzma (joblib's "lzma" compressor)
        return "lzma"
    return None


def _inflates(buf: Buffer) -> bool:
    """A zlib header is two bytes that text can start with too: only a stream that inflates counts."""
    try:
        inflate(buf, 0, min(len(buf), 4096), "zlib", 1)
    except InflateError:
        return False
    return True


def _compressed(buf: Buffer, where: str, ctx: Context, depth: int, method: Method) -> ModelFormat:
    if depth >= MAX_DEPTH:
        ctx.issue(IssueKind.LIMIT, where, 0, "compressed data nested too deeply; not opened")
        return ModelFormat.COMPRESSED
    try:
        data = inflate(buf, 0, len(buf), method, MAX_MEMBER_BYTES + 1)
    except InflateError as err:
        ctx.issue(IssueKind.UNVERIFIABLE, where, 0, f"compressed data cannot be decompressed: {err}")
        return ModelFormat.COMPRESSED
    if len(data) > MAX_MEMBER_BYTES:
        ctx.issue(IssueKind.LIMIT, where, 0, f"decompresses to more than {MAX_MEMBER_BYTES} bytes; not analysed")
        return ModelFormat.COMPRESSED
    if not ctx.spend(len(data), where):
        return ModelFormat.COMPRESSED
    inner = analyse(data, where, ctx, depth + 1)
    return ModelFormat.COMPRESSED if inner in (ModelFormat.NOT_A_MODEL, ModelFormat.UNKNOWN) else inner


def _tar(buf: Buffer, where: str, ctx: Context, depth: int) -> ModelFormat:
    try:
        archive = tarfile.open(fileobj=BufferReader(buf), mode="r:")  # noqa: SIM115 - closed below
        members = archive.getmembers()
    except (tarfile.TarError, OSError, EOFError, ValueError, NotImplementedError, OverflowError) as err:
        ctx.issue(IssueKind.UNVERIFIABLE, where, 0, f"tar container cannot be read: {err}")
        return ModelFormat.TAR
    try:
        names = {m.name for m in members if m.isfile()}
        torch = names >= _TORCH_TAR_MEMBERS
        found = False
        for member in members:
            if not member.isfile() or member.size == 0:
                continue
            path = f"{where}!{member.name}" if where else member.name
            if member.size > MAX_MEMBER_BYTES or not ctx.spend(member.size, path):
                ctx.issue(IssueKind.LIMIT, path, 0, f"tar member of {member.size} bytes not analysed")
                found = True
                continue
            handle = archive.extractfile(member)
            data = handle.read() if handle is not None else b""
            if torch and member.name in ("storages", "tensors"):
                analyse_torch_tar_records(data, member.name, path, ctx)
                found = True
            elif depth + 1 <= MAX_DEPTH:
                fmt = analyse(data, path, ctx, depth + 1)
                found = found or fmt not in (ModelFormat.NOT_A_MODEL, ModelFormat.UNKNOWN)
    finally:
        archive.close()
    if torch:
        return ModelFormat.TORCH_TAR
    return ModelFormat.TAR if found else ModelFormat.NOT_A_MODEL
