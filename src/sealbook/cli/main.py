"""The ``sealbook`` command line."""

from __future__ import annotations

import typer

from sealbook.cli import audit, fees, keys, ledger, serve, users, wallet

app = typer.Typer(
    help="Sealbook: a self-hostable exchange with a strong API-key layer.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve.serve)
app.add_typer(users.app, name="user")
app.add_typer(keys.app, name="key")
app.add_typer(audit.app, name="audit")
app.command("deposit")(wallet.deposit)
app.add_typer(wallet.address_app, name="address")
app.add_typer(fees.app, name="fees")
app.add_typer(ledger.app, name="ledger")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
