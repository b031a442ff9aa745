"""What goes into the ledger (:class:`Transfer`); what it keeps (:class:`Posting`, :class:`Hold`).

All three are NamedTuples: immutable, and what the ledger's readers see. The ledger's own
log keeps each posting as an :data:`Entry`, a plain tuple that costs a tenth as much to
build (a NamedTuple with two :class:`Account` inside costs about 1 µs, several per fill);
:func:`posting_of` turns an entry into its :class:`Posting` when someone reads it.

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
from sealbook.ledger.accounts import AVAILABLE, FROZEN, Account, Bucket, Kind, Owner

__all__ = [
    "RELEASE_KIND",
    "Checkpoint",
    "Entry",
    "Hold",
    "HoldRow",
    "Posting",
    "Transfer",
    "entry_id",
    "posting_of",
]

# The release that matches each kind of hold (``order_hold`` → ``order_release``).
RELEASE_KIND: dict[str, str] = {
    Kind.ORDER_HOLD.value: Kind.ORDER_RELEASE.value,
    Kind.WITHDRAW_HOLD.value: Kind.WITHDRAW_RELEASE.value,
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


# A posting as the ledger logs it, flat: ``(seq, id, kind, ref, hold_id, asset, amount,
# debit owner, debit bucket, credit owner, credit bucket)``. ``id`` is ``None`` when the
# builders' rule gives it (see :func:`entry_id`).
Entry = tuple[int, str | None, str, str, str | None, str, int, Owner, Bucket, Owner, Bucket]

# A hold as the ledger keeps it: ``(id, user, asset, amount, kind, ref)``, a :class:`Hold`'s
# fields in a plain tuple.
HoldRow = tuple[str, int, str, int, str, str]


def entry_id(entry: Entry) -> str:
    """The transfer id of a logged posting: its own, or the one :class:`Transfer`'s builders
    give (``<kind>@<hold>`` opens a hold, ``<kind>:<ref>@<hold>`` draws on one)."""
    transfer_id = entry[1]
    if transfer_id is not None:
        return transfer_id
    kind, ref, hold_id = entry[2], entry[3], entry[4]
    if entry[10] == FROZEN:
        return f"{kind}@{hold_id}"
    return f"{kind}:{ref}@{hold_id}"


def posting_of(entry: Entry) -> Posting:
    seq, _, kind, ref, hold_id, asset, amount, debit_owner, debit_bucket, owner, bucket = entry
    return Posting(
        seq, entry_id(entry), Account(debit_owner, asset, debit_bucket),
        Account(owner, asset, bucket), asset, amount, kind, ref, hold_id,
    )  # fmt: skip


class Checkpoint(NamedTuple):
    """The state as of posting ``seq`` once older postings were compacted away: every
    balance, and the remaining amount of each hold then open. Empty for a full log."""

    seq: int = 0
    balances: Mapping[Account, int] = MappingProxyType({})
    left: Mapping[str, int] = MappingProxyType({})
