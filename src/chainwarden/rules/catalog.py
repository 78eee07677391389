"""The explicit list of rule modules. Add a module here when you add a rule family."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainwarden.rules import advisories, archive, core, diff, gate, mlmodels, native, provenance, pth, python, sweep

if TYPE_CHECKING:
    from chainwarden.rules import Rule

_MODULES = (core, archive, provenance, diff, pth, native, advisories, mlmodels, gate, python, sweep)


def _build() -> dict[str, Rule]:
    catalog: dict[str, Rule] = {}
    for module in _MODULES:
        for rule in module.RULES:
            if rule.id in catalog:
                msg = f"rule {rule.id} is defined twice"
                raise ValueError(msg)
            catalog[rule.id] = rule
    return catalog


CATALOG: dict[str, Rule] = _build()
