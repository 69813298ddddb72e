"""``ecb-files serve``: migrate once, then run the API under uvicorn."""

from __future__ import annotations

import click
import uvicorn

from ecb_files.config import Settings
from ecb_files.services.container import Services


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes; they share the database and the storage.",
)
def serve(host: str, port: int, workers: int) -> None:
    """Run the API (creates or migrates the database first).

    Example: ecb-files serve --host 0.0.0.0 --port 8080 --workers 2
    """
    settings = Settings.from_env()
    # Migrate and make the signing key once, before any worker starts.
    Services.build(settings).close()
    click.echo(
        f"ecb-files on http://{host}:{port} (issuer {settings.issuer}); "
        f"data in {settings.data_dir.resolve()}",
        err=True,
    )
    uvicorn.run(
        "ecb_files.api.asgi:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        server_header=False,
        date_header=True,
        timeout_graceful_shutdown=30,
        log_level="info",
        # The service writes its own access log, with request ids (api/access_log.py).
        access_log=False,
    )
