"""Exact amounts. Never a float.

Inside Sealbook every balance, price and size is an ``int``:

* the ledger counts **atoms**: 10^-18 of a unit, the same scale for every asset, so a
  posting never needs rounding and any asset's amounts add up exactly;
* the matching engine counts **ticks** of price (10^-pricePrecision of the quote coin)
  and **lots** of quantity (10^-quantityPrecision of the base coin), per symbol.

Decimal strings exist only at the edges (the wire, the CLI, storage). Parsing refuses
anything that is not a plain decimal with at most the allowed number of places: there is
no silent rounding at the edge. Where arithmetic must round (a fee, a value conversion),
the function says which way, and the rule is always the one that favours the customer:
fees round down, and what a customer receives is never rounded up against them.
"""

from __future__ import annotations

import re
from decimal import Decimal

__all__ = [
    "ATOMS_PER_UNIT",
    "ATOM_PLACES",
    "MoneyError",
    "atoms_to_str",
    "from_units",
    "lots_to_atoms",
    "parse_atoms",
    "parse_scaled",
    "scaled_to_str",
    "ticks_lots_to_quote_atoms",
]

ATOM_PLACES = 18
ATOMS_PER_UNIT = 10**ATOM_PLACES

_DECIMAL = re.compile(r"^(?P<sign>-?)(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]+))?$")


class MoneyError(ValueError):
    """Not a decimal we accept: wrong shape, too many places, or out of range."""


def parse_scaled(text: str, places: int, *, allow_negative: bool = False) -> int:
    """``"1.25"`` with ``places=4`` → ``12500``. More places than allowed is an error,
    unless the extra digits are zeros (``"1.2500000"`` is fine)."""
    if type(text) is str:
        # The common shape ("123" or "123.45", ASCII digits) without the regex; anything
        # else (signs, spaces, errors) takes the general path below.
        whole, dot, frac = text.partition(".")
        if (
            whole.isdigit()
            and whole.isascii()
            and len(whole) <= 30
            and (not dot or (frac.isdigit() and frac.isascii()))
        ):
            frac = frac.rstrip("0")
            if len(frac) <= places:
                fast: int = int(whole) * 10**places
                if frac:
                    fast += int(frac) * 10 ** (places - len(frac))
                return fast
    elif not isinstance(text, str):
        raise MoneyError("amounts must be decimal strings")
    match = _DECIMAL.fullmatch(text.strip())
    if match is None:
        raise MoneyError(f"{text!r} is not a plain decimal number")
    if match["sign"] and not allow_negative:
        raise MoneyError(f"{text!r} must not be negative")
    frac = (match["frac"] or "").rstrip("0")
    if len(frac) > places:
        raise MoneyError(f"{text!r} has more than {places} decimal places")
    if len(match["int"]) > 30:
        raise MoneyError(f"{text!r} is out of range")
    value: int = int(match["int"]) * 10**places + int(frac.ljust(places, "0") or "0")
    return -value if match["sign"] else value


def scaled_to_str(value: int, places: int, *, trim: bool = True) -> str:
    """``12500`` with ``places=4`` → ``"1.25"`` (or ``"1.2500"`` with ``trim=False``)."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**places)
    if places == 0:
        return f"{sign}{whole}"
    digits = str(frac).rjust(places, "0")
    if trim:
        digits = digits.rstrip("0")
    return f"{sign}{whole}.{digits}" if digits else f"{sign}{whole}"


def parse_atoms(text: str, *, allow_negative: bool = False) -> int:
    return parse_scaled(text, ATOM_PLACES, allow_negative=allow_negative)


def atoms_to_str(atoms: int, places: int | None = None) -> str:
    """Atoms as a decimal string; ``places`` cuts to that many places, rounding down."""
    if places is None:
        return scaled_to_str(atoms, ATOM_PLACES)
    factor = 10 ** (ATOM_PLACES - places)
    truncated = (abs(atoms) // factor) * (1 if atoms >= 0 else -1)
    return scaled_to_str(truncated, places)


def from_units(units: int | str | Decimal) -> int:
    """Whole units (or a decimal string) to atoms, for constants and tests."""
    return parse_atoms(str(units))


def lots_to_atoms(lots: int, quantity_places: int) -> int:
    scale: int = 10 ** (ATOM_PLACES - quantity_places)
    return lots * scale


def ticks_lots_to_quote_atoms(
    ticks: int, lots: int, price_places: int, quantity_places: int
) -> int:
    """Exact quote value of ``lots`` at ``ticks`` (needs price + quantity places ≤ 18)."""
    scale: int = 10 ** (ATOM_PLACES - price_places - quantity_places)
    return ticks * lots * scale
