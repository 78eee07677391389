"""chainwarden: stops software-supply-chain attacks on Python and AI stacks.

The Python API mirrors the CLI: `chainwarden.scan(["pkg.whl"])` returns a `ScanReport`;
`chainwarden.policy.load_policy()` and `Policy.evaluate()` turn it into a `Verdict`;
`chainwarden.report.render()` produces terminal, JSON, SARIF or Markdown text.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "scan"]


def __getattr__(name: str) -> object:
    # Lazy so that `import chainwarden` (and `chainwarden --help`) stay cheap.
    if name == "scan":
        from chainwarden.engine import scan  # noqa: PLC0415

        return scan
    raise AttributeError(name)
