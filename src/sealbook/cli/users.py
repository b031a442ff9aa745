"""``sealbook user``: people and their second factor."""

from __future__ import annotations

from typing import Annotated

import typer

from sealbook.cli.common import HomeOpt, JsonOpt, context, emit, read_secret_line
from sealbook.exchange.accounts import AccountService

app = typer.Typer(help="Create users and enrol their second factor (TOTP).", no_args_is_help=True)


@app.command("create")
def create(
    name: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin")
    ] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a user. The password comes from stdin or a hidden prompt, never argv."""
    password = read_secret_line("password", prompt=not password_stdin)
    with context(home) as ctx:
        user_id = AccountService(ctx).create_user(name, password)
    emit(
        {"userId": user_id, "name": name},
        as_json,
        lambda d: f"created user {d['name']} (id {d['userId']})",
    )


@app.command("totp-enroll")
def totp_enroll(name: str, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Start TOTP enrolment: prints the seed and otpauth:// URI once."""
    with context(home) as ctx:
        enrolment = AccountService(ctx).totp_enroll(name)
    emit(
        {"secret": enrolment.secret, "uri": enrolment.uri},
        as_json,
        lambda d: (
            f"TOTP seed (shown once): {d['secret']}\nURI: {d['uri']}\n"
            f"Confirm with: sealbook user totp-confirm {name} --code CODE"
        ),
    )


@app.command("totp-confirm")
def totp_confirm(
    name: str,
    code: Annotated[str, typer.Option("--code", help="The current 6-digit code")],
    home: HomeOpt = None,
) -> None:
    """Activate the enrolled seed by proving a code from it."""
    with context(home) as ctx:
        AccountService(ctx).totp_confirm(name, code)
    typer.echo(f"two-factor authentication is on for {name}")
