"""Keras model configs: Lambda layers (marshalled Python bytecode) and objects from outside Keras.

A `.keras` file's `config.json` names the class and module of every object Keras rebuilds.
Lambda layers carry a function's bytecode; a `module` outside Keras makes the loader import it
(the CVE-2025-1550 safe-mode bypass). Legacy HDF5 files keep the same JSON in an attribute.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from chainwarden.analyzers.mlmodels.facts import IssueKind
from chainwarden.analyzers.mlmodels.globals import GlobalClass, classify

if TYPE_CHECKING:
    from chainwarden.analyzers.mlmodels.context import Context

_MAX_NODES = 1_000_000
_UNSAFE_SWITCH = "enable_unsafe_deserialization"
_LAMBDA_BYTES = re.compile(rb'"class_name"\s*:\s*"(Lambda|__lambda__)"')


def _keras_module(module: str) -> bool:
    return module in ("keras", "tf_keras", "tensorflow.keras") or module.startswith(
        ("keras.", "tf_keras.", "tensorflow.keras.", "tensorflow.python.keras.")
    )


def check_config(data: bytes, where: str, ctx: Context) -> None:
    try:
        config = json.loads(data)
    except (ValueError, RecursionError) as err:
        ctx.issue(IssueKind.UNVERIFIABLE, where, 0, f"Keras config is not readable JSON: {str(err)[:120]}")
        return
    todo: list[object] = [config]
    nodes = 0
    lambdas = 0
    while todo:
        node = todo.pop()
        nodes += 1
        if nodes > _MAX_NODES:
            ctx.issue(IssueKind.LIMIT, where, 0, f"Keras config with more than {_MAX_NODES} nodes")
            return
        if isinstance(node, dict):
            if node.get("class_name") == "__lambda__":
                lambdas += 1  # the function inside a Lambda layer, reported with its layer
            else:
                _check_object(node, where, ctx)
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
        elif isinstance(node, str) and _UNSAFE_SWITCH in node:
            ctx.issue(IssueKind.KERAS_LAMBDA, where, 0, f"config refers to {_UNSAFE_SWITCH}: it turns safe mode off")
    if lambdas and not any(i.kind is IssueKind.KERAS_LAMBDA and i.where == where for i in ctx.issues):
        ctx.issue(IssueKind.KERAS_LAMBDA, where, 0, "config holds a marshalled Python function (__lambda__)")


def _check_object(node: dict[str, object], where: str, ctx: Context) -> None:
    class_name = node.get("class_name")
    config = node.get("config")
    label = config.get("name") if isinstance(config, dict) else None
    if class_name == "Lambda":
        named = f" {label!r}" if isinstance(label, str) else ""
        ctx.issue(
            IssueKind.KERAS_LAMBDA,
            where,
            0,
            f"Lambda layer{named} carries Python code that runs when the model is used",
        )
    module = node.get("module")
    if not isinstance(module, str) or not module or _keras_module(module):
        return
    name = class_name if isinstance(class_name, str) else ""
    if classify(module, name or "_") is GlobalClass.DANGEROUS:
        ctx.issue(IssueKind.KERAS_LAMBDA, where, 0, f"config object from a dangerous module: {module}.{name}")
    else:
        ctx.issue(IssueKind.KERAS_MODULE, where, 0, f"config object from outside Keras: {module}.{name}")


def scan_hdf5_for_lambda(buf: bytes, where: str, ctx: Context) -> None:
    """Legacy `.h5` models keep their config as JSON text inside HDF5; without an HDF5 reader a
    byte search can still prove a Lambda layer is there (it can never prove it is not)."""
    match = _LAMBDA_BYTES.search(buf)
    if match is not None:
        ctx.issue(IssueKind.KERAS_LAMBDA, where, match.start(), "HDF5 model config declares a Lambda layer")
