"""The console as an ASGI app, mounted at ``/console`` by :func:`sealbook.api.app.create_app`.

Server-rendered pages over the same services as the CLI; no JavaScript is needed for any
flow (the one script only adds a copy button). The security headers wrap everything,
including static files and error pages.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from sealbook.console import views_auth, views_keys, views_security, views_wallet
from sealbook.console.security import SecurityHeaders
from sealbook.console.web import (
    Console,
    CsrfRejected,
    PageNotFound,
    SignInRequired,
    optional_session,
    redirect,
    render,
)

if TYPE_CHECKING:
    from sealbook.api.app import Runtime

__all__ = ["create_console"]

log = logging.getLogger("sealbook.console")
STATIC = Path(__file__).parent / "static"


async def _sign_in_required(request: Request, _exc: Exception) -> Response:
    return redirect(request, "/signin")


async def _csrf_rejected(request: Request, _exc: Exception) -> Response:
    return render(
        request,
        "error.html",
        status_code=403,
        session=optional_session(request),
        title="Form refused",
        message="This form was not sent from this console (its security token is missing "
        "or wrong), so nothing was changed. Go back, reload the page and try again.",
    )


async def _not_found(request: Request, _exc: Exception) -> Response:
    return render(
        request,
        "error.html",
        status_code=404,
        session=optional_session(request),
        title="Not found",
        message="There is no such page here, or it belongs to someone else.",
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        return await _not_found(request, exc)
    return render(
        request,
        "error.html",
        status_code=status,
        session=optional_session(request),
        title="Request refused",
        message="The request could not be handled as sent.",
    )


async def _crash(request: Request, exc: Exception) -> Response:
    # The type only: an exception's text could quote a form field.
    log.error("console page %s failed: %s", request.url.path, type(exc).__name__)
    return render(
        request,
        "error.html",
        status_code=500,
        session=None,
        title="Something went wrong",
        message="The server could not finish this request. Nothing you sent was shown or "
        "logged; please try again.",
    )


def create_console(runtime: Runtime, *, demo: bool = False) -> ASGIApp:
    routes = [
        *views_auth.routes,
        *views_security.routes,
        *views_keys.routes,
        *views_wallet.routes,
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            SignInRequired: _sign_in_required,
            CsrfRejected: _csrf_rejected,
            PageNotFound: _not_found,
            HTTPException: _http_error,
            Exception: _crash,
        },
    )
    app.state.console = Console.build(runtime, demo=demo)
    return SecurityHeaders(app)
