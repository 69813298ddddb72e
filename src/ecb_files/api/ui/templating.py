"""The page's Jinja2 environment and the one way a page is answered.

Jinja2 is imported here only (the import layers say so). Autoescaping is on for every
template: file names, descriptions and FNoL values are partners' text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

# Everything the page loads comes from this service; no script runs but its own files,
# and no other site may frame it.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
        "frame-src 'self'; object-src 'self'; frame-ancestors 'self'; form-action 'self'; "
        "base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_UNITS = ("bytes", "KB", "MB", "GB", "TB")


def human_size(size: int) -> str:
    """1234567 → "1.2 MB" (decimal units, as file managers show them)."""
    value = float(size)
    for unit in _UNITS:
        if value < 1000 or unit == _UNITS[-1]:
            if unit == "bytes":
                return f"{int(value)} {'byte' if int(value) == 1 else 'bytes'}"
            return f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def short_time(moment: datetime | None) -> str:
    """A moment in UTC, to the minute: "2026-12-04 14:05 UTC"."""
    if moment is None:
        return "—"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso_time(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).isoformat()


_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters["human_size"] = human_size
_environment.filters["short_time"] = short_time
_environment.filters["iso_time"] = iso_time


def page(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The named template rendered as an HTML answer with the page's security headers."""
    html = _environment.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
