"""``POST /bench/hello``: the hello-world route of ``bench/http.py``, only with BENCH_ROUTES=1.

A msgspec body in and out through the app's whole middleware stack, with a handler
that does nothing else: the ceiling the API's own routes are measured against.
"""

from __future__ import annotations

import msgspec
from litestar import post


class Greeting(msgspec.Struct):
    name: str


class Hello(msgspec.Struct):
    message: str


@post("/bench/hello", status_code=200, include_in_schema=False, sync_to_thread=False)
def bench_hello(data: Greeting) -> Hello:
    return Hello(message=f"hello {data.name}")
