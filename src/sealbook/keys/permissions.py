"""What a key may do, and how each right is named on Bitget's wire."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from sealbook.errors import ParamInvalid

__all__ = [
    "BITGET_AUTHORITIES",
    "FUND_MOVING",
    "NEED_TEXT",
    "RISK",
    "Permission",
    "bitget_authorities",
    "describe",
    "parse_permissions",
]


class Permission(StrEnum):
    READ = "read"
    SPOT_TRADE = "spot_trade"
    FUTURES_TRADE = "futures_trade"
    TRANSFER = "transfer"
    WITHDRAW = "withdraw"


# Bitget's permList names (BITGET_WIRE.md §5.1), as GET /api/v2/spot/account/info reports them.
BITGET_AUTHORITIES: dict[Permission, tuple[str, ...]] = {
    Permission.READ: ("readonly",),
    Permission.SPOT_TRADE: ("spot_trade",),
    Permission.FUTURES_TRADE: ("contract_order", "contract_position"),
    Permission.TRANSFER: ("wallet_transfer",),
    Permission.WITHDRAW: ("wallet_withdraw",),
}

# Rights that move money or positions: they lapse on keys with no IP allowlist.
FUND_MOVING = frozenset(
    {Permission.SPOT_TRADE, Permission.FUTURES_TRADE, Permission.TRANSFER, Permission.WITHDRAW}
)

# How the console and `key show` describe the risk of each right.
RISK = {
    Permission.READ: "low",
    Permission.SPOT_TRADE: "medium",
    Permission.FUTURES_TRADE: "medium",
    Permission.TRANSFER: "high",
    Permission.WITHDRAW: "high",
}

# The wording Bitget uses in 40014 "Incorrect permissions, need {0} permissions".
NEED_TEXT = {
    Permission.READ: "read",
    Permission.SPOT_TRADE: "spot order write",
    Permission.FUTURES_TRADE: "future pos write",
    Permission.TRANSFER: "wallet transfer",
    Permission.WITHDRAW: "withdraw",
}


def parse_permissions(items: Iterable[str]) -> frozenset[Permission]:
    """Parse names like ``read,spot_trade``; ``read`` is always implied."""
    perms = {Permission.READ}
    for raw in items:
        for part in raw.split(","):
            name = part.strip().lower()
            if not name:
                continue
            try:
                perms.add(Permission(name))
            except ValueError:
                known = ", ".join(p.value for p in Permission)
                raise ParamInvalid(
                    "permissions", f"unknown permission {name!r}; use {known}"
                ) from None
    return frozenset(perms)


def describe(perms: Iterable[Permission]) -> list[str]:
    """Sorted in the enum's order, for stable output."""
    chosen = set(perms)
    return [p.value for p in Permission if p in chosen]


def bitget_authorities(perms: Iterable[Permission]) -> list[str]:
    chosen = set(perms)
    out: list[str] = []
    for p in Permission:
        if p in chosen:
            out.extend(BITGET_AUTHORITIES[p])
    return out
