"""Dependencies named so route signatures read as prose."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from sealbook.keys.verifier import Principal

__all__ = ["CurrentKey", "Runtime", "now_ms"]


def _principal(request: Request) -> Principal:
    principal = request.scope.get("state", {}).get("principal")
    if not isinstance(principal, Principal):  # only reachable if the gate was bypassed
        raise RuntimeError("private route reached without the gate")
    return principal


def _runtime(request: Request) -> Any:
    return request.app.state.runtime


def now_ms(request: Request) -> int:
    clock = request.app.state.runtime.ctx.clock
    return int(clock.now_ms())


CurrentKey = Annotated[Principal, Depends(_principal)]
Runtime = Annotated[Any, Depends(_runtime)]
