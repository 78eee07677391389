"""Rules for `.pth` and PEP 829 `.start` files: code that runs at every interpreter start."""

from __future__ import annotations

from chainwarden.models import Severity
from chainwarden.rules import Rule

_SITE_DOCS = "https://docs.python.org/3/library/site.html"
_PEP829 = "https://peps.python.org/pep-0829/"
_LITELLM = "https://github.com/BerriAI/litellm/issues/24521"
_CATEGORY = "interpreter-start"
_ATTACK = "T1546.018"  # Event Triggered Execution: Python Startup Hooks

PTH_EXEC = Rule(
    id="CW100",
    title="Executable .pth line",
    severity=Severity.MEDIUM,
    rationale=(
        "A .pth line that starts with `import` is passed to exec() by `site` at every start of "
        "every Python process in the environment, before any user code, whether or not the "
        "package is ever imported. Legitimate packages use this for small hooks (setuptools' "
        "distutils shim, namespace packages, coverage, editable installs); it is reported so "
        "that a reviewer sees it, and blocks only when the line does something dangerous."
    ),
    references=(_SITE_DOCS,),
    attack=_ATTACK,
    category=_CATEGORY,
)

PTH_EXEC_DANGEROUS = Rule(
    id="CW101",
    title="Executable .pth line with a dangerous capability",
    severity=Severity.HIGH,
    rationale=(
        "The .pth line runs at every interpreter start and starts processes, uses the network, "
        "writes files, decodes data or executes code it computes. None of the common legitimate "
        ".pth hooks needs any of this; malicious .pth droppers need all of it."
    ),
    references=(_SITE_DOCS, _LITELLM),
    attack=_ATTACK,
    category=_CATEGORY,
)

PTH_EXEC_CRITICAL = Rule(
    id="CW102",
    title="Executable .pth line runs hidden code or a child interpreter",
    severity=Severity.CRITICAL,
    rationale=(
        "The .pth line decodes data and executes it, hands code to a child Python interpreter "
        "(`sys.executable -c ...`), or combines network access with process spawning or code "
        "execution -- at every interpreter start. This is the shape of the litellm 1.82.8 "
        "`litellm_init.pth` and of the 2026 .pth dropper wave."
    ),
    references=(_SITE_DOCS, _LITELLM),
    attack=_ATTACK,
    category=_CATEGORY,
)

PTH_HIDDEN_LINE = Rule(
    id="CW103",
    title="Executable .pth line hidden from some Python versions",
    severity=Severity.HIGH,
    rationale=(
        "Python 3.11/3.12 read .pth files with universal newlines in the locale encoding; 3.13+ "
        "decode UTF-8 and split with str.splitlines(), which also breaks lines at form feeds, "
        "\\x1c-\\x1e, \\x85, \\u2028 and friends. A line that is a comment (or a path) to one "
        "reader and code to another is written to fool reviewers and line-based scanners."
    ),
    references=(_SITE_DOCS, "https://github.com/python/cpython/issues/77102"),
    attack="T1027",
    category=_CATEGORY,
)

START_ENTRY_POINT = Rule(
    id="CW104",
    title="PEP 829 .start entry point runs at interpreter start",
    severity=Severity.MEDIUM,
    rationale=(
        "From Python 3.15 a `<name>.start` file in site-packages names `pkg.mod:callable` entry "
        "points that are imported and called at every interpreter start; the module becomes "
        "start-up code and is analysed as such. A matching .start file also disables the "
        "import lines of `<name>.pth` on 3.15+, but not on older versions."
    ),
    references=(_PEP829,),
    attack=_ATTACK,
    category=_CATEGORY,
)

PTH_PATH_TO_SITECUSTOMIZE = Rule(
    id="CW105",
    title=".pth path line adds a directory holding sitecustomize.py",
    severity=Severity.MEDIUM,
    rationale=(
        "`site` imports `sitecustomize` and `usercustomize` from sys.path after processing .pth "
        "files. A path line that adds a directory holding one of them turns that module into "
        "code run at every interpreter start without a single import line."
    ),
    references=(_SITE_DOCS,),
    attack=_ATTACK,
    category=_CATEGORY,
)

PTH_ODD_PATH = Rule(
    id="CW106",
    title=".pth path line points somewhere unusual",
    severity=Severity.LOW,
    rationale=(
        "A distributed package's .pth path lines normally name directories inside site-packages. "
        "Temporary directories, hidden directories, network shares, absolute paths and paths "
        "outside site-packages let code that is not in the package be imported first."
    ),
    references=(_SITE_DOCS,),
    attack="T1574",
    category=_CATEGORY,
)

RULES: tuple[Rule, ...] = (
    PTH_EXEC,
    PTH_EXEC_DANGEROUS,
    PTH_EXEC_CRITICAL,
    PTH_HIDDEN_LINE,
    START_ENTRY_POINT,
    PTH_PATH_TO_SITECUSTOMIZE,
    PTH_ODD_PATH,
)
