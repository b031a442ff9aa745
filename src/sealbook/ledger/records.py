"""What goes into the ledger (:class:`Transfer`); what it keeps (:class:`Posting`, :class:`Hold`).

All three are NamedTuples: immutable, and what the ledger's readers see. The ledger's own
log keeps plain tuples that cost a fraction as much to build (a NamedTuple with two
:class:`Account` inside costs about 1 µs, several per fill): an :data:`Entry` per posting
made by :meth:`~sealbook.ledger.Ledger.apply`, and one record per step of the trading path
(a :data:`HoldRec` opens a hold, a :data:`Released` closes it, a :data:`Filled` settles a
fill, several postings at once). :func:`expand` turns a record into its entries and
:func:`posting_of` an entry into its :class:`Posting`, when someone reads them.

A transfer's ``id`` is the client's idempotency key, unique across the ledger: applying a
transfer whose id is already posted returns the original posting, or raises ``Conflict``
if the contents differ. The builders below derive ids from what the transfer is for:
``deposit:<ref>``, ``<kind>@<hold>`` to open a hold, ``<kind>:<ref>@<hold>`` to pay out of
one. Pass ``transfer_id`` where one hold can be drawn twice with the same kind and ref.

Holds have names (``o42``, ``w7``); inside the ledger an order's hold is keyed by its order
id, an int (:func:`hold_key`, :func:`hold_name`), so the trading path formats no string.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, NamedTuple, cast

from sealbook.errors import ParamInvalid
from sealbook.ledger.accounts import AVAILABLE, FEES, FROZEN, Account, Bucket, Kind, Owner

__all__ = [
    "FILLED",
    "OPENED",
    "RELEASED",
    "RELEASE_KIND",
    "Checkpoint",
    "Entry",
    "FillFees",
    "Filled",
    "Hold",
    "HoldKey",
    "HoldRec",
    "Posting",
    "Record",
    "Released",
    "Transfer",
    "derived_id",
    "entry_id",
    "expand",
    "fee_id",
    "hold_key",
    "hold_name",
    "hold_of",
    "holds_in",
    "posting_of",
]

TRADE: Final = Kind.TRADE.value
FEE: Final = Kind.FEE.value

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

# A hold's key inside the ledger: an order's hold is keyed by its order id (``o42`` → 42),
# every other hold by its name.
HoldKey = int | str


def hold_name(key: HoldKey) -> str:
    """The name a hold is stored and shown under: ``o<order id>`` for an order's hold."""
    return key if isinstance(key, str) else f"o{key}"


def hold_key(name: str) -> HoldKey:
    """The key of the hold named ``name``: an order's hold (``o`` and an order id, written
    as :func:`hold_name` writes it) is keyed by the int; any other name is its own key."""
    digits = name[1:]
    if name[:1] == "o" and digits.isascii() and digits.isdigit() and str(int(digits)) == digits:
        return int(digits)
    return name


# The trading path's records carry one of these tags where an :data:`Entry` has its id
# (a string or ``None``).
OPENED = 0
RELEASED = 1
FILLED = 2

# A hold as the ledger keeps it, which is also the record that opened it on the trading path:
# ``(seq, OPENED, key, user, asset, amount, kind, ref)``; ``ref`` is ``None`` when it is the
# hold's name.
HoldRec = tuple[int, int, HoldKey, int, str, int, str, str | None]

# ``(seq, RELEASED, hold, amount)``: what was left of a hold goes back to available.
Released = tuple[int, int, HoldRec, int]

# What one fill cost each side: ``(buyer's fee coin, fee, seller's fee coin, fee)``; a fee of
# 0 is no fee.
FillFees = tuple[str, int, str, int]

# ``(seq, FILLED, ref, buyer's hold, seller's hold, base, quote, improvement, fees)``: one
# fill, settled; its postings are numbered from ``seq`` in :func:`expand`'s order.
Filled = tuple[int, int, str, HoldRec, HoldRec, int, int, int, FillFees | None]

Record = Entry | HoldRec | Released | Filled


def fee_id(ref: str, key: HoldKey) -> str:
    """The id of the fee a fill ``ref`` charged the owner of hold ``key`` (an order's hold is
    keyed by the order id: ``fee:t7:42``)."""
    return f"fee:{ref}:{key}"


def hold_of(rec: HoldRec) -> Hold:
    name = hold_name(rec[2])
    return Hold(name, rec[3], rec[4], rec[5], rec[6], name if rec[7] is None else rec[7])


def holds_in(record: Record) -> tuple[HoldRec, ...]:
    """The holds a trading-path record opened, closed or drew on (none for an entry)."""
    tag = record[1]
    if tag == OPENED:
        return (cast(HoldRec, record),)
    if tag == RELEASED:
        return (cast(Released, record)[2],)
    if tag == FILLED:
        filled = cast(Filled, record)
        return filled[3], filled[4]
    return ()


def expand(record: Record) -> list[Entry]:
    """The postings a log record stands for, as entries, in seq order."""
    tag = record[1]
    if tag is None or isinstance(tag, str):
        return [cast(Entry, record)]
    if tag == OPENED:
        seq, _, key, user, asset, amount, kind, ref = cast(HoldRec, record)
        name = hold_name(key)
        return [
            (seq, None, kind, name if ref is None else ref, name, asset, amount, user,
             AVAILABLE, user, FROZEN)
        ]  # fmt: skip
    if tag == RELEASED:
        seq, _, rec, amount = cast(Released, record)
        _, _, key, user, asset, _, kind, ref = rec
        name = hold_name(key)
        return [
            (seq, None, RELEASE_KIND[kind], name if ref is None else ref, name, asset, amount,
             user, FROZEN, user, AVAILABLE)
        ]  # fmt: skip
    seq, _, ref, bh, sh, base, quote, improvement, fees = cast(Filled, record)
    buyer, seller = bh[3], sh[3]
    buyer_hold, seller_hold = hold_name(bh[2]), hold_name(sh[2])
    base_asset, quote_asset = sh[4], bh[4]
    out: list[Entry] = [
        (seq, None, TRADE, ref, seller_hold, base_asset, base, seller, FROZEN, buyer, AVAILABLE),
        (seq + 1, None, TRADE, ref, buyer_hold, quote_asset, quote, buyer, FROZEN, seller,
         AVAILABLE),
    ]  # fmt: skip
    seq += 2
    if improvement:
        out.append(
            (seq, None, RELEASE_KIND[bh[6]], ref, buyer_hold, quote_asset, improvement, buyer,
             FROZEN, buyer, AVAILABLE)
        )  # fmt: skip
        seq += 1
    if fees is not None:
        buyer_coin, buyer_fee, seller_coin, seller_fee = fees
        if buyer_fee:
            out.append(
                (seq, fee_id(ref, bh[2]), FEE, ref, None, buyer_coin, buyer_fee, buyer,
                 AVAILABLE, FEES, AVAILABLE)
            )  # fmt: skip
            seq += 1
        if seller_fee:
            out.append(
                (seq, fee_id(ref, sh[2]), FEE, ref, None, seller_coin, seller_fee, seller,
                 AVAILABLE, FEES, AVAILABLE)
            )  # fmt: skip
    return out


def entry_id(entry: Entry) -> str:
    """The transfer id of a logged posting: its own, or the one :class:`Transfer`'s builders
    give (:func:`derived_id`)."""
    transfer_id = entry[1]
    return derived_id(entry) if transfer_id is None else transfer_id


def derived_id(entry: Entry) -> str:
    """The id the builders give a posting that opens a hold (``<kind>@<hold>``) or draws
    on one (``<kind>:<ref>@<hold>``)."""
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
