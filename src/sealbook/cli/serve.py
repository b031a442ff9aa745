"""``sealbook serve``: run the exchange API."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
import uvicorn

from sealbook.api.app import create_app
from sealbook.cli.common import HomeOpt, context, fail
from sealbook.exchange.demo import MAKER_SYMBOLS, DemoCredentials, bootstrap_demo
from sealbook.exchange.inbox import writer_lock


def _demo_banner(c: DemoCredentials, host: str, port: int) -> str:
    base = f"http://{host}:{port}"
    funds = ", ".join(f"{amount} {coin}" for coin, amount in c.funds) or "none"
    return f"""
Demo account created. These credentials are shown ONCE; copy them now.
  user: {c.user}   password: {c.password}
  authenticator (TOTP) seed: {c.totp_seed}
  API key:    {c.api_key}
  secret key: {c.secret_key}
  passphrase: {c.passphrase}
  rights: read, spot_trade; IP allowlist: 127.0.0.1, ::1
  balances: {funds}

Web console: {base}/console (sign in with the user and password above; the TOTP
  seed goes into your authenticator app, and is also what `sealbook key ...` asks codes of).
A market maker keeps the {MAKER_SYMBOLS} largest USDT pairs liquid and moving.

Connect ccxt (pip install ccxt):
  import ccxt
  ex = ccxt.bitget({{"apiKey": "{c.api_key}", "secret": "{c.secret_key}",
                    "password": "{c.passphrase}"}})
  ex.urls["api"] = {{name: "{base}" for name in ex.urls["api"]}}
  print(ex.fetch_time(), ex.fetch_balance()["total"])
"""


def serve(
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Demo exchange: a master key under --home if missing, a funded demo user "
            "and key on first start, and a market maker on the largest pairs",
        ),
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
    with context(home, create_master_key=demo) as ctx, writer_lock(ctx.settings.home) as mine:
        if not mine:
            fail(f"another sealbook server is running on {ctx.settings.home}", 2)
        if demo:
            credentials = bootstrap_demo(ctx)
            if credentials is not None:
                typer.echo(_demo_banner(credentials, host, port))
            else:
                typer.echo(
                    "Demo mode: the demo account exists (its credentials were shown on first "
                    "start); the market maker is running."
                )
        app = create_app(ctx, demo=demo)
        typer.echo(f"Sealbook listening on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
        typer.echo(
            f"home: {ctx.settings.home.resolve()}  database: {ctx.engine.url.render_as_string()}"
        )
        # proxy_headers=False: uvicorn would otherwise believe X-Forwarded-For/-Proto from
        # 127.0.0.1; which proxies count is SEALBOOK_TRUSTED_PROXIES' call alone.
        uvicorn.run(
            app,
            host=host,
            port=port,
            access_log=access_log,
            log_level="info",
            lifespan="on",
            proxy_headers=False,
        )
