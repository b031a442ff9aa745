"""``sealbook tax``: import history from every account, then report a year's disposals.

``sync`` exits 0 when every account synced, 3 when some failed (the others are kept and
the failures named), 1 when none did. ``report`` reads only the local database.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sealbook.cli.common import JsonOpt, emit, fail, parse_duration_ms
from sealbook.client.errors import ClientError

if TYPE_CHECKING:
    from sealbook.client.credentials import Credential
    from sealbook.client.tax import TaxStore

app = typer.Typer(help="Tax: import trades and transfers, report disposals (FIFO/LIFO/HIFO/ACB).",
                  no_args_is_help=True)

CredsOpt = Annotated[
    list[str] | None,
    typer.Option("--creds", help="Credential name (repeatable) [default: every stored one]"),
]
DbOpt = Annotated[
    Path | None,
    typer.Option("--db", help="Tax database [default: $SEALBOOK_CLIENT_HOME/tax.db]"),
]


def _db_path(db: Path | None) -> Path:
    if db is not None:
        return db
    from sealbook.client.vault import default_client_home

    return default_client_home() / "tax.db"


def _since_ms(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        fail(f"cannot read --since {text!r}: use YYYY-MM-DD")
    return int(day.timestamp() * 1000)


@app.command("sync")
def sync(
    creds: CredsOpt = None,
    since: Annotated[
        str | None, typer.Option(help="First day to read on a first sync (YYYY-MM-DD) [2018-01-01]")
    ] = None,
    symbol: Annotated[
        list[str] | None,
        typer.Option("--symbol", help="Also read fills of this market, e.g. BTC/USDT (repeatable)"),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import fills, fees, deposits and withdrawals; resumes from saved checkpoints."""
    from sealbook.client.connect import connect
    from sealbook.client.tax import TaxStore, sync_account
    from sealbook.client.tax.sync import DEFAULT_SINCE_MS
    from sealbook.client.vault import load_credentials

    start = _since_ms(since) or DEFAULT_SINCE_MS
    try:
        credentials = load_credentials(creds or ())
    except ClientError as error:
        fail(str(error))
    if not credentials:
        fail("no credentials: add one with `sealbook creds add` or SEALBOOK_CREDS_<NAME>_KEY")
    results: list[dict[str, Any]] = []
    failed = 0
    with TaxStore(_db_path(db)) as store:
        for cred in credentials:
            try:
                exchange = connect(cred)
                owner = _same_account_as(exchange, cred, store)
                if owner != cred.name:
                    results.append({"account": cred.name, "ok": True, "skipped": (
                        f"the same exchange account as {owner!r}, whose records are "
                        "imported already; remove one of the two credentials")})
                    continue
                now_ms = int(time.time() * 1000)
                stats = sync_account(
                    exchange, cred.name, store, now_ms=now_ms, since_ms=start,
                    symbols=symbol or (),
                )
                results.append({**stats.as_dict(), "ok": True})
            except ClientError as error:
                failed += 1
                results.append({"account": cred.name, "ok": False, "error": str(error)})
        totals = store.counts()
    emit({"accounts": results, "stored": totals}, as_json, _render_sync)
    if failed:
        raise typer.Exit(1 if failed == len(credentials) else 3)


def _same_account_as(exchange: Any, cred: Credential, store: TaxStore) -> str:
    """The credential name this exchange account is imported under (``cred.name`` unless
    another stored credential reaches the same account: a rotated key added under a new
    name, say). Exchanges that do not say who the key belongs to are taken at their word."""
    from sealbook.client.keyinfo import fetch_rights, reports_rights

    if not reports_rights(exchange):
        return cred.name  # not a Bitget-style exchange: nothing to ask
    try:
        user_id = fetch_rights(exchange).user_id
    except ClientError as error:  # rather fail this account than risk importing it twice
        raise ClientError(
            f"{cred.name}: sync stopped before reading anything ({error}); run it again to "
            "resume"
        ) from None
    if not user_id:
        return cred.name
    identity = f"{cred.exchange}|{(cred.url or '').rstrip('/')}|{user_id}"
    return store.claim_identity(cred.name, identity)


def _render_sync(data: dict[str, Any]) -> str:
    lines = []
    for r in data["accounts"]:
        if not r["ok"]:
            lines.append(f"{r['account']}: FAILED: {r['error']}")
            continue
        if r.get("skipped"):
            lines.append(f"{r['account']}: skipped: {r['skipped']}")
            continue
        lines.append(
            f"{r['account']}: +{r['new_trades']} trades, +{r['new_deposits']} deposits, "
            f"+{r['new_withdrawals']} withdrawals, +{r['new_rates']} USD rates "
            f"({r['requests']} requests; symbols: {', '.join(r['symbols']) or 'none'})"
        )
    s = data["stored"]
    lines.append(f"stored: {s['trades']} trades, {s['transfers']} transfers, {s['rates']} rates")
    return "\n".join(lines)


@app.command("report")
def report(
    year: Annotated[int, typer.Option(help="Tax year (UTC)")],
    method: Annotated[str, typer.Option(help="fifo | lifo | hifo | acb")] = "fifo",
    per_wallet: Annotated[
        bool, typer.Option("--per-wallet", help="Keep lots per account, not one pool")
    ] = False,
    creds: CredsOpt = None,
    transfer_window: Annotated[
        str, typer.Option(help="Longest a transfer may take to arrive (e.g. 72h, 7d)")
    ] = "72h",
    out: Annotated[
        Path | None,
        typer.Option(help="Directory for the CSVs and manifest "
                          "[default: $SEALBOOK_CLIENT_HOME/tax-reports/YEAR-METHOD]"),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every disposal of the year with its basis and gain; writes the exports."""
    from sealbook.client.tax import ReportSettings, TaxStore, report_from_store, write_exports

    path = _db_path(db)
    if not path.exists():
        fail(f"no tax database at {path}: run `sealbook tax sync` first")
    try:
        settings = ReportSettings(
            year, method.lower(), per_wallet, parse_duration_ms(transfer_window)
        )
        with TaxStore(path) as store:
            accounts = list(creds) if creds else None
            result = report_from_store(store, settings, accounts)
            trades, transfers = store.trades(accounts), store.transfers(accounts)
            rates = [r for r in store.rates() if accounts is None or r.account in accounts]
        if out is None:
            from sealbook.client.vault import default_client_home

            suffix = "-per-wallet" if per_wallet else ""
            out = default_client_home() / "tax-reports" / f"{year}-{settings.method}{suffix}"
        manifest = write_exports(result, trades, transfers, out, rates)
    except ClientError as error:
        fail(str(error))
    emit({"out": str(out), **manifest}, as_json, _render_report)


def _render_report(data: dict[str, Any]) -> str:
    s = data["summary"]
    lines = [
        f"tax year {s['year']}, method {s['method']}"
        f"{' per wallet' if s['per_wallet'] else ''}: {s['disposals']} disposals"
        f" ({s['flagged']} flagged), {s['transfers_matched']} transfers matched,"
        f" {s['withdrawals_unmatched']} withdrawals unmatched",
        f"{'USD':<12}{'proceeds':>20}{'cost basis':>20}{'gain':>20}",
    ]
    rows = [(f"{k} term", v) for k, v in s["by_term"].items()]
    rows += [*s["by_asset"].items(), ("total", s["total"])]
    for key, sums in rows:
        cells = (_cents(sums[k]) for k in ("proceeds", "cost_basis", "gain"))
        lines.append(f"{key:<12}" + "".join(f"{c:>20}" for c in cells))
    lines.append(f"files in {data['out']} (report {data['report_sha256'][:16]}…)")
    return "\n".join(lines)


def _cents(text: str) -> str:
    return f"{Decimal(text).quantize(Decimal('0.01'), ROUND_HALF_EVEN):,}"
