"""Dependencies for FastAPI apps behind the gate, named so signatures read as prose."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from sealbook.keys.verifier import Principal

__all__ = ["CurrentKey"]


async def _principal(request: Request) -> Principal:
    principal = request.scope.get("state", {}).get("principal")
    if not isinstance(principal, Principal):  # only reachable if the gate was bypassed
        raise RuntimeError("private route reached without the gate")
    return principal


CurrentKey = Annotated[Principal, Depends(_principal)]
