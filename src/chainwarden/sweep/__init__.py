"""Incident response: "was I hit?" across every Python environment, cache and persistence spot.

`discover` finds what to look at without running anything, `persistence` judges start-up
hooks that outlive a package, `secrets` lists what a compromised user could read, `sweep`
ties them to the scan engine and the advisory database, `quarantine` moves (never deletes)
what was found and can put it back.
"""
