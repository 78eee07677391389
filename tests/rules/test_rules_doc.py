"""docs/rules.md is generated from the catalogue and must be regenerated when a rule changes."""

from __future__ import annotations

from pathlib import Path

from chainwarden.rules import all_rules
from chainwarden.rules.docs import render_rules_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_rules_doc_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == render_rules_markdown(), (
        "docs/rules.md is stale: run `python -m chainwarden.rules > docs/rules.md`"
    )


def test_every_rule_is_documented_with_rationale() -> None:
    text = DOC.read_text(encoding="utf-8")
    for rule in all_rules().values():
        assert f"### {rule.id} — {rule.title}" in text
        assert rule.rationale.strip(), rule.id
