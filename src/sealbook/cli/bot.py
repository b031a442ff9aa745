"""``sealbook bot grid|arb``: trading bots on trade-only keys from the credential vault.

Events go to stdout as JSON lines with ``--json``; otherwise a live panel is drawn.
Messages for people (the key's permissions, errors) go to stderr.
"""

from __future__ import annotations

import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer

from sealbook.client.errors import ClientError

app = typer.Typer(help="Grid and arbitrage bots (trade-only keys).", no_args_is_help=True)

CredsOpt = Annotated[list[str], typer.Option("--creds", help="Credential name in the vault")]
StateOpt = Annotated[
    Path | None,
    typer.Option("--state", help="State file (SQLite) [default: under $SEALBOOK_CLIENT_HOME/bots]"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Emit events as JSON lines, no panel")]
AllowWithdrawOpt = Annotated[
    bool,
    typer.Option("--allow-withdraw-key", help="Run even with a key that can withdraw funds"),
]
IntervalOpt = Annotated[float, typer.Option("--interval", min=0.05, help="Seconds between ticks")]
TicksOpt = Annotated[int, typer.Option("--ticks", min=0, help="Stop after N ticks (0: run on)")]


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _decimal(text: str | None, flag: str) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ClientError(f"{flag} {text!r} is not a number") from None
    if not value.is_finite():
        raise ClientError(f"{flag} {text!r} is not a number")
    return value


def _required(text: str, flag: str) -> Decimal:
    value = _decimal(text, flag)
    assert value is not None
    return value


def _connect(
    name: str, *, dry_run: bool, allow_withdraw: bool, tool: str
) -> tuple[Any, str]:
    """The vault's credential ``name`` as a ccxt exchange, its rights checked and shown;
    returns the exchange and the rights in words."""

    from sealbook.client.connect import connect
    from sealbook.client.keyinfo import fetch_rights, refuse_withdraw
    from sealbook.client.vault import load_credentials

    cred = load_credentials([name])[0]
    extra: dict[str, Any] = {}
    if cred.exchange == "bitget":  # spot only: skip the six futures catalogues
        extra["options"] = {"fetchMarkets": {"types": ["spot"]}}
    exchange = connect(cred, **extra)
    rights = fetch_rights(exchange, attempts=6)
    typer.echo(f"{name} ({cred.masked_key()}): key permissions: {rights.describe()}", err=True)
    refuse_withdraw(rights, allow=allow_withdraw, tool=tool)
    if not rights.can_trade and not dry_run:
        raise ClientError(f"the key of {name!r} cannot trade; {tool} needs spot trade permission")
    return exchange, rights.describe()


def _state_path(given: Path | None, kind: str, names: list[str], symbol: str) -> Path:
    if given is not None:
        return given
    from sealbook.client.vault import default_client_home

    slug = re.sub(r"[^A-Za-z0-9]+", "-", "-".join([kind, *names, symbol])).strip("-").lower()
    return default_client_home() / "bots" / f"{slug}.sqlite"


@contextmanager
def _refusals() -> Iterator[None]:
    """An error the bot cannot wait out (a revoked key, a refused request) ends the
    command with a short message; ccxt's messages carry the URL and the reply, no secret."""
    import ccxt

    try:
        yield
    except ClientError as error:
        raise _fail(str(error)) from None
    except ccxt.BaseError as error:
        raise _fail(f"the exchange refused: {type(error).__name__}: {str(error)[:200]}") from None


@contextmanager
def _stop_flag() -> Iterator[Callable[[], bool]]:
    """SIGINT / SIGTERM ask the bot to stop after its current step."""
    stop = threading.Event()
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: object) -> None:
        stop.set()

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield stop.is_set
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _counting(should_stop: Callable[[], bool], ticks: int) -> tuple[Callable[[], bool],
                                                                     Callable[[], None]]:
    done = [0]

    def stop() -> bool:
        return should_stop() or (ticks > 0 and done[0] >= ticks)

    def count() -> None:
        done[0] += 1

    return stop, count


@app.command("grid")
def grid(
    creds: CredsOpt,
    symbol: Annotated[str, typer.Option("--symbol", help="e.g. BTC/USDT")],
    lower: Annotated[str, typer.Option("--lower", help="Lowest grid price")],
    upper: Annotated[str, typer.Option("--upper", help="Highest grid price")],
    grids: Annotated[int, typer.Option("--grids", help="Number of grid cells (2-200)")],
    investment: Annotated[str, typer.Option("--investment", help="Quote coin to put in")],
    mode: Annotated[str, typer.Option("--mode", help="arithmetic | geometric")] = "arithmetic",
    stop_loss: Annotated[str | None, typer.Option("--stop-loss", help="Close out at or below")]
    = None,
    take_profit: Annotated[
        str | None, typer.Option("--take-profit", help="Close out at or above")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Simulate; send no order")] = False,
    state: StateOpt = None,
    json_out: JsonOpt = False,
    allow_withdraw_key: AllowWithdrawOpt = False,
    interval: IntervalOpt = 1.0,
    ticks: TicksOpt = 0,
) -> None:
    """Run a grid bot: buy low and sell high between --lower and --upper."""
    from sealbook.client.bots.events import Events
    from sealbook.client.bots.grid import GridMode, GridSpec
    from sealbook.client.bots.gridbot import GridBot
    from sealbook.client.bots.state import BotState

    with _refusals():
        if len(creds) != 1:
            raise ClientError("the grid bot takes exactly one --creds")
        if mode not in {m.value for m in GridMode}:
            raise ClientError("--mode must be arithmetic or geometric")
        spec = GridSpec(
            lower=_required(lower, "--lower"),
            upper=_required(upper, "--upper"),
            grids=grids,
            mode=GridMode(mode),
            investment=_required(investment, "--investment"),
            stop_loss=_decimal(stop_loss, "--stop-loss"),
            take_profit=_decimal(take_profit, "--take-profit"),
        )
        spec.check()  # before any network call
        if dry_run and state is not None:
            raise ClientError("a dry run keeps its state in memory; drop --state")
        exchange, rights = _connect(creds[0], dry_run=dry_run,
                                    allow_withdraw=allow_withdraw_key, tool="the grid bot")
        venue: Any
        if dry_run:
            from sealbook.client.bots.dryrun import DryRunVenue

            venue = DryRunVenue(exchange, symbol, creds[0])
            path: Path | str = ":memory:"
        else:
            from sealbook.client.bots.venue import LiveVenue

            venue = LiveVenue(exchange, symbol, creds[0])
            path = _state_path(state, "grid", creds, symbol)
        events = Events(sys.stdout if json_out else None)
        events.emit("key", creds=creds[0], permissions=rights)
        bot = GridBot(venue, spec, BotState(path), events)
        bot.start()
    if not json_out:
        typer.echo(f"state: {path}", err=True)
    with _stop_flag() as should_stop, _refusals():
        stop, count = _counting(should_stop, ticks)
        if json_out:
            bot.run(stop, interval_s=interval, on_tick=lambda _b: count())
        else:
            from rich.live import Live

            from sealbook.client.bots.panel import grid_panel

            with Live(grid_panel(bot.status(), events, dry_run=dry_run), auto_refresh=False,
                      transient=False) as live:

                def draw(b: GridBot) -> None:
                    count()
                    live.update(grid_panel(b.status(), events, dry_run=dry_run), refresh=True)

                bot.run(stop, interval_s=interval, on_tick=draw)
    s = bot.status()
    events.emit("stopped", phase=s.phase, realised=s.realised, unrealised=s.unrealised,
                pairs=s.pairs, open_orders=s.open_orders)
    if not json_out:
        typer.echo(f"stopped: realised {s.realised} {bot.market.quote}, unrealised "
                   f"{s.unrealised}, {s.open_orders} orders left resting", err=True)


@app.command("arb")
def arb(
    creds: CredsOpt,
    symbol: Annotated[str, typer.Option("--symbol", help="e.g. ETH/USDT")],
    min_edge: Annotated[str, typer.Option("--min-edge", help="e.g. 0.3% (beyond both fees)")],
    max_position: Annotated[
        str, typer.Option("--max-position", help="Base coin inventory limit per exchange")
    ],
    state: StateOpt = None,
    json_out: JsonOpt = False,
    allow_withdraw_key: AllowWithdrawOpt = False,
    interval: IntervalOpt = 1.0,
    ticks: TicksOpt = 0,
) -> None:
    """Run an arbitrage bot between two exchanges (two --creds)."""
    from sealbook.client.bots.arb import ArbBot, ArbConfig, parse_edge
    from sealbook.client.bots.events import Events
    from sealbook.client.bots.state import BotState
    from sealbook.client.bots.venue import LiveVenue, Venue

    with _refusals():
        if len(creds) != 2 or creds[0] == creds[1]:
            raise ClientError("the arbitrage bot takes two different --creds")
        config = ArbConfig(symbol, parse_edge(min_edge), _required(max_position, "--max-position"))
        config.check()
        venues: dict[str, Venue] = {}
        rights: dict[str, str] = {}
        for name in creds:
            exchange, rights[name] = _connect(name, dry_run=False,
                                              allow_withdraw=allow_withdraw_key,
                                              tool="the arbitrage bot")
            venues[name] = LiveVenue(exchange, symbol, name)
        path = _state_path(state, "arb", creds, symbol)
        events = Events(sys.stdout if json_out else None)
        for name, words in rights.items():
            events.emit("key", creds=name, permissions=words)
        bot = ArbBot(venues, config, BotState(path), events)
        bot.start()
    with _stop_flag() as should_stop, _refusals():
        stop, count = _counting(should_stop, ticks)
        if json_out:
            bot.run(stop, interval_s=interval, on_tick=lambda _b: count())
        else:
            from rich.live import Live

            from sealbook.client.bots.panel import arb_panel

            with Live(arb_panel(bot.status(), events), auto_refresh=False) as live:

                def draw(b: ArbBot) -> None:
                    count()
                    live.update(arb_panel(b.status(), events), refresh=True)

                bot.run(stop, interval_s=interval, on_tick=draw)
    s = bot.status()
    events.emit("stopped", rounds=s.rounds, realised=s.realised,
                positions={k: str(v) for k, v in s.positions.items()})
