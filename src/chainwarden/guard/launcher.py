"""`chainwarden run`: start a Python program with the guard installed before `site` runs.

The launcher copies the standard-library-only runtime into a private temporary directory, writes
the compiled policy there as a plain literal plus a `python` shim, and starts the target interpreter
as `python [its options] -S -c BOOT MARK ...`. BOOT installs the audit hook, runs `site.main()`
itself (so every `.pth` line is seen), clears the `-S` from `sys.flags` (so `multiprocessing`
children keep their site-packages) and points `sys.executable` at the shim, through which child
interpreters start guarded too. Nothing is put in the environment: `PYTHONPATH` would leak into
every child, including interpreters of other versions.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from chainwarden.guard.runtime import _cw_guard
from chainwarden.policy import ConfigError

RUNTIME_DIR = Path(__file__).parent / "runtime"
RUNTIME_FILES = ("_cw_guard.py", "_cw_hooks.py", "_cw_match.py")


@dataclass(frozen=True, slots=True)
class Target:
    """The interpreter to start and the arguments that follow it."""

    executable: str
    argv: tuple[str, ...]


def resolve_target(command: list[str]) -> Target:
    """Find the Python interpreter of `command`: `python …`, or a script whose shebang names Python."""
    if not command:
        raise ConfigError("nothing to run: give the program after `--`, e.g. `chainwarden run -- python app.py`")
    found = shutil.which(command[0])
    if found is None:
        raise ConfigError(f"command not found: {command[0]}")
    if Path(found).name.startswith(("python", "pypy")):
        return Target(found, tuple(command[1:]))
    try:
        with Path(found).open("rb") as f:
            first = f.readline(512).decode("utf-8", "replace")
    except OSError as err:
        raise ConfigError(f"cannot read {found}: {err}") from None
    words = first[2:].split() if first.startswith("#!") else []
    if words and Path(words[0]).name == "env" and len(words) > 1:
        words = [shutil.which(words[1]) or words[1], *words[2:]]
    if not words or "python" not in Path(words[0]).name:
        raise ConfigError(f"{command[0]} is neither a Python interpreter nor a Python script")
    return Target(words[0], (*words[1:], found, *command[1:]))


def prepare_guard_dir(config: dict[str, object], executable: str, parent: Path | None = None) -> Path:
    """Private directory holding the runtime, the compiled configuration and the child shim."""
    guard_dir = Path(tempfile.mkdtemp(prefix="chainwarden-guard-", dir=parent))
    for name in RUNTIME_FILES:
        shutil.copyfile(RUNTIME_DIR / name, guard_dir / name)
    (guard_dir / "origin").mkdir(mode=0o700)
    (guard_dir / _cw_guard.CONFIG_NAME).write_text(repr(config) + "\n", encoding="utf-8")
    _cw_guard.write_shim(str(guard_dir), executable)
    return guard_dir


def guarded_command(target: Target, guard_dir: Path) -> list[str]:
    return _cw_guard.guarded_argv(target.executable, str(guard_dir), list(target.argv))


def run_guarded(target: Target, config: dict[str, object], *, keep_dir: bool = False) -> int:
    """Run the program under the guard and return its exit status."""
    guard_dir = prepare_guard_dir(config, target.executable)
    try:
        proc = subprocess.Popen(guarded_command(target, guard_dir))
        while True:
            try:
                return proc.wait()
            except KeyboardInterrupt:  # the child got the same signal; wait for it to finish
                continue
    finally:
        if not keep_dir:
            shutil.rmtree(guard_dir, ignore_errors=True)


def default_log_path() -> str:
    fd, path = tempfile.mkstemp(prefix="chainwarden-guard-", suffix=".jsonl")
    os.close(fd)
    return path


__all__ = ["Target", "default_log_path", "guarded_command", "prepare_guard_dir", "resolve_target", "run_guarded"]
