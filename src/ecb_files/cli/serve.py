"""``ecb-files serve``: migrate once, then run the API under uvicorn."""

from __future__ import annotations

import os

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
    # Migrate and make the signing key once, before any worker starts.
    Services.build(settings).close()
    if demo:
        load_demo(settings.public_url)
    address = f"[{host}]" if ":" in host else host
    click.echo(
        f"ecb-files on http://{address}:{port} (issuer {settings.issuer}); "
        f"data in {settings.data_dir.resolve()}",
        err=True,
    )
    if host in LOOPBACK_FOR_ANY_ADDRESS and not configured:
        click.echo(
            f"{PUBLIC_URL_VARIABLE} is not set: tokens and discovery name {settings.issuer}; "
            "for clients on other machines set it to the URL they use.",
            err=True,
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
    )
