"""The Bitget envelope, and the one place where errors become HTTP responses."""

from __future__ import annotations

import math
from typing import Any

import orjson
from starlette.responses import Response

from sealbook.errors import RateLimited, SealbookError

__all__ = ["error_parts", "error_response", "ok_body", "ok_response"]

JSON = b"application/json"


def ok_body(data: Any, now_ms: int) -> bytes:
    return orjson.dumps({"code": "00000", "msg": "success", "requestTime": now_ms, "data": data})


def ok_response(data: Any, now_ms: int) -> Response:
    return Response(ok_body(data, now_ms), media_type="application/json")


def error_parts(error: SealbookError, now_ms: int) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """HTTP status, extra headers and body for any Sealbook error."""
    body = orjson.dumps({"code": error.code, "msg": error.msg, "requestTime": now_ms, "data": None})
    headers = [(b"content-type", JSON)]
    if isinstance(error, RateLimited):
        headers.append((b"retry-after", str(max(1, math.ceil(error.retry_after_s))).encode()))
        headers.append((b"x-mbx-used-remain-limit", str(error.remaining).encode()))
    if error.retryable and not isinstance(error, RateLimited):
        headers.append((b"retry-after", b"1"))
    return error.http_status, headers, body


def error_response(error: SealbookError, now_ms: int) -> Response:
    status, headers, body = error_parts(error, now_ms)
    response = Response(body, status_code=status)
    for name, value in headers:
        response.headers[name.decode()] = value.decode()
    return response
