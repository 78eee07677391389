"""What code can do: capability tags, and the tables that map resolved calls and string
constants to them. Tags are combined into severities by `score`; nothing here decides risk."""

from __future__ import annotations

import re

# Capability tags.
NETWORK = "network"
NETWORK_SEND = "network-send"  # a request that carries data out (POST/PUT, a body)
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
STEALER_TARGET = "stealer-target"  # browser profiles, Discord tokens, crypto wallets: only stealers read these
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
OBFUSCATED = "obfuscated"  # builtins looked up by computed names and similar hand-made obfuscation
HIDDEN_BUILTIN = "hidden-builtin"  # exec/eval/compile/__import__ called through a string lookup (`globals()["eval"]`)
EXECUTABLE_FILE = "executable-file"  # names a Windows/Unix executable or script file to write or run
THREAD = "thread"  # a thread/process/timer started (the target is followed as a spawn edge)

_HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request", "stream", "urlopen")
#: Client libraries whose module-level verbs send traffic (constructors such as `Session` do not).
_HTTP_MODULES = ("requests", "httpx", "aiohttp", "urllib3", "treq", "grequests", "niquests")

_NETWORK_PREFIXES = (
    "http.client.HTTP",
    "ftplib.FTP",
    "smtplib.SMTP",
    "telnetlib.Telnet",
    "paramiko.",
    "websocket.create_connection",
    "websockets.connect",
    "pycurl.",
    "dns.resolver.",
    "discord_webhook.",
    "tornado.httpclient.",
)

_NETWORK_CALLS = frozenset(
    {
        *(f"{m}.{v}" for m in _HTTP_MODULES for v in _HTTP_VERBS),
        "requests.api.request",
        "socket.socket",
        "socket.create_connection",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyname_ex",
        "urllib.request.urlopen",
        "urllib.request.urlretrieve",
        "urllib.urlopen",
        "urllib.urlretrieve",
        "urllib2.urlopen",
        "asyncio.open_connection",
        "wget.download",
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
        "socket.getfqdn",
        "platform.node",
        "platform.uname",
        "os.getlogin",
        "os.uname",
        "uuid.getnode",
    }
)

#: Calls that put a file in place (copied or moved there): writes, as far as persistence goes.
_COPY_CALLS = frozenset(
    {"shutil.copy", "shutil.copy2", "shutil.copyfile", "shutil.move", "shutil.copytree", "os.rename", "os.replace"}
)

_ENCRYPT_PREFIXES = ("Crypto.", "Cryptodome.", "cryptography.", "nacl.", "rsa.", "pyaes.")


def classify_call(name: str) -> tuple[str, ...]:
    """Capability tags of a call by its resolved dotted name."""
    if not name:
        return ()
    tags: list[str] = []
    if name in _NETWORK_CALLS or name.startswith(_NETWORK_PREFIXES) or name.endswith(".urlretrieve"):
        tags.append(NETWORK)
    if name in _DOWNLOAD_CALLS or name.endswith(".urlretrieve"):
        tags.append(DOWNLOAD)
    if name in PROCESS_CALLS or name.startswith(_PROCESS_PREFIXES):
        tags.append(PROCESS)
    if name in _SYSINFO_CALLS:
        tags.append(SYSTEM_INFO)
    if name.startswith(_ENCRYPT_PREFIXES):
        tags.append(ENCRYPT)
    if name == "shutil.make_archive":
        tags.append(ARCHIVE)
    if name in _COPY_CALLS:
        tags.append(FILE_WRITE)
    return tuple(tags)


# String constants of interest: (literal anchors, pattern, tag). Constants are lower-cased; a
# pattern runs only when one of its anchors occurs (substring tests are far cheaper than regexes).
_STRING_TABLE: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (
        (".ssh", "id_rsa", "id_ed", "id_ecdsa", "authorized_keys"),
        r"\.ssh[/\\]|\bid_rsa\b|\bid_ed25519\b|\bid_ecdsa\b|authorized_keys",
        SECRETS,
    ),
    (
        ("aws", "azure", "application_default", "gcloud"),
        r"\.aws[/\\]|aws[/\\]credentials|\.azure[/\\]|application_default_credentials|\.config[/\\]gcloud",
        SECRETS,
    ),
    (
        ("kube", "serviceaccount", "/var/run/secrets"),
        r"\.kube[/\\]|kube[/\\]config|/etc/kubernetes|serviceaccount[/\\]token|/var/run/secrets",
        SECRETS,
    ),
    (
        ("docker", "git-credentials", "npmrc", "pypirc", "vault-token", "pgpass", "my.cnf"),
        r"\.docker[/\\]config\.json|\.git-credentials|\.npmrc|\.pypirc|\.vault-token|\.pgpass|\.my\.cnf",
        SECRETS,
    ),
    (
        ("169.254", "metadata.google", "100.100.100.200"),
        r"169\.254\.169\.254|metadata\.google\.internal|100\.100\.100\.200",
        SECRETS,
    ),
    (("_history",), r"\w_history\b", SECRETS),
    (
        ("login data", "local state", "cookies", "leveldb"),
        r"login data|local state|cookies\.sqlite|local storage[/\\]+leveldb|[/\\]cookies\b",
        STEALER_TARGET,
    ),
    (
        ("discord", "wallet", "exodus", "electrum", "metamask", "nkbih"),
        (
            r"discord(?:canary|ptb)?[/\\]|\bwallet\.dat|exodus[/\\]|electrum[/\\]|metamask|nkbihfbeogaeaoehlefnkodbefgpgknn"
            r"|discord(?:app)?\.com/api/v\d+/users/@me"
        ),
        STEALER_TARGET,
    ),
    (
        (".env", "netrc", "passwd", "shadow", "gitconfig", "tfvars"),
        r"\.env\b|\.netrc|/etc/passwd|/etc/shadow|\.gitconfig|terraform\.tfvars",
        SECRETS_WEAK,
    ),
    (
        ("systemd", "systemctl", ".service"),
        r"\.config[/\\]systemd|systemctl\s+--user|/etc/systemd/system|\w\.service\b",
        PERSISTENCE,
    ),
    (("cron",), r"crontab|/etc/cron|/var/spool/cron", PERSISTENCE),
    (
        ("bashrc", "bash_profile", "zshrc", "zprofile", "profile.d"),
        r"\.bashrc|\.bash_profile|\.zshrc|\.zprofile|/etc/profile\.d",
        PERSISTENCE,
    ),
    (
        ("autostart", "currentversion", "launchagents", "launchdaemons", "startup", "schtasks"),
        r"[/\\]autostart[/\\]|currentversion\\+run|launchagents|launchdaemons|programs\\+startup|schtasks",
        PERSISTENCE,
    ),
    (("customize.py",), r"sitecustomize\.py|usercustomize\.py", PERSISTENCE),
    (
        (
            "webhook",
            "telegram",
            "slack",
            "ngrok",
            "pastebin",
            "transfer.sh",
            "pipedream",
            "canarytoken",
            "dnslog",
            "ceye",
            "interact",
            "burpcollab",
            "oastify",
            "requestcatcher",
            "beeceptor",
            "hookbin",
            "glitch.me",
            "repl.co",
            "rentry",
            "paste.ee",
            "hastebin",
            "discordapp",
        ),
        (
            r"discord(?:app)?\.com/api/webhooks|api\.telegram\.org/bot|hooks\.slack\.com|\.ngrok\.|ngrok-free|pastebin\.com"
            r"|transfer\.sh|webhook\.site|pipedream\.net|canarytokens|dnslog\.|ceye\.io|interact\.sh|interactsh|oastify"
            r"|burpcollaborator|requestcatcher|beeceptor|hookbin|glitch\.me|repl\.co"
            r"|rentry\.(?:co|org)/\w+/raw|paste\.ee/r/|hastebin\.com/raw|cdn\.discordapp\.com/attachments/"
        ),
        EXFIL_ENDPOINT,
    ),
    (
        (".exe", ".scr", ".bat", ".cmd", ".ps1", ".vbs", ".msi", ".dll", ".jar", ".hta", ".lnk"),
        r"\.(?:exe|scr|bat|cmd|ps1|vbs|msi|dll|jar|hta|lnk)\b",
        EXECUTABLE_FILE,
    ),
    (
        ("://", "requestbin", "oast.", "interact.sh", "burpcollab"),
        r"https?://(?!127\.|0\.0\.0\.0|10\.|192\.168\.)\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|requestbin|\boast\.|interact\.sh|burpcollaborator",
        EXFIL_ENDPOINT,
    ),
    (
        ("curl", "wget", "invoke-webrequest", "iwr ", "downloadstring", "certutil", "bitsadmin"),
        r"\bcurl\s+-|\bcurl\s+https?:|\bwget\s+|invoke-webrequest|\biwr\s|downloadstring|certutil\s+-urlcache|bitsadmin",
        SHELL_DOWNLOAD,
    ),
    (("/dev/tcp", "nc ", "ncat", "bash -i"), r"/dev/tcp/|\bnc\s+-e\b|\bncat\s+-e\b|bash\s+-i\s+>&", REVERSE_SHELL),
    # decoded data piped straight into a shell: `echo <b64> | base64 -d | bash`
    (("base64",), r"base64\s+(?:-d|--decode|-D)\s*\|\s*(?:ba|z|da)?sh\b", DECODE_EXEC),
    (("chmod",), r"chmod\s+\+x|chmod\s+7[0-7][0-7]", MAKE_EXECUTABLE),
    (
        ("nohup", "setsid", "/dev/null", "start", "&"),
        r"\bnohup\b|\bsetsid\b|>\s*/dev/null\s+2>&1\s*&|^\s*start\s|\bcmd(?:\.exe)?\s+/c\s+start\s|\s&\s*$",
        DETACHED,
    ),
    (("openssl", "begin public key"), r"openssl\s+(?:enc|rsautl|pkeyutl)|-----begin public key", ENCRYPT),
    (("tar -", "tar c", "tar.gz"), r"\btar\s+-?c|\.tar\.gz\b", ARCHIVE),
    (
        ("bun", "nodejs.org", "deno.land"),
        r"oven-sh/bun|bun\.sh/install|bun-linux|bun-windows|bun-darwin|nodejs\.org/dist|deno\.land/install",
        RUNTIME,
    ),
    (("pyarmor", "_0x"), r"__pyarmor__|pyarmor_runtime|\b_0x[0-9a-f]{4,}\b", PACKED),
)

_COMPILED = tuple((anchors, re.compile(pattern), tag) for anchors, pattern, tag in _STRING_TABLE)


def scan_strings(text: str, skip: frozenset[str] = frozenset()) -> list[tuple[int, str, str]]:
    """(offset, tag, matched text) for every string-of-interest match in `text`, leaving out
    the tags in `skip` (they are not even searched for)."""
    lowered = text.lower()
    out: list[tuple[int, str, str]] = []
    for anchors, pattern, tag in _COMPILED:
        if tag in skip:
            continue
        for anchor in anchors:
            if anchor in lowered:
                out.extend((m.start(), tag, text[m.start() : m.end()]) for m in pattern.finditer(lowered))
                break
    return out


#: Runtimes whose launch from Python is worth a tag.
RUNTIME_COMMANDS = frozenset({"bun", "node", "nodejs", "deno", "bun.exe", "node.exe", "deno.exe"})

#: Commands whose launch means network traffic.
NETWORK_COMMANDS = frozenset(
    {
        "curl",
        "wget",
        "nc",
        "ncat",
        "scp",
        "rsync",
        "ftp",
        "tftp",
        "curl.exe",
        "wget.exe",
        "ping",
        "nslookup",
        "dig",
        "host",
    }
)

#: Tags that count only when found in a command that is run, not in any string constant
#: (help texts and docs mention `curl -o` and `chmod +x` all the time).
COMMAND_ONLY = frozenset({SHELL_DOWNLOAD, REVERSE_SHELL, DETACHED, MAKE_EXECUTABLE, DECODE_EXEC})

#: Commands that fingerprint the host.
SYSINFO_COMMANDS = frozenset(
    {"whoami", "hostname", "uname", "id", "ipconfig", "ifconfig", "systeminfo", "pwd", "cat /etc/passwd"}
)
#: Environment variables that identify the user or host.
SYSINFO_VARIABLES = frozenset({"COMPUTERNAME", "USERNAME", "HOSTNAME", "LOGNAME", "USERDOMAIN"})
