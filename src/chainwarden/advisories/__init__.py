"""Known-bad packages: OSV advisories (vulnerabilities and `MAL-` malicious-package records).

`model` parses OSV records, `matching` decides whether a record affects a version, `merge`
folds aliases together, `services` fetch candidate records (PyPI JSON API, OSV API, offline
SQLite database built by `database` from a `dump`), and `check` ties them together.
"""
