"""``sealbook fees``: a user's fee settings."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from sealbook.cli.common import HomeOpt, JsonOpt, context, emit
from sealbook.exchange.accounts import AccountService
from sealbook.exchange.inbox import submit_command
from sealbook.markets import default_catalog

__all__ = ["app"]

app = typer.Typer(help="Fee settings.", no_args_is_help=True)


class Switch(StrEnum):
    ON = "on"
    OFF = "off"


@app.command("bgb")
def bgb(
    state: Annotated[
        Switch, typer.Argument(metavar="on|off", help="on: pay spot fees in BGB (20 % off)")
    ],
    user: Annotated[str, typer.Option("--user", help="The user's name")],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Turn paying spot fees in BGB on or off for a user."""
    with context(home) as ctx:
        user_id = AccountService(ctx).get(user).id
        payload = {"user_id": user_id, "on": state is Switch.ON}
        result = submit_command(
            ctx.engine, ctx.settings.home, default_catalog(), "bgb", payload, ctx.clock.now_ms()
        )
    emit(
        {"user": user, "bgbDeduct": result["deduct"]},
        as_json,
        lambda d: f"paying fees in BGB is {d['bgbDeduct']} for {d['user']}",
    )
