"""Rejected authentications and key use, recorded off the request path.

The verifier reports each rejection and each successful use here; nothing touches the
database until :meth:`AuthLog.flush`, which the server runs once a second in a worker
thread. Rejections go to the audit chain (reason, key prefix, IP); last use (time, IP)
goes to the key's row. If a flood fills the buffer, the number dropped is itself audited.
"""

from __future__ import annotations

from collections import deque

from sealbook.errors import SealbookError
from sealbook.exchange.context import Context
from sealbook.store import keys as key_store

__all__ = ["AuthLog"]

MAX_BUFFERED = 10_000


class AuthLog:
    __slots__ = ("_ctx", "_dropped", "_rejections", "_uses")

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._rejections: deque[tuple[int, str, str, str, str, int | None]] = deque()
        self._uses: dict[int, tuple[int, str]] = {}
        self._dropped = 0

    def rejected(
        self, error: SealbookError, key_prefix: str, ip: str, now_ms: int, user_id: int | None
    ) -> None:
        if len(self._rejections) >= MAX_BUFFERED:
            self._dropped += 1
            return
        self._rejections.append((now_ms, error.code, error.msg, key_prefix, ip, user_id))

    def used(self, key_id: int, ip: str, now_ms: int) -> None:
        self._uses[key_id] = (now_ms, ip)

    def pending(self) -> int:
        return len(self._rejections) + len(self._uses) + (1 if self._dropped else 0)

    def flush(self) -> int:
        """Write everything buffered in one transaction; returns the number of records."""
        rejections, self._rejections = self._rejections, deque()
        uses, self._uses = self._uses, {}
        dropped, self._dropped = self._dropped, 0
        if not (rejections or uses or dropped):
            return 0
        try:
            self._write(rejections, uses, dropped)
        except Exception:
            # Put everything back (newest last) for the next flush, within the buffer bound.
            rejections.extend(self._rejections)
            self._rejections = deque(list(rejections)[-MAX_BUFFERED:])
            self._uses = {**uses, **self._uses}
            self._dropped += dropped + max(0, len(rejections) - MAX_BUFFERED)
            raise
        return len(rejections) + len(uses) + (1 if dropped else 0)

    def _write(
        self,
        rejections: deque[tuple[int, str, str, str, str, int | None]],
        uses: dict[int, tuple[int, str]],
        dropped: int,
    ) -> None:
        with self._ctx.engine.begin() as conn:
            for ts_ms, code, msg, prefix, ip, user_id in rejections:
                self._ctx.audit.append(
                    conn,
                    ts_ms,
                    "auth.rejected",
                    user_id=user_id,
                    key_prefix=prefix or None,
                    ip=ip,
                    detail={"code": code, "msg": msg},
                )
            if dropped:
                self._ctx.audit.append(
                    conn,
                    self._ctx.clock.now_ms(),
                    "auth.rejected.dropped",
                    detail={"count": dropped},
                )
            if uses:
                key_store.record_last_use(conn, uses)
