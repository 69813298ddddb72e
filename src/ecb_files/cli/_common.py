"""What every operator command shares: settings, a migrated database, errors → exit codes.

Exit codes: 0 success; 1 the operation failed (not found, conflict, database or storage
unavailable, corrupt blob, cannot write the output); 2 bad usage or bad input (click's
usage errors, a malformed GUID, an invalid fixture, FNoL schema or configuration value).
"""

from __future__ import annotations

import getpass
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import click

from ecb_files.config import DEFAULT_HOST, DEFAULT_PORT, PUBLIC_URL_VARIABLE, ConfigError, Settings
from ecb_files.db import Database
from ecb_files.domain.fnol_schema import FnolSchemaError
from ecb_files.domain.rules import is_guid
from ecb_files.errors import DatabaseUnavailable, StorageError
from ecb_files.services.audit import Actor, Origin
from ecb_files.services.cases import Operator
from ecb_files.services.container import OperatorServices, Services
from ecb_files.services.errors import BlobIntegrityError, ConflictError, NotFoundError
from ecb_files.services.fixtures import FixtureError
from ecb_files.storage import BlobStore

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
MAX_PORT = 65535


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


def _fixed_port(_ctx: click.Context, param: click.Parameter, value: int) -> int:
    """Click callback: a port to listen on, 1-65535; 0 (an ephemeral port) is refused with
    the reason, since the public URL must name the port before the server starts."""
    if value == 0:
        raise click.BadParameter(
            "--port 0 (any free port) is not supported: the public URL, which is the issuer "
            f"and names the token endpoint ({PUBLIC_URL_VARIABLE}, by default where serve "
            "listens), must name the port before the server starts. Choose a port, "
            "e.g. --port 18080.",
            param=param,
        )
    if not 0 < value <= MAX_PORT:
        raise click.BadParameter(f"{value} is not a port (1-{MAX_PORT})", param=param)
    return value


_F = TypeVar("_F", bound=Callable[..., object])


def listen_options(host_help: str, port_help: str) -> Callable[[_F], _F]:
    """``--host`` and ``--port`` with ``serve``'s defaults; ``--port 0`` is refused."""

    def decorate(command: _F) -> _F:
        command = click.option(
            "--port",
            default=DEFAULT_PORT,
            show_default=True,
            type=int,
            callback=_fixed_port,
            help=port_help,
        )(command)
        return click.option("--host", default=DEFAULT_HOST, show_default=True, help=host_help)(
            command
        )

    return decorate


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

    @property
    def operator(self) -> Operator:
        """Who runs this command, for the audit trail (§12.3): the login name, from
        this host."""
        return Actor("operator", _login_name()), Origin(socket.gethostname() or "-", "-")

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


class Failed(click.ClickException):
    """The operation failed (not found, conflict, a dependency down): exit code 1."""

    exit_code = EXIT_FAILED


# The one table of expected failures and their exit codes, first match wins. Each
# becomes a one-line message, without a stack trace.
EXIT_CODES: tuple[tuple[type[Exception], type[click.ClickException]], ...] = (
    (FixtureError, BadInput),
    (FnolSchemaError, BadInput),
    (ConfigError, BadInput),
    (NotFoundError, Failed),
    (ConflictError, Failed),
    (BlobIntegrityError, Failed),
    (DatabaseUnavailable, Failed),
    (StorageError, Failed),
)


@contextmanager
def operator_errors() -> Iterator[None]:
    """Expected failures as their exit code and a one-line message (``EXIT_CODES``)."""
    try:
        yield
    except tuple(kind for kind, _ in EXIT_CODES) as error:
        outcome = next(code for kind, code in EXIT_CODES if isinstance(error, kind))
        raise outcome(_message(error)) from None


def _message(error: Exception) -> str:
    if isinstance(error, DatabaseUnavailable):
        return error.detail
    if isinstance(error, StorageError):
        return f"file storage: {error.description}"
    return str(error)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no name for this uid (a container's)
        return f"uid {os.getuid()}"
