"""The report's files: Form 8949-style CSV, summary CSV, Koinly universal CSV, lot trail
CSV, the USD rates used, and a manifest that lets two runs be compared.

The manifest holds no clock reading: the same inputs and settings give byte-identical
files. ``report_sha256`` covers the inputs' hash, the settings and the tool version; each
file's own hash is listed beside it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from sealbook.client.tax.report import Disposal, Report, TrailPiece
from sealbook.client.tax.store import RateRow, TradeRow, TransferRow
from sealbook.client.tax.units import plain, to_cents
from sealbook.client.tax.valuation import STABLE

__all__ = ["FILES", "tool_version", "write_exports"]

FILES = ("form8949.csv", "summary.csv", "koinly.csv", "lot_trail.csv", "rates.csv")
_KOINLY = (
    "Date", "Sent Amount", "Sent Currency", "Received Amount", "Received Currency",
    "Fee Amount", "Fee Currency", "Net Worth Amount", "Net Worth Currency", "Label",
    "Description", "TxHash",
)


def tool_version() -> str:
    try:
        return f"sealbook {metadata.version('sealbook')}"
    except metadata.PackageNotFoundError:
        return "sealbook (unknown version)"


def write_exports(
    report: Report,
    trades: Sequence[TradeRow],
    transfers: Sequence[TransferRow],
    out_dir: Path,
    rates: Sequence[RateRow] = (),
) -> dict[str, Any]:
    """Write the CSVs and ``manifest.json`` into ``out_dir``; returns the manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    year = report.settings.year
    texts = {
        "form8949.csv": _form8949(report.disposals),
        "summary.csv": _summary(report),
        "koinly.csv": _koinly(year, trades, transfers),
        "lot_trail.csv": _trail(report.disposals),
        "rates.csv": _csv(
            ("account", "coin", "time", "usd", "source"),
            [[r.account, r.coin, _stamp(r.ts), r.usd, r.source] for r in rates
             if _year(r.ts) == year],
        ),
    }
    for name, text in texts.items():
        (out_dir / name).write_text(text, encoding="utf-8", newline="")
    settings = report.settings.as_dict()
    version = tool_version()
    identity = json.dumps(
        {"inputs": report.input_sha256, "settings": settings, "tool": version}, sort_keys=True
    )
    manifest = {
        "tool": version,
        "settings": settings,
        "input_sha256": report.input_sha256,
        "input_counts": report.counts,
        "report_sha256": hashlib.sha256(identity.encode()).hexdigest(),
        "files": {n: hashlib.sha256(t.encode()).hexdigest() for n, t in texts.items()},
        "summary": report.summary(),
    }
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (out_dir / "manifest.json").write_text(text, encoding="utf-8")
    return manifest


def _csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%m/%d/%Y")


def _stamp(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _form8949(disposals: Sequence[Disposal]) -> str:
    """One row per disposal and holding period; money in cents, gain = proceeds - basis
    as printed, so each row adds up."""
    rows: list[list[object]] = []
    for d in disposals:
        terms: dict[str, list[TrailPiece]] = {}
        for piece in d.pieces:
            terms.setdefault(piece.term, []).append(piece)
        for term, pieces in terms.items():
            qty = sum(p.qty for p in pieces)
            dates = {p.acquired_ms and _day(p.acquired_ms) for p in pieces}
            acquired = "VARIOUS" if len(dates) > 1 else (dates.pop() or "UNKNOWN")
            proceeds = to_cents(sum(p.proceeds for p in pieces))
            basis = to_cents(sum(p.basis for p in pieces))
            flags = list(d.source.flags)
            if any(p.missing for p in pieces):
                flags.append("missing basis")
            rows.append([
                f"{plain(qty)} {d.asset}", acquired, _day(d.sold_ms), proceeds, basis,
                "", "", proceeds - basis, term, d.wallet, d.source.kind, d.source.record_id,
                "; ".join(flags),
            ])
    return _csv(
        ("Description of property", "Date acquired", "Date sold or disposed of", "Proceeds",
         "Cost or other basis", "Code(s)", "Amount of adjustment", "Gain or (loss)", "Term",
         "Account", "Source", "Record id", "Flags"),
        rows,
    )


def _summary(report: Report) -> str:
    summary = report.summary()
    rows: list[list[object]] = []
    for term, sums in summary["by_term"].items():
        rows.append(["term", term, sums["proceeds"], sums["cost_basis"], sums["gain"]])
    for asset, sums in summary["by_asset"].items():
        rows.append(["asset", asset, sums["proceeds"], sums["cost_basis"], sums["gain"]])
    total = summary["total"]
    rows.append(["total", "all", total["proceeds"], total["cost_basis"], total["gain"]])
    return _csv(("section", "key", "proceeds_usd", "cost_basis_usd", "gain_usd"), rows)


def _trail(disposals: Sequence[Disposal]) -> str:
    rows: list[list[object]] = []
    for d in disposals:
        for p in d.pieces:
            lot = {-1: "none", -2: "pool"}.get(p.lot, str(p.lot))
            rows.append([
                d.number, _stamp(d.sold_ms), d.wallet, d.asset, plain(d.qty), lot,
                _stamp(p.acquired_ms) if p.acquired_ms is not None else "", p.lot_account,
                plain(p.qty), plain(p.basis), plain(p.proceeds),
                plain(p.gain), p.term, "yes" if p.missing else "no",
            ])
    return _csv(
        ("disposal", "sold", "account", "asset", "disposal_qty", "lot", "lot_acquired",
         "lot_account", "qty_from_lot", "basis_usd", "proceeds_usd", "gain_usd", "term",
         "missing_basis"),
        rows,
    )


def _koinly(year: int, trades: Sequence[TradeRow], transfers: Sequence[TransferRow]) -> str:
    """Koinly's universal format: trades with gross amounts and the fee apart; deposits
    and withdrawals with their transaction hash (Koinly matches transfers itself)."""
    rows: list[tuple[int, list[object]]] = []
    for t in trades:
        if _year(t.ts) != year:
            continue
        fee = [t.fee_cost, t.fee_currency] if t.fee_currency else ["", ""]
        if t.side == "buy":
            moved = [t.cost, t.quote, t.amount, t.base]
        else:
            moved = [t.amount, t.base, t.cost, t.quote]
        worth = [t.cost, "USD"] if t.quote in STABLE else ["", ""]
        rows.append((t.ts, [_stamp(t.ts), *moved, *fee, *worth, "",
                            f"{t.account} {t.symbol} {t.side}", ""]))
    for r in transfers:
        if _year(r.ts) != year or r.status not in ("ok", "pending"):
            continue
        if r.kind == "deposit":
            moved = ["", "", r.amount, r.coin, "", ""]
        else:
            moved = [r.amount, r.coin, "", "", r.fee, r.coin]
        rows.append((r.ts, [_stamp(r.ts), *moved, "", "", "", f"{r.account} {r.kind}", r.txid]))
    rows.sort(key=lambda pair: pair[0])
    return _csv(_KOINLY, [row for _, row in rows])


def _year(ms: int) -> int:
    return datetime.fromtimestamp(ms / 1000, UTC).year
