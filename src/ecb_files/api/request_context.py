"""What a request's handlers learn about it, for its access log line (§12.3).

Kept in the request's own ASGI scope (``scope["state"]``, which ``request.state`` also
reads), never in a global: the middleware (``api/middleware.py``) reads it when the
request ends. Keys: ``client_id`` (the bearer token's client), ``partner`` (the
service partner's id), ``tenant`` (the insurance company's id), ``user`` (a signed-in
claims handler's e-mail), ``files`` (how many files the request stored).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request


def note(request: Request, **fields: Any) -> None:
    """Attach ``fields`` to the request (``None`` values are left out)."""
    state = request.scope.setdefault("state", {})
    for name, value in fields.items():
        if value is not None:
            state[name] = value
