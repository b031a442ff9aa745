"""Typed settings, read from the environment with the ``SEALBOOK_`` prefix."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["Settings", "default_home"]


def default_home() -> Path:
    return Path(os.environ.get("SEALBOOK_HOME") or "./var")


class Settings(BaseSettings):
    """Everything an operator can set. ``--home`` on the command line overrides ``home``."""

    model_config = SettingsConfigDict(env_prefix="SEALBOOK_", extra="ignore", frozen=True)

    home: Path = Field(default_factory=default_home)
    # Default: SQLite file under home. PostgreSQL: postgresql+psycopg://user@host/db
    database_url: str | None = None
    # base64 of 32 bytes; otherwise $home/master.key (mode 0600) is read.
    master_key: SecretStr | None = None

    timestamp_window_ms: int = Field(default=30_000, ge=5_000, le=60_000)
    # Proxies whose X-Forwarded-For / Forwarded headers are believed. IPs or CIDRs.
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    rate_limit_factor: float = Field(default=1.0, gt=0)

    totp_max_failures: int = Field(default=5, ge=1)
    totp_lockout_s: int = Field(default=900, ge=1)

    max_keys_per_user: int = Field(default=10, ge=1)
    rotation_grace_s: int = Field(default=86_400, ge=0)
    # Trade/transfer/withdraw rights lapse on keys without an IP allowlist after this.
    unbound_key_lapse_days: int = Field(default=90, ge=1)

    # A withdrawal stays pending this long before it is sent (seconds).
    withdraw_delay_s: float = Field(default=2.0, ge=0)

    # How often buffered audit events and last-use records are written (seconds).
    flush_interval_s: float = Field(default=1.0, gt=0)

    # Web console sessions end after this long without a request, and in any case after
    # console_session_max_s (seconds).
    console_idle_s: int = Field(default=900, ge=30)
    console_session_max_s: int = Field(default=43_200, ge=60)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'sealbook.db').resolve()}"

    @property
    def master_key_path(self) -> Path:
        return self.home / "master.key"

    @property
    def audit_sealed_path(self) -> Path:
        """Written once the audit entries from before seals were sealed; beside the key,
        outside the database, so whoever can write the database cannot reset it."""
        return self.home / "audit-sealed"

    @property
    def signal_path(self) -> Path:
        """A file touched after every key change, so running servers notice at once."""
        return self.home / "keys.signal"
