"""What code can do: capability tags, and the tables that map resolved calls and string
constants to them. Tags are combined into severities by `score`; nothing here decides risk."""

from __future__ import annotations

import re

# Capability tags.
NETWORK = "network"
DOWNLOAD = "download"  # fetches a file to disk (urlretrieve, curl -o, wget)
PROCESS = "process"
CHILD_INTERPRETER = "child-interpreter"  # sys.executable / python run with -c or a script
DETACHED = "detached"  # new session, output to DEVNULL, nohup/setsid, daemon flags
DYNAMIC_CODE = "dynamic-code"  # exec/eval/compile of computed data
DYNAMIC_IMPORT = "dynamic-import"  # __import__/import_module of a computed name
DECODE_EXEC = "decode-exec"  # statically decoded (or decrypted) data reaches exec or a child interpreter
REMOTE_CODE = "remote-code"  # data from the network reaches exec
HIDDEN_CODE = "hidden-code"  # an encoded blob that decodes to Python code
SECRETS = "secrets"  # credential stores: ssh, cloud, kube, docker, browsers, wallets, IMDS, ...
SECRETS_WEAK = "secrets-weak"  # files that often hold secrets but are read by honest tools too
ENV_DUMP = "env-dump"  # the whole environment taken
SYSTEM_INFO = "system-info"  # user name, host name, platform fingerprint
PERSISTENCE = "persistence"
ARCHIVE = "archive"
ENCRYPT = "encrypt"
FILE_WRITE = "file-write"
MAKE_EXECUTABLE = "make-executable"
RUNTIME = "runtime"  # a JavaScript (or other) runtime started or fetched
PACKED = "packed"  # PyArmor, `_0x` string arrays, marshalled code
EXFIL_ENDPOINT = "exfil-endpoint"  # webhook/bot/paste/tunnel hosts, raw IP URLs
SHELL_DOWNLOAD = "shell-download"  # curl/wget/iwr in a command line
REVERSE_SHELL = "reverse-shell"
THREAD = "thread"  # a thread/process/timer started (the target is followed as a spawn edge)

_NETWORK_PREFIXES = (
    "requests.",
    "httpx.",
    "aiohttp.",
    "urllib3.",
    "http.client.",
    "ftplib.",
    "smtplib.",
    "telnetlib.",
    "paramiko.",
    "websocket.",
    "websockets.",
    "pycurl.",
    "dns.resolver.",
    "discord_webhook.",
    "socketio.",
    "tornado.httpclient.",
)

_NETWORK_CALLS = frozenset(
    {
        "socket.socket",
        "socket.create_connection",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyname_ex",
        "urllib.request.urlopen",
        "urllib.request.Request",
        "urllib.request.build_opener",
        "urllib.request.urlretrieve",
        "urllib.urlopen",
        "urllib.urlretrieve",
        "urllib2.urlopen",
        "urllib2.Request",
        "asyncio.open_connection",
    }
)

_DOWNLOAD_CALLS = frozenset({"urllib.request.urlretrieve", "urllib.urlretrieve", "wget.download"})

PROCESS_CALLS = frozenset(
    {
        "subprocess.Popen",
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "subprocess.getoutput",
        "subprocess.getstatusoutput",
        "os.system",
        "os.popen",
        "os.startfile",
        "os.posix_spawn",
        "os.posix_spawnp",
        "pty.spawn",
        "commands.getoutput",
        "asyncio.create_subprocess_exec",
        "asyncio.create_subprocess_shell",
    }
)
_PROCESS_PREFIXES = ("os.exec", "os.spawn")

EXEC_SINKS = frozenset(
    {
        "exec",
        "eval",
        "compile",
        "builtins.exec",
        "builtins.eval",
        "builtins.compile",
        "__builtin__.eval",
        "runpy.run_path",
        "types.FunctionType",
    }
)

IMPORT_SINKS = frozenset({"__import__", "importlib.import_module", "builtins.__import__"})

SPAWNERS = frozenset(
    {
        "threading.Thread",
        "threading.Timer",
        "multiprocessing.Process",
        "atexit.register",
        "_thread.start_new_thread",
        "thread.start_new_thread",
        "signal.signal",
    }
)

_SYSINFO_CALLS = frozenset(
    {
        "getpass.getuser",
        "socket.gethostname",
        "platform.node",
        "platform.uname",
        "os.getlogin",
        "os.uname",
        "uuid.getnode",
    }
)

_ENCRYPT_PREFIXES = ("Crypto.", "Cryptodome.", "cryptography.", "nacl.", "rsa.", "pyaes.")


def classify_call(name: str) -> tuple[str, ...]:
    """Capability tags of a call by its resolved dotted name."""
    if not name:
        return ()
    tags: list[str] = []
    if name in _NETWORK_CALLS or name.startswith(_NETWORK_PREFIXES):
        tags.append(NETWORK)
    if name in _DOWNLOAD_CALLS:
        tags.append(DOWNLOAD)
    if name in PROCESS_CALLS or name.startswith(_PROCESS_PREFIXES):
        tags.append(PROCESS)
    if name in _SYSINFO_CALLS:
        tags.append(SYSTEM_INFO)
    if name.startswith(_ENCRYPT_PREFIXES):
        tags.append(ENCRYPT)
    if name == "shutil.make_archive":
        tags.append(ARCHIVE)
    return tuple(tags)


# String constants of interest. Each alternative maps (lower-cased) to a tag; the detail is the match.
_STRING_TABLE: tuple[tuple[str, str], ...] = (
    # secrets
    (r"\.ssh[/\\]|\bid_rsa\b|\bid_ed25519\b|\bid_ecdsa\b|authorized_keys", SECRETS),
    (r"\.aws[/\\]|aws[/\\]credentials|\.azure[/\\]|application_default_credentials|\.config[/\\]gcloud", SECRETS),
    (r"\.kube[/\\]|kube[/\\]config|/etc/kubernetes|serviceaccount[/\\]token|/var/run/secrets", SECRETS),
    (r"\.docker[/\\]config\.json|\.git-credentials|\.npmrc|\.pypirc|\.vault-token|\.pgpass|\.my\.cnf", SECRETS),
    (r"169\.254\.169\.254|metadata\.google\.internal|100\.100\.100\.200", SECRETS),
    (r"_history\b|\.bash_history|\.zsh_history", SECRETS),
    (r"login data|local state|cookies\.sqlite|local storage[/\\]+leveldb|\\cookies|[/\\]cookies\b", SECRETS),
    (r"discord(?:canary|ptb)?[/\\]|\bwallet\.dat|exodus[/\\]|electrum[/\\]|metamask|nkbihfbeogaeaoehlefnkodbefgpgknn", SECRETS),
    (r"\.env\b|\.netrc|/etc/passwd|/etc/shadow|\.gitconfig|terraform\.tfvars", SECRETS_WEAK),
    # persistence
    (r"\.config[/\\]systemd|systemctl\s+--user|/etc/systemd/system|\.service\b", PERSISTENCE),
    (r"crontab|/etc/cron|/var/spool/cron", PERSISTENCE),
    (r"\.bashrc|\.bash_profile|\.zshrc|\.zprofile|/etc/profile\.d", PERSISTENCE),
    (r"[/\\]autostart[/\\]|currentversion\\+run|launchagents|launchdaemons|start menu\\+programs\\+startup|schtasks", PERSISTENCE),
    (r"sitecustomize\.py|usercustomize\.py", PERSISTENCE),
    # exfiltration endpoints
    (r"discord(?:app)?\.com/api/webhooks|api\.telegram\.org/bot|hooks\.slack\.com|\.ngrok\.|pastebin\.com|transfer\.sh", EXFIL_ENDPOINT),
    (r"https?://\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|webhook\.site|requestbin|oast\.|interact\.sh|burpcollaborator", EXFIL_ENDPOINT),
    # command lines
    (r"\bcurl\s+-|\bcurl\s+https?:|\bwget\s+|invoke-webrequest|\biwr\s|downloadstring|certutil\s+-urlcache|bitsadmin", SHELL_DOWNLOAD),
    (r"/dev/tcp/|\bnc\s+-e\b|\bncat\s+-e\b|bash\s+-i\s+>&", REVERSE_SHELL),
    (r"chmod\s+\+x|chmod\s+7[0-7][0-7]", MAKE_EXECUTABLE),
    (r"\bnohup\b|\bsetsid\b|>\s*/dev/null\s+2>&1\s*&", DETACHED),
    (r"openssl\s+(?:enc|rsautl|pkeyutl)|-----begin public key", ENCRYPT),
    (r"\btar\s+-?c|\.tar\.gz\b", ARCHIVE),
    # runtimes and packers
    (r"oven-sh/bun|bun\.sh/install|bun-linux|bun-windows|bun-darwin|nodejs\.org/dist|deno\.land/install", RUNTIME),
    (r"__pyarmor__|pyarmor_runtime|\b_0x[0-9a-f]{4,}\b", PACKED),
)

_STRING_RE = re.compile("|".join(f"(?P<g{i}>{pat})" for i, (pat, _) in enumerate(_STRING_TABLE)))
_STRING_TAGS = {f"g{i}": tag for i, (_, tag) in enumerate(_STRING_TABLE)}


#: Literal anchors (lower case): a scope's string constants are matched against the table above
#: only when one of these occurs in them; plain substring tests are far cheaper than the regex.
_ANCHORS = (
    ".ssh", "id_rsa", "id_ed", "id_ecdsa", "authorized_keys", "aws", "azure", "credentials", "gcloud", "kube",
    "secrets", "docker", "git-credentials", "npmrc", "pypirc", "vault", "pgpass", "my.cnf", "169.254", "metadata",
    "100.100", "history", "login data", "local state", "cookies", "leveldb", "discord", "wallet", "exodus",
    "electrum", "metamask", "nkbih", ".env", "netrc", "passwd", "shadow", "gitconfig", "tfvars", "systemd",
    "systemctl", ".service", "cron", "bashrc", "bash_profile", "zshrc", "zprofile", "profile.d", "autostart",
    "currentversion", "launchagents", "launchdaemons", "startup", "schtasks", "customize.py", "telegram", "slack",
    "ngrok", "pastebin", "transfer.sh", "http", "webhook", "requestbin", "oast.", "interact.sh", "burpcollab",
    "curl", "wget", "invoke-webrequest", "iwr", "downloadstring", "certutil", "bitsadmin", "/dev/tcp", "nc ",
    "ncat", "bash -i", "chmod", "nohup", "setsid", "/dev/null", "openssl", "begin public key", "tar", "bun",
    "nodejs.org", "deno", "pyarmor", "_0x",
)


def scan_strings(text: str) -> list[tuple[int, str, str]]:
    """(offset, tag, matched text) for every string-of-interest match in `text`."""
    lowered = text.lower()
    if not any(anchor in lowered for anchor in _ANCHORS):
        return []
    out: list[tuple[int, str, str]] = []
    for m in _STRING_RE.finditer(lowered):
        group = m.lastgroup
        if group is not None:
            out.append((m.start(), _STRING_TAGS[group], text[m.start() : m.end()]))
    return out


#: Runtimes whose launch from Python is worth a tag.
RUNTIME_COMMANDS = frozenset({"bun", "node", "nodejs", "deno", "bun.exe", "node.exe", "deno.exe"})
