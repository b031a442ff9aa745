"""The auditor: every way the ledger's state can disagree with itself, as readable lines.

It recomputes from the posting log rather than trusting the running totals, so it is
O(postings); tests call it after every step, ``sealbook ledger check`` calls it once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import cast

from sealbook.ledger.accounts import FEES, FROZEN, Account, is_user
from sealbook.ledger.records import Checkpoint, Hold, Posting

__all__ = ["audit", "compare_open_holds"]


def audit(
    balances: Mapping[Account, int],
    postings: Sequence[Posting],
    holds: Mapping[str, Hold],
    remaining: Mapping[str, int],
    open_holds_expected: Mapping[str, int] | None = None,
    base: Checkpoint | None = None,
) -> list[str]:
    problems: list[str] = []

    per_asset: defaultdict[str, int] = defaultdict(int)
    for account, balance in balances.items():
        per_asset[account.asset] += balance
    problems.extend(
        f"asset {asset}: accounts sum to {total}, not 0"
        for asset, total in sorted(per_asset.items())
        if total != 0
    )

    problems.extend(
        f"account {_name(account)} is negative: {balance}"
        for account, balance in balances.items()
        if balance < 0 and (is_user(account.owner) or account.owner == FEES)
    )

    held: defaultdict[Account, int] = defaultdict(int)
    for hold_id, amount in remaining.items():
        hold = holds.get(hold_id)
        if hold is None:
            problems.append(f"open hold {hold_id!r} has no record")
            continue
        held[Account(hold.user, hold.asset, FROZEN)] += amount
    frozen = {account for account in balances if account.bucket == FROZEN}
    for account in sorted(frozen | held.keys(), key=_sort_key):
        balance, expected = balances.get(account, 0), held.get(account, 0)
        if balance != expected:
            problems.append(
                f"account {_name(account)} holds {balance} but its open holds add up to {expected}"
            )

    problems.extend(_against_log(balances, postings, holds, remaining, base or Checkpoint()))

    if open_holds_expected is not None:
        problems.extend(compare_open_holds(remaining, open_holds_expected))
    return problems


def _against_log(
    balances: Mapping[Account, int],
    postings: Sequence[Posting],
    holds: Mapping[str, Hold],
    remaining: Mapping[str, int],
    base: Checkpoint,
) -> list[str]:
    """Balances and holds recomputed from the checkpoint and the postings after it,
    compared with the running state."""
    problems: list[str] = []
    from_log: defaultdict[Account, int] = defaultdict(int, base.balances)
    opened: dict[str, Hold] = {h: holds[h] for h in base.left if h in holds}
    problems.extend(f"checkpoint hold {h!r} has no record" for h in base.left if h not in holds)
    left: defaultdict[str, int] = defaultdict(int, base.left)
    for expected_seq, posting in enumerate(postings, base.seq + 1):
        if posting.seq != expected_seq:
            problems.append(f"posting log has seq {posting.seq} where {expected_seq} belongs")
        if posting.amount <= 0:
            problems.append(f"posting {posting.seq} moves a non-positive amount {posting.amount}")
        from_log[posting.debit] -= posting.amount
        from_log[posting.credit] += posting.amount
        if posting.hold_id is None:
            continue
        if posting.credit.bucket == FROZEN:
            opened[posting.hold_id] = Hold(
                posting.hold_id,
                cast(int, posting.credit.owner),  # a frozen account's owner is a user
                posting.asset,
                posting.amount,
                posting.kind,
                posting.ref,
            )
            left[posting.hold_id] += posting.amount
        else:
            left[posting.hold_id] -= posting.amount

    for account in sorted(balances.keys() | from_log.keys(), key=_sort_key):
        balance, logged = balances.get(account, 0), from_log.get(account, 0)
        if balance != logged:
            problems.append(
                f"account {_name(account)} holds {balance} but its postings add up to {logged}"
            )

    for hold_id in sorted(holds.keys() | opened.keys() | remaining.keys()):
        record, logged_open = holds.get(hold_id), opened.get(hold_id)
        if record != logged_open:
            problems.append(
                f"hold {hold_id!r} is recorded as {record} but was opened as {logged_open}"
            )
        now, logged_left = remaining.get(hold_id, 0), left.get(hold_id, 0)
        if now != logged_left:
            problems.append(
                f"hold {hold_id!r} has {now} remaining but its postings leave {logged_left}"
            )
        if hold_id in remaining and not 0 < now <= (record.amount if record else 0):
            problems.append(f"open hold {hold_id!r} has {now} remaining, outside (0, amount]")
    return problems


def compare_open_holds(remaining: Mapping[str, int], expected: Mapping[str, int]) -> list[str]:
    """Open holds against what the order and withdrawal side says they should be."""
    wanted = {hold_id: amount for hold_id, amount in expected.items() if amount != 0}
    problems = []
    for hold_id in sorted(remaining.keys() | wanted.keys()):
        have, want = remaining.get(hold_id, 0), wanted.get(hold_id, 0)
        if have != want:
            problems.append(f"hold {hold_id!r} has {have} remaining but {want} is expected")
    return problems


def _name(account: Account) -> str:
    return f"{account.owner}/{account.asset}/{account.bucket}"


def _sort_key(account: Account) -> tuple[str, str, str]:
    return (str(account.owner), account.asset, account.bucket)
