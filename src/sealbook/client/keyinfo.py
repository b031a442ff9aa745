"""What a key may do, asked of the exchange itself (``GET /api/v2/spot/account/info``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sealbook.client.errors import ClientError, KeyTooPowerful

__all__ = ["KeyRights", "fetch_rights", "refuse_withdraw"]

# Bitget's authority names (BITGET_WIRE.md §5.1) → what a person would call them.
_READABLE = {
    "readonly": "read",
    "spot_trade": "spot trade",
    "contract_order": "futures trade",
    "contract_position": "futures trade",
    "wallet_transfer": "transfer",
    "wallet_withdraw": "withdraw",
}


@dataclass(frozen=True, slots=True)
class KeyRights:
    authorities: tuple[str, ...]
    ips: tuple[str, ...]
    user_id: str = ""  # the account the key belongs to, as the exchange names it

    @property
    def can_withdraw(self) -> bool:
        return "wallet_withdraw" in self.authorities

    @property
    def can_trade(self) -> bool:
        return "spot_trade" in self.authorities

    def describe(self) -> str:
        names = dict.fromkeys(_READABLE.get(a, a) for a in self.authorities)
        return ", ".join(names) or "none reported"


def fetch_rights(exchange: Any) -> KeyRights:
    """The key's rights as the exchange reports them (Bitget v2 wire format)."""
    try:
        reply = exchange.privateSpotGetV2SpotAccountInfo()
    except Exception as error:
        raise ClientError(f"could not read the key's permissions: {type(error).__name__}: "
                          f"{_safe(error)}") from None
    data = reply.get("data") if isinstance(reply, dict) else None
    if not isinstance(data, dict):
        raise ClientError("the exchange's account/info reply has no data")
    authorities = tuple(str(a) for a in data.get("authorities") or ())
    ips = tuple(ip for ip in str(data.get("ips") or "").split(",") if ip)
    return KeyRights(authorities, ips, str(data.get("userId") or ""))


def refuse_withdraw(rights: KeyRights, *, allow: bool, tool: str) -> None:
    """Refuse a key that can withdraw unless the person said ``--allow-withdraw-key``."""
    if rights.can_withdraw and not allow:
        raise KeyTooPowerful(
            f"this key can withdraw funds; {tool} needs no such right. Create a key without "
            "withdraw, or pass --allow-withdraw-key if you accept the risk"
        )


def _safe(error: Exception) -> str:
    # ccxt puts the URL and the response body in its messages, never the secret or the
    # signature headers; keep it short all the same.
    return str(error)[:200]
