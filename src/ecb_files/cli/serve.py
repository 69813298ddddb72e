"""``ecb-files serve``: migrate once, then run the API under uvicorn."""

from __future__ import annotations

import contextlib
import logging
import logging.config
import os
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import click
import uvicorn

from ecb_files.cli._common import listen_options
from ecb_files.cli.demo import load_demo
from ecb_files.config import (
    LOOPBACK_FOR_ANY_ADDRESS,
    PUBLIC_URL_VARIABLE,
    Settings,
    public_url_for,
)
from ecb_files.services.container import Services
from ecb_files.services.metrics import MULTIPROC_VARIABLE, fresh_multiprocess_dir


@click.command()
@listen_options(
    host_help="Address to listen on; 0.0.0.0 for every IPv4 address.",
    port_help="Port to listen on (not 0: the public URL names the port).",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes; they share the database and the storage.",
)
@click.option(
    "--demo",
    is_flag=True,
    help="First load the demo data and print curl commands for this server (./dev serve).",
)
def serve(host: str, port: int, workers: int, demo: bool) -> None:
    """Run the API (creates or migrates the database first).

    The public URL — the issuer, and the base of the token endpoint that client
    assertions name — is ECB_FILES_PUBLIC_URL when set, else where the server listens:
    http://HOST:PORT, with 127.0.0.1 for 0.0.0.0 (set ECB_FILES_PUBLIC_URL for clients
    on other machines, or behind a proxy).

    Example: ecb-files serve --host 0.0.0.0 --port 8080 --workers 2
    """
    configured = bool(os.environ.get(PUBLIC_URL_VARIABLE, "").strip())
    public_url = public_url_for(os.environ, host, port)
    # Each worker builds its settings from the environment (api/asgi.py), so that is where
    # the chosen URL goes, before any worker starts.
    os.environ[PUBLIC_URL_VARIABLE] = public_url
    settings = Settings.from_env()
    with _shared_metrics(settings, workers):
        # Migrate and make the signing key once, before any worker starts.
        Services.build(settings).close()
        _run(settings, host, port, workers, demo=demo, configured=configured)


def _run(
    settings: Settings, host: str, port: int, workers: int, *, demo: bool, configured: bool
) -> None:
    if demo:
        load_demo(settings.public_url)
    address = f"[{host}]" if ":" in host else host
    log_config = _log_config(settings)
    say = _announcer(log_config)
    say(
        f"ecb-files on http://{address}:{port} (issuer {settings.issuer}); "
        f"data in {settings.data_dir.resolve()}"
    )
    if host in LOOPBACK_FOR_ANY_ADDRESS and not configured:
        say(
            f"{PUBLIC_URL_VARIABLE} is not set: tokens and discovery name {settings.issuer}; "
            "for clients on other machines set it to the URL they use."
        )
    uvicorn.run(
        "ecb_files.api.asgi:app_from_env",
        factory=True,
        # Malformed HTTP is answered in the JSON envelope (api/http_protocol.py).
        http="ecb_files.api.http_protocol:EnvelopeHttpToolsProtocol",
        # No endpoint is a WebSocket: an Upgrade is an ordinary request, answered by
        # the service (with the envelope and a request id), not uvicorn's bare 403.
        ws="none",
        host=host,
        port=port,
        workers=workers,
        server_header=False,
        # Who the client is behind a proxy is decided by ECB_FILES_TRUSTED_PROXIES
        # (api/client_address.py), not by uvicorn trusting X-Forwarded-For from 127.0.0.1.
        proxy_headers=False,
        date_header=True,
        timeout_graceful_shutdown=30,
        log_level="info",
        # The service writes its own access log, with request ids (api/access_log.py).
        access_log=False,
        **log_config,
    )


def _announcer(log_config: dict[str, Any]) -> Callable[[str], None]:
    """How ``serve`` says what it does on stderr: a plain line, or (JSON logs) a record
    through the same configuration as uvicorn's, so every line is one JSON object."""
    if not log_config:
        return partial(click.echo, err=True)
    logging.config.dictConfig(log_config["log_config"])
    return logging.getLogger("ecb_files.serve").info


@contextlib.contextmanager
def _shared_metrics(settings: Settings, workers: int) -> Iterator[Path | None]:
    """Where the worker processes add up their metrics (services/metrics.py): a fresh
    directory for this run, named to the workers by ``PROMETHEUS_MULTIPROC_DIR`` (they
    start from this environment). One process with none configured needs none."""
    configured = os.environ.get(MULTIPROC_VARIABLE, "").strip() or None
    if not settings.metrics or (workers == 1 and configured is None):
        yield None
        return
    with fresh_multiprocess_dir(configured) as directory:
        os.environ[MULTIPROC_VARIABLE] = str(directory)
        yield directory


def _log_config(settings: Settings) -> dict[str, Any]:
    """``ECB_FILES_LOG_FORMAT=json``: uvicorn's and the service's log records as JSON
    lines too, like the access log (§12.3); ``text``: uvicorn's own configuration."""
    if settings.log_format != "json":
        return {}
    handler = {"handlers": ["stderr"], "propagate": False}
    return {
        "log_config": {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"json": {"()": "ecb_files.api.access_log.JsonFormatter"}},
            "handlers": {
                "stderr": {
                    "class": "logging.StreamHandler",
                    "formatter": "json",
                    "stream": "ext://sys.stderr",
                }
            },
            "loggers": {
                "uvicorn": {**handler, "level": "INFO"},
                "ecb_files": {**handler, "level": "WARNING"},
                "ecb_files.serve": {**handler, "level": "INFO"},
            },
        }
    }
