"""Transfers between the person's own accounts: a withdrawal on one matched with a deposit
on another, which is not a disposal; the lots travel with their dates and bases.

A withdrawal and a deposit match when they are of the same coin, on different accounts,
the deposit arrives no earlier than the withdrawal and within the window (72 hours by
default), and what arrived differs from what left by no more than the withdrawal fee.
The same transaction id on both sides matches regardless of amount. Each deposit
matches at most one withdrawal; withdrawals are matched oldest first, each with the
earliest deposit that fits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sealbook.client.tax.store import TransferRow

__all__ = ["DEFAULT_WINDOW_MS", "Match", "counted", "match_transfers"]

DEFAULT_WINDOW_MS = 72 * 3_600_000
_COUNTED = {"deposit": ("ok",), "withdrawal": ("ok", "pending")}


@dataclass(frozen=True, slots=True)
class Match:
    withdrawal: TransferRow
    deposit: TransferRow
    by: str  # "txid" or "amount"


def counted(row: TransferRow) -> bool:
    """Deposits that were credited and withdrawals that were not failed or cancelled."""
    return row.status in _COUNTED[row.kind]


def match_transfers(
    rows: Sequence[TransferRow], window_ms: int = DEFAULT_WINDOW_MS
) -> list[Match]:
    withdrawals = sorted(
        (r for r in rows if r.kind == "withdrawal" and counted(r)), key=lambda r: r.ts
    )
    deposits = sorted((r for r in rows if r.kind == "deposit" and counted(r)), key=lambda r: r.ts)
    used: set[tuple[str, str]] = set()
    matches: list[Match] = []
    for w in withdrawals:
        found = _by_txid(w, deposits, used)
        by = "txid"
        if found is None:
            found = _by_amount(w, deposits, used, window_ms)
            by = "amount"
        if found is not None:
            used.add((found.account, found.record_id))
            matches.append(Match(w, found, by))
    return matches


def _by_txid(
    w: TransferRow, deposits: Sequence[TransferRow], used: set[tuple[str, str]]
) -> TransferRow | None:
    if not w.txid:
        return None
    for d in deposits:
        if (d.account, d.record_id) in used or d.account == w.account:
            continue
        if d.txid == w.txid and d.coin == w.coin:
            return d
    return None


def _by_amount(
    w: TransferRow,
    deposits: Sequence[TransferRow],
    used: set[tuple[str, str]],
    window_ms: int,
) -> TransferRow | None:
    gross = w.gross
    fee = Decimal(w.fee or "0")
    for d in deposits:
        if d.ts < w.ts:
            continue
        if d.ts - w.ts > window_ms:
            break
        if (d.account, d.record_id) in used or d.account == w.account or d.coin != w.coin:
            continue
        if abs(gross - Decimal(d.amount)) <= fee:
            return d
    return None
