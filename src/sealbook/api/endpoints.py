"""Sealbook's own Bitget endpoints: plain async functions the gate calls directly.

Each endpoint is declared on an :class:`Endpoints` group that carries the permission it
needs, so no endpoint exists without one. An endpoint takes a :class:`BitgetRequest` and
returns the ``data`` of the envelope; errors are raised from the one exception tree.
The gate dispatches to them without FastAPI's per-request machinery (dependency solving,
thread-pool hops); FastAPI still serves their OpenAPI description at ``/docs``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson

from sealbook.api.routing import PUBLIC
from sealbook.errors import ParamEmpty, ParamError
from sealbook.keys.permissions import Permission
from sealbook.keys.verifier import Principal

__all__ = ["BitgetRequest", "Endpoint", "Endpoints", "Handler", "openapi_paths"]


class BitgetRequest:
    """What an endpoint sees: the verified key (private routes), the client IP, and the
    query and body exactly as received, parsed on first use."""

    __slots__ = (
        "_json",
        "_query",
        "body",
        "ip",
        "method",
        "now_ms",
        "principal",
        "raw_query",
        "runtime",
    )

    def __init__(
        self,
        *,
        runtime: Any,
        method: str,
        raw_query: bytes,
        body: bytes,
        ip: str,
        now_ms: int,
        principal: Principal | None,
    ) -> None:
        self.runtime = runtime
        self.method = method
        self.raw_query = raw_query
        self.body = body
        self.ip = ip
        self.now_ms = now_ms
        self.principal = principal
        self._query: dict[str, str] | None = None
        self._json: dict[str, Any] | None = None

    @property
    def key(self) -> Principal:
        if self.principal is None:
            raise RuntimeError("a public endpoint asked for the caller's key")
        return self.principal

    @property
    def query(self) -> dict[str, str]:
        if self._query is None:
            raw = self.raw_query.decode("latin-1")
            self._query = dict(parse_qsl(raw, keep_blank_values=True)) if raw else {}
        return self._query

    def json(self) -> dict[str, Any]:
        if self._json is None:
            if not self.body.strip():
                self._json = {}
            else:
                try:
                    value = orjson.loads(self.body)
                except orjson.JSONDecodeError:
                    raise ParamError("the body is not valid JSON") from None
                if not isinstance(value, dict):
                    raise ParamError("the body must be a JSON object")
                self._json = value
        return self._json

    def require(self, name: str) -> str:
        """A parameter that must be present (40019 otherwise)."""
        value = self.param(name, required=True)
        assert value is not None  # param() raised otherwise
        return value

    def param(self, name: str, *, required: bool = False, default: str | None = None) -> str | None:
        """A parameter from the query (GET) or the JSON body (other methods)."""
        source: dict[str, Any] = self.query if self.method == "GET" else self.json()
        value = source.get(name)
        if value is None or value == "":
            if required:
                raise ParamEmpty(name)
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, str)):
            return str(value)
        raise ParamError(f"{name} must be a string")


Handler = Callable[[BitgetRequest], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    access: str  # a Permission value, or "public"
    summary: str
    params: tuple[str, ...]


class Endpoints:
    """A group of endpoints sharing one permission."""

    def __init__(self, *, access: Permission | str, tag: str) -> None:
        self.access = access.value if isinstance(access, Permission) else access
        if self.access != PUBLIC:
            Permission(self.access)
        self.tag = tag
        self.routes: list[Endpoint] = []

    def _add(self, method: str, path: str, params: Iterable[str]) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            summary = (handler.__doc__ or handler.__name__).strip().splitlines()[0]
            self.routes.append(Endpoint(method, path, handler, self.access, summary, tuple(params)))
            return handler

        return register

    def get(self, path: str, *, params: Iterable[str] = ()) -> Callable[[Handler], Handler]:
        return self._add("GET", path, params)

    def post(self, path: str, *, params: Iterable[str] = ()) -> Callable[[Handler], Handler]:
        return self._add("POST", path, params)


def openapi_paths(groups: Iterable[Endpoints]) -> dict[str, dict[str, Any]]:
    """OpenAPI entries for the endpoints, merged into FastAPI's schema for ``/docs``."""
    paths: dict[str, dict[str, Any]] = {}
    for group in groups:
        for ep in group.routes:
            need = "none (public)" if ep.access == PUBLIC else f"`{ep.access}`"
            location = "query" if ep.method == "GET" else "body"
            paths.setdefault(ep.path, {})[ep.method.lower()] = {
                "tags": [group.tag],
                "summary": ep.summary,
                "description": (
                    f"Permission: {need}. Parameters go in the {location}; signed requests "
                    "carry ACCESS-KEY, ACCESS-SIGN, ACCESS-TIMESTAMP and ACCESS-PASSPHRASE."
                ),
                "parameters": [
                    {"name": p, "in": "query", "required": False, "schema": {"type": "string"}}
                    for p in ep.params
                ]
                if ep.method == "GET"
                else [],
                "responses": {
                    "200": {"description": "Bitget envelope: code, msg, requestTime, data"}
                },
            }
    return paths
