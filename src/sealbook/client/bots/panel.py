"""The live status panel (rich): price, grid levels, open orders, fills and profit."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from sealbook.client.bots.arb import ArbStatus
from sealbook.client.bots.events import Events
from sealbook.client.bots.gridbot import GridStatus

__all__ = ["arb_panel", "grid_panel"]


def _money(value: Decimal | None, places: int = 4) -> str:
    if value is None:
        return "—"
    return f"{value:,.{places}f}"


def _recent(events: Events) -> Table:
    table = Table(title="recent events", expand=True, show_edge=False)
    table.add_column("event")
    table.add_column("detail", overflow="fold")
    for e in list(events.recent)[-8:]:
        detail = " ".join(f"{k}={v}" for k, v in e.items() if k not in ("ts", "event"))
        table.add_row(str(e["event"]), detail[:120])
    return table


def grid_panel(s: GridStatus, events: Events, *, dry_run: bool = False) -> Panel:
    head = Table.grid(padding=(0, 2))
    head.add_row("price", _money(s.price, 8).rstrip("0").rstrip("."), "phase", s.phase)
    head.add_row("realised", _money(s.realised), "unrealised", _money(s.unrealised))
    head.add_row("fills", str(s.fills), "completed pairs", str(s.pairs))
    head.add_row("open orders", str(s.open_orders), "base held", _money(s.position, 8))
    if s.other_fees:
        head.add_row("fees in other coins",
                     ", ".join(f"{v} {k}" for k, v in s.other_fees.items()), "", "")
    levels = Table(title="grid", expand=True, show_edge=False)
    levels.add_column("level", justify="right")
    levels.add_column("price", justify="right")
    levels.add_column("order")
    for i in reversed(range(len(s.levels))):
        side = s.orders.get(i, "")
        marker = ""
        if s.price is not None and i + 1 < len(s.levels) and s.levels[i] <= s.price < s.levels[
                i + 1]:
            marker = "  ◀ price"
        style = "green" if side == "buy" else "red" if side == "sell" else "dim"
        levels.add_row(str(i), str(s.levels[i]), f"[{style}]{side or '·'}[/]{marker}")
    title = f"grid {s.symbol}" + ("  (DRY RUN: nothing is sent)" if dry_run else "")
    return Panel(Group(head, levels, _recent(events)), title=title)


def arb_panel(s: ArbStatus, events: Events) -> Panel:
    books = Table(title="books", expand=True, show_edge=False)
    for col in ("exchange", "bid", "ask", "inventory"):
        books.add_column(col, justify="right" if col != "exchange" else "left")
    for name, book in s.books.items():
        books.add_row(name, _money(book.bid, 8), _money(book.ask, 8),
                      _money(s.positions.get(name), 8))
    head = Table.grid(padding=(0, 2))
    head.add_row("rounds", str(s.rounds), "realised", _money(s.realised))
    for way, edge in s.last_edge.items():
        head.add_row(f"edge {way}", f"{edge * 100:.3f} %", "", "")
    return Panel(Group(head, books, _recent(events)), title=f"arbitrage {s.symbol}")
