"""``sealbook audit``: check the hash chain."""

from __future__ import annotations

import typer

from sealbook.cli.common import HomeOpt, JsonOpt, emit, settings_for
from sealbook.store import audit
from sealbook.store.db import make_engine, migrate

app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)


@app.command("verify")
def verify(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Recompute every hash; exit 1 naming the first bad entry if anything was changed."""
    # Needs no master key: the chain is plain SHA-256, checkable by anyone with the database.
    engine = make_engine(settings_for(home).resolved_database_url)
    try:
        migrate(engine)  # an empty home has an empty, intact chain
        report = audit.verify(engine)
    finally:
        engine.dispose()
    emit(
        report.as_dict(),
        as_json,
        lambda d: (
            f"audit chain intact: {d['checked']} entries"
            if d["ok"]
            else f"audit chain BROKEN at entry {d['firstBadSeq']}: {d['reason']}"
        ),
    )
    if not report.ok:
        raise typer.Exit(1)
