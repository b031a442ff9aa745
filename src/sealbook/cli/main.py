"""The ``sealbook`` command line."""

from __future__ import annotations

import typer

from sealbook.cli import (
    audit,
    bot,
    creds,
    fees,
    keys,
    ledger,
    portfolio,
    scan,
    serve,
    tax,
    users,
    wallet,
)

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
app.add_typer(bot.app, name="bot")
app.command("deposit")(wallet.deposit)
app.add_typer(wallet.address_app, name="address")
app.add_typer(fees.app, name="fees")
app.add_typer(ledger.app, name="ledger")
app.add_typer(creds.app, name="creds")
app.command("scan")(scan.scan)
app.add_typer(portfolio.app, name="portfolio")
app.add_typer(tax.app, name="tax")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
