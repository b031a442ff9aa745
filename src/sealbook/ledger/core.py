"""The :class:`Ledger`: balances and open holds, changed only by appending postings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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
    RELEASE_KIND,
    Checkpoint,
    Entry,
    Hold,
    HoldRow,
    Posting,
    Transfer,
    entry_id,
    posting_of,
)

__all__ = ["Ledger"]

# Kinds as plain strings: the trading path logs one with every posting.
ORDER_HOLD: Final = Kind.ORDER_HOLD.value
TRADE: Final = Kind.TRADE.value
FEE: Final = Kind.FEE.value


class Ledger:
    """A pure, in-memory double-entry ledger with holds. No I/O, no clock.

    Every change is a batch of :class:`Transfer` given to :meth:`apply`, which checks the
    whole batch against a scratch copy of what it touches and only then writes: a batch
    applies completely or not at all. The other mutators are one-transfer batches, except
    the trading path, which runs on every order and fill: :meth:`open_hold`,
    :meth:`trade` and :meth:`close_hold` check everything that can go wrong before they
    write, log flat :data:`~sealbook.ledger.records.Entry` tuples, and build no objects.

    Their transfer ids follow the builders' rules and are indexed only when :meth:`apply`
    or :meth:`posting` next needs them: they cannot collide with one another (one hold per
    order, one trade ref per fill), and before they write they check the ids
    :meth:`apply` has taken.

    Balances live in one small list per owner and asset, ``[available, frozen]``; system
    owners (WORLD, FEES) use only the first.
    """

    __slots__ = (
        "_bal",
        "_base_bal",
        "_base_left",
        "_base_seq",
        "_by_id",
        "_holds",
        "_indexed",
        "_log",
        "_remaining",
    )

    def __init__(self) -> None:
        self._bal: dict[Owner, dict[str, list[int]]] = {}  # owner → asset → [avail, frozen]
        self._log: list[Entry] = []
        # What :meth:`compact` forgot: the state as of the last posting it dropped (the
        # balances in the same nested form, and the open holds' remaining).
        self._base_seq = 0
        self._base_bal: dict[Owner, dict[str, list[int]]] = {}
        self._base_left: dict[str, int] = {}
        self._by_id: dict[str, Entry] = {}  # transfer id → entry, up to seq ``_indexed``
        self._indexed = 0
        self._holds: dict[str, HoldRow] = {}  # every hold opened; a hold id is never reused
        self._remaining: dict[str, int] = {}  # open holds only: closed ones leave

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
        by_id, holds, remaining = self._by_id, self._holds, self._remaining
        staged: dict[Account, int] = {}
        staged_left: dict[str, int] = {}
        opened: dict[str, HoldRow] = {}
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
            elif credit.bucket == FROZEN:
                if debit.bucket != AVAILABLE or debit.owner != credit.owner:
                    raise ParamInvalid("debit", "a hold is opened from its owner's available")
                if hold_id in holds or hold_id in opened:
                    raise Conflict("a hold with this id")
                # A frozen account's owner is a user (check_account), hence the cast.
                opened[hold_id] = (
                    hold_id,
                    cast(int, credit.owner),
                    credit.asset,
                    amount,
                    kind,
                    ref,
                )
                staged_left[hold_id] = amount
            elif debit.bucket == FROZEN:
                row = opened.get(hold_id) or holds.get(hold_id)
                if row is None:
                    raise NotFound("hold")
                if debit.owner != row[1] or debit.asset != row[2]:
                    raise ParamInvalid("debit", "must be the hold's frozen account")
                left = staged_left.get(hold_id)
                left = (remaining.get(hold_id, 0) if left is None else left) - amount
                if left < 0:
                    raise InsufficientBalance()
                staged_left[hold_id] = left
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
        log, result = self._log, []
        for item in plan:
            if not isinstance(item, Transfer):
                result.append(posting_of(item))
                continue
            transfer_id, debit, credit, amount, kind, ref, hold_id = item
            entry: Entry = (
                self._base_seq + len(log) + 1, transfer_id, kind, ref, hold_id, debit.asset,
                amount, debit.owner, debit.bucket, credit.owner, credit.bucket,
            )  # fmt: skip
            log.append(entry)
            by_id[transfer_id] = entry
            result.append(posting_of(entry))
        self._indexed = self.last_seq
        for (owner, asset, bucket), balance in staged.items():
            self._cell(owner, asset)[bucket == FROZEN] = balance
        holds.update(opened)
        for hold_id, left in staged_left.items():
            if left:
                remaining[hold_id] = left
            else:
                remaining.pop(hold_id, None)
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
        ref = hold_id if ref is None else ref
        before = self.last_seq
        self.open_hold(hold_id, user, asset, amount, kind, ref)
        if self.last_seq > before:
            return posting_of(self._log[-1])
        # A replay: open_hold found it, so apply() returns the original posting.
        return self.apply([Transfer.hold(hold_id, user, asset, amount, kind=kind, ref=ref)])[0]

    def open_hold(
        self,
        hold_id: str,
        user: int,
        asset: str,
        amount: int,
        kind: str = ORDER_HOLD,
        ref: str | None = None,
    ) -> None:
        """:meth:`hold` without building the :class:`Posting`: what every order does.

        The plain case logs its entry without :meth:`apply`'s general checks (it cannot
        be malformed); anything unusual, a replayed id included, goes through :meth:`apply`.
        """
        if ref is None:
            ref = hold_id
        if (
            type(amount) is not int
            or amount <= 0
            or type(user) is not int
            or user <= 0
            or type(asset) is not str
            or not asset
            or type(hold_id) is not str
            or not hold_id
            or not isinstance(kind, str)
            or not isinstance(ref, str)
            or hold_id in self._holds
            or f"{kind}@{hold_id}" in self._by_id
        ):
            self.apply([Transfer.hold(hold_id, user, asset, amount, kind=kind, ref=ref)])
            return
        assets = self._bal.get(user)
        cell = None if assets is None else assets.get(asset)
        if cell is None or cell[0] < amount:
            raise InsufficientBalance()
        cell[0] -= amount
        cell[1] += amount
        log = self._log
        log.append(
            (self._base_seq + len(log) + 1, None, kind, ref, hold_id, asset, amount, user,
             AVAILABLE, user, FROZEN)
        )  # fmt: skip
        self._holds[hold_id] = (hold_id, user, asset, amount, kind, ref)
        self._remaining[hold_id] = amount

    def trade(
        self,
        ref: str,
        buyer_hold: str,
        seller_hold: str,
        base: int,
        quote: int,
        improvement: int = 0,
        buyer_fee: tuple[str, str, int] | None = None,
        seller_fee: tuple[str, str, int] | None = None,
    ) -> None:
        """Settle one fill between two holds, all or nothing.

        ``base`` leaves the seller's hold for the buyer and ``quote`` the buyer's hold for
        the seller (trade ``ref``); ``improvement`` goes back from the buyer's hold to the
        buyer (a buy filled below its limit). Each fee is ``(transfer id, coin, amount)``,
        paid from that side's available funds to FEES; what this fill brings in counts
        (the coin received), a price improvement does not. A hold drawn to zero closes.
        The assets are the holds': base is what the seller's hold froze, quote what the
        buyer's did.

        The postings and their ids are those of :meth:`apply` given the same transfers
        (:meth:`_trade_transfers`). Raises ``NotFound`` for a hold that is not open,
        ``InsufficientBalance`` when a hold or a fee payer is short, ``ParamInvalid`` for
        malformed amounts; in every case nothing changed. A fill between two holds of the
        same user, or a fee id already taken, goes through :meth:`apply`.
        """
        holds, remaining = self._holds, self._remaining
        bh, sh = holds.get(buyer_hold), holds.get(seller_hold)
        buyer_left, seller_left = remaining.get(buyer_hold), remaining.get(seller_hold)
        if bh is None or sh is None or buyer_left is None or seller_left is None:
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
        buyer, quote_asset, seller, base_asset = bh[1], bh[2], sh[1], sh[2]
        release_kind = RELEASE_KIND.get(bh[4])
        by_id = self._by_id
        if (
            buyer == seller
            or release_kind is None
            or base_asset == quote_asset
            or (buyer_fee is not None and buyer_fee[0] in by_id)
            or (seller_fee is not None and seller_fee[0] in by_id)
            or f"{TRADE}:{ref}@{seller_hold}" in by_id
            or f"{TRADE}:{ref}@{buyer_hold}" in by_id
            or (improvement and f"{release_kind}:{ref}@{buyer_hold}" in by_id)
        ):
            self.apply(
                self._trade_transfers(ref, bh, sh, base, quote, improvement, buyer_fee, seller_fee)
            )
            return
        buyer_left -= quote + improvement
        seller_left -= base
        if buyer_left < 0 or seller_left < 0:
            raise InsufficientBalance()
        bal = self._bal
        buyer_assets, seller_assets = bal[buyer], bal[seller]  # both hold something
        buyer_base = buyer_assets.get(base_asset)
        seller_quote = seller_assets.get(quote_asset)
        # The fee payers' funds, checked before anything is written.
        if buyer_fee is not None:
            _check_fee(buyer_fee, buyer_assets, base_asset, base)
        if seller_fee is not None:
            _check_fee(seller_fee, seller_assets, quote_asset, quote)
        # Nothing below raises.
        if buyer_base is None:
            buyer_base = buyer_assets[base_asset] = [0, 0]
        if seller_quote is None:
            seller_quote = seller_assets[quote_asset] = [0, 0]
        seller_assets[base_asset][1] -= base
        buyer_base[0] += base
        buyer_quote = buyer_assets[quote_asset]
        buyer_quote[1] -= quote + improvement
        buyer_quote[0] += improvement
        seller_quote[0] += quote
        log = self._log
        append = log.append
        seq = self._base_seq + len(log)
        append((seq + 1, None, TRADE, ref, seller_hold, base_asset, base, seller, FROZEN, buyer,
                AVAILABLE))  # fmt: skip
        append((seq + 2, None, TRADE, ref, buyer_hold, quote_asset, quote, buyer, FROZEN, seller,
                AVAILABLE))  # fmt: skip
        seq += 2
        if improvement:
            seq += 1
            append((seq, None, release_kind, ref, buyer_hold, quote_asset, improvement, buyer,
                    FROZEN, buyer, AVAILABLE))  # fmt: skip
        if buyer_fee is not None:
            seq += 1
            self._pay_fee(seq, buyer_fee, buyer, ref)
        if seller_fee is not None:
            seq += 1
            self._pay_fee(seq, seller_fee, seller, ref)
        if buyer_left:
            remaining[buyer_hold] = buyer_left
        else:
            del remaining[buyer_hold]
        if seller_left:
            remaining[seller_hold] = seller_left
        else:
            del remaining[seller_hold]

    def _pay_fee(self, seq: int, fee: tuple[str, str, int], user: int, ref: str) -> None:
        transfer_id, coin, amount = fee
        self._bal[user][coin][0] -= amount
        self._cell(FEES, coin)[0] += amount
        self._log.append((seq, transfer_id, FEE, ref, None, coin, amount, user, AVAILABLE, FEES,
                          AVAILABLE))  # fmt: skip

    def _trade_transfers(
        self,
        ref: str,
        bh: HoldRow,
        sh: HoldRow,
        base: int,
        quote: int,
        improvement: int,
        buyer_fee: tuple[str, str, int] | None,
        seller_fee: tuple[str, str, int] | None,
    ) -> list[Transfer]:
        """:meth:`trade` as a batch for :meth:`apply` (same ids, same order)."""
        buy, sell = Hold._make(bh), Hold._make(sh)
        batch = [
            Transfer.settle(sell, Account.available(buy.user, sell.asset), base, Kind.TRADE, ref),
            Transfer.settle(buy, Account.available(sell.user, buy.asset), quote, Kind.TRADE, ref),
        ]
        if improvement:
            batch.append(Transfer.release(buy, improvement, ref=ref))
        for fee, user in ((buyer_fee, buy.user), (seller_fee, sell.user)):
            if fee is not None:
                transfer_id, coin, amount = fee
                batch.append(
                    Transfer.move(
                        transfer_id,
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
            left = self._remaining.get(hold_id, 0)
            if left == 0:
                probe = Transfer.release(hold, 1, kind=kind, ref=ref, transfer_id=transfer_id)
                return self.posting(probe.id)
            amount = left
        transfer = Transfer.release(hold, amount, kind=kind, ref=ref, transfer_id=transfer_id)
        return self.apply([transfer])[0]

    def release_rest(self, hold_id: str) -> Posting | None:
        """Give back all that is left of ``hold_id``, if anything is; ``None`` when the
        hold is closed already. What an order does when it leaves the book."""
        before = self.last_seq
        self.close_hold(hold_id)
        return posting_of(self._log[-1]) if self.last_seq > before else None

    def close_hold(self, hold_id: str) -> None:
        """:meth:`release_rest` without building the :class:`Posting`.

        The common case (all that is left, the hold's default release kind and ref) logs
        its entry without :meth:`apply`'s general checks; anything else goes through
        :meth:`release`.
        """
        left = self._remaining.get(hold_id)
        if not left:
            return
        _, user, asset, _, hold_kind, hold_ref = self._holds[hold_id]
        release_kind = RELEASE_KIND.get(hold_kind)
        cell = self._bal[user][asset]
        if (
            release_kind is None
            or cell[1] < left
            or f"{release_kind}:{hold_ref}@{hold_id}" in self._by_id
        ):
            self.release(hold_id, left, kind=release_kind, ref=hold_ref)
            return
        cell[1] -= left
        cell[0] += left
        log = self._log
        log.append(
            (self._base_seq + len(log) + 1, None, release_kind, hold_ref, hold_id, asset, left,
             user, FROZEN, user, AVAILABLE)
        )  # fmt: skip
        del self._remaining[hold_id]

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
        hold = self._holds.get(hold_id)
        if hold is None:
            raise NotFound("hold")
        return Hold._make(hold)

    def remaining(self, hold_id: str) -> int:
        """What is still frozen under ``hold_id``; 0 once it is closed."""
        self.get_hold(hold_id)
        return self._remaining.get(hold_id, 0)

    def is_open(self, hold_id: str) -> bool:
        return hold_id in self._remaining

    def open_holds(self) -> dict[str, int]:
        """``hold id → remaining`` for every open hold."""
        return dict(self._remaining)

    def holds(self) -> list[Hold]:
        """Every hold ever opened, open or closed, in opening order."""
        return [Hold._make(hold) for hold in self._holds.values()]

    def posting(self, transfer_id: str) -> Posting | None:
        self._index()
        entry = self._by_id.get(transfer_id)
        return None if entry is None else posting_of(entry)

    def postings(self, after_seq: int = 0) -> list[Posting]:
        """The log from ``after_seq + 1`` on (seqs are 1, 2, 3, ...)."""
        return [posting_of(entry) for entry in self.entries(after_seq)]

    def entries(self, after_seq: int = 0) -> list[Entry]:
        """:meth:`postings` as the ledger logs them (:func:`~.records.posting_of` makes
        each a :class:`Posting`): what the store writes, with no object built on the
        trading path."""
        return self._log[max(after_seq - self._base_seq, 0) :]

    @property
    def kept(self) -> int:
        """Postings held in memory (all of them, unless compacted)."""
        return len(self._log)

    @property
    def compacted_seq(self) -> int:
        """The last posting :meth:`compact` dropped from memory (0 if none)."""
        return self._base_seq

    @property
    def last_seq(self) -> int:
        return self._base_seq + len(self._log)

    def _cell(self, owner: Owner, asset: str) -> list[int]:
        """``[available, frozen]`` of ``owner``'s ``asset``, created at zero."""
        assets = self._bal.get(owner)
        if assets is None:
            assets = self._bal[owner] = {}
        cell = assets.get(asset)
        if cell is None:
            cell = assets[asset] = [0, 0]
        return cell

    def _index(self) -> None:
        """Index the transfer ids the trading path logged since the last call."""
        last = self.last_seq
        if self._indexed < last:
            by_id = self._by_id
            for entry in self._log[max(self._indexed - self._base_seq, 0) :]:
                by_id[entry_id(entry)] = entry
            self._indexed = last

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
            {hold_id: Hold._make(hold) for hold_id, hold in self._holds.items()},
            self._remaining,
            open_holds_expected,
            Checkpoint(self._base_seq, _accounts(self._base_bal), self._base_left),
        )

    def compact(self, upto_seq: int) -> int:
        """Forget postings up to ``upto_seq`` (they are stored elsewhere) and the holds that
        closed by then; keep balances exact. Returns how many postings were dropped.

        Memory then grows with activity since the last compaction, not since the start. The
        forgotten transfer ids are no longer recognised as already applied, so compact only
        what no caller will submit again (the exchange core never reuses an id), and the
        auditor checks balances against the checkpoint plus the postings kept.
        """
        drop = min(upto_seq, self.last_seq) - self._base_seq
        if drop <= 0:
            return 0
        # It runs while the exchange waits: everything below is O(postings dropped) or a
        # C-speed copy, never a Python loop over every hold or account.
        head, tail = self._log[:drop], self._log[drop:]
        # A copy per cell: C-speed list copies, far cheaper than an Account per balance.
        base = {
            owner: {a: cell[:] for a, cell in assets.items()} for owner, assets in self._bal.items()
        }
        left = dict(self._remaining)
        in_tail: set[str] = set()
        for entry in reversed(tail):  # undo what came after the checkpoint
            _, _, _, _, hold_id, asset, amount, debit_owner, debit_bucket, owner, bucket = entry
            base[debit_owner][asset][debit_bucket == FROZEN] += amount
            base[owner][asset][bucket == FROZEN] -= amount
            if hold_id is not None:
                in_tail.add(hold_id)
                left[hold_id] = left.get(hold_id, 0) + (-amount if bucket == FROZEN else amount)
                if not left[hold_id]:
                    del left[hold_id]
        by_id, indexed = self._by_id, self._indexed
        for entry in head[: max(indexed - self._base_seq, 0)]:  # the ids indexed so far
            del by_id[entry_id(entry)]
        # A hold's record goes once it is closed and no posting kept refers to it.
        holds, remaining = self._holds, self._remaining
        for entry in head:
            hold_id = entry[4]
            if hold_id is not None and hold_id not in remaining and hold_id not in in_tail:
                holds.pop(hold_id, None)
        self._log = tail
        self._base_seq, self._base_bal, self._base_left = head[-1][0], base, left
        self._indexed = max(indexed, self._base_seq)
        return drop

    def checkpoint(self) -> tuple[Checkpoint, dict[str, Hold]]:
        """The state as of the last compaction (every balance, the open holds' remaining)
        and the records of the holds then open: what :meth:`from_postings` starts from,
        given the postings after ``checkpoint.seq``. Compact first to make it current."""
        left = dict(self._base_left)
        return (
            Checkpoint(self._base_seq, _accounts(self._base_bal), left),
            {hold_id: Hold._make(self._holds[hold_id]) for hold_id in left},
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
            self._holds[hold_id] = tuple(hold)  # type: ignore[assignment]
            self._remaining[hold_id] = left
        self._base_seq = start.seq
        self._base_bal = {
            o: {a: c[:] for a, c in assets.items()} for o, assets in self._bal.items()
        }
        self._base_left = dict(start.left)

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
        by_id, log = ledger._by_id, ledger._log
        remaining, opened = ledger._remaining, ledger._holds
        if start is not None:
            ledger._start_from(start, records or {})
        for seq, posting in enumerate(postings, ledger._base_seq + 1):
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
            if hold_id is not None:
                if posting.credit.bucket == FROZEN:
                    if hold_id in opened:
                        raise ValueError(f"posting {seq} opens hold {hold_id!r} again")
                    opened[hold_id] = (
                        hold_id, cast(int, posting.credit.owner), posting.asset, posting.amount,
                        posting.kind, posting.ref,
                    )  # fmt: skip
                    remaining[hold_id] = posting.amount
                elif hold_id in opened:
                    left = remaining.get(hold_id, 0) - posting.amount
                    if left:
                        remaining[hold_id] = left
                    else:
                        del remaining[hold_id]
                else:
                    raise ValueError(f"posting {seq} draws on unknown hold {hold_id!r}")
            debit, credit = posting.debit, posting.credit
            ledger._cell(debit.owner, debit.asset)[debit.bucket == FROZEN] -= posting.amount
            ledger._cell(credit.owner, credit.asset)[credit.bucket == FROZEN] += posting.amount
            entry: Entry = (
                seq, posting.id, posting.kind, posting.ref, hold_id, posting.asset,
                posting.amount, debit.owner, debit.bucket, credit.owner, credit.bucket,
            )  # fmt: skip
            log.append(entry)
            by_id[posting.id] = entry
        ledger._indexed = ledger.last_seq
        if holds is not None:
            problems = compare_open_holds(remaining, holds)
            if problems:
                raise ValueError("; ".join(problems))
        return ledger


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


def _check_fee(
    fee: tuple[str, str, int], assets: Mapping[str, list[int]], received_asset: str, received: int
) -> None:
    """A fee ``(id, coin, amount)`` is a positive int its payer can cover from available
    funds and what the fill brings in (``received`` of ``received_asset``)."""
    _, coin, amount = fee
    if type(amount) is not int or amount <= 0:
        raise ParamInvalid("fee", "must be a positive int of atoms")
    cell = assets.get(coin)
    have = (0 if cell is None else cell[0]) + (received if coin == received_asset else 0)
    if amount > have:
        raise InsufficientBalance()
