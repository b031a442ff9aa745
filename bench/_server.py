"""The bare baseline for ``bench/auth.py``: plain Starlette answering Sealbook's envelope.

Run as ``python bench/_server.py --port P``. It serves the same path as the signed route,
``/api/v2/spot/account/assets``, with the same body bytes Sealbook sends
(``{"code":"00000","msg":"success","requestTime":<ms>,"data":[]}`` via orjson), and no
key layer, rate limiter, FastAPI or dependency injection. ``uvicorn.run`` gets the same
arguments as ``sealbook serve`` (src/sealbook/cli/serve.py): default ``loop``/``http``
(``auto``: uvloop and httptools when installed), no access log, lifespan on.

Two endpoints:

* ``/api/v2/spot/account/assets`` — ``async def``: the least a Starlette app can do.
* ``/bare/sync`` — the same as a plain ``def``, which Starlette runs in its thread pool, as
  FastAPI runs Sealbook's own ``def`` routes. An informational row in the report.
"""

from __future__ import annotations

import argparse
import time

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PATH = "/api/v2/spot/account/assets"
SYNC_PATH = "/bare/sync"


def _envelope() -> bytes:
    now_ms = time.time_ns() // 1_000_000
    return orjson.dumps({"code": "00000", "msg": "success", "requestTime": now_ms, "data": []})


async def assets(_request: Request) -> Response:
    return Response(_envelope(), media_type="application/json")


def assets_sync(_request: Request) -> Response:
    return Response(_envelope(), media_type="application/json")


app = Starlette(routes=[Route(PATH, assets), Route(SYNC_PATH, assets_sync)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        app, host=args.host, port=args.port, access_log=False, log_level="warning", lifespan="on"
    )


if __name__ == "__main__":
    main()
