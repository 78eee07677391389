"""Where chainwarden keeps its cache. Callers pass directories explicitly; this is the default."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """`$CHAINWARDEN_CACHE_DIR`, else `$XDG_CACHE_HOME/chainwarden`, else `~/.cache/chainwarden`."""
    explicit = os.environ.get("CHAINWARDEN_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "chainwarden"
