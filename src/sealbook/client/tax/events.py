"""From imported records to lot events, valued in US dollars.

A fill becomes up to three legs (V is the quote amount's USD value at trade time, the
fee's USD value is Fv):

buy   acquire ``amount`` of the base (less a fee taken in the base) at cost V, plus Fv
      when the fee was paid in another coin (fees are added to the basis); if the quote
      is not a dollar, the quote spent (plus a fee taken in it) is disposed of for its
      value.
sell  dispose of ``amount`` of the base (plus a fee taken in the base) for V, less Fv
      when the fee was paid in another coin (fees are deducted from the proceeds); if the
      quote is not a dollar, the quote received (less its fee) is acquired at its value.
fee   a fee paid in a third coin (BGB) is itself a disposal of that coin for Fv.

Deposits of coins not matched with one of the person's withdrawals are lots of unknown
basis (0, flagged); withdrawals not matched leave without tax. Dollars (USDT, USDC, USD)
are cash: they have no lots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from sealbook.client.tax.lots import (
    ACQUIRE,
    ACQUIRE_UNKNOWN,
    DISPOSE,
    LEAVE,
    MOVE_IN,
    MOVE_OUT,
    Event,
)
from sealbook.client.tax.store import RateRow, TradeRow, TransferRow
from sealbook.client.tax.transfers import Match, counted, match_transfers
from sealbook.client.tax.units import to_atoms, value_atoms
from sealbook.client.tax.valuation import STABLE

__all__ = ["Built", "Source", "build_events"]

# Same millisecond: outside deposits, then fills, then transfers out, then transfers in.
_PHASE = {ACQUIRE_UNKNOWN: 0, ACQUIRE: 2, DISPOSE: 2, MOVE_OUT: 3, LEAVE: 3, MOVE_IN: 4}


@dataclass(frozen=True, slots=True)
class Source:
    """Where an event came from, for the report's rows."""

    account: str
    kind: str  # buy | sell | fee | deposit | withdrawal | transfer
    record_id: str
    symbol: str
    coin: str
    ts: int
    flags: tuple[str, ...] = ()


class _Emit(Protocol):
    def __call__(
        self, kind: int, ts: int, wallet: str, asset: str, qty: int, value: int, src: Source
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class Built:
    events: list[Event]
    sources: list[Source]
    matches: list[Match]


def build_events(
    trades: Sequence[TradeRow],
    transfers: Sequence[TransferRow],
    rates: Sequence[RateRow],
    *,
    window_ms: int,
) -> Built:
    table = {(r.account, r.coin, r.ts): (Decimal(r.usd), r.source) for r in rates}
    staged: list[tuple[int, int, int, Event]] = []
    sources: list[Source] = []

    def emit(
        kind: int, ts: int, wallet: str, asset: str, qty: int, value: int, src: Source
    ) -> None:
        sources.append(src)
        event = (ts, kind, wallet, asset, qty, value, len(sources) - 1)
        staged.append((ts, _PHASE[kind], len(staged), event))

    for trade in trades:
        _trade(trade, table, emit)

    matches = match_transfers(transfers, window_ms)
    paired = {(m.withdrawal.account, m.withdrawal.record_id): n for n, m in enumerate(matches)}
    arriving = {(m.deposit.account, m.deposit.record_id): n for n, m in enumerate(matches)}
    for row in transfers:
        if not counted(row) or row.coin in STABLE:
            continue
        key = (row.account, row.record_id)
        src = Source(row.account, row.kind, row.record_id, "", row.coin, row.ts)
        if row.kind == "deposit":
            if key in arriving:
                emit(MOVE_IN, row.ts, row.account, row.coin, to_atoms(row.amount),
                     arriving[key], _replace_kind(src, "transfer"))
            else:
                emit(ACQUIRE_UNKNOWN, row.ts, row.account, row.coin, to_atoms(row.amount), 0,
                     _flag(src, "unknown basis: deposit not matched with a withdrawal"))
        elif key in paired:
            emit(MOVE_OUT, row.ts, row.account, row.coin, to_atoms(row.gross), paired[key],
                 _replace_kind(src, "transfer"))
        else:
            emit(LEAVE, row.ts, row.account, row.coin, to_atoms(row.gross), 0, src)
    staged.sort(key=lambda s: s[:3])
    return Built([s[3] for s in staged], sources, matches)


def _replace_kind(src: Source, kind: str) -> Source:
    return Source(src.account, kind, src.record_id, src.symbol, src.coin, src.ts, src.flags)


def _flag(src: Source, flag: str) -> Source:
    return Source(src.account, src.kind, src.record_id, src.symbol, src.coin, src.ts,
                  (*src.flags, flag))


def _trade(
    t: TradeRow,
    rates: Mapping[tuple[str, str, int], tuple[Decimal, str]],
    emit: _Emit,
) -> None:
    flags: list[str] = []

    def usd_rate(coin: str) -> Decimal:
        if coin in STABLE:
            return Decimal(1)
        found = rates.get((t.account, coin, t.ts))
        if found is None:
            flags.append(f"no USD rate for {coin}: valued at 0")
            return Decimal(0)
        return found[0]

    qty = to_atoms(t.amount)
    cost = to_atoms(t.cost)
    fee = to_atoms(t.fee_cost) if t.fee_currency else 0
    fee_coin = t.fee_currency
    quote_rate = usd_rate(t.quote)
    value = value_atoms(cost, quote_rate)
    fee_usd = 0
    if fee:
        if fee_coin == t.quote:
            fee_usd = value_atoms(fee, quote_rate)
        elif fee_coin == t.base:
            fee_usd = value_atoms(fee, Decimal(t.price) * quote_rate)
        else:
            fee_usd = value_atoms(fee, usd_rate(fee_coin))
    base_fee = fee if fee_coin == t.base else 0
    quote_fee = fee if fee_coin == t.quote else 0
    other_fee = fee_usd if fee and fee_coin not in (t.base, t.quote) else 0
    quote_fee_usd = fee_usd if quote_fee else 0
    done = tuple(flags)

    def src(kind: str, coin: str) -> Source:
        return Source(t.account, kind, t.trade_id, t.symbol, coin, t.ts, done)

    if t.side == "buy":
        if t.quote not in STABLE:
            emit(DISPOSE, t.ts, t.account, t.quote, cost + quote_fee, value + quote_fee_usd,
                 src("buy", t.quote))
        if t.base not in STABLE:
            emit(ACQUIRE, t.ts, t.account, t.base, qty - base_fee,
                 value + quote_fee_usd + other_fee, src("buy", t.base))
    else:
        if t.base not in STABLE:
            emit(DISPOSE, t.ts, t.account, t.base, qty + base_fee,
                 value - quote_fee_usd - other_fee, src("sell", t.base))
        if t.quote not in STABLE:
            emit(ACQUIRE, t.ts, t.account, t.quote, cost - quote_fee,
                 value - quote_fee_usd, src("sell", t.quote))
    if other_fee and fee_coin not in STABLE:
        emit(DISPOSE, t.ts, t.account, fee_coin, fee, fee_usd, src("fee", fee_coin))

