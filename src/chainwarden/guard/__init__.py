"""Runtime guard: a per-package capability policy enforced with PEP 578 audit hooks while a program runs.

`launcher` starts a program with the guard installed before `site`; `runtime/` is the standard-library
only code injected into the guarded interpreter; `policy` parses the TOML policy; `learn` writes one
from an event log; `baseline` pins `.pth` files and verifies installed files; `bootstrap` writes the
`.pth` bootstrap for environments where a launcher is impossible. See docs/guard.md.
"""
