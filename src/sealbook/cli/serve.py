"""``sealbook serve``: run the exchange API."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
import uvicorn

from sealbook.api.app import create_app
from sealbook.cli.common import HomeOpt, context


def serve(
    demo: Annotated[
        bool, typer.Option("--demo", help="Create a master key under --home if missing")
    ] = False,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log")] = False,
    home: HomeOpt = None,
) -> None:
    """Serve the Bitget-compatible API (OpenAPI docs at /docs)."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    with context(home, create_master_key=demo) as ctx:
        app = create_app(ctx)
        typer.echo(f"Sealbook listening on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
        typer.echo(
            f"home: {ctx.settings.home.resolve()}  database: {ctx.engine.url.render_as_string()}"
        )
        uvicorn.run(
            app, host=host, port=port, access_log=access_log, log_level="info", lifespan="on"
        )
