"""The key layer as a pure ASGI middleware: authenticate, authorise, throttle.

For every ``/api/`` request the gate finds the route's stamp (public, or the permission it
needs), applies the per-IP total and the per-endpoint limit, and for private routes reads
the raw body and verifies the signature over the exact bytes received. Then either it
calls the route's endpoint itself (Sealbook's own :mod:`~sealbook.api.endpoints`), or it
hands the request to the application behind it with the verified
:class:`~sealbook.keys.verifier.Principal` in ``scope["state"]["principal"]`` (any ASGI
app whose routes are stamped with a ``BitgetRouter``; see the README). Anything else
(``/docs``, ``/console``) passes through untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sealbook.api.endpoints import BitgetRequest, Endpoints, Handler
from sealbook.api.envelope import error_parts, ok_body
from sealbook.api.routing import PUBLIC, access_of
from sealbook.clock import Clock
from sealbook.errors import (
    ParamError,
    RateLimited,
    RouteNotFound,
    SealbookError,
    ServiceUnavailable,
)
from sealbook.keys.allowlist import ProxyPolicy
from sealbook.keys.permissions import Permission
from sealbook.keys.verifier import Principal, Verifier
from sealbook.ratelimit import RateLimiter, Rule, rule_for

__all__ = ["Gate", "RouteSpec", "route_table"]

log = logging.getLogger("sealbook.api")

MAX_BODY = 1 << 20
REMAIN_HEADER = b"x-mbx-used-remain-limit"
JSON = b"application/json"


class _Served:
    """The response of an endpoint the gate called itself."""

    __slots__ = ("body", "remain")

    def __init__(self, body: bytes, remain: int) -> None:
        self.body = body
        self.remain = remain


@dataclass(frozen=True, slots=True)
class RouteSpec:
    need: Permission | None  # None: public
    rule: Rule
    methods: frozenset[str]
    # Endpoints the gate calls itself, by method; other methods go to the app behind it.
    handlers: Mapping[str, Handler] = field(default_factory=dict)


def _flatten(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, including those of included routers (FastAPI keeps them nested)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _flatten(inner.routes)
        else:
            yield route


def route_table(
    routes: Iterable[BaseRoute] = (),
    endpoints: Iterable[Endpoints] = (),
    *,
    prefix: str = "/api/",
) -> dict[str, RouteSpec]:
    """Build the gate's table from an app's routes and from endpoint groups.

    An app route under ``prefix`` without a permission stamp is an error, and so is a path
    stamped twice with different permissions.
    """
    table: dict[str, RouteSpec] = {}
    for group in endpoints:
        need = None if group.access == PUBLIC else Permission(group.access)
        for ep in group.routes:
            old = table.get(ep.path)
            if old is not None and old.need != need:
                raise RuntimeError(f"route {ep.path} is stamped twice with different permissions")
            handlers = {**(old.handlers if old else {}), ep.method: ep.handler}
            table[ep.path] = RouteSpec(
                need, rule_for(ep.path, private=need is not None), frozenset(handlers), handlers
            )
    for route in _flatten(routes):
        path = getattr(route, "path", "")
        if not path.startswith(prefix):
            continue
        access = access_of(route)
        if access is None:
            raise RuntimeError(f"route {path} has no permission stamp: add it to a BitgetRouter")
        need = None if access == PUBLIC else Permission(access)
        methods = frozenset(getattr(route, "methods", None) or {"GET"})
        old = table.get(path)
        if old is not None:
            if old.need != need:
                raise RuntimeError(f"route {path} is stamped twice with different permissions")
            methods |= old.methods
        kept: Mapping[str, Handler] = old.handlers if old else {}
        table[path] = RouteSpec(need, rule_for(path, private=need is not None), methods, kept)
    return table


async def _read_body(receive: Receive) -> bytes:
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        return body
    chunks = [body]
    size = len(body)
    while message.get("more_body", False):
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise ParamError("request body larger than 1 MiB")
        chunks.append(chunk)
    return b"".join(chunks)


class Gate:
    def __init__(
        self,
        app: ASGIApp,
        *,
        table: Mapping[str, RouteSpec],
        verifier: Verifier,
        limiter: RateLimiter,
        proxies: ProxyPolicy,
        clock: Clock,
        runtime: Any = None,
        prefix: str = "/api/",
    ) -> None:
        self.app = app
        self.runtime = runtime
        self.table = dict(table)
        self.verifier = verifier
        self.limiter = limiter
        self.proxies = proxies
        self.clock = clock
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        try:
            admitted = await self._admit(scope, receive, send)
            if isinstance(admitted, _Served):
                headers = [(b"content-type", JSON), (REMAIN_HEADER, str(admitted.remain).encode())]
                await _respond(send, 200, headers, admitted.body)
                return
        except SealbookError as error:
            await self._reject(send, error)
            return
        except Exception:
            log.exception("endpoint %s failed", scope["path"])
            await self._reject(send, ServiceUnavailable())
            return
        # Outside the try: an error raised by the app after it started its response
        # must not make the gate start a second one.
        await self.app(scope, *admitted)

    async def _admit(
        self, scope: Scope, receive: Receive, send: Send
    ) -> _Served | tuple[Receive, Send]:
        """Authenticate and throttle; then either the response body of an endpoint the
        gate serves itself, or the receive/send to call the app with."""
        key = sign = ts = passphrase = forwarded = xff = None
        for name, value in scope["headers"]:
            if name[:7] == b"access-":
                if name == b"access-key":
                    key = value
                elif name == b"access-sign":
                    sign = value
                elif name == b"access-timestamp":
                    ts = value
                elif name == b"access-passphrase":
                    passphrase = value
            elif name == b"x-forwarded-for":
                xff = value.decode("latin-1")
            elif name == b"forwarded":
                forwarded = value.decode("latin-1")
        client = scope.get("client")
        peer = client[0] if client else "0.0.0.0"  # noqa: S104 - an address, not a bind
        ip = self.proxies.client_ip(peer, forwarded, xff) if (forwarded or xff) else peer

        mono = self.clock.monotonic()
        total = self.limiter.hit_ip_total(ip, mono)
        if not total.allowed:
            raise RateLimited(total.retry_after_s, total.remaining)
        path: str = scope["path"]
        spec = self.table.get(path)
        if spec is None or scope["method"] not in spec.methods:
            raise RouteNotFound()

        handler = spec.handlers.get(scope["method"])
        principal: Principal | None = None
        if spec.need is None:
            who = ip
            body = await _read_body(receive) if handler is not None else b""
        else:
            body = await _read_body(receive)
            principal = self.verifier.verify(
                key=key,
                sign=sign,
                timestamp=ts,
                passphrase=passphrase,
                method=scope["method"].encode("ascii"),
                path=scope.get("raw_path") or path.encode(),
                query=scope["query_string"],
                body=body,
                ip=ip,
                need=spec.need,
            )
            who = str(principal.user_id) if spec.rule.scope == "uid" else ip

        decision = self.limiter.hit(f"{spec.rule.name}|{who}", spec.rule, mono)
        if not decision.allowed:
            raise RateLimited(decision.retry_after_s, decision.remaining)

        if handler is not None:
            now = self.clock.now_ms()
            request = BitgetRequest(
                runtime=self.runtime,
                method=scope["method"],
                raw_query=scope["query_string"],
                body=body,
                ip=ip,
                now_ms=now,
                principal=principal,
            )
            return _Served(ok_body(await handler(request), now), decision.remaining)

        if principal is not None:
            scope.setdefault("state", {})["principal"] = principal
            receive = _replay(body, receive)
        remain = str(decision.remaining).encode()

        async def send_with_remaining(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), (REMAIN_HEADER, remain)]
            await send(message)

        return receive, send_with_remaining

    async def _reject(self, send: Send, error: SealbookError) -> None:
        status, headers, body = error_parts(error, self.clock.now_ms())
        await _respond(send, status, headers, body)


async def _respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            message: dict[str, Any] = {"type": "http.request", "body": body, "more_body": False}
            return message
        return await receive()

    return replay
