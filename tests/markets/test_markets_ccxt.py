"""The wire payloads, fed to ccxt 4.5.90's own bitget parsers (no network).

ccxt parses spot markets inline in ``fetch_markets`` and currencies in
``fetch_currencies``, so the exchange's HTTP methods are replaced by functions returning
our envelopes, and the real ``load_markets`` / ``fetch_trading_fee`` / ``handle_errors``
run on them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import ccxt
import pytest

from sealbook.errors import PrecisionError, SealbookError, UnknownCoin, UnknownSymbol
from sealbook.markets import (
    FeeSchedule,
    coins_payload,
    default_catalog,
    symbols_payload,
    trade_rate_payload,
)

CATALOG = default_catalog()


def _envelope(data: Any) -> dict[str, Any]:
    return {"code": "00000", "msg": "success", "requestTime": 1_700_000_000_000, "data": data}


def _answer(data: Any, calls: list[dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def method(params: dict[str, Any] | None = None, *_: Any) -> dict[str, Any]:
        calls.append(dict(params or {}))
        return _envelope(data)

    return method


@pytest.fixture(scope="module")
def exchange() -> Any:
    ex = ccxt.bitget({"options": {"fetchMarkets": {"types": ["spot"]}}})
    calls: list[dict[str, Any]] = []
    ex.publicSpotGetV2SpotPublicCoins = _answer(coins_payload(CATALOG), calls)
    ex.publicSpotGetV2SpotPublicSymbols = _answer(symbols_payload(CATALOG), calls)
    ex.publicMarginGetV2MarginCurrencies = _answer([], calls)
    ex.load_markets()
    return ex


def test_every_symbol_becomes_an_active_spot_market(exchange: Any) -> None:
    assert len(exchange.markets) == len(CATALOG.symbols)
    for s in CATALOG.symbols:
        market = exchange.markets[f"{s.base}/{s.quote}"]
        assert market["id"] == s.symbol
        assert market["spot"] is True
        assert market["type"] == "spot"
        assert market["contract"] is False
        assert market["active"] is True
        assert market["maker"] == market["taker"] == 0.001
        # ccxt's TICK_SIZE precision: parse_number(parse_precision(places))
        assert market["precision"]["price"] == float(Fraction(1, 10**s.price_places))
        assert market["precision"]["amount"] == float(Fraction(1, 10**s.size_places))
        limits = market["limits"]
        assert limits["amount"]["min"] == float(Fraction(s.min_lots, 10**s.size_places))
        assert limits["amount"]["max"] == float(Fraction(s.max_lots, 10**s.size_places))
        assert limits["cost"]["min"] == (1.0 if s.quote == "USDT" else None)


def test_specific_markets(exchange: Any) -> None:
    btc = exchange.market("BTC/USDT")
    assert btc["precision"] == {"amount": 1e-7, "price": 1.0}
    assert btc["limits"]["amount"] == {"min": 1e-7, "max": 100.0}
    ethbtc = exchange.market("ETH/BTC")
    assert ethbtc["precision"]["price"] == 1e-6
    assert ethbtc["limits"]["cost"]["min"] is None
    assert exchange.price_to_precision("ETH/BTC", 0.0346153) == "0.034615"
    assert exchange.amount_to_precision("BTC/USDT", 0.123456789) == "0.1234567"


def test_currencies_and_networks(exchange: Any) -> None:
    assert set(exchange.currencies) == {c.coin for c in CATALOG.coins}
    usdt = exchange.currency("USDT")
    assert usdt["active"] is True
    assert usdt["deposit"] is usdt["withdraw"] is True
    networks = usdt["networks"]
    assert set(networks) >= {"TRC20", "ERC20", "BEP20", "SOL", "MATIC", "ARBITRUM", "AVAXC"}
    assert networks["BEP20"]["id"] == "BSC"
    trc20 = networks["TRC20"]
    assert trc20["fee"] == 1.5
    assert trc20["limits"]["withdraw"]["min"] == 10.0
    assert trc20["limits"]["deposit"]["min"] == 0.1
    assert trc20["precision"] == 1e-6
    assert trc20["withdraw"] is trc20["deposit"] is True
    assert set(exchange.currency("ETH")["networks"]) == {
        "ERC20",
        "ARBITRUM",
        "OPTIMISM",
        "BASE",
        "ZKSYNC",
        "BEP20",
    }


def test_network_codes_map_back_to_our_chain_ids(exchange: Any) -> None:
    """withdraw(..., {'network': code}) must send a chain id the catalog knows."""
    for coin in CATALOG.coins:
        currency = exchange.currency(coin.coin)
        assert len(currency["networks"]) == len(coin.chains), coin.coin
        for code, network in currency["networks"].items():
            assert exchange.network_code_to_id(code, coin.coin) == network["id"]
            coin.chain(network["id"])


def test_trading_fees_from_symbols_and_trade_rate(exchange: Any) -> None:
    calls: list[dict[str, Any]] = []
    exchange.privateCommonGetV2CommonTradeRate = _answer(
        trade_rate_payload(FeeSchedule(), "spot"), calls
    )
    fee = exchange.fetch_trading_fee("ETH/USDT")
    assert (fee["maker"], fee["taker"], fee["symbol"]) == (0.001, 0.001, "ETH/USDT")
    assert calls == [{"symbol": "ETHUSDT", "businessType": "spot"}]
    fees = exchange.fetch_trading_fees()
    assert len(fees) == len(CATALOG.symbols)
    assert fees["BGB/ETH"]["maker"] == fees["BGB/ETH"]["taker"] == 0.001


@pytest.mark.parametrize(
    ("error", "ccxt_class"),
    [
        (UnknownSymbol("FOOUSDT"), ccxt.BadSymbol),
        (PrecisionError("price checkBDScale error value=1.23 checkScale=1"), ccxt.InvalidOrder),
        (UnknownCoin("FOO"), ccxt.ExchangeError),
    ],
)
def test_errors_map_to_ccxt_exceptions(
    exchange: Any, error: SealbookError, ccxt_class: type[Exception]
) -> None:
    body = {"code": error.code, "msg": error.msg, "requestTime": 1, "data": None}
    text = json.dumps(body)
    with pytest.raises(ccxt_class) as caught:
        exchange.handle_errors(400, "Bad Request", "http://x/", "GET", {}, text, body, {}, None)
    if ccxt_class is ccxt.ExchangeError:
        assert type(caught.value) is ccxt.ExchangeError
