"""How each call in a file is read: what it reaches (`os.system`, `requests.post`, a helper of
the package), the capability it shows, and the code it runs (`exec` arguments, `python -c`,
shell commands), folded by `deobfuscate` where they are built from constants."""

from __future__ import annotations

import ast
import re

from chainwarden.analyzers.python import capabilities as cap
from chainwarden.analyzers.python.astutil import (
    DEVNULL,
    ENV_METHODS,
    ENV_WHOLE_CALLS,
    INTERESTING_HEADS,
    PYTHON_CMD,
    STDLIB,
    URL_METHODS,
    codec_decode,
    const_arg,
    leftmost,
    partial_text,
    sends_data,
)
from chainwarden.analyzers.python.deobfuscate import DECODER_HINTS, CodeBlob, Value, as_text, preview
from chainwarden.analyzers.python.payloads import powershell_encoded, shell_code
from chainwarden.analyzers.python.walkbase import ScopeState, WalkerBase
from chainwarden.models import DecodedStage

WRITTEN_MIN = 24
#: First words of a command line handed to a local helper that are worth reading as a command.
_SHELL_PROGRAMS = frozenset(
    {"powershell", "powershell.exe", "pwsh", "cmd", "cmd.exe", "curl", "wget", "mshta", "certutil", "bitsadmin"}
)
#: boto3/botocore methods that hand out the caller's cloud keys.
_CREDENTIAL_GETTERS = frozenset({"get_credentials", "get_frozen_credentials"})
_CODE_WORDS = re.compile(r"\bimport\s|\bexec\s*\(|\beval\s*\(")


class CallRules(WalkerBase):
    """The call handlers of the walker (`_call` for every `ast.Call`; `_sink` once a scope is walked)."""

    def _call(self, node: ast.Call, scope: ScopeState) -> None:  # noqa: C901, PLR0912
        name = self._resolve(node.func)
        head = name.partition(".")[0]
        if not head:
            if name:  # relative import: inside the package
                scope.calls.add(name)
            return
        written = leftmost(node.func)
        if (head not in STDLIB and (written in self.defined or written in self.aliases)) or (
            self.class_stack and name.startswith(self.class_stack[-1] + ".")
        ):
            scope.calls.add(name)
        if head not in INTERESTING_HEADS and head not in self.aliases:
            self._plain_call(node, scope)
            return
        if type(node.func) is ast.Subscript and (name in cap.EXEC_SINKS or name in cap.IMPORT_SINKS):
            self._signal(scope, cap.HIDDEN_BUILTIN, f"{name} looked up by a string", node)
        for tag in cap.classify_call(name):
            self._signal(scope, tag, name, node)
            if tag == cap.NETWORK and (sends_data(name, node) or self._carries_output(node)):
                self._signal(scope, cap.NETWORK_SEND, name, node)
        if name in cap.EXEC_SINKS:
            if node.args:
                scope.sinks.append((node, node.args[0], "exec"))
        elif name in cap.IMPORT_SINKS:
            if node.args and not isinstance(node.args[0], ast.Constant):
                self._signal(scope, cap.DYNAMIC_IMPORT, f"{name} of a computed name", node)
        elif name in cap.PROCESS_CALLS or name.startswith(("os.exec", "os.spawn")):
            self._process(node, name, scope)
        elif name in cap.SPAWNERS or (
            isinstance(node.func, ast.Attribute) and node.func.attr in {"submit", "run_in_executor"}
        ):
            self._spawn(node, name, scope)
        elif name in {"marshal.loads", "pickle.loads"}:
            self._signal(scope, cap.PACKED, name, node)
        elif name == "getattr" and len(node.args) >= 2 and not isinstance(node.args[1], ast.Constant):  # noqa: PLR2004
            if self._resolve(node.args[0]) in {"__builtins__", "builtins", "__builtin__"}:
                self._signal(scope, cap.OBFUSCATED, "builtin looked up by a computed name", node)
        elif name in {"os.getenv", "os.environ.get"} and node.args:
            if const_arg(node, 0, "key") in cap.SYSINFO_VARIABLES:
                self._signal(scope, cap.SYSTEM_INFO, f"{name}({const_arg(node, 0, 'key')!r})", node)
        elif name in ENV_WHOLE_CALLS and node.args and self._resolve(node.args[0]) == "os.environ":
            self._signal(scope, cap.ENV_DUMP, f"{name}(os.environ)", node)
        elif name in ENV_METHODS:
            self._signal(scope, cap.ENV_DUMP, name, node)
        elif name in {"open", "io.open", "codecs.open"} or name.endswith((".write_text", ".write_bytes")):
            self._file_write(node, name, scope)
        elif name in {"os.chmod", "os.dup2"} and len(node.args) >= 2:  # noqa: PLR2004
            (self._chmod if name == "os.chmod" else self._dup2)(node, scope)
        elif name in {"tarfile.open", "zipfile.ZipFile"}:
            mode = const_arg(node, 1, "mode")
            if isinstance(mode, str) and mode[:1] in {"w", "a", "x"}:
                self._signal(scope, cap.ARCHIVE, name, node)
        elif isinstance(node.func, ast.Attribute) and node.args:
            self._unknown_method(node, node.func.attr, scope)
        if name.rsplit(".", 1)[-1] == "decrypt" or name.endswith(".Fernet"):
            self._signal(scope, cap.ENCRYPT, name, node)

    def _plain_call(self, node: ast.Call, scope: ScopeState) -> None:
        """A call of something not imported from a module of interest: methods, local helpers."""
        if node.args and type(node.func) is ast.Attribute:
            self._unknown_method(node, node.func.attr, scope)
        elif len(node.args) >= 2 and type(node.args[1]) is ast.Constant:  # noqa: PLR2004
            self._module_written(node, scope)
        elif node.args and type(node.args[0]) is ast.Constant and type(node.func) is ast.Name:
            self._command_helper(node, node.func.id, node.args[0].value, scope)
        elif type(node.func) is ast.Attribute and node.func.attr in _CREDENTIAL_GETTERS:
            self._signal(scope, cap.SECRETS, f".{node.func.attr}() (cloud credentials)", node)

    def _unknown_method(self, node: ast.Call, attr: str, scope: ScopeState) -> None:
        first = node.args[0]
        if attr in URL_METHODS and isinstance(first, ast.Constant) and isinstance(first.value, str):
            if first.value.startswith(("http://", "https://")):
                self._signal(scope, cap.NETWORK, f".{attr}({first.value[:80]!r})", node)
        elif attr in {"connect", "sendall", "sendto"} and isinstance(first, ast.Tuple):
            self._signal(scope, cap.NETWORK, f".{attr}()", node)
        elif attr in {"write_text", "write_bytes"}:
            self._signal(scope, cap.FILE_WRITE, f".{attr}()", node)
            self._written_code(first, node, scope)
        elif attr == "write":
            self._written_code(first, node, scope)
            self._written_download(first, node, scope)

    def _written_download(self, arg: ast.expr, node: ast.Call, scope: ScopeState) -> None:
        """`fh.write(requests.get(url).content)`, `r = urlopen(url)` ... `fh.write(r.read())`: a response
        body saved to a file is a download."""
        for _ in range(2):  # the expression, then what its name was bound to
            while isinstance(arg, ast.Attribute | ast.Call):
                if isinstance(arg, ast.Call):
                    fetched = self._resolve(arg.func)
                    if cap.NETWORK in cap.classify_call(fetched):
                        self._signal(scope, cap.DOWNLOAD, f"response of {fetched} written to a file", node)
                        return
                    if not isinstance(arg.func, ast.Attribute):
                        return
                    arg = arg.func.value
                else:
                    arg = arg.value
            if not isinstance(arg, ast.Name) or arg.id not in scope.assigns:
                return
            arg = scope.assigns[arg.id]

    def _carries_output(self, node: ast.Call) -> bool:
        """A request whose URL or body is built from a command's output (`os.popen("id").read()`)."""
        for arg in (*node.args, *(k.value for k in node.keywords)):
            if type(arg) is ast.Constant or type(arg) is ast.Name:
                continue
            for sub in ast.walk(arg):
                if isinstance(sub, ast.Call) and cap.PROCESS in cap.classify_call(self._resolve(sub.func)):
                    return True
        return False

    def _command_helper(self, node: ast.Call, helper: str, value: object, scope: ScopeState) -> None:
        """`run("powershell -command ...")`: a command line handed to a helper of this file, which
        setup.py droppers define to wrap `subprocess.Popen(cmd, shell=True)`."""
        if helper not in self.defined or not isinstance(value, str):
            return
        first = value.split(None, 1)[0].rsplit("\\", 1)[-1].lower() if value.strip() else ""
        if first in _SHELL_PROGRAMS:
            self._signal(scope, cap.PROCESS, f"{helper}({value[:40]!r}…)", node)
            self._shell(value, (), node, scope)

    def _module_written(self, node: ast.Call, scope: ScopeState) -> None:
        """`write_module("pkg/mod.py", b"import os ...")`: a helper handed a module's name and source
        (bundlers such as stickytape unpack a whole program this way)."""
        name = node.args[0]
        if type(name) is ast.Constant and isinstance(name.value, str) and name.value.endswith(".py"):
            self._written_code(node.args[1], node, scope)

    def _written_code(self, arg: ast.expr, node: ast.Call, scope: ScopeState) -> None:
        """Source code written out as a literal (to be run from the file later): analysed as code,
        its signals carrying a `written to a file` stage."""
        if type(arg) is not ast.Constant or self.written_left <= 0:
            return
        value = arg.value
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if not isinstance(value, str) or len(value) < WRITTEN_MIN or not _CODE_WORDS.search(value):
            return
        self.written_left -= 1
        stage = (DecodedStage("source code written to a file", preview(value)),)
        scope.signals.extend(self._nested(value, stage, node.lineno))

    def _file_write(self, node: ast.Call, name: str, scope: ScopeState) -> None:
        if name.endswith((".write_text", ".write_bytes")):
            self._signal(scope, cap.FILE_WRITE, name, node)
            return
        mode = const_arg(node, 1, "mode")
        if isinstance(mode, str) and any(c in mode for c in "wax"):
            target = const_arg(node, 0, "file")
            detail = f"open({target!r}, {mode!r})" if isinstance(target, str) else f"open(..., {mode!r})"
            self._signal(scope, cap.FILE_WRITE, detail, node)

    def _chmod(self, node: ast.Call, scope: ScopeState) -> None:
        mode = node.args[1]
        if isinstance(mode, ast.Constant) and isinstance(mode.value, int) and mode.value & 0o111:
            self._signal(scope, cap.MAKE_EXECUTABLE, f"os.chmod(..., {mode.value:#o})", node)
        elif any(
            "EXEC" in self._resolve(n) or "IX" in self._resolve(n)
            for n in ast.walk(mode)
            if isinstance(n, ast.Attribute)
        ):
            self._signal(scope, cap.MAKE_EXECUTABLE, "os.chmod(..., +x)", node)

    def _dup2(self, node: ast.Call, scope: ScopeState) -> None:
        """`os.dup2(s.fileno(), 0)`: a socket (or other object) wired onto stdin/stdout/stderr."""
        source, target = node.args[0], node.args[1]
        if (
            type(source) is ast.Call
            and type(source.func) is ast.Attribute
            and source.func.attr == "fileno"
            and type(source.func.value) is ast.Name
            and type(target) is ast.Constant
            and target.value in {0, 1, 2}
        ):
            self._signal(scope, cap.REVERSE_SHELL, f"os.dup2({source.func.value.id}.fileno(), {target.value})", node)

    def _spawn(self, node: ast.Call, name: str, scope: ScopeState) -> None:
        target: ast.expr | None = None
        for kw in node.keywords:
            if kw.arg in {"target", "function"}:
                target = kw.value
        if target is None and node.args:
            index = 1 if name in {"threading.Timer", "signal.signal"} or name.endswith("run_in_executor") else 0
            if len(node.args) > index:
                target = node.args[index]
        if target is None:
            return
        if isinstance(target, ast.Lambda):
            self._signal(scope, cap.THREAD, f"{name or 'submit'}(lambda)", node)
            return
        callee = self._resolve(target)
        if not callee and isinstance(target, ast.Attribute) and isinstance(target.value, ast.Call):
            made = self._resolve(target.value.func)  # `Thread(target=Grabber().main)`: a method of a new instance
            callee = f"{made}.{target.attr}" if made in self.defined else ""
        if callee:
            scope.spawns.add(callee)
            self._signal(scope, cap.THREAD, f"{name or 'submit'}({callee})", node)

    def _process(self, node: ast.Call, name: str, scope: ScopeState) -> None:
        self._signal(scope, cap.PROCESS, name, node)
        if name == "os.startfile":  # ShellExecute: the program starts on its own, detached from Python
            self._signal(scope, cap.DETACHED, name, node)
        for kw in node.keywords:
            value = kw.value
            if kw.arg == "start_new_session" and isinstance(value, ast.Constant) and value.value is True:
                self._signal(scope, cap.DETACHED, "start_new_session=True", node)
            elif kw.arg in {"stdout", "stderr", "stdin"} and self._resolve(value) in DEVNULL:
                self._signal(scope, cap.DETACHED, f"{kw.arg}=DEVNULL", node)
            elif kw.arg == "creationflags" or (kw.arg == "preexec_fn" and self._resolve(value) == "os.setsid"):
                self._signal(scope, cap.DETACHED, kw.arg, node)
        command = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "args"), None)
        if command is None:
            return
        if isinstance(command, ast.List | ast.Tuple):
            self._argv(command.elts, node, scope)
            return
        folded = self._lookup(scope).evaluate(command)
        text = as_text(folded) if folded is not None else None
        if text is not None and folded is not None:
            self._shell(text, folded.stages, node, scope)
        else:
            if type(command) is ast.Name and command.id in scope.assigns:
                command = scope.assigns[command.id]  # `cmd = "curl -F ... " + path; os.system(cmd)`
            partial = partial_text(command)
            if partial:
                self._shell(partial, (), node, scope)

    def _argv(self, elts: list[ast.expr], node: ast.Call, scope: ScopeState) -> None:
        evaluator = self._lookup(scope)
        words: list[str | None] = []
        for e in elts:
            if self._resolve(e) == "sys.executable":
                words.append("python")
                continue
            v = evaluator.evaluate(e)
            words.append(as_text(v) if v is not None else None)
        first = words[0] if words else None
        if first is not None and PYTHON_CMD.search(first.strip()):
            self._signal(scope, cap.CHILD_INTERPRETER, "python " + " ".join(w or "…" for w in words[1:3]), node)
            for i, w in enumerate(words[1:-1], start=1):
                if w == "-c":
                    scope.sinks.append((node, elts[i + 1], "child"))
        elif first is not None and first.rsplit("/", 1)[-1].lower() in cap.NETWORK_COMMANDS:
            self._signal(scope, cap.NETWORK, " ".join(w or "…" for w in words[:4]), node)
        elif first is not None and first.rsplit("/", 1)[-1].lower() in cap.RUNTIME_COMMANDS:
            self._signal(scope, cap.RUNTIME, " ".join(w or "…" for w in words[:3]), node)
        if any(w is not None and w.endswith((".js", ".mjs", ".cjs")) for w in words):
            self._signal(scope, cap.RUNTIME, "runs a JavaScript file", node)
        known = [w for w in words if w is not None]
        if known and first is not None and not PYTHON_CMD.search(first.strip()):
            self._shell(" ".join(known), (), node, scope)

    def _shell(self, text: str, stages: tuple[DecodedStage, ...], node: ast.Call, scope: ScopeState) -> None:
        words = text.split()
        if words and words[0].rsplit("/", 1)[-1].lower() in cap.NETWORK_COMMANDS:
            self._signal(scope, cap.NETWORK, text[:80], node)
        if words and words[0].rsplit("/", 1)[-1].lower() in cap.RUNTIME_COMMANDS:
            self._signal(scope, cap.RUNTIME, text[:80], node)
        if words and (
            words[0].rsplit("/", 1)[-1].lower() in cap.SYSINFO_COMMANDS or text.strip() in cap.SYSINFO_COMMANDS
        ):
            self._signal(scope, cap.SYSTEM_INFO, text[:80], node)
        encoded = powershell_encoded(text)
        if encoded is not None:
            stage = (*stages, DecodedStage("base64 (powershell -EncodedCommand)", preview(encoded)))
            self._signal(scope, cap.DECODE_EXEC, "powershell -EncodedCommand", node, stage)
            for _, tag, match in cap.scan_strings(encoded):
                self._signal(scope, tag, f"in decoded command: {match}", node, stage)
        code = shell_code(text)
        if code is not None:
            self._signal(scope, cap.CHILD_INTERPRETER, "python -c in a shell command", node)
            scope.signals.extend(self._nested(code, stages, node.lineno))
        for _, tag, match in cap.scan_strings(text):
            self._signal(scope, tag, match, node, stages)

    # -- code handed to exec/eval/compile or a child interpreter -------------------------

    def _sink(self, call: ast.Call, arg: ast.expr, how: str, scope: ScopeState) -> None:
        value = self._lookup(scope).evaluate(arg)
        if value is not None:
            self._folded_sink(call, value, how, scope)
            return
        hints, network = self._arg_hints(arg, scope)
        if network:
            self._signal(scope, cap.REMOTE_CODE, f"{how} of data fetched with {network}", call)
        elif hints:
            stage = DecodedStage("not folded: " + ", ".join(sorted(hints)), "")
            self._signal(scope, cap.DECODE_EXEC, f"{how} of decoded data", call, (stage,))
        elif how == "exec":
            self._signal(scope, cap.DYNAMIC_CODE, "exec/eval of computed data", call)

    def _folded_sink(self, call: ast.Call, value: Value, how: str, scope: ScopeState) -> None:
        if isinstance(value.data, CodeBlob):
            self._signal(scope, cap.DECODE_EXEC, f"{how} of marshalled code", call, value.stages)
            for _, tag, match in cap.scan_strings("\n".join(value.data.strings)):
                self._signal(scope, tag, f"in marshalled code: {match}", call, value.stages)
            return
        text = as_text(value)
        if value.stages:
            self._signal(
                scope, cap.DECODE_EXEC, f"{how} of decoded data: {preview(text or value.data)[:60]}", call, value.stages
            )
        if text is not None:
            scope.signals.extend(self._nested(text, value.stages, call.lineno))

    def _arg_hints(self, arg: ast.expr, scope: ScopeState) -> tuple[set[str], str]:
        hints: set[str] = set()
        network = ""
        todo: list[tuple[ast.expr, int]] = [(arg, 0)]
        seen = 0
        while todo and seen < 2000:  # noqa: PLR2004
            expr, hop = todo.pop()
            for n in ast.walk(expr):
                seen += 1
                if isinstance(n, ast.Call):
                    name = self._resolve(n.func)
                    last = (
                        name.rsplit(".", 1)[-1] if name else (n.func.attr if isinstance(n.func, ast.Attribute) else "")
                    )
                    if cap.NETWORK in cap.classify_call(name):
                        network = name
                    elif (
                        last in DECODER_HINTS and (last != "decode" or codec_decode(n)) and last != "loads"
                    ) or name == "marshal.loads":
                        hints.add(last)
                elif isinstance(n, ast.BinOp) and isinstance(n.op, ast.BitXor):
                    hints.add("xor")
                elif isinstance(n, ast.Name) and hop < 2:  # noqa: PLR2004
                    bound = scope.assigns.get(n.id) or self.module.assigns.get(n.id)
                    if bound is not None:
                        todo.append((bound, hop + 1))
                    todo.extend((extra, hop + 1) for extra in scope.augments.get(n.id, ())[:8])
        return hints, network
