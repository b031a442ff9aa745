"""What a bot reports: events as JSON lines (``--json``) and a short memory for the panel."""

from __future__ import annotations

import json
import sys
import time
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from typing import IO, Any

__all__ = ["Events"]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact, never a float
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class Events:
    """``emit`` writes one JSON object per line when ``stream`` is given, and keeps the
    last ``keep`` events for a status panel. Nothing secret is ever passed in."""

    def __init__(
        self,
        stream: IO[str] | None = None,
        *,
        keep: int = 12,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.stream = stream
        self.recent: deque[dict[str, Any]] = deque(maxlen=keep)
        self.counts: dict[str, int] = {}
        self._clock = clock

    def emit(self, event: str, **fields: Any) -> None:
        record = {"ts": int(self._clock() * 1000), "event": event}
        record.update({k: _plain(v) for k, v in fields.items()})
        self.recent.append(record)
        self.counts[event] = self.counts.get(event, 0) + 1
        if self.stream is not None:
            self.stream.write(json.dumps(record, separators=(",", ":")) + "\n")
            self.stream.flush()


def stdout_events() -> Events:
    return Events(sys.stdout)
