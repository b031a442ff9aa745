"""API keys as stored, and the live form the verifier checks requests against."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from sealbook.keys.allowlist import Allowlist
from sealbook.keys.permissions import FUND_MOVING, Permission
from sealbook.keys.schemes import HmacScheme, KeyType, SignatureScheme, load_public_key
from sealbook.keys.sealing import Sealer

if TYPE_CHECKING:
    from sealbook.keys.verifier import Principal

__all__ = ["ApiKeyRecord", "KeyStatus", "LiveKey", "secret_context"]

DAY_MS = 86_400_000


class KeyStatus(StrEnum):
    ACTIVE = "active"
    ROTATING = "rotating"  # replaced; works until its grace period ends
    LAPSED = "lapsed"  # fund-moving rights lapsed: no IP allowlist for too long
    EXPIRED = "expired"
    REVOKED = "revoked"


def secret_context(api_key: str) -> str:
    """The AEAD associated data that binds a sealed secret to its key."""
    return f"apikey-secret:{api_key}"


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: int
    user_id: int
    api_key: str = field(repr=False)  # not a secret, but reprs name keys by prefix only
    label: str
    key_type: KeyType
    permissions: frozenset[Permission]
    ips: tuple[str, ...]
    created_ms: int
    # The allowlist has been empty since this moment (creation, or when it was cleared).
    unbound_since_ms: int
    passphrase_digest: bytes = field(repr=False)
    sealed_secret: bytes | None = field(default=None, repr=False)
    public_key: str | None = field(default=None, repr=False)
    window_ms: int | None = None
    expires_ms: int | None = None
    revoked_ms: int | None = None
    revoke_reason: str | None = None
    dies_ms: int | None = None  # set when rotated: the end of the grace period
    rotated_to: str | None = field(default=None, repr=False)
    last_used_ms: int | None = None
    last_used_ip: str | None = None

    def lapse_ms(self, lapse_days: int) -> int | None:
        """When the fund-moving rights lapse (or lapsed), if they do at all."""
        if self.ips or not (self.permissions & FUND_MOVING):
            return None
        return self.unbound_since_ms + lapse_days * DAY_MS

    def status(self, now_ms: int, lapse_days: int) -> KeyStatus:
        if self.revoked_ms is not None and self.revoked_ms <= now_ms:
            return KeyStatus.REVOKED
        if self.dies_ms is not None and self.dies_ms <= now_ms:
            return KeyStatus.REVOKED
        if self.expires_ms is not None and self.expires_ms <= now_ms:
            return KeyStatus.EXPIRED
        if self.dies_ms is not None:
            return KeyStatus.ROTATING
        lapse = self.lapse_ms(lapse_days)
        if lapse is not None and lapse <= now_ms:
            return KeyStatus.LAPSED
        return KeyStatus.ACTIVE

    def effective_permissions(self, now_ms: int, lapse_days: int) -> frozenset[Permission]:
        lapse = self.lapse_ms(lapse_days)
        if lapse is not None and lapse <= now_ms:
            return self.permissions - FUND_MOVING
        return self.permissions

    def next_change_ms(self, now_ms: int, lapse_days: int) -> int:
        """The first moment after ``now_ms`` at which status or rights change by time."""
        moments = (self.revoked_ms, self.dies_ms, self.expires_ms, self.lapse_ms(lapse_days))
        future = [m for m in moments if m is not None and m > now_ms]
        return min(future) if future else 1 << 62

    def is_live(self, now_ms: int) -> bool:
        """Counts against the per-user limit and can authenticate."""
        return self.status(now_ms, lapse_days=1 << 30) in (KeyStatus.ACTIVE, KeyStatus.ROTATING)

    def why(self, now_ms: int, lapse_days: int) -> str:
        """One sentence a person can act on."""
        status = self.status(now_ms, lapse_days)
        if status is KeyStatus.REVOKED:
            if self.revoked_ms is None and self.rotated_to:
                return f"replaced by {self.rotated_to[:10]}… and its rotation grace period ended"
            return f"revoked: {self.revoke_reason or 'by the owner'}"
        if status is KeyStatus.EXPIRED:
            return "its expiry date passed"
        if status is KeyStatus.ROTATING:
            return "rotated; it keeps working until its grace period ends"
        if status is KeyStatus.LAPSED:
            return (
                f"trade/transfer/withdraw rights lapsed after {lapse_days} days without an IP "
                "allowlist; add an allowlist to restore them"
            )
        return ""


class LiveKey:
    """A key ready to check signatures: secret opened, allowlist parsed."""

    __slots__ = (
        "allowlist",
        "good_passphrase",
        "permissions",
        "principals",
        "record",
        "scheme",
        "stable_until_ms",
    )

    def __init__(self, record: ApiKeyRecord, scheme: SignatureScheme) -> None:
        self.record = record
        self.scheme = scheme
        self.allowlist = Allowlist(record.ips)
        # The passphrase last proven correct, kept in memory like the opened secret, so a
        # repeat request costs one compare instead of one HMAC.
        self.good_passphrase: bytes | None = None
        # Status and rights only change at known moments: until the next one, the
        # verifier reuses what it computed (and the principals it built, per client IP).
        self.stable_until_ms = 0
        self.permissions: frozenset[Permission] = frozenset()
        self.principals: dict[str, Principal] = {}

    @classmethod
    def open(cls, record: ApiKeyRecord, sealer: Sealer) -> LiveKey:
        scheme: SignatureScheme
        if record.key_type is KeyType.HMAC:
            if record.sealed_secret is None:
                raise ValueError("an HMAC key without a sealed secret")
            scheme = HmacScheme(sealer.open(record.sealed_secret, secret_context(record.api_key)))
        else:
            scheme = load_public_key(record.key_type, record.public_key or "")
        return cls(record, scheme)

    def __repr__(self) -> str:
        return f"LiveKey({self.record.api_key[:10]}…, {self.record.key_type})"
