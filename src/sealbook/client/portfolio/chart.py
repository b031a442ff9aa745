"""Charts of the portfolio: net worth over time and allocation by asset, with matplotlib.

``.png`` writes the image; ``.html`` writes a self-contained page with the same figure
embedded as base64 PNG. The Agg backend is selected before pyplot loads, so no display is
needed. matplotlib plots floats: the conversion happens here, for drawing only.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sealbook.client.errors import ClientError
from sealbook.client.portfolio.snapshots import Snapshot

__all__ = ["SMALL_SHARE", "render_chart"]

SMALL_SHARE = Decimal("0.02")  # slices under 2 % are drawn together as "other"


def _figure_png(history: Sequence[Snapshot], allocation: dict[str, Decimal]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.5), dpi=100)
    left, right = fig.subplots(1, 2)
    times = [datetime.fromtimestamp(s.ts_ms / 1000, UTC) for s in history]
    left.plot(times, [float(s.net_worth) for s in history], marker="o")
    left.set_title("Net worth (USDT)")
    left.grid(True, alpha=0.3)
    fig.autofmt_xdate()
    total = sum(allocation.values(), Decimal(0))
    slices: dict[str, Decimal] = {}
    for asset, value in allocation.items():
        key = asset if total and value / total >= SMALL_SHARE else "other"
        slices[key] = slices.get(key, Decimal(0)) + value
    if total > 0:
        right.pie([float(v) for v in slices.values()], labels=list(slices), autopct="%1.1f%%")
    right.set_title("Allocation by asset")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def render_chart(path: Path, history: Sequence[Snapshot], allocation: dict[str, Decimal]) -> None:
    suffix = path.suffix.lower()
    if suffix not in (".png", ".html"):
        raise ClientError(f"--chart wants a .png or .html file, not {path.name!r}")
    png = _figure_png(history, allocation)
    if suffix == ".png":
        path.write_bytes(png)
        return
    rows = "".join(
        f"<tr><td>{html.escape(asset)}</td><td>{html.escape(str(value))}</td></tr>"
        for asset, value in allocation.items()
    )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Sealbook portfolio</title>"
        "</head><body><h1>Portfolio</h1>"
        f"<img alt='net worth and allocation' src='data:image/png;base64,"
        f"{base64.b64encode(png).decode('ascii')}'>"
        f"<table><tr><th>Asset</th><th>Value (USDT)</th></tr>{rows}</table></body></html>\n"
    )
    path.write_text(page, "utf-8")
