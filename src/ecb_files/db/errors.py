"""Where the database driver is met: its outages become the project's ``DatabaseUnavailable``.

Every engine the project makes has ``raise_unavailable`` listening for errors, so a
refused connection, a lost one, or a database locked for too long reaches the use cases,
the HTTP layer and the command line as ``DatabaseUnavailable`` (503 with ``Retry-After``
over HTTP, exit 1 on the command line) and never as a driver exception. A pool that
lends no connection in time (not a driver error) is translated by ``unavailable_on_pool_timeout``
around each unit of work. Constraint violations and programming errors pass through:
they are not outages.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event, exc
from sqlalchemy.engine import URL, ExceptionContext, make_url

from ecb_files.errors import DatabaseUnavailable

_OUTAGES = (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError)


def translate_outages(engine: Engine) -> None:
    """Install ``raise_unavailable`` on ``engine``."""
    event.listen(engine, "handle_error", raise_unavailable)


def raise_unavailable(context: ExceptionContext) -> None:
    """The ``handle_error`` hook: an outage is re-raised as ``DatabaseUnavailable``."""
    error = context.sqlalchemy_exception
    if context.is_disconnect or isinstance(error, _OUTAGES):
        raise unavailable(context.engine, context.original_exception)


@contextmanager
def unavailable_on_pool_timeout(engine: Engine) -> Iterator[None]:
    try:
        yield
    except exc.TimeoutError as error:
        raise unavailable(engine, error) from error


def unavailable(engine: Engine | None, cause: BaseException) -> DatabaseUnavailable:
    """``DatabaseUnavailable`` naming the database (password masked) and the driver's reason."""
    lines = str(cause).strip().splitlines()
    reason = lines[0] if lines else type(cause).__name__
    where = "" if engine is None else f" {safe_url(engine.url)}"
    error = DatabaseUnavailable(f"cannot use the database{where}: {reason}")
    error.__cause__ = cause
    return error


def safe_url(url: str | URL) -> str:
    """``url`` for messages and logs, with any password masked."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)
