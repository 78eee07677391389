"""The watch dashboard (`chainwarden serve`): server-rendered pages over the results store.

`app` is the HTTP server and routing, `auth` the token, session cookie and CSRF checks,
`pages` and `evidence` render HTML (every dynamic string escaped), `queries` holds the
read-only SQL the pages need beyond the `Store` API, `layout` the page shell and stylesheet.
"""

from __future__ import annotations

from chainwarden.watch.web.app import DashboardServer, make_server
from chainwarden.watch.web.auth import Auth

__all__ = ["Auth", "DashboardServer", "make_server"]
