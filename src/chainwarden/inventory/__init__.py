"""Inventory: what a project or environment depends on, from every Python dependency format.

One parser module per format (`base.Parser`: a cheap `claims(path)` and a `parse(path)`),
gathered in the explicit registry of `discover`; `discover.discover(target)` finds and merges
them into an `Inventory` (a dependency graph with exact versions, hashes and origins).
"""
