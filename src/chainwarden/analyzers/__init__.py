"""The explicit registry of analyzers run by `chainwarden scan` (in this order)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chainwarden.analyzers.base import Analyzer


#: The modules `default_analyzers` imports; worker processes load them before their first task.
MODULES = (
    "chainwarden.analyzers.mlmodels.analyzer",
    "chainwarden.analyzers.native",
    "chainwarden.analyzers.pth",
    "chainwarden.analyzers.python",
    "chainwarden.analyzers.python.reader",
)


def default_analyzers() -> tuple[Analyzer[Any], ...]:
    """A fresh instance of every analyzer. Imports are local so that `chainwarden --help`
    stays fast and a worker process builds only what it runs."""
    from chainwarden.analyzers.mlmodels.analyzer import ModelAnalyzer  # noqa: PLC0415 - see docstring
    from chainwarden.analyzers.native import NativeAnalyzer  # noqa: PLC0415 - see docstring
    from chainwarden.analyzers.pth import PthAnalyzer  # noqa: PLC0415 - see docstring
    from chainwarden.analyzers.python import PythonAnalyzer  # noqa: PLC0415 - see docstring

    analyzers: list[Analyzer[Any]] = [PthAnalyzer(), NativeAnalyzer(), ModelAnalyzer(), PythonAnalyzer()]
    return tuple(analyzers)


def by_name(names: tuple[str, ...] | None = None) -> tuple[Analyzer[Any], ...]:
    everything = default_analyzers()
    if names is None:
        return everything
    chosen = tuple(a for a in everything if a.name in names)
    unknown = set(names) - {a.name for a in chosen}
    if unknown:
        msg = f"unknown analyzer(s): {', '.join(sorted(unknown))}"
        raise ValueError(msg)
    return chosen
