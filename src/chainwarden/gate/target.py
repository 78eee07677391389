"""Run the target environment's pip without running the target environment's `.pth` files.

`python -m pip` starts `site`, which executes every `.pth` line in the target's site-packages —
the very code the gate exists to stop (a malicious `.pth` once patched a scanner running inside
the environment it audited). So the target interpreter is started with `-I -S` (isolated, no
`site`), its own site-packages is put on `sys.path` by hand, and pip runs from there. The
interpreter is told its venv the way `site` would tell it, so pip installs into the right place:
`site` is also what makes a venv a venv on 3.11, so the
bootstrap repeats its `pyvenv.cfg` step (setting `sys.prefix`) without its `.pth` step.
"""

from __future__ import annotations

_VENV = (
    "import os, sys\n"
    "exe_dir = os.path.dirname(os.path.abspath(sys.executable))\n"
    "for cfg in (os.path.join(exe_dir, 'pyvenv.cfg'), os.path.join(os.path.dirname(exe_dir), 'pyvenv.cfg')):\n"
    "    if os.path.isfile(cfg):\n"
    "        sys.prefix = sys.exec_prefix = os.path.dirname(exe_dir)\n"
    "        break\n"
)

_BOOT = _VENV + (
    "import runpy, sysconfig\n"
    "paths = sysconfig.get_paths()\n"
    "for key in ('platlib', 'purelib'):\n"
    "    if paths[key] not in sys.path:\n"
    "        sys.path.append(paths[key])\n"
    "sys.argv[0] = 'pip'\n"
    "runpy.run_module('pip', run_name='__main__', alter_sys=True)\n"
)

_TAGS = _VENV + (
    "import sysconfig\n"
    "sys.path.append(sysconfig.get_paths()['purelib'])\n"
    "from pip._vendor.packaging import tags\n"
    "print('\\n'.join(str(t) for t in tags.sys_tags()))\n"
)

_PURELIB = _VENV + "import sysconfig\nprint(sysconfig.get_paths()['purelib'])\n"


def pip_command(python: str, *args: str) -> list[str]:
    """`python -m pip ARGS`, but without `site` (and so without any `.pth` line) running."""
    return [python, "-I", "-S", "-c", _BOOT, *args]


def tags_command(python: str) -> list[str]:
    return [python, "-I", "-S", "-c", _TAGS]


def purelib_command(python: str) -> list[str]:
    return [python, "-I", "-S", "-c", _PURELIB]
