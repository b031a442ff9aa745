"""Fee rates, fee rounding (down) and the BGB deduction, against hand-computed values."""

from __future__ import annotations

import pytest

from sealbook.errors import ParamInvalid
from sealbook.markets import (
    BGB_DISCOUNT_PPM,
    Catalog,
    FeeRate,
    FeeSchedule,
    bgb_fee_atoms,
    default_catalog,
    fee_atoms,
    symbols_payload,
    trade_rate_payload,
)

UNIT = 10**18  # atoms per coin


def test_default_schedule_is_bitgets_base_rates() -> None:
    schedule = FeeSchedule()
    assert schedule.rates("spot") == (FeeRate(1000), FeeRate(1000))  # 0.1 % / 0.1 %
    assert schedule.rates("margin") == (FeeRate(1000), FeeRate(1000))
    assert schedule.rates("mix") == (FeeRate(200), FeeRate(600))  # 0.02 % / 0.06 %
    assert schedule.spot(maker=True) == schedule.spot(maker=False) == FeeRate(1000)
    assert schedule.bgb_discount_ppm == BGB_DISCOUNT_PPM == 200_000


@pytest.mark.parametrize(
    ("ppm", "text"),
    [(1000, "0.001"), (200, "0.0002"), (600, "0.0006"), (0, "0"), (1, "0.000001"), (10**6, "1")],
)
def test_rate_text(ppm: int, text: str) -> None:
    assert str(FeeRate(ppm)) == text
    assert FeeRate.parse(text) == FeeRate(ppm)


@pytest.mark.parametrize("text", ["0.0000001", "-0.001", "abc", "1e-3", "1.5"])
def test_bad_rate_text(text: str) -> None:
    with pytest.raises(ValueError):
        FeeRate.parse(text)


def test_rates_are_whole_ppm_in_range() -> None:
    with pytest.raises(ValueError):
        FeeRate(-1)
    with pytest.raises(ValueError):
        FeeRate(10**6 + 1)
    with pytest.raises(TypeError):
        FeeRate(True)
    with pytest.raises(TypeError):
        FeeRate(0.001)  # type: ignore[arg-type]


def test_fee_amounts_by_hand() -> None:
    spot, futures_taker = FeeRate(1000), FeeRate(600)
    assert fee_atoms(UNIT, spot) == 10**15  # 0.1 % of one coin
    # 12345.678901 USDT traded: fee 12.345678901 USDT, exact
    assert fee_atoms(12_345_678_901 * 10**12, spot) == 12_345_678_901 * 10**9
    assert fee_atoms(UNIT, futures_taker) == 6 * 10**14
    assert fee_atoms(0, spot) == 0


def test_fees_round_down() -> None:
    spot = FeeRate(1000)
    assert fee_atoms(999, spot) == 0  # 0.999 atom owed: nothing charged
    assert fee_atoms(1999, spot) == 1  # 1.999 → 1
    assert fee_atoms(2000, spot) == 2
    # 3600.5 × 0.12345 ETH = 444.481725 USDT; fee 0.444481725 USDT exactly
    eth = default_catalog().symbol("ETHUSDT")
    assert fee_atoms(eth.quote_atoms(36005, 12345), spot) == 444_481_725 * 10**9
    # 0.0000001 BTC at 104000 = 0.0104 USDT; fee 0.0000104 USDT
    btc = default_catalog().symbol("BTCUSDT")
    assert fee_atoms(btc.quote_atoms(104000, 1), spot) == 104 * 10**11
    assert fee_atoms(btc.base_atoms(1), spot) == 10**8  # 0.1 % of 10^11 atoms of BTC
    with pytest.raises(ValueError):
        fee_atoms(-1, spot)


def test_bgb_deduction_by_hand() -> None:
    # 1 USDT fee, BGB at 4.6 (46000 ticks, 4 places): 0.8 / 4.6 = 0.1739130434782608695… BGB
    assert bgb_fee_atoms(UNIT, 46000, 4) == 173_913_043_478_260_869
    # 0.1 USDT fee, BGB at 5: 0.08 / 5 = 0.016 BGB exactly, whatever the price scale
    assert bgb_fee_atoms(UNIT // 10, 5, 0) == 16 * 10**15
    assert bgb_fee_atoms(UNIT // 10, 50000, 4) == 16 * 10**15
    # without the discount: 0.1 / 5 = 0.02 BGB
    assert bgb_fee_atoms(UNIT // 10, 5, 0, discount_ppm=0) == 2 * 10**16
    # rounding down: 7 atoms × 0.8 = 5.6 → 5; 1 atom at 4.6 → 0
    assert bgb_fee_atoms(7, 1, 0) == 5
    assert bgb_fee_atoms(1, 46000, 4) == 0
    assert bgb_fee_atoms(0, 46000, 4) == 0


def test_bgb_deduction_of_a_real_fill() -> None:
    """Taker buys 0.12345 ETH at 3600.5; pays the 0.444481725 USDT fee in BGB at 4.6."""
    catalog = default_catalog()
    eth, bgb = catalog.symbol("ETHUSDT"), catalog.symbol("BGBUSDT")
    fee = fee_atoms(eth.quote_atoms(36005, 12345), FeeRate(1000))
    price_ticks = bgb.parse_price("4.6")
    assert bgb.price_places == 4 and price_ticks == 46000
    # 0.444481725 × 0.8 / 4.6 = 0.07730116956521739130… BGB
    assert bgb_fee_atoms(fee, price_ticks, bgb.price_places) == 77_301_169_565_217_391


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((-1, 46000, 4), {}),
        ((UNIT, 0, 4), {}),
        ((UNIT, -5, 4), {}),
        ((UNIT, 46000, -1), {}),
        ((UNIT, 46000, 4), {"discount_ppm": 10**6 + 1}),
    ],
)
def test_bgb_deduction_refuses_nonsense(args: tuple[int, int, int], kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        bgb_fee_atoms(*args, **kwargs)


def test_trade_rate_payload() -> None:
    schedule = FeeSchedule()
    spot = {"makerFeeRate": "0.001", "takerFeeRate": "0.001"}
    assert trade_rate_payload(schedule) == spot
    assert trade_rate_payload(schedule, "spot") == spot
    assert trade_rate_payload(schedule, "margin") == spot
    assert trade_rate_payload(schedule, "mix") == {
        "makerFeeRate": "0.0002",
        "takerFeeRate": "0.0006",
    }
    vip = FeeSchedule(spot_maker=FeeRate.parse("0.0008"), spot_taker=FeeRate.parse("0.00095"))
    assert trade_rate_payload(vip) == {"makerFeeRate": "0.0008", "takerFeeRate": "0.00095"}
    with pytest.raises(ParamInvalid) as caught:
        trade_rate_payload(schedule, "options")
    assert caught.value.code == "40020"


def test_symbols_carry_the_schedules_spot_rates() -> None:
    vip = FeeSchedule(spot_maker=FeeRate(800), spot_taker=FeeRate(950))
    row = symbols_payload(Catalog(fees=vip), "BTCUSDT")[0]
    assert (row["makerFeeRate"], row["takerFeeRate"]) == ("0.0008", "0.00095")
