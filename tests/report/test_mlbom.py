"""The CycloneDX output lists model files as ML-BOM components (format, hash, verdict)."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

from chainwarden.engine import Scanner, ScanOptions
from chainwarden.policy import Policy
from chainwarden.report import render


def test_models_are_ml_bom_components(tmp_path: Path) -> None:
    root = tmp_path / "models"
    root.mkdir()
    weights = pickle.dumps({"layer.weight": [0.1, 0.2]}, protocol=4)  # a benign pickle we make, never load
    (root / "model.pkl").write_bytes(weights)
    with Scanner(ScanOptions(jobs=1, use_cache=False, cache_dir=tmp_path / "c")) as scanner:
        report = scanner.scan([str(root)])
    bom = json.loads(render(report, Policy().evaluate(report), "cyclonedx"))
    models = [c for c in bom.get("components", []) if c.get("type") == "machine-learning-model"]
    assert models, bom.get("components")
    (model,) = models
    assert any(h.get("content") == hashlib.sha256(weights).hexdigest() for h in model.get("hashes", []))
    assert "model.pkl" in json.dumps(model)
