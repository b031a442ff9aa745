"""API keys: list, create, edit, rotate, revoke, and the page that shows a secret once.

URLs name keys by their row id, and every lookup goes through the signed-in person's own
list (and the service's ``user_id`` check behind it): another person's id is a 404 and
changes nothing. Creating and rotating put the new secret in the session's one-time slot
and redirect to ``/keys/created``, which takes it out as it renders; a reload finds the
slot empty.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sealbook.console.forms import (
    EXPIRY_CHOICES,
    PERMISSION_CHOICES,
    TYPE_CHOICES,
    read_ips,
    read_key_form,
    read_permissions,
)
from sealbook.console.sessions import Reveal, Session
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
from sealbook.errors import SealbookError
from sealbook.exchange.apikeys import CreatedKey
from sealbook.keys.format import elide
from sealbook.keys.model import ApiKeyRecord
from sealbook.keys.permissions import describe

__all__ = ["routes"]

KEY_KIND = "key"
MAX_REASON = 200


def _view(request: Request, record: ApiKeyRecord) -> dict[str, Any]:
    settings = console_of(request).runtime.ctx.settings
    now = console_of(request).runtime.ctx.clock.now_ms()
    lapse_days = settings.unbound_key_lapse_days
    return {
        "id": record.id,
        "label": record.label,
        "key": elide(record.api_key),
        "type": record.key_type.value,
        "permissions": describe(record.permissions),
        "effective": describe(record.effective_permissions(now, lapse_days)),
        "ips": list(record.ips),
        "created": record.created_ms,
        "expires": record.expires_ms,
        "lapses": record.lapse_ms(lapse_days),
        "last_used": record.last_used_ms,
        "last_ip": record.last_used_ip,
        "status": record.status(now, lapse_days).value,
        "why": record.why(now, lapse_days),
        "live": record.is_live(now),
        "rotatable": record.is_live(now) and record.dies_ms is None,
    }


async def _owned(request: Request, session: Session) -> ApiKeyRecord:
    """The key named by the URL's id, if it is the signed-in person's."""
    key_id: int = request.path_params["key_id"]
    keys = await blocking(console_of(request).runtime.keys.list, session.user_name)
    for record in keys:
        if record.id == key_id:
            return record
    raise PageNotFound()


def _form_values(error: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "error": error,
        "perm_choices": PERMISSION_CHOICES,
        "type_choices": TYPE_CHOICES,
        "expiry_choices": EXPIRY_CHOICES,
        **extra,
    }


async def list_page(request: Request) -> Response:
    session = require_session(request)
    keys = await blocking(console_of(request).runtime.keys.list, session.user_name)
    rows = [_view(request, k) for k in reversed(keys)]
    return render(request, "keys.html", session=session, keys=rows)


async def new_page(request: Request) -> Response:
    session = require_session(request)
    return render(
        request, "key_new.html", session=session, **_form_values(entered=_entered(FormData()))
    )


def _entered(form: FormData) -> dict[str, Any]:
    """What the person typed, to fill the form again after an error (never the
    passphrase or the code)."""
    return {
        "label": echo_text(form, "label", limit=256),
        "type": echo_text(form, "type", limit=16),
        "perms": [v for v in form.getlist("perm") if isinstance(v, str)],
        "ips": echo_text(form, "ips", limit=4096),
        "public_key": echo_text(form, "public_key", limit=16_384),
        "expires": echo_text(form, "expires", limit=8),
    }


def _reveal(session: Session, created: CreatedKey, *, rotated_from: str | None = None) -> None:
    session.reveal = Reveal(
        KEY_KIND,
        {
            "api_key": created.record.api_key,
            "secret": created.secret,
            "label": created.record.label,
            "permissions": describe(created.record.permissions),
            "ips": list(created.record.ips),
            "rotated_from": rotated_from,
        },
    )


async def create(request: Request) -> Response:
    session = require_session(request)
    form = await read_form(request, session)
    runtime = console_of(request).runtime
    try:
        created = await blocking(
            runtime.keys.create,
            session.user_name,
            read_key_form(form),
            field_text(form, "passphrase", limit=64),
            field_text(form, "code", limit=16).strip(),
            ip=client_ip(request),
        )
    except SealbookError as exc:
        values = _form_values(error_text(exc), entered=_entered(form))
        return render(request, "key_new.html", status_code=400, session=session, **values)
    _reveal(session, created)
    return redirect(request, "/keys/created")


async def created_page(request: Request) -> Response:
    session = require_session(request)
    reveal = session.take_reveal(KEY_KIND)
    return render(
        request, "key_created.html", session=session, shown=reveal.values if reveal else None
    )


async def detail_page(request: Request) -> Response:
    session = require_session(request)
    record = await _owned(request, session)
    return _detail(request, session, record)


def _detail(
    request: Request,
    session: Session,
    record: ApiKeyRecord,
    *,
    error: str | None = None,
    status_code: int = 200,
    edit: dict[str, Any] | None = None,
) -> Response:
    """``edit``: what was typed into the edit form, to show again with its error."""
    return render(
        request,
        "key_detail.html",
        status_code=status_code,
        session=session,
        k=_view(request, record),
        edit=edit,
        **_form_values(error),
    )


async def edit(request: Request) -> Response:
    session = require_session(request)
    form = await read_form(request, session)
    record = await _owned(request, session)
    keys = console_of(request).runtime.keys
    try:
        await blocking(
            keys.update,
            record.api_key,
            field_text(form, "code", limit=16).strip(),
            permissions=read_permissions(form),
            ips=read_ips(form),
            label=field_text(form, "label", limit=256),
            ip=client_ip(request),
            user_id=session.user_id,
        )
    except SealbookError as exc:
        typed = _entered(form)
        edit = {"label": typed["label"], "perms": typed["perms"], "ips": typed["ips"]}
        return _detail(request, session, record, error=error_text(exc), status_code=400, edit=edit)
    session.flash.append(f"Key “{record.label}” updated.")
    return redirect(request, f"/keys/{record.id}")


async def rotate(request: Request) -> Response:
    session = require_session(request)
    form = await read_form(request, session)
    record = await _owned(request, session)
    keys = console_of(request).runtime.keys
    try:
        created = await blocking(
            keys.rotate,
            record.api_key,
            field_text(form, "passphrase", limit=64),
            field_text(form, "code", limit=16).strip(),
            public_key=field_text(form, "public_key", limit=16_384).strip() or None,
            ip=client_ip(request),
            user_id=session.user_id,
        )
    except SealbookError as exc:
        return _detail(request, session, record, error=error_text(exc), status_code=400)
    _reveal(session, created, rotated_from=elide(record.api_key))
    return redirect(request, "/keys/created")


async def revoke(request: Request) -> Response:
    """Revoking takes rights away, yet still needs a code: a stolen session must not be
    able to knock out someone's trading keys either."""
    session = require_session(request)
    form = await read_form(request, session)
    record = await _owned(request, session)
    runtime = console_of(request).runtime
    ip = client_ip(request)
    try:
        reason = field_text(form, "reason", limit=MAX_REASON).strip() or "revoked in the console"
        await blocking(
            runtime.accounts.verify_code,
            session.user_name,
            field_text(form, "code", limit=16).strip(),
            ip=ip,
        )
        await blocking(runtime.keys.revoke, record.api_key, reason, ip=ip, user_id=session.user_id)
    except SealbookError as exc:
        return _detail(request, session, record, error=error_text(exc), status_code=400)
    session.flash.append(f"Key “{record.label}” revoked; it stops working on its next request.")
    return redirect(request, "/keys")


routes = [
    Route("/keys", list_page, methods=["GET"]),
    Route("/keys/new", new_page, methods=["GET"]),
    Route("/keys/new", create, methods=["POST"]),
    Route("/keys/created", created_page, methods=["GET"]),
    Route("/keys/{key_id:int}", detail_page, methods=["GET"]),
    Route("/keys/{key_id:int}/edit", edit, methods=["POST"]),
    Route("/keys/{key_id:int}/rotate", rotate, methods=["POST"]),
    Route("/keys/{key_id:int}/revoke", revoke, methods=["POST"]),
]
