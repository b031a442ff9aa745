"""The catalog as Bitget sends it: ``data`` of ``spot/public/coins`` and ``spot/public/symbols``.

Every value is a string, as on Bitget (numbers as decimal strings, booleans as
``"true"``/``"false"`` — ccxt compares ``withdrawable``/``rechargeable`` to ``'true'``);
``contractAddress`` is ``null`` for a chain's native coin. Symbol rows carry every field
strict clients validate (BITGET_WIRE §3.6) and never ``symbolType`` (which would make
ccxt read the row as a contract).
"""

from __future__ import annotations

from typing import TypedDict

from sealbook.markets.catalog import Catalog, Chain, Coin, Symbol
from sealbook.money import atoms_to_str

__all__ = [
    "ChainRow",
    "CoinRow",
    "SymbolRow",
    "chain_row",
    "coin_row",
    "coins_payload",
    "symbol_row",
    "symbols_payload",
]

BUY_LIMIT_PRICE_RATIO = "0.05"
SELL_LIMIT_PRICE_RATIO = "0.05"
ORDER_QUANTITY = "200"  # open orders per symbol


class ChainRow(TypedDict):
    chain: str
    needTag: str
    withdrawable: str
    rechargeable: str
    withdrawFee: str
    extraWithdrawFee: str
    depositConfirm: str
    withdrawConfirm: str
    minDepositAmount: str
    minWithdrawAmount: str
    browserUrl: str
    contractAddress: str | None
    withdrawStep: str
    withdrawMinScale: str
    congestion: str


class CoinRow(TypedDict):
    coinId: str
    coin: str
    transfer: str
    chains: list[ChainRow]
    areaCoin: str


class SymbolRow(TypedDict):
    symbol: str
    baseCoin: str
    quoteCoin: str
    minTradeAmount: str
    maxTradeAmount: str
    takerFeeRate: str
    makerFeeRate: str
    pricePrecision: str
    quantityPrecision: str
    quotePrecision: str
    status: str
    minTradeUSDT: str
    buyLimitPriceRatio: str
    sellLimitPriceRatio: str
    areaSymbol: str
    orderQuantity: str
    openTime: str
    offTime: str
    maxLimitOrderValue: str
    maxMarketOrderValue: str


def _flag(value: bool) -> str:
    return "true" if value else "false"


def chain_row(chain: Chain) -> ChainRow:
    return {
        "chain": chain.chain,
        "needTag": _flag(chain.need_tag),
        "withdrawable": _flag(chain.withdrawable),
        "rechargeable": _flag(chain.rechargeable),
        "withdrawFee": atoms_to_str(chain.withdraw_fee_atoms),
        "extraWithdrawFee": "0",
        "depositConfirm": str(chain.deposit_confirm),
        "withdrawConfirm": str(chain.withdraw_confirm),
        "minDepositAmount": atoms_to_str(chain.min_deposit_atoms),
        "minWithdrawAmount": atoms_to_str(chain.min_withdraw_atoms),
        "browserUrl": chain.browser_url,
        "contractAddress": chain.contract_address,
        "withdrawStep": "0",
        "withdrawMinScale": str(chain.withdraw_scale),
        "congestion": "normal",
    }


def coin_row(coin: Coin) -> CoinRow:
    return {
        "coinId": str(coin.coin_id),
        "coin": coin.coin,
        "transfer": "true",
        "chains": [chain_row(chain) for chain in coin.chains],
        "areaCoin": "no",
    }


def symbol_row(symbol: Symbol) -> SymbolRow:
    return {
        "symbol": symbol.symbol,
        "baseCoin": symbol.base,
        "quoteCoin": symbol.quote,
        "minTradeAmount": symbol.size_str(symbol.min_lots),
        "maxTradeAmount": symbol.size_str(symbol.max_lots),
        "takerFeeRate": str(symbol.taker_rate),
        "makerFeeRate": str(symbol.maker_rate),
        "pricePrecision": str(symbol.price_places),
        "quantityPrecision": str(symbol.size_places),
        "quotePrecision": str(symbol.quote_places),
        "status": symbol.status,
        "minTradeUSDT": symbol.min_trade_usdt,
        "buyLimitPriceRatio": BUY_LIMIT_PRICE_RATIO,
        "sellLimitPriceRatio": SELL_LIMIT_PRICE_RATIO,
        "areaSymbol": "no",
        "orderQuantity": ORDER_QUANTITY,
        "openTime": "",
        "offTime": "",
        "maxLimitOrderValue": symbol.max_limit_order_value,
        "maxMarketOrderValue": symbol.max_market_order_value,
    }


def coins_payload(catalog: Catalog, coin: str | None = None) -> list[CoinRow]:
    """``GET /api/v2/spot/public/coins[?coin=X]``; an unknown ``coin`` raises
    :class:`~sealbook.errors.UnknownCoin`. An empty ``coin`` means all coins."""
    if coin:
        return [coin_row(catalog.coin(coin))]
    return [coin_row(c) for c in catalog.coins]


def symbols_payload(catalog: Catalog, symbol: str | None = None) -> list[SymbolRow]:
    """``GET /api/v2/spot/public/symbols[?symbol=X]``; an unknown ``symbol`` raises
    :class:`~sealbook.errors.UnknownSymbol`. An empty ``symbol`` means all symbols."""
    if symbol:
        return [symbol_row(catalog.symbol(symbol))]
    return [symbol_row(s) for s in catalog.symbols]
