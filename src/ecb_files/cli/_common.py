"""What every operator command shares: settings, a migrated database, errors → exit codes.

Exit codes: 0 success; 1 the operation failed (not found, conflict, database or storage
unavailable, corrupt blob, cannot write the output); 2 bad usage or bad input (click's
usage errors, a malformed GUID, an invalid fixture or configuration value).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import click

from ecb_files.config import ConfigError, Settings
from ecb_files.db import Database
from ecb_files.domain.rules import is_guid
from ecb_files.errors import DatabaseUnavailable, StorageError
from ecb_files.services.container import OperatorServices, Services
from ecb_files.services.errors import BlobIntegrityError, ConflictError, NotFoundError
from ecb_files.services.fixtures import FixtureError
from ecb_files.storage import BlobStore

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


class BadInput(click.ClickException):
    """Bad input that is not a command-line usage error (no usage text is printed)."""

    exit_code = EXIT_BAD_INPUT


def to_guid(_ctx: click.Context, param: click.Parameter, value: str | None) -> uuid.UUID | None:
    """Click callback: a GUID argument or option (``8-4-4-4-12`` hex digits, any case)."""
    if value is None:
        return None
    if not is_guid(value):
        raise click.BadParameter(
            f"{value!r} is not a GUID (expected 8-4-4-4-12 hex digits)", param=param
        )
    return uuid.UUID(value)


@dataclass
class Runtime:
    """The operator's services (``Services.for_operator``), as a command uses them."""

    services: OperatorServices

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def database(self) -> Database:
        return self.services.database

    def store(self) -> BlobStore:
        try:
            return self.services.store()
        except ValueError as error:
            raise BadInput(str(error)) from None


@contextmanager
def runtime() -> Iterator[Runtime]:
    """Settings from the environment and a database migrated to the newest schema.

    Every expected failure inside the block becomes a one-line message and its exit code.
    """
    with operator_errors():
        try:
            settings = Settings.from_env()
        except ConfigError as error:
            raise BadInput(str(error)) from None
        services = Services.for_operator(settings)
        try:
            yield Runtime(services)
        finally:
            services.close()


# The one table of exit codes for expected failures, first match wins. Each becomes a
# one-line message, without a stack trace.
EXIT_CODES: tuple[tuple[type[Exception], int], ...] = (
    (FixtureError, EXIT_BAD_INPUT),
    (NotFoundError, EXIT_FAILED),
    (ConflictError, EXIT_FAILED),
    (BlobIntegrityError, EXIT_FAILED),
    (DatabaseUnavailable, EXIT_FAILED),
    (StorageError, EXIT_FAILED),
)


class OperatorError(click.ClickException):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        # click declares exit_code on the class; each instance carries its own here.
        self.exit_code = exit_code  # type: ignore[misc]


@contextmanager
def operator_errors() -> Iterator[None]:
    """Expected failures as their exit code and a one-line message (``EXIT_CODES``)."""
    try:
        yield
    except tuple(kind for kind, _ in EXIT_CODES) as error:
        code = next(code for kind, code in EXIT_CODES if isinstance(error, kind))
        raise OperatorError(_message(error), code) from None


def _message(error: Exception) -> str:
    if isinstance(error, DatabaseUnavailable):
        return error.detail
    if isinstance(error, StorageError):
        return f"file storage: {error.description}"
    return str(error)
