"""Random workloads against a plain model: the auditor and the model agree after every step.

Three users and two assets; the machine deposits, withdraws (hold, then settle to WORLD or
release), opens order holds, pays out of them to other users and FEES, releases them,
replays posted ids, settles fills as atomic two-hold batches, and restarts from the log.
The model is a few dicts of expected integers, kept without the ledger's help.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from sealbook.errors import Conflict, InsufficientBalance
from sealbook.ledger import Account, Kind, Ledger, Posting, Transfer

USERS = (1, 2, 3)
ASSETS = ("USDT", "BTC")
AMOUNTS = st.integers(1, 10**21)  # up to 1000 units of atoms
SHARES = st.integers(1, 110)  # percent of what is there; above 100 must be refused
PICK = st.integers(0, 10**6)


def _share(total: int, percent: int) -> int:
    return max(total * percent // 100, 1)


@dataclass
class _Hold:
    user: int
    asset: str
    remaining: int
    withdraw: bool


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ledger = Ledger()
        self.available = {(user, asset): 0 for user in USERS for asset in ASSETS}
        self.fees = dict.fromkeys(ASSETS, 0)
        self.world = dict.fromkeys(ASSETS, 0)
        self.holds: dict[str, _Hold] = {}  # open ones only
        self.deposits: list[tuple[str, int, str, int, Posting]] = []
        self.n = 0

    def _id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def _pick(self, pick: int, withdraw: bool) -> str | None:
        ids = sorted(h for h, hold in self.holds.items() if hold.withdraw == withdraw)
        return ids[pick % len(ids)] if ids else None

    def _draw(self, hold_id: str, amount: int) -> None:
        hold = self.holds[hold_id]
        hold.remaining -= amount
        if hold.remaining == 0:
            del self.holds[hold_id]

    # --- rules -------------------------------------------------------------------------

    @rule(user=st.sampled_from(USERS), asset=st.sampled_from(ASSETS), amount=AMOUNTS)
    def deposit(self, user: int, asset: str, amount: int) -> None:
        deposit_id = self._id("d")
        posting = self.ledger.deposit(deposit_id, user, asset, amount)
        self.deposits.append((deposit_id, user, asset, amount, posting))
        self.available[user, asset] += amount
        self.world[asset] -= amount

    @precondition(lambda self: self.deposits)
    @rule(pick=PICK, other_amount=AMOUNTS)
    def replay_deposit(self, pick: int, other_amount: int) -> None:
        deposit_id, user, asset, amount, posting = self.deposits[pick % len(self.deposits)]
        assert self.ledger.deposit(deposit_id, user, asset, amount) == posting
        if other_amount != amount:
            with pytest.raises(Conflict):
                self.ledger.deposit(deposit_id, user, asset, other_amount)

    @precondition(lambda self: any(self.available.values()))
    @rule(pick=PICK, share=SHARES, withdraw=st.booleans())
    def open_hold(self, pick: int, share: int, withdraw: bool) -> None:
        funded = sorted(key for key, amount in self.available.items() if amount)
        user, asset = funded[pick % len(funded)]
        amount = _share(self.available[user, asset], share)
        hold_id = self._id("w" if withdraw else "h")
        kind = Kind.WITHDRAW_HOLD if withdraw else Kind.ORDER_HOLD
        if amount > self.available[user, asset]:
            with pytest.raises(InsufficientBalance):
                self.ledger.hold(hold_id, user, asset, amount, kind=kind)
            return
        self.ledger.hold(hold_id, user, asset, amount, kind=kind)
        self.available[user, asset] -= amount
        self.holds[hold_id] = _Hold(user, asset, amount, withdraw)

    @precondition(lambda self: any(hold.withdraw for hold in self.holds.values()))
    @rule(pick=PICK, sent=st.booleans())
    def finish_withdrawal(self, pick: int, sent: bool) -> None:
        hold_id = self._pick(pick, withdraw=True)
        assert hold_id is not None
        hold = self.holds[hold_id]
        if sent:
            self.ledger.settle_from_hold(hold_id, Account.world(hold.asset), hold.remaining,
                                         Kind.WITHDRAW_SETTLE, hold_id)  # fmt: skip
            self.world[hold.asset] += hold.remaining
        else:
            self.ledger.release(hold_id)
            self.available[hold.user, hold.asset] += hold.remaining
        self._draw(hold_id, hold.remaining)

    @precondition(lambda self: any(not hold.withdraw for hold in self.holds.values()))
    @rule(pick=PICK, to=st.sampled_from((*USERS, "FEES")), share=SHARES)
    def settle(self, pick: int, to: int | str, share: int) -> None:
        hold_id = self._pick(pick, withdraw=False)
        assert hold_id is not None
        hold = self.holds[hold_id]
        amount = _share(hold.remaining, share)
        target = Account(to, hold.asset) if isinstance(to, int) else Account.fees(hold.asset)
        ref = self._id("f")
        if amount > hold.remaining:
            with pytest.raises(InsufficientBalance):
                self.ledger.settle_from_hold(hold_id, target, amount, Kind.TRADE, ref)
            return
        self.ledger.settle_from_hold(hold_id, target, amount, Kind.TRADE, ref)
        if isinstance(to, int):
            self.available[to, hold.asset] += amount
        else:
            self.fees[hold.asset] += amount
        self._draw(hold_id, amount)

    @precondition(lambda self: any(not hold.withdraw for hold in self.holds.values()))
    @rule(pick=PICK, share=st.none() | SHARES)
    def release(self, pick: int, share: int | None) -> None:
        hold_id = self._pick(pick, withdraw=False)
        assert hold_id is not None
        hold = self.holds[hold_id]
        amount = None if share is None else _share(hold.remaining, share)
        if amount is not None and amount > hold.remaining:
            with pytest.raises(InsufficientBalance):
                self.ledger.release(hold_id, amount, ref=self._id("r"))
            return
        released = hold.remaining if amount is None else amount
        self.ledger.release(hold_id, amount, ref=None if amount is None else self._id("r"))
        self.available[hold.user, hold.asset] += released
        self._draw(hold_id, released)

    @precondition(lambda self: len({h.user for h in self.holds.values() if not h.withdraw}) > 1)
    @rule(pick=PICK, give_share=SHARES, take_share=SHARES, fee=st.integers(0, 10**18))
    def fill(self, pick: int, give_share: int, take_share: int, fee: int) -> None:
        """Two holds of two users pay each other, plus a fee: all of it or none."""
        first = self._pick(pick, withdraw=False)
        assert first is not None
        a = self.holds[first]
        others = sorted(
            h for h, hold in self.holds.items() if not hold.withdraw and hold.user != a.user
        )
        second = others[pick % len(others)]
        b = self.holds[second]
        gives, takes = _share(a.remaining, give_share), _share(b.remaining, take_share)
        ref = self._id("f")
        ha, hb = self.ledger.get_hold(first), self.ledger.get_hold(second)
        batch = [
            Transfer.settle(ha, Account(b.user, a.asset), gives, Kind.TRADE, ref),
            Transfer.settle(hb, Account(a.user, b.asset), takes, Kind.TRADE, ref),
        ]
        if fee:
            batch.append(Transfer.move(f"fee:{ref}", Account(a.user, b.asset),
                                       Account.fees(b.asset), fee, Kind.FEE, ref))  # fmt: skip
        if (
            gives > a.remaining
            or takes > b.remaining
            or (fee > self.available[a.user, b.asset] + takes)
        ):
            with pytest.raises(InsufficientBalance):
                self.ledger.apply(batch)
            return
        assert len(self.ledger.apply(batch)) == len(batch)
        self.available[b.user, a.asset] += gives
        self.available[a.user, b.asset] += takes - fee
        self.fees[b.asset] += fee
        self._draw(first, gives)
        self._draw(second, takes)

    @rule()
    def restart(self) -> None:
        rebuilt = Ledger.from_postings(self.ledger.postings(), self.ledger.open_holds())
        assert rebuilt.all_accounts() == self.ledger.all_accounts()
        assert rebuilt.holds() == self.ledger.holds()
        self.ledger = rebuilt

    # --- the auditor -------------------------------------------------------------------

    @invariant()
    def agrees_with_the_model(self) -> None:
        ledger = self.ledger
        frozen = dict.fromkeys(self.available, 0)
        for hold in self.holds.values():
            frozen[hold.user, hold.asset] += hold.remaining
        for user, asset in self.available:
            assert ledger.available(user, asset) == self.available[user, asset]
            assert ledger.frozen(user, asset) == frozen[user, asset]
        for asset in ASSETS:
            assert ledger.balance(Account.fees(asset)) == self.fees[asset]
            assert ledger.balance(Account.world(asset)) == self.world[asset]
        assert ledger.open_holds() == {h: hold.remaining for h, hold in self.holds.items()}

    @invariant()
    def audits_clean(self) -> None:
        expected = {h: hold.remaining for h, hold in self.holds.items()}
        assert self.ledger.check_invariants(open_holds_expected=expected) == []


LedgerMachine.TestCase.settings = settings(max_examples=50, stateful_step_count=50, deadline=None)
test_ledger_machine = LedgerMachine.TestCase
