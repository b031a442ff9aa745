"""check_invariants finds each kind of corruption: one test per invariant.

Each test breaks the state on purpose, through the private attributes or through a posting
log that loads but is wrong, and looks for the line that names the breakage.
"""

from __future__ import annotations

from sealbook.ledger import FEES, Account, Kind, Ledger, Posting
from sealbook.ledger.invariants import audit
from sealbook.money import from_units

USDT, BTC = "USDT", "BTC"
ALICE, BOB = 1, 2
U = from_units(1)


def _ledger() -> Ledger:
    ledger = Ledger()
    ledger.deposit("d1", ALICE, USDT, 100 * U)
    ledger.deposit("d2", BOB, BTC, 2 * U)
    ledger.hold("h1", ALICE, USDT, 40 * U, ref="o1")
    ledger.hold("h2", BOB, BTC, U, ref="o2")
    ledger.settle_from_hold("h1", Account.available(BOB, USDT), 10 * U, Kind.TRADE, "f1")
    ledger.settle_from_hold("h2", Account.fees(BTC), U // 100, Kind.FEE, "f1")
    assert ledger.check_invariants() == []
    return ledger


def _posting(
    seq: int, debit: Account, credit: Account, amount: int, hold: str | None = None
) -> Posting:
    return Posting(seq, f"t{seq}", debit, credit, debit.asset, amount, "x", "r", hold)


def test_sound_ledger_has_no_violations() -> None:
    ledger = _ledger()
    assert ledger.check_invariants({"h1": 30 * U, "h2": U - U // 100}) == []
    assert Ledger().check_invariants() == []


def test_each_asset_sums_to_zero() -> None:
    ledger = _ledger()
    ledger._cell(FEES, USDT)[0] = 5  # money from nowhere
    problems = ledger.check_invariants()
    assert "asset USDT: accounts sum to 5, not 0" in problems
    assert not any("asset BTC" in line for line in problems)


def test_no_user_bucket_is_negative() -> None:
    # Bob pays Alice money he never had: the log is well formed, so it loads.
    overdraft = _posting(1, Account.available(BOB, USDT), Account.available(ALICE, USDT), 7)
    problems = Ledger.from_postings([overdraft]).check_invariants()
    assert problems == ["account 2/USDT/available is negative: -7"]


def test_fees_never_go_negative() -> None:
    payout = _posting(1, Account.fees(USDT), Account.available(ALICE, USDT), 7)
    problems = Ledger.from_postings([payout]).check_invariants()
    assert problems == ["account FEES/USDT/available is negative: -7"]


def test_world_may_go_negative() -> None:
    deposit = _posting(1, Account.world(USDT), Account.available(ALICE, USDT), 7)
    assert Ledger.from_postings([deposit]).check_invariants() == []


def test_frozen_balance_equals_open_holds() -> None:
    # Funds frozen without a hold: balances match the log, but no hold explains them.
    log = [
        _posting(1, Account.world(USDT), Account.available(ALICE, USDT), 10),
        _posting(2, Account.available(ALICE, USDT), Account.frozen(ALICE, USDT), 4),
    ]
    problems = Ledger.from_postings(log).check_invariants()
    assert problems == ["account 1/USDT/frozen holds 4 but its open holds add up to 0"]


def test_every_balance_equals_its_postings() -> None:
    ledger = _ledger()
    # Moving one atom between two users keeps every sum at zero: only the log disagrees.
    ledger._cell(ALICE, USDT)[0] -= 1
    ledger._cell(BOB, USDT)[0] += 1
    problems = ledger.check_invariants()
    assert problems == [
        f"account 1/USDT/available holds {60 * U - 1} but its postings add up to {60 * U}",
        f"account 2/USDT/available holds {10 * U + 1} but its postings add up to {10 * U}",
    ]


def test_posting_log_is_contiguous_and_positive() -> None:
    ledger = _ledger()
    ledger._log[1] = (9, *ledger._log[1][1:])  # type: ignore[assignment]
    assert ledger.check_invariants() == ["posting log has seq 9 where 2 belongs"]
    ledger = Ledger.from_postings(
        [_posting(1, Account.world(USDT), Account.available(ALICE, USDT), 0)]
    )
    assert ledger.check_invariants() == ["posting 1 moves a non-positive amount 0"]


def test_hold_remaining_equals_its_postings() -> None:
    ledger = _ledger()
    # Shrinking a hold by hand: the frozen balance and the log both disagree with it.
    left, rec = ledger._open["h1"]
    ledger._open["h1"] = (left - 1, rec)
    problems = ledger.check_invariants()
    assert f"hold 'h1' has {30 * U - 1} remaining but its postings leave {30 * U}" in problems
    assert (
        f"account 1/USDT/frozen holds {30 * U} but its open holds add up to {30 * U - 1}"
        in problems
    )


def test_hold_record_matches_its_opening_posting() -> None:
    ledger = _ledger()
    left, rec = ledger._open["h1"]  # rec: (seq, tag, key, user, asset, amount, kind, ref)
    ledger._open["h1"] = (left, (*rec[:7], "o9"))
    problems = ledger.check_invariants()
    assert len(problems) == 1
    assert problems[0].startswith("hold 'h1' is recorded as Hold(id='h1', user=1, asset='USDT'")


def test_open_hold_has_a_record_and_a_sane_remaining() -> None:
    ledger = _ledger()
    _, rec = ledger._open["h1"]
    ledger._open["h1"] = (41 * U, rec)  # more than the hold's 40
    problems = ledger.check_invariants()
    assert f"open hold 'h1' has {41 * U} remaining, outside (0, amount]" in problems
    # The ledger keeps each open hold with its record; the auditor still names one without.
    problems = audit({}, [], {}, {"ghost": 5})
    assert "open hold 'ghost' has no record" in problems
    assert "open hold 'ghost' has 5 remaining, outside (0, amount]" in problems


def test_open_holds_match_what_the_caller_expects() -> None:
    ledger = _ledger()
    expected = {"h1": 30 * U, "h2": U - U // 100, "h3": 0}
    assert ledger.check_invariants(expected) == []
    problems = ledger.check_invariants({"h1": 30 * U + 1, "h3": 5})
    assert problems == [
        f"hold 'h1' has {30 * U} remaining but {30 * U + 1} is expected",
        f"hold 'h2' has {U - U // 100} remaining but 0 is expected",
        "hold 'h3' has 0 remaining but 5 is expected",
    ]
