"""Report formats: one renderer per module, an explicit registry, one entry point.

Every renderer takes the same inputs (the scan report and the policy's verdict) and returns
text; the CLI decides where it goes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from chainwarden.models import ScanReport, Verdict


class Renderer(Protocol):
    def __call__(self, report: ScanReport, verdict: Verdict, *, color: bool = False) -> str: ...


def _registry() -> dict[str, Renderer]:
    from chainwarden.report import cyclonedx, html, markdown, sarif, terminal  # noqa: PLC0415
    from chainwarden.report import json as json_report  # noqa: PLC0415 - keep CLI start-up light

    return {
        "terminal": terminal.render,
        "json": json_report.render,
        "sarif": sarif.render,
        "markdown": markdown.render,
        "html": html.render,
        "cyclonedx": cyclonedx.render,
    }


FORMATS: tuple[str, ...] = ("terminal", "json", "sarif", "markdown", "html", "cyclonedx")


def render(report: ScanReport, verdict: Verdict, fmt: str = "terminal", *, color: bool = False) -> str:
    """Render in one of `FORMATS`."""
    renderers = _registry()
    if fmt not in renderers:
        msg = f"unknown format {fmt!r} (choose from {', '.join(renderers)})"
        raise ValueError(msg)
    return renderers[fmt](report, verdict, color=color)
