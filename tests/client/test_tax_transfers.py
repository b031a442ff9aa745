"""Transfers between the person's own accounts: matched, not taxed, basis and dates carried.

  a  2025-01-01  buy 1 BTC @ 100                      lot A: 1 BTC, basis 100
  b  2025-02-01  buy 1 BTC @ 200                      lot B: 1 BTC, basis 200
  a  2025-03-01  withdraw 0.5 BTC (0.499 + fee 0.001)
  b  2025-03-01 +1 h  deposit 0.499 BTC              matched: 0.499 BTC of lot A, basis 50
  b  2025-04-01  sell 1 BTC @ 300
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from test_tax_methods import ms, trade

from sealbook.client.tax import ReportSettings, TransferRow, compute_report
from sealbook.client.tax.transfers import match_transfers
from sealbook.client.tax.units import from_atoms

TRADES = [
    trade("2025-01-01", "buy", "BTC/USDT", "1", "100", account="a"),
    trade("2025-02-01", "buy", "BTC/USDT", "1", "200", account="b"),
    trade("2025-04-01", "sell", "BTC/USDT", "1", "300", account="b"),
]


def withdrawal(amount: str = "0.499", fee: str = "0.001", *, txid: str = "") -> TransferRow:
    return TransferRow("a", "withdrawal", "w1", "BTC", amount, fee, "ok", txid, "bc1q",
                       ms("2025-03-01", 12))


def deposit(amount: str = "0.499", hour: int = 13, *, day: str = "2025-03-01",
            txid: str = "", account: str = "b") -> TransferRow:
    return TransferRow(account, "deposit", "d1", "BTC", amount, "0", "ok", txid, "bc1q",
                       ms(day, hour))


def pieces(transfers: list[TransferRow], *, per_wallet: bool, method: str = "fifo"
           ) -> list[tuple[int, str, Decimal, Decimal]]:
    r = compute_report(TRADES, transfers, [], ReportSettings(2025, method, per_wallet))
    [sale] = r.disposals
    assert sale.wallet == "b"
    return [(p.lot, p.lot_account, from_atoms(p.qty), from_atoms(p.basis)) for p in sale.pieces]


def test_tax_transfer_per_wallet_carries_basis_and_date() -> None:
    # In b: lot A's 0.499 BTC (bought 2025-01-01, basis 50: the fee's basis rides along)
    # comes first by FIFO, then 0.501 of lot B (200 x 0.501 = 100.2).
    got = pieces([withdrawal(), deposit()], per_wallet=True)
    assert got == [
        (0, "a", Decimal("0.499"), Decimal("50")),
        (1, "b", Decimal("0.501"), Decimal("100.2")),
    ]
    r = compute_report(TRADES, [withdrawal(), deposit()], [], ReportSettings(2025, "fifo", True))
    [sale] = r.disposals
    assert [from_atoms(p.proceeds) for p in sale.pieces] == [Decimal("149.7"), Decimal("150.3")]
    assert from_atoms(sale.proceeds - sale.basis) == Decimal("149.8")
    assert len(r.matches) == 1 and r.unmatched_withdrawals == []
    assert not sale.flags


def test_tax_transfer_pooled_is_not_a_disposal() -> None:
    # One pool: 0.5 of lot A stays, 0.499 comes back with basis 50; the sale takes both
    # and 0.001 of lot B (0.2). No disposal at the withdrawal.
    got = pieces([withdrawal(), deposit()], per_wallet=False)
    assert got == [
        (0, "a", Decimal("0.5"), Decimal("50")),
        (0, "a", Decimal("0.499"), Decimal("50")),
        (1, "b", Decimal("0.001"), Decimal("0.2")),
    ]


def test_tax_unmatched_deposit_has_unknown_basis() -> None:
    # The deposit arrives 4 days later (outside 72 h): not matched. b's FIFO starts with
    # lot B then the deposit (basis 0, flagged); a's withdrawal just leaves.
    late = deposit(day="2025-03-05")
    r = compute_report(TRADES, [withdrawal(), late], [], ReportSettings(2025, "fifo", True))
    [sale] = r.disposals
    assert [(p.lot, from_atoms(p.qty), from_atoms(p.basis), p.missing) for p in sale.pieces] == [
        (1, Decimal("1"), Decimal("200"), False),
    ]
    assert r.matches == []
    assert [w.record_id for w in r.unmatched_withdrawals] == ["w1"]
    sell_more = [*TRADES, trade("2025-04-02", "sell", "BTC/USDT", "0.499", "300", account="b")]
    r2 = compute_report(sell_more, [withdrawal(), late], [], ReportSettings(2025, "fifo", True))
    last = r2.disposals[-1]
    assert last.basis == 0 and last.flags == ("missing basis",)


@pytest.mark.parametrize(
    ("dep", "matched"),
    [
        (deposit("0.499"), True),
        (deposit("0.4995"), True),
        (deposit("0.5"), True),  # the exchange kept no fee after all
        (deposit("0.4989"), False),  # more than the 0.001 fee short of the 0.5 that left
        (deposit("0.499", hour=11), False),  # arrived before it left
        (deposit("0.499", day="2025-03-04", hour=11), True),  # 71 h
        (deposit("0.499", day="2025-03-04", hour=13), False),  # 73 h
        (deposit("0.499", account="a"), False),  # same account: not a transfer
        (deposit("0.3", day="2025-03-09", txid="tx9"), True),  # same txid: always a match
    ],
)
def test_tax_transfer_matching_rules(dep: TransferRow, matched: bool) -> None:
    w = withdrawal(txid="tx9")
    assert bool(match_transfers([w, dep])) is matched


def test_tax_each_deposit_matches_once() -> None:
    w2 = TransferRow("a", "withdrawal", "w2", "BTC", "0.499", "0.001", "ok", "", "x",
                     ms("2025-03-01", 12) + 1)
    found = match_transfers([withdrawal(), w2, deposit()])
    assert [(m.withdrawal.record_id, m.deposit.record_id) for m in found] == [("w1", "d1")]
