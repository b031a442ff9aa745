"""What every service needs: the database, the sealer, the audit log, the clock and the
settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from sealbook.clock import Clock, SystemClock
from sealbook.config import Settings
from sealbook.keys.sealing import Sealer
from sealbook.store.audit import AuditLog
from sealbook.store.auditupgrade import seal_existing_entries
from sealbook.store.db import make_engine, migrate
from sealbook.store.masterkey import load_master_key
from sealbook.store.signal import touch_signal

__all__ = ["Context", "open_context"]


@dataclass(slots=True)
class Context:
    settings: Settings
    engine: Engine
    sealer: Sealer
    # Appends audit entries with their seal (it holds the key derived for that).
    audit: AuditLog
    clock: Clock
    # Called after a transaction that changed a key has committed.
    key_listeners: list[Callable[[], None]] = field(default_factory=list)

    def keys_changed(self) -> None:
        touch_signal(self.settings.signal_path)
        for listener in self.key_listeners:
            listener()


def open_context(
    settings: Settings, *, create_master_key: bool = False, clock: Clock | None = None
) -> Context:
    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    master = load_master_key(settings, create=create_master_key)
    engine = make_engine(settings.resolved_database_url)
    audit = AuditLog.from_master(master)
    try:
        migrate(engine)
        # Entries from before seals existed are sealed once; raises if the chain is broken.
        seal_existing_entries(settings, engine, audit)
    except BaseException:
        engine.dispose()
        raise
    return Context(
        settings=settings,
        engine=engine,
        sealer=Sealer(master),
        audit=audit,
        clock=clock or SystemClock(),
    )
