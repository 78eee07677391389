"""Meta-test: every rule in the catalogue has a malicious and a benign fixture.

Fixture registries are gathered from the explicit list below: each is a module under
`tests/rules/` with `FIXTURES: dict[rule_id, (malicious_builder, benign_builder)]`. Each
family's own test runs its pairs; this test only checks coverage, so adding a rule without
fixtures fails here. Add your registry to `REGISTRIES` when you add a rule family.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

from chainwarden.rules import catalog

REGISTRIES: tuple[str, ...] = (
    "fixtures_pth",
    "fixtures_native",
    "fixtures_python",
    "fixtures_mlmodels",
    "fixtures_provenance",
    "fixtures_advisories",
    "fixtures_gate",
    "fixtures_sweep",
    "fixtures_core",
    "fixtures_archive",
)

#: Rule modules whose fixtures are not written yet. Shrink this list; never grow it. The test
#: fails once a listed module is fully covered, so that it is removed from here.
PENDING: frozenset[str] = frozenset()


def _registries() -> list[ModuleType]:
    return [importlib.import_module(name) for name in REGISTRIES]


def _covered() -> dict[str, tuple[object, object]]:
    merged: dict[str, tuple[object, object]] = {}
    for module in _registries():
        for rule_id, pair in module.FIXTURES.items():
            assert rule_id not in merged, f"{rule_id} has fixtures in two registries"
            merged[rule_id] = pair
    return merged


def _module_rules() -> dict[str, set[str]]:
    return {m.__name__.rsplit(".", 1)[-1]: {r.id for r in m.RULES} for m in catalog._MODULES}


def test_every_rule_has_a_malicious_and_a_benign_fixture() -> None:
    covered = _covered()
    missing = sorted(
        rule_id
        for name, ids in _module_rules().items()
        if name not in PENDING
        for rule_id in ids
        if rule_id not in covered
    )
    assert not missing, f"rules without fixtures: {missing}"


@pytest.mark.parametrize("registry", REGISTRIES)
def test_registry_entries_are_pairs_of_builders(registry: str) -> None:
    known = set(catalog.CATALOG)
    for rule_id, pair in importlib.import_module(registry).FIXTURES.items():
        assert rule_id in known, f"{registry} has fixtures for unknown rule {rule_id}"
        assert len(pair) == 2, rule_id
        malicious, benign = pair
        assert callable(malicious), rule_id
        assert callable(benign), rule_id
        assert malicious is not benign, rule_id


def test_pending_list_only_names_uncovered_modules() -> None:
    covered = _covered()
    modules = _module_rules()
    assert set(modules) >= PENDING, sorted(PENDING - set(modules))
    finished = sorted(name for name in PENDING if modules[name] <= set(covered))
    assert not finished, f"remove from PENDING, fully covered now: {finished}"
