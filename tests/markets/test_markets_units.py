"""Symbol conversions: decimal text ↔ ticks and lots, and lots/ticks → atoms."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sealbook.errors import PrecisionError, RequestError
from sealbook.markets import default_catalog

CATALOG = default_catalog()
ETH = CATALOG.symbol("ETHUSDT")  # price 1 place, size 5 places
BTC = CATALOG.symbol("BTCUSDT")  # price 0 places, size 7 places
SHIB = CATALOG.symbol("SHIBUSDT")  # price 9 places, size 0 places
DOGEBTC = CATALOG.symbol("DOGEBTC")  # price 10 places, size 1 place


def test_eth_usdt_conversions_by_hand() -> None:
    assert ETH.parse_price("3600.5") == 36005
    assert ETH.parse_price("3600.50") == 36005  # trailing zeros are not extra places
    assert ETH.parse_price("3600") == 36000
    assert ETH.price_str(36005) == "3600.5"
    assert ETH.price_str(36000) == "3600"
    assert ETH.parse_size("0.12345") == 12345
    assert ETH.size_str(12345) == "0.12345"
    assert ETH.base_atoms(12345) == 123_450_000_000_000_000  # 0.12345 ETH
    # 3600.5 × 0.12345 = 444.481725 USDT
    assert ETH.quote_atoms(36005, 12345) == 444_481_725 * 10**12
    assert ETH.price_atoms(36005) == 3600_5 * 10**17
    assert ETH.parse_quote_amount("444.481725") == 444_481_725 * 10**12


def test_extreme_precisions_by_hand() -> None:
    assert BTC.parse_price("104000") == 104000
    assert BTC.parse_size("0.0000001") == 1
    assert BTC.base_atoms(1) == 10**11
    assert BTC.quote_atoms(104000, 1) == 104000 * 10**11  # 0.0104 USDT
    assert SHIB.parse_price("0.000013") == 13000
    assert SHIB.parse_size("1000000") == 1000000
    assert SHIB.quote_atoms(13000, 1000000) == 13 * 10**18  # a million SHIB = 13 USDT
    assert DOGEBTC.parse_price("0.0000019231") == 19231
    assert DOGEBTC.quote_atoms(19231, 10) == 19231 * 10**8  # 1 DOGE = 0.0000019231 BTC
    assert DOGEBTC.price_str(1) == "0.0000000001"


def test_zero_parses_and_minimums_are_the_callers_job() -> None:
    assert ETH.parse_price("0") == 0
    assert ETH.parse_size("0.00000") == 0


@pytest.mark.parametrize(
    ("method", "text", "field", "scale"),
    [
        ("parse_price", "3600.55", "price", 1),
        ("parse_size", "0.123456", "size", 5),
        ("parse_price", "104000.5", "price", 0),
    ],
)
def test_too_many_places_is_bitget_40808(method: str, text: str, field: str, scale: int) -> None:
    symbol = BTC if text.startswith("104000") else ETH
    with pytest.raises(PrecisionError) as caught:
        getattr(symbol, method)(text)
    error = caught.value
    assert isinstance(error, RequestError)
    assert error.code == "40808"
    assert error.msg == (
        f"Parameter verification exception {field} checkBDScale error "
        f"value={text} checkScale={scale}"
    )


@pytest.mark.parametrize(
    "text",
    [
        "-1",
        "-0.1",
        "+1",
        "abc",
        "1e5",
        "1E5",
        "",
        " ",
        ".5",
        "1.",
        "0x10",
        "1,5",
        "1_000",
        "NaN",
        "inf",
        "١٢",  # Arabic-Indic digits: str.isdigit, but not a plain ASCII decimal
        "1" * 65,
        "1" * 31,  # more than 30 integer digits
    ],
)
def test_garbage_is_refused(text: str) -> None:
    for parse in (ETH.parse_price, ETH.parse_size, ETH.parse_quote_amount):
        with pytest.raises(PrecisionError) as caught:
            parse(text)
        assert caught.value.code == "40808"
        assert len(caught.value.msg) < 200


@pytest.mark.parametrize("value", [None, 1.5, 100, b"1"])
def test_non_strings_are_refused(value: object) -> None:
    with pytest.raises(PrecisionError, match="must be a decimal string"):
        ETH.parse_price(value)  # type: ignore[arg-type]


def test_every_reference_price_and_limit_round_trips() -> None:
    for s in CATALOG.symbols:
        assert s.parse_price(s.ref_price) == s.ref_ticks
        assert s.parse_size(s.size_str(s.max_lots)) == s.max_lots
        assert s.parse_size(s.size_str(s.min_lots)) == s.min_lots


@settings(max_examples=300, deadline=None)
@given(
    index=st.integers(0, len(CATALOG.symbols) - 1),
    ticks=st.integers(0, 10**20),
    lots=st.integers(0, 10**20),
)
def test_text_round_trips(index: int, ticks: int, lots: int) -> None:
    s = CATALOG.symbols[index]
    assert s.parse_price(s.price_str(ticks)) == ticks
    assert s.parse_size(s.size_str(lots)) == lots
    quote = s.quote_atoms(ticks, lots)
    assert quote == s.price_atoms(ticks) * lots // 10**s.size_places
    assert quote * 10**s.size_places == s.price_atoms(ticks) * lots  # exact, no rounding
