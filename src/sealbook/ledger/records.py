"""What goes into the ledger (:class:`Transfer`); what it keeps (:class:`Posting`, :class:`Hold`).

All three are NamedTuples: immutable, and cheap enough to build several per fill.

A transfer's ``id`` is the client's idempotency key, unique across the ledger: applying a
transfer whose id is already posted returns the original posting, or raises ``Conflict``
if the contents differ. The builders below derive ids from what the transfer is for:
``deposit:<ref>``, ``<kind>@<hold>`` to open a hold, ``<kind>:<ref>@<hold>`` to pay out of
one. Pass ``transfer_id`` where one hold can be drawn twice with the same kind and ref.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from sealbook.errors import ParamInvalid
from sealbook.ledger.accounts import AVAILABLE, FROZEN, Account, Kind

__all__ = ["RELEASE_KIND", "Checkpoint", "Hold", "Posting", "Transfer"]

# The release that matches each kind of hold (``order_hold`` → ``order_release``).
RELEASE_KIND: dict[str, str] = {
    Kind.ORDER_HOLD: Kind.ORDER_RELEASE,
    Kind.WITHDRAW_HOLD: Kind.WITHDRAW_RELEASE,
}


class Hold(NamedTuple):
    """How a hold was opened. Its remaining amount is ledger state, not part of the record."""

    id: str
    user: int
    asset: str
    amount: int
    kind: str
    ref: str


class Posting(NamedTuple):
    """One applied transfer: ``amount`` leaves ``debit`` and reaches ``credit``.

    A balance is credits minus debits, so WORLD goes negative as deposits come in and every
    asset sums to zero over all accounts. ``hold_id`` is set on the posting that opened a
    hold (credit frozen) and on every posting that drew on it (debit frozen).
    """

    seq: int
    id: str
    debit: Account
    credit: Account
    asset: str
    amount: int
    kind: str
    ref: str
    hold_id: str | None

    def transfer(self) -> Transfer:
        return Transfer(
            self.id, self.debit, self.credit, self.amount, self.kind, self.ref, self.hold_id
        )


class Transfer(NamedTuple):
    """A movement to apply. Frozen buckets move only with a ``hold_id``: a transfer that
    credits a frozen bucket opens that hold, one that debits a frozen bucket draws on it."""

    id: str
    debit: Account
    credit: Account
    amount: int
    kind: str
    ref: str
    hold_id: str | None = None

    @classmethod
    def move(
        cls, transfer_id: str, debit: Account, credit: Account, amount: int, kind: str, ref: str
    ) -> Transfer:
        """Between two available buckets, e.g. a fee out of a user's available funds."""
        return cls(transfer_id, debit, credit, amount, kind, ref)

    @classmethod
    def deposit(cls, deposit_id: str, user: int, asset: str, amount: int) -> Transfer:
        return cls(
            f"{Kind.DEPOSIT}:{deposit_id}",
            Account.world(asset),
            Account.available(user, asset),
            amount,
            Kind.DEPOSIT,
            deposit_id,
        )

    @classmethod
    def hold(
        cls,
        hold_id: str,
        user: int,
        asset: str,
        amount: int,
        *,
        kind: str = Kind.ORDER_HOLD,
        ref: str | None = None,
        transfer_id: str | None = None,
    ) -> Transfer:
        """Open hold ``hold_id``: ``amount`` moves from available to frozen."""
        return cls(
            transfer_id or f"{kind}@{hold_id}",
            Account(user, asset, AVAILABLE),
            Account(user, asset, FROZEN),
            amount,
            kind,
            hold_id if ref is None else ref,
            hold_id,
        )

    @classmethod
    def settle(
        cls,
        hold: Hold,
        to: Account,
        amount: int,
        kind: str,
        ref: str,
        *,
        transfer_id: str | None = None,
    ) -> Transfer:
        """Pay ``amount`` out of ``hold`` to ``to`` (a counterparty, FEES, or WORLD)."""
        return cls(
            transfer_id or f"{kind}:{ref}@{hold.id}",
            Account(hold.user, hold.asset, FROZEN),
            to,
            amount,
            kind,
            ref,
            hold.id,
        )

    @classmethod
    def release(
        cls,
        hold: Hold,
        amount: int,
        *,
        kind: str | None = None,
        ref: str | None = None,
        transfer_id: str | None = None,
    ) -> Transfer:
        """Give ``amount`` of ``hold`` back to its owner's available funds. ``kind`` defaults
        to the release that matches the hold (``order_hold`` → ``order_release``)."""
        if kind is None:
            release_kind = RELEASE_KIND.get(hold.kind)
            if release_kind is None:
                raise ParamInvalid("kind", f"no default release kind for a {hold.kind} hold")
            kind = release_kind
        return cls.settle(
            hold,
            Account(hold.user, hold.asset, AVAILABLE),
            amount,
            kind,
            hold.ref if ref is None else ref,
            transfer_id=transfer_id,
        )


class Checkpoint(NamedTuple):
    """The state as of posting ``seq`` once older postings were compacted away: every
    balance, and the remaining amount of each hold then open. Empty for a full log."""

    seq: int = 0
    balances: Mapping[Account, int] = MappingProxyType({})
    left: Mapping[str, int] = MappingProxyType({})
