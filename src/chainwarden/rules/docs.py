"""Generate the rules reference (docs/rules.md) from the catalogue, so docs never drift from code."""

from __future__ import annotations

from itertools import groupby

from chainwarden.rules import Rule, all_rules


def _rule_section(rule: Rule) -> list[str]:
    lines = [f"### {rule.id} — {rule.title}", ""]
    meta = f"**Severity:** {rule.severity.label}"
    if rule.attack:
        meta += f" · **ATT&CK:** {rule.attack}"
    lines += [meta, "", rule.rationale, ""]
    if rule.references:
        lines += ["References:", ""]
        lines += [f"- {ref}" for ref in rule.references]
        lines.append("")
    return lines


def render_rules_markdown() -> str:
    rules = sorted(all_rules().values(), key=lambda r: (r.category or "other", r.id))
    lines = [
        "# Rules",
        "",
        "Generated from the rule catalogue by `python -m chainwarden.rules > docs/rules.md`; do not edit by hand.",
        "A severity is the rule's default; analyzers raise or lower it with what they see (the trigger that",
        "reaches the code, what the code can do, what it hides).",
        "",
        "| ID | Title | Default severity | Category |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| [{r.id}](#{r.id.lower()}) | {r.title} | {r.severity.label} | {r.category or 'other'} |" for r in rules
    ]
    lines.append("")
    for category, group in groupby(rules, key=lambda r: r.category or "other"):
        lines += [f"## {category}", ""]
        for rule in group:
            lines += _rule_section(rule)
    return "\n".join(lines)
