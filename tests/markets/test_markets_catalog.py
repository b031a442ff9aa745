"""The default catalog: coins, chains, symbols, their wire rows and the lookups."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

import orjson
import pytest

from sealbook.errors import ParamInvalid, PrecisionError, UnknownCoin, UnknownSymbol
from sealbook.markets import (
    QUOTE_COINS,
    Catalog,
    coins_payload,
    default_catalog,
    symbols_payload,
)
from sealbook.markets._data import STABLECOINS
from sealbook.money import ATOMS_PER_UNIT

CATALOG = default_catalog()

# BITGET_WIRE §3.6 (strict clients) plus offTime from §3.5.
SYMBOL_FIELDS = {
    "areaSymbol",
    "baseCoin",
    "buyLimitPriceRatio",
    "makerFeeRate",
    "maxLimitOrderValue",
    "maxMarketOrderValue",
    "maxTradeAmount",
    "minTradeAmount",
    "minTradeUSDT",
    "openTime",
    "orderQuantity",
    "pricePrecision",
    "quantityPrecision",
    "quoteCoin",
    "quotePrecision",
    "sellLimitPriceRatio",
    "status",
    "symbol",
    "takerFeeRate",
    "offTime",
}
COIN_FIELDS = {"coinId", "coin", "transfer", "chains", "areaCoin"}
CHAIN_FIELDS = {
    "chain",
    "needTag",
    "withdrawable",
    "rechargeable",
    "withdrawFee",
    "extraWithdrawFee",
    "depositConfirm",
    "withdrawConfirm",
    "minDepositAmount",
    "minWithdrawAmount",
    "browserUrl",
    "contractAddress",
    "withdrawStep",
    "withdrawMinScale",
    "congestion",
}


def _usd(coin: str) -> Fraction:
    return CATALOG.coin(coin).ref_price_usd


# --- symbols ---------------------------------------------------------------------------


def test_symbol_counts_per_quote() -> None:
    counts = Counter(s.quote for s in CATALOG.symbols)
    assert len(CATALOG.symbols) == 1395
    assert counts == {"USDT": 432, "USDC": 248, "BGB": 243, "ETH": 238, "BTC": 234}
    assert set(counts) == set(QUOTE_COINS)
    assert len(CATALOG.coins) == 433


def test_symbol_ids_are_unique_and_compose_base_and_quote() -> None:
    ids = [s.symbol for s in CATALOG.symbols]
    assert len(ids) == len(set(ids))
    for s in CATALOG.symbols:
        assert s.symbol == s.base + s.quote
        assert s.base != s.quote
        CATALOG.coin(s.base)
        CATALOG.coin(s.quote)


def test_every_coin_but_usdt_trades_against_usdt() -> None:
    usdt_bases = {s.base for s in CATALOG.quoted_in("USDT")}
    assert usdt_bases == {c.coin for c in CATALOG.coins} - {"USDT"}


def test_no_inverse_pairs_and_stablecoins_only_against_dollars() -> None:
    ids = {s.symbol for s in CATALOG.symbols}
    for s in CATALOG.symbols:
        assert s.quote + s.base not in ids, s.symbol
        if s.base in STABLECOINS:
            assert s.quote in ("USDT", "USDC"), s.symbol
    assert {"ETHBTC", "BGBBTC", "BGBETH", "BTCUSDC", "USDCUSDT"} <= ids
    assert not {"BTCETH", "BTCBGB", "ETHBGB", "USDTUSDC", "USDCBTC"} & ids


def test_cross_quotes_cover_the_top_250_coins_only() -> None:
    top = {c.coin for c in CATALOG.coins[:250]}
    for quote in ("USDC", "BTC", "ETH", "BGB"):
        assert {s.base for s in CATALOG.quoted_in(quote)} <= top
    # below 0.001 USD a BTC-quoted price would need more than 12 places: left out
    assert not CATALOG.has_symbol("SHIBBTC")
    assert not CATALOG.has_symbol("PEPEBTC")
    assert CATALOG.has_symbol("SHIBUSDT")
    assert CATALOG.has_symbol("SHIBBGB")


def test_symbol_rows_have_every_field_as_strings() -> None:
    rows = symbols_payload(CATALOG)
    assert len(rows) == len(CATALOG.symbols)
    for row in rows:
        assert set(row) == SYMBOL_FIELDS, row["symbol"]
        assert "symbolType" not in row
        assert all(isinstance(value, str) for value in row.values()), row
        assert row["status"] == "online"
        assert row["makerFeeRate"] == row["takerFeeRate"] == "0.001"
        assert row["buyLimitPriceRatio"] == row["sellLimitPriceRatio"] == "0.05"
        assert row["areaSymbol"] == "no"
        assert row["orderQuantity"] == "200"
        assert row["openTime"] == row["offTime"] == ""
        assert row["minTradeUSDT"] == "1"
    orjson.dumps(rows)


def test_btcusdt_row_exactly() -> None:
    assert symbols_payload(CATALOG, "BTCUSDT") == [
        {
            "symbol": "BTCUSDT",
            "baseCoin": "BTC",
            "quoteCoin": "USDT",
            "minTradeAmount": "0.0000001",
            "maxTradeAmount": "100",
            "takerFeeRate": "0.001",
            "makerFeeRate": "0.001",
            "pricePrecision": "0",
            "quantityPrecision": "7",
            "quotePrecision": "7",
            "status": "online",
            "minTradeUSDT": "1",
            "buyLimitPriceRatio": "0.05",
            "sellLimitPriceRatio": "0.05",
            "areaSymbol": "no",
            "orderQuantity": "200",
            "openTime": "",
            "offTime": "",
            "maxLimitOrderValue": "10000000",
            "maxMarketOrderValue": "1000000",
        }
    ]


@pytest.mark.parametrize(
    ("symbol_id", "price_places", "size_places", "ref_price"),
    [
        ("BTCUSDT", 0, 7, "104000"),
        ("ETHUSDT", 1, 5, "3600"),
        ("ETHBTC", 6, 5, "0.034615"),  # 3600 / 104000 = 0.0346153…
        ("DOGEBTC", 10, 1, "0.0000019231"),  # 0.2 / 104000 = 0.00000192307…
        ("USDCUSDT", 4, 1, "1"),
        ("SHIBUSDT", 9, 0, "0.000013"),
        ("SATSUSDT", 12, 0, "0.00000005"),
        ("BGBETH", 7, 2, "0.0012778"),  # 4.6 / 3600 = 0.00127777…
        ("PEPEBGB", 10, 0, "0.0000023913"),  # 0.000011 / 4.6 = 0.00000239130…
    ],
)
def test_precisions_and_reference_prices(
    symbol_id: str, price_places: int, size_places: int, ref_price: str
) -> None:
    s = CATALOG.symbol(symbol_id)
    assert (s.price_places, s.size_places, s.quote_places) == (
        price_places,
        size_places,
        price_places + size_places,
    )
    assert s.ref_price == ref_price


def test_precisions_stay_in_range() -> None:
    for s in CATALOG.symbols:
        assert 0 <= s.price_places <= 12, s.symbol
        assert s.size_places >= 0, s.symbol
        assert s.price_places + s.size_places <= 18, s.symbol
        assert s.min_lots == 1
        assert s.max_lots > s.min_lots


def test_reference_prices_are_positive_and_a_tick_is_1e4_to_1e5_of_them() -> None:
    """ref = ref_ticks ticks, so one tick is 1/ref_ticks of the price."""
    for s in CATALOG.symbols:
        assert s.ref_ticks >= 10_000, s.symbol
        if s.price_places > 0:
            assert s.ref_ticks <= 100_000, s.symbol
        exact = _usd(s.base) / _usd(s.quote)
        assert abs(Fraction(s.ref_ticks, 10**s.price_places) - exact) <= Fraction(
            1, 2 * 10**s.price_places
        )


def test_a_lot_is_worth_a_few_cents() -> None:
    """0.01–0.1 USDT at reference prices; coins under 0.1 USDT trade in whole coins."""
    for s in CATALOG.symbols:
        lot_usd = _usd(s.base) / 10**s.size_places
        assert lot_usd <= Fraction(1, 10), s.symbol
        if s.size_places > 0:
            assert lot_usd > Fraction(1, 100), s.symbol
    whole = {s.base for s in CATALOG.symbols if s.size_places == 0}
    assert all(_usd(coin) <= Fraction(1, 10) for coin in whole)


def test_max_trade_amount_is_a_power_of_ten_worth_up_to_1e8_usdt() -> None:
    for s in CATALOG.symbols:
        max_base = Fraction(s.max_lots, 10**s.size_places)
        assert max_base.denominator == 1
        assert str(max_base.numerator).rstrip("0") == "1"
        assert 10**7 <= max_base * _usd(s.base) <= 10**8, s.symbol


def test_top_symbols_are_the_largest_usdt_pairs() -> None:
    top = CATALOG.top_symbols(20)
    assert [s.symbol for s in top[:6]] == [
        "BTCUSDT",
        "ETHUSDT",
        "XRPUSDT",
        "BNBUSDT",
        "SOLUSDT",
        "USDCUSDT",
    ]
    assert len(top) == 20
    assert all(s.quote == "USDT" and s.online for s in top)
    assert [s.rank for s in top] == sorted(s.rank for s in top)
    assert CATALOG.top_symbols(0) == ()
    assert len(CATALOG.top_symbols(10_000)) == 432


def test_symbol_lookup_and_refusal() -> None:
    assert CATALOG.symbol("BTCUSDT").base == "BTC"
    assert CATALOG.symbol("btcusdt") is CATALOG.symbol("BTCUSDT")
    with pytest.raises(UnknownSymbol) as caught:
        CATALOG.symbol("BTCUSDX")
    assert caught.value.code == "50004"
    assert caught.value.msg == (
        "The transaction pair is currently not supported or has been suspended: BTCUSDX"
    )
    with pytest.raises(UnknownSymbol) as caught:
        CATALOG.symbol("X" * 500)
    assert "XXXX" not in caught.value.msg
    with pytest.raises(UnknownSymbol):
        CATALOG.symbol(None)  # type: ignore[arg-type]
    with pytest.raises(UnknownSymbol):
        symbols_payload(CATALOG, "NOPEUSDT")
    assert symbols_payload(CATALOG, "")[0]["symbol"] == CATALOG.symbols[0].symbol


def test_coin_lookup_and_refusal() -> None:
    assert CATALOG.coin("USDT").coin_id == 3
    with pytest.raises(UnknownCoin) as caught:
        CATALOG.coin("NOPE")
    assert (caught.value.code, caught.value.msg) == ("40034", "Parameter NOPE does not exist")
    with pytest.raises(UnknownCoin):
        coins_payload(CATALOG, "usdt")
    with pytest.raises(ParamInvalid):
        CATALOG.coin("USDT").chain("OMNI")
    assert CATALOG.coin("USDT").chain("TRC20").chain == "TRC20"


def test_default_catalog_is_shared_and_rebuilds_identically() -> None:
    assert default_catalog() is CATALOG
    again = Catalog()
    assert again.symbols == CATALOG.symbols
    assert again.coins == CATALOG.coins


def test_a_catalog_from_custom_lines() -> None:
    lines = [
        "BTC 50000 BTC",
        "ETH 2500 ERC20",
        "USDT 1 TRC20 ERC20",
        "USDC 1 ERC20",
        "BGB 5 ERC20",
        "XYZ 0.5 ERC20",
    ]
    small = Catalog(lines, cross_top=3)
    assert [s.symbol for s in small.symbols] == [
        "BTCUSDT",
        "ETHUSDT",
        "USDCUSDT",
        "BGBUSDT",
        "XYZUSDT",
        "BTCUSDC",
        "ETHUSDC",
        "ETHBTC",
    ]
    with pytest.raises(ValueError, match="quote coins missing"):
        Catalog(lines[:3])
    with pytest.raises(ValueError, match="duplicate coin"):
        Catalog([*lines, "XYZ 1 ERC20"])


# --- coins -----------------------------------------------------------------------------


def test_coin_rows_have_every_field() -> None:
    rows = coins_payload(CATALOG)
    assert [row["coin"] for row in rows] == [c.coin for c in CATALOG.coins]
    assert [row["coinId"] for row in rows] == [str(i) for i in range(1, len(rows) + 1)]
    for row in rows:
        assert set(row) == COIN_FIELDS
        assert row["transfer"] == "true"
        assert row["areaCoin"] == "no"
        assert row["chains"], row["coin"]
        names = [chain["chain"] for chain in row["chains"]]
        assert len(names) == len(set(names))
        for chain in row["chains"]:
            assert set(chain) == CHAIN_FIELDS
            for key, value in chain.items():
                if key == "contractAddress":
                    assert value is None or (isinstance(value, str) and value)
                else:
                    assert isinstance(value, str) and value, (row["coin"], key)
            assert chain["needTag"] in ("true", "false")
            assert chain["withdrawable"] == chain["rechargeable"] == "true"
            assert chain["extraWithdrawFee"] == chain["withdrawStep"] == "0"
            assert chain["congestion"] == "normal"
            assert chain["browserUrl"].startswith("https://")
            assert int(chain["depositConfirm"]) >= 1
            assert int(chain["withdrawConfirm"]) >= int(chain["depositConfirm"])
    orjson.dumps(rows)


def test_withdraw_fees_and_minimums_follow_the_price() -> None:
    for coin in CATALOG.coins:
        price = coin.ref_price_usd
        for chain in coin.chains:
            unit = 10 ** (18 - chain.withdraw_scale)
            for atoms in (chain.withdraw_fee_atoms, chain.min_withdraw_atoms):
                assert atoms > 0
                assert atoms % unit == 0, (coin.coin, chain.chain)
            fee_usd = Fraction(chain.withdraw_fee_atoms, ATOMS_PER_UNIT) * price
            assert Fraction(1, 20) <= fee_usd <= 10, (coin.coin, chain.chain, fee_usd)
            min_usd = Fraction(chain.min_withdraw_atoms, ATOMS_PER_UNIT) * price
            assert chain.min_withdraw_atoms >= 2 * chain.withdraw_fee_atoms
            assert 10 <= min_usd <= 100, (coin.coin, chain.chain)
            deposit_usd = Fraction(chain.min_deposit_atoms, ATOMS_PER_UNIT) * price
            assert Fraction(1, 10) <= deposit_usd <= 1, (coin.coin, chain.chain)
            assert 0 <= chain.withdraw_scale <= 8


def test_chain_details_for_known_coins() -> None:
    (btc,) = coins_payload(CATALOG, "BTC")[0]["chains"]
    assert btc == {
        "chain": "BTC",
        "needTag": "false",
        "withdrawable": "true",
        "rechargeable": "true",
        "withdrawFee": "0.000077",  # 8 USD at 104000, two significant digits, rounded up
        "extraWithdrawFee": "0",
        "depositConfirm": "1",
        "withdrawConfirm": "2",
        "minDepositAmount": "0.000001",
        "minWithdrawAmount": "0.0002",  # 2 × fee = 0.000154, rounded up to one digit
        "browserUrl": "https://mempool.space/tx/",
        "contractAddress": None,
        "withdrawStep": "0",
        "withdrawMinScale": "8",
        "congestion": "normal",
    }
    usdt = {c["chain"]: c for c in coins_payload(CATALOG, "USDT")[0]["chains"]}
    assert list(usdt)[:4] == ["TRC20", "ERC20", "BSC", "SOL"]
    assert (usdt["TRC20"]["withdrawFee"], usdt["TRC20"]["minWithdrawAmount"]) == ("1.5", "10")
    assert usdt["TRC20"]["withdrawMinScale"] == "6"
    erc20 = usdt["ERC20"]["contractAddress"]
    assert erc20 is not None and erc20.startswith("0x") and len(erc20) == 42
    int(erc20, 16)
    trc20 = usdt["TRC20"]["contractAddress"]
    assert trc20 is not None and trc20.startswith("T") and len(trc20) == 34
    assert usdt["TON"]["needTag"] == "true"
    eth = {c["chain"]: c for c in coins_payload(CATALOG, "ETH")[0]["chains"]}
    assert eth["ERC20"]["contractAddress"] is None  # native
    assert eth["ArbitrumOne"]["contractAddress"] is None  # gas coin of the L2
    assert eth["BSC"]["contractAddress"] is not None  # a token there


@pytest.mark.parametrize("coin", ["XRP", "XLM", "EOS", "ATOM", "HBAR", "TON", "STX"])
def test_memo_chains_need_a_tag(coin: str) -> None:
    assert [c.need_tag for c in CATALOG.coin(coin).chains] == [True]


def test_withdraw_amount_parsing_uses_the_chain_scale() -> None:
    chain = CATALOG.coin("USDT").chain("TRC20")
    assert chain.parse_withdraw_amount("20.123456") == 20_123_456 * 10**12
    with pytest.raises(PrecisionError, match="checkScale=6"):
        chain.parse_withdraw_amount("20.1234567")
