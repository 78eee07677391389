"""Provenance: where an artifact comes from, judged against the project's own history.

* `attestations` — PEP 740 provenance parsed and verified offline (optional `provenance` extra).
* `publisher` — continuity of the trusted publisher pinned from earlier releases.
* `repository` — the version's tag in the source repository and whether the files match it.
* `index` / `signals` — index metadata: typosquats, dependency confusion, late uploads,
  dormancy, yanked files, project status, vanished releases.
* `check` — all of the above for one file, from inputs the caller gathered; the integrity API client.
"""
