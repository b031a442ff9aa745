"""The :class:`Ledger`: balances and open holds, changed only by appending postings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import cast

from sealbook.errors import Conflict, InsufficientBalance, NotFound, ParamInvalid
from sealbook.ledger.accounts import (
    AVAILABLE,
    FEES,
    FROZEN,
    WORLD,
    Account,
    Kind,
    check_account,
    is_user,
)
from sealbook.ledger.invariants import audit, compare_open_holds
from sealbook.ledger.records import RELEASE_KIND, Checkpoint, Hold, Posting, Transfer

__all__ = ["Ledger"]


class Ledger:
    """A pure, in-memory double-entry ledger with holds. No I/O, no clock.

    Every change is a batch of :class:`Transfer` given to :meth:`apply`, which checks the
    whole batch against a scratch copy of what it touches and only then writes: a batch
    applies completely or not at all. The other mutators are one-transfer batches.
    """

    __slots__ = (
        "_assets",
        "_balances",
        "_base",
        "_by_id",
        "_holds",
        "_postings",
        "_remaining",
    )

    def __init__(self) -> None:
        self._balances: dict[Account, int] = {}
        self._postings: list[Posting] = []
        # What :meth:`compact` forgot: the state as of the last posting it dropped.
        self._base = Checkpoint()
        self._by_id: dict[str, Posting] = {}
        self._holds: dict[str, Hold] = {}  # every hold ever opened; a hold id is never reused
        self._remaining: dict[str, int] = {}  # open holds only: closed ones leave
        self._assets: dict[int, set[str]] = {}  # user → assets, so balances(user) is no scan

    # --- changing it -------------------------------------------------------------------

    def apply(self, transfers: Sequence[Transfer]) -> list[Posting]:
        """Apply every transfer or none; return one posting per transfer, in order.

        A transfer whose id is already posted is not applied again: its original posting
        is returned. Raises ``InsufficientBalance`` if a user bucket or a hold's remaining
        would go negative at any point in the batch, ``Conflict`` if an id is reused with
        other contents (or twice in the batch), ``NotFound`` for an unknown hold, and
        ``ParamInvalid`` for a transfer that cannot exist.
        """
        balances, by_id, holds, remaining = (
            self._balances,
            self._by_id,
            self._holds,
            self._remaining,
        )
        staged: dict[Account, int] = {}
        staged_left: dict[str, int] = {}
        opened: dict[str, Hold] = {}
        seen: set[str] = set()
        plan: list[Transfer | Posting] = []

        for transfer in transfers:
            transfer_id, debit, credit, amount, kind, ref, hold_id = transfer
            if transfer_id in seen:
                raise Conflict("another transfer with this id in the batch")
            seen.add(transfer_id)
            posted = by_id.get(transfer_id)
            if posted is not None:
                if posted.transfer() != transfer:
                    raise Conflict("a different transfer with this id")
                plan.append(posted)
                continue

            if not (isinstance(transfer_id, str) and transfer_id):
                raise ParamInvalid("id", "must be a non-empty string")
            if not (isinstance(kind, str) and isinstance(ref, str)):
                raise ParamInvalid("kind", "kind and ref must be strings")
            if type(amount) is not int or amount <= 0:
                raise ParamInvalid("amount", "must be a positive int of atoms")
            if debit not in balances:
                check_account(debit, "debit")
            if credit not in balances:
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
                opened[hold_id] = Hold(
                    hold_id, cast(int, credit.owner), credit.asset, amount, kind, ref
                )
                staged_left[hold_id] = amount
            elif debit.bucket == FROZEN:
                hold = opened.get(hold_id) or holds.get(hold_id)
                if hold is None:
                    raise NotFound("hold")
                if debit.owner != hold.user or debit.asset != hold.asset:
                    raise ParamInvalid("debit", "must be the hold's frozen account")
                left = staged_left.get(hold_id)
                left = (remaining.get(hold_id, 0) if left is None else left) - amount
                if left < 0:
                    raise InsufficientBalance()
                staged_left[hold_id] = left
            else:
                raise ParamInvalid("hold_id", "a hold transfer debits or credits a frozen bucket")

            balance = staged.get(debit)
            balance = (balances.get(debit, 0) if balance is None else balance) - amount
            if balance < 0 and debit.owner != WORLD:
                raise InsufficientBalance()
            staged[debit] = balance
            balance = staged.get(credit)
            staged[credit] = (balances.get(credit, 0) if balance is None else balance) + amount
            plan.append(transfer)

        # Nothing below raises: the batch is committed whole.
        postings, result = self._postings, []
        for item in plan:
            if isinstance(item, Posting):
                result.append(item)
                continue
            transfer_id, debit, credit, amount, kind, ref, hold_id = item
            posting = Posting(
                self._base.seq + len(postings) + 1, transfer_id, debit, credit, debit.asset,
                amount, kind, ref,
                hold_id,
            )  # fmt: skip
            postings.append(posting)
            by_id[transfer_id] = posting
            result.append(posting)
        for account, balance in staged.items():
            if account not in balances:
                owner = account.owner
                if is_user(owner):
                    self._assets.setdefault(owner, set()).add(account.asset)
            balances[account] = balance
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
        kind: str = Kind.ORDER_HOLD,
        ref: str | None = None,
    ) -> Posting:
        """Freeze ``amount`` of ``user``'s available ``asset`` under ``hold_id``.

        Every order opens one, so the plain case skips :meth:`apply`'s general checks
        (it builds a posting that cannot be malformed); anything unusual, a replayed id
        included, goes through :meth:`apply`.
        """
        ref = hold_id if ref is None else ref
        transfer_id = f"{kind}@{hold_id}"
        if (
            type(amount) is not int
            or amount <= 0
            or not is_user(user)
            or not (type(asset) is str and asset)
            or not (type(hold_id) is str and hold_id)
            or not isinstance(kind, str)
            or not isinstance(ref, str)
            or hold_id in self._holds
            or transfer_id in self._by_id
        ):
            return self.apply([Transfer.hold(hold_id, user, asset, amount, kind=kind, ref=ref)])[0]
        balances = self._balances
        available = Account(user, asset, AVAILABLE)
        frozen = Account(user, asset, FROZEN)
        left = balances.get(available, 0) - amount
        if left < 0:
            raise InsufficientBalance()
        posting = Posting(
            self._base.seq + len(self._postings) + 1, transfer_id, available, frozen, asset,
            amount, kind, ref, hold_id,
        )  # fmt: skip
        self._postings.append(posting)
        self._by_id[transfer_id] = posting
        if available not in balances or frozen not in balances:
            self._assets.setdefault(user, set()).add(asset)
        balances[available] = left
        balances[frozen] = balances.get(frozen, 0) + amount
        self._holds[hold_id] = Hold(hold_id, user, asset, amount, kind, ref)
        self._remaining[hold_id] = amount
        return posting

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
            posted = self._release_rest(hold_id)
            if posted is not None:
                return posted
        hold = self.get_hold(hold_id)
        if amount is not None and ref is None and transfer_id is None:
            raise ParamInvalid("ref", "a partial release needs its own ref or transfer_id")
        if amount is None:
            left = self._remaining.get(hold_id, 0)
            if left == 0:
                probe = Transfer.release(hold, 1, kind=kind, ref=ref, transfer_id=transfer_id)
                return self._by_id.get(probe.id)
            amount = left
        transfer = Transfer.release(hold, amount, kind=kind, ref=ref, transfer_id=transfer_id)
        return self.apply([transfer])[0]

    def release_rest(self, hold_id: str) -> Posting | None:
        """Give back all that is left of ``hold_id``, if anything is; ``None`` when the
        hold is closed already. What an order does when it leaves the book."""
        posted = self._release_rest(hold_id)
        if posted is None and self._remaining.get(hold_id, 0) > 0:
            posted = self.release(hold_id)  # an unusual hold: the general path
        return posted

    def _release_rest(self, hold_id: str) -> Posting | None:
        """The common release (all that is left, default kind and ref) without
        :meth:`apply`'s general checks; ``None`` leaves the case to the general path."""
        hold = self._holds.get(hold_id)
        left = self._remaining.get(hold_id, 0)
        if hold is None or left <= 0:
            return None
        release_kind = RELEASE_KIND.get(hold.kind)
        if release_kind is None:
            return None
        transfer_id = f"{release_kind}:{hold.ref}@{hold.id}"
        balances = self._balances
        frozen = Account(hold.user, hold.asset, FROZEN)
        if transfer_id in self._by_id or balances.get(frozen, 0) < left:
            return None
        available = Account(hold.user, hold.asset, AVAILABLE)
        posting = Posting(
            self._base.seq + len(self._postings) + 1, transfer_id, frozen, available,
            hold.asset, left, release_kind, hold.ref, hold.id,
        )  # fmt: skip
        self._postings.append(posting)
        self._by_id[transfer_id] = posting
        balances[frozen] -= left
        balances[available] = balances.get(available, 0) + left
        del self._remaining[hold_id]
        return posting

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
        return self._balances.get(account, 0)

    def available(self, user: int, asset: str) -> int:
        return self._balances.get(Account(user, asset, AVAILABLE), 0)

    def frozen(self, user: int, asset: str) -> int:
        return self._balances.get(Account(user, asset, FROZEN), 0)

    def balances(self, user: int) -> dict[str, tuple[int, int]]:
        """``asset → (available, frozen)`` for every asset ``user`` ever held."""
        get = self._balances.get
        return {
            asset: (get(Account(user, asset, AVAILABLE), 0), get(Account(user, asset, FROZEN), 0))
            for asset in sorted(self._assets.get(user, ()))
        }

    def all_accounts(self) -> dict[Account, int]:
        """Every account ever touched, with its balance (zero balances included)."""
        return dict(self._balances)

    def get_hold(self, hold_id: str) -> Hold:
        hold = self._holds.get(hold_id)
        if hold is None:
            raise NotFound("hold")
        return hold

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
        return list(self._holds.values())

    def posting(self, transfer_id: str) -> Posting | None:
        return self._by_id.get(transfer_id)

    def postings(self, after_seq: int = 0) -> list[Posting]:
        """The log from ``after_seq + 1`` on (seqs are 1, 2, 3, ...)."""
        return self._postings[max(after_seq - self._base.seq, 0) :]

    @property
    def kept(self) -> int:
        """Postings held in memory (all of them, unless compacted)."""
        return len(self._postings)

    @property
    def last_seq(self) -> int:
        return self._base.seq + len(self._postings)

    # --- checking and rebuilding -------------------------------------------------------

    def check_invariants(self, open_holds_expected: Mapping[str, int] | None = None) -> list[str]:
        """Every violation found, as a readable line; ``[]`` when the ledger is sound.

        Checks that each asset sums to zero; that no user bucket (nor FEES) is negative;
        that each user's frozen balance equals the remaining of their open holds; that
        every balance and every hold is what the posting log says; and, if given, that the
        open holds are exactly ``open_holds_expected`` (hold id → remaining).
        """
        return audit(
            self._balances,
            self._postings,
            self._holds,
            self._remaining,
            open_holds_expected,
            self._base,
        )

    def compact(self, upto_seq: int) -> int:
        """Forget postings up to ``upto_seq`` (they are stored elsewhere) and the holds that
        closed by then; keep balances exact. Returns how many postings were dropped.

        Memory then grows with activity since the last compaction, not since the start. The
        forgotten transfer ids are no longer recognised as already applied, so compact only
        what no caller will submit again (the exchange core never reuses an id), and the
        auditor checks balances against the checkpoint plus the postings kept.
        """
        drop = min(upto_seq, self.last_seq) - self._base.seq
        if drop <= 0:
            return 0
        head, tail = self._postings[:drop], self._postings[drop:]
        balances = dict(self._balances)
        left = dict(self._remaining)
        for p in reversed(tail):  # undo what came after the checkpoint
            balances[p.debit] = balances.get(p.debit, 0) + p.amount
            balances[p.credit] = balances.get(p.credit, 0) - p.amount
            if p.hold_id is not None:
                sign = -1 if p.credit.bucket == FROZEN else 1
                left[p.hold_id] = left.get(p.hold_id, 0) + sign * p.amount
        left = {h: amount for h, amount in left.items() if amount}
        for p in head:
            del self._by_id[p.id]
        in_tail = {p.hold_id for p in tail if p.hold_id is not None}
        self._holds = {
            h: hold
            for h, hold in self._holds.items()
            if h in self._remaining or h in left or h in in_tail
        }
        self._postings = tail
        self._base = Checkpoint(head[-1].seq, balances, left)
        return drop

    @classmethod
    def from_postings(
        cls, postings: Iterable[Posting], holds: Mapping[str, int] | None = None
    ) -> Ledger:
        """Rebuild a ledger from its posting log, e.g. on restart.

        Balances and holds are derived from the postings alone. ``holds`` is what the
        caller's store says is open (hold id → remaining); if it disagrees with the log,
        this raises ``ValueError``. So does a log that cannot be a ledger's: seqs not
        1, 2, 3, ..., a repeated id, an account that cannot exist, a draw on an unknown
        hold. Anything else wrong (an overdraft, say) loads and shows in
        :meth:`check_invariants`.
        """
        ledger = cls()
        balances, by_id, log = ledger._balances, ledger._by_id, ledger._postings
        remaining, opened, assets = ledger._remaining, ledger._holds, ledger._assets
        for seq, posting in enumerate(postings, 1):
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
                    opened[hold_id] = Hold(
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
            for account, delta in (
                (posting.debit, -posting.amount),
                (posting.credit, posting.amount),
            ):
                owner = account.owner
                if account not in balances and is_user(owner):
                    assets.setdefault(owner, set()).add(account.asset)
                balances[account] = balances.get(account, 0) + delta
            log.append(posting)
            by_id[posting.id] = posting
        if holds is not None:
            problems = compare_open_holds(remaining, holds)
            if problems:
                raise ValueError("; ".join(problems))
        return ledger
