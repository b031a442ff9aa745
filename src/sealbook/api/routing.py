"""Routers whose every route carries the permission it needs, attached at router level.

``BitgetRouter(access=Permission.SPOT_TRADE)`` stamps each route added to it; the gate
builds its table from those stamps and refuses to build an app with an unstamped
``/api/`` route, so a new route cannot forget its permission.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from sealbook.keys.permissions import Permission

__all__ = ["ACCESS_KEY", "PUBLIC", "BitgetRouter", "access_of"]

ACCESS_KEY: Final = "x-sealbook-access"
PUBLIC: Final = "public"


class BitgetRouter(APIRouter):
    def __init__(self, *, access: Permission | str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.access = access.value if isinstance(access, Permission) else access
        if self.access != PUBLIC:
            Permission(self.access)  # refuse typos at import time

    def add_api_route(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        extra = dict(kwargs.pop("openapi_extra", None) or {})
        extra[ACCESS_KEY] = self.access
        super().add_api_route(path, endpoint, openapi_extra=extra, **kwargs)


def access_of(route: BaseRoute) -> str | None:
    if isinstance(route, APIRoute) and route.openapi_extra:
        value = route.openapi_extra.get(ACCESS_KEY)
        return str(value) if value is not None else None
    return None
