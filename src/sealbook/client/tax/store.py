"""The tax database: one SQLite file of what sync imported, and where each stream stopped.

Rows are keyed by the exchange's own ids (account + trade id, account + kind + record id),
so importing the same record twice changes nothing but its status. Amounts are decimal
strings exactly as the exchange sent them (never REAL). A checkpoint is the first
millisecond the next sync of a stream must read again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from decimal import Decimal
from pathlib import Path

__all__ = ["RateRow", "TaxStore", "TradeRow", "TransferRow"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS trades (
    account TEXT NOT NULL, trade_id TEXT NOT NULL, order_id TEXT NOT NULL,
    symbol TEXT NOT NULL, base TEXT NOT NULL, quote TEXT NOT NULL, side TEXT NOT NULL,
    amount TEXT NOT NULL, price TEXT NOT NULL, cost TEXT NOT NULL,
    fee_cost TEXT NOT NULL, fee_currency TEXT NOT NULL, ts INTEGER NOT NULL,
    PRIMARY KEY (account, trade_id)
);
CREATE TABLE IF NOT EXISTS transfers (
    account TEXT NOT NULL, kind TEXT NOT NULL, record_id TEXT NOT NULL, coin TEXT NOT NULL,
    amount TEXT NOT NULL, fee TEXT NOT NULL, status TEXT NOT NULL, txid TEXT NOT NULL,
    address TEXT NOT NULL, ts INTEGER NOT NULL,
    PRIMARY KEY (account, kind, record_id)
);
CREATE TABLE IF NOT EXISTS rates (
    account TEXT NOT NULL, coin TEXT NOT NULL, ts INTEGER NOT NULL,
    usd TEXT NOT NULL, source TEXT NOT NULL,
    PRIMARY KEY (account, coin, ts)
);
CREATE TABLE IF NOT EXISTS symbols (
    account TEXT NOT NULL, symbol TEXT NOT NULL, first_ms INTEGER NOT NULL,
    PRIMARY KEY (account, symbol)
);
CREATE TABLE IF NOT EXISTS checkpoints (
    account TEXT NOT NULL, stream TEXT NOT NULL, next_ms INTEGER NOT NULL,
    PRIMARY KEY (account, stream)
);
-- Which exchange account a credential name stands for (exchange, URL and the user id
-- the exchange reports), so two credentials for one account do not import it twice.
CREATE TABLE IF NOT EXISTS identities (
    account TEXT PRIMARY KEY, identity TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class TradeRow:
    """One fill. ``amount`` is in the base coin, ``cost`` in the quote coin, the fee as
    a positive amount of ``fee_currency`` (empty when none)."""

    account: str
    trade_id: str
    order_id: str
    symbol: str
    base: str
    quote: str
    side: str  # buy | sell
    amount: str
    price: str
    cost: str
    fee_cost: str
    fee_currency: str
    ts: int


@dataclass(frozen=True, slots=True)
class TransferRow:
    """A deposit or withdrawal. For a withdrawal ``amount`` is what arrives and ``fee``
    what the exchange kept: ``amount + fee`` left the account."""

    account: str
    kind: str  # deposit | withdrawal
    record_id: str
    coin: str
    amount: str
    fee: str
    status: str  # ccxt's: ok | pending | failed | canceled
    txid: str
    address: str
    ts: int

    @property
    def gross(self) -> Decimal:
        return Decimal(self.amount) + Decimal(self.fee or "0")


@dataclass(frozen=True, slots=True)
class RateRow:
    """The USD value of one ``coin`` at ``ts`` and where it came from."""

    account: str
    coin: str
    ts: int
    usd: str
    source: str


class TaxStore:
    """The SQLite file; every write method commits before it returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.executescript(_SCHEMA)
        self._db.execute("PRAGMA journal_mode=WAL")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> TaxStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._db:  # commits, or rolls back on an exception
            yield self._db

    # --- writing ---------------------------------------------------------------------

    def put_trades(self, rows: Iterable[TradeRow]) -> int:
        """Insert fills not seen before; returns how many were new."""
        with self._tx() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO trades VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [astuple(r) for r in rows],
            )
            return db.total_changes - before

    def put_transfers(self, rows: Iterable[TransferRow]) -> int:
        """Insert new records; a known one only gets its status (and fee, txid) updated.
        Returns how many were new."""
        count = "SELECT COUNT(*) FROM transfers"
        with self._tx() as db:
            before = int(db.execute(count).fetchone()[0])
            db.executemany(
                "INSERT INTO transfers VALUES (?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (account, kind, record_id) DO UPDATE SET "
                "status = excluded.status, fee = excluded.fee, txid = excluded.txid, "
                "amount = excluded.amount",
                [astuple(r) for r in rows],
            )
            return int(db.execute(count).fetchone()[0]) - before

    def put_rate(self, rate: RateRow) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO rates VALUES (?,?,?,?,?)", astuple(rate))

    def add_symbol(self, account: str, symbol: str, first_ms: int) -> None:
        """Remember that ``account`` trades ``symbol`` since ``first_ms`` (the earliest
        one seen wins)."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO symbols VALUES (?,?,?) ON CONFLICT (account, symbol) DO UPDATE "
                "SET first_ms = MIN(first_ms, excluded.first_ms)",
                (account, symbol, first_ms),
            )

    def set_checkpoint(self, account: str, stream: str, next_ms: int) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO checkpoints VALUES (?,?,?) ON CONFLICT (account, stream) "
                "DO UPDATE SET next_ms = excluded.next_ms",
                (account, stream, next_ms),
            )

    def claim_identity(self, account: str, identity: str) -> str:
        """Record that ``account`` is the exchange account ``identity``; returns the name
        it is already imported under (``account`` itself unless another name has it)."""
        with self._tx() as db:
            row = db.execute(
                "SELECT account FROM identities WHERE identity = ? AND account != ? "
                "ORDER BY account LIMIT 1",
                (identity, account),
            ).fetchone()
            if row is not None:
                return str(row[0])
            db.execute(
                "INSERT INTO identities VALUES (?,?) ON CONFLICT (account) "
                "DO UPDATE SET identity = excluded.identity",
                (account, identity),
            )
        return account

    # --- reading ---------------------------------------------------------------------

    def checkpoint(self, account: str, stream: str) -> int | None:
        row = self._db.execute(
            "SELECT next_ms FROM checkpoints WHERE account = ? AND stream = ?",
            (account, stream),
        ).fetchone()
        return int(row[0]) if row else None

    def checkpoints(self) -> dict[tuple[str, str], int]:
        rows = self._db.execute("SELECT account, stream, next_ms FROM checkpoints")
        return {(a, s): int(n) for a, s, n in rows}

    def symbols(self, account: str) -> dict[str, int]:
        rows = self._db.execute(
            "SELECT symbol, first_ms FROM symbols WHERE account = ?", (account,)
        )
        return {s: int(f) for s, f in rows}

    def trades(self, accounts: Iterable[str] | None = None) -> list[TradeRow]:
        rows = self._db.execute("SELECT * FROM trades ORDER BY ts, account, trade_id")
        wanted = set(accounts) if accounts is not None else None
        return [
            TradeRow(*r) for r in rows if wanted is None or r[0] in wanted
        ]

    def transfers(self, accounts: Iterable[str] | None = None) -> list[TransferRow]:
        rows = self._db.execute("SELECT * FROM transfers ORDER BY ts, account, kind, record_id")
        wanted = set(accounts) if accounts is not None else None
        return [TransferRow(*r) for r in rows if wanted is None or r[0] in wanted]

    def rates(self) -> list[RateRow]:
        rows = self._db.execute("SELECT * FROM rates ORDER BY account, coin, ts")
        return [RateRow(*r) for r in rows]

    def has_rate(self, account: str, coin: str, ts: int) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM rates WHERE account = ? AND coin = ? AND ts = ?", (account, coin, ts)
        ).fetchone()
        return row is not None

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for table in ("trades", "transfers", "rates"):
            out[table] = int(self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # noqa: S608
        return out
