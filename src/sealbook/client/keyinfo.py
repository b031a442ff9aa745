"""What a key may do, asked of the exchange itself (``GET /api/v2/spot/account/info``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sealbook.client.errors import ClientError, KeyTooPowerful

__all__ = ["KeyRights", "fetch_rights", "refuse_withdraw", "reports_rights"]

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


def reports_rights(exchange: Any) -> bool:
    """Whether ``exchange`` speaks Bitget's v2 wire format, so it can say what a key may do."""
    return hasattr(exchange, "privateSpotGetV2SpotAccountInfo")


def fetch_rights(exchange: Any, *, attempts: int = 3) -> KeyRights:
    """The key's rights as the exchange reports them (Bitget v2 wire format).

    A 429, a network failure or a clock-skew refusal is tried again, ``attempts`` times in
    all: account/info allows one call a second per user, which two tools starting together
    (or a second credential of one account) easily exceed.
    """
    import ccxt  # a second to import: only callers that reach an exchange pay for it

    for attempt in range(attempts):
        try:
            reply = exchange.privateSpotGetV2SpotAccountInfo()
            break
        except Exception as error:
            retryable = isinstance(error, ccxt.NetworkError | ccxt.InvalidNonce)
            if not retryable or attempt + 1 == attempts:
                raise ClientError(f"could not read the key's permissions: "
                                  f"{type(error).__name__}: {_safe(error)}") from error
            time.sleep(max(1.1, 0.5 * 2**attempt))
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
