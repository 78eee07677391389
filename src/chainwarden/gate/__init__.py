"""The install gate: nothing new is installed unless it is old enough, known clean and scanned.

`config` reads the gate's policy, `proxy` is a filtering package index in front of the real
one (cooldown, denials and scan verdicts applied to what installers can see), `resolve` asks
pip what it would install through that index without running package code, and `install`
downloads, checks and installs exactly those files by hash.
"""
