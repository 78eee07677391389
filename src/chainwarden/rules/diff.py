"""Rules about what a release changes compared with its predecessor."""

from __future__ import annotations

from chainwarden.models import Severity
from chainwarden.rules import Rule

NEW_AUTO_CAPABILITY = Rule(
    id="CW600",
    title="New capability reachable from an automatic trigger",
    severity=Severity.HIGH,
    rationale=(
        "This release can do something at interpreter start, install, import or entry-point load that "
        "the previous release could not (network, process spawn, decode-then-exec, credential access, "
        "persistence). Legitimate releases rarely add such behaviour to code that runs without being "
        "called; litellm 1.82.7 added decode-then-exec at import, 1.82.8 a `.pth` run at every start."
    ),
    references=("https://github.com/BerriAI/litellm/issues/24518",),
    attack="T1195.002",
    category="diff",
)

NEW_STARTUP_HOOK = Rule(
    id="CW601",
    title="Release adds code that runs at interpreter start",
    severity=Severity.HIGH,
    rationale=(
        "This release adds a `.pth` file with executable lines, a `.start` file, or a `sitecustomize` / "
        "`usercustomize` module that the previous release did not have. Python runs these at every "
        "interpreter start, whether or not the package is imported."
    ),
    references=("https://docs.python.org/3/library/site.html", "https://peps.python.org/pep-0829/"),
    attack="T1546.018",
    category="diff",
)

NEW_BINARY = Rule(
    id="CW602",
    title="Release adds a native binary",
    severity=Severity.MEDIUM,
    rationale=(
        "A compiled file (ELF, Mach-O, PE, shared library) appears that the previous release did not "
        "ship. Binaries cannot be read like source and have carried bundled runtimes and payloads."
    ),
    attack="T1027.009",
    category="diff",
)

NEW_INSTALL_HOOK = Rule(
    id="CW603",
    title="Release adds or changes an install hook",
    severity=Severity.MEDIUM,
    rationale=(
        "`setup.py`, the build backend or the build requirements changed: code that runs at install "
        "time, before anyone has a chance to look."
    ),
    attack="T1195.002",
    category="diff",
)

NEW_DEPENDENCY = Rule(
    id="CW604",
    title="Release adds a dependency",
    severity=Severity.LOW,
    rationale="A new dependency brings code nobody reviewed with this release; attackers add one instead of code.",
    attack="T1195.001",
    category="diff",
)

ENTRY_POINTS_CHANGED = Rule(
    id="CW605",
    title="Release adds or changes entry points",
    severity=Severity.LOW,
    rationale=(
        "New or retargeted entry points, especially in plugin groups that hosts load by themselves "
        "(pytest11, console scripts that shadow common commands), make code run without an import."
    ),
    category="diff",
)

NO_BASELINE = Rule(
    id="CW606",
    title="No usable previous release to compare with",
    severity=Severity.INFO,
    rationale=(
        "The release diff needs a predecessor: there is none, it is yanked, or only an sdist exists "
        "for it. The diff was not done, and that is said rather than passed over."
    ),
    category="diff",
)

RULES: tuple[Rule, ...] = (
    NEW_AUTO_CAPABILITY,
    NEW_STARTUP_HOOK,
    NEW_BINARY,
    NEW_INSTALL_HOOK,
    NEW_DEPENDENCY,
    ENTRY_POINTS_CHANGED,
    NO_BASELINE,
)
