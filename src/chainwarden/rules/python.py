"""Rules of the Python code analyzer (`chainwarden.analyzers.python`): CW2xx.

Severity here is the rule's ceiling at the most automatic trigger; the analyzer lowers it when
the code only runs if someone calls it, and raises it one step when the behaviour is concealed
(decoded, packed). See docs/python-analysis.md.
"""

from __future__ import annotations

from chainwarden.models import Severity
from chainwarden.rules import Rule

_ATTACKS = "https://github.com/BerriAI/litellm/issues/24518"
_PYSEC_LITELLM = "https://osv.dev/vulnerability/PYSEC-2026-2"
_SITE = "https://docs.python.org/3/library/site.html"

DECODE_EXEC = Rule(
    id="CW201",
    title="Decoded data is executed",
    severity=Severity.CRITICAL,
    rationale=(
        "Data is decoded (base64, hex, zlib, XOR, marshal, decryption ...) and handed to exec/eval/compile "
        "or to a child interpreter. Honest packages ship their code as code; this is how the litellm "
        "1.82.7/1.82.8, W4SP and most PyPI droppers hide their payloads. Critical when it runs by itself "
        "(interpreter start, install, import); the decoded stages are shown in the evidence."
    ),
    references=(_PYSEC_LITELLM, _ATTACKS),
    attack="T1027",
    category="obfuscation",
)
REMOTE_CODE = Rule(
    id="CW202",
    title="Downloads and runs code",
    severity=Severity.CRITICAL,
    rationale=(
        "Data fetched from the network is executed, or a downloaded file is made executable and run "
        "(`curl | sh`, urlretrieve + chmod, a response saved to disk and started). A package that runs what "
        "it downloads when installed or imported runs whatever its server sends that day (ultralytics' "
        "miner, lightning's runtime). Source code written out as a literal and then run is analysed as code. "
        "Where only a call runs it, it is high when the file comes from a bare IP address, paste site or "
        "webhook host, or is started hidden or detached (`start`, `&`, CREATE_NO_WINDOW): droppers do that, "
        "vendor installers do not."
    ),
    references=("https://github.com/Lightning-AI/pytorch-lightning/issues/21689",),
    attack="T1105",
    category="execution",
)
EXFILTRATION = Rule(
    id="CW203",
    title="Secrets or environment sent over the network",
    severity=Severity.CRITICAL,
    rationale=(
        "Code that runs by itself reads credential stores (SSH keys, cloud and Kubernetes credentials, "
        "browser and wallet data, the whole environment) and talks to the network. That combination is "
        "the litellm, MrMustard and W4SP stealers; an HTTP library that reads ~/.netrc inside a request "
        "function nobody calls at import is not flagged. Where only a call runs it, high for stealer code "
        "(browser, Discord and wallet stores) and for credential files archived and sent to a bare IP "
        "address or webhook host."
    ),
    references=(_PYSEC_LITELLM, "https://github.com/XanaduAI/MrMustard/issues/656"),
    attack="T1552.001",
    category="exfiltration",
)
CHILD_INTERPRETER = Rule(
    id="CW204",
    title="Starts a Python interpreter by itself",
    severity=Severity.CRITICAL,
    rationale=(
        "A child interpreter (`sys.executable -c CODE`, or a bundled script) is started from code that runs "
        "by itself, often detached and silenced (DEVNULL, new session). litellm 1.82.8's `.pth` did this on "
        "every interpreter start. Critical at interpreter start, high when detached at import/install."
    ),
    references=(_ATTACKS, _SITE),
    attack="T1059.006",
    category="execution",
)
PERSISTENCE = Rule(
    id="CW205",
    title="Installs persistence",
    severity=Severity.HIGH,
    rationale=(
        "Writes systemd units, crontabs, shell rc files, autostart entries, Windows Run keys or `.pth` "
        "files from code that runs by itself, so that it survives the package's removal (litellm's "
        "sysmon.service, MrMustard's cron and `.pth`)."
    ),
    references=(_PYSEC_LITELLM, "https://github.com/XanaduAI/MrMustard/issues/656"),
    attack="T1053.003",
    category="persistence",
)
CREDENTIAL_ACCESS = Rule(
    id="CW206",
    title="Reads credential stores by itself",
    severity=Severity.HIGH,
    rationale=(
        "Code that runs by itself refers to credential stores (SSH, cloud, Kubernetes, Docker, browser, "
        "wallet, shell history, cloud metadata). Medium alone; high when the data is also archived or encrypted."
    ),
    references=(_PYSEC_LITELLM,),
    attack="T1552.001",
    category="credential-access",
)
AUTO_NETWORK = Rule(
    id="CW207",
    title="Network access by itself",
    severity=Severity.HIGH,
    rationale=(
        "Code talks to the network at interpreter start, install or import. Rare in honest packages (they "
        "connect when called), common in droppers and dependency-confusion beacons. High at interpreter "
        "start or with host fingerprinting, medium otherwise."
    ),
    references=(_SITE,),
    attack="T1071.001",
    category="network",
)
THREAD_AT_IMPORT = Rule(
    id="CW208",
    title="Background thread runs commands at import",
    severity=Severity.HIGH,
    rationale=(
        "A thread, process or timer started when the package is imported runs shell commands, child "
        "interpreters or runtimes: the user sees a normal import while the work happens behind it "
        "(MrMustard's injected `_check_tf_compatibility`, lightning's runtime launcher)."
    ),
    references=("https://github.com/Lightning-AI/pytorch-lightning/issues/21689",),
    attack="T1059",
    category="execution",
)
RUNTIME = Rule(
    id="CW209",
    title="Starts or fetches a JavaScript runtime",
    severity=Severity.HIGH,
    rationale=(
        "Code that runs by itself launches or downloads a JavaScript runtime (Bun, Node, Deno) or runs a "
        "bundled `.js` file: the Shai-Hulud and lightning 2.6.2 stealers moved their logic out of Python "
        "this way to avoid Python-focused review."
    ),
    references=("https://github.com/Lightning-AI/pytorch-lightning/issues/21689",),
    attack="T1059.007",
    category="execution",
)
SYNTAX_ERROR = Rule(
    id="CW210",
    title="Python source that cannot be parsed",
    severity=Severity.LOW,
    rationale=(
        "A `.py` file failed to parse (Python 2 code, a deliberately broken file, an unknown encoding). "
        "Nothing in it was analysed; it cannot run under Python 3 either, so this is informational unless "
        "paired with other findings."
    ),
    category="scan",
)
EXOTIC_ENCODING = Rule(
    id="CW211",
    title="Source encoding that rewrites ASCII",
    severity=Severity.HIGH,
    rationale=(
        "The coding cookie selects a codec such as `unicode_escape`, `raw_unicode_escape` or `utf-7`, under "
        "which text that reads as a comment or a string is decoded by CPython into code. No honest source "
        "needs it. The file is analysed exactly as CPython decodes it."
    ),
    references=("https://peps.python.org/pep-0263/",),
    attack="T1027",
    category="obfuscation",
)
BYTECODE_ONLY = Rule(
    id="CW212",
    title="Compiled code shipped without its source",
    severity=Severity.HIGH,
    rationale=(
        "A `.pyc` file is shipped without the `.py` it was compiled from, so reviewers and scanners cannot "
        "read what runs. High when it would run by itself (a package `__init__`, a module imported at "
        "interpreter start), medium otherwise."
    ),
    references=("https://peps.python.org/pep-3147/",),
    attack="T1027.002",
    category="obfuscation",
)
STDLIB_SHADOW = Rule(
    id="CW213",
    title="Module shadows the standard library",
    severity=Severity.LOW,
    rationale=(
        "A top-level module has the name of a standard-library module. Backports do this honestly; it is "
        "also a way to run code when other programs import the standard module. Informational on its own; "
        "what the module does is judged as import-time code."
    ),
    attack="T1574",
    category="execution",
)
STARTUP_HOOK = Rule(
    id="CW214",
    title="Ships an interpreter-start hook",
    severity=Severity.MEDIUM,
    rationale=(
        "The package ships `sitecustomize.py`, `usercustomize.py` or a PEP 829 `.start` entry: code that "
        "runs at every interpreter start on the machine, not only when the package is imported."
    ),
    references=(_SITE, "https://peps.python.org/pep-0829/"),
    attack="T1546",
    category="persistence",
)
PACKED = Rule(
    id="CW215",
    title="Packed or obfuscated code runs by itself",
    severity=Severity.MEDIUM,
    rationale=(
        "PyArmor runtimes, `_0x` string tables or marshalled code objects run at import, install or "
        "interpreter start. Commercial packages use packers honestly, so this is medium on its own; it "
        "raises the severity of any capability found with it. Hand-made obfuscation (builtins reached by "
        "computed names, `globals()['\\x65\\x76\\x61\\x6c']`) is high; eval/exec reached through a string "
        "lookup and fed computed code is high even where only a call or a `__main__` block runs it."
    ),
    attack="T1027.002",
    category="obfuscation",
)
INSTALL_HOOK = Rule(
    id="CW216",
    title="setup.py install hook",
    severity=Severity.LOW,
    rationale=(
        "`setup.py` defines custom commands (`cmdclass`) or does more than call `setup()`: code that runs "
        "when pip builds or installs the sdist. Common and usually honest; listed so that reviewers see it. "
        "What the hook can do is judged by the other rules at the install trigger."
    ),
    references=("https://setuptools.pypa.io/en/latest/userguide/extension.html",),
    attack="T1195.002",
    category="install",
)
AUTO_DYNAMIC_CODE = Rule(
    id="CW217",
    title="Executes computed code by itself",
    severity=Severity.HIGH,
    rationale=(
        "exec/eval/compile of data that is not a visible literal, in code that runs by itself. Low at "
        "install (setup.py often execs its version file), high at interpreter start."
    ),
    attack="T1059.006",
    category="execution",
)
HIDDEN_CODE = Rule(
    id="CW218",
    title="Encoded blob that decodes to Python code",
    severity=Severity.MEDIUM,
    rationale=(
        "A long constant decodes (base64/hex/zlib/...) to Python source. Whether or not the decoder is "
        "visible, shipping code as an encoded blob conceals it; its capabilities are analysed and raise "
        "the severity of the other findings."
    ),
    attack="T1027",
    category="obfuscation",
)
REVERSE_SHELL = Rule(
    id="CW219",
    title="Reverse shell",
    severity=Severity.CRITICAL,
    rationale=(
        "Code connects a shell to a remote host (`/dev/tcp/`, `nc -e`, a socket wired onto stdin/stdout "
        "with `os.dup2` and a shell spawned). Critical when it runs by itself; in a function nobody calls "
        "at import, high when socket, `dup2` and shell sit in one function, medium otherwise."
    ),
    attack="T1059.004",
    category="execution",
)

RULES: tuple[Rule, ...] = (
    DECODE_EXEC,
    REMOTE_CODE,
    EXFILTRATION,
    CHILD_INTERPRETER,
    PERSISTENCE,
    CREDENTIAL_ACCESS,
    AUTO_NETWORK,
    THREAD_AT_IMPORT,
    RUNTIME,
    SYNTAX_ERROR,
    EXOTIC_ENCODING,
    BYTECODE_ONLY,
    STDLIB_SHADOW,
    STARTUP_HOOK,
    PACKED,
    INSTALL_HOOK,
    AUTO_DYNAMIC_CODE,
    HIDDEN_CODE,
    REVERSE_SHELL,
)
