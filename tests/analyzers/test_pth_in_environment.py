"""In an installed environment, a `.pth` that no RECORD owns is reported, and a RECORD-owned
executable `.pth` gets exactly the severity an orphan with the same content gets."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from chainwarden.cli import main
from chainwarden.cli.common import IO
from chainwarden.engine import Scanner, ScanOptions
from support.environments import fake_install, make_venv

STAGE = base64.b64encode(b"print('would read ~/.ssh and POST to https://models.litellm.invalid/')").decode()
PTH = (
    "import os, subprocess, sys; subprocess.Popen([sys.executable, '-c', "
    f"\"import base64; exec(base64.b64decode('{STAGE}'))\"], stdout=subprocess.DEVNULL)\n"
)


def test_owned_and_orphan_pth_are_judged_alike(tmp_path: Path) -> None:
    root, site = make_venv(tmp_path)
    fake_install(site, "litellm", "1.82.8", {"litellm/__init__.py": "", "litellm_init.pth": PTH})
    (site / "zz_persist.pth").write_text(PTH)  # written after install, as MrMustard did: no RECORD owns it
    with Scanner(ScanOptions(jobs=1, use_cache=False, cache_dir=tmp_path / "c")) as scanner:
        report = scanner.scan([str(root)])
    by_file = {}
    for result in report.results:
        for f in result.findings:
            if f.location.path.endswith(".pth"):
                by_file.setdefault(f.location.path, []).append((result.ref.kind.value, f.rule_id, f.severity))
    owned = by_file["litellm_init.pth"]
    orphan = by_file["zz_persist.pth"]
    assert {k for k, _, _ in owned} == {"installed"}
    assert {k for k, _, _ in orphan} == {"unowned"}
    assert max(s for _, _, s in owned) == max(s for _, _, s in orphan)
    assert {(r, s) for _, r, s in owned} == {(r, s) for _, r, s in orphan}
    assert max(s for _, _, s in owned).label == "critical"


def test_cli_on_environment_exits_1_and_names_the_unowned_pth(tmp_path: Path) -> None:
    root, site = make_venv(tmp_path)
    fake_install(site, "clean", "1.0", {"clean/__init__.py": "X = 1\n"})
    (site / "zz_persist.pth").write_text(PTH)
    out, err = io.StringIO(), io.StringIO()
    code = main(["scan", "--no-cache", "-j", "1", str(root)], IO(out, err))
    assert code == 1
    assert "zz_persist.pth" in out.getvalue()
