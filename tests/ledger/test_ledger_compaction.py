"""Compaction forgets committed postings but never changes a balance or a hold.

A ledger that compacts now and then must stay indistinguishable from one that keeps its
whole log: same balances, same open holds, both sound, through a long seeded workload.
"""

from __future__ import annotations

import random

import pytest

from sealbook.errors import InsufficientBalance
from sealbook.ledger import Account, Kind, Ledger

USERS = (1, 2, 3)
ASSETS = ("BTC", "USDT")


def _step(ledger: Ledger, rng: random.Random, n: int, open_holds: list[str]) -> None:
    roll = rng.random()
    user, asset = rng.choice(USERS), rng.choice(ASSETS)
    if roll < 0.3 or not open_holds:
        ledger.deposit(f"d{n}", user, asset, rng.randint(1, 10**6))
    elif roll < 0.6:
        amount = rng.randint(1, 10**5)
        if ledger.available(user, asset) >= amount:
            ledger.hold(f"h{n}", user, asset, amount)
            open_holds.append(f"h{n}")
    elif roll < 0.8:
        hold_id = rng.choice(open_holds)
        hold = ledger.get_hold(hold_id)
        left = ledger.remaining(hold_id)
        to = (
            Account.fees(hold.asset)
            if rng.random() < 0.3
            else Account.available(rng.choice([u for u in USERS if u != hold.user]), hold.asset)
        )
        ledger.settle_from_hold(hold_id, to, rng.randint(1, left), Kind.TRADE, f"t{n}")
        if not ledger.is_open(hold_id):
            open_holds.remove(hold_id)
    else:
        hold_id = open_holds.pop(rng.randrange(len(open_holds)))
        ledger.release(hold_id)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_compacting_ledger_matches_one_that_keeps_everything(seed: int) -> None:
    full, compacting = Ledger(), Ledger()
    rngs = random.Random(seed), random.Random(seed)
    holds: tuple[list[str], list[str]] = ([], [])
    lag = random.Random(seed + 100)
    dropped = 0
    for n in range(1500):
        _step(full, rngs[0], n, holds[0])
        _step(compacting, rngs[1], n, holds[1])
        if n % 97 == 0:
            # Compact up to a point a little behind the head, as the committer does.
            dropped += compacting.compact(compacting.last_seq - lag.randint(0, 5))
        assert compacting.last_seq == full.last_seq
        for user in USERS:
            assert compacting.balances(user) == full.balances(user)
        assert compacting.open_holds() == full.open_holds()
        assert compacting.balance(Account.fees("BTC")) == full.balance(Account.fees("BTC"))
        if n % 50 == 0:
            assert compacting.check_invariants() == []
    assert dropped > 500
    assert len(compacting.postings()) < full.last_seq
    assert compacting.check_invariants(full.open_holds()) == []
    assert full.check_invariants() == []
    assert [p.seq for p in compacting.postings(full.last_seq - 3)] == [
        p.seq for p in full.postings(full.last_seq - 3)
    ]


def test_after_compaction_a_tampered_balance_is_still_caught() -> None:
    ledger = Ledger()
    ledger.deposit("a", 1, "USDT", 100)
    ledger.hold("h", 1, "USDT", 40)
    ledger.compact(ledger.last_seq)
    ledger.deposit("b", 2, "USDT", 5)
    assert ledger.check_invariants() == []
    ledger._cell(1, "USDT")[0] += 1  # corrupt the running total
    assert any("postings add up" in p for p in ledger.check_invariants())


def test_compaction_keeps_rules_working() -> None:
    ledger = Ledger()
    ledger.deposit("a", 1, "USDT", 100)
    ledger.hold("h", 1, "USDT", 60)
    assert ledger.compact(ledger.last_seq) == 2
    assert ledger.compact(ledger.last_seq) == 0  # nothing new to drop
    with pytest.raises(InsufficientBalance):
        ledger.hold("h2", 1, "USDT", 41)
    ledger.settle_from_hold("h", Account.fees("USDT"), 60, Kind.FEE, "f")
    assert not ledger.is_open("h")
    assert ledger.balance(Account.fees("USDT")) == 60
    assert ledger.available(1, "USDT") == 40
    assert ledger.postings(0)[0].seq == 3


def _trading_step(ledger: Ledger, rng: random.Random, n: int, orders: list[int]) -> None:
    """The trading path (int keys: order ids, which only grow) mixed with apply()'s
    general path on the same holds now and then."""
    roll = rng.random()
    user = rng.choice(USERS)
    if roll < 0.15:
        ledger.deposit(f"d{n}", user, rng.choice(ASSETS), rng.randint(10**5, 10**7))
    elif roll < 0.5 or len(orders) < 2:
        asset = rng.choice(ASSETS)
        amount = rng.randint(1, 10**5)
        if ledger.available(user, asset) >= amount:
            assert ledger.open_hold(n, user, asset, amount)
            orders.append(n)
    elif roll < 0.75:
        buys = [o for o in orders if ledger.get_hold(f"o{o}").asset == "USDT"]
        sells = [o for o in orders if ledger.get_hold(f"o{o}").asset == "BTC"]
        if not buys or not sells:
            return
        buy, sell = rng.choice(buys), rng.choice(sells)
        buy_left, sell_left = ledger.remaining(f"o{buy}"), ledger.remaining(f"o{sell}")
        quote = rng.randint(1, buy_left)
        improvement = rng.randint(0, buy_left - quote)
        base = rng.randint(1, sell_left)
        fees = ("BTC", base // 1000, "USDT", quote // 1000)
        try:
            ledger.trade(f"t{n}", buy, sell, base, quote, improvement, fees)
        except InsufficientBalance:
            return
        orders[:] = [o for o in orders if ledger.is_open(f"o{o}")]
    elif roll < 0.85:
        order = rng.choice(orders)
        # apply() draws on it: the trading path leaves it to apply() from now on.
        hold = ledger.get_hold(f"o{order}")
        to = Account.fees(hold.asset)
        ledger.settle_from_hold(f"o{order}", to, 1, Kind.FEE, f"x{n}")
        if not ledger.is_open(f"o{order}"):
            orders.remove(order)
    else:
        ledger.close_hold(orders.pop(rng.randrange(len(orders))))


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_compacting_trading_ledger_matches_and_rebuilds_from_its_checkpoints(
    seed: int,
) -> None:
    full, compacting = Ledger(), Ledger()
    rngs = random.Random(seed), random.Random(seed)
    orders: tuple[list[int], list[int]] = ([], [])
    lag = random.Random(seed + 100)
    for n in range(1, 1500):
        _trading_step(full, rngs[0], n, orders[0])
        _trading_step(compacting, rngs[1], n, orders[1])
        if n % 89 == 0:
            # A point a little behind the head: it may fall inside a fill's record.
            compacting.compact(compacting.last_seq - lag.randint(0, 4))
            checkpoint, records = compacting.checkpoint()
            tail = full.postings(checkpoint.seq)
            rebuilt = Ledger.from_postings(
                tail, full.open_holds(), start=checkpoint, records=records
            )
            assert rebuilt.all_accounts() == full.all_accounts()
            assert rebuilt.check_invariants(full.open_holds()) == []
        assert compacting.last_seq == full.last_seq
        assert compacting.all_accounts() == full.all_accounts()
        assert compacting.open_holds() == full.open_holds()
        if n % 50 == 0:
            assert compacting.check_invariants() == []
    assert compacting.compacted_seq > full.last_seq // 2
    assert compacting.postings(compacting.compacted_seq) == full.postings(compacting.compacted_seq)
    assert full.check_invariants() == [] and compacting.check_invariants() == []
    ids = [p.id for p in full.postings()]
    assert len(ids) == len(set(ids))
    assert Ledger.from_postings(full.postings(), full.open_holds()).all_accounts() == (
        full.all_accounts()
    )
