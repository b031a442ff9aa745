"""The :class:`Ledger`: balances and open holds, changed only by appending postings."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Final, cast

from sealbook.errors import Conflict, InsufficientBalance, NotFound, ParamInvalid
from sealbook.ledger.accounts import (
    AVAILABLE,
    FEES,
    FROZEN,
    WORLD,
    Account,
    Kind,
    Owner,
    check_account,
    is_user,
)
from sealbook.ledger.invariants import audit, compare_open_holds
from sealbook.ledger.records import (
    FILLED,
    OPENED,
    RELEASE_KIND,
    RELEASED,
    Checkpoint,
    Entry,
    Filled,
    FillFees,
    Hold,
    HoldKey,
    HoldRec,
    Posting,
    Record,
    Released,
    Transfer,
    derived_id,
    entry_id,
    expand,
    fee_id,
    hold_key,
    hold_name,
    hold_of,
    holds_in,
    posting_of,
)

__all__ = ["Ledger"]

ORDER_HOLD: Final = Kind.ORDER_HOLD.value

_first_seq = itemgetter(0)  # every log record starts with the seq of its first posting


class Ledger:
    """A pure, in-memory double-entry ledger with holds. No I/O, no clock.

    Every change is a batch of :class:`Transfer` given to :meth:`apply`, which checks the
    whole batch against a scratch copy of what it touches and only then writes: a batch
    applies completely or not at all. The other mutators are one-transfer batches, except
    the trading path, which runs on every order and fill: :meth:`open_hold`,
    :meth:`trade` and :meth:`close_hold` check everything that can go wrong before they
    write, and log one small record each (:data:`~.records.HoldRec`,
    :data:`~.records.Filled`, :data:`~.records.Released`), several postings in one.

    An order's hold is keyed by its order id (an int; named ``o<id>`` outside), so the
    trading path formats no string. Its transfer ids follow the builders' rules and are
    indexed only when :meth:`apply` or :meth:`posting` next needs them. They cannot
    collide with one another: a hold is opened once (order ids only grow; a smaller one
    goes through :meth:`apply`, which checks), closed once, and every fill has its own
    ref. Nor with :meth:`apply`'s: a hold that :meth:`apply` opened, drew on or named in
    an id is *claimed*, and the trading path leaves claimed holds to :meth:`apply`.

    Balances live in one small list per owner and asset, ``[available, frozen]``; system
    owners (WORLD, FEES) use only the first. Records hold plain values only (ints,
    strings, other records), so the garbage collector stops tracking them.
    """

    __slots__ = (
        "_bal",
        "_base_bal",
        "_base_open",
        "_base_seq",
        "_by_id",
        "_claimed",
        "_gone",
        "_indexed",
        "_last",
        "_log",
        "_open",
        "_opened",
        "_top",
    )

    def __init__(self) -> None:
        self._bal: dict[Owner, dict[str, list[int]]] = {}  # owner → asset → [avail, frozen]
        self._log: list[Record] = []  # the postings after _base_seq, as logged
        self._last = 0  # the seq of the last posting
        # What :meth:`compact` forgot: the state as of the last posting it dropped (the
        # balances in the same nested form, and the holds then open as in _open).
        self._base_seq = 0
        self._base_bal: dict[Owner, dict[str, list[int]]] = {}
        self._base_open: dict[HoldKey, tuple[int, HoldRec]] = {}
        self._open: dict[HoldKey, tuple[int, HoldRec]] = {}  # open hold → (left, record)
        self._top = -1  # the highest order id whose hold was opened: they only grow
        self._claimed: set[HoldKey] = set()  # holds the trading path leaves to apply()
        # Holds a posting of apply() closed, with its seq, while it is kept: the trading
        # path's own records carry the hold they close.
        self._gone: dict[HoldKey, tuple[HoldRec, int]] = {}
        # The index, up to seq _indexed: transfer id → entry, and every hold the kept log
        # opened or drew on.
        self._by_id: dict[str, Entry] = {}
        self._opened: dict[HoldKey, HoldRec] = {}
        self._indexed = 0

    # --- changing it -------------------------------------------------------------------

    def apply(self, transfers: Sequence[Transfer]) -> list[Posting]:
        """Apply every transfer or none; return one posting per transfer, in order.

        A transfer whose id is already posted is not applied again: its original posting
        is returned. Raises ``InsufficientBalance`` if a user bucket or a hold's remaining
        would go negative at any point in the batch, ``Conflict`` if an id is reused with
        other contents (or twice in the batch), ``NotFound`` for an unknown hold, and
        ``ParamInvalid`` for a transfer that cannot exist.
        """
        self._index()
        by_id = self._by_id
        staged: dict[Account, int] = {}
        staged_left: dict[HoldKey, int] = {}
        opened: dict[HoldKey, tuple[Owner, str]] = {}
        seen: set[str] = set()
        plan: list[Transfer | Entry] = []

        for transfer in transfers:
            transfer_id, debit, credit, amount, kind, ref, hold_id = transfer
            if transfer_id in seen:
                raise Conflict("another transfer with this id in the batch")
            seen.add(transfer_id)
            posted = by_id.get(transfer_id)
            if posted is not None:
                if posting_of(posted).transfer() != transfer:
                    raise Conflict("a different transfer with this id")
                plan.append(posted)
                continue

            if not (isinstance(transfer_id, str) and transfer_id):
                raise ParamInvalid("id", "must be a non-empty string")
            if not (isinstance(kind, str) and isinstance(ref, str)):
                raise ParamInvalid("kind", "kind and ref must be strings")
            if type(amount) is not int or amount <= 0:
                raise ParamInvalid("amount", "must be a positive int of atoms")
            check_account(debit, "debit")
            check_account(credit, "credit")
            if debit == credit:
                raise ParamInvalid("credit", "must differ from the debit account")
            if debit.asset != credit.asset:
                raise ParamInvalid("credit", "must be in the same asset as the debit account")
            if debit.owner == FEES:
                raise ParamInvalid("debit", "the FEES account only receives")

            if hold_id is None:
                if FROZEN in (debit.bucket, credit.bucket):
                    raise ParamInvalid("hold_id", "frozen funds move only through a hold")
            elif not (isinstance(hold_id, str) and hold_id):
                raise ParamInvalid("hold_id", "must be a non-empty string")
            elif credit.bucket == FROZEN:
                if debit.bucket != AVAILABLE or debit.owner != credit.owner:
                    raise ParamInvalid("debit", "a hold is opened from its owner's available")
                key = hold_key(hold_id)
                if key in opened or self._rec(key) is not None:
                    raise Conflict("a hold with this id")
                opened[key] = (credit.owner, credit.asset)
                staged_left[key] = amount
            elif debit.bucket == FROZEN:
                key = hold_key(hold_id)
                owner_asset = opened.get(key)
                if owner_asset is None:
                    rec = self._rec(key)
                    if rec is None:
                        raise NotFound("hold")
                    owner_asset = (rec[3], rec[4])
                if (debit.owner, debit.asset) != owner_asset:
                    raise ParamInvalid("debit", "must be the hold's frozen account")
                left = staged_left.get(key)
                left = (self._left(key) if left is None else left) - amount
                if left < 0:
                    raise InsufficientBalance()
                staged_left[key] = left
            else:
                raise ParamInvalid("hold_id", "a hold transfer debits or credits a frozen bucket")

            balance = staged.get(debit)
            balance = (self.balance(debit) if balance is None else balance) - amount
            if balance < 0 and debit.owner != WORLD:
                raise InsufficientBalance()
            staged[debit] = balance
            balance = staged.get(credit)
            staged[credit] = (self.balance(credit) if balance is None else balance) + amount
            plan.append(transfer)

        # Nothing below raises: the batch is committed whole.
        result = []
        for item in plan:
            if not isinstance(item, Transfer):
                result.append(posting_of(item))
                continue
            transfer_id, debit, credit, amount, kind, ref, hold_id = item
            entry: Entry = (
                self._last + 1, transfer_id, kind, ref, hold_id, debit.asset, amount,
                debit.owner, debit.bucket, credit.owner, credit.bucket,
            )  # fmt: skip
            self._post(entry)
            self._claim(transfer_id)
            if hold_id is not None:
                self._claim_key(hold_key(hold_id))
            result.append(posting_of(entry))
        return result

    def deposit(self, deposit_id: str, user: int, asset: str, amount: int) -> Posting:
        """Credit ``user`` from WORLD. The same ``deposit_id`` again is a no-op."""
        return self.apply([Transfer.deposit(deposit_id, user, asset, amount)])[0]

    def hold(
        self,
        hold_id: str,
        user: int,
        asset: str,
        amount: int,
        *,
        kind: str = ORDER_HOLD,
        ref: str | None = None,
    ) -> Posting:
        """Freeze ``amount`` of ``user``'s available ``asset`` under ``hold_id``. The same
        hold again returns its opening posting (or ``Conflict`` if it differs)."""
        if not (isinstance(hold_id, str) and hold_id):
            raise ParamInvalid("hold_id", "must be a non-empty string")
        before = self._last
        if self.open_hold(hold_key(hold_id), user, asset, amount, kind, ref):
            return posting_of(self.entries(before)[-1])
        # A replay: open_hold found it, so apply() returns the original posting.
        transfer = Transfer.hold(hold_id, user, asset, amount, kind=kind, ref=ref)
        return self.apply([transfer])[0]

    def open_hold(
        self,
        hold: HoldKey,
        user: int,
        asset: str,
        amount: int,
        kind: str = ORDER_HOLD,
        ref: str | None = None,
    ) -> bool:
        """:meth:`hold` by key, without building the :class:`Posting`: what every order
        does (``hold`` is its order id). ``ref`` defaults to the hold's name. ``False`` if
        the hold was opened before, exactly so (a replay: nothing changed).

        The plain case logs its record without :meth:`apply`'s general checks (it cannot
        be malformed); anything unusual, a replayed hold or a named one included, goes
        through :meth:`apply`.
        """
        # A claimed key is never above _top (_claim sees to it); an asset that is not a
        # string is not found below (InsufficientBalance).
        if (
            type(hold) is not int
            or hold <= self._top
            or type(amount) is not int
            or amount <= 0
            or type(user) is not int
            or user <= 0
            or (kind is not ORDER_HOLD and type(kind) is not str)
            or (ref is not None and type(ref) is not str)
        ):
            name = _name_of(hold)
            transfer = Transfer.hold(name, user, asset, amount, kind=kind, ref=ref)
            before = self._last
            return self.apply([transfer])[0].seq > before
        assets = self._bal.get(user)
        cell = None if assets is None else assets.get(asset)
        if cell is None or cell[0] < amount:
            raise InsufficientBalance()
        cell[0] -= amount
        cell[1] += amount
        self._last = seq = self._last + 1
        rec: HoldRec = (seq, OPENED, hold, user, asset, amount, kind, ref)
        self._log.append(rec)
        self._open[hold] = (amount, rec)
        self._top = hold
        return True

    def trade(
        self,
        ref: str,
        buyer_hold: HoldKey,
        seller_hold: HoldKey,
        base: int,
        quote: int,
        improvement: int = 0,
        fees: FillFees | None = None,
    ) -> None:
        """Settle one fill between two holds, all or nothing.

        ``base`` leaves the seller's hold for the buyer and ``quote`` the buyer's hold for
        the seller (trade ``ref``); ``improvement`` goes back from the buyer's hold to the
        buyer (a buy filled below its limit). ``fees`` are ``(buyer's coin, fee, seller's
        coin, fee)``, each paid from that side's available funds to FEES (a fee of 0 is
        none); what this fill brings in counts (the coin received), a price improvement
        does not. A hold drawn to zero closes. The assets are the holds': base is what
        the seller's hold froze, quote what the buyer's did.

        The postings and their ids are those of :meth:`apply` given the same transfers
        (:meth:`_trade_transfers`). Raises ``NotFound`` for a hold that is not open,
        ``InsufficientBalance`` when a hold or a fee payer is short, ``ParamInvalid`` for
        malformed amounts; in every case nothing changed. A fill between two holds of the
        same user, or on a claimed hold, goes through :meth:`apply`.
        """
        open_ = self._open
        bought, sold = open_.get(buyer_hold), open_.get(seller_hold)
        if bought is None or sold is None:
            if isinstance(buyer_hold, str) or isinstance(seller_hold, str):  # named holds
                buyer_key, seller_key = _key_of(buyer_hold), _key_of(seller_hold)
                if (buyer_key, seller_key) != (buyer_hold, seller_hold):
                    self.trade(ref, buyer_key, seller_key, base, quote, improvement, fees)
                    return
            raise NotFound("hold")
        if (
            type(base) is not int
            or type(quote) is not int
            or type(improvement) is not int
            or base <= 0
            or quote <= 0
            or improvement < 0
        ):
            raise ParamInvalid("amount", "must be positive ints of atoms")
        if fees is None:
            buyer_coin, buyer_fee, seller_coin, seller_fee = "", 0, "", 0
        else:
            buyer_coin, buyer_fee, seller_coin, seller_fee = fees
            if (
                type(buyer_fee) is not int
                or type(seller_fee) is not int
                or buyer_fee < 0
                or seller_fee < 0
                or (buyer_fee and not (type(buyer_coin) is str and buyer_coin))
                or (seller_fee and not (type(seller_coin) is str and seller_coin))
            ):
                raise ParamInvalid("fee", "must be a coin and a non-negative int of atoms")
        buyer_left, bh = bought
        seller_left, sh = sold
        buyer, quote_asset, seller, base_asset = bh[3], bh[4], sh[3], sh[4]
        claimed = self._claimed
        if (
            buyer == seller
            or base_asset == quote_asset
            or bh[6] not in RELEASE_KIND
            or type(ref) is not str
            or (claimed and (buyer_hold in claimed or seller_hold in claimed))
        ):
            self.apply(self._trade_transfers(ref, bh, sh, base, quote, improvement, fees))
            return
        buyer_left -= quote + improvement
        seller_left -= base
        if buyer_left < 0 or seller_left < 0:
            raise InsufficientBalance()
        bal = self._bal
        buyer_assets, seller_assets = bal[buyer], bal[seller]  # both hold something
        # The fee payers' funds, checked before anything is written.
        if buyer_fee:
            cell = buyer_assets.get(buyer_coin)
            have = (0 if cell is None else cell[0]) + (base if buyer_coin == base_asset else 0)
            if buyer_fee > have:
                raise InsufficientBalance()
        if seller_fee:
            cell = seller_assets.get(seller_coin)
            have = (0 if cell is None else cell[0]) + (quote if seller_coin == quote_asset else 0)
            if seller_fee > have:
                raise InsufficientBalance()
        # Nothing below raises.
        buyer_base = buyer_assets.get(base_asset)
        if buyer_base is None:
            buyer_base = buyer_assets[base_asset] = [0, 0]
        seller_quote = seller_assets.get(quote_asset)
        if seller_quote is None:
            seller_quote = seller_assets[quote_asset] = [0, 0]
        seller_assets[base_asset][1] -= base
        buyer_base[0] += base
        buyer_quote = buyer_assets[quote_asset]
        buyer_quote[1] -= quote + improvement
        buyer_quote[0] += improvement
        seller_quote[0] += quote
        seq = self._last + 1
        last = seq + (1 if improvement else 0)
        if buyer_fee:
            buyer_assets[buyer_coin][0] -= buyer_fee
            self._cell(FEES, buyer_coin)[0] += buyer_fee
            last += 1
        if seller_fee:
            seller_assets[seller_coin][0] -= seller_fee
            self._cell(FEES, seller_coin)[0] += seller_fee
            last += 1
        self._last = last + 1
        record: Filled = (seq, FILLED, ref, bh, sh, base, quote, improvement, fees)
        self._log.append(record)
        if buyer_left:
            open_[buyer_hold] = (buyer_left, bh)
        else:
            del open_[buyer_hold]
        if seller_left:
            open_[seller_hold] = (seller_left, sh)
        else:
            del open_[seller_hold]

    def _trade_transfers(
        self,
        ref: str,
        bh: HoldRec,
        sh: HoldRec,
        base: int,
        quote: int,
        improvement: int,
        fees: FillFees | None,
    ) -> list[Transfer]:
        """:meth:`trade` as a batch for :meth:`apply` (same ids, same order)."""
        buy, sell = hold_of(bh), hold_of(sh)
        batch = [
            Transfer.settle(sell, Account.available(buy.user, sell.asset), base, Kind.TRADE, ref),
            Transfer.settle(buy, Account.available(sell.user, buy.asset), quote, Kind.TRADE, ref),
        ]
        if improvement:
            batch.append(Transfer.release(buy, improvement, ref=ref))
        if fees is not None:
            buyer_coin, buyer_fee, seller_coin, seller_fee = fees
            for key, user, coin, amount in (
                (bh[2], buy.user, buyer_coin, buyer_fee),
                (sh[2], sell.user, seller_coin, seller_fee),
            ):
                if amount:
                    batch.append(
                        Transfer.move(
                            fee_id(ref, key),
                            Account.available(user, coin),
                            Account.fees(coin),
                            amount,
                            Kind.FEE,
                            ref,
                        )
                    )
        return batch

    def release(
        self,
        hold_id: str,
        amount: int | None = None,
        *,
        kind: str | None = None,
        ref: str | None = None,
        transfer_id: str | None = None,
    ) -> Posting | None:
        """Give (part of) a hold back to available; ``None`` releases all that remains.

        Releasing the remainder of a hold that is already closed returns its earlier
        release posting if there was one, else ``None``: there is nothing left to move.
        A partial release needs a ``ref`` (the fill, say) or ``transfer_id`` of its own,
        or it would share its id with the release of the remainder.
        """
        if amount is None and kind is None and ref is None and transfer_id is None:
            posted = self.release_rest(hold_id)
            if posted is not None:
                return posted
        hold = self.get_hold(hold_id)
        if amount is not None and ref is None and transfer_id is None:
            raise ParamInvalid("ref", "a partial release needs its own ref or transfer_id")
        if amount is None:
            left = self.remaining(hold_id)
            if left == 0:
                probe = Transfer.release(hold, 1, kind=kind, ref=ref, transfer_id=transfer_id)
                return self.posting(probe.id)
            amount = left
        transfer = Transfer.release(hold, amount, kind=kind, ref=ref, transfer_id=transfer_id)
        return self.apply([transfer])[0]

    def release_rest(self, hold_id: str) -> Posting | None:
        """Give back all that is left of ``hold_id``, if anything is; ``None`` when the
        hold is closed already. What an order does when it leaves the book."""
        before = self._last
        self.close_hold(hold_key(hold_id))
        return posting_of(self.entries(before)[-1]) if self._last > before else None

    def close_hold(self, hold: HoldKey) -> None:
        """:meth:`release_rest` by key, without building the :class:`Posting`.

        The common case (all that is left, the hold's default release kind and ref) logs
        its record without :meth:`apply`'s general checks; anything else goes through
        :meth:`release`.
        """
        got = self._open.get(hold)
        if got is None:
            if isinstance(hold, str) and hold_key(hold) != hold:
                self.close_hold(hold_key(hold))
            return
        left, rec = got
        cell = self._bal[rec[3]][rec[4]]
        if (
            left <= 0
            or cell[1] < left
            or rec[6] not in RELEASE_KIND
            or hold in self._claimed
        ):
            if left:
                name = hold_name(hold)
                ref = name if rec[7] is None else rec[7]
                self.release(name, left, kind=RELEASE_KIND.get(rec[6]), ref=ref)
            return
        cell[1] -= left
        cell[0] += left
        self._last = seq = self._last + 1
        record: Released = (seq, RELEASED, rec, left)
        self._log.append(record)
        del self._open[hold]

    def settle_from_hold(
        self,
        hold_id: str,
        to_account: Account,
        amount: int,
        kind: str,
        ref: str,
        *,
        transfer_id: str | None = None,
    ) -> Posting:
        """Pay ``amount`` out of a hold's frozen funds to ``to_account``."""
        transfer = Transfer.settle(
            self.get_hold(hold_id), to_account, amount, kind, ref, transfer_id=transfer_id
        )
        return self.apply([transfer])[0]

    # --- reading it --------------------------------------------------------------------

    def balance(self, account: Account) -> int:
        owner, asset, bucket = account
        assets = self._bal.get(owner)
        cell = None if assets is None else assets.get(asset)
        return 0 if cell is None else cell[bucket == FROZEN]

    def available(self, user: int, asset: str) -> int:
        assets = self._bal.get(user)
        cell = None if assets is None else assets.get(asset)
        return 0 if cell is None else cell[0]

    def frozen(self, user: int, asset: str) -> int:
        assets = self._bal.get(user)
        cell = None if assets is None else assets.get(asset)
        return 0 if cell is None else cell[1]

    def balances(self, user: int) -> dict[str, tuple[int, int]]:
        """``asset → (available, frozen)`` for every asset ``user`` ever held."""
        assets = self._bal.get(user, {})
        return {asset: (assets[asset][0], assets[asset][1]) for asset in sorted(assets)}

    def all_accounts(self) -> dict[Account, int]:
        """Every account with a balance ever (zero balances included): both buckets of
        each asset a user held, the available bucket of the system owners'."""
        return _accounts(self._bal)

    def get_hold(self, hold_id: str) -> Hold:
        rec = self._rec(hold_key(hold_id)) if isinstance(hold_id, str) else None
        if rec is None:
            raise NotFound("hold")
        return hold_of(rec)

    def remaining(self, hold_id: str) -> int:
        """What is still frozen under ``hold_id``; 0 once it is closed."""
        self.get_hold(hold_id)
        return self._left(hold_key(hold_id))

    def is_open(self, hold_id: str) -> bool:
        return hold_key(hold_id) in self._open

    def open_holds(self) -> dict[str, int]:
        """``hold id → remaining`` for every open hold."""
        return {hold_name(key): left for key, (left, _) in self._open.items()}

    def holds(self) -> list[Hold]:
        """Every hold the ledger knows, open or closed, in opening order: the open ones
        and those the postings kept in memory opened or drew on."""
        return [hold_of(rec) for rec in self._known().values()]

    def posting(self, transfer_id: str) -> Posting | None:
        self._index()
        entry = self._by_id.get(transfer_id)
        return None if entry is None else posting_of(entry)

    def postings(self, after_seq: int = 0) -> list[Posting]:
        """The log from ``after_seq + 1`` on (seqs are 1, 2, 3, ...)."""
        return [posting_of(entry) for entry in self.entries(after_seq)]

    def entries(self, after_seq: int = 0) -> list[Entry]:
        """:meth:`postings` as flat :data:`~.records.Entry` tuples."""
        kept = self._log[self._holding(after_seq) :]
        return [entry for record in kept for entry in expand(record) if entry[0] > after_seq]

    def records(self, after_seq: int = 0) -> list[Record]:
        """The log after posting ``after_seq`` as the ledger keeps it (each record stands
        for one or more postings, :func:`~.records.expand`): what the store writes, with
        no object built on the trading path. ``after_seq`` is a :attr:`last_seq` the
        caller saw, so no record straddles it; ``ValueError`` if one does."""
        log = self._log
        first = bisect_right(log, after_seq, key=_first_seq)
        if first and self._end(first - 1) > after_seq:
            raise ValueError(f"posting {after_seq} is inside a record, not after one")
        return log[first:]

    @property
    def kept(self) -> int:
        """Postings held in memory (all of them, unless compacted)."""
        return self._last - self._base_seq

    @property
    def compacted_seq(self) -> int:
        """The last posting :meth:`compact` dropped from memory (0 if none)."""
        return self._base_seq

    @property
    def last_seq(self) -> int:
        return self._last

    # --- internals ---------------------------------------------------------------------

    def _cell(self, owner: Owner, asset: str) -> list[int]:
        """``[available, frozen]`` of ``owner``'s ``asset``, created at zero."""
        assets = self._bal.get(owner)
        if assets is None:
            assets = self._bal[owner] = {}
        cell = assets.get(asset)
        if cell is None:
            cell = assets[asset] = [0, 0]
        return cell

    def _holding(self, seq: int) -> int:
        """The index of the first log record that may hold postings after ``seq``."""
        return max(bisect_right(self._log, seq, key=_first_seq) - 1, 0)

    def _left(self, key: HoldKey) -> int:
        """What is left of hold ``key``: 0 unless it is open."""
        got = self._open.get(key)
        return 0 if got is None else got[0]

    def _end(self, index: int) -> int:
        """The seq of the last posting of log record ``index``."""
        log = self._log
        return log[index + 1][0] - 1 if index + 1 < len(log) else self._last

    def _post(self, entry: Entry) -> None:
        """Log one posting :meth:`apply` checked (or a loaded one) and apply it to the state
        and the index."""
        seq, _, kind, ref, hold_id, asset, amount, d_owner, d_bucket, c_owner, c_bucket = entry
        self._log.append(entry)
        self._last = self._indexed = seq  # everything before it is indexed: apply() saw to it
        self._by_id[entry_id(entry)] = entry
        self._cell(d_owner, asset)[d_bucket == FROZEN] -= amount
        cell = self._cell(c_owner, asset)
        cell[c_bucket == FROZEN] += amount
        if hold_id is None:
            return
        key = hold_key(hold_id)
        if c_bucket == FROZEN:
            # A frozen account's owner is a user (check_account), hence the cast.
            user = cast(int, c_owner)
            rec: HoldRec = (seq, OPENED, key, user, asset, amount, kind, ref)
            self._open[key] = (amount, rec)
            self._opened[key] = rec
            if isinstance(key, int) and key > self._top:
                self._top = key
            return
        held = self._rec(key)  # a loaded log may overdraw a hold, even a closed one
        left = self._left(key) - amount
        if held is None:
            return
        if left:
            self._open[key] = (left, held)
        else:
            del self._open[key]
            self._gone[key] = (held, seq)

    def _claim(self, transfer_id: str) -> None:
        """Claim the hold an id of :meth:`apply` names the way the trading path's ids do
        (``...@<hold>``, ``fee:<ref>:<key>``), so the trading path never writes it again."""
        if "@" in transfer_id:
            self._claim_key(hold_key(transfer_id.rsplit("@", 1)[1]))
        elif transfer_id.startswith("fee:"):
            named = transfer_id.rsplit(":", 1)[1]
            self._claim_key(named)
            if named.isascii() and named.isdigit():
                self._claim_key(int(named))

    def _claim_key(self, key: HoldKey) -> None:
        self._claimed.add(key)
        if isinstance(key, int) and key > self._top:  # open_hold: a key above _top is free
            self._top = key

    def _rec(self, key: HoldKey) -> HoldRec | None:
        """The record of hold ``key``, open or closed, if the ledger still knows it."""
        got = self._open.get(key)
        if got is not None:
            return got[1]
        gone = self._gone.get(key)
        if gone is not None:
            return gone[0]
        self._index()
        return self._opened.get(key)

    def _known(self) -> dict[HoldKey, HoldRec]:
        """Every hold the ledger knows, in opening order."""
        self._index()
        known = dict(self._opened)
        known.update((key, rec) for key, (rec, _) in self._gone.items())
        known.update((key, rec) for key, (_, rec) in self._open.items())  # the live ones
        return dict(sorted(known.items(), key=lambda item: item[1][0]))

    def _index(self) -> None:
        """Index the transfer ids and holds the trading path logged since the last call."""
        indexed = self._indexed
        if indexed >= self._last:
            return
        by_id, opened, log = self._by_id, self._opened, self._log
        for record in log[self._holding(indexed) :]:
            for rec in holds_in(record):
                opened.setdefault(rec[2], rec)
            for entry in expand(record):
                if entry[0] > indexed:
                    by_id[entry_id(entry)] = entry
        self._indexed = self._last

    # --- checking and rebuilding -------------------------------------------------------

    def check_invariants(self, open_holds_expected: Mapping[str, int] | None = None) -> list[str]:
        """Every violation found, as a readable line; ``[]`` when the ledger is sound.

        Checks that each asset sums to zero; that no user bucket (nor FEES) is negative;
        that each user's frozen balance equals the remaining of their open holds; that
        every balance and every hold is what the posting log says; and, if given, that the
        open holds are exactly ``open_holds_expected`` (hold id → remaining).
        """
        return audit(
            self.all_accounts(),
            self.postings(),
            {hold_name(key): hold_of(rec) for key, rec in self._known().items()},
            self.open_holds(),
            open_holds_expected,
            self._base(),
        )

    def compact(self, upto_seq: int) -> int:
        """Forget postings up to ``upto_seq`` (they are stored elsewhere) and the holds that
        closed by then; keep balances exact. Returns how many postings were dropped (a
        record of several postings goes whole, or waits for the next call).

        Memory then grows with activity since the last compaction, not since the start. The
        forgotten transfer ids are no longer recognised as already applied, so compact only
        what no caller will submit again (the exchange core never reuses an id), and the
        auditor checks balances against the checkpoint plus the postings kept.
        """
        log = self._log
        drop = bisect_right(log, upto_seq, key=_first_seq)
        if drop and self._end(drop - 1) > upto_seq:
            drop -= 1
        if not drop:
            return 0
        # It runs while the exchange waits: everything below is O(postings kept), a
        # C-speed copy, or small, never a Python loop over every hold or account.
        head_end, tail = self._end(drop - 1), log[drop:]
        base = {
            owner: {a: cell[:] for a, cell in assets.items()} for owner, assets in self._bal.items()
        }
        held = dict(self._open)  # C-speed: its values are immutable
        for record in reversed(tail):  # undo what came after the new base
            recs = {rec[2]: rec for rec in holds_in(record)}
            for entry in reversed(expand(record)):
                _, _, _, _, hold_id, asset, amount, debit_owner, debit_bucket, owner, bucket = entry
                base[debit_owner][asset][debit_bucket == FROZEN] += amount
                base[owner][asset][bucket == FROZEN] -= amount
                if hold_id is not None:
                    key = hold_key(hold_id)
                    got = held.get(key)
                    rec = got[1] if got is not None else recs.get(key) or self._rec(key)
                    left = (0 if got is None else got[0]) + (
                        -amount if bucket == FROZEN else amount
                    )
                    if left and rec is not None:
                        held[key] = (left, rec)
                    else:
                        held.pop(key, None)
        dropped = head_end - self._base_seq
        self._log = tail
        self._base_seq, self._base_bal, self._base_open = head_end, base, held
        # The index starts again from the new base (the next apply() indexes what is kept).
        self._by_id, self._opened, self._indexed = {}, {}, head_end
        if self._gone:
            self._gone = {k: gone for k, gone in self._gone.items() if gone[1] > head_end}
        if self._claimed:
            self._claimed = {key for key in self._claimed if key in self._open}
        return dropped

    def checkpoint(self) -> tuple[Checkpoint, dict[str, Hold]]:
        """The state as of the last compaction (every balance, the open holds' remaining)
        and the records of the holds then open: what :meth:`from_postings` starts from,
        given the postings after ``checkpoint.seq``. Compact first to make it current."""
        records = {hold_name(key): hold_of(rec) for key, (_, rec) in self._base_open.items()}
        return self._base(), records

    def _base(self) -> Checkpoint:
        return Checkpoint(
            self._base_seq,
            _accounts(self._base_bal),
            {hold_name(key): left for key, (left, _) in self._base_open.items()},
        )

    def _start_from(self, start: Checkpoint, records: Mapping[str, Hold]) -> None:
        for account, amount in start.balances.items():
            try:
                check_account(account, "balance")
            except ParamInvalid as exc:
                raise ValueError(f"checkpoint {start.seq}: {exc.msg}") from None
            if type(amount) is not int:
                raise ValueError(f"checkpoint {start.seq}: {account} is not an int of atoms")
            self._cell(account.owner, account.asset)[account.bucket == FROZEN] = amount
        for hold_id, left in start.left.items():
            hold = records.get(hold_id)
            if hold is None or hold.id != hold_id:
                raise ValueError(f"checkpoint {start.seq}: open hold {hold_id!r} has no record")
            if type(left) is not int or not 0 < left <= hold.amount:
                raise ValueError(f"checkpoint {start.seq}: hold {hold_id!r} has {left} left")
            key = hold_key(hold_id)
            rec: HoldRec = (
                0, OPENED, key, hold.user, hold.asset, hold.amount, hold.kind,
                None if hold.ref == hold_id else hold.ref,
            )  # fmt: skip
            self._open[key] = (left, rec)
            if isinstance(key, int) and key > self._top:
                self._top = key
        self._last = self._base_seq = self._indexed = start.seq
        self._base_bal = {
            o: {a: c[:] for a, c in assets.items()} for o, assets in self._bal.items()
        }
        self._base_open = dict(self._open)

    @classmethod
    def from_postings(
        cls,
        postings: Iterable[Posting],
        holds: Mapping[str, int] | None = None,
        *,
        start: Checkpoint | None = None,
        records: Mapping[str, Hold] | None = None,
    ) -> Ledger:
        """Rebuild a ledger from its posting log, e.g. on restart.

        Balances and holds are derived from the postings alone, or from ``start`` (the
        state as of posting ``start.seq``, what :meth:`checkpoint` gave) and the postings
        after it, with ``records`` the holds open at ``start``. ``holds`` is what the
        caller's store says is open (hold id → remaining); if it disagrees with the log,
        this raises ``ValueError``. So does a log that cannot be a ledger's: seqs not
        1, 2, 3, ... (or not right after ``start``), a repeated id, an account that
        cannot exist, a draw on an unknown hold, an open hold of ``start`` without its
        record. Anything else wrong (an overdraft, say) loads and shows in
        :meth:`check_invariants`.
        """
        ledger = cls()
        if start is not None:
            ledger._start_from(start, records or {})
        by_id = ledger._by_id
        for posting in postings:
            seq = ledger._last + 1
            if posting.seq != seq:
                raise ValueError(f"posting log has seq {posting.seq} where {seq} belongs")
            if posting.id in by_id:
                raise ValueError(f"posting {seq} repeats transfer id {posting.id!r}")
            try:
                check_account(posting.debit, "debit")
                check_account(posting.credit, "credit")
            except ParamInvalid as exc:
                raise ValueError(f"posting {seq}: {exc.msg}") from None
            if not posting.debit.asset == posting.credit.asset == posting.asset:
                raise ValueError(f"posting {seq} mixes assets")
            hold_id = posting.hold_id
            rec: HoldRec | None = None
            if hold_id is not None:
                rec = ledger._rec(hold_key(hold_id))
                if posting.credit.bucket == FROZEN:
                    if rec is not None:
                        raise ValueError(f"posting {seq} opens hold {hold_id!r} again")
                elif rec is None:
                    raise ValueError(f"posting {seq} draws on unknown hold {hold_id!r}")
            debit, credit = posting.debit, posting.credit
            entry: Entry = (
                seq, posting.id, posting.kind, posting.ref, hold_id, posting.asset,
                posting.amount, debit.owner, debit.bucket, credit.owner, credit.bucket,
            )  # fmt: skip
            ledger._post(entry)
            ledger._claim_loaded(entry, posting.id, rec)
        if holds is not None:
            problems = compare_open_holds(ledger.open_holds(), holds)
            if problems:
                raise ValueError("; ".join(problems))
        return ledger

    def _claim_loaded(self, entry: Entry, transfer_id: str, rec: HoldRec | None) -> None:
        """What a loaded posting claims: the trading path would write its id again only if
        it is the release that closes a hold still open (a partial release made with the
        hold's own ref), or an id of the trading path's form made by someone else."""
        kind, ref, hold_id = entry[2], entry[3], entry[4]
        if hold_id is not None and transfer_id == derived_id(entry):
            if rec is not None and kind == RELEASE_KIND.get(rec[6]) and ref == hold_of(rec).ref:
                self._claim_key(rec[2])
            return
        if kind == Kind.FEE and hold_id is None and transfer_id.startswith(f"fee:{ref}:"):
            return  # a fill's fee: its ref is the fill's own
        self._claim(transfer_id)


def _name_of(hold: HoldKey) -> str:
    """The name of a hold key a caller gave: an order id (an int >= 0) or a name."""
    if isinstance(hold, bool) or (isinstance(hold, int) and hold < 0):
        raise ParamInvalid("hold_id", "must be an order id or a non-empty string")
    if isinstance(hold, int):
        return hold_name(hold)
    if not (isinstance(hold, str) and hold):
        raise ParamInvalid("hold_id", "must be an order id or a non-empty string")
    return hold


def _key_of(hold: HoldKey) -> HoldKey:
    return hold_key(hold) if isinstance(hold, str) else hold


def _accounts(bal: Mapping[Owner, Mapping[str, list[int]]]) -> dict[Account, int]:
    """Nested ``owner → asset → [available, frozen]`` balances, keyed by account."""
    out: dict[Account, int] = {}
    for owner, assets in bal.items():
        user = is_user(owner)
        for asset, (available, frozen) in assets.items():
            out[Account(owner, asset, AVAILABLE)] = available
            if user:
                out[Account(owner, asset, FROZEN)] = frozen
    return out
