"""Import an account's fills, deposits and withdrawals into the tax database.

Bitget serves history in windows of at most 90 days and pages of at most 100 rows,
newest first, continued with ``idLessThan``. Every stream (order discovery, the fills of
each symbol, deposits, withdrawals) walks 90-day windows from its checkpoint to now and
commits a checkpoint after each window, so an interrupted sync resumes where it stopped
and a repeated one re-reads only the last few minutes (rows are keyed by exchange ids:
nothing is imported twice). A withdrawal still pending holds its stream's checkpoint so
its final status is read again.

Which symbols to read fills for is learned from the account's orders (filled, cancelled
and open), plus any the caller names; each symbol is read from its first order on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sealbook.client.errors import ClientError
from sealbook.client.tax.store import RateRow, TaxStore, TradeRow, TransferRow
from sealbook.client.tax.valuation import rate_coins

__all__ = ["DEFAULT_SINCE_MS", "WINDOW_MS", "SyncStats", "sync_account"]

DAY_MS = 86_400_000
WINDOW_MS = 90 * DAY_MS
PAGE = 100
SETTLE_MS = 120_000  # rows younger than this may still be committing: read them again
DEFAULT_SINCE_MS = 1_514_764_800_000  # 2018-01-01, before Bitget's spot market opened
_MINUTE_MS = 60_000
_HOUR_MS = 3_600_000

Fetch = Callable[[int, int, dict[str, Any]], list[dict[str, Any]]]


@dataclass(slots=True)
class SyncStats:
    account: str
    trades: int = 0
    deposits: int = 0
    withdrawals: int = 0
    rates: int = 0
    requests: int = 0
    symbols: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "new_trades": self.trades,
            "new_deposits": self.deposits,
            "new_withdrawals": self.withdrawals,
            "new_rates": self.rates,
            "requests": self.requests,
            "symbols": self.symbols,
        }


def sync_account(
    exchange: Any,
    account: str,
    store: TaxStore,
    *,
    now_ms: int,
    since_ms: int = DEFAULT_SINCE_MS,
    symbols: Iterable[str] = (),
    window_ms: int = WINDOW_MS,
    page: int = PAGE,
) -> SyncStats:
    """Bring ``account`` (reached through the ccxt ``exchange``) up to ``now_ms``."""
    if not 0 < window_ms <= WINDOW_MS:
        raise ClientError("the window must be between 1 ms and 90 days")
    if not 0 < page <= PAGE:
        raise ClientError(f"the page size must be between 1 and {PAGE}")
    exchange.number = str  # every amount as the exchange's decimal string, never a float
    stats = SyncStats(account)
    try:
        exchange.load_markets()
        run = _Run(exchange, account, store, now_ms, since_ms, window_ms, page, stats)
        named = list(symbols)
        unknown = [s for s in named if s not in exchange.markets]
        if unknown:  # refused before anything is stored
            raise ClientError(f"{account}: the exchange has no market {', '.join(unknown)}")
        for symbol in named:
            store.add_symbol(account, symbol, since_ms)
        run.discover_symbols()
        for symbol, first_ms in sorted(store.symbols(account).items()):
            run.trades(symbol, first_ms)
        run.transfers("deposit")
        run.transfers("withdrawal")
        run.rates()
    except ClientError:
        raise
    except Exception as error:  # ccxt's network and exchange errors, named, never secrets
        raise ClientError(f"{account}: sync stopped ({type(error).__name__}: "
                          f"{str(error)[:200]}); run it again to resume") from None
    stats.symbols = sorted(store.symbols(account))
    return stats


@dataclass(slots=True)
class _Run:
    exchange: Any
    account: str
    store: TaxStore
    now_ms: int
    since_ms: int
    window_ms: int
    page: int
    stats: SyncStats
    _rate_cache: dict[tuple[str, int], tuple[str, str] | None] = field(default_factory=dict)

    # --- walking windows and pages ---------------------------------------------------

    def _windows(self, stream: str, first_ms: int) -> Iterable[tuple[int, int]]:
        start = self.store.checkpoint(self.account, stream)
        start = first_ms if start is None else max(start, first_ms)
        while start <= self.now_ms:
            end = min(start + self.window_ms - 1, self.now_ms)
            yield start, end
            start = end + 1

    def _done(self, stream: str, end: int, hold_ms: int | None = None) -> None:
        """The window up to ``end`` is in; the next sync starts after it, less the
        settling margin near now, and never after ``hold_ms``."""
        next_ms = min(end + 1, self.now_ms - SETTLE_MS)
        if hold_ms is not None:
            next_ms = min(next_ms, hold_ms)
        previous = self.store.checkpoint(self.account, stream)
        self.store.set_checkpoint(self.account, stream, max(next_ms, previous or 0))

    def _pages(self, fetch: Fetch, start: int, end: int) -> list[dict[str, Any]]:
        """Every row of ``[start, end]``: Bitget pages newest first by ``idLessThan``;
        other exchanges are walked forward by time."""
        rows: list[dict[str, Any]] = []
        seen: set[str] = set()
        cursor: str | None = None
        since = start
        while True:
            params: dict[str, Any] = {"until": end}
            if cursor is not None:
                params["idLessThan"] = cursor
            found = fetch(since, self.page, params)
            self.stats.requests += 1
            fresh = [r for r in found if str(r.get("id")) not in seen]
            seen.update(str(r.get("id")) for r in fresh)
            rows.extend(fresh)
            if len(found) < self.page or not fresh:
                return rows
            if self.exchange.id == "bitget":
                cursor = str(min(int(r["id"]) for r in found))
            else:
                since = max(int(r["timestamp"]) for r in found)

    # --- streams -----------------------------------------------------------------------

    def discover_symbols(self) -> None:
        ex = self.exchange
        if ex.has.get("fetchOpenOrders"):
            try:
                for order in ex.fetch_open_orders():
                    self._seen_order(order)
            except Exception as error:
                if type(error).__name__ != "ArgumentsRequired":
                    raise
            self.stats.requests += 1
        if ex.has.get("fetchCanceledAndClosedOrders"):
            fetch = ex.fetch_canceled_and_closed_orders
        elif ex.has.get("fetchClosedOrders"):
            fetch = ex.fetch_closed_orders
        else:
            return
        for start, end in self._windows("orders", self.since_ms):
            try:
                found = self._pages(lambda s, n, p: fetch(None, s, n, p), start, end)
            except Exception as error:
                if type(error).__name__ == "ArgumentsRequired":
                    return  # this exchange needs a symbol: the caller names them
                raise
            for order in found:
                self._seen_order(order)
            self._done("orders", end)

    def _seen_order(self, order: dict[str, Any]) -> None:
        symbol = order.get("symbol")
        market = self.exchange.markets.get(symbol) if symbol else None
        if market is not None and market.get("spot"):
            when = int(order.get("timestamp") or self.now_ms)
            self.store.add_symbol(self.account, str(symbol), when)

    def trades(self, symbol: str, first_ms: int) -> None:
        ex = self.exchange
        market = ex.markets[symbol]
        stream = f"trades:{symbol}"
        for start, end in self._windows(stream, first_ms):
            found = self._pages(
                lambda s, n, p: ex.fetch_my_trades(symbol, s, n, p), start, end
            )
            rows = [_trade_row(self.account, market, t) for t in found]
            self.stats.trades += self.store.put_trades(rows)
            self._done(stream, end)

    def transfers(self, kind: str) -> None:
        ex = self.exchange
        fetch = ex.fetch_deposits if kind == "deposit" else ex.fetch_withdrawals
        stream = f"{kind}s"
        hold: int | None = None
        for start, end in self._windows(stream, self.since_ms):
            found = self._pages(lambda s, n, p: fetch(None, s, n, p), start, end)
            rows = [_transfer_row(self.account, kind, t) for t in found]
            new = self.store.put_transfers(rows)
            if kind == "deposit":
                self.stats.deposits += new
            else:
                self.stats.withdrawals += new
            pending = [r.ts for r in rows if r.status == "pending"]
            if pending:
                hold = min(pending) if hold is None else min(hold, *pending)
            self._done(stream, end, hold)

    # --- USD rates -----------------------------------------------------------------------

    def rates(self) -> None:
        for trade in self.store.trades([self.account]):
            for coin in rate_coins(trade):
                if self.store.has_rate(self.account, coin, trade.ts):
                    continue
                found = self._rate(coin, trade.ts)
                if found is not None:
                    usd, source = found
                    self.store.put_rate(RateRow(self.account, coin, trade.ts, usd, source))
                    self.stats.rates += 1

    def _rate(self, coin: str, ts: int) -> tuple[str, str] | None:
        minute = ts - ts % _MINUTE_MS
        key = (coin, minute)
        if key not in self._rate_cache:
            self._rate_cache[key] = self._lookup(coin, ts, minute)
        return self._rate_cache[key]

    def _lookup(self, coin: str, ts: int, minute: int) -> tuple[str, str] | None:
        ex = self.exchange
        for quote in ("USDT", "USDC"):
            symbol = f"{coin}/{quote}"
            if symbol not in ex.markets:
                continue
            candles = ex.fetch_ohlcv(
                symbol, "1m", minute - _HOUR_MS, 61, {"until": minute + _MINUTE_MS - 1}
            )
            self.stats.requests += 1
            before = [c for c in candles if int(c[0]) <= ts]
            if before:
                candle = before[-1]
                return str(candle[4]), f"{symbol} 1m candle {_iso(int(candle[0]))} close"
            ticker = ex.fetch_ticker(symbol)
            self.stats.requests += 1
            if ticker.get("last") is not None:
                return str(ticker["last"]), f"{symbol} ticker last at sync {_iso(self.now_ms)}"
        return None


def _trade_row(account: str, market: dict[str, Any], trade: dict[str, Any]) -> TradeRow:
    fee = trade.get("fee") or {}
    fee_cost = fee.get("cost")
    return TradeRow(
        account=account,
        trade_id=str(trade["id"]),
        order_id=str(trade.get("order") or ""),
        symbol=str(market["symbol"]),
        base=str(market["base"]),
        quote=str(market["quote"]),
        side=str(trade["side"]),
        amount=str(trade["amount"]),
        price=str(trade["price"]),
        cost=str(trade["cost"]),
        fee_cost=str(fee_cost) if fee_cost is not None else "0",
        fee_currency=str(fee.get("currency") or ""),
        ts=int(trade["timestamp"]),
    )


def _transfer_row(account: str, kind: str, record: dict[str, Any]) -> TransferRow:
    fee = record.get("fee") or {}
    return TransferRow(
        account=account,
        kind=kind,
        record_id=str(record["id"]),
        coin=str(record["currency"]),
        amount=str(record["amount"]),
        fee=str(fee.get("cost") if fee.get("cost") is not None else "0"),
        status=str(record.get("status") or ""),
        txid=str(record.get("txid") or ""),
        address=str(record.get("address") or ""),
        ts=int(record["timestamp"]),
    )


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
