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
_CODEGEN = ("/dataclasses.py", "/collections/__init__.py", "/ast.py")
_IMPORTLIB = frozenset(("<frozen importlib._bootstrap_external>", "<frozen zipimport>"))
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_ALWAYS_WRITABLE = frozenset(("/dev/null", "/dev/tty", "/dev/stdout", "/dev/stderr", "/dev/full"))
_INTROSPECT = ("gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._current_frames")
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
    _STDLIB, _SELF, APP, UNKNOWN = "", "!", "app", "unattributed"  # noqa: N806
    _CODEGEN, _IMPORTLIB, _ALWAYS_WRITABLE, _VERBS = (  # noqa: N806
        k[n] for n in ("_CODEGEN", "_IMPORTLIB", "_ALWAYS_WRITABLE", "_VERBS"))
    norm, plain_type_expr = normalize_name, plain_type_expression
    import builtins  # noqa: PLC0415

    any, all, next, getattr, len, id, repr, round, sorted, ord, PermissionError = (  # noqa: A001, N806
        builtins.any, builtins.all, builtins.next, builtins.getattr, builtins.len, builtins.id, builtins.repr,
        builtins.round, builtins.sorted, builtins.ord, builtins.PermissionError)
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
    importlib_globals = vars(sys_modules["_frozen_importlib_external"])
    thread_mod_dict = _thread.__dict__
    guard_mod = sys_modules.get("_cw_guard")
    guard_dir = os.path.dirname(guard_file)
    shim = os.path.join(guard_dir, "python")
    stdlib = getattr(sys, "_stdlib_dir", None) or os.path.dirname(os.__file__)
    main_ident = get_ident()
    site_file = os.path.join(stdlib, "site.py")
    # Exact paths, not suffixes: a `dataclasses.py` of some package in a site-packages directory
    # below the standard library (a system or pyenv interpreter without a venv) is not a template.
    codegen_files = frozenset(stdlib + name for name in _CODEGEN)
    pkgutil_file = stdlib + "/pkgutil.py"

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
    pth_owners: dict[str, str] = {  # .pth file name -> distribution, from the baseline
        k: v["distribution"] for k, v in (baseline_raw.items() if isinstance(baseline_raw, dict) else ())
        if isinstance(v, dict) and v.get("distribution")}
    thread_chain: dict[int, tuple[str, ...]] = {}
    pending_threads: dict[int, tuple[Any, tuple[str, ...]]] = {}
    resolved: dict[str, set[str]] = {}
    realdir_cache: dict[str, str] = {}
    plain_seen: set[Any] = set()  # annotation strings already found to be plain type expressions
    log_fd = [-1]
    site_done = [False]
    tamper_seen: set[str] = set()
    wrapper: list[Any] = []
    origin_chain = (origin,)
    code_dirs: list[tuple[str, ...]] = [(stdlib + "/",)]

    # -- logging ---------------------------------------------------------------------------
    def jstr(s: str) -> str:
        out = s.replace("\\", "\\\\").replace('"', '\\"')
        if any(ord(c) < 32 for c in out):
            out = "".join(c if ord(c) >= 32 else f"\\u{ord(c):04x}" for c in out)
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
        code_dirs[0] = (stdlib + "/", *(r + "/" for r in roots))

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
                with real_open(key + "/RECORD", encoding="utf-8", errors="replace") as f:
                    text = "\n" + f.read()
            except OSError:
                text = ""
            record_cache[key] = text
        return text

    def top_level(root: str, info: str) -> frozenset[str]:
        try:
            with real_open(root + "/" + info + "/top_level.txt", encoding="utf-8", errors="replace") as f:
                return frozenset(f.read().split())
        except OSError:
            return frozenset()

    def owner(root: str, rel: str) -> str | None:
        """The distribution whose RECORD lists `rel`: read only the RECORDs that can plausibly own it."""
        top = rel.split("/", 1)[0] if "/" in rel else rel.split(".", 1)[0]
        infos = dist_infos(root)
        wanted = norm(top)
        tried: set[str] = set()
        for stage in (0, 1, 2):
            for dist, info in infos:
                if info in tried:
                    continue
                if (stage == 0 and dist != wanted and not dist.startswith(wanted + "-")) or (
                        stage == 1 and top not in top_level(root, info)):
                    continue
                tried.add(info)
                text = record(root, info)
                if "\n" + rel + "," in text or '\n"' + rel + '"' in text:
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

    def chain_from(frame: FrameType | None) -> tuple[str, ...]:
        """Third-party principals between the event and the nearest application frame."""
        out: list[str] = []
        while frame is not None:
            p = principal(frame.f_code)
            frame = frame.f_back
            if p in (_STDLIB, _SELF):
                continue
            if p == APP:
                return _tuple(out) if out else (APP,)
            if p not in out:
                out.append(p)
        base = inherited()
        merged = out + [p for p in base if p != APP and p not in out]
        return _tuple(merged) if merged else base

    def event_frame() -> FrameType | None:
        """The frame that raised the event. Call it only directly from a handler (fixed depth)."""
        try:
            return getframe(4)  # 0 here, 1 the handler, 2 decide, 3 hook, 4 the event's frame
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
            base = name.rsplit("/", 1)[-1]
            return any(gmatch(g, name) or gmatch(g, base) for g in grant)
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
        return (f"chainwarden guard: package '{culprit}' may not {_VERBS[cap]} {shown} (capability {cap}, "
                f"event {event}, call chain {' <- '.join(chain)}). To allow it, add to {policy_file}: {line}")

    def tamper(kind: str, detail: str) -> None:
        if kind in tamper_seen:
            return
        tamper_seen.add(kind)
        log({"ts": round(now(), 6), "pid": getpid(), "event": "chainwarden.tamper", "capability": "tamper",
             "package": "?", "target": kind, "detail": detail, "decision": "detected"})

    def tamper_check() -> None:
        if wrapper and thread_mod_dict.get("start_new_thread") is not wrapper[0]:
            tamper("thread-start-restored", "_thread.start_new_thread was replaced; guard re-installed its wrapper")
            thread_mod_dict["start_new_thread"] = wrapper[0]
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

    def protected(p: str) -> bool:
        if p in prot_exact or p in prot_dirs or p.startswith(prot_prefix):
            return True
        base = p.rsplit("/", 1)[-1]
        if base in base_exact or base.startswith(base_prefix) or base.endswith(base_suffix):
            return True
        if prot_base and any(gmatch(b, base) for b in prot_base):
            return True
        return bool(prot_rest) and any(gmatch(g, p) for g in prot_rest)

    def as_path(obj: Any) -> str | None:
        t = _type(obj)
        if t is _str:
            return _str(obj)
        if t is _bytes:
            return fsdecode(obj)
        # PathLike: only trust __fspath__ implementations from the standard library
        codes = [getattr(getattr(t, m, None), "__code__", None) for m in ("__fspath__", "__str__")]
        if all(c is not None and c.co_filename.startswith(stdlib + "/") for c in codes):
            try:
                value = fspath(obj)
            except TypeError:
                return None
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
        msg = check(event, "exec", program, program, chain, {"child": child} if child else None)
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
                  "chain": (owner,), "target": fullname, "line": number + 1 if _type(number) is _int else 0,
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
        if event == "marshal.loads" and frame.f_globals is importlib_globals:
            return None  # the import system reading a bytecode cache (identity of its module dict: unforgeable)
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
        chain = chain_from(frame)
        src = args[0] if args else None
        shown: Any = src[:80] if _type(src) in (_str, _bytes) else f"<{_type(src).__name__}>"
        if _type(shown) is _bytes:
            shown = shown.decode("utf-8", "replace")
        fname = args[1] if event == "compile" and len(args) > 1 and _type(args[1]) is _str else None
        return check(event, "dynamic_code", None, shown, chain, {"filename": fname} if fname else None)

    def on_exec_code(event: str, args: tuple[Any, ...]) -> str | None:  # noqa: ARG001
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

    def on_private(event: str, args: tuple[Any, ...]) -> str | None:
        if event == "chainwarden.thread_start":
            pending_threads[id(args[0])] = (args[0], chain_from(first_frame(event_frame())))
        elif event == "chainwarden.thread_begin":
            got = pending_threads.pop(id(args[0]), None)
            if got is not None:
                thread_chain[args[1]] = got[1]
        elif event == "chainwarden.thread_end":
            thread_chain.pop(args[0], None)
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

    def hook(event: str, args: tuple[Any, ...], _decide: Callable[..., str | None] = decide,
             _handled: frozenset[str] = frozenset(handlers), _plain: set[Any] = plain_seen,
             _plain_expr: Callable[[str], bool] = plain_type_expr, _frame: Callable[[int], Any] = getframe,
             _importlib: dict[str, Any] = importlib_globals, _codegen: frozenset[str] = codegen_files,
             _dirs: list[tuple[str, ...]] = code_dirs, _protected: Callable[[str], bool] = protected,
             _error: type[Exception] = PermissionError, _getattr: Callable[..., Any] = getattr,
             _kind: type[type] = type, _str: type[str] = str, _bytes: type[bytes] = bytes,
             _len: Callable[[Any], int] = len) -> None:
        # The fast paths below return exactly where the handler would also have returned None, but
        # without the call into `decide` (recursion guard, dispatch): they cover the ~85% of handled
        # events an import raises. They only test exact built-in types and frame identities.
        if event not in _handled:
            return  # most events (attribute reads, id(), imports) end here: one set lookup
        if event == "compile":
            src = args[0]
            kind = _kind(src)
            if kind is _str or kind is _bytes:
                if src in _plain:
                    return  # an annotation string already known to be a plain type expression
                if _plain_expr(src if kind is _str else src.decode("latin-1")):
                    # names, attributes, subscripts, literals and `|` cannot call anything (see on_compile)
                    if _len(_plain) < 4096:
                        _plain.add(src)
                    return
            try:
                if _frame(1).f_code.co_filename in _codegen:
                    return  # a dataclass/namedtuple template compiled by the standard library
            except ValueError:  # raised from C with no Python frame: on_compile decides
                pass
        elif event == "exec":  # a module body from a file: nothing to register (see on_exec_code)
            filename = _getattr(args[0], "co_filename", "<")
            if filename[:1] != "<" or filename[:7] == "<frozen":
                return
            try:
                if _frame(1).f_code.co_filename in _codegen:
                    return  # dataclass/namedtuple methods: transparent, they act for whoever calls them
            except ValueError:
                pass
        elif event == "marshal.loads":
            try:
                if _frame(1).f_globals is _importlib:
                    return  # the import system reading a bytecode cache (identity of its module dict)
            except ValueError:
                pass
        elif event == "open":
            path, mode = args[0], args[1]
            if _kind(path) is _str and _kind(mode) is _str and mode in {"r", "rb"} and \
                    path[:1] == "/" and "/." not in path and "//" not in path and path.startswith(_dirs[0]) and \
                    path.endswith((".py", ".pyc")) and not _protected(path):
                return  # reading a module file in the interpreter's own trees (what on_open allows first)
        message = _decide(event, args)
        if message is not None:
            # the traceback of the PermissionError must not lead back to the guard's state
            del _decide, _handled, _plain, _plain_expr, _frame, _importlib, _codegen, _dirs, _protected
            del _getattr, _kind, _str, _bytes, _len
            raise _error(message)

    def register_wrapper(fn: Any) -> None:
        wrapper.append(fn)

    return hook, register_wrapper
