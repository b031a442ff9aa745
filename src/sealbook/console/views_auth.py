"""Sign up, sign in (throttled per IP and per name, audited by the service), sign out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sealbook.console.web import (
    PRE_COOKIE,
    SESSION_COOKIE,
    blocking,
    clear_cookie,
    client_ip,
    console_of,
    echo_text,
    error_text,
    field_text,
    optional_session,
    read_form,
    redirect,
    render,
    require_session,
    set_cookie,
)
from sealbook.errors import SealbookError

__all__ = ["routes"]

MAX_PASSWORD = 1024  # Argon2 takes any length; a megabyte of it is only a way to burn CPU


def _start_session(request: Request, user_id: int, name: str, to: str) -> Response:
    """A fresh session token on every sign-in (no fixation), the pre-session cookie gone."""
    token, _ = console_of(request).sessions.open(user_id, name)
    response = redirect(request, to)
    set_cookie(request, response, SESSION_COOKIE, token)
    clear_cookie(request, response, PRE_COOKIE)
    return response


async def signin_page(request: Request) -> Response:
    if optional_session(request) is not None:
        return redirect(request, "/")
    return render(request, "signin.html", name="", error=None)


async def signin(request: Request) -> Response:
    console = console_of(request)
    form = await read_form(request, None)
    name = echo_text(form, "name", limit=64).strip()
    try:
        password = field_text(form, "password", limit=MAX_PASSWORD)
        field_text(form, "name", limit=64)
    except SealbookError as exc:
        return render(request, "signin.html", status_code=400, name=name, error=error_text(exc))
    ip = client_ip(request)
    wait_s = console.throttle.retry_after_s(name, ip)
    if wait_s:
        await blocking(console.runtime.accounts.signin_throttled, name, ip=ip)
        minutes = max(1, round(wait_s / 60))
        error = f"Too many failed sign-ins. Try again in about {minutes} minute(s)."
        return render(request, "signin.html", status_code=429, name=name, error=error)
    user = await blocking(console.runtime.accounts.authenticate, name, password, ip=ip)
    if user is None:
        console.throttle.failed(name, ip)
        error = "Wrong name or password."
        return render(request, "signin.html", status_code=400, name=name, error=error)
    console.throttle.succeeded(name)
    return _start_session(request, user.id, user.name, "/" if user.totp_confirmed else "/security")


async def signup_page(request: Request) -> Response:
    if optional_session(request) is not None:
        return redirect(request, "/")
    return render(request, "signup.html", name="", error=None)


async def signup(request: Request) -> Response:
    console = console_of(request)
    form = await read_form(request, None)
    name = echo_text(form, "name", limit=64).strip()
    try:
        password = field_text(form, "password", limit=MAX_PASSWORD)
        repeat = field_text(form, "password2", limit=MAX_PASSWORD)
        field_text(form, "name", limit=64)
    except SealbookError as exc:
        return render(request, "signup.html", status_code=400, name=name, error=error_text(exc))
    ip = client_ip(request)
    # Failed sign-ups share the sign-in throttle per address (each costs an Argon2 hash
    # too); successful ones are limited per address on their own.
    if console.throttle.retry_after_s(None, ip) or console.signups.retry_after_s(None, ip):
        error = "Too many attempts from your address. Try again later."
        return render(request, "signup.html", status_code=429, name=name, error=error)
    if password != repeat:
        error = "The two passwords differ."
        return render(request, "signup.html", status_code=400, name=name, error=error)
    try:
        user_id = await blocking(console.runtime.accounts.create_user, name, password, ip=ip)
    except SealbookError as exc:
        console.throttle.failed(None, ip)
        return render(request, "signup.html", status_code=400, name=name, error=error_text(exc))
    console.signups.counted(None, ip)
    return _start_session(request, user_id, name, "/security")


async def signout(request: Request) -> Response:
    session = require_session(request)
    await read_form(request, session)
    console_of(request).sessions.close(request.cookies.get(SESSION_COOKIE))
    response = redirect(request, "/signin")
    clear_cookie(request, response, SESSION_COOKIE)
    return response


routes = [
    Route("/signin", signin_page, methods=["GET"]),
    Route("/signin", signin, methods=["POST"]),
    Route("/signup", signup_page, methods=["GET"]),
    Route("/signup", signup, methods=["POST"]),
    Route("/signout", signout, methods=["POST"]),
]
