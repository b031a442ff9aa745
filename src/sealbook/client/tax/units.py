"""Exact scaled integers for the tax engine: 10^-18 of a coin, 10^-18 of a US dollar.

Exchanges publish at most 18 decimals, so turning their decimal strings into atoms is
exact; a value (atoms x a USD rate) is rounded half-to-even to 10^-18 USD, the only
rounding before the report's cents.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation

from sealbook.client.errors import ClientError

__all__ = ["ATOMS", "PLACES", "from_atoms", "plain", "to_atoms", "to_cents", "value_atoms"]

PLACES = 18
ATOMS: int = 10**PLACES
_WIDE = Context(prec=80)  # wide enough that multiplying two 18-place numbers never rounds
_CENT = Decimal("0.01")


def to_atoms(text: str | Decimal) -> int:
    """``"1.5"`` -> 1.5 x 10^18. A value with more than 18 decimals or not a number is
    refused rather than rounded."""
    if isinstance(text, str):
        # The common case, plain digits as exchanges send them, without Decimal's cost.
        whole, dot, frac = text.partition(".")
        negative = whole.startswith("-")
        digits = whole[1:] if negative else whole
        if not text.isascii():
            raise ClientError(f"not a decimal number: {text!r}")
        plain_frac = not dot or frac.isdigit()
        if digits.isdigit() and len(frac) <= PLACES and plain_frac:
            atoms = int(digits) * ATOMS + (int(frac.ljust(PLACES, "0")) if frac else 0)
            return -atoms if negative else atoms
    try:
        value = text if isinstance(text, Decimal) else Decimal(str(text).strip())
    except InvalidOperation:
        raise ClientError(f"not a decimal number: {text!r}") from None
    if not value.is_finite():
        raise ClientError(f"not a finite number: {text!r}")
    scaled = _WIDE.multiply(value, Decimal(ATOMS))
    if scaled != scaled.to_integral_value():
        raise ClientError(f"{text!r} has more than {PLACES} decimals")
    return int(scaled)


def from_atoms(atoms: int) -> Decimal:
    """The exact decimal of ``atoms`` (trailing zeros dropped)."""
    if atoms == 0:
        return Decimal(0)
    value = Decimal(atoms).scaleb(-PLACES, _WIDE).normalize(_WIDE)
    if int(value.as_tuple().exponent) > 0:  # 9.9E+3 -> 9900: plain digits for people
        value = value.quantize(Decimal(1), context=_WIDE)
    return value


def plain(atoms: int) -> str:
    """``atoms`` as a decimal string without exponent: ``"0.000000000000000001"``."""
    return format(from_atoms(atoms), "f")


def value_atoms(atoms: int, rate: Decimal) -> int:
    """USD atoms of ``atoms`` of a coin at ``rate`` USD per coin, half-to-even."""
    if rate == 1:
        return atoms
    product = _WIDE.multiply(Decimal(atoms), rate)
    return int(product.to_integral_value(ROUND_HALF_EVEN, _WIDE))


def to_cents(atoms: int) -> Decimal:
    """USD atoms rounded half-to-even to cents, for the forms."""
    return from_atoms(atoms).quantize(_CENT, ROUND_HALF_EVEN, _WIDE)
