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


def _reference_parse(text: str, places: int) -> int | None:
    """The documented rule, written plainly with Decimal: a plain ASCII decimal (optional
    surrounding spaces), no sign, at most ``places`` places once trailing zeros go."""
    stripped = text.strip()
    whole, dot, frac = stripped.partition(".")
    digits = set("0123456789")
    if not whole or not set(whole) <= digits or len(whole) > 30:
        return None
    if dot and (not frac or not set(frac) <= digits):
        return None
    if len(frac.rstrip("0")) > places:
        return None
    return int(Decimal(stripped).scaleb(places))


@given(
    st.text(alphabet="0123456789.-+ e٣²", max_size=14),
    st.integers(min_value=0, max_value=18),
)
def test_parse_scaled_agrees_with_the_rule_on_any_text(text: str, places: int) -> None:
    # parse_scaled has a fast path for the common shape; on any text it must say what the
    # plain rule says: the same value, or a refusal.
    expected = _reference_parse(text, places)
    if expected is None:
        with pytest.raises(MoneyError):
            parse_scaled(text, places)
    else:
        assert parse_scaled(text, places) == expected
