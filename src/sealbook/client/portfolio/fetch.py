"""Reading every account at once: balances, tickers and fills, over ccxt's asyncio API.

ccxt is configured with ``number=str`` so every amount arrives as the exchange's decimal
string and becomes a Decimal here; no float ever carries money. One account failing
(unreachable, bad key, timeout) is recorded with its reason; the others go on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sealbook.client.credentials import Credential
from sealbook.client.portfolio.pnl import Fill
from sealbook.client.portfolio.valuation import NUMERAIRE, parse_decimal, ticker_prices

__all__ = ["ACCOUNT_TIMEOUT_S", "AccountData", "fetch_accounts", "fetch_accounts_async"]

ACCOUNT_TIMEOUT_S = 90.0
FILLS_PAGE = 100
FILLS_MAX_PAGES = 200  # 20,000 fills per account: a bound, not a target


@dataclass(slots=True)
class AccountData:
    name: str
    exchange: str
    balances: dict[str, Decimal] = field(default_factory=dict)
    prices: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    error: str | None = None
    fills_error: str | None = None  # balances shown, PnL incomplete


def _reason(error: BaseException) -> str:
    # ccxt messages carry the exchange id, URL and response body, never the secret.
    text = " ".join(str(error).split())[:240]
    reason = f"{type(error).__name__}: {text}" if text else type(error).__name__
    cause = error.__cause__ or error.__context__
    if cause is not None and str(cause):
        reason += f" ({type(cause).__name__}: {' '.join(str(cause).split())[:160]})"
    return reason


def _balances(raw: dict[str, Any]) -> dict[str, Decimal]:
    totals = raw.get("total") or {}
    out: dict[str, Decimal] = {}
    for coin, amount in totals.items():
        value = parse_decimal(amount)
        if value is not None and value != 0:
            out[str(coin)] = value
    return out


def _fill(trade: dict[str, Any]) -> Fill | None:
    symbol = str(trade.get("symbol") or "")
    amount, cost = parse_decimal(trade.get("amount")), parse_decimal(trade.get("cost"))
    if "/" not in symbol or ":" in symbol or amount is None or cost is None:
        return None
    base, _, quote = symbol.partition("/")
    fee = trade.get("fee") or {}
    fee_cost = parse_decimal(fee.get("cost")) or Decimal(0)
    return Fill(
        ts_ms=int(trade.get("timestamp") or 0),
        trade_id=str(trade.get("id") or ""),
        base=base,
        quote=quote,
        side=str(trade.get("side") or ""),
        amount=amount,
        cost=cost,
        fee=abs(fee_cost),
        fee_coin=fee.get("currency"),
    )


async def _bitget_fills(exchange: Any) -> list[dict[str, Any]]:
    """Every fill, newest first, paged by ``idLessThan`` without a symbol (Sealbook allows
    it; Bitget itself wants a symbol and the caller falls back to per-symbol reads)."""
    rows: list[dict[str, Any]] = []
    params: dict[str, str] = {"limit": str(FILLS_PAGE)}
    for _ in range(FILLS_MAX_PAGES):
        reply = await exchange.privateSpotGetV2SpotTradeFills(params)
        page = reply.get("data") or []
        rows += page
        if len(page) < FILLS_PAGE:
            break
        params["idLessThan"] = str(page[-1]["tradeId"])
    return list(exchange.parse_trades(rows))


async def _fills(exchange: Any, held: Sequence[str]) -> list[dict[str, Any]]:
    if exchange.id == "bitget":
        try:
            return await _bitget_fills(exchange)
        except Exception:  # noqa: S110 - fall back to the per-symbol reads below
            pass
    if not exchange.has.get("fetchMyTrades"):
        return []
    try:
        return list(await exchange.fetch_my_trades())
    except Exception:
        trades: list[dict[str, Any]] = []
        for coin in held:
            symbol = f"{coin}/{NUMERAIRE}"
            if coin != NUMERAIRE and symbol in exchange.markets:
                trades += await exchange.fetch_my_trades(symbol)
        return trades


async def _read_account(cred: Credential) -> AccountData:
    from sealbook.client.connect import connect_async  # ccxt is slow to import: only here

    data = AccountData(cred.name, cred.exchange)
    extra: dict[str, Any] = {"number": str}
    if cred.exchange == "bitget":
        extra["options"] = {"fetchMarkets": {"types": ["spot"]}, "defaultType": "spot"}
    exchange = connect_async(cred, **extra)
    try:
        await exchange.load_markets()
        raw_balance, tickers = await asyncio.gather(
            exchange.fetch_balance(), exchange.fetch_tickers()
        )
        data.balances = _balances(raw_balance)
        data.prices = ticker_prices(tickers)
        try:
            trades = await _fills(exchange, sorted(data.balances))
            data.fills = [f for t in trades if (f := _fill(t)) is not None]
        except Exception as error:
            data.fills_error = _reason(error)
    finally:
        await exchange.close()
    return data


async def _guarded(cred: Credential, done: Callable[[AccountData], None]) -> AccountData:
    try:
        data = await asyncio.wait_for(_read_account(cred), ACCOUNT_TIMEOUT_S)
    except Exception as error:
        data = AccountData(cred.name, cred.exchange, error=_reason(error))
    done(data)
    return data


async def fetch_accounts_async(
    creds: Sequence[Credential], done: Callable[[AccountData], None] = lambda _: None
) -> list[AccountData]:
    """Every account read concurrently; ``done`` is called as each one finishes."""
    return list(await asyncio.gather(*(_guarded(cred, done) for cred in creds)))


def fetch_accounts(
    creds: Sequence[Credential], done: Callable[[AccountData], None] = lambda _: None
) -> list[AccountData]:
    return asyncio.run(fetch_accounts_async(creds, done))
