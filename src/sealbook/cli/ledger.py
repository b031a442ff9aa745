"""``sealbook ledger``: check the stored ledger."""

from __future__ import annotations

from typing import Any

import typer

from sealbook.cli.common import HomeOpt, JsonOpt, emit, settings_for
from sealbook.exchange.ledgercheck import check_database
from sealbook.markets import default_catalog
from sealbook.store.db import make_engine, migrate

__all__ = ["app"]

app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)


def _render(d: dict[str, Any]) -> str:
    if d["ok"]:
        return f"ledger sound: {d['postings']} postings"
    lines = [f"ledger check FAILED: {len(d['violations'])} violations in {d['postings']} postings"]
    lines += [f"  {v}" for v in d["violations"]]
    return "\n".join(lines)


@app.command("check")
def check(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Rebuild balances from the postings and check every invariant; exit 1 on a violation."""
    # Needs no master key: postings, orders and withdrawals are stored in clear.
    engine = make_engine(settings_for(home).resolved_database_url)
    try:
        migrate(engine)  # an empty home has an empty, sound ledger
        report = check_database(engine, default_catalog())
    finally:
        engine.dispose()
    emit(report.as_dict(), as_json, _render)
    if not report.ok:
        raise typer.Exit(1)
