"""Exact amounts: parsing refuses what it cannot represent, rendering round-trips."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealbook.money import (
    ATOMS_PER_UNIT,
    MoneyError,
    atoms_to_str,
    from_units,
    lots_to_atoms,
    parse_atoms,
    parse_scaled,
    scaled_to_str,
    ticks_lots_to_quote_atoms,
)


def test_parse_scaled_exact_values() -> None:
    assert parse_scaled("1.25", 4) == 12_500
    assert parse_scaled("0.0001", 4) == 1
    assert parse_scaled("12", 0) == 12
    assert parse_scaled("1.2500000", 2) == 125  # trailing zeros beyond the places are fine
    assert parse_scaled("-3.5", 1, allow_negative=True) == -35


@pytest.mark.parametrize(
    "text", ["1.00001", "١٢", "1e5", "abc", "", " ", "1.", ".5", "0x10", "1,5", "NaN", "inf"]
)
def test_parse_scaled_refuses_what_it_cannot_represent(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_scaled(text, 4)


def test_negative_refused_unless_allowed() -> None:
    with pytest.raises(MoneyError):
        parse_scaled("-1", 2)


def test_floats_are_refused() -> None:
    with pytest.raises(MoneyError):
        parse_scaled(1.5, 2)  # type: ignore[arg-type]


def test_rendering() -> None:
    assert scaled_to_str(12_500, 4) == "1.25"
    assert scaled_to_str(12_500, 4, trim=False) == "1.2500"
    assert scaled_to_str(-1, 3) == "-0.001"
    assert scaled_to_str(7, 0) == "7"
    assert atoms_to_str(from_units("1.23456789"), 4) == "1.2345"  # cut, never rounded up
    assert atoms_to_str(-from_units("1.23456789"), 4) == "-1.2345"
    assert atoms_to_str(ATOMS_PER_UNIT) == "1"


def test_symbol_arithmetic_is_exact() -> None:
    # 0.001 BTC (quantity places 6 → 1000 lots) at 30000.5 USDT (price places 2 → 3000050 ticks)
    assert ticks_lots_to_quote_atoms(3_000_050, 1_000, 2, 6) == parse_atoms("30.0005")
    assert lots_to_atoms(1_000, 6) == parse_atoms("0.001")


@given(
    st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=8, allow_nan=False)
)
def test_round_trip(value: Decimal) -> None:
    text = format(value, "f")
    assert Decimal(scaled_to_str(parse_scaled(text, 8, allow_negative=True), 8)) == value
