"""Two-factor authentication: enrol (QR code drawn by the server, seed shown once),
confirm with a code, and turn off (needs a code; revokes every key that can move money,
and the page says so first)."""

from __future__ import annotations

import segno
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sealbook.console.sessions import Reveal, Session
from sealbook.console.web import (
    blocking,
    client_ip,
    console_of,
    error_text,
    field_text,
    read_form,
    redirect,
    render,
    require_session,
)
from sealbook.errors import SealbookError
from sealbook.keys.format import elide
from sealbook.keys.model import ApiKeyRecord
from sealbook.keys.permissions import describe
from sealbook.store.users import UserRecord

__all__ = ["qr_data_uri", "routes"]

TOTP_KIND = "totp"


def qr_data_uri(uri: str) -> str:
    """An SVG QR code as a data: URI (the CSP allows images from data:, nothing inline)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


async def _user(request: Request, session: Session) -> UserRecord:
    return await blocking(console_of(request).runtime.accounts.get, session.user_name)


async def _keys_to_revoke(request: Request, session: Session) -> list[ApiKeyRecord]:
    accounts = console_of(request).runtime.accounts
    return await blocking(accounts.keys_lost_without_totp, session.user_name)


async def security_page(request: Request) -> Response:
    session = require_session(request)
    user = await _user(request, session)
    return render(
        request,
        "security.html",
        session=session,
        confirmed=user.totp_confirmed,
        pending=user.totp_sealed is not None and not user.totp_confirmed,
    )


async def enroll(request: Request) -> Response:
    session = require_session(request)
    await read_form(request, session)
    accounts = console_of(request).runtime.accounts
    try:
        enrolment = await blocking(accounts.totp_enroll, session.user_name, ip=client_ip(request))
    except SealbookError as exc:
        session.flash.append(error_text(exc))
        return redirect(request, "/security")
    session.reveal = Reveal(TOTP_KIND, {"secret": enrolment.secret, "uri": enrolment.uri})
    return redirect(request, "/security/totp")


async def setup_page(request: Request) -> Response:
    """Shows the seed the one time the slot holds it; afterwards only the code form."""
    session = require_session(request)
    reveal = session.take_reveal(TOTP_KIND)
    values = reveal.values if reveal is not None else None
    return render(
        request,
        "totp_setup.html",
        session=session,
        secret=values["secret"] if values else None,
        qr=qr_data_uri(values["uri"]) if values else None,
        error=None,
    )


async def confirm(request: Request) -> Response:
    session = require_session(request)
    form = await read_form(request, session)
    accounts = console_of(request).runtime.accounts
    try:
        code = field_text(form, "code", limit=16).strip()
        await blocking(accounts.totp_confirm, session.user_name, code, ip=client_ip(request))
    except SealbookError as exc:
        return render(
            request,
            "totp_setup.html",
            status_code=400,
            session=session,
            secret=None,
            qr=None,
            error=error_text(exc),
        )
    session.flash.append("Two-factor authentication is on.")
    return redirect(request, "/security")


async def disable_page(request: Request) -> Response:
    session = require_session(request)
    doomed = await _keys_to_revoke(request, session)
    return render(request, "totp_disable.html", session=session, doomed=_rows(doomed), error=None)


async def disable(request: Request) -> Response:
    session = require_session(request)
    form = await read_form(request, session)
    accounts = console_of(request).runtime.accounts
    try:
        code = field_text(form, "code", limit=16).strip()
        revoked = await blocking(
            accounts.totp_disable, session.user_name, code, ip=client_ip(request)
        )
    except SealbookError as exc:
        doomed = await _keys_to_revoke(request, session)
        return render(
            request,
            "totp_disable.html",
            status_code=400,
            session=session,
            doomed=_rows(doomed),
            error=error_text(exc),
        )
    session.flash.append(
        f"Two-factor authentication is off; {len(revoked)} key(s) that could trade, transfer "
        "or withdraw were revoked."
    )
    return redirect(request, "/security")


def _rows(keys: list[ApiKeyRecord]) -> list[dict[str, str]]:
    return [
        {"label": k.label, "key": elide(k.api_key), "perms": ", ".join(describe(k.permissions))}
        for k in keys
    ]


routes = [
    Route("/security", security_page, methods=["GET"]),
    Route("/security/totp/enroll", enroll, methods=["POST"]),
    Route("/security/totp", setup_page, methods=["GET"]),
    Route("/security/totp/confirm", confirm, methods=["POST"]),
    Route("/security/totp/disable", disable_page, methods=["GET"]),
    Route("/security/totp/disable", disable, methods=["POST"]),
]
