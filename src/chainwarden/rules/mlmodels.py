"""Rules about AI model files (pickle, PyTorch, joblib, numpy, Keras, safetensors, GGUF)."""

from __future__ import annotations

from chainwarden.models import Severity
from chainwarden.rules import Rule

_CATEGORY = "ml-model"
_PICKLE_DOCS = "https://docs.python.org/3/library/pickle.html#restricting-globals"

MODEL_INVENTORY = Rule(
    id="CW800",
    title="Model file",
    severity=Severity.INFO,
    rationale=(
        "A file whose bytes are a model container (pickle, PyTorch, joblib, numpy, Keras, safetensors, GGUF, "
        "HDF5, 7z). Recorded so that the SBOM can list it as an ML-BOM component with its format, hash and "
        "verdict; it says nothing bad about the file by itself."
    ),
    category=_CATEGORY,
)

DANGEROUS_GLOBAL = Rule(
    id="CW801",
    title="Model pickle reaches a dangerous callable",
    severity=Severity.CRITICAL,
    rationale=(
        "Loading this pickle imports a global that can run commands, load code, open sockets or files, or "
        "call other callables for the loader (os.system, subprocess, builtins exec/eval/getattr, runpy, "
        "importlib, socket, pickle itself, ...). Unpickling it, as torch.load / joblib.load / np.load with "
        "allow_pickle do, runs that code: this is how the reverse-shell models found on Hugging Face work."
    ),
    references=(
        _PICKLE_DOCS,
        "https://jfrog.com/blog/data-scientists-targeted-by-malicious-hugging-face-ml-models-with-silent-backdoor/",
    ),
    attack="T1059.006",
    category=_CATEGORY,
)

UNKNOWN_GLOBAL = Rule(
    id="CW802",
    title="Model pickle imports a global outside the allowlist",
    severity=Severity.HIGH,
    rationale=(
        "The pickle imports a global that is neither a known tensor/array/container rebuilder nor on the "
        "danger list. Importing runs the module's top level and calling it runs its code; denylists keep "
        "missing such callables (pip.main, ensurepip._run_pip, pkgutil.resolve_name, "
        "torch.utils.collect_env.run), so anything not known to be harmless is reported (fail closed)."
    ),
    references=(_PICKLE_DOCS, "https://github.com/mmaitre314/picklescan/security"),
    attack="T1059.006",
    category=_CATEGORY,
)

HIDDEN_CALLABLE = Rule(
    id="CW803",
    title="Model pickle hides what it calls",
    severity=Severity.CRITICAL,
    rationale=(
        "The pickle computes its callable at load time: STACK_GLOBAL with names that are the result of a "
        "call, an extension-registry code (EXT1/2/4) that cannot be resolved statically, a call on the result "
        "of another call (getattr chains), or BUILD setting attributes on an imported module object. Honest "
        "serialisers never do this; scanner bypasses do."
    ),
    references=(
        "https://github.com/protectai/modelscan/issues/85",
        "https://github.com/protectai/modelscan/issues/331",
    ),
    attack="T1027",
    category=_CATEGORY,
)

BROKEN_STREAM = Rule(
    id="CW804",
    title="Model pickle stream is broken or has more after it",
    severity=Severity.HIGH,
    rationale=(
        "The pickle is truncated or malformed (the loader runs everything before the break: nullifAI put its "
        "payload first and broke the stream after it), or a further pickle or other data follows the first "
        "STOP (loaders that call load() again run an appended pickle). Scanners that stop at the error or the "
        "first STOP have been bypassed this way."
    ),
    references=(
        "https://www.reversinglabs.com/blog/rl-identifies-malware-ml-model-hosted-on-hugging-face",
        "https://github.com/mmaitre314/picklescan/security/advisories/GHSA-9gvj-pp9x-gcfr",
    ),
    attack="T1027",
    category=_CATEGORY,
)

ANALYSIS_LIMIT = Rule(
    id="CW805",
    title="Model file not fully analysed (resource limit)",
    severity=Severity.HIGH,
    rationale=(
        "Analysis stopped at a cap on opcodes, memo or stack size, nesting depth or decompressed bytes "
        "(pickle and zip bombs grow exactly these). What lies beyond the cap was not checked, so the file "
        "is not reported clean."
    ),
    category=_CATEGORY,
)

UNVERIFIABLE = Rule(
    id="CW806",
    title="Model container cannot be verified",
    severity=Severity.HIGH,
    rationale=(
        "The model is in a container this scanner cannot open (7z-compressed PyTorch archive, HDF5 without "
        "a reader, LZ4, encrypted or unreadable zip, unrecognised bytes in a file named like a model). "
        "nullifAI evaded picklescan with a 7z container; an unopened container is never reported clean."
    ),
    references=("https://www.reversinglabs.com/blog/rl-identifies-malware-ml-model-hosted-on-hugging-face",),
    category=_CATEGORY,
)

KERAS_CODE = Rule(
    id="CW807",
    title="Keras model carries code",
    severity=Severity.CRITICAL,
    rationale=(
        "The Keras config declares a Lambda layer (marshalled Python bytecode run when the model is built), "
        "turns safe mode off (enable_unsafe_deserialization), or names an object from a dangerous module "
        "(the CVE-2025-1550 safe-mode bypass)."
    ),
    references=("https://nvd.nist.gov/vuln/detail/CVE-2025-1550", "https://keras.io/api/layers/core_layers/lambda/"),
    attack="T1059.006",
    category=_CATEGORY,
)

KERAS_MODULE = Rule(
    id="CW808",
    title="Keras config object from outside Keras",
    severity=Severity.HIGH,
    rationale=(
        "A `module` in the Keras config points outside Keras, so loading imports that module. Custom layers "
        "are legitimate in one's own models but a downloaded model should not make the loader import "
        "arbitrary modules."
    ),
    references=("https://nvd.nist.gov/vuln/detail/CVE-2025-1550",),
    category=_CATEGORY,
)

HEADER_INVALID = Rule(
    id="CW809",
    title="Model header is inconsistent",
    severity=Severity.MEDIUM,
    rationale=(
        "A safetensors, GGUF or numpy header does not add up: a header length past the file, overlapping or "
        "gapped tensor byte ranges, sizes that do not match dtype and shape, unreadable metadata. Different "
        "readers resolve such files differently, which is how parser-differential tricks hide data."
    ),
    references=("https://github.com/huggingface/safetensors#format",),
    category=_CATEGORY,
)

CONTAINER_ANOMALY = Rule(
    id="CW810",
    title="Model archive anomaly",
    severity=Severity.MEDIUM,
    rationale=(
        "The model's zip has a CRC mismatch (PyTorch reads the member anyway; picklescan stopped: "
        "CVE-2025-10156), duplicate or path-traversing entry names, or several data.pkl entries."
    ),
    references=("https://nvd.nist.gov/vuln/detail/CVE-2025-10156",),
    category=_CATEGORY,
)

TEMPLATE_CODE = Rule(
    id="CW811",
    title="GGUF chat template reaches Python internals",
    severity=Severity.CRITICAL,
    rationale=(
        "The GGUF's tokenizer.chat_template is a Jinja template that walks Python object internals "
        "(__class__, __globals__, __subclasses__) or names os/subprocess: a server-side template injection "
        "when an unsandboxed renderer formats prompts with it (CVE-2024-34359)."
    ),
    references=("https://nvd.nist.gov/vuln/detail/CVE-2024-34359",),
    attack="T1059.006",
    category=_CATEGORY,
)

TORCHSCRIPT = Rule(
    id="CW812",
    title="TorchScript model carries code",
    severity=Severity.MEDIUM,
    rationale=(
        "The archive is a TorchScript model: `code/` holds TorchScript source that torch.jit.load compiles and "
        "runs (and torch.load hands such archives to torch.jit.load). TorchScript cannot import Python modules, "
        "but it is code, not weights, and weights_only loading has been bypassed through it (CVE-2025-32434)."
    ),
    references=("https://nvd.nist.gov/vuln/detail/CVE-2025-32434", "https://pytorch.org/docs/stable/jit.html"),
    category=_CATEGORY,
)

RULES: tuple[Rule, ...] = (
    MODEL_INVENTORY,
    DANGEROUS_GLOBAL,
    UNKNOWN_GLOBAL,
    HIDDEN_CALLABLE,
    BROKEN_STREAM,
    ANALYSIS_LIMIT,
    UNVERIFIABLE,
    KERAS_CODE,
    KERAS_MODULE,
    HEADER_INVALID,
    CONTAINER_ANOMALY,
    TEMPLATE_CODE,
    TORCHSCRIPT,
)
