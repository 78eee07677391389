"""`python -m chainwarden`."""

from chainwarden.cli import entry

entry()
