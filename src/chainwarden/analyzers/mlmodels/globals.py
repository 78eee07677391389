"""Which imports a pickle may make: an exact allowlist of harmless ML globals and a danger list.

Anything on neither list is reported (fail closed). Names are matched in full after dotted
resolution, never by prefix: `torch` + `hub.load` is `torch.hub.load`, which no `torch.` entry
allows. Python 2 names are mapped the way `pickle` maps them when it loads (`fix_imports`), and
both the original and the mapped name are judged.
"""

from __future__ import annotations

import _compat_pickle
import enum


class GlobalClass(enum.IntEnum):
    SAFE = 0
    UNKNOWN = 1
    DANGEROUS = 2


_TORCH_STORAGES = (
    "Float", "Double", "Half", "BFloat16", "Long", "Int", "Short", "Char", "Byte", "Bool",
    "ComplexFloat", "ComplexDouble", "QInt8", "QUInt8", "QInt32", "QUInt4x2", "QUInt2x4",
)  # fmt: skip
_TORCH_DTYPES = (
    "float16", "float32", "float64", "bfloat16", "half", "float", "double", "int8", "int16", "int32",
    "int64", "uint8", "uint16", "uint32", "uint64", "short", "int", "long", "bool", "complex32",
    "complex64", "complex128", "cfloat", "cdouble", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz",
    "float8_e5m2fnuz", "qint8", "quint8", "qint32", "quint4x2",
)  # fmt: skip
_TORCH_REBUILD = (
    "_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3", "_rebuild_parameter",
    "_rebuild_parameter_with_state", "_rebuild_qtensor", "_rebuild_sparse_tensor", "_rebuild_nested_tensor",
    "_rebuild_device_tensor_from_numpy", "_rebuild_meta_tensor_no_storage", "_rebuild_wrapper_subclass",
    "_rebuild_xla_tensor", "_rebuild_mtia_tensor",
)  # fmt: skip
_BUILTIN_TYPES = ("set", "frozenset", "bytearray", "complex", "slice", "range", "object", "int", "float", "str",
                  "bytes", "list", "dict", "tuple", "bool")  # fmt: skip

#: Exact `module.name` strings that rebuild plain data (tensors, arrays, containers) and nothing else.
SAFE_GLOBALS: frozenset[str] = frozenset(
    {
        *(f"torch._utils.{n}" for n in _TORCH_REBUILD),
        *(f"torch.{n}Storage" for n in _TORCH_STORAGES),
        *(f"torch.cuda.{n}Storage" for n in _TORCH_STORAGES),
        *(f"torch{cuda}.{n}Tensor" for cuda in ("", ".cuda") for n in _TORCH_STORAGES if not n.startswith("Q")),
        *(f"torch.{n}" for n in _TORCH_DTYPES),
        "torch.UntypedStorage",
        "torch.storage.UntypedStorage",
        "torch.storage.TypedStorage",
        "torch.Size",
        "torch.device",
        "torch.strided",
        "torch.sparse_coo",
        "torch.sparse_csr",
        "torch.contiguous_format",
        "torch.channels_last",
        "torch.preserve_format",
        "torch._tensor._rebuild_from_type_v2",
        "torch.serialization._get_layout",
        "torch.Tensor",
        "torch.nn.parameter.Parameter",
        *(  # the TorchScript unpickler's list and tensor rebuilders
            f"torch.jit._pickle.{n}"
            for n in (
                "build_intlist",
                "build_tensorlist",
                "build_doublelist",
                "build_boollist",
                "build_tensor_from_id",
                "restore_type_tag",
                "build_complexlist",
            )
        ),
        *(f"numpy.{core}.multiarray.{n}" for core in ("core", "_core") for n in ("_reconstruct", "scalar")),
        *(f"numpy.{core}.numeric._frombuffer" for core in ("core", "_core")),
        "numpy.core._internal._reconstruct",  # where numpy 0.x pickled arrays from (numpy's own test data)
        "numpy.dtype",
        "numpy.ndarray",
        "numpy.ma.core.MaskedArray",
        "numpy.ma.MaskedArray",
        "numpy.ma.core._mareconstruct",
        *(
            f"numpy.dtypes.{n}DType"
            for n in (
                "Float64",
                "Float32",
                "Float16",
                "Int64",
                "Int32",
                "Int16",
                "Int8",
                "UInt64",
                "UInt32",
                "UInt16",
                "UInt8",
                "Bool",
                "Complex64",
                "Complex128",
                "Str",
                "Bytes",
                "Void",
                "Object",
                "DateTime64",
                "TimeDelta64",
                "LongDouble",
            )
        ),
        "numpy.random._pickle.__randomstate_ctor",
        "numpy.random._pickle.__generator_ctor",
        "numpy.random._pickle.__bit_generator_ctor",
        "numpy.random._mt19937.MT19937",
        "numpy.random._pcg64.PCG64",
        "numpy.random._pcg64.PCG64DXSM",
        "numpy.random._philox.Philox",
        "numpy.random._sfc64.SFC64",
        "numpy.random.mtrand.RandomState",
        "numpy.random._generator.Generator",
        *(
            f"{mod}.numpy_pickle.{n}"
            for mod in ("joblib", "sklearn.externals.joblib")
            for n in ("NumpyArrayWrapper", "NDArrayWrapper", "ZNDArrayWrapper")
        ),
        "numpy.matrix",
        "numpy.matrixlib.defmatrix.matrix",
        *(
            f"scipy.sparse.{mod}.{kind}_{shape}"
            for kind in ("coo", "csr", "csc", "bsr", "dia", "dok", "lil")
            for mod in (f"_{kind}", kind)
            for shape in ("matrix", "array")
        ),
        "collections.OrderedDict",
        "collections.defaultdict",
        "collections.Counter",
        "collections.deque",
        *(f"builtins.{n}" for n in _BUILTIN_TYPES),
        "builtins.xrange",
        "builtins.unicode",
        "builtins.long",
        "copyreg._reconstructor",
        "copyreg.__newobj__",
        "copyreg.__newobj_ex__",
        "_codecs.encode",
        "datetime.datetime",
        "datetime.date",
        "datetime.time",
        "datetime.timedelta",
        "datetime.timezone",
        "decimal.Decimal",
        "fractions.Fraction",
        "uuid.UUID",
        "argparse.Namespace",
    }
)

#: Whole modules (and everything below them) whose globals can run commands, load code, reach the
#: network or the file system, or call other callables on the loader's behalf.
DANGEROUS_MODULES: frozenset[str] = frozenset(
    {
        "os",
        "posix",
        "nt",
        "posixpath",
        "ntpath",
        "subprocess",
        "commands",
        "popen2",
        "pty",
        "runpy",
        "socket",
        "socketserver",
        "ssl",
        "select",
        "selectors",
        "asyncio",
        "multiprocessing",
        "threading",
        "_thread",
        "concurrent",
        "signal",
        "importlib",
        "pkgutil",
        "zipimport",
        "imp",
        "site",
        "sys",
        "code",
        "codeop",
        "ctypes",
        "_ctypes",
        "cffi",
        "pickle",
        "_pickle",
        "cPickle",
        "dill",
        "cloudpickle",
        "joblib",
        "marshal",
        "types",
        "shelve",
        "webbrowser",
        "shutil",
        "tempfile",
        "glob",
        "io",
        "_io",
        "fileinput",
        "logging",
        "requests",
        "urllib",
        "urllib2",
        "urllib3",
        "httplib",
        "http",
        "httpx",
        "aiohttp",
        "ftplib",
        "telnetlib",
        "smtplib",
        "smtpd",
        "imaplib",
        "poplib",
        "nntplib",
        "xmlrpc",
        "uuid",
        "platform",
        "pip",
        "ensurepip",
        "venv",
        "setuptools",
        "distutils",
        "pydoc",
        "bdb",
        "pdb",
        "timeit",
        "profile",
        "cProfile",
        "trace",
        "doctest",
        "idlelib",
        "lib2to3",
        "_pyrepl",
        "_osx_support",
        "_aix_support",
        "operator",
        "_operator",
        "functools",
        "inspect",
        "gc",
        "numpy.f2py",
        "numpy.testing",
        "numpy.distutils",
        "torch.hub",
        "torch.utils.collect_env",
        "torch.jit",
        "torch.package",
        "mlflow",
        "pandas.io",
        "tensorflow",
    }
)

#: Single callables that are dangerous although their module is not.
DANGEROUS_NAMES: frozenset[str] = frozenset(
    {
        *(
            f"builtins.{n}"
            for n in (
                "eval",
                "exec",
                "execfile",
                "compile",
                "getattr",
                "setattr",
                "delattr",
                "__import__",
                "open",
                "file",
                "globals",
                "locals",
                "vars",
                "input",
                "breakpoint",
                "exit",
                "quit",
                "help",
                "apply",
                "reload",
                "memoryview",
                "type",
                "super",
                "classmethod",
                "staticmethod",
                "property",
                "print",
            )
        ),
        "torch.load",
        "torch.storage._load_from_bytes",
        "torch.serialization.load",
        "numpy.load",
        "numpy.lib.npyio.load",
        "numpy.fromfile",
        "numpy.tofile",
        "numpy.save",
        "pandas.read_pickle",
        "pandas.read_csv",
        "pandas.read_json",
        "pandas.read_html",
        "pandas.eval",
    }
)


def normalise(module: str, name: str) -> tuple[str, str]:
    """The names Python 3's unpickler resolves a Python 2 pickle's `module`, `name` to."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


def _is_dunder(part: str) -> bool:
    return len(part) > 4 and part.startswith("__") and part.endswith("__")  # noqa: PLR2004 - "____"


def classify(module: str, name: str) -> GlobalClass:
    """SAFE only for an exact allowlisted name; DANGEROUS for the danger lists or attribute traversal
    through dunders (`__builtins__`, `__globals__`, `__subclasses__`); UNKNOWN otherwise."""
    mapped_module, mapped_name = normalise(module, name)
    verdict = _classify_one(mapped_module, mapped_name)
    if (mapped_module, mapped_name) != (module, name) and _on_danger_list(module, name):
        return GlobalClass.DANGEROUS
    return verdict


def _on_danger_list(module: str, name: str) -> bool:
    qualified = f"{module}.{name}"
    if qualified in DANGEROUS_NAMES:
        return True
    parts = qualified.split(".")
    return any(".".join(parts[:i]) in DANGEROUS_MODULES for i in range(1, len(parts) + 1))


def _classify_one(module: str, name: str) -> GlobalClass:
    qualified = f"{module}.{name}"
    if qualified in SAFE_GLOBALS:
        return GlobalClass.SAFE
    if _on_danger_list(module, name):
        return GlobalClass.DANGEROUS
    parts = qualified.split(".")
    if any(_is_dunder(p) for p in parts):
        return GlobalClass.DANGEROUS
    if not module or not name or any(not p.isidentifier() for p in parts):
        return GlobalClass.DANGEROUS  # not a name Python could import honestly: a parser trick
    return GlobalClass.UNKNOWN
