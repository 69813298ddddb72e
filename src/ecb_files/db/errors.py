"""Database failures that mean "the database is not there right now", told apart from bugs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc

from ecb_files.errors import ServiceUnavailable

_UNAVAILABLE = (
    exc.OperationalError,  # connection refused or lost, server shutting down, locked too long
    exc.InterfaceError,
    exc.DisconnectionError,
    exc.TimeoutError,  # no pooled connection came free in time
)


@contextmanager
def database_unavailable_as_503() -> Iterator[None]:
    """Turn a database outage into ``ServiceUnavailable`` (503 with ``Retry-After``)."""
    try:
        yield
    except _UNAVAILABLE as error:
        raise ServiceUnavailable(
            f"the database is unavailable ({type(error).__name__}); retry later",
            reason="database_unavailable",
        ) from error
