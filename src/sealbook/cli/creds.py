"""``sealbook creds``: the client-side credential vault (add, list, rotate, remove).

Key, secret and passphrase are read from a hidden prompt or stdin (one line each), never
from argv. On add and rotate the exchange is asked what the key may do; a key that can
withdraw is refused unless ``--allow-withdraw-key``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from sealbook.cli.common import JsonOpt, emit, fail, fmt_ms, read_secret_line
from sealbook.client.credentials import Credential
from sealbook.client.errors import ClientError
from sealbook.client.keyinfo import KeyRights, fetch_rights, refuse_withdraw, reports_rights
from sealbook.client.vault import KEY_MAX_AGE_DAYS, StoredCredential, Vault, validate_name

app = typer.Typer(
    help="Store exchange API keys for the client tools (keyring or encrypted file). "
    "Secrets are read from stdin or a prompt, never argv.",
    no_args_is_help=True,
)

AllowWithdrawOpt = Annotated[
    bool,
    typer.Option(
        "--allow-withdraw-key", help="Store a key even though it can withdraw funds (risky)"
    ),
]


def _read_material(name: str, exchange: str, url: str | None) -> Credential:
    api_key = read_secret_line("API key", prompt=True).strip()
    secret = read_secret_line("API secret", prompt=True).strip()
    passphrase = read_secret_line("API passphrase (empty if none)", prompt=True).strip()
    return Credential(name, exchange, api_key, secret, passphrase, url)


def _check_rights(cred: Credential, allow_withdraw: bool) -> KeyRights | None:
    """Ask the exchange what the key may do; None where the exchange cannot say."""
    from sealbook.client.connect import connect  # ccxt takes a second to import: only here

    exchange = connect(cred)
    if not reports_rights(exchange):
        typer.echo(
            f"warning: {cred.exchange} cannot report a key's rights; make sure this key "
            "cannot withdraw",
            err=True,
        )
        return None
    rights = fetch_rights(exchange)
    refuse_withdraw(rights, allow=allow_withdraw, tool="the client tools")
    return rights


def _parse_date_ms(text: str) -> int:
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        fail(f"cannot read date {text!r}: use YYYY-MM-DD")
    return int(day.timestamp() * 1000)


def _warn_if_old(entry: StoredCredential) -> None:
    if entry.too_old():
        typer.echo(
            f"warning: key {entry.name!r} is {entry.age_days()} days old (more than "
            f"{KEY_MAX_AGE_DAYS}); rotate it: sealbook creds rotate {entry.name}",
            err=True,
        )


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A name for this account, e.g. bitget-main")],
    exchange: Annotated[str, typer.Option("--exchange", help="ccxt exchange id")] = "bitget",
    url: Annotated[
        str | None, typer.Option("--url", help="Base URL (a Sealbook server or compatible host)")
    ] = None,
    created: Annotated[
        str | None, typer.Option("--created", help="When the exchange issued the key (YYYY-MM-DD)")
    ] = None,
    allow_withdraw_key: AllowWithdrawOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Store a key: reads key, secret and passphrase, one line each, from stdin or a prompt."""
    try:
        validate_name(name)
        created_ms = _parse_date_ms(created) if created else None
        vault = Vault()
        cred = _read_material(name, exchange.strip().lower(), url)
        if not cred.api_key or not cred.secret:
            fail("an API key and a secret are both needed; nothing was stored")
        if any(entry.name == name for entry in vault.entries()):
            fail(f"a credential named {name!r} exists; rotate or remove it")
        rights = _check_rights(cred, allow_withdraw_key)
        entry = vault.add(cred, created_ms=created_ms)
    except ClientError as error:
        fail(f"{error}; nothing was stored")
    _warn_if_old(entry)
    view = {**entry.listing(), "rights": rights.describe() if rights else None}
    emit(view, as_json, lambda v: f"stored {v['name']} ({v['apiKey']}, rights: {v['rights']})")


@app.command("rotate")
def rotate(
    name: str,
    allow_withdraw_key: AllowWithdrawOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Store a new key, secret and passphrase for NAME, read from stdin or a prompt."""
    try:
        vault = Vault()
        old = vault.get(name)
        cred = _read_material(name, old.credential.exchange, old.credential.url)
        rights = _check_rights(cred, allow_withdraw_key)
        entry = vault.rotate(cred)
    except ClientError as error:
        fail(f"{error}; nothing was changed")
    view = {**entry.listing(), "rights": rights.describe() if rights else None}
    emit(view, as_json, lambda v: f"rotated {v['name']} (now {v['apiKey']})")


@app.command("remove")
def remove(name: str) -> None:
    """Forget the credential NAME (revoke the key at the exchange as well)."""
    try:
        Vault().remove(name)
    except ClientError as error:
        fail(str(error))
    typer.echo(f"removed {name}")


@app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """Stored credentials and those in SEALBOOK_CREDS_* variables; keys masked, no secrets."""
    from sealbook.client.vault import load_entries

    try:
        entries = load_entries()
    except ClientError as error:
        fail(str(error))
    rows = [entry.listing() for entry in entries]
    for entry in entries:
        _warn_if_old(entry)
    emit(rows, as_json, _table)


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no credentials stored (sealbook creds add NAME)"
    lines = [f"{'NAME':<20} {'EXCHANGE':<10} {'KEY':<16} {'SOURCE':<8} {'AGE':>5}  URL / ADDED"]
    for row in rows:
        age = "-" if row["ageDays"] is None else f"{row['ageDays']}d"
        age += "!" if row["tooOld"] else ""
        added = fmt_ms(row["addedTime"])
        lines.append(
            f"{row['name']:<20} {row['exchange']:<10} {row['apiKey']:<16} {row['source']:<8} "
            f"{age:>5}  {row['url'] or '-'}  {added}"
        )
    return "\n".join(lines)
