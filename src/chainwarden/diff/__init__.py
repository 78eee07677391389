"""Release diff: what a release changes compared with its predecessor.

* `files` — added, removed, modified, renamed files (version-string churn ignored).
* `capabilities` — new capabilities from the analyzers' findings, and structural changes
  (startup hooks, binaries, install hooks, dependencies, entry points).
* `release` — the whole diff of two artifacts through the scan engine, with findings.
"""
