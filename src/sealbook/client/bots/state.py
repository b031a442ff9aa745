"""A bot's memory: one SQLite file, keyed by client order ids.

Every order is written here as an *intent* (its client order id chosen and committed)
before it is sent. After a crash, each intent is either found on the exchange by that id
or sent again under the same id, so an order is never placed twice. Money is stored as
decimal strings (TEXT), never REAL.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sealbook.client.bots.pnl import FillTotals
from sealbook.client.bots.venue import Fill
from sealbook.client.errors import ClientError

__all__ = ["BotState", "Pair", "StoredOrder"]

LIVE = ("intent", "open")  # orders that are, or may be, on the exchange

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    client_oid TEXT PRIMARY KEY,
    venue TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL,           -- grid | seed | close | arb
    cell INTEGER NOT NULL,        -- grid cell, or arbitrage round
    level INTEGER NOT NULL,       -- grid level (-1 when none)
    side TEXT NOT NULL,
    price TEXT,                   -- NULL: market order
    amount TEXT NOT NULL,
    ioc INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,         -- intent | open | filled | cancelled | rejected
    order_id TEXT NOT NULL DEFAULT '',
    created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_status ON orders (status);
CREATE INDEX IF NOT EXISTS orders_order_id ON orders (venue, order_id);
CREATE TABLE IF NOT EXISTS fills (
    venue TEXT NOT NULL DEFAULT '',
    trade_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    client_oid TEXT NOT NULL,
    side TEXT NOT NULL,
    price TEXT NOT NULL,
    amount TEXT NOT NULL,
    fee TEXT NOT NULL,
    fee_coin TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    PRIMARY KEY (venue, trade_id)
);
CREATE INDEX IF NOT EXISTS fills_client_oid ON fills (client_oid);
-- Running sums over fills (FillTotals), kept with each new fill: the position of a bot
-- that has run for months is read in one query, not re-added from every fill.
CREATE TABLE IF NOT EXISTS fill_totals (
    venue TEXT NOT NULL,
    name TEXT NOT NULL,           -- buy_amount | buy_quote | sell_amount | sell_quote | fee:COIN
    value TEXT NOT NULL,
    PRIMARY KEY (venue, name)
);
CREATE TABLE IF NOT EXISTS pairs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cell INTEGER NOT NULL,
    first_oid TEXT NOT NULL,
    second_oid TEXT NOT NULL,
    profit TEXT NOT NULL,
    ts_ms INTEGER NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class StoredOrder:
    client_oid: str
    venue: str
    role: str
    cell: int
    level: int
    side: str
    price: Decimal | None
    amount: Decimal
    ioc: bool
    status: str
    order_id: str
    created_ms: int


@dataclass(frozen=True, slots=True)
class Pair:
    cell: int
    first_oid: str
    second_oid: str
    profit: Decimal


class BotState:
    """The SQLite file behind one bot (``:memory:`` for a dry run without ``--state``)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            # one bot, one thread at a time; the thread may not be the one that opened it
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")  # an intent must survive a crash
            self.db.executescript(_SCHEMA)
            self._backfill_totals()
        except sqlite3.Error as error:
            raise ClientError(f"cannot open the bot state {self.path}: {error}") from None

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- meta ------------------------------------------------------------------------------

    def get(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def get_json(self, key: str) -> Any:
        text = self.get(key)
        return None if text is None else json.loads(text)

    def put_json(self, key: str, value: Any) -> None:
        self.put(key, json.dumps(value, sort_keys=True))

    # --- orders ----------------------------------------------------------------------------

    def add_intent(
        self,
        client_oid: str,
        *,
        role: str,
        side: str,
        amount: Decimal,
        price: Decimal | None,
        now_ms: int,
        cell: int = -1,
        level: int = -1,
        venue: str = "",
        ioc: bool = False,
    ) -> StoredOrder:
        """Record an order before it is sent (committed at once)."""
        self.db.execute(
            "INSERT INTO orders (client_oid, venue, role, cell, level, side, price, amount, "
            "ioc, status, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'intent', ?)",
            (
                client_oid, venue, role, cell, level, side,
                None if price is None else str(price), str(amount), int(ioc), now_ms,
            ),
        )
        order = self.order(client_oid)
        assert order is not None
        return order

    def set_status(self, client_oid: str, status: str, order_id: str = "") -> None:
        if order_id:
            self.db.execute(
                "UPDATE orders SET status = ?, order_id = ? WHERE client_oid = ?",
                (status, order_id, client_oid),
            )
        else:
            self.db.execute(
                "UPDATE orders SET status = ? WHERE client_oid = ?", (status, client_oid)
            )

    def order(self, client_oid: str) -> StoredOrder | None:
        row = self.db.execute(
            f"SELECT {_ORDER_COLS} FROM orders WHERE client_oid = ?", (client_oid,)  # noqa: S608
        ).fetchone()
        return None if row is None else _order(row)

    def orders(self, *statuses: str, venue: str | None = None) -> list[StoredOrder]:
        query = f"SELECT {_ORDER_COLS} FROM orders"  # noqa: S608
        clauses: list[str] = []
        args: list[Any] = []
        if statuses:
            clauses.append(f"status IN ({','.join('?' * len(statuses))})")
            args += statuses
        if venue is not None:
            clauses.append("venue = ?")
            args.append(venue)
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        rows = self.db.execute(query + " ORDER BY created_ms, client_oid", args).fetchall()
        return [_order(r) for r in rows]

    def count_role(self, role: str, cell: int) -> int:
        row = self.db.execute(
            "SELECT COUNT(*) FROM orders WHERE role = ? AND cell = ?", (role, cell)
        ).fetchone()
        return int(row[0])

    # --- fills -----------------------------------------------------------------------------

    def add_fill(self, fill: Fill, client_oid: str, venue: str = "") -> bool:
        """Record a fill of one of our orders; False when it was known already."""
        cur = self.db.execute(
            "INSERT OR IGNORE INTO fills (venue, trade_id, order_id, client_oid, side, price, "
            "amount, fee, fee_coin, ts_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                venue, fill.trade_id, fill.order_id, client_oid, fill.side, str(fill.price),
                str(fill.amount), str(fill.fee), fill.fee_coin, fill.ts_ms,
            ),
        )
        if cur.rowcount != 1:
            return False
        self._add_totals(venue, FillTotals.of([fill]))
        return True

    def client_oid_for(self, order_id: str, venue: str = "") -> str | None:
        """Which of our orders has the exchange's ``order_id`` (None: not ours)."""
        row = self.db.execute(
            "SELECT client_oid FROM orders WHERE venue = ? AND order_id = ?", (venue, order_id)
        ).fetchone()
        return None if row is None else str(row[0])

    def totals(self, venue: str | None = None) -> FillTotals:
        """Sums over every fill recorded (on one venue, or on all)."""
        query, args = "SELECT name, value FROM fill_totals", []
        if venue is not None:
            query, args = query + " WHERE venue = ?", [venue]
        totals = FillTotals()
        for name, value in self.db.execute(query, args).fetchall():
            amount = Decimal(value)
            if name.startswith("fee:"):
                coin = name[4:]
                totals.fees[coin] = totals.fees.get(coin, Decimal(0)) + amount
            else:
                setattr(totals, name, getattr(totals, name) + amount)
        return totals

    def _add_totals(self, venue: str, delta: FillTotals) -> None:
        items = [
            ("buy_amount", delta.buy_amount),
            ("buy_quote", delta.buy_quote),
            ("sell_amount", delta.sell_amount),
            ("sell_quote", delta.sell_quote),
            *((f"fee:{coin}", fee) for coin, fee in delta.fees.items()),
        ]
        for name, amount in items:
            if not amount:
                continue
            row = self.db.execute(
                "SELECT value FROM fill_totals WHERE venue = ? AND name = ?", (venue, name)
            ).fetchone()
            total = amount + (Decimal(row[0]) if row is not None else Decimal(0))
            self.db.execute(
                "INSERT OR REPLACE INTO fill_totals (venue, name, value) VALUES (?, ?, ?)",
                (venue, name, str(total)),
            )

    def _backfill_totals(self) -> None:
        """A state file written before the running sums existed gets them from its fills."""
        if self.db.execute("SELECT 1 FROM fill_totals LIMIT 1").fetchone() is not None:
            return
        venues = [r[0] for r in self.db.execute("SELECT DISTINCT venue FROM fills").fetchall()]
        if not venues:
            return
        with self.transaction():
            for venue in venues:
                self._add_totals(venue, FillTotals.of(self.fills(venue=venue)))

    def fills(self, client_oid: str | None = None, venue: str | None = None) -> list[Fill]:
        query = (
            "SELECT trade_id, order_id, side, price, amount, fee, fee_coin, ts_ms FROM fills"
        )
        clauses: list[str] = []
        args: list[Any] = []
        if client_oid is not None:
            clauses.append("client_oid = ?")
            args.append(client_oid)
        if venue is not None:
            clauses.append("venue = ?")
            args.append(venue)
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        rows = self.db.execute(query + " ORDER BY ts_ms, trade_id", args).fetchall()
        return [
            Fill(r[0], r[1], r[2], Decimal(r[3]), Decimal(r[4]), Decimal(r[5]), r[6], int(r[7]))
            for r in rows
        ]

    def filled_amount(self, client_oid: str) -> Decimal:
        return sum((f.amount for f in self.fills(client_oid)), Decimal(0))

    # --- pairs -----------------------------------------------------------------------------

    def add_pair(self, cell: int, first: str, second: str, profit: Decimal, now_ms: int) -> None:
        self.db.execute(
            "INSERT INTO pairs (cell, first_oid, second_oid, profit, ts_ms) VALUES (?, ?, ?, ?, ?)",
            (cell, first, second, str(profit), now_ms),
        )

    def pairs(self) -> list[Pair]:
        rows = self.db.execute(
            "SELECT cell, first_oid, second_oid, profit FROM pairs ORDER BY id"
        ).fetchall()
        return [Pair(int(r[0]), r[1], r[2], Decimal(r[3])) for r in rows]

    def pair_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM pairs").fetchone()[0])

    def fill_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM fills").fetchone()[0])

    def realised(self) -> Decimal:
        # Decimal, not SQL SUM: SQLite would add the TEXT amounts as floats.
        rows = self.db.execute("SELECT profit FROM pairs").fetchall()
        return sum((Decimal(r[0]) for r in rows), Decimal(0))


_ORDER_COLS = (
    "client_oid, venue, role, cell, level, side, price, amount, ioc, status, order_id, created_ms"
)


def _order(row: tuple[Any, ...]) -> StoredOrder:
    return StoredOrder(
        client_oid=row[0],
        venue=row[1],
        role=row[2],
        cell=int(row[3]),
        level=int(row[4]),
        side=row[5],
        price=None if row[6] is None else Decimal(row[6]),
        amount=Decimal(row[7]),
        ioc=bool(row[8]),
        status=row[9],
        order_id=row[10],
        created_ms=int(row[11]),
    )
