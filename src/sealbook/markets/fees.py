"""The fee schedule: exact rates, fee amounts rounded down, and the BGB deduction.

Rates are whole **parts per million** (``1000`` ppm = 0.1 %), so every fee is integer
arithmetic on atoms (10^-18 of a coin, see :mod:`sealbook.money`):

* spot: maker 0.1 %, taker 0.1 %; futures: maker 0.02 %, taker 0.06 % (BITGET_WIRE §5.3);
* :func:`fee_atoms` rounds **down** — the customer never pays a fraction of an atom more
  than the rate says (Sealbook's rounding rule: what the customer pays rounds in their
  favour);
* paying the fee in BGB costs 20 % less: :func:`bgb_fee_atoms` takes the fee's value in
  USDT, keeps 80 % of it and converts it to BGB at the last BGB/USDT price, rounding down.
  Whether the deduction applies (the user's toggle, enough BGB) is the trading service's
  decision, not this module's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from sealbook.errors import ParamInvalid
from sealbook.money import MoneyError, parse_scaled, scaled_to_str

__all__ = [
    "BGB_DISCOUNT_PPM",
    "PPM",
    "FeeRate",
    "FeeSchedule",
    "TradeRateRow",
    "bgb_fee_atoms",
    "fee_atoms",
    "trade_rate_payload",
]

PPM = 1_000_000
RATE_PLACES = 6
BGB_DISCOUNT_PPM = 200_000  # 20 % off when the fee is paid in BGB


@dataclass(frozen=True, slots=True, order=True)
class FeeRate:
    """A fee rate in parts per million: ``FeeRate(1000)`` is 0.1 % (``"0.001"`` on the wire)."""

    ppm: int

    def __post_init__(self) -> None:
        if not isinstance(self.ppm, int) or isinstance(self.ppm, bool):
            raise TypeError("a fee rate is a whole number of parts per million")
        if not 0 <= self.ppm <= PPM:
            raise ValueError(f"fee rate {self.ppm} ppm is outside 0..{PPM}")

    @classmethod
    def parse(cls, text: str) -> FeeRate:
        """``"0.001"`` → ``FeeRate(1000)``; at most six places, never negative."""
        try:
            return cls(parse_scaled(text, RATE_PLACES))
        except MoneyError as exc:
            raise ValueError(f"not a fee rate: {exc}") from None

    def __str__(self) -> str:
        return scaled_to_str(self.ppm, RATE_PLACES)


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Base rates (no VIP tiers yet)."""

    spot_maker: FeeRate = FeeRate(1000)
    spot_taker: FeeRate = FeeRate(1000)
    futures_maker: FeeRate = FeeRate(200)
    futures_taker: FeeRate = FeeRate(600)
    bgb_discount_ppm: int = BGB_DISCOUNT_PPM

    def rates(self, business_type: str = "spot") -> tuple[FeeRate, FeeRate]:
        """``(maker, taker)`` for Bitget's ``businessType``: ``spot`` and ``margin`` pay spot
        rates, ``mix`` (futures) the futures rates."""
        if business_type in ("spot", "margin"):
            return self.spot_maker, self.spot_taker
        if business_type == "mix":
            return self.futures_maker, self.futures_taker
        raise ParamInvalid("businessType", "expected spot, margin or mix")

    def spot(self, *, maker: bool) -> FeeRate:
        return self.spot_maker if maker else self.spot_taker


def fee_atoms(amount_atoms: int, rate: FeeRate) -> int:
    """The fee on ``amount_atoms`` (of whatever coin the fee is charged in), rounded down.

    ``fee_atoms(10**18, FeeRate(1000)) == 10**15`` (0.1 % of one coin). Rounding down means
    a fill too small to owe a whole atom of fee pays nothing.
    """
    if amount_atoms < 0:
        raise ValueError("fees are computed on non-negative amounts")
    return amount_atoms * rate.ppm // PPM


def bgb_fee_atoms(
    fee_value_in_usdt_atoms: int,
    bgb_usdt_price_ticks: int,
    bgb_price_places: int,
    *,
    discount_ppm: int = BGB_DISCOUNT_PPM,
) -> int:
    """BGB atoms charged instead of a fee worth ``fee_value_in_usdt_atoms`` USDT atoms.

    ``(1 - discount)`` of the fee's value, divided by the BGB/USDT price
    ``bgb_usdt_price_ticks × 10^-bgb_price_places``, rounded down. Atoms are 10^-18 of a
    coin for both USDT and BGB, so::

        bgb_atoms = floor(fee × (PPM - discount) × 10^places / (PPM × ticks))

    A 1 USDT fee at BGB = 4.6 (46000 ticks at 4 places) costs
    ``floor(0.8 / 4.6 BGB) = 173913043478260869`` BGB atoms.
    """
    if fee_value_in_usdt_atoms < 0:
        raise ValueError("a fee value is never negative")
    if bgb_usdt_price_ticks <= 0:
        raise ValueError("the BGB price must be positive")
    if bgb_price_places < 0:
        raise ValueError("price places are never negative")
    if not 0 <= discount_ppm <= PPM:
        raise ValueError(f"discount {discount_ppm} ppm is outside 0..{PPM}")
    scale: int = 10**bgb_price_places
    numerator = fee_value_in_usdt_atoms * (PPM - discount_ppm) * scale
    return numerator // (PPM * bgb_usdt_price_ticks)


class TradeRateRow(TypedDict):
    makerFeeRate: str
    takerFeeRate: str


def trade_rate_payload(schedule: FeeSchedule, business_type: str = "spot") -> TradeRateRow:
    """``data`` of ``GET /api/v2/common/trade-rate?symbol=…&businessType=…``.

    Rates are the same for every symbol (no VIP tiers, no per-symbol overrides yet), so the
    symbol only needs checking by the caller (``catalog.symbol(id)``).
    """
    maker, taker = schedule.rates(business_type)
    return {"makerFeeRate": str(maker), "takerFeeRate": str(taker)}
