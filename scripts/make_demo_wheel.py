"""Build a litellm-1.82.8-shaped wheel for the demo: a one-line `.pth` that would spawn a child
interpreter running a base64 payload at every interpreter start.

The wheel is only ever *scanned*. Its payload does nothing harmful even if it were run (it
would print a line), and its network target is on the reserved `.invalid` TLD.
"""

from __future__ import annotations

import base64
import hashlib
import sys
import zipfile
from pathlib import Path


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build(dest: Path) -> Path:
    inner = b"print('would POST ~/.ssh to https://models.litellm.invalid/')"
    stage2 = base64.b64encode(b"import base64; exec(base64.b64decode('" + base64.b64encode(inner) + b"'))")
    pth = (
        "import os, subprocess, sys; subprocess.Popen([sys.executable, '-c', "
        f"\"import base64; exec(base64.b64decode('{stage2.decode()}'))\"], "
        "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    ).encode()
    files = {
        "litellm_demo/__init__.py": b"__version__ = '1.82.8'\n",
        "litellm_demo_init.pth": pth,
        "litellm_demo-1.82.8.dist-info/METADATA": b"Metadata-Version: 2.1\nName: litellm-demo\nVersion: 1.82.8\n",
        "litellm_demo-1.82.8.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: demo\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = [_record_line(n, d) for n, d in files.items()]
    record.append("litellm_demo-1.82.8.dist-info/RECORD,,")
    files["litellm_demo-1.82.8.dist-info/RECORD"] = ("\n".join(record) + "\n").encode()
    out = dest / "litellm_demo-1.82.8-py3-none-any.whl"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1])))
