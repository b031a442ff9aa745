"""The server's in-memory directory of live keys, kept in step with the database.

Every live key is held in memory (secret opened, allowlist parsed), so a lookup never
touches the database: an unknown key costs one dict miss, exactly what a known key costs.
The directory reloads when the key revision moves: the signal file tells a server on the
same machine at once; a database read once a second covers servers elsewhere.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from sealbook.exchange.context import Context
from sealbook.keys.model import ApiKeyRecord, LiveKey
from sealbook.keys.sealing import Sealer
from sealbook.store import keys as key_store
from sealbook.store.signal import SignalWatcher
from sealbook.store.tables import api_keys

__all__ = ["DbKeyDirectory"]

BACKSTOP_S = 1.0


def _identity(record: ApiKeyRecord) -> ApiKeyRecord:
    """The record without the fields that change on every use."""
    return replace(record, last_used_ms=None, last_used_ip=None)


class DbKeyDirectory:
    __slots__ = ("_ctx", "_keys", "_next_check", "_revision", "_stale", "_watcher")

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._keys: dict[str, tuple[ApiKeyRecord, LiveKey]] = {}
        self._watcher = SignalWatcher(ctx.settings.signal_path)
        self._revision = -1
        self._next_check = 0.0
        self._stale = True
        ctx.key_listeners.append(self.invalidate)
        self.refresh()

    @property
    def sealer(self) -> Sealer:
        return self._ctx.sealer

    def invalidate(self) -> None:
        self._stale = True

    def get(self, api_key: str) -> LiveKey | None:
        now = self._ctx.clock.monotonic()
        if self._stale or self._watcher.moved() or now >= self._next_check:
            self._next_check = now + BACKSTOP_S
            self.refresh()
        entry = self._keys.get(api_key)
        return entry[1] if entry is not None else None

    def refresh(self) -> None:
        """Reload if the revision moved; reuse opened keys whose record did not change."""
        with self._ctx.engine.connect() as conn:
            revision = key_store.read_revision(conn)
            if revision == self._revision and not self._stale:
                return
            self._stale = False
            now = self._ctx.clock.now_ms()
            rows = conn.execute(select(api_keys).where(api_keys.c.revoked_ms.is_(None))).all()
        fresh: dict[str, tuple[ApiKeyRecord, LiveKey]] = {}
        for row in rows:
            record = key_store.record_from_row(row)
            if record.dies_ms is not None and record.dies_ms <= now:
                continue
            ident = _identity(record)
            old = self._keys.get(record.api_key)
            if old is not None and old[0] == ident:
                fresh[record.api_key] = old
            else:
                fresh[record.api_key] = (ident, LiveKey.open(record, self._ctx.sealer))
        self._keys = fresh
        self._revision = revision

    def __len__(self) -> int:
        return len(self._keys)
