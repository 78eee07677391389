"""Print `docs/rules.md`, generated from the rule catalogue: `python -m chainwarden.rules > docs/rules.md`."""

from __future__ import annotations

import sys

from chainwarden.rules.docs import render_rules_markdown

sys.stdout.write(render_rules_markdown())
