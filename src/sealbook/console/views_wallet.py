"""The overview (balances, open orders, recent fills, and the demo faucet), the
withdrawal address book, and the person's own activity from the audit chain.

Numbers are rendered by the API's own row builders (:mod:`sealbook.api.render`), so the
console shows exactly the decimal strings ccxt receives; no float is involved.
"""

from __future__ import annotations

import functools
import json

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sealbook.api.render import asset_row, fill_row, unfilled_row
from sealbook.console.sessions import Session
from sealbook.console.web import (
    PageNotFound,
    blocking,
    client_ip,
    console_of,
    echo_text,
    error_text,
    field_text,
    read_form,
    redirect,
    render,
    require_session,
)
from sealbook.errors import NotFound, ParamInvalid, SealbookError
from sealbook.exchange.core import ExchangeCore
from sealbook.exchange.orders import Deposit
from sealbook.money import parse_atoms
from sealbook.store import audit
from sealbook.store.history import Page, my_fills

__all__ = ["FAUCET", "routes"]

# What one press of the demo faucet deposits, per coin.
FAUCET = {"USDT": "10000", "BTC": "0.1", "ETH": "1", "BGB": "100"}
RECENT_FILLS = 20
ACTIVITY_LIMIT = 100


async def overview(request: Request) -> Response:
    session = require_session(request)
    runtime = console_of(request).runtime
    user_id = session.user_id
    await runtime.exchange.barrier()  # show nothing that is not yet committed
    core = runtime.exchange.core
    now = runtime.ctx.clock.now_ms()
    balances = [
        asset_row(coin, available, frozen, now)
        for coin, (available, frozen) in core.ledger.balances(user_id).items()
        if available or frozen
    ]
    orders = sorted(core.open_orders(user_id), key=lambda o: o.order_id, reverse=True)
    open_rows = [unfilled_row(runtime.catalog.symbol(o.symbol), o) for o in orders]
    fills = await blocking(my_fills, runtime.ctx.engine, Page(user_id, RECENT_FILLS))
    fill_rows = [fill_row(runtime.catalog.symbol(f.symbol), f) for f in fills]
    return render(
        request,
        "overview.html",
        session=session,
        balances=balances,
        orders=open_rows,
        fills=fill_rows,
        faucet=FAUCET,
    )


def _faucet_deposit(core: ExchangeCore, *, user_id: int, coin: str, now_ms: int) -> Deposit:
    return core.deposit(user_id, coin, None, parse_atoms(FAUCET[coin]), "faucet", now_ms)


async def faucet(request: Request) -> Response:
    """Demo mode only: test funds, through the exchange's single writer like any deposit."""
    session = require_session(request)
    form = await read_form(request, session)
    console = console_of(request)
    if not console.demo:
        raise PageNotFound()
    coin = echo_text(form, "coin", limit=16)
    if coin not in FAUCET:
        session.flash.append(error_text(ParamInvalid("coin", "choose one of the listed coins")))
        return redirect(request, "/")
    exchange = console.runtime.exchange
    now = console.runtime.ctx.clock.now_ms()
    try:
        await exchange.run(
            functools.partial(_faucet_deposit, user_id=session.user_id, coin=coin, now_ms=now)
        )
    except SealbookError as exc:
        session.flash.append(error_text(exc))
        return redirect(request, "/")
    session.flash.append(f"The faucet deposited {FAUCET[coin]} {coin}.")
    return redirect(request, "/")


async def addresses_page(request: Request) -> Response:
    session = require_session(request)
    return await _addresses(request, session, entered=_entered(FormData()), error=None)


def _entered(form: FormData) -> dict[str, str]:
    return {
        name: echo_text(form, name, limit=200).strip()
        for name in ("coin", "chain", "address", "tag", "label")
    }


async def _addresses(
    request: Request,
    session: Session,
    *,
    entered: dict[str, str],
    error: str | None,
    status_code: int = 200,
) -> Response:
    book = console_of(request).addresses
    rows = await blocking(book.list, session.user_name)
    return render(
        request,
        "addresses.html",
        status_code=status_code,
        session=session,
        addresses=rows,
        entered=entered,
        error=error,
    )


async def add_address(request: Request) -> Response:
    session = require_session(request)
    form = await read_form(request, session)
    console = console_of(request)
    entered = _entered(form)
    try:
        fields = {name: field_text(form, name, limit=200).strip() for name in entered}
        coin = console.runtime.catalog.coin(fields["coin"].upper() or "-")
        chain = fields["chain"] or coin.chains[0].chain
        await blocking(
            console.addresses.add,
            session.user_name,
            coin.coin,
            chain,
            fields["address"],
            field_text(form, "code", limit=16).strip(),
            tag=fields["tag"],
            label=fields["label"],
            ip=client_ip(request),
        )
    except SealbookError as exc:
        return await _addresses(
            request, session, entered=entered, error=error_text(exc), status_code=400
        )
    session.flash.append(f"Address added to your {coin.coin} withdrawal book.")
    return redirect(request, "/addresses")


async def remove_address(request: Request) -> Response:
    session = require_session(request)
    await read_form(request, session)
    address_id: int = request.path_params["address_id"]
    book = console_of(request).addresses
    try:
        await blocking(book.remove, session.user_name, address_id, ip=client_ip(request))
    except NotFound:
        raise PageNotFound() from None  # not there, or someone else's
    session.flash.append("Address removed.")
    return redirect(request, "/addresses")


async def activity_page(request: Request) -> Response:
    session = require_session(request)
    engine = console_of(request).runtime.ctx.engine
    entries = await blocking(audit.entries_for_user, engine, session.user_id, ACTIVITY_LIMIT)
    rows = [
        {
            "when": e.ts_ms,
            "kind": e.kind,
            "ip": e.ip or "",
            "key": e.key_prefix or "",
            "detail": _detail_text(e.detail),
        }
        for e in entries
    ]
    return render(request, "activity.html", session=session, entries=rows)


def _detail_text(detail: str) -> str:
    """``{"code": "40009", "msg": "sign signature error"}`` as ``code: 40009; msg: …``."""
    try:
        data = json.loads(detail) if detail else {}
    except ValueError:
        return detail
    if not isinstance(data, dict):
        return str(data)
    return "; ".join(f"{k}: {_plain(v)}" for k, v in data.items())


def _plain(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    if isinstance(value, dict):
        return "{" + "; ".join(f"{k}: {_plain(v)}" for k, v in value.items()) + "}"
    return str(value)


routes = [
    Route("/", overview, methods=["GET"]),
    Route("/faucet", faucet, methods=["POST"]),
    Route("/addresses", addresses_page, methods=["GET"]),
    Route("/addresses/add", add_address, methods=["POST"]),
    Route("/addresses/{address_id:int}/remove", remove_address, methods=["POST"]),
    Route("/activity", activity_page, methods=["GET"]),
]
