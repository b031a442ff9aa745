"""The lot engine keeps every atom of basis, and the amount parser refuses, never rounds."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from sealbook.client.errors import ClientError
from sealbook.client.tax.lots import (
    ACQUIRE,
    DISPOSE,
    LEAVE,
    METHODS,
    MOVE_IN,
    MOVE_OUT,
    NO_LOT,
    Event,
    run,
)
from sealbook.client.tax.units import plain, to_atoms, to_cents, value_atoms


def random_events(seed: int, n: int = 3000) -> tuple[list[Event], int, int]:
    """Buys, sells (sometimes beyond what is held), transfers between two wallets and
    withdrawals, in 1-atom-awkward sizes. Returns the events, total cost, transfer fees."""
    rng = random.Random(seed)
    out: list[Event] = []
    paid = 0
    transfer = 0
    for ts in range(n):
        wallet = rng.choice("ab")
        roll = rng.random()
        qty = rng.randint(1, 10**9) * 7919
        if roll < 0.5:
            cost = rng.randint(1, 10**12) * 104729
            paid += cost
            out.append((ts, ACQUIRE, wallet, "X", qty, cost, ts))
        elif roll < 0.85:
            out.append((ts, DISPOSE, wallet, "X", qty, rng.randint(0, 10**12), ts))
        elif roll < 0.95:
            transfer += 1
            other = "b" if wallet == "a" else "a"
            out.append((ts, MOVE_OUT, wallet, "X", qty, transfer, ts))
            out.append((ts, MOVE_IN, other, "X", qty - rng.randint(0, qty // 3), transfer, ts))
        else:
            out.append((ts, LEAVE, wallet, "X", qty, 0, ts))
    return out, paid, transfer


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("per_wallet", [False, True])
def test_tax_basis_is_conserved_exactly(method: str, per_wallet: bool) -> None:
    """Basis handed to disposals + basis taken away by withdrawals + basis left in the
    pools == everything paid, to the atom; no lot goes negative."""
    events, paid, _ = random_events(7)
    book = run(events, method, per_wallet=per_wallet)
    disposed = sum(basis for lot, _, basis in book.trail if lot != NO_LOT)
    left = sum(lot[3] for lots in book.holdings().values() for lot in lots)
    assert all(lot[2] > 0 and lot[3] >= 0 for lots in book.holdings().values() for lot in lots)
    # What LEAVE took is the rest; recompute it by running without the withdrawals.
    kept = [e for e in events if e[1] != LEAVE]
    book2 = run(kept, method, per_wallet=per_wallet)
    disposed2 = sum(basis for lot, _, basis in book2.trail if lot != NO_LOT)
    left2 = sum(lot[3] for lots in book2.holdings().values() for lot in lots)
    assert disposed2 + left2 == paid
    assert disposed + left <= paid
    for _, _, _, _, qty, _, first, end in book.disposals:
        assert sum(q for _, q, _ in book.trail[first:end]) == qty


def test_tax_hifo_ties_take_the_oldest() -> None:
    events: list[Event] = [
        (1, ACQUIRE, "w", "X", 10, 100, 0),
        (2, ACQUIRE, "w", "X", 10, 100, 1),
        (3, ACQUIRE, "w", "X", 10, 50, 2),
        (4, DISPOSE, "w", "X", 15, 0, 3),
    ]
    book = run(events, "hifo")
    assert book.trail == [(0, 10, 100), (1, 5, 50)]


def test_tax_unknown_method() -> None:
    with pytest.raises(ValueError, match="unknown method"):
        run([], "wifo")


@pytest.mark.parametrize(
    ("text", "atoms"),
    [
        ("1.5", 15 * 10**17),
        ("-0.000000000000000001", -1),
        ("0.10", 10**17),
        (".5", 5 * 10**17),
        ("1E+2", 100 * 10**18),
    ],
)
def test_tax_amounts_parse_exactly(text: str, atoms: int) -> None:
    assert to_atoms(text) == atoms


@pytest.mark.parametrize("text", ["1.0000000000000000001", "abc", "", "--1", "NaN", "Infinity",
                                  "\u0661"])
def test_tax_amounts_refused_not_rounded(text: str) -> None:
    with pytest.raises(ClientError):
        to_atoms(text)


def test_tax_values_and_cents_round_half_even() -> None:
    assert value_atoms(3, Decimal("0.5")) == 2  # 1.5 -> 2
    assert value_atoms(5, Decimal("0.5")) == 2  # 2.5 -> 2
    assert to_cents(to_atoms("0.125")) == Decimal("0.12")
    assert to_cents(to_atoms("0.135")) == Decimal("0.14")
    assert plain(1) == "0.000000000000000001"
    assert plain(9900 * 10**18) == "9900"
