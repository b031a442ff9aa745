"""Where money sits: an account is ``(owner, asset, bucket)``; a :class:`Kind` says why it moved.

Owners are user ids (``int > 0``) or the system owners :data:`WORLD` (deposits come from it,
withdrawals go to it, so it goes negative as money comes in) and :data:`FEES` (fee income;
it only ever receives). Users have two buckets per asset, ``available`` and ``frozen``;
system owners only ``available``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Literal, NamedTuple, TypeAlias, TypeGuard

from sealbook.errors import ParamInvalid

__all__ = [
    "AVAILABLE",
    "FEES",
    "FROZEN",
    "WORLD",
    "Account",
    "Bucket",
    "Kind",
    "Owner",
    "check_account",
    "is_user",
]

WORLD: Final = "WORLD"
FEES: Final = "FEES"
AVAILABLE: Final = "available"
FROZEN: Final = "frozen"

Owner: TypeAlias = int | Literal["WORLD", "FEES"]
Bucket: TypeAlias = Literal["available", "frozen"]


class Account(NamedTuple):
    """A NamedTuple, not a dataclass: it is a dict key on every posting, and a tuple hashes
    and compares in C."""

    owner: Owner
    asset: str
    bucket: Bucket = AVAILABLE

    @classmethod
    def available(cls, user: int, asset: str) -> Account:
        return cls(user, asset, AVAILABLE)

    @classmethod
    def frozen(cls, user: int, asset: str) -> Account:
        return cls(user, asset, FROZEN)

    @classmethod
    def world(cls, asset: str) -> Account:
        return cls(WORLD, asset, AVAILABLE)

    @classmethod
    def fees(cls, asset: str) -> Account:
        return cls(FEES, asset, AVAILABLE)


class Kind(StrEnum):
    """Why funds moved. A posting's ``kind`` is a plain ``str``; these are the usual ones."""

    DEPOSIT = "deposit"
    WITHDRAW_HOLD = "withdraw_hold"
    WITHDRAW_SETTLE = "withdraw_settle"
    WITHDRAW_RELEASE = "withdraw_release"
    ORDER_HOLD = "order_hold"
    ORDER_RELEASE = "order_release"
    TRADE = "trade"
    FEE = "fee"


def is_user(owner: object) -> TypeGuard[int]:
    # ``type(...) is int``: True is an int to isinstance, and must not be user 1.
    return type(owner) is int and owner > 0


def check_account(account: Account, name: str) -> None:
    """Refuse an account that cannot exist; ``name`` says which side of the transfer."""
    if not isinstance(account, Account):
        raise ParamInvalid(name, "must be an Account (owner, asset, bucket)")
    owner, asset, bucket = account
    if not isinstance(asset, str) or not asset:
        raise ParamInvalid(name, "asset must be a non-empty string")
    if is_user(owner):
        if bucket not in (AVAILABLE, FROZEN):
            raise ParamInvalid(name, "bucket must be available or frozen")
    elif owner in (WORLD, FEES):
        if bucket != AVAILABLE:
            raise ParamInvalid(name, "system accounts have only the available bucket")
    else:
        raise ParamInvalid(name, "owner must be a user id > 0, WORLD or FEES")
