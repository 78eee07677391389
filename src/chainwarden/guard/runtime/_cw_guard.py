"""chainwarden guard runtime: PEP 578 audit hooks enforcing a per-package capability policy.

Standard library only, no chainwarden imports: the launcher copies this directory into a private
temporary directory and loads it into the target interpreter (3.11+) before `site` runs (`boot`),
or a `.pth` bootstrap loads it (`boot_from_pth`). All guard state lives in closures reachable only
from the audit hook, which Python code cannot remove; this module's globals hold no state.
See docs/guard.md for the attribution rule and the limits.
"""

from __future__ import annotations

import _thread
import os
import sys

if __package__:  # imported by chainwarden itself (the launcher reuses the helpers)
    from ._cw_hooks import make_hook
else:  # loaded from the private guard directory inside the guarded interpreter
    from _cw_hooks import make_hook  # type: ignore[import-not-found,no-redef]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

MARK = "--chainwarden-guard-v1"
CONFIG_NAME = "config.py"
SHIM_NAME = "python"
APP = "app"
#: Interpreter options that take an argument (as the next word when not attached).
_ARG_OPTS = frozenset("WX")
#: Secrets every package is denied unless its policy grants them (in addition to `protect`).
SECRETS = (
    "~/.ssh/**", "~/.aws/**", "~/.kube/**", "~/.azure/**", "~/.config/gcloud/**", "~/.gnupg/**",
    "~/.docker/config.json", "~/.git-credentials", "~/.netrc", "~/.pgpass", "~/.my.cnf", "~/.npmrc",
    "~/.pypirc", "~/.vault-token", "~/.bash_history", "~/.zsh_history", "~/.python_history",
    "~/.psql_history", "~/.mysql_history", "~/.rediscli_history", "/etc/shadow", "/etc/kubernetes/**",
    "/var/run/secrets/**", "/run/secrets/**", "**/.env", "**/.env.*", "**/terraform.tfvars",
    "**/id_rsa", "**/id_ed25519", "**/id_ecdsa", "**/*.tfstate",
)


def split_command(argv: list[str]) -> tuple[list[str], list[str]]:
    """Split interpreter arguments into (interpreter options, program and its arguments)."""
    opts: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            return opts, argv[i + 1 :]
        if not a.startswith("-") or a == "-" or a.startswith("--"):
            return opts, argv[i:]
        if a[1] in "cm":
            return opts, ([a[:2], a[2:], *argv[i + 1 :]] if len(a) > 2 else argv[i:])
        opts.append(a)
        j = 1
        while j < len(a):
            if a[j] in "cm":  # combined flags ending in -c/-m, e.g. -Bc
                opts[-1] = a[:j]
                rest = a[j + 1 :]
                return opts, [f"-{a[j]}", *([rest] if rest else []), *argv[i + 1 :]]
            if a[j] in _ARG_OPTS:
                if j == len(a) - 1 and i + 1 < len(argv):
                    i += 1
                    opts.append(argv[i])
                break
            j += 1
        i += 1
    return opts, []


def boot_code(guard_dir: str) -> str:
    """The `-c` program that loads the guard from `guard_dir` and then runs the real program."""
    # Bytecode caching is forced on for the guard's own private directory (children and later runs
    # then skip compiling it) and put back before anything else is imported.
    return (
        f"import sys;sys.path.insert(0,{guard_dir!r});b=sys.dont_write_bytecode;sys.dont_write_bytecode=False;"
        f"from _cw_guard import boot;sys.dont_write_bytecode=b;del sys.path[0];boot({guard_dir!r})"
    )


def guarded_argv(executable: str, guard_dir: str, argv: list[str], origin: str = APP) -> list[str]:
    """Command line that starts `executable argv...` with the guard installed before `site`."""
    opts, rest = split_command(argv)
    no_site = "1" if any(o[:1] == "-" and "S" in o[1:] and o[1] not in _ARG_OPTS for o in opts) else "0"
    kept = [o for o in opts if o != "-S"]
    return [executable, *kept, "-S", "-c", boot_code(guard_dir), MARK, no_site, origin, *rest]


def write_shim(guard_dir: str, executable: str) -> str:
    """Write the `sys.executable` stand-in through which child interpreters start guarded."""
    path = os.path.join(guard_dir, SHIM_NAME)
    code = boot_code(guard_dir).replace("'", "'\\''")
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"#!/bin/sh\nexec '{executable}' -S -c '{code}' \"$@\"\n")
    os.chmod(path, 0o700)
    return path


def load_config(guard_dir: str) -> dict[str, Any]:
    with open(os.path.join(guard_dir, CONFIG_NAME), encoding="utf-8") as f:
        text = f.read()
    config = eval(text, {"__builtins__": {}})  # noqa: S307 - our own literal, written by the launcher into a 0700 dir
    if not isinstance(config, dict) or config.get("version") != 1:
        raise SystemExit("chainwarden guard: unreadable guard configuration; refusing to run unguarded")
    return config


def _origin_key(args: list[str]) -> str:
    import hashlib  # noqa: PLC0415 - only when a child interpreter starts

    return hashlib.sha256("\0".join(args).encode("utf-8", "surrogateescape")).hexdigest()[:32]


def _take_origin(guard_dir: str, args: list[str]) -> str:
    path = os.path.join(guard_dir, "origin", _origin_key(args))
    try:
        with open(path, encoding="utf-8") as f:
            origin = f.read().strip()
        os.unlink(path)
    except OSError:
        return APP
    return origin or APP


def _fixed_flags() -> Any:
    """`sys.flags` as it would be without our `-S`, so multiprocessing children keep `site`.

    The fields are C descriptors (what `namedtuple` uses): the import system reads `sys.flags.verbose`
    and `sys.flags.optimize` several times per module, and a Python property there costs ~1% of an import.
    """
    try:
        from _collections import _tuplegetter  # type: ignore[import-not-found]  # noqa: PLC0415 - builtin, C
    except ImportError:  # another implementation: the same through `operator` (slower, still no Python frame)
        from operator import itemgetter  # noqa: PLC0415

        def _tuplegetter(index: int, doc: str) -> Any:  # noqa: ARG001
            return property(itemgetter(index))

    names = type(sys.flags).__match_args__
    values = tuple(0 if n == "no_site" else getattr(sys.flags, n) for n in names)
    ns: dict[str, Any] = {"__slots__": (), "__match_args__": names, "__repr__": lambda s: "sys.flags(" + ", ".join(
        f"{n}={v!r}" for n, v in zip(names, s, strict=True)) + ")"}
    for i, n in enumerate(names):
        ns[n] = _tuplegetter(i, n)
    # fields outside the tuple (3.13's `gil`): constants for the life of the process
    fields = type(sys.flags).__dict__
    kind = type(fields[names[0]]) if names and names[0] in fields else None  # member_descriptor in CPython
    for n, v in fields.items():
        if kind is not None and type(v) is kind and n not in ns:
            ns[n] = getattr(sys.flags, n)
    for attr in ("n_fields", "n_sequence_fields", "n_unnamed_fields"):
        ns[attr] = getattr(type(sys.flags), attr, len(names))
    return type("flags", (tuple,), ns)(values)


def boot(guard_dir: str) -> None:
    """Entry point of the `-c` bootstrap: install the hook, run `site`, then run the program."""
    if sys.version_info < (3, 11):
        sys.stderr.write("chainwarden guard: the target interpreter must be Python 3.11 or newer\n")
        raise SystemExit(2)  # an error, like a bad policy: the program did not run
    argv = sys.argv[1:]
    if argv[:1] == [MARK]:
        no_site, origin, rest = argv[1] == "1", argv[2], argv[3:]
    else:  # started through the shim: the raw command line of a child interpreter
        opts, rest = split_command(argv)
        origin = _take_origin(guard_dir, argv)
        if opts:
            exe = sys.executable
            os.execv(exe, guarded_argv(exe, guard_dir, argv, origin))
        no_site = False
    config = load_config(guard_dir)
    if sys.path and sys.path[0] == "":
        del sys.path[0]  # never let the working directory shadow modules while .pth lines run
    install(config, origin=origin, guard_file=__file__)
    shim = os.path.join(guard_dir, SHIM_NAME)
    if not no_site:
        _run_site(shim if os.path.exists(shim) else sys.executable)
        sys.flags = _fixed_flags()
    sys.audit("chainwarden.site_done")
    if os.path.exists(shim):
        sys.executable = shim
    main = sys.modules["__main__"]
    for name in ("sys", "boot", "b"):
        main.__dict__.pop(name, None)
    _run_program(rest, main.__dict__)


def _run_site(executable: str) -> None:
    """`site.main()`, with `sys.executable` switched to the shim before the first `.pth` runs.

    `site.venv()` still sees the real interpreter (it finds `pyvenv.cfg` next to it), while code in
    `.pth` lines that starts `sys.executable` (litellm's pattern) already starts a guarded child.
    """
    import site  # noqa: PLC0415

    addpackage = site.addpackage

    def guarded_addpackage(*args: Any, **kwargs: Any) -> Any:
        sys.executable = executable
        return addpackage(*args, **kwargs)

    site.addpackage = guarded_addpackage
    try:
        site.main()
    finally:
        site.addpackage = addpackage


def _run_program(rest: list[str], namespace: dict[str, Any]) -> None:
    """Run the program the way the interpreter would have: `-c`, `-m`, a script, a directory or stdin."""
    safe = sys.flags.safe_path  # -P / -I: no script directory or working directory on sys.path
    if rest[:1] == ["-c"]:
        sys.argv = ["-c", *rest[2:]]
        if not safe:
            sys.path.insert(0, "")
        program = compile(rest[1] if len(rest) > 1 else "", "<string>", "exec")
        exec(program, namespace)  # noqa: S102 - the program the user asked to run
    elif rest[:1] == ["-m"]:
        sys.argv = [rest[1], *rest[2:]]
        if not safe:
            sys.path.insert(0, os.getcwd())
        import runpy  # noqa: PLC0415 - only here: it costs ~3 ms of imports

        getattr(runpy, "_run_module_as_main")(rest[1], alter_argv=True)  # noqa: B009 - what `python -m` itself calls
    elif rest and rest[0] != "-":
        sys.argv = list(rest)
        script = rest[0]
        if not safe:
            sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
        if os.path.isdir(script) or script.endswith(".zip"):
            import runpy  # noqa: PLC0415

            runpy.run_path(script, run_name="__main__")
            return
        with open(script, "rb") as f:
            source = f.read()
        namespace.update(__file__=script, __cached__=None)
        exec(compile(source, script, "exec"), namespace)  # noqa: S102
    else:
        sys.argv = ["", *rest[1:]]
        if not safe:
            sys.path.insert(0, "")
        if not rest and sys.stdin.isatty():
            import code  # noqa: PLC0415

            code.interact(local=namespace)
            return
        exec(compile(sys.stdin.read(), "<stdin>", "exec"), namespace)  # noqa: S102


def boot_from_pth(guard_dir: str) -> None:
    """Entry point of the `.pth` bootstrap written by `chainwarden guard install`."""
    if "chainwarden.guard.active" in sys.__dict__:
        return
    install(load_config(guard_dir), origin=APP, guard_file=__file__)
    sys.__dict__["chainwarden.guard.active"] = True


def install(config: dict[str, Any], *, origin: str, guard_file: str) -> None:
    """Install the audit hook. Everything it needs is captured here, in closures."""
    hook, wrap_thread_start = make_hook(config, origin=origin, guard_file=guard_file)
    sys.addaudithook(hook)
    orig_start = _thread.start_new_thread
    audit = sys.audit
    ident = _thread.get_ident

    def start_new_thread(function: Callable[..., object], args: tuple[Any, ...],
                         kwargs: dict[str, Any] | None = None) -> int:
        token = object()
        audit("chainwarden.thread_start", token)

        def run(*a: Any, **k: Any) -> Any:
            audit("chainwarden.thread_begin", token, ident())
            try:
                return function(*a, **k)
            finally:
                audit("chainwarden.thread_end", ident())

        return orig_start(run, args, kwargs or {})

    wrap_thread_start(start_new_thread)
    _thread.start_new_thread = start_new_thread
    threading = sys.modules.get("threading")
    if threading is not None:
        setattr(threading, "_start_new_thread", start_new_thread)  # noqa: B010 - private, so untyped
    orig_joinable = getattr(_thread, "start_joinable_thread", None)
    if orig_joinable is not None:  # 3.13+: what `threading.Thread.start` calls instead of start_new_thread

        def start_joinable_thread(function: Callable[[], object], *args: Any, **kwargs: Any) -> Any:
            token = object()
            audit("chainwarden.thread_start", token)

            def run() -> Any:
                audit("chainwarden.thread_begin", token, ident())
                try:
                    return function()
                finally:
                    audit("chainwarden.thread_end", ident())

            return orig_joinable(run, *args, **kwargs)

        wrap_thread_start(start_joinable_thread)
        setattr(_thread, "start_joinable_thread", start_joinable_thread)  # noqa: B010 - absent before 3.13
        if threading is not None:
            setattr(threading, "_start_joinable_thread", start_joinable_thread)  # noqa: B010
    del hook, wrap_thread_start
