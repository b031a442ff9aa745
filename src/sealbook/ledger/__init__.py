"""Double-entry ledger with holds: pure, in memory, exact (amounts are int atoms).

Every change of funds is a :class:`Posting` that moves an amount from one account to
another; balances and holds are derived from the postings and can be rebuilt from them
(:meth:`Ledger.from_postings`). :meth:`Ledger.check_invariants` audits the whole state.
Orders go through the trading path (:meth:`Ledger.open_hold`, :meth:`Ledger.trade`,
:meth:`Ledger.close_hold`): an order's hold is keyed by its order id (named ``o<id>``
outside), and each step logs one small record of plain values that stands for its
postings (a fill's two to five at once); :func:`~sealbook.ledger.records.expand` gives
them back, and a :class:`Posting` is built only when one is read or stored.
"""

from __future__ import annotations

from sealbook.ledger.accounts import AVAILABLE, FEES, FROZEN, WORLD, Account, Bucket, Kind, Owner
from sealbook.ledger.core import Ledger
from sealbook.ledger.records import Hold, Posting, Transfer

__all__ = [
    "AVAILABLE",
    "FEES",
    "FROZEN",
    "WORLD",
    "Account",
    "Bucket",
    "Hold",
    "Kind",
    "Ledger",
    "Owner",
    "Posting",
    "Transfer",
]
