"""What every console handler shares: the console's state, the signed-in session, forms
checked against their CSRF token, page rendering and redirects.

Handlers are thin: read a form, call one service (in a worker thread, since the
services block on the database and Argon2), then redirect (POST-redirect-GET) or render.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import jinja2
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from sealbook.console.sessions import Session, SessionStore, same_token
from sealbook.console.throttle import SIGNUP_WINDOW_S, SIGNUPS_PER_IP, SigninThrottle
from sealbook.errors import ParamInvalid, SealbookError, SecondFactorRequired, StepUpError
from sealbook.exchange.addresses import AddressService
from sealbook.keys.allowlist import ProxyPolicy

if TYPE_CHECKING:
    from sealbook.api.app import Runtime

__all__ = [
    "PRE_COOKIE",
    "SESSION_COOKIE",
    "Console",
    "CsrfRejected",
    "PageNotFound",
    "SignInRequired",
    "base",
    "blocking",
    "clear_cookie",
    "client_ip",
    "console_of",
    "echo_text",
    "error_text",
    "field_text",
    "optional_session",
    "read_form",
    "redirect",
    "render",
    "require_session",
    "set_cookie",
]

T = TypeVar("T")

SESSION_COOKIE = "sb_session"
# Before sign-in there is no session: the sign-in and sign-up forms carry a token that
# must equal this cookie's value (double submit), so another site cannot post them.
PRE_COOKIE = "sb_presession"
TEMPLATES = Path(__file__).parent / "templates"
MAX_FIELDS = 40


class SignInRequired(Exception):
    """No live session: the handler answers with a redirect to the sign-in page."""


class CsrfRejected(Exception):
    """A POST without the right CSRF token: refused before anything is read or changed."""


class PageNotFound(Exception):
    """Not there, or not yours: the two look the same."""


def _fmt_ms(ms: int | None) -> str:
    if ms is None:
        return "—"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _fmt_ms
    return env


@dataclass(slots=True)
class Console:
    """The console's state, built once per server."""

    runtime: Runtime
    demo: bool
    sessions: SessionStore
    throttle: SigninThrottle
    signups: SigninThrottle  # accounts opened per address, successful ones included
    proxies: ProxyPolicy
    addresses: AddressService
    templates: jinja2.Environment = field(default_factory=_environment)

    @classmethod
    def build(cls, runtime: Runtime, *, demo: bool) -> Console:
        settings = runtime.ctx.settings
        return cls(
            runtime=runtime,
            demo=demo,
            sessions=SessionStore(
                runtime.ctx.clock,
                idle_s=settings.console_idle_s,
                max_s=settings.console_session_max_s,
            ),
            throttle=SigninThrottle(runtime.ctx.clock),
            signups=SigninThrottle(
                runtime.ctx.clock, ip_limit=SIGNUPS_PER_IP, window_s=SIGNUP_WINDOW_S
            ),
            proxies=ProxyPolicy(settings.trusted_proxies),
            addresses=AddressService(runtime.ctx, runtime.accounts, runtime.catalog),
        )


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


async def blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking service call off the event loop (the exchange core lives there)."""
    return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))


def client_ip(request: Request) -> str:
    """The socket peer, or the client a trusted proxy names (the API's rule)."""
    peer = request.client.host if request.client else "0.0.0.0"  # noqa: S104 - an address
    forwarded = request.headers.get("forwarded")
    xff = request.headers.get("x-forwarded-for")
    if forwarded or xff:
        return console_of(request).proxies.client_ip(peer, forwarded, xff)
    return peer


def is_https(request: Request) -> bool:
    """Served over TLS: by this server itself, or by a trusted proxy that says so in
    ``X-Forwarded-Proto`` (``SEALBOOK_TRUSTED_PROXIES``; from anyone else it proves nothing)."""
    if request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else ""
    proto = request.headers.get("x-forwarded-proto", "")
    last = proto.rsplit(",", 1)[-1].strip().lower()
    return last == "https" and console_of(request).proxies.trusts(peer)


def base(request: Request) -> str:
    """Where the console is mounted (``/console``)."""
    root: str = request.scope.get("root_path", "")
    return root


def redirect(request: Request, path: str) -> RedirectResponse:
    """303 See Other: after a POST the browser GETs the next page, so reloading it never
    posts the form again."""
    return RedirectResponse(base(request) + path, status_code=303)


def require_session(request: Request) -> Session:
    session = console_of(request).sessions.get(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise SignInRequired()
    return session


def optional_session(request: Request) -> Session | None:
    return console_of(request).sessions.get(request.cookies.get(SESSION_COOKIE))


async def read_form(request: Request, session: Session | None) -> FormData:
    """The posted form, once its CSRF token matched the session's (or, before sign-in,
    the pre-session cookie). Constant-time compare; no token, no form."""
    form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    given = form.get("csrf")
    given_text = given if isinstance(given, str) else None
    expected = session.csrf if session is not None else request.cookies.get(PRE_COOKIE)
    if not expected or not same_token(expected, given_text):
        raise CsrfRejected()
    return form


def field_text(form: FormData, name: str, *, limit: int = 4096) -> str:
    """A posted text field ("" when absent). Longer than ``limit`` is refused, never cut:
    a truncated allowlist or password would be a different one."""
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    if len(value) > limit:
        raise ParamInvalid(name, f"at most {limit} characters")
    return value


def echo_text(form: FormData, name: str, *, limit: int = 4096) -> str:
    """A posted field to fill a form in again after an error (cut to ``limit``)."""
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def error_text(error: SealbookError) -> str:
    """What the person reads. Service messages never carry secrets (errors.py)."""
    if isinstance(error, StepUpError):
        return f"The authenticator code was refused: {error.msg}."
    if isinstance(error, SecondFactorRequired):
        return "Set up two-factor authentication first (on the Security page)."
    return f"{error.msg}."


def render(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    session: Session | None = None,
    **values: Any,
) -> HTMLResponse:
    console = console_of(request)
    pre_token: str | None = None
    if session is None:
        pre_token = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(32)
    page = console.templates.get_template(template).render(
        base=base(request),
        session=session,
        csrf=session.csrf if session is not None else pre_token,
        flash=session.take_flash() if session is not None else [],
        demo=console.demo,
        **values,
    )
    response = HTMLResponse(page, status_code=status_code)
    if pre_token is not None and request.cookies.get(PRE_COOKIE) != pre_token:
        set_cookie(request, response, PRE_COOKIE, pre_token)
    return response


def set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        path=base(request) or "/",
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(
        name,
        path=base(request) or "/",
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )
