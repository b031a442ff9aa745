"""A credential with the facts the vault keeps about it: where it came from, and when the
key was added, rotated or (as the person says) issued by the exchange."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sealbook.client.credentials import Credential

__all__ = ["KEY_MAX_AGE_DAYS", "StoredCredential"]

KEY_MAX_AGE_DAYS = 90
_DAY_MS = 86_400_000


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class StoredCredential:
    """A credential with the facts the vault keeps about it (no secret in the repr)."""

    credential: Credential
    source: str  # "env", "keyring" or "file"
    added_ms: int | None = None
    rotated_ms: int | None = None
    created_ms: int | None = None  # when the exchange issued the key, if the person said

    @property
    def name(self) -> str:
        return self.credential.name

    def issued_ms(self) -> int | None:
        """When the key now stored was made: rotation, else the stated creation, else add."""
        return self.rotated_ms or self.created_ms or self.added_ms

    def age_days(self, now_ms: int | None = None) -> int | None:
        issued = self.issued_ms()
        if issued is None:
            return None
        return max(0, ((now_ms or _now_ms()) - issued) // _DAY_MS)

    def too_old(self, now_ms: int | None = None) -> bool:
        age = self.age_days(now_ms)
        return age is not None and age > KEY_MAX_AGE_DAYS

    def listing(self, now_ms: int | None = None) -> dict[str, Any]:
        """What ``creds list`` shows: never the secret or the passphrase, the key masked."""
        cred = self.credential
        return {
            "name": cred.name,
            "exchange": cred.exchange,
            "url": cred.url,
            "apiKey": cred.masked_key(),
            "source": self.source,
            "addedTime": self.added_ms,
            "rotatedTime": self.rotated_ms,
            "createdTime": self.created_ms,
            "ageDays": self.age_days(now_ms),
            "tooOld": self.too_old(now_ms),
        }
