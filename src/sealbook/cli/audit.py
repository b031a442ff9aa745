"""``sealbook audit``: check the hash chain."""

from __future__ import annotations

import typer

from sealbook.cli.common import HomeOpt, JsonOpt, context, emit
from sealbook.store import audit

app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)


@app.command("verify")
def verify(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Recompute every hash; exit 1 naming the first bad entry if anything was changed."""
    with context(home) as ctx:
        report = audit.verify(ctx.engine)
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
