"""Hand-computed disposals for FIFO, LIFO, HIFO and ACB.

Account ``a`` in 2025 (USDT at 1:1; BGB valued at 0.5 USD at t3):

  t0 01-01  buy 10.01 BGB @ 0.4, fee 0.01 BGB     -> BGB lot: 10 BGB, basis 4.004
  t1 01-10  buy 1 BTC @ 100, fee 0.1 USDT         -> lot1: 1 BTC, basis 100.1   (100.1/BTC)
  t2 02-10  buy 2.002 BTC @ 150, fee 0.002 BTC    -> lot2: 2 BTC, basis 300.3   (150.15/BTC)
  t3 03-10  buy 1 BTC @ 120, fee 0.2 BGB (= 0.1)  -> lot3: 1 BTC, basis 120.1   (120.1/BTC)
            and 0.2 BGB disposed of for 0.1 (basis 4.004 x 0.2/10 = 0.08008)
  t4 04-10  sell 2.5 BTC @ 200, fee 0.5 USDT      -> proceeds 499.5
  t5 05-01  sell 1 ETH @ 50, fee 0.05 USDT        -> proceeds 49.95, no purchase: basis 0
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from sealbook.client.errors import ClientError
from sealbook.client.tax import RateRow, ReportSettings, TradeRow, TransferRow, compute_report
from sealbook.client.tax.report import Report
from sealbook.client.tax.units import from_atoms


def ms(day: str, hour: int = 12) -> int:
    return int(datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC).timestamp() * 1000)


_ids = iter(range(1, 10_000))


def trade(
    day: str, side: str, symbol: str, amount: str, price: str, fee: str = "0",
    fee_coin: str = "", account: str = "a", hour: int = 12,
) -> TradeRow:
    base, quote = symbol.split("/")
    cost = str(Decimal(amount) * Decimal(price))
    n = next(_ids)
    return TradeRow(account, str(n), str(n), symbol, base, quote, side, amount, price, cost,
                    fee, fee_coin, ms(day, hour))


TRADES = [
    trade("2025-01-01", "buy", "BGB/USDT", "10.01", "0.4", "0.01", "BGB"),
    trade("2025-01-10", "buy", "BTC/USDT", "1", "100", "0.1", "USDT"),
    trade("2025-02-10", "buy", "BTC/USDT", "2.002", "150", "0.002", "BTC"),
    trade("2025-03-10", "buy", "BTC/USDT", "1", "120", "0.2", "BGB"),
    trade("2025-04-10", "sell", "BTC/USDT", "2.5", "200", "0.5", "USDT"),
    trade("2025-05-01", "sell", "ETH/USDT", "1", "50", "0.05", "USDT"),
]
RATES = [RateRow("a", "BGB", TRADES[3].ts, "0.5", "test")]


def report(method: str, year: int = 2025, trades: list[TradeRow] = TRADES,
           transfers: list[TransferRow] | None = None, *, per_wallet: bool = False) -> Report:
    return compute_report(trades, transfers or [], RATES, ReportSettings(year, method, per_wallet))


def usd(atoms: int) -> Decimal:
    return from_atoms(atoms)


def btc_sale(r: Report) -> tuple[Decimal, Decimal, list[tuple[int, Decimal, Decimal]]]:
    [sale] = [d for d in r.disposals if d.asset == "BTC"]
    pieces = [(p.lot, usd(p.qty), usd(p.basis)) for p in sale.pieces]
    return usd(sale.proceeds), usd(sale.basis), pieces


# Lot ids: 0 = the BGB lot, 1 = lot1, 2 = lot2, 3 = lot3.
@pytest.mark.parametrize(
    ("method", "basis", "pieces"),
    [
        ("fifo", "325.325", [(1, "1", "100.1"), (2, "1.5", "225.225")]),
        ("lifo", "345.325", [(3, "1", "120.1"), (2, "1.5", "225.225")]),
        ("hifo", "360.35", [(2, "2", "300.3"), (3, "0.5", "60.05")]),
        ("acb", "325.3125", [(-2, "2.5", "325.3125")]),
    ],
)
def test_tax_several_lots_partial_lot_and_fees(
    method: str, basis: str, pieces: list[tuple[int, str, str]]
) -> None:
    r = report(method)
    proceeds, got_basis, got_pieces = btc_sale(r)
    assert proceeds == Decimal("499.5")  # 500 less the 0.5 USDT fee
    assert got_basis == Decimal(basis)
    assert got_pieces == [(lot, Decimal(q), Decimal(b)) for lot, q, b in pieces]
    [sale] = [d for d in r.disposals if d.asset == "BTC"]
    assert sum(p.proceeds for p in sale.pieces) == sale.proceeds
    assert not sale.flags


@pytest.mark.parametrize("method", ["fifo", "lifo", "hifo", "acb"])
def test_tax_bgb_fee_is_a_disposal_and_added_to_basis(method: str) -> None:
    r = report(method)
    [fee] = [d for d in r.disposals if d.asset == "BGB"]
    assert fee.source.kind == "fee"
    assert usd(fee.qty) == Decimal("0.2")
    assert usd(fee.proceeds) == Decimal("0.1")
    assert usd(fee.basis) == Decimal("0.08008")
    assert usd(fee.proceeds - fee.basis) == Decimal("0.01992")


@pytest.mark.parametrize("method", ["fifo", "lifo", "hifo", "acb"])
def test_tax_sale_with_no_known_purchase_is_flagged(method: str) -> None:
    r = report(method)
    [eth] = [d for d in r.disposals if d.asset == "ETH"]
    assert usd(eth.proceeds) == Decimal("49.95")
    assert eth.basis == 0
    assert eth.flags == ("missing basis",)
    assert [(p.lot, p.term) for p in eth.pieces] == [(-1, "short")]


def test_tax_summary_totals_fifo() -> None:
    s = report("fifo").summary()
    # BTC 499.5 - 325.325; BGB 0.1 - 0.08008; ETH 49.95 - 0
    assert s["by_asset"]["BTC"] == {"proceeds": "499.5", "cost_basis": "325.325", "gain": "174.175"}
    assert s["by_asset"]["BGB"]["gain"] == "0.01992"
    assert s["by_asset"]["ETH"] == {"proceeds": "49.95", "cost_basis": "0", "gain": "49.95"}
    assert s["total"]["gain"] == str(Decimal("174.175") + Decimal("0.01992") + Decimal("49.95"))
    assert s["by_term"]["short"]["gain"] == s["total"]["gain"]
    assert s["disposals"] == 3
    assert s["flagged"] == 1


def test_tax_long_and_short_term_split_at_one_year() -> None:
    """2026-03-10 sell 1 BTC @ 300 (FIFO): the rest of lot2 (0.5, bought 2025-02-10) is
    long-term; half of lot3 (bought 2025-03-10, sold on the anniversary: not more than a
    year) is short-term."""
    trades = [*TRADES, trade("2026-03-10", "sell", "BTC/USDT", "1", "300")]
    r = report("fifo", 2026, trades)
    [sale] = r.disposals
    got = [(p.lot, p.term, usd(p.qty), usd(p.basis), usd(p.proceeds)) for p in sale.pieces]
    assert got == [
        (2, "long", Decimal("0.5"), Decimal("75.075"), Decimal("150")),
        (3, "short", Decimal("0.5"), Decimal("60.05"), Decimal("150")),
    ]
    s = r.summary()
    assert s["by_term"]["long"]["gain"] == "74.925"
    assert s["by_term"]["short"]["gain"] == "89.95"
    # ACB has no dates: the same sale is pooled.
    acb = report("acb", 2026, trades)
    assert [p.term for p in acb.disposals[0].pieces] == ["pooled"]


def test_tax_crypto_to_crypto_trade_is_a_disposal_and_an_acquisition() -> None:
    """Buy 1 BTC for 100; buy 10 ETH for 0.5 BTC on ETH/BTC (BTC at 200, fee 0.01 ETH):
    BTC disposal 0.5 for 100 (basis 50), ETH lot 9.99 at 100. Sell the 9.99 ETH for
    0.5994 BTC (BTC at 250, fee 0.0005994 BTC): proceeds 149.85 - 0.14985 = 149.70015."""
    trades = [
        trade("2025-06-01", "buy", "BTC/USDT", "1", "100"),
        trade("2025-06-02", "buy", "ETH/BTC", "10", "0.05", "0.01", "ETH"),
        trade("2025-06-03", "sell", "ETH/BTC", "9.99", "0.06", "0.0005994", "BTC"),
    ]
    rates = [
        RateRow("a", "BTC", trades[1].ts, "200", "test"),
        RateRow("a", "BTC", trades[2].ts, "250", "test"),
    ]
    r = compute_report(trades, [], rates, ReportSettings(2025, "fifo"))
    got = [(d.asset, usd(d.qty), usd(d.proceeds), usd(d.basis)) for d in r.disposals]
    assert got == [
        ("BTC", Decimal("0.5"), Decimal("100"), Decimal("50")),
        ("ETH", Decimal("9.99"), Decimal("149.70015"), Decimal("100")),
    ]


def test_tax_missing_rate_is_flagged_not_guessed() -> None:
    trades = [trade("2025-06-02", "buy", "ETH/BTC", "10", "0.05")]
    r = compute_report(trades, [], [], ReportSettings(2025, "fifo"))
    [btc] = r.disposals
    assert btc.proceeds == 0
    assert "no USD rate for BTC: valued at 0" in btc.flags


def test_tax_bad_settings_are_refused() -> None:
    with pytest.raises(ClientError, match="unknown method"):
        ReportSettings(2025, "average")
    with pytest.raises(ClientError, match="out of range"):
        ReportSettings(1999, "fifo")
