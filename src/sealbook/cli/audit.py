"""``sealbook audit``: check the hash chain and, with the master key, its seals."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from sealbook.cli.common import HomeOpt, JsonOpt, emit, fail, settings_for
from sealbook.keys.audit import check_anchor, parse_anchor
from sealbook.store import audit
from sealbook.store.db import make_engine, migrate
from sealbook.store.masterkey import MasterKeyMissing, load_master_key

app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)

NO_KEY = "seals not checked: no master key"


def _render(d: dict[str, Any]) -> str:
    if not d["ok"]:
        return f"audit chain BROKEN at entry {d['firstBadSeq']}: {d['reason']}"
    if d["sealsChecked"]:
        return f"audit chain intact: {d['checked']} entries, {d['sealed']} sealed"
    return f"audit chain intact: {d['checked']} entries ({NO_KEY})"


AnchorOpt = Annotated[
    str | None,
    typer.Option(
        "--anchor",
        metavar="SEQ:HASH",
        help="An entry's seq and hash kept from an earlier `verify --json` (its `checked` "
        "and `headHash`): the log must still hold it, else it was rolled back or rewritten.",
    ),
]


@app.command("verify")
def verify(home: HomeOpt = None, as_json: JsonOpt = False, anchor: AnchorOpt = None) -> None:
    """Recompute every hash and check every seal; exit 1 naming the first bad entry."""
    try:
        anchored = parse_anchor(anchor) if anchor is not None else None
    except ValueError as exc:
        fail(str(exc), 2)
    # The plain chain needs no master key: it is SHA-256, checkable by anyone with the
    # database. The seals need the key (as `serve` loads it); without it they are skipped
    # and the exit status depends on the plain chain alone.
    settings = settings_for(home)
    try:
        sealed_by: audit.AuditLog | None = audit.AuditLog.from_master(load_master_key(settings))
    except MasterKeyMissing as exc:
        sealed_by = None
        typer.echo(f"{NO_KEY} ({exc})", err=True)
    # Until a start with the master key has sealed the entries from before seals existed
    # (and written the marker beside the key), entries without a seal are expected.
    never_sealed = not settings.audit_sealed_path.exists()
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate(engine)  # an empty home has an empty, intact chain
        if sealed_by is None:
            report = audit.verify(engine)
        else:
            report = sealed_by.verify(engine, unsealed_ok=never_sealed)
        if anchored is not None:
            seq, digest = anchored
            report = check_anchor(report, seq, digest, audit.stored_hash(engine, seq))
    finally:
        engine.dispose()
    emit(report.as_dict(), as_json, _render)
    if report.ok and report.seals_checked and report.sealed < report.checked:
        typer.echo(
            f"note: {report.checked - report.sealed} entries from before seals existed are "
            "not sealed yet; they are sealed the first time sealbook starts with the master "
            "key (e.g. `sealbook serve`)",
            err=True,
        )
    if not report.ok:
        raise typer.Exit(1)
