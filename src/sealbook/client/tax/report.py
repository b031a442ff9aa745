"""A tax year's disposals, computed from the imported records alone (no network).

The whole history runs through the lot engine (bases come from earlier years); the
report keeps the disposals dated in the year (UTC). A disposal that consumed lots of
different holding periods becomes one row per term. A piece is long-term when it was
sold after the first anniversary of its acquisition (held more than one year); pieces
with no lot behind them (a sale with no known purchase) are short-term with basis 0 and
flagged; ACB pieces have no date and are reported as ``pooled``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any

from sealbook.client.errors import ClientError
from sealbook.client.tax.events import Built, Source, build_events
from sealbook.client.tax.lots import METHODS, NO_LOT, POOLED, LotBook, run
from sealbook.client.tax.store import RateRow, TradeRow, TransferRow
from sealbook.client.tax.transfers import DEFAULT_WINDOW_MS, Match, counted
from sealbook.client.tax.units import plain
from sealbook.client.tax.valuation import VALUATION_NOTE

__all__ = ["Disposal", "Report", "ReportSettings", "TrailPiece", "compute_report"]

MISSING = "missing basis"


@dataclass(frozen=True, slots=True)
class ReportSettings:
    year: int
    method: str
    per_wallet: bool = False
    transfer_window_ms: int = DEFAULT_WINDOW_MS

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ClientError(f"unknown method {self.method!r}: use one of {', '.join(METHODS)}")
        if not 2009 <= self.year <= 9998:
            raise ClientError(f"year {self.year} is out of range")
        if self.transfer_window_ms <= 0:
            raise ClientError("the transfer window must be positive")

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["valuation"] = VALUATION_NOTE
        out["long_term"] = "held more than one year"
        out["fees"] = "added to cost basis on acquisitions, deducted from proceeds on disposals"
        return out


@dataclass(frozen=True, slots=True)
class TrailPiece:
    """One lot (or part of one) a disposal consumed."""

    lot: int  # -1: no lot (missing basis); -2: the ACB pool
    acquired_ms: int | None
    lot_account: str
    qty: int
    basis: int
    proceeds: int
    term: str  # short | long | pooled
    missing: bool

    @property
    def gain(self) -> int:
        return self.proceeds - self.basis


@dataclass(frozen=True, slots=True)
class Disposal:
    number: int
    source: Source
    wallet: str
    asset: str
    sold_ms: int
    qty: int
    proceeds: int
    pieces: tuple[TrailPiece, ...]

    @property
    def basis(self) -> int:
        return sum(p.basis for p in self.pieces)

    @property
    def flags(self) -> tuple[str, ...]:
        missing = (MISSING,) if any(p.missing for p in self.pieces) else ()
        return (*self.source.flags, *missing)


@dataclass(slots=True)
class Report:
    settings: ReportSettings
    disposals: list[Disposal]
    matches: list[Match]
    unmatched_withdrawals: list[Source]
    input_sha256: str
    counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Totals by term and by asset, as exact decimal strings (USD)."""
        terms: dict[str, list[int]] = {}
        assets: dict[str, list[int]] = {}
        for d in self.disposals:
            for p in d.pieces:
                for bucket, key in ((terms, p.term), (assets, d.asset)):
                    sums = bucket.setdefault(key, [0, 0, 0])
                    sums[0] += p.proceeds
                    sums[1] += p.basis
                    sums[2] += p.gain
        total = [sum(v[i] for v in terms.values()) for i in range(3)]
        return {
            "year": self.settings.year,
            "method": self.settings.method,
            "per_wallet": self.settings.per_wallet,
            "disposals": len(self.disposals),
            "flagged": sum(1 for d in self.disposals if d.flags),
            "by_term": {k: _sums(v) for k, v in sorted(terms.items())},
            "by_asset": {k: _sums(v) for k, v in sorted(assets.items())},
            "total": _sums(total),
            "transfers_matched": len(self.matches),
            "withdrawals_unmatched": len(self.unmatched_withdrawals),
            "input_sha256": self.input_sha256,
        }


def _sums(v: Sequence[int]) -> dict[str, str]:
    return {
        "proceeds": plain(v[0]),
        "cost_basis": plain(v[1]),
        "gain": plain(v[2]),
    }


def compute_report(
    trades: Sequence[TradeRow],
    transfers: Sequence[TransferRow],
    rates: Sequence[RateRow],
    settings: ReportSettings,
) -> Report:
    built = build_events(trades, transfers, rates, window_ms=settings.transfer_window_ms)
    book = run(built.events, settings.method, per_wallet=settings.per_wallet)
    start = _ms(date(settings.year, 1, 1))
    end = _ms(date(settings.year + 1, 1, 1))
    disposals = [
        _disposal(n, entry, built, book)
        for n, entry in enumerate(e for e in book.disposals if start <= e[1] < end)
    ]
    matched = {(m.withdrawal.account, m.withdrawal.record_id) for m in built.matches}
    leaves = [
        Source(w.account, w.kind, w.record_id, "", w.coin, w.ts)
        for w in transfers
        if w.kind == "withdrawal" and counted(w) and start <= w.ts < end
        and (w.account, w.record_id) not in matched
    ]
    return Report(
        settings,
        disposals,
        [m for m in built.matches if start <= m.withdrawal.ts < end],
        leaves,
        input_hash(trades, transfers, rates),
        {"trades": len(trades), "transfers": len(transfers), "rates": len(rates)},
    )


def _disposal(
    number: int, entry: tuple[int, int, str, str, int, int, int, int], built: Built, book: LotBook
) -> Disposal:
    ref, ts, wallet, asset, qty, proceeds, first, end = entry
    raw = book.trail[first:end]
    shares = _split(proceeds, [q for _, q, _ in raw], qty)
    pieces: list[TrailPiece] = []
    for (lot, q, basis), share in zip(raw, shares, strict=True):
        if lot == POOLED:
            pieces.append(TrailPiece(lot, None, "", q, basis, share, "pooled", False))
            continue
        if lot == NO_LOT:
            pieces.append(TrailPiece(lot, None, "", q, basis, share, "short", True))
            continue
        acquired = book.lot_date[lot]
        origin = built.sources[book.lot_ref[lot]].account
        term = "long" if _long(acquired, ts) else "short"
        pieces.append(TrailPiece(lot, acquired, origin, q, basis, share, term,
                                 bool(book.lot_missing[lot])))
    return Disposal(number, built.sources[ref], wallet, asset, ts, qty, proceeds, tuple(pieces))


def _split(total: int, parts: Sequence[int], whole: int) -> list[int]:
    """``total`` shared in proportion to ``parts`` (floor; the last takes the rest)."""
    out: list[int] = []
    given = 0
    for i, part in enumerate(parts):
        share = total - given if i == len(parts) - 1 else total * part // whole
        out.append(share)
        given += share
    return out


def _long(acquired_ms: int, sold_ms: int) -> bool:
    bought = _day(acquired_ms)
    sold = _day(sold_ms)
    try:
        anniversary = bought.replace(year=bought.year + 1)
    except ValueError:  # 29 February: the anniversary is 1 March
        anniversary = date(bought.year + 1, 3, 1)
    return sold > anniversary


def _day(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, UTC).date()


def _ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def input_hash(
    trades: Sequence[TradeRow], transfers: Sequence[TransferRow], rates: Sequence[RateRow]
) -> str:
    """SHA-256 of every input record in a canonical order and form (fields joined by
    0x1F, records sorted, one per line)."""
    digest = hashlib.sha256()
    for name, rows in (("trades", trades), ("transfers", transfers), ("rates", rates)):
        digest.update(f"{name}\n".encode())
        names = [f.name for f in fields(rows[0])] if rows else []
        lines = sorted("\x1f".join(str(getattr(r, n)) for n in names) for r in rows)
        digest.update("".join(line + "\n" for line in lines).encode())
    return digest.hexdigest()
