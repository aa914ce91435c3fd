"""What the malformed-input tests send: the app's JSON routes, a valid-looking body for
each, and the ways to spoil one.

Routes come from the app itself (every handler with a ``data`` parameter), so a route
added later is fuzzed without anyone listing it. A sample body is built from the route's
body type (``msgspec.inspect``): every field present, optional ones too, so that each
struct at every depth appears; strings are picked by field name where the domain checks
them (a country, a currency, a SKU).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import hypothesis
import msgspec
from hypothesis import strategies as st
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute

TEST_ONLY_PREFIX = "/api/v1/_test"  # probe routes of conftest.py, which fail on purpose
SKU = "MUG-1"
UNKNOWN = "surprise"

_STRINGS_BY_NAME = {
    "country": "GB",
    "currency": "USD",
    "email": "ada@example.com",
    "sku": SKU,
    "token": "tok_visa",
    "refresh_url": "https://shop.example.com/retry",
    "return_url": "https://shop.example.com/done",
    "phone": "+44 20 7946 0000",
    "status": "delivered",
    "secret_key": "sk_test_fuzz",
    "webhook_secret": "whsec_fuzz",
}
_CANDIDATES = ("a", "Mug", SKU, "USD", "GB", "ada@example.com", "https://shop.example.com/x")


@dataclass(frozen=True)
class JsonRoute:
    method: str
    path: str  # with its parameters filled in
    body_type: Any
    template: str = ""  # the path as the role matrix names it

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _path_value(kind: type) -> str:
    if kind is uuid.UUID:
        return str(uuid.uuid4())
    if kind is int:
        return "1"
    return SKU


def write_routes(app: Litestar) -> list[JsonRoute]:
    """Every POST, PUT or PATCH route of the app, but the test-only probes; those that
    read their body raw (gateways' webhooks) have no body type."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(TEST_ONLY_PREFIX):
            continue
        for handler in route.route_handlers:
            assert isinstance(handler, HTTPRouteHandler)
            data = handler.parsed_fn_signature.parameters.get("data")
            path = route.path_format.format(
                **{p.name: _path_value(p.type) for p in route.path_parameters.values()}
            )
            for method in sorted(handler.http_methods & {"POST", "PUT", "PATCH"}):
                body = data.annotation if data else None
                found.append(JsonRoute(method, path, body, route.path_format))
    return found


def json_routes(app: Litestar) -> list[JsonRoute]:
    """Every route of the app that takes a JSON body (a ``data`` parameter)."""
    return [route for route in write_routes(app) if route.body_type is not None]


def _string(info: msgspec.inspect.StrType, name: str | None) -> str:
    preferred = _STRINGS_BY_NAME.get(name or "")
    for candidate in ((preferred,) if preferred else ()) + _CANDIDATES:
        if info.pattern and not re.search(info.pattern, candidate):
            continue
        if info.min_length is not None and len(candidate) < info.min_length:
            continue
        if info.max_length is not None and len(candidate) > info.max_length:
            continue
        return candidate
    low, high = info.min_length or 0, info.max_length or 10_000
    # the simplest string of the pattern: hypothesis shrinks to it, the same every run
    return hypothesis.find(
        st.from_regex(info.pattern or ".*", fullmatch=True), lambda s: low <= len(s) <= high
    )


def _int(info: msgspec.inspect.IntType) -> int:
    low = 1
    if info.ge is not None:
        low = max(low, info.ge)
    if info.gt is not None:
        low = max(low, info.gt + 1)
    if info.le is not None:
        low = min(low, info.le)
    return low


def sample(info: msgspec.inspect.Type, name: str | None = None) -> Any:
    """A JSON value of the type, as plausible as the type alone can tell."""
    while isinstance(info, msgspec.inspect.Metadata):
        info = info.type
    match info:
        case msgspec.inspect.StructType():
            return {f.encode_name: sample(f.type, f.name) for f in info.fields}
        case msgspec.inspect.UnionType():
            members = [t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)]
            structs = [t for t in members if isinstance(t, msgspec.inspect.StructType)]
            return sample((structs or members)[0], name)
        case msgspec.inspect.ListType() | msgspec.inspect.VarTupleType():
            return [sample(info.item_type, name)]
        case msgspec.inspect.DictType():
            return {"key": sample(info.value_type, name)}
        case msgspec.inspect.IntType():
            return _int(info)
        case msgspec.inspect.FloatType():
            return 1.0
        case msgspec.inspect.BoolType():
            return True
        case msgspec.inspect.StrType():
            return _string(info, name)
        case msgspec.inspect.EnumType():
            return next(iter(info.cls)).value
        case msgspec.inspect.LiteralType():
            return info.values[0]
        case msgspec.inspect.UUIDType():
            return str(uuid.uuid4())
        case msgspec.inspect.DateTimeType():
            return "2026-01-01T00:00:00Z"
        case msgspec.inspect.DateType():
            return "2026-01-01"
        case _:
            return None


def sample_body(route: JsonRoute) -> Any:
    return sample(msgspec.inspect.type_info(route.body_type))


@dataclass(frozen=True)
class Spoiled:
    """A sample body with one thing wrong, and the key the refusal must name."""

    what: str
    body: Any
    key: str


def _key(path: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{path}[{name}]"
    return f"{path}.{name}" if path else name


def _replace(value: Any, at: list[str | int], new: Any) -> Any:
    if not at:
        return new
    head, *rest = at
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _replace(copy[head], rest, new)
    return copy


def _walk(value: Any, at: list[str | int]) -> Iterator[tuple[list[str | int], Any]]:
    yield at, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, [*at, k])
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, [*at, i])


def _path(at: list[str | int]) -> str:
    path = ""
    for name in at:
        path = _key(path, name)
    return path


def spoiled_bodies(body: Any) -> Iterator[Spoiled]:
    """Each integer as a string, as a float and far too large; an unknown field in each
    object (but free-form maps, where any key is fine)."""
    for at, value in _walk(body, []):
        path = _path(at)
        if isinstance(value, int) and not isinstance(value, bool):
            yield Spoiled(f"string for {path}", _replace(body, at, str(value)), path)
            yield Spoiled(f"float for {path}", _replace(body, at, value + 0.5), path)
            yield Spoiled(f"huge {path}", _replace(body, at, 2**70), path)
        elif isinstance(value, dict) and "key" not in value:
            spoiled = _replace(body, at, {**value, UNKNOWN: 1})
            yield Spoiled(f"unknown field in {path or 'body'}", spoiled, _key(path, UNKNOWN))


DEEP_ARRAYS = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECTS = b'{"a":' * 50_000 + b"1" + b"}" * 50_000

MALFORMED: dict[str, bytes] = {
    "deep arrays": DEEP_ARRAYS,
    "deep objects": DEEP_OBJECTS,
    "not UTF-8": b'{"name": "\xff\xfe"}',
    "lone surrogate": b'{"name": "\\ud800"}',
    "escaped NUL": b'{"name": "a\\u0000b"}',
    "escaped NUL in a key": b'{"a\\u0000": 1}',
    "raw NUL": b'{"name": "a\x00b"}',
    "huge integer": b'{"amount": ' + b"9" * 400 + b"}",
    "huge exponent": b'{"amount": 1e400}',
    "2**70": b'{"amount": 1180591620717411303424}',
    "truncated": b'{"name": ',
    "not an object": b"[]",
    "empty": b"",
}

WRONG_CONTENT_TYPES = (
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json; charset=latin-1",
    "application/xml",
)


@dataclass(frozen=True)
class QueryRoute:
    method: str
    path: str  # with its parameters filled in
    query: tuple[str, ...]  # the names of its query parameters

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def query_routes(app: Litestar) -> list[QueryRoute]:
    """Every operation of the app's OpenAPI document that takes query parameters."""
    document = app.openapi_schema.to_schema()
    found = []
    for template, item in document["paths"].items():
        if template.startswith(TEST_ONLY_PREFIX):
            continue
        for method, operation in item.items():
            params = operation.get("parameters", [])
            query = tuple(p["name"] for p in params if p["in"] == "query")
            if not query:
                continue
            path = template
            for p in params:
                if p["in"] == "path":
                    fmt = p.get("schema", {}).get("format")
                    value = str(uuid.uuid4()) if fmt == "uuid" else SKU
                    path = path.replace("{" + p["name"] + "}", value)
            found.append(QueryRoute(method.upper(), path, query))
    return found


HOSTILE_QUERY_VALUES = (
    str(2**70),
    str(-(2**70)),
    str(2**63),
    "1e400",
    "NaN",
    "-0",
    "",
    "9" * 5000,
    "0001-01-01T00:00:00+00:12",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01",
    "9999-12-31",
    "%ff%fe",  # sent as is: bytes that are not UTF-8 once decoded
    "é" * 300,
)
