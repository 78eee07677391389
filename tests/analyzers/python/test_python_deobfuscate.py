"""Static deobfuscation: each encoding is folded without running anything, nested, and bounded."""

from __future__ import annotations

import base64
import bz2
import codecs
import gzip
import lzma
import marshal
import time
import zlib

from chainwarden.analyzers.python import PythonAnalyzer
from chainwarden.analyzers.python import capabilities as cap
from chainwarden.analyzers.python.payloads import blind_decode

PAYLOAD = "import socket\nsocket.create_connection(('c2.invalid', 443))\n"


def exec_stages(source: str) -> list[tuple[str, ...]]:
    """Stage methods of every decode-exec signal, plus whether the payload's network call was seen."""
    f = PythonAnalyzer().extract(source.encode())
    return [tuple(st.method for st in s.stages) for sc in f.scopes for s in sc.signals if s.kind == cap.NETWORK]


def test_base_encodings() -> None:
    b = PAYLOAD.encode()
    assert exec_stages(f"import base64\nexec(base64.b64decode({base64.b64encode(b)!r}))") == [("base64",)]
    assert exec_stages(f"import base64\nexec(base64.b32decode({base64.b32encode(b)!r}))") == [("base32",)]
    assert exec_stages(f"import base64\nexec(base64.b85decode({base64.b85encode(b)!r}))") == [("base85",)]
    assert exec_stages(f"import base64\nexec(base64.a85decode({base64.a85encode(b)!r}))") == [("ascii85",)]
    assert exec_stages(f"exec(bytes.fromhex({b.hex()!r}))") == [("hex",)]
    assert exec_stages(f"import binascii\nexec(binascii.unhexlify({b.hex()!r}))") == [("hex",)]


def test_compressions_nested_in_base64() -> None:
    b = PAYLOAD.encode()
    for name, fn in (("zlib", zlib.compress), ("bz2", bz2.compress), ("lzma", lzma.compress), ("gzip", gzip.compress)):
        blob = base64.b64encode(fn(b))
        src = f"import base64, {name}\nexec({name}.decompress(base64.b64decode({blob!r})))"
        assert exec_stages(src) == [("base64", name)], name


def test_rot13_reverse_concat_and_chr_join() -> None:
    assert exec_stages(f"import codecs\nexec(codecs.decode({codecs.encode(PAYLOAD, 'rot13')!r}, 'rot13'))") == [
        ("rot13",)
    ]
    assert exec_stages(f"exec({PAYLOAD[::-1]!r}[::-1])") == [("reverse",)]
    half = len(PAYLOAD) // 2
    assert exec_stages(f"a = {PAYLOAD[:half]!r}\nb = {PAYLOAD[half:]!r}\nexec(a + b)") == [()]
    codes = [ord(c) for c in PAYLOAD]
    assert exec_stages(f"exec(''.join(chr(c) for c in {codes!r}))") == [("join",)]
    assert exec_stages(f"exec(''.join(map(chr, {codes!r})))") == [("join",)]


def test_xor_with_constant_and_cycling_keys() -> None:
    single = bytes(c ^ 0x5A for c in PAYLOAD.encode())
    assert exec_stages(f"exec(bytes(b ^ 90 for b in {single!r}))") == [("xor 0x5a",)]
    key = b"k3y"
    cyc = bytes(c ^ key[i % 3] for i, c in enumerate(PAYLOAD.encode()))
    src = f"key = {key!r}\ndata = {cyc!r}\nexec(bytes(b ^ key[i % len(key)] for i, b in enumerate(data)))"
    assert exec_stages(src) == [("xor",)]


def test_nesting_to_depth() -> None:
    src = PAYLOAD
    for _ in range(5):
        src = f"import base64\nexec(base64.b64decode({base64.b64encode(src.encode())!r}))\n"
    assert exec_stages(src) == [("base64",) * 5]


def test_marshal_is_flagged_not_loaded() -> None:
    code = marshal.dumps(compile(PAYLOAD, "<x>", "exec"))
    f = PythonAnalyzer().extract(f"import marshal\nexec(marshal.loads({code!r}))".encode())
    signals = [s for sc in f.scopes for s in sc.signals]
    decode = next(s for s in signals if s.kind == cap.DECODE_EXEC)
    assert decode.stages[0].method.startswith("marshal")
    assert "create_connection" in decode.stages[0].preview or "socket" in decode.stages[0].preview


def test_decompression_bomb_is_bounded() -> None:
    bomb = base64.b64encode(zlib.compress(b"\0" * (64 * 1024 * 1024), 9))
    start = time.perf_counter()
    PythonAnalyzer().extract(f"import base64, zlib\nexec(zlib.decompress(base64.b64decode({bomb!r})))".encode())
    assert time.perf_counter() - start < 10


def test_blind_decode_finds_encoded_code_only() -> None:
    found = blind_decode(base64.b64encode(zlib.compress(PAYLOAD.encode())).decode())
    assert found is not None
    assert [s.method for s in found[1]] == ["base64", "zlib"]
    assert blind_decode(base64.b64encode(bytes(range(256)) * 4).decode()) is None


def test_unresolvable_decrypt_is_still_decode_exec() -> None:
    f = PythonAnalyzer().extract(b"from cryptography.fernet import Fernet\nexec(Fernet(KEY).decrypt(BLOB))\n")
    assert cap.DECODE_EXEC in {s.kind for sc in f.scopes for s in sc.signals}


def test_function_folds_a_module_level_constant() -> None:
    """`exec(b64decode(PAYLOAD))` inside a function sees the module's PAYLOAD (the module
    scope's assignments used to be dropped before the functions' sinks were folded)."""
    blob = base64.b64encode(PAYLOAD.encode())
    source = f"import base64\nPAYLOAD = {blob!r}\n\ndef run():\n    exec(base64.b64decode(PAYLOAD))\n"
    assert exec_stages(source) == [("base64",)]
    # The same shape with a constant that is not code decodes to nothing that runs.
    harmless = base64.b64encode(b"just some bytes, not a program")
    quiet = f"import base64\nDATA = {harmless!r}\n\ndef run():\n    exec(base64.b64decode(DATA))\n"
    assert exec_stages(quiet) == []


def test_string_tables_are_searched_once_per_distinct_text() -> None:
    """A string used in two functions is reported in both, at each line it is used."""
    source = 'def a():\n    return "~/.aws/credentials"\n\ndef b():\n    x = 1\n    return "~/.aws/credentials"\n'
    f = PythonAnalyzer().extract(source.encode())
    found = sorted((sc.name, s.line) for sc in f.scopes for s in sc.signals if s.kind == cap.SECRETS)
    assert found == [("a", 2), ("b", 6)]
