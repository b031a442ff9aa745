"""The application factory: FastAPI routes behind the key gate."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp

from sealbook.api.endpoints import Endpoints, openapi_paths
from sealbook.api.envelope import error_response
from sealbook.api.gate import Gate, route_table
from sealbook.api.routes import account, public, spot_market, spot_trade, wallet
from sealbook.console import create_console
from sealbook.errors import ParamError, RouteNotFound, SealbookError, ServiceUnavailable
from sealbook.exchange.accounts import AccountService
from sealbook.exchange.apikeys import KeyService
from sealbook.exchange.authlog import AuthLog
from sealbook.exchange.context import Context
from sealbook.exchange.demo import start_demo_market
from sealbook.exchange.keyring import DbKeyDirectory
from sealbook.exchange.service import ExchangeService
from sealbook.keys.allowlist import ProxyPolicy
from sealbook.keys.verifier import Verifier
from sealbook.markets import Catalog, default_catalog
from sealbook.ratelimit import MemoryRateLimiter

__all__ = ["Runtime", "create_app"]

log = logging.getLogger("sealbook.api")


@dataclass(slots=True)
class Runtime:
    """Everything a running server holds, built once per process."""

    ctx: Context
    accounts: AccountService
    keys: KeyService
    directory: DbKeyDirectory
    authlog: AuthLog
    verifier: Verifier
    limiter: MemoryRateLimiter
    catalog: Catalog
    exchange: ExchangeService

    @classmethod
    def build(cls, ctx: Context) -> Runtime:
        accounts = AccountService(ctx)
        catalog = default_catalog()
        directory = DbKeyDirectory(ctx)
        authlog = AuthLog(ctx)
        verifier = Verifier(
            directory,
            ctx.clock,
            authlog,
            window_ms=ctx.settings.timestamp_window_ms,
            lapse_days=ctx.settings.unbound_key_lapse_days,
        )
        return cls(
            ctx=ctx,
            accounts=accounts,
            keys=KeyService(ctx, accounts),
            directory=directory,
            authlog=authlog,
            verifier=verifier,
            limiter=MemoryRateLimiter(factor=ctx.settings.rate_limit_factor),
            catalog=catalog,
            exchange=ExchangeService(ctx, catalog, withdraw_delay_s=ctx.settings.withdraw_delay_s),
        )


async def _flush_forever(runtime: Runtime) -> None:
    interval = runtime.ctx.settings.flush_interval_s
    while True:
        await asyncio.sleep(interval)
        try:
            await anyio.to_thread.run_sync(runtime.authlog.flush)
        except Exception:  # keep recording; the next flush retries what it can
            log.exception("writing the authentication log failed")


def _document(api: FastAPI, groups: list[Endpoints]) -> None:
    """Serve the gate's endpoints in FastAPI's OpenAPI schema (and so at /docs)."""
    default_openapi = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            schema = default_openapi()
            schema.setdefault("paths", {}).update(openapi_paths(groups))
            api.openapi_schema = schema
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]


def create_app(ctx: Context, *, demo: bool = False) -> ASGIApp:
    """The server. ``demo=True`` also runs the demo market maker (``serve --demo``)."""
    runtime = Runtime.build(ctx)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.exchange.start()
        task = asyncio.create_task(_flush_forever(runtime))
        maker = await start_demo_market(ctx, runtime.exchange) if demo else None
        try:
            yield
        finally:
            if maker is not None:
                maker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await maker
            await runtime.exchange.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await anyio.to_thread.run_sync(runtime.authlog.flush)

    api = FastAPI(
        title="Sealbook",
        summary="A self-hostable exchange that speaks Bitget's REST v2 wire format.",
        version="0.1.0",
        docs_url="/docs",
        lifespan=lifespan,
    )
    api.state.runtime = runtime
    # The web console: its own pages, sessions and headers, outside the key gate.
    api.mount("/console", create_console(runtime, demo=demo))
    groups = [
        public.endpoints,
        spot_market.endpoints,
        account.endpoints,
        spot_trade.reads,
        spot_trade.endpoints,
        wallet.reads,
        wallet.endpoints,
    ]
    _document(api, groups)

    def now() -> int:
        return ctx.clock.now_ms()

    @api.exception_handler(SealbookError)
    async def on_sealbook_error(_request: Request, error: SealbookError) -> Response:
        return error_response(error, now())

    @api.exception_handler(RequestValidationError)
    async def on_validation_error(_request: Request, error: RequestValidationError) -> Response:
        first = error.errors()[0] if error.errors() else {}
        field = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        return error_response(ParamError(f"{field}: {first.get('msg', 'invalid')}"), now())

    @api.exception_handler(StarletteHTTPException)
    async def on_http_error(_request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code in (404, 405):
            return error_response(RouteNotFound(), now())
        return error_response(ParamError(str(error.detail)), now())

    @api.exception_handler(Exception)
    async def on_crash(_request: Request, error: Exception) -> Response:
        log.error("unhandled %s", type(error).__name__)
        return error_response(ServiceUnavailable(), now())

    return Gate(
        api,
        table=route_table(api.routes, groups),
        runtime=runtime,
        verifier=runtime.verifier,
        limiter=runtime.limiter,
        proxies=ProxyPolicy(ctx.settings.trusted_proxies),
        clock=ctx.clock,
    )
