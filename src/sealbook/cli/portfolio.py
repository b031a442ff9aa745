"""``sealbook portfolio``: net worth, allocation and PnL across every stored account.

Exit status: 0 when every account was read, 3 when some failed (the rest are shown and
the failures named with their reason), 1 when none could be read.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from sealbook.cli.common import JsonOpt, emit, fail, fmt_ms
from sealbook.client.errors import ClientError
from sealbook.client.portfolio import AccountData, Portfolio, SnapshotStore, build_portfolio
from sealbook.client.portfolio.chart import render_chart
from sealbook.client.portfolio.fetch import fetch_accounts
from sealbook.client.portfolio.report import pct, usd
from sealbook.client.vault import default_client_home, load_credentials

app = typer.Typer(
    help="Net worth, allocation and PnL across your accounts (read-only keys suffice).",
    invoke_without_command=True,
)

ChartOpt = Annotated[
    Path | None,
    typer.Option("--chart", help="Write net worth over time and allocation: .png or .html"),
]


def _console(err: bool = False) -> Console:
    stream = sys.stderr if err else sys.stdout
    # Off a terminal rich would fold tables to 80 columns; numbers must stay whole.
    return Console(file=stream, width=None if stream.isatty() else 160, soft_wrap=False)


@contextmanager
def _progress(total: int) -> Iterator[Callable[[AccountData], None]]:
    """Progress on stderr while accounts are read, when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield lambda _data: None
        return
    columns = (
        TextColumn("reading accounts"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
    )
    with Progress(*columns, console=_console(err=True), transient=True) as progress:
        task = progress.add_task("accounts", total=total)
        yield lambda _data: progress.advance(task)


def _table(portfolio: Portfolio) -> None:
    console = _console()
    worth = portfolio.net_worth
    accounts = Table(title="Accounts")
    headings = ("account", "exchange", "value USDT", "share %", "realised", "unrealised", "notes")
    for column in headings:
        accounts.add_column(column, justify="right" if column[0] in "vsru" else "left")
    for a in portfolio.accounts:
        if a.error is not None:
            accounts.add_row(a.name, a.exchange, "-", "-", "-", "-", f"FAILED: {a.error}")
            continue
        notes = [f"unpriced: {', '.join(a.unpriced)}"] if a.unpriced else []
        notes += [f"no cost basis: {', '.join(sorted(a.no_basis))}"] if a.no_basis else []
        notes += ["fills valued at today's prices"] if a.approximate else []
        notes += [f"fills: {a.fills_error}"] if a.fills_error else []
        accounts.add_row(a.name, a.exchange, usd(a.value), pct(a.value, worth), usd(a.realised),
                         usd(a.unrealised), "; ".join(notes))
    assets = Table(title="Allocation by asset")
    for column in ("asset", "value USDT", "share %"):
        assets.add_column(column, justify="left" if column == "asset" else "right")
    for asset, value in portfolio.by_asset().items():
        assets.add_row(asset, usd(value), pct(value, worth))
    console.print(accounts)
    console.print(assets)
    console.print(
        f"Net worth {usd(worth)} USDT   realised PnL {usd(portfolio.realised)}   "
        f"unrealised PnL {usd(portfolio.unrealised)}"
    )


@app.callback()
def portfolio(
    ctx: typer.Context,
    creds: Annotated[
        list[str] | None, typer.Option("--creds", help="Only these credentials (repeat)")
    ] = None,
    as_json: JsonOpt = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print one CSV row per holding")] = False,
    chart: ChartOpt = None,
    no_snapshot: Annotated[
        bool, typer.Option("--no-snapshot", help="Do not record this reading in the history")
    ] = False,
) -> None:
    """Read every stored account concurrently and value it in USDT."""
    if ctx.invoked_subcommand is not None:
        return
    if chart is not None and chart.suffix.lower() not in (".png", ".html"):
        fail(f"--chart wants a .png or .html file, not {chart.name!r}")
    try:
        credentials = load_credentials(creds or ())
    except ClientError as error:
        fail(str(error))
    if not credentials:
        fail("no credentials: add one with `sealbook creds add NAME` or SEALBOOK_CREDS_* variables")
    with _progress(len(credentials)) as done:
        accounts = fetch_accounts(credentials, done)
    result = build_portfolio(accounts, int(time.time() * 1000))
    store = SnapshotStore(default_client_home())
    if not no_snapshot and result.ok:
        store.record(result)
    if as_json:
        emit(result.as_dict(), True, str)
    elif as_csv:
        typer.echo(result.to_csv(), nl=False)
    else:
        _table(result)
    for account in result.accounts:
        if account.error is not None:
            typer.echo(f"warning: account {account.name} failed: {account.error}", err=True)
    if chart is not None:
        try:
            render_chart(chart, store.history() or [], result.by_asset())
        except ClientError as error:
            fail(str(error))
    if not result.ok:
        raise typer.Exit(1)
    if len(result.ok) < len(result.accounts):
        raise typer.Exit(3)


@app.command("history")
def history(
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Newest N only")] = None,
    as_json: JsonOpt = False,
    chart: ChartOpt = None,
) -> None:
    """Net worth over time, from the snapshots each `sealbook portfolio` run recorded."""
    snapshots = SnapshotStore(default_client_home()).history(limit)
    if chart is not None:
        try:
            render_chart(chart, snapshots, snapshots[-1].by_asset if snapshots else {})
        except ClientError as error:
            fail(str(error))
    emit([s.as_dict() for s in snapshots], as_json, _history_text)


def _history_text(rows: list[dict[str, object]]) -> str:
    if not rows:
        return "no snapshots yet: run `sealbook portfolio`"
    lines = [f"{'TIME':<21} {'NET WORTH USDT':>22} {'REALISED':>18} {'UNREALISED':>18}  FAILED"]
    for row in rows:
        failed = row["failed"]
        lines.append(
            f"{fmt_ms(int(str(row['time']))):<21} {row['netWorth']!s:>22} "
            f"{row['realisedPnl']!s:>18} {row['unrealisedPnl']!s:>18}  "
            f"{', '.join(failed) if isinstance(failed, list) else ''}"
        )
    return "\n".join(lines)

