"""Portfolio snapshots in a local SQLite file, for ``sealbook portfolio history``.

Amounts are stored as decimal TEXT (never REAL): a snapshot reads back digit for digit.
A snapshot records only the accounts that answered; the failed ones are listed by name.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sealbook.client.portfolio.report import Portfolio, usd

__all__ = ["SNAPSHOT_FILE", "Snapshot", "SnapshotStore"]

SNAPSHOT_FILE = "portfolio.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS snapshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ms INTEGER NOT NULL,
    net_worth TEXT NOT NULL,
    realised_pnl TEXT NOT NULL,
    unrealised_pnl TEXT NOT NULL,
    by_asset TEXT NOT NULL,
    by_account TEXT NOT NULL,
    failed TEXT NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class Snapshot:
    ts_ms: int
    net_worth: Decimal
    realised: Decimal
    unrealised: Decimal
    by_asset: dict[str, Decimal]
    by_account: dict[str, Decimal]
    failed: list[str]

    def as_dict(self) -> dict[str, object]:
        return {
            "time": self.ts_ms,
            "netWorth": _text(self.net_worth),
            "realisedPnl": _text(self.realised),
            "unrealisedPnl": _text(self.unrealised),
            "byAsset": {k: _text(v) for k, v in self.by_asset.items()},
            "byAccount": {k: _text(v) for k, v in self.by_account.items()},
            "failed": self.failed,
        }


def _text(value: Decimal) -> str:
    return format(value, "f")  # "0.00000000", never "0E-8"


class SnapshotStore:
    def __init__(self, home: Path) -> None:
        self.path = home / SNAPSHOT_FILE

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path)
        conn.execute(_SCHEMA)
        return conn

    def record(self, portfolio: Portfolio) -> Snapshot:
        snap = Snapshot(
            ts_ms=portfolio.ts_ms,
            net_worth=Decimal(usd(portfolio.net_worth)),
            realised=Decimal(usd(portfolio.realised)),
            unrealised=Decimal(usd(portfolio.unrealised)),
            by_asset={a: Decimal(usd(v)) for a, v in portfolio.by_asset().items()},
            by_account={a.name: Decimal(usd(a.value)) for a in portfolio.ok},
            failed=[a.name for a in portfolio.accounts if a.error is not None],
        )
        with closing(self._connect()) as conn, conn:
            conn.execute(
                "INSERT INTO snapshots (ts_ms, net_worth, realised_pnl, unrealised_pnl, "
                "by_asset, by_account, failed) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    snap.ts_ms,
                    _text(snap.net_worth),
                    _text(snap.realised),
                    _text(snap.unrealised),
                    json.dumps({k: _text(v) for k, v in snap.by_asset.items()}),
                    json.dumps({k: _text(v) for k, v in snap.by_account.items()}),
                    json.dumps(snap.failed),
                ),
            )
        return snap

    def history(self, limit: int | None = None) -> list[Snapshot]:
        """Snapshots, oldest first (the newest ``limit`` when given)."""
        if not self.path.exists():
            return []
        query = (
            "SELECT ts_ms, net_worth, realised_pnl, unrealised_pnl, by_asset, by_account, "
            "failed FROM snapshots ORDER BY ts_ms DESC, id DESC"
        )
        params: tuple[int, ...] = ()
        if limit is not None:
            query += " LIMIT ?"
            params = (limit,)
        with closing(self._connect()) as conn:
            rows = conn.execute(query, params).fetchall()
        return [
            Snapshot(
                ts_ms=int(ts),
                net_worth=Decimal(worth),
                realised=Decimal(realised),
                unrealised=Decimal(unrealised),
                by_asset={k: Decimal(v) for k, v in json.loads(assets).items()},
                by_account={k: Decimal(v) for k, v in json.loads(accounts).items()},
                failed=list(json.loads(failed)),
            )
            for ts, worth, realised, unrealised, assets, accounts, failed in reversed(rows)
        ]
