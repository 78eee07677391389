"""The detection engine for Python code: what runs on its own, what it can do, what it hides.

Per file (`extract`, cached by content hash): `reader` picks how to read the bytes, `source`
parses them exactly as CPython would, `extract` (with `astutil`) walks the tree once into `facts` (scopes,
imports, calls, capability `Signal`s), `deobfuscate`/`payloads` fold and decode hidden code.
Per package (`judge`): `package` resolves modules and calls, `reach` finds what runs without
a call (interpreter start, install, import, entry points), `score` combines trigger,
capability and concealment into findings of the `chainwarden.rules.python` rules.
"""

from chainwarden.analyzers.python.analyzer import PythonAnalyzer

__all__ = ["PythonAnalyzer"]
