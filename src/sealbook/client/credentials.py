"""One set of API credentials, as the vault hands it to the tools."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Credential"]


@dataclass(frozen=True, slots=True)
class Credential:
    """An account on one exchange: its ccxt id, an optional base URL (a Sealbook server
    or any Bitget-compatible host) and the key material. Only ``name``, ``exchange`` and
    ``url`` ever appear in a repr."""

    name: str
    exchange: str
    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    passphrase: str = field(default="", repr=False)
    url: str | None = None

    def masked_key(self) -> str:
        """The public key with its middle elided, for listings and logs."""
        key = self.api_key
        return key if len(key) <= 12 else f"{key[:8]}…{key[-4:]}"
