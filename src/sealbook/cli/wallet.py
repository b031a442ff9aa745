"""``sealbook deposit`` and ``sealbook address``: credit funds, keep the withdrawal address book."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from sealbook.cli.common import HomeOpt, JsonOpt, context, emit, fail, fmt_ms
from sealbook.errors import SealbookError
from sealbook.exchange.accounts import AccountService
from sealbook.exchange.addresses import AddressService, BookedAddress
from sealbook.exchange.inbox import submit_command
from sealbook.markets import default_catalog
from sealbook.money import MoneyError, parse_atoms

__all__ = ["address_app", "deposit"]

address_app = typer.Typer(
    help="The withdrawal address book: keys withdraw only to booked addresses.",
    no_args_is_help=True,
)

UserOpt = Annotated[str, typer.Option("--user", help="The user's name")]
CoinOpt = Annotated[str, typer.Option("--coin", help="Coin, e.g. USDT")]


def _check_deposit(coin: str, chain: str | None, amount: str) -> None:
    """Refuse a bad coin, chain or amount before anything is queued."""
    try:
        info = default_catalog().coin(coin)
        if chain is not None:
            info.chain(chain)
    except SealbookError as exc:
        fail(f"{exc.code} {exc.msg}")
    try:
        atoms = parse_atoms(amount)
    except MoneyError as exc:
        fail(f"cannot read amount {amount!r}: {exc}")
    if atoms <= 0:
        fail(f"amount must be positive, not {amount!r}")


def deposit(
    user: UserOpt,
    coin: CoinOpt,
    amount: Annotated[str, typer.Option("--amount", help="How much, e.g. 1000 or 0.5")],
    chain: Annotated[
        str | None, typer.Option("--chain", help="e.g. TRC20 [default: the coin's first]")
    ] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Credit a deposit to a user. A running server applies it; otherwise it is applied here."""
    coin = coin.strip().upper()
    _check_deposit(coin, chain, amount)
    with context(home) as ctx:
        user_id = AccountService(ctx).get(user).id
        payload = {"user_id": user_id, "coin": coin, "chain": chain, "amount": amount.strip()}
        result = submit_command(
            ctx.engine, ctx.settings.home, default_catalog(), "deposit", payload, ctx.clock.now_ms()
        )
    emit(
        {"user": user, **result},
        as_json,
        lambda d: (
            f"deposited {d['amount']} {d['coin']} ({d['chain']}) to {d['user']}: "
            f"deposit {d['depositId']}, tx {d['txId']}"
        ),
    )


def _booked(a: BookedAddress) -> dict[str, Any]:
    return {
        "id": a.id,
        "coin": a.coin,
        "chain": a.chain,
        "address": a.address,
        "tag": a.tag,
        "label": a.label,
        "createdTime": a.created_ms,
    }


def _render_list(data: list[dict[str, Any]]) -> str:
    if not data:
        return "no booked addresses"
    lines = [f"{'ID':<6}{'COIN':<8}{'CHAIN':<12}{'ADDRESS':<46}{'TAG':<12}{'LABEL':<16}ADDED"]
    for d in data:
        lines.append(
            f"{d['id']:<6}{d['coin']:<8}{d['chain']:<12}{d['address']:<46}"
            f"{d['tag'] or '-':<12}{d['label'] or '-':<16}{fmt_ms(d['createdTime'])}"
        )
    return "\n".join(lines)


@address_app.command("add")
def address_add(
    user: UserOpt,
    coin: CoinOpt,
    chain: Annotated[str, typer.Option("--chain", help="e.g. TRC20")],
    address: Annotated[str, typer.Option("--address")],
    totp: Annotated[str, typer.Option("--totp", help="A current code from the authenticator")],
    tag: Annotated[str, typer.Option("--tag", help="Memo/tag, for chains that need one")] = "",
    label: Annotated[str, typer.Option("--label")] = "",
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Book a withdrawal address (needs a TOTP code)."""
    with context(home) as ctx:
        service = AddressService(ctx, AccountService(ctx), default_catalog())
        booked = service.add(user, coin, chain, address, totp, tag=tag, label=label)
    emit(
        _booked(booked),
        as_json,
        lambda d: f"booked address {d['id']}: {d['coin']} on {d['chain']} to {d['address']}",
    )


@address_app.command("list")
def address_list(user: UserOpt, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """List a user's booked withdrawal addresses."""
    with context(home) as ctx:
        found = AddressService(ctx, AccountService(ctx), default_catalog()).list(user)
    emit([_booked(a) for a in found], as_json, _render_list)


@address_app.command("remove")
def address_remove(
    address_id: Annotated[int, typer.Argument(metavar="ID", help="From `address list`")],
    user: UserOpt,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove a booked address (no code needed: it only takes a right away)."""
    with context(home) as ctx:
        AddressService(ctx, AccountService(ctx), default_catalog()).remove(user, address_id)
    emit({"id": address_id, "removed": True}, as_json, lambda d: f"removed address {d['id']}")
