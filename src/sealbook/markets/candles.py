"""Candles: Bitget's spot granularities, and per-symbol trade buckets to build them from.

Pure and in memory: no I/O, no clock. Everything is integer ticks, lots and quote units;
rendering to strings is :mod:`sealbook.markets.marketdata`'s job.

**Granularities** (``GET /api/v2/spot/market/candles``, ``…/history-candles``). Bitget
documents ``1min 3min 5min 15min 30min 1h 4h 6h 12h 1day 3day 1week 1M`` and the UTC
variants ``6Hutc 12Hutc 1Dutc 3Dutc 1Wutc 1Mutc``. ccxt 4.5.90 sends ``1min 3min 5min
15min 30min 1h 4h`` and, from 6 h up, only the ``…utc`` names (its ``fetchOHLCV.timeframes
.spot`` map); a timeframe missing from that map (``2h``) is sent as is. Bitget's plain
``6h 12h 1day 3day 1week 1M`` candles are cut in **UTC+8** (its monthly history candles
open at 16:00 UTC on the last day of the month before; ccxt switched to the ``utc`` names
for that reason), so here too. Also accepted, as Bitget's futures endpoints spell them:
``1m 3m 5m 15m 30m 1H 2H 4H 6H 12H 1D 3D 1W`` (``1m`` is one minute, ``1M`` one month;
names are case-sensitive).

**Boundaries**: minutes and hours are multiples of their length since the epoch (the same
in UTC and UTC+8 for 1 h, 2 h and 4 h); 6 h, 12 h, 1 and 3 days are multiples of their
length since 1970-01-01 00:00 local time (for 3 days an assumption: Bitget does not say);
weeks start on Monday 00:00 local time; months on the 1st, 00:00 local time. "Local" is
UTC for the ``…utc`` names and UTC+8 for the plain ones.

**Buckets**: per symbol, one bucket per minute and one per hour that saw a trade (open,
high, low, close in ticks; base volume in lots; quote volume in ticks × lots; USDT volume
in atoms). Candles under an hour are built from minute buckets, the rest from hour buckets
(every boundary above is a whole UTC hour), so a request reads at most ``limit`` minute
buckets or 720 hour buckets. Open and close are the trades with the smallest and largest
``(ts, trade_id)``, so trades recorded out of order still give the right candle.

**Bounded memory**: a symbol keeps the buckets of its last ``retain_hours`` UTC hours
(720 = 30 days by default: at most 43,200 minute and 720 hour buckets), counted back
from its newest trade (or from ``now`` given to :meth:`CandleSeries.prune`); older ones
are dropped and trades older than that make no bucket.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sealbook.errors import ParamInvalid

__all__ = [
    "DAY_MS",
    "GRANULARITIES",
    "HOUR_MS",
    "MINUTE_MS",
    "Bucket",
    "CandleSeries",
    "Granularity",
    "parse_granularity",
]

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS
UTC8_MS = 8 * HOUR_MS
_MONDAY_MS = 4 * DAY_MS  # 1970-01-05 00:00, the first Monday after the epoch
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _month_start(local_ms: int, step: int) -> int:
    """Local ms of the 1st of the month holding ``local_ms``, moved ``step`` months."""
    day = date.fromordinal(local_ms // DAY_MS + _EPOCH_ORDINAL)
    months = day.year * 12 + day.month - 1 + step
    first = date(months // 12, months % 12 + 1, 1)
    return (first.toordinal() - _EPOCH_ORDINAL) * DAY_MS


@dataclass(frozen=True, slots=True)
class Granularity:
    """One candle length. ``length_ms`` is 0 for calendar months."""

    name: str
    length_ms: int
    offset_ms: int = 0  # local time minus UTC: 0, or UTC8_MS
    anchor_ms: int = 0  # a period boundary, in local time (weeks: a Monday)

    @property
    def source_ms(self) -> int:
        """The bucket size candles of this length are built from."""
        return MINUTE_MS if 0 < self.length_ms < HOUR_MS else HOUR_MS

    def floor(self, ts_ms: int) -> int:
        """Start of the period holding ``ts_ms``."""
        local = ts_ms + self.offset_ms
        if self.length_ms == 0:
            return _month_start(local, 0) - self.offset_ms
        shifted = local - self.anchor_ms
        return shifted - shifted % self.length_ms + self.anchor_ms - self.offset_ms

    def next(self, start_ms: int) -> int:
        """Start of the period after the one starting at ``start_ms``."""
        if self.length_ms == 0:
            return _month_start(start_ms + self.offset_ms, 1) - self.offset_ms
        return start_ms + self.length_ms

    def prev(self, start_ms: int) -> int:
        """Start of the period before the one starting at ``start_ms``."""
        if self.length_ms == 0:
            return _month_start(start_ms + self.offset_ms, -1) - self.offset_ms
        return start_ms - self.length_ms

    def ceil(self, ts_ms: int) -> int:
        """Start of the first period starting at or after ``ts_ms``."""
        start = self.floor(ts_ms)
        return start if start == ts_ms else self.next(start)


def _g(name: str, length_ms: int, offset_ms: int = 0) -> Granularity:
    return Granularity(name, length_ms, offset_ms, _MONDAY_MS if length_ms == WEEK_MS else 0)


GRANULARITIES: dict[str, Granularity] = {
    g.name: g
    for g in (
        _g("1min", MINUTE_MS),
        _g("3min", 3 * MINUTE_MS),
        _g("5min", 5 * MINUTE_MS),
        _g("15min", 15 * MINUTE_MS),
        _g("30min", 30 * MINUTE_MS),
        _g("1h", HOUR_MS),
        _g("2h", 2 * HOUR_MS),
        _g("4h", 4 * HOUR_MS),
        _g("6h", 6 * HOUR_MS, UTC8_MS),
        _g("12h", 12 * HOUR_MS, UTC8_MS),
        _g("1day", DAY_MS, UTC8_MS),
        _g("3day", 3 * DAY_MS, UTC8_MS),
        _g("1week", WEEK_MS, UTC8_MS),
        _g("1M", 0, UTC8_MS),
        _g("6Hutc", 6 * HOUR_MS),
        _g("12Hutc", 12 * HOUR_MS),
        _g("1Dutc", DAY_MS),
        _g("3Dutc", 3 * DAY_MS),
        _g("1Wutc", WEEK_MS),
        _g("1Mutc", 0),
    )
}
"""Every granularity by its Bitget spot name (plus ``2h``, which ccxt sends for ``2h``)."""

_ALIASES = {
    "1m": "1min",
    "3m": "3min",
    "5m": "5min",
    "15m": "15min",
    "30m": "30min",
    "1H": "1h",
    "2H": "2h",
    "4H": "4h",
    "6H": "6h",
    "12H": "12h",
    "1D": "1day",
    "3D": "3day",
    "1W": "1week",
}


def parse_granularity(text: object) -> Granularity:
    """A ``granularity`` parameter → its :class:`Granularity`, else ``ParamInvalid``
    (40020)."""
    if isinstance(text, str):
        found = GRANULARITIES.get(_ALIASES.get(text, text))
        if found is not None:
            return found
    raise ParamInvalid("granularity", "unsupported granularity")


class Bucket:
    """Trades of one period: OHLC in ticks, ``base`` in lots, ``quote`` in ticks × lots,
    ``usdt`` in USDT atoms (10^-18)."""

    __slots__ = (
        "base",
        "close",
        "close_id",
        "close_ts",
        "high",
        "low",
        "open",
        "open_id",
        "open_ts",
        "quote",
        "usdt",
    )

    def __init__(
        self, ts_ms: int, trade_id: int, ticks: int, lots: int, quote: int, usdt: int
    ) -> None:
        self.open_ts = self.close_ts = ts_ms
        self.open_id = self.close_id = trade_id
        self.open = self.high = self.low = self.close = ticks
        self.base = lots
        self.quote = quote
        self.usdt = usdt

    @classmethod
    def flat(cls, ticks: int) -> Bucket:
        """A period without trades: every price ``ticks`` (the last close), no volume."""
        return cls(0, 0, ticks, 0, 0, 0)

    def copy(self) -> Bucket:
        twin = Bucket(self.open_ts, self.open_id, self.open, self.base, self.quote, self.usdt)
        twin.high, twin.low = self.high, self.low
        twin.close_ts, twin.close_id, twin.close = self.close_ts, self.close_id, self.close
        return twin

    def add(self, ts_ms: int, trade_id: int, ticks: int, lots: int, quote: int, usdt: int) -> None:
        if (ts_ms, trade_id) < (self.open_ts, self.open_id):
            self.open_ts, self.open_id, self.open = ts_ms, trade_id, ticks
        if (ts_ms, trade_id) > (self.close_ts, self.close_id):
            self.close_ts, self.close_id, self.close = ts_ms, trade_id, ticks
        self.high = max(self.high, ticks)
        self.low = min(self.low, ticks)
        self.base += lots
        self.quote += quote
        self.usdt += usdt

    def merge(self, other: Bucket) -> None:
        """Add ``other``'s trades to this bucket."""
        if (other.open_ts, other.open_id) < (self.open_ts, self.open_id):
            self.open_ts, self.open_id, self.open = other.open_ts, other.open_id, other.open
        if (other.close_ts, other.close_id) > (self.close_ts, self.close_id):
            self.close_ts, self.close_id, self.close = other.close_ts, other.close_id, other.close
        self.high = max(self.high, other.high)
        self.low = min(self.low, other.low)
        self.base += other.base
        self.quote += other.quote
        self.usdt += other.usdt


class _Buckets:
    """Buckets of one size, by start, with their starts kept sorted."""

    __slots__ = ("by_start", "size_ms", "starts")

    def __init__(self, size_ms: int) -> None:
        self.size_ms = size_ms
        self.by_start: dict[int, Bucket] = {}
        self.starts: list[int] = []

    def add(self, ts_ms: int, trade_id: int, ticks: int, lots: int, quote: int, usdt: int) -> None:
        start = ts_ms - ts_ms % self.size_ms
        bucket = self.by_start.get(start)
        if bucket is not None:
            bucket.add(ts_ms, trade_id, ticks, lots, quote, usdt)
            return
        self.by_start[start] = Bucket(ts_ms, trade_id, ticks, lots, quote, usdt)
        if not self.starts or start > self.starts[-1]:
            self.starts.append(start)
        else:
            insort(self.starts, start)

    def drop_before(self, cutoff_ms: int) -> None:
        cut = bisect_left(self.starts, cutoff_ms)
        for start in self.starts[:cut]:
            del self.by_start[start]
        del self.starts[:cut]

    def between(self, lo_ms: int, hi_ms: int) -> Iterator[tuple[int, Bucket]]:
        """Buckets starting in ``[lo_ms, hi_ms)``, oldest first."""
        starts = self.starts
        for i in range(bisect_left(starts, lo_ms), bisect_left(starts, hi_ms)):
            yield starts[i], self.by_start[starts[i]]

    def last_before(self, ts_ms: int) -> Bucket | None:
        i = bisect_left(self.starts, ts_ms)
        return self.by_start[self.starts[i - 1]] if i else None


def _merged(parts: Iterator[tuple[int, Bucket]], into: Bucket | None) -> Bucket | None:
    for _, bucket in parts:
        if into is None:
            into = bucket.copy()
        else:
            into.merge(bucket)
    return into


class CandleSeries:
    """One symbol's minute and hour buckets, bounded to ``retain_hours`` hours."""

    __slots__ = ("_cutoff", "hours", "minutes", "retain_hours")

    def __init__(self, retain_hours: int = 720) -> None:
        if retain_hours < 25:
            raise ValueError("retain_hours must cover a day and the hour before it")
        self.retain_hours = retain_hours
        self.minutes = _Buckets(MINUTE_MS)
        self.hours = _Buckets(HOUR_MS)
        self._cutoff: int | None = None  # hour start; buckets before it are gone

    def add(self, ts_ms: int, trade_id: int, ticks: int, lots: int, quote: int, usdt: int) -> None:
        self.prune(ts_ms)
        if self._cutoff is not None and ts_ms < self._cutoff:
            return  # older than what we keep
        self.minutes.add(ts_ms, trade_id, ticks, lots, quote, usdt)
        self.hours.add(ts_ms, trade_id, ticks, lots, quote, usdt)

    def prune(self, newest_ms: int) -> None:
        """Drop buckets more than ``retain_hours`` UTC hours before ``newest_ms``'s hour."""
        cutoff = newest_ms - newest_ms % HOUR_MS - (self.retain_hours - 1) * HOUR_MS
        if self._cutoff is not None and cutoff <= self._cutoff:
            return
        self._cutoff = cutoff
        self.minutes.drop_before(cutoff)
        self.hours.drop_before(cutoff)

    def window(self, lo_ms: int, hi_ms: int) -> Bucket | None:
        """All trades with ``lo_ms ≤ ts < hi_ms`` (both whole minutes) in one bucket, or
        None: minute buckets for the ragged ends, hour buckets for the whole hours."""
        h_lo = -(-lo_ms // HOUR_MS) * HOUR_MS
        h_hi = hi_ms - hi_ms % HOUR_MS
        if h_lo >= h_hi:
            return _merged(self.minutes.between(lo_ms, hi_ms), None)
        total = _merged(self.minutes.between(lo_ms, h_lo), None)
        total = _merged(self.hours.between(h_lo, h_hi), total)
        return _merged(self.minutes.between(h_hi, hi_ms), total)

    def candles(
        self,
        g: Granularity,
        start_ms: int | None,
        end_ms: int | None,
        limit: int,
        now_ms: int | None,
    ) -> list[tuple[int, Bucket]]:
        """The newest ``limit`` periods starting in ``[start_ms, end_ms)``, oldest first.

        Periods run from the one holding the oldest kept trade to the one holding
        ``now_ms`` (or, without it, the newest trade). A period without trades is flat at
        the close before it, with zero volume, as Bitget serves it.
        """
        source = self.minutes if g.source_ms == MINUTE_MS else self.hours
        if not source.starts or limit < 1:
            return []
        top = g.floor(source.starts[-1] if now_ms is None else now_ms)
        if end_ms is not None:
            top = min(top, g.floor(end_ms - 1))
        bottom = g.floor(source.starts[0])
        if start_ms is not None:
            bottom = max(bottom, g.ceil(start_ms))
        periods: list[int] = []
        period = top
        while period >= bottom and len(periods) < limit:
            periods.append(period)
            period = g.prev(period)
        if not periods:
            return []
        periods.reverse()
        before = source.last_before(periods[0])
        close = None if before is None else before.close
        trades = source.between(periods[0], g.next(periods[-1]))
        pending = next(trades, None)
        out: list[tuple[int, Bucket]] = []
        for period in periods:
            end = g.next(period)
            bucket: Bucket | None = None
            while pending is not None and pending[0] < end:
                if bucket is None:
                    bucket = pending[1].copy()
                else:
                    bucket.merge(pending[1])
                pending = next(trades, None)
            if bucket is None:
                # Only the oldest period can have no close before it, and it holds the
                # oldest kept bucket (bottom is that bucket's period).
                if close is None:  # pragma: no cover - see above
                    raise AssertionError("a period without trades and no close before it")
                bucket = Bucket.flat(close)
            out.append((period, bucket))
            close = bucket.close
        return out
