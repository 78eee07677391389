"""Continuous monitoring: new releases of every watched dependency and new advisories, alerts in
minutes, a durable results store and a web dashboard.

`store` keeps everything (SQLite by default, PostgreSQL by URL) with migrations; `poller`
asks the index cheaply what changed; `scanner` judges a new release (detection, diff against
the previous release, advisories, cooldown); `alerts` delivers at least once with stable
idempotency keys; `service` runs the loop; `dashboard` serves the pages.
"""
