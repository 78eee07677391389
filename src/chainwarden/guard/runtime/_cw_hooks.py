"""The audit hook itself: attribution of events to distributions and the capability checks.

Standard library only. `make_hook` builds every piece as a closure over local state, captures the
functions it calls (so later monkey-patching of `os`, `posixpath` or this module changes nothing)
and never calls code of the guarded program while it decides.
"""

from __future__ import annotations

import _thread
import os
import sys

if __package__:  # imported by chainwarden itself
    from ._cw_match import glob_match, host_match, normalize_name, plain_type_expression
else:  # loaded from the private guard directory inside the guarded interpreter
    from _cw_match import glob_match, host_match, normalize_name, plain_type_expression  # type: ignore[import-not-found,no-redef]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import CodeType, FrameType
    from typing import Any

_STDLIB = ""
_SELF = "!"
APP = "app"
UNKNOWN = "unattributed"
#: How a policy names the guarded interpreter (`sys.executable` inside the guard: the shim).
PYTHON_TOKEN = "$PYTHON"  # noqa: S105 - a policy token, not a password
_CODEGEN = ("/dataclasses.py", "/collections/__init__.py", "/ast.py")
_IMPORTLIB = frozenset(("<frozen importlib._bootstrap_external>", "<frozen zipimport>"))
_IMPORT_SYSTEM = _IMPORTLIB | {"<frozen importlib._bootstrap>"}
#: CO_GENERATOR | CO_COROUTINE | CO_ITERABLE_COROUTINE | CO_ASYNC_GENERATOR: code whose frame can outlive the call
_SUSPENDS = 0x20 | 0x80 | 0x100 | 0x200
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_ALWAYS_WRITABLE = frozenset(("/dev/null", "/dev/tty", "/dev/stdout", "/dev/stderr", "/dev/full"))
_INTROSPECT = ("gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._current_frames",
               "sys._current_exceptions")  # the latter: other threads' tracebacks, hence their frames
_EXEC_EVENTS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                "os.forkpty", "pty.spawn")
_FS_EVENTS = ("os.mkdir", "os.remove", "os.rmdir", "os.rename", "os.symlink", "os.link", "os.truncate")
_VERBS = {"net": "connect to", "read": "read", "write": "write", "exec": "run", "dynamic_code": "run code built from",
          "native": "load native library", "introspect": "inspect the interpreter via", "pth": "run .pth line"}


def make_hook(config: dict[str, Any], *, origin: str, guard_file: str
              ) -> tuple[Callable[[str, tuple[Any, ...]], None], Callable[[Any], None]]:
    """Build the audit hook for `config`; returns it and a registrar for the thread-start wrapper."""
    # Local copies of every module constant and builtin the closures use: code in the guarded program
    # can rebind names in this module or in `builtins`, but not these cells.
    k = dict(globals())
    _STDLIB, _SELF, APP, UNKNOWN, PYTHON_TOKEN = "", "!", "app", "unattributed", "$PYTHON"  # noqa: N806
    _CODEGEN, _IMPORTLIB, _IMPORT_SYSTEM, _ALWAYS_WRITABLE, _VERBS, _SUSPENDS = (  # noqa: N806
        k[n] for n in ("_CODEGEN", "_IMPORTLIB", "_IMPORT_SYSTEM", "_ALWAYS_WRITABLE", "_VERBS", "_SUSPENDS"))
    norm, plain_type_expr = normalize_name, plain_type_expression
    import builtins  # noqa: PLC0415

    any, all, next, getattr, len, id, repr, round, sorted, PermissionError = (  # noqa: A001, N806
        builtins.any, builtins.all, builtins.next, builtins.getattr, builtins.len, builtins.id, builtins.repr,
        builtins.round, builtins.sorted, builtins.PermissionError)
    _frozenset = builtins.frozenset
    try:
        from _sha256 import sha256  # type: ignore[import-not-found]  # noqa: PLC0415 - C, cheap, not via `hashlib`
    except ImportError:
        from _sha2 import sha256  # type: ignore[import-not-found]  # noqa: PLC0415
    o_wronly, o_append, o_creat, o_cloexec = os.O_WRONLY, os.O_APPEND, os.O_CREAT, os.O_CLOEXEC
    mkdir = os.mkdir
    # -- captured functions: nothing below looks anything up in a module namespace at event time
    getframe = sys._getframe  # noqa: SLF001
    get_ident = _thread.get_ident
    lstat, readlink, getcwd, listdir = os.lstat, os.readlink, os.getcwd, os.listdir
    os_open, os_write, getpid = os.open, os.write, os.getpid
    fsdecode = os.fsdecode
    fspath = os.fspath
    real_open = open
    import time  # noqa: PLC0415

    now = time.time
    gmatch, hmatch = glob_match, host_match
    _str, _bytes, _int, _tuple, _list, _type = str, bytes, int, tuple, list, type
    sys_modules = sys.modules
    module_type = _type(sys)
    dict_get = dict.get
    importlib_globals = vars(sys_modules["_frozen_importlib_external"])
    # Python 3.13 unmarshals frozen modules (site, os, runpy, ...) at import: `FrozenImporter` calls
    # `_imp.get_frozen_object(name)`, which raises `marshal.loads` with the interpreter's own bytes.
    # Recognised by the identities of its code objects, module dict and the C function it calls.
    bootstrap_globals = vars(sys_modules["_frozen_importlib"])
    imp_mod = sys_modules.get("_imp")
    imp_dict: dict[str, Any] = getattr(imp_mod, "__dict__", {})
    get_frozen = imp_dict.get("get_frozen_object")
    frozen_importer = bootstrap_globals.get("FrozenImporter")
    frames_removed_code = getattr(bootstrap_globals.get("_call_with_frames_removed"), "__code__", None)
    frozen_exec_code = getattr(getattr(frozen_importer, "exec_module", None), "__code__", None)
    frozen_get_code = None  # FrozenImporter.get_code is wrapped by `_requires_frozen`: the function in its closure
    for cell in getattr(getattr(frozen_importer, "get_code", None), "__closure__", None) or ():
        inner = getattr(cell.cell_contents, "__code__", None)
        if getattr(inner, "co_name", None) == "get_code":
            frozen_get_code = inner

    def frozen_load(frame: FrameType) -> bool:
        """Whether `frame` raised `marshal.loads` as `FrozenImporter` loading the interpreter's frozen code."""
        code = frame.f_code
        if code is frames_removed_code and code is not None:  # exec_module: _call_with_frames_removed(get, name)
            outer = frame.f_back
            if outer is None or outer.f_code is not frozen_exec_code or frame.f_locals.get("f") is not get_frozen:
                return False
            frame = outer
        elif code is not frozen_get_code or code is None:  # get_code: _imp.get_frozen_object(fullname)
            return False
        return get_frozen is not None and frame.f_globals is bootstrap_globals and \
            dict_get(bootstrap_globals, "_imp") is imp_mod and dict_get(imp_dict, "get_frozen_object") is get_frozen

    thread_mod_dict = _thread.__dict__
    guard_mod = sys_modules.get("_cw_guard")
    guard_dir = os.path.dirname(guard_file)
    shim = os.path.join(guard_dir, "python")
    # The shim's path changes every run, so policies and hints name the guarded interpreter `$PYTHON`;
    # a grant of the real interpreter (sys.executable before `boot` points it at the shim) or of plain
    # `python` also covers it. `$PYTHON` matches nothing else.
    real_exe = sys.executable or ""
    guarded_names = (PYTHON_TOKEN, shim, "python", real_exe, real_exe.rsplit("/", 1)[-1])
    stdlib = getattr(sys, "_stdlib_dir", None) or os.path.dirname(os.__file__)
    main_ident = get_ident()
    pth_first = 0 if sys.version_info >= (3, 13) else 1  # site.addpackage's `n`: enumerate(..., 1) since 3.13
    site_file = os.path.join(stdlib, "site.py")
    # Exact paths, not suffixes: a `dataclasses.py` of some package in a site-packages directory
    # below the standard library (a system or pyenv interpreter without a venv) is not a template.
    codegen_files = frozenset(stdlib + name for name in _CODEGEN)
    pkgutil_file = stdlib + "/pkgutil.py"
    types_file = stdlib + "/types.py"
    # modules whose functions start subinterpreters; `native = ["<subinterpreter>"]` grants them
    subinterp_modules = frozenset(("_xxsubinterpreters", "_interpreters", "_testcapi", "_testinternalcapi"))
    SUBINTERPRETER = "<subinterpreter>"  # noqa: N806

    mode = str(config.get("mode", "enforce"))
    enforce = mode == "enforce"
    policy_file = str(config.get("policy_file") or "the policy file")
    home = os.path.expanduser("~")
    tmp = os.environ.get("TMPDIR") or "/tmp"  # noqa: S108 - the conventional default, as tempfile uses

    def expand(p: str) -> str:
        if p.startswith("~/") or p == "~":
            p = home + p[1:]
        if p.startswith("$TMP"):
            p = tmp.rstrip("/") + p[4:]
        return p

    def compile_caps(raw: Any) -> dict[str, Any]:
        caps = dict(raw) if isinstance(raw, dict) else {}
        caps["read"] = tuple(expand(p) for p in caps.get("read", ()))
        caps["write"] = tuple(expand(p) for p in caps.get("write", ()))
        return caps

    packages_raw = config.get("packages", {})
    packages = {norm(n): compile_caps(v) for n, v in (packages_raw.items() if isinstance(packages_raw, dict) else ())}
    app_caps = compile_caps(config.get("app"))
    default_caps = compile_caps(config.get("defaults"))
    protect = tuple(expand(p) for p in config.get("protect", ()))
    prot_prefix = tuple(p[:-3] + "/" for p in protect if p.endswith("/**") and "*" not in p[:-3])
    prot_exact = frozenset(p for p in protect if "*" not in p and "?" not in p)
    bases = [p[3:] for p in protect if p.startswith("**/") and "/" not in p[3:]]
    base_exact = frozenset(b for b in bases if "*" not in b and "?" not in b)
    base_prefix = tuple(b[:-1] for b in bases if b.endswith("*") and "*" not in b[:-1] and "?" not in b)
    base_suffix = tuple(b[1:] for b in bases if b.startswith("*") and "*" not in b[1:] and "?" not in b)
    prot_base = tuple(b for b in bases if b not in base_exact and b[:-1] not in base_prefix
                      and b[1:] not in base_suffix)
    prot_dirs = frozenset(p[:-1] for p in prot_prefix)
    prot_rest = tuple(p for p in protect if p[:-3] + "/" not in prot_prefix and p not in prot_exact
                      and not (p.startswith("**/") and "/" not in p[3:]))
    baseline_raw = config.get("baseline")
    baseline: dict[str, frozenset[str]] | None = None
    if isinstance(baseline_raw, dict):  # {pth name: {"lines": [sha256...], "distribution": name}}
        baseline = {k: frozenset(v.get("lines", ()) if isinstance(v, dict) else v) for k, v in baseline_raw.items()}
    log_path = str(config.get("log") or "")
    log_denials_only = not log_path and mode == "enforce"

    # -- mutable state, reachable only through these closures
    busy: set[int] = set()
    file_cache: dict[str, str] = {}
    dyn_code: dict[int, tuple[Any, str]] = {}  # id(code) -> (code kept alive, principal)
    dyn_files: set[str] = set()  # co_filename of every code object in dyn_code
    roots: list[str] = []
    dist_cache: dict[str, list[tuple[str, str]]] = {}
    record_cache: dict[str, str] = {}
    top_level_cache: dict[str, frozenset[str]] = {}
    mention_cache: dict[str, list[tuple[str, str]]] = {}
    pth_owners: dict[str, str] = {  # .pth file name -> distribution, from the baseline
        k: v["distribution"] for k, v in (baseline_raw.items() if isinstance(baseline_raw, dict) else ())
        if isinstance(v, dict) and v.get("distribution")}
    thread_chain: dict[int, tuple[str, ...]] = {}
    walk_paths: dict[int, tuple[tuple[tuple[FrameType, tuple[str, ...], bool], ...], dict[int, int]]] = {}
    pending_threads: dict[int, tuple[Any, tuple[str, ...]]] = {}
    resolved: dict[str, set[str]] = {}
    realdir_cache: dict[str, str] = {}
    plain_seen: set[Any] = set()  # annotation strings already found to be plain type expressions
    log_fd = [-1]
    site_done = [False]
    tamper_seen: set[str] = set()
    wrapper: list[Any] = []
    origin_chain = (origin,)
    # [0] the interpreter's own code trees; [1] those no protected path lies in (or contains), where only
    # a protected file *name* can make a module file protected (empty when such a name could end in .py)
    code_dirs: list[tuple[str, ...]] = [(stdlib + "/",), ()]

    # -- logging ---------------------------------------------------------------------------
    json_escapes = {chr(c): f"\\u{c:04x}" for c in range(32)}

    def jstr(s: str) -> str:
        out = s.replace("\\", "\\\\").replace('"', '\\"')
        if not out.isprintable():  # control characters are not printable
            for c in _frozenset(out):
                if c < " ":
                    out = out.replace(c, json_escapes[c])
        return '"' + out + '"'

    def jval(v: Any) -> str:
        if v is None:
            return "null"
        if v is True or v is False:
            return "true" if v else "false"
        if _type(v) in (_int, float):
            return repr(v)
        if _type(v) in (_tuple, _list):
            return "[" + ",".join(jval(x) for x in v) + "]"
        return jstr(v if _type(v) is _str else repr(v))

    def log(record: dict[str, Any]) -> None:
        if log_denials_only and record.get("decision") not in ("denied", "refused"):
            return
        if log_fd[0] < 0:
            log_fd[0] = os_open(log_path, o_wronly | o_append | o_creat | o_cloexec, 0o600) if log_path else 2
        line = "{" + ",".join(jstr(k) + ":" + jval(v) for k, v in record.items()) + "}\n"
        os_write(log_fd[0], line.encode("utf-8", "surrogateescape"))

    # -- attribution ------------------------------------------------------------------------
    def site_roots() -> list[str]:
        try:
            import site  # noqa: PLC0415

            found = [*site.getsitepackages()]
            if site.ENABLE_USER_SITE:
                found.append(site.getusersitepackages())
        except (ImportError, AttributeError):
            found = []
        found += [p for p in sys.path if _type(p) is _str and ("site-packages" in p or "dist-packages" in p)]
        out: list[str] = []
        for entry in found:
            p = entry.rstrip("/")
            if p and p not in out:
                out.append(p)
        return sorted(out, key=len, reverse=True)

    def set_roots() -> None:
        roots[:] = site_roots()
        file_cache.clear()
        walk_paths.clear()
        code_dirs[0] = (stdlib + "/", *(r + "/" for r in roots))
        code_dirs[1] = module_safe_dirs(code_dirs[0])

    def dist_infos(root: str) -> list[tuple[str, str]]:
        """(normalised distribution name, dist-info directory) of every distribution in `root`."""
        found = dist_cache.get(root)
        if found is None:
            try:
                names = listdir(root)
            except OSError:
                names = []
            found = [(norm(n[:-10].rsplit("-", 1)[0]), n) for n in sorted(names) if n.endswith(".dist-info")]
            dist_cache[root] = found
        return found

    def record(root: str, info: str) -> str:
        """The RECORD text of a dist-info, with a leading newline so that `"\\n" + path + ","` finds a row."""
        key = root + "/" + info
        text = record_cache.get(key)
        if text is None:
            try:
                with real_open(key + "/RECORD", "rb") as f:  # bytes, decoded at once: ~5x faster than text mode
                    text = "\n" + f.read().decode("utf-8", "replace")
            except OSError:
                text = ""
            if "\r" in text:
                text = text.replace("\r", "\n")  # what text mode's universal newlines did for a row's start
            record_cache[key] = text
        return text

    def top_level(root: str, info: str) -> frozenset[str]:
        key = root + "/" + info
        names = top_level_cache.get(key)
        if names is None:
            try:
                with real_open(key + "/top_level.txt", encoding="utf-8", errors="replace") as f:
                    names = frozenset(f.read().split())
            except OSError:
                names = frozenset()
            top_level_cache[key] = names
        return names

    def mentioning(root: str, top: str) -> list[tuple[str, str]]:
        """The distributions whose RECORD has a row starting with `top`: the only ones that can own a file
        under it. Found once per top-level name (it reads every RECORD), and only when cheaper guesses fail."""
        key = root + "/" + top
        found = mention_cache.get(key)
        if found is None:
            plain, quoted = "\n" + top, '\n"' + top
            found = [(d, i) for d, i in dist_infos(root) if plain in record(root, i) or quoted in record(root, i)]
            mention_cache[key] = found
        return found

    def owner(root: str, rel: str) -> str | None:
        """The distribution whose RECORD lists `rel`: read only the RECORDs that can plausibly own it.

        Tried in a fixed order, so that a file two RECORDs claim always goes to the same one: the name is
        the top-level name; `top_level.txt` lists it; one name contains the other (`attrs` for `attr`);
        then every other RECORD with a row under that top-level name.
        """
        top = rel.split("/", 1)[0] if "/" in rel else rel.split(".", 1)[0]
        infos = dist_infos(root)
        wanted = norm(top)
        row, quoted_row = "\n" + rel + ",", '\n"' + rel + '"'
        tried: set[str] = set()
        for stage in (0, 1, 2, 3):
            if stage == 3:
                infos = mentioning(root, top)
            for dist, info in infos:
                if info in tried or (stage == 0 and dist != wanted and not dist.startswith(wanted + "-")) or (
                        stage == 1 and top not in top_level(root, info)) or (
                        stage == 2 and wanted not in dist and dist not in wanted):
                    continue
                tried.add(info)
                text = record(root, info)
                if row in text or quoted_row in text:
                    return dist
        return None

    def classify(filename: str) -> str:
        if filename.startswith("<"):
            return _STDLIB
        if filename == guard_file or filename.startswith(guard_dir + "/"):
            return _SELF
        if not roots:
            set_roots()
        for root in roots:
            if filename.startswith(root + "/"):
                rel = filename[len(root) + 1 :]
                found = owner(root, rel)
                if found is None:
                    found = "unowned:" + (rel.split("/", 1)[0] if "/" in rel else rel.split(".", 1)[0])
                return found
        if filename.startswith(stdlib + "/"):
            return _STDLIB
        return APP

    def principal(code: CodeType) -> str:
        fn = code.co_filename
        if fn in dyn_files:  # only exec'd code is registered; id() is an audit event, so ask only for its files
            hit = dyn_code.get(id(code))
            if hit is not None:
                return hit[1]
        p = file_cache.get(fn)
        if p is None:
            p = classify(fn)
            file_cache[fn] = p
        return p

    def inherited() -> tuple[str, ...]:
        ident = get_ident()
        chain = thread_chain.get(ident)
        if chain is not None:
            return chain
        return origin_chain if ident == main_ident else (UNKNOWN,)

    def module_frame(frame: FrameType) -> bool:
        """Whether `frame` runs with the namespace of a module in `sys.modules` (so that namespace outlives it)."""
        name: Any = dict_get(frame.f_globals, "__name__")  # `dict.get`: a dict subclass's own `get` never runs here
        module = sys_modules.get(name) if _type(name) is _str else None
        return _type(module) is module_type and module.__dict__ is frame.f_globals

    def chain_from(frame: FrameType | None) -> tuple[str, ...]:
        """Third-party principals between the event and the nearest application frame.

        Stack walks are the guard's longest loops (an import-time `compile` sits ~100 frames deep, and
        reading each frame's code is itself an audit event), so each thread keeps the last walked path
        of import-system and module-body frames with what lies below each: the next walk stops at the
        first of them still on its stack. A cached frame is recognised by identity (the path holds it, so
        its id is not reused) and is on the stack, so nothing below it has changed. Only such frames are
        held: their locals are module namespaces and import-system state, alive anyway.
        """
        ident = get_ident()
        cached = walk_paths.get(ident)
        path, index = cached if cached is not None else ((), {})
        walked: list[tuple[FrameType, str, bool]] = []
        keep = 0
        below: tuple[tuple[str, ...], bool] = ((), False)  # (principals from there down, an app frame ends them)
        while frame is not None:
            i = index.get(id(frame))
            if i is not None and path[i][0] is frame:
                keep = i + 1
                below = path[i][1], path[i][2]
                break
            code = frame.f_code  # what `principal` does, inline
            fn = code.co_filename
            hit = dyn_code.get(id(code)) if fn in dyn_files else None
            if hit is not None:
                p = hit[1]
            else:
                known = file_cache.get(fn)
                if known is None:
                    known = file_cache[fn] = classify(fn)
                p = known
            # never a generator's or coroutine's frame: its caller changes each time it resumes
            walked.append((frame, p, hit is None and not code.co_flags & _SUSPENDS and (fn in _IMPORT_SYSTEM or (
                code.co_name == "<module>" and module_frame(frame)))))
            if p == APP:
                break
            frame = frame.f_back
        principals, app_below = below
        entries: list[tuple[FrameType, tuple[str, ...], bool]] = []
        for f, p, cacheable in reversed(walked):  # bottom up: what lies below each walked frame
            if p == APP:
                principals, app_below = (), True
            elif p not in (_STDLIB, _SELF) and (not principals or principals[0] != p):
                principals = (p, *(x for x in principals if x != p))
            if cacheable:
                entries.append((f, principals, app_below))
        if entries or keep != len(path):
            new_path = (*path[:keep], *entries)
            walk_paths[ident] = (new_path, {id(e[0]): n for n, e in enumerate(new_path)})
        if app_below:
            return principals or (APP,)
        base = inherited()
        merged = [*principals, *(p for p in base if p != APP and p not in principals)]
        return _tuple(merged) if merged else base

    def event_frame() -> FrameType | None:
        """The frame that raised the event. Call it only directly from a handler (fixed depth)."""
        try:
            return getframe(5)  # 0 here, 1 the handler, 2 decide, 3 its fast path, 4 hook, 5 the event's frame
        except ValueError:  # raised from C with no Python frame (e.g. compiling the `-c` program)
            return None

    def actor_of(frame: FrameType | None) -> str:
        """The innermost principal at `frame`: what `chain_from(frame)[0]` is, without walking the whole stack."""
        while frame is not None:
            p = principal(frame.f_code)
            if p not in (_STDLIB, _SELF):
                return p
            frame = frame.f_back
        return inherited()[0]

    def first_frame(frame: FrameType | None) -> FrameType | None:
        """The innermost frame of the event that is not the guard's own."""
        while frame is not None and principal(frame.f_code) == _SELF:
            frame = frame.f_back
        return frame

    # -- policy -------------------------------------------------------------------------------
    def caps_of(p: str) -> dict[str, Any]:
        if p == APP:
            return app_caps
        return packages.get(p) or default_caps

    def allowed(p: str, cap: str, target: Any) -> bool:
        caps = caps_of(p)
        if cap in ("dynamic_code", "introspect"):
            return caps.get(cap) is True
        if cap in ("exec", "native"):
            grant = caps.get(cap)
            if grant is True or grant is False or grant is None:
                return grant is True
            name = target if _type(target) is _str else ""
            if cap == "exec" and name == shim:
                return any(gmatch(g, n) for g in grant for n in guarded_names)
            base = name.rsplit("/", 1)[-1]
            return any(g != PYTHON_TOKEN and (gmatch(g, name) or gmatch(g, base)) for g in grant)
        if cap == "net":
            hosts, port = target
            return any(hmatch(g, h, port) for g in caps.get("net", ()) for h in hosts)
        return any(gmatch(g, target) for g in caps.get(cap, ()))

    def grant_line(p: str, cap: str, shown: str) -> str:
        table = "[app]" if p == APP else f'[packages."{p}"]' if ":" in p else f"[packages.{p}]"
        if cap in ("dynamic_code", "introspect"):
            return f"{table} {cap} = true"
        key = {"read": "fs.read", "write": "fs.write"}.get(cap, cap)
        return f"{table} {key} = [{jstr(shown)}]"

    def check(event: str, cap: str, target: Any, shown: str, chain: tuple[str, ...],  # noqa: PLR0917
              extra: dict[str, Any] | None = None) -> str | None:
        culprit = next((p for p in chain if not allowed(p, cap, target)), None)
        tamper_check()
        record: dict[str, Any] = {"ts": round(now(), 6), "pid": getpid(), "event": event, "capability": cap,
                                     "package": chain[0], "chain": chain, "target": shown}
        if extra:
            record.update(extra)
        if culprit is None:
            record["decision"] = "allowed"
            log(record)
            return None
        line = grant_line(culprit, cap, shown)
        record.update(decision="denied" if enforce else "would-deny", denied_package=culprit, policy_line=line)
        log(record)
        if not enforce:
            return None
        if cap == "exec" and target == shim:
            shown = f"{shown} (the guarded interpreter, {real_exe})"
        return (f"chainwarden guard: package '{culprit}' may not {_VERBS[cap]} {shown} (capability {cap}, "
                f"event {event}, call chain {' <- '.join(chain)}). To allow it, add to {policy_file}: {line}")

    def tamper(kind: str, detail: str) -> None:
        if kind in tamper_seen:
            return
        tamper_seen.add(kind)
        log({"ts": round(now(), 6), "pid": getpid(), "event": "chainwarden.tamper", "capability": "tamper",
             "package": "?", "target": kind, "detail": detail, "decision": "detected"})

    def tamper_check() -> None:
        for name, fn in wrapper:  # start_new_thread, and start_joinable_thread on 3.13+
            if thread_mod_dict.get(name) is not fn:
                tamper("thread-start-restored", f"_thread.{name} was replaced; guard re-installed its wrapper")
                thread_mod_dict[name] = fn
        if guard_mod is not None and sys_modules.get("_cw_guard") is not guard_mod:
            tamper("sys-modules", "the guard module was removed or replaced in sys.modules (no effect on the hook)")
        if guard_mod is not None and any(getattr(guard_mod, n, None) is not v for n, v in guard_snapshot):
            tamper("monkey-patch", "a function of the guard module was replaced (no effect on the hook)")

    guard_snapshot = tuple((n, v) for n, v in (vars(guard_mod).items() if guard_mod else ()) if callable(v))

    # -- paths --------------------------------------------------------------------------------
    def absolute(p: str) -> str:
        if not p.startswith("/"):
            p = getcwd() + "/" + p
        if "/." in p or "//" in p:
            parts: list[str] = []
            for part in p.split("/"):
                if part in ("", "."):
                    continue
                if part == "..":
                    if parts:
                        parts.pop()
                else:
                    parts.append(part)
            p = "/" + "/".join(parts)
        return p

    def realpath(p: str, depth: int = 0) -> str:
        head, _, name = p.rpartition("/")
        if head:
            rd = realdir_cache.get(head)
            if rd is None:
                rd = realpath(head, depth + 1) if depth < 40 else head
                realdir_cache[head] = rd
            head = rd
        p = head + "/" + name
        try:
            if lstat(p).st_mode & 0o170000 == 0o120000 and depth < 40:
                target = readlink(p)
                return realpath(absolute(target if target.startswith("/") else head + "/" + target), depth + 1)
        except (OSError, ValueError):
            pass
        return p

    prot_globs = bool(prot_base or prot_rest)

    def protected(p: str) -> bool:
        if p in prot_exact or p in prot_dirs or p.startswith(prot_prefix):
            return True
        base = p[p.rfind("/") + 1 :]
        if base in base_exact or base.startswith(base_prefix) or base.endswith(base_suffix):
            return True
        if not prot_globs:
            return False
        if prot_base and any(gmatch(b, base) for b in prot_base):
            return True
        return bool(prot_rest) and any(gmatch(g, p) for g in prot_rest)

    mod_ext = (".py", ".pyc")
    # Can a protected *name* be a module file name (other than one starting with a `base_prefix`)?
    mod_names = prot_globs or any(b.endswith(mod_ext) for b in base_exact) or any(
        s.endswith(mod_ext) or ".py".endswith(s) or ".pyc".endswith(s) for s in base_suffix)

    def module_safe_dirs(dirs: tuple[str, ...]) -> tuple[str, ...]:
        """The directories of `dirs` in which `protected(p)` of a module file `p` is only `base_prefix`."""
        if mod_names:
            return ()
        return tuple(d for d in dirs if not any(p.startswith(d) for p in prot_exact) and not any(
            q.startswith(d) or d.startswith(q) for q in prot_prefix))

    code_dirs[1] = module_safe_dirs(code_dirs[0])

    def as_path(obj: Any) -> str | None:
        t = _type(obj)
        if t is _str:
            return _str(obj)
        if t is _bytes:
            return fsdecode(obj)
        # PathLike: only trust __fspath__ implementations from the standard library
        codes = [getattr(getattr(t, m, None), "__code__", None) for m in ("__fspath__", "__str__")]
        if all(c is not None and c.co_filename.startswith(stdlib + "/") for c in codes):
            # Those functions may still reach code of the guarded program (a subclass's property for an
            # attribute they read): what it does is checked like any other code, not waved through as
            # the guard's own work, so the recursion guard is lifted while they run.
            ident = get_ident()
            busy.discard(ident)
            try:
                value = fspath(obj)
            except TypeError:
                return None
            finally:
                busy.add(ident)
            return value if _type(value) is _str else fsdecode(value) if _type(value) is _bytes else None
        return None

    # -- handlers -----------------------------------------------------------------------------
    def on_open(event: str, args: tuple[Any, ...]) -> str | None:
        raw = args[0]
        if _type(raw) is _int:
            return None
        mode, flags = args[1], args[2] if len(args) > 2 else 0
        writing = (mode is None and _type(flags) is _int and flags & _WRITE_FLAGS != 0) or (
            _type(mode) is _str and ("w" in mode or "a" in mode or "x" in mode or "+" in mode))
        path = as_path(raw)
        if path is None:
            return check(event, "read", "<unverifiable path object>", "<path object of type "
                         + _type(raw).__name__ + ">", chain_from(first_frame(event_frame())))
        path = absolute(path)
        if not writing:
            if path.startswith(code_dirs[0]) and path.endswith((".py", ".pyc")) and not protected(path):
                return None  # module files in the interpreter's own trees
            if not protected(path) and not protected(realpath(path)):
                return None
            return check(event, "read", path, path, chain_from(first_frame(event_frame())))
        if path in _ALWAYS_WRITABLE:
            return None
        frame = first_frame(event_frame())
        if frame is not None and frame.f_code.co_filename in _IMPORTLIB and "/__pycache__/" in path:
            return None  # the import system writing its bytecode cache
        return check(event, "write", realpath(path), path, chain_from(frame))

    def on_fs(event: str, args: tuple[Any, ...]) -> str | None:
        frame = first_frame(event_frame())
        if frame is not None and frame.f_code.co_filename in _IMPORTLIB:
            return None
        paths = [as_path(a) for a in args[:2] if _type(a) in (_str, _bytes)]
        if event in ("os.symlink", "os.link") and paths and paths[0] is not None:
            src = absolute(paths[0])
            if protected(src) or protected(realpath(src)):
                return check(event, "read", src, src, chain_from(frame))
            paths = paths[1:]
        for given in paths if event not in ("os.mkdir", "os.rmdir") else paths[:1]:
            if given is None:
                continue
            p = absolute(given)
            msg = check(event, "write", realpath(p), p, chain_from(frame))
            if msg:
                return msg
        return None

    def on_listdir(event: str, args: tuple[Any, ...]) -> str | None:
        path = as_path(args[0]) if args else None
        if path is None:
            return None
        path = absolute(path)
        if protected(path) or path in prot_dirs:
            return check(event, "read", path, path, chain_from(first_frame(event_frame())))
        return None

    def net_target(host: Any, port: Any) -> tuple[list[str], int, str] | None:
        if _type(host) is _bytes:
            host = host.decode("ascii", "replace")
        if _type(host) is not _str:
            return None
        if _type(port) is _str and port.isdigit():
            port = _int(port)
        port = port if _type(port) is _int else 0
        hosts = [host, *sorted(resolved.get(host, ()))]
        return hosts, port, f"{host}:{port}"

    def on_connect(event: str, args: tuple[Any, ...]) -> str | None:
        addr = args[1]
        if _type(addr) in (_str, _bytes):
            path = as_path(addr) or ""
            return check(event, "net", (["unix:" + path], 0), "unix:" + path, chain_from(first_frame(event_frame())))
        if _type(addr) is not _tuple or len(addr) < 2:
            return check(event, "net", ([], 0), "<unknown address>", chain_from(first_frame(event_frame())))
        t = net_target(addr[0], addr[1])
        if t is None:
            return check(event, "net", ([], 0), "<unverifiable address>", chain_from(first_frame(event_frame())))
        hosts, port, shown = t
        extra = {"via": hosts[1:]} if len(hosts) > 1 else None
        return check(event, "net", (hosts, port), shown, chain_from(first_frame(event_frame())), extra)

    def on_lookup(event: str, args: tuple[Any, ...]) -> str | None:
        t = net_target(args[0], args[1] if len(args) > 1 else 0)
        if t is None:
            return None
        hosts, port, shown = t
        chain = chain_from(first_frame(event_frame()))
        msg = check(event, "net", (hosts[:1], port), shown, chain)
        if msg is None and hosts[0] and not hosts[0][0].isdigit():
            try:
                import _socket  # noqa: PLC0415

                for info in _socket.getaddrinfo(hosts[0], port or None):
                    resolved.setdefault(_str(info[4][0]), set()).add(hosts[0])
            except OSError:
                pass
        return msg

    def on_exec(event: str, args: tuple[Any, ...]) -> str | None:
        program: Any = ""
        argv: Any = None
        if event == "subprocess.Popen":
            argv = args[1]
            program = args[0] if args[0] is not None else (argv[0] if _type(argv) is _list and argv else "")
        elif event == "os.system":
            program = args[0].split(None, 1)[0] if _type(args[0]) is _str and args[0].strip() else "sh"
        elif event in ("os.fork", "os.forkpty"):
            program = "<fork>"
        elif event == "pty.spawn":
            argv = args[0]
            program = argv[0] if _type(argv) in (_list, _tuple) and argv else ""
        else:
            i = 1 if event == "os.spawn" else 0
            program, argv = args[i], args[i + 1]
        program = as_path(program) or "<unverifiable program>"
        chain = chain_from(first_frame(event_frame()))
        child = "guarded" if program == shim else "python" if program.rsplit("/", 1)[-1].startswith("python") else None
        extra = {"child": child, "interpreter": real_exe} if child == "guarded" else {"child": child} if child else None
        msg = check(event, "exec", program, PYTHON_TOKEN if child == "guarded" else program, chain, extra)
        strings = _type(argv) in (_list, _tuple) and all(_type(a) is _str for a in argv)
        if msg is None and child == "guarded" and strings:
            write_origin(list(argv[1:]), chain[0])
        return msg

    def write_origin(args: list[str], who: str) -> None:
        key = sha256("\0".join(args).encode("utf-8", "surrogateescape")).hexdigest()[:32]
        try:
            mkdir(guard_dir + "/origin", 0o700)
        except OSError:
            pass
        try:
            with real_open(guard_dir + "/origin/" + key, "w", encoding="utf-8") as f:
                f.write(who)
        except OSError:
            pass

    def pth_owner(fullname: str) -> str:
        root, _, name = fullname.rpartition("/")
        known = pth_owners.get(name)
        if known:
            return known
        if not roots:
            set_roots()
        return (owner(root, name) if root in roots else None) or "unowned:" + name

    def pth_check(frame: FrameType, source: Any) -> str | None:
        loc = frame.f_locals
        fullname: Any = loc.get("fullname")
        if _type(source) is _bytes:
            source = source.decode("utf-8", "surrogateescape")
        if _type(fullname) is not _str or _type(source) is not _str:
            return None
        name = fullname.rsplit("/", 1)[-1]
        if name.startswith("!chainwarden") and "boot_from_pth" in source:
            return None
        digest = sha256(source.rstrip("\r\n").encode("utf-8", "surrogateescape")).hexdigest()
        owner = pth_owner(fullname)
        number: Any = loc.get("n")
        record = {"ts": round(now(), 6), "pid": getpid(), "event": "site.pth", "capability": "pth", "package": owner,
                  "chain": (owner,), "target": fullname, "line": number + pth_first if _type(number) is _int else 0,
                  "sha256": digest, "source": source[:200]}
        if baseline is not None and digest in baseline.get(name, ()):
            record["decision"] = "allowed"
            log(record)
            return None
        record["decision"] = "refused" if enforce else "would-refuse"
        log(record)
        if not enforce:
            return None
        return (f"chainwarden guard: refused line {record['line']} of {fullname} (package '{owner}'): it is not in "
                "the approved .pth baseline. Review it, then approve it with "
                "`chainwarden verify --write-baseline FILE` and run with --baseline FILE.")

    def on_compile(event: str, args: tuple[Any, ...]) -> str | None:
        if event == "compile" and args:
            src: Any = args[0]
            if _type(src) not in (_str, _bytes):
                src = None  # an AST, or a buffer: judged below
            elif src in plain_seen:
                return None
            text = src.decode("latin-1") if _type(src) is _bytes else src
            if _type(text) is _str and plain_type_expr(text):
                # Names, attributes, subscripts, literals and `|` cannot call anything: compiling such an
                # expression (as typing does for every string annotation) runs no new code, whoever does it.
                if len(plain_seen) < 4096:
                    plain_seen.add(src)
                return None
        frame = event_frame()
        if frame is None:
            return None
        if event == "marshal.loads" and (frame.f_globals is importlib_globals or frozen_load(frame)):
            return None  # the import system reading a bytecode cache or frozen module (identities: unforgeable)
        code = frame.f_code
        fn = code.co_filename
        if fn in _IMPORTLIB and event == "marshal.loads":
            return None  # the import system reading a bytecode cache
        if fn == guard_file and code.co_name == "_run_program":
            return None  # the program the user asked to run
        if principal(code) == _SELF:
            frame = first_frame(frame)
            if frame is None:
                return None
            code = frame.f_code
            fn = code.co_filename
        if fn == "<frozen importlib._bootstrap>" and code.co_name == "_call_with_frames_removed":
            outer = frame.f_back
            if outer is not None and outer.f_code.co_filename in _IMPORTLIB:
                loader = outer.f_locals.get("self")
                if outer.f_code.co_filename == "<frozen zipimport>" or (
                        _type(loader).__module__ == "_frozen_importlib_external"):
                    return None  # the import system compiling a module file with a standard loader
        if fn == "<frozen zipimport>":
            return None
        if event == "compile":
            if fn in (site_file, "<frozen site>") and code.co_name == "addpackage":
                return pth_check(frame, args[0])
            if fn in codegen_files:
                return None
        elif event == "marshal.loads" and fn == pkgutil_file:
            return None
        elif event == "code.__new__" and fn == types_file and code.co_name == "coroutine" and \
                len(args) > 1 and args[1] not in dyn_files:
            return None  # `@types.coroutine` (asyncio at import): a copy of a file's code with one more flag
        chain = chain_from(frame)
        src = args[0] if args else None
        shown: Any = src[:80] if _type(src) in (_str, _bytes) else f"<{_type(src).__name__}>"
        if _type(shown) is _bytes:
            shown = shown.decode("utf-8", "replace")
        fname = args[1] if event == "compile" and len(args) > 1 and _type(args[1]) is _str else None
        return check(event, "dynamic_code", None, shown, chain, {"filename": fname} if fname else None)

    def on_exec_code(event: str, args: tuple[Any, ...]) -> str | None:  # noqa: ARG001
        """Register code built from a string under the package that runs it, for when it runs again later.

        The hook skips code that defines no function, class or comprehension (no code object among its
        constants) and is no coroutine or generator (top-level `await`): its frames exist only inside
        this `exec`/`eval`, above the frame that called it, so walking the stack from any of them reaches
        that package anyway. `.pth` lines are the exception (their package is not on the stack), so code
        `site.addpackage` runs always comes here.
        """
        code = args[0]
        fn: Any = getattr(code, "co_filename", None)
        if _type(fn) is not _str or not fn.startswith("<") or fn.startswith("<frozen"):
            return None
        frame = first_frame(event_frame())
        caller = frame.f_code.co_filename if frame is not None else ""
        if caller in codegen_files:
            return None  # dataclass/namedtuple methods: transparent, they act for whoever calls them
        if frame is not None and caller in (site_file, "<frozen site>") and frame.f_code.co_name == "addpackage":
            owner = pth_owner(str(frame.f_locals.get("fullname", "")))
        else:
            owner = actor_of(frame)
        if owner != APP:
            todo = [code]
            while todo:
                c = todo.pop()
                dyn_code[id(c)] = (c, owner)
                dyn_files.add(c.co_filename)
                todo.extend(k for k in c.co_consts if _type(k) is _type(c))
        return None

    def on_native(event: str, args: tuple[Any, ...]) -> str | None:
        name: Any = args[0] if event == "ctypes.dlopen" else args[1] if len(args) > 1 else None
        frame = first_frame(event_frame())
        if event == "ctypes.dlopen" and name is None and frame is not None and \
                frame.f_code.co_filename.endswith("/ctypes/__init__.py") and frame.f_code.co_name == "<module>":
            return None  # `import ctypes` opening the running process itself
        shown = name if _type(name) is _str else fsdecode(name) if _type(name) is _bytes else "<process>"
        return check(event, "native", shown, shown, chain_from(frame))

    def on_introspect(event: str, args: tuple[Any, ...]) -> str | None:  # noqa: ARG001
        return check(event, "introspect", None, event, chain_from(first_frame(event_frame())))

    def on_subinterpreter(event: str, args: tuple[Any, ...]) -> str | None:
        """A subinterpreter runs code this hook never sees (`sys.addaudithook` hooks are per interpreter).

        3.11/3.12 raise `cpython.PyInterpreterState_New` here when one is created; 3.13 raises nothing
        here, so loading the modules that create them (`import` event, by the name's last part) is checked.
        """
        if event == "import":
            name: Any = args[0] if args else None
            if _type(name) is not _str or name.rpartition(".")[2] not in subinterp_modules:
                return None
        return check(event, "native", SUBINTERPRETER, SUBINTERPRETER, chain_from(first_frame(event_frame())))

    def on_private(event: str, args: tuple[Any, ...]) -> str | None:
        if event == "chainwarden.thread_start":
            pending_threads[id(args[0])] = (args[0], chain_from(first_frame(event_frame())))
        elif event == "chainwarden.thread_begin":
            got = pending_threads.pop(id(args[0]), None)
            if got is not None:
                thread_chain[args[1]] = got[1]
        elif event == "chainwarden.thread_end":
            thread_chain.pop(args[0], None)
            walk_paths.pop(args[0], None)
        elif event == "chainwarden.site_done" and not site_done[0]:
            site_done[0] = True
            set_roots()
        return None

    def on_hook_added(event: str, args: tuple[Any, ...]) -> str | None:  # noqa: ARG001
        chain = chain_from(first_frame(event_frame()))
        if chain != (APP,):
            tamper("audit-hook-added", "package " + chain[0] + " added an audit hook (it cannot remove the guard's)")
        return None

    handlers: dict[str, Callable[[str, tuple[Any, ...]], str | None]] = {
        "open": on_open, "socket.connect": on_connect, "socket.sendto": on_connect,
        "socket.getaddrinfo": on_lookup, "socket.gethostbyname": on_lookup,
        "compile": on_compile, "marshal.loads": on_compile, "code.__new__": on_compile,
        "exec": on_exec_code, "ctypes.dlopen": on_native, "ctypes.dlsym": on_native,
        "os.listdir": on_listdir, "os.scandir": on_listdir, "sys.addaudithook": on_hook_added,
        "chainwarden.thread_start": on_private, "chainwarden.thread_begin": on_private,
        "chainwarden.thread_end": on_private, "chainwarden.site_done": on_private,
    }
    handlers.update(dict.fromkeys(_EXEC_EVENTS, on_exec))
    handlers.update(dict.fromkeys(_FS_EVENTS, on_fs))
    handlers.update(dict.fromkeys(_INTROSPECT, on_introspect))
    handlers.update({"cpython.PyInterpreterState_New": on_subinterpreter, "import": on_subinterpreter})
    dispatch = handlers.get

    def decide(event: str, args: tuple[Any, ...]) -> str | None:
        handler = dispatch(event)
        if handler is None:
            return None
        ident = get_ident()
        if ident in busy:
            return None
        busy.add(ident)
        try:
            return handler(event, args)
        except Exception as exc:  # noqa: BLE001 - fail closed: a guard bug must not let the event through
            log({"ts": round(now(), 6), "pid": getpid(), "event": event, "capability": "internal-error",
                 "package": "?", "target": type(exc).__name__, "decision": "denied" if enforce else "would-deny"})
            return None if not enforce else f"chainwarden guard: internal error while checking {event}; refused"
        finally:
            busy.discard(ident)

    # The fast paths below return exactly where the handler would also have returned None, but without
    # the call into `decide` (recursion guard, dispatch): they cover the ~85% of handled events an import
    # raises. They only test exact built-in types and frame identities. Each is its own function with
    # only the defaults it needs, called from `hook` (frame 1), whose caller raised the event (frame 2).
    code_type: type[CodeType] = _type(expand.__code__)
    site_files = frozenset((site_file, "<frozen site>"))

    def fast_compile(event: str, args: tuple[Any, ...], _decide: Callable[..., str | None] = decide,
                     _plain: set[Any] = plain_seen, _plain_expr: Callable[[str], bool] = plain_type_expr,
                     _frame: Callable[[int], Any] = getframe, _codegen: frozenset[str] = codegen_files,
                     _kind: type[type] = type, _str: type[str] = str, _bytes: type[bytes] = bytes,
                     _len: Callable[[Any], int] = len) -> str | None:
        src = args[0]
        kind = _kind(src)
        if kind is _str or kind is _bytes:
            if src in _plain:
                return None  # an annotation string already known to be a plain type expression
            if _plain_expr(src if kind is _str else src.decode("latin-1")):
                # names, attributes, subscripts, literals and `|` cannot call anything (see on_compile)
                if _len(_plain) < 4096:
                    _plain.add(src)
                return None
        try:
            if _frame(2).f_code.co_filename in _codegen:
                return None  # a dataclass/namedtuple template compiled by the standard library
        except ValueError:  # raised from C with no Python frame: on_compile decides
            pass
        return _decide(event, args)

    def fast_exec(event: str, args: tuple[Any, ...], _decide: Callable[..., str | None] = decide,
                  _frame: Callable[[int], Any] = getframe, _codegen: frozenset[str] = codegen_files,
                  _getattr: Callable[..., Any] = getattr, _kind: type[type] = type,
                  _code: type[CodeType] = code_type, _set: type[set[Any]] = set,
                  _map: type[map[Any]] = map, _site: frozenset[str] = site_files,
                  _suspends: int = k["_SUSPENDS"]) -> str | None:
        code = args[0]
        filename = _getattr(code, "co_filename", "<")
        if filename[:1] != "<" or filename[:7] == "<frozen":
            return None  # a module body from a file: nothing to register (see on_exec_code)
        try:
            caller = _frame(2).f_code
        except ValueError:
            caller = None
        if caller is not None:
            if caller.co_filename in _codegen:
                return None  # dataclass/namedtuple methods: transparent, they act for whoever calls them
            if _kind(code) is _code and not code.co_flags & _suspends and \
                    _code not in _set(_map(_kind, code.co_consts)) and not (
                    caller.co_name == "addpackage" and caller.co_filename in _site):
                return None  # code that defines no function runs only inside this call (see on_exec_code)
        return _decide(event, args)

    def fast_marshal(event: str, args: tuple[Any, ...], _decide: Callable[..., str | None] = decide,
                     _frame: Callable[[int], Any] = getframe, _importlib: dict[str, Any] = importlib_globals
                     ) -> str | None:
        try:
            if _frame(2).f_globals is _importlib:
                return None  # the import system reading a bytecode cache (identity of its module dict)
        except ValueError:
            pass
        return _decide(event, args)

    def fast_open(event: str, args: tuple[Any, ...], _decide: Callable[..., str | None] = decide,
                  _dirs: list[tuple[str, ...]] = code_dirs, _protected: Callable[[str], bool] = protected,
                  _prefixes: tuple[str, ...] = base_prefix, _kind: type[type] = type, _str: type[str] = str
                  ) -> str | None:
        path, mode = args[0], args[1]
        # An absolute path without `//`, `/./` or `/../` is what `absolute()` would make of it.
        if _kind(path) is _str and _kind(mode) is _str and mode in {"r", "rb"} and path[:1] == "/" and \
                "//" not in path and "/./" not in path and "/../" not in path and path.startswith(_dirs[0]) and \
                path.endswith((".py", ".pyc")):
            # reading a module file in the interpreter's own trees (what on_open allows first)
            if path.startswith(_dirs[1]) and not path[path.rfind("/") + 1 :].startswith(_prefixes):
                return None  # nothing protected lies in this tree and the name is no protected one
            if not _protected(path):
                return None
        return _decide(event, args)

    def fast_listdir(event: str, args: tuple[Any, ...], _decide: Callable[..., str | None] = decide,
                     _protected: Callable[[str], bool] = protected, _kind: type[type] = type,
                     _str: type[str] = str) -> str | None:
        path: Any = args[0] if args else None
        if _kind(path) is _str and path[:1] == "/" and path[-1:] != "/" and "//" not in path and \
                "/./" not in path and "/../" not in path and not path.endswith(("/.", "/..")) and \
                not _protected(path):
            return None  # listing a directory no policy protects (what on_listdir allows)
        return _decide(event, args)

    def slow(event: str, args: tuple[Any, ...], _decide: Callable[..., str | None] = decide) -> str | None:
        return _decide(event, args)  # keeps the handlers at the same depth below the event's frame

    checks: dict[str, Callable[[str, tuple[Any, ...]], str | None]] = dict.fromkeys(handlers, slow)
    checks.update({"compile": fast_compile, "exec": fast_exec, "marshal.loads": fast_marshal, "open": fast_open,
                   "os.listdir": fast_listdir, "os.scandir": fast_listdir})

    handled = frozenset(checks)

    def hook(event: str, args: tuple[Any, ...], _handled: frozenset[str] = handled,
             _checks: dict[str, Callable[[str, tuple[Any, ...]], str | None]] = checks,
             _error: type[Exception] = PermissionError) -> None:
        # Called for every audit event of the interpreter (~40,000 for `import litellm`): few locals,
        # since each default is copied in and released again on every call.
        if event not in _handled:
            return  # most events (attribute reads, id(), imports) end here: one set lookup
        message = _checks[event](event, args)
        if message is not None:
            del _handled, _checks  # the traceback of the PermissionError must not lead back to the guard's state
            raise _error(message)

    def register_wrapper(fn: Any) -> None:
        wrapper.append((fn.__name__, fn))  # the `_thread` attribute it replaces, named when it is trusted

    return hook, register_wrapper
