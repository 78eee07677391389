"""`chainwarden guard install`: a `.pth` bootstrap for environments where a launcher is impossible.

The bootstrap copies the runtime into `site-packages/_chainwarden_guard/` and writes
`!chainwarden-guard.pth`, whose one line installs the guard while `site` is still processing
`.pth` files. `site` runs them in sorted order, so the bootstrap only sees files that sort after
it: a name such as `\\x01.pth` or ` .pth` always sorts first, and nothing a `.pth` can do prevents
that. Installation therefore reports every `.pth` that sorts before the bootstrap, and
`chainwarden verify` keeps reporting them. The launcher (`chainwarden run`) has no such gap.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from chainwarden.guard.baseline import GUARD_DIR, GUARD_PTH
from chainwarden.guard.launcher import RUNTIME_DIR, RUNTIME_FILES
from chainwarden.guard.runtime._cw_guard import CONFIG_NAME


@dataclass(frozen=True, slots=True)
class Installed:
    pth: Path
    runtime_dir: Path
    sorts_before: tuple[str, ...]  # other .pth files that run before the bootstrap


def bootstrap_line(runtime_dir: Path) -> str:
    d = str(runtime_dir)
    return (f"import sys; sys.path.insert(0, {d!r}); import _cw_guard; del sys.path[0]; "
            f"_cw_guard.boot_from_pth({d!r})\n")


def install_bootstrap(site_dir: Path, config: dict[str, object]) -> Installed:
    runtime_dir = site_dir / GUARD_DIR
    runtime_dir.mkdir(exist_ok=True)
    for name in RUNTIME_FILES:
        shutil.copyfile(RUNTIME_DIR / name, runtime_dir / name)
    (runtime_dir / CONFIG_NAME).write_text(repr(config) + "\n", encoding="utf-8")
    pth = site_dir / GUARD_PTH
    pth.write_text(bootstrap_line(runtime_dir), encoding="utf-8")
    earlier = tuple(sorted(p.name for p in site_dir.glob("*.pth") if p.name < GUARD_PTH))
    return Installed(pth, runtime_dir, earlier)


def uninstall_bootstrap(site_dir: Path) -> bool:
    pth = site_dir / GUARD_PTH
    found = pth.exists()
    pth.unlink(missing_ok=True)
    shutil.rmtree(site_dir / GUARD_DIR, ignore_errors=True)
    return found
