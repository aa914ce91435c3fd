"""Strict JSON request bodies, checked in one place for every route that takes one.

Litestar on its own reads any body as JSON whatever its content type, converts
leniently (``"1"`` becomes 1) and ignores unknown fields of structs that do not forbid
them. This ``before_request`` check runs before a handler's arguments are built, for
every route with a ``data`` parameter, so a new route is covered without doing anything:

- 415 ``unsupported-media-type`` unless the content type is ``application/json`` or
  ``*/*+json`` (and UTF-8, JSON's only charset);
- 422 ``validation-error`` for a body that is not UTF-8, nests deeper than
  ``MAX_DEPTH``, holds an integer beyond ``MAX_INTEGER`` (I-JSON, RFC 7493: larger
  ones lose precision in other JSON parsers, and overflow PostgreSQL's bigint), does
  not decode into the route's body type in msgspec's strict mode (no string for a
  number, no float for an int), or has a field the type does not know, at any depth.

Query and path parameters are left to Litestar: there text is the only type, and
converting it to numbers is the norm. The NUL character is ``text_guard``'s job.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException
from litestar.handlers import HTTPRouteHandler

from entrypoints.http.problems import RETRYABLE_FLAG, problem
from entrypoints.http.validation_text import allowed_values, body_shape, field_sentence

MAX_DEPTH = 32
"""Deepest nesting of arrays and objects a body may have; the deepest API body has 4."""

MAX_INTEGER = 2**53 - 1
"""Largest magnitude of an integer in a body (I-JSON's interoperable range)."""

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_OPENERS = frozenset(b"[{")


def nesting_depth(body: bytes, stop_above: int = MAX_DEPTH) -> int:
    """How deep arrays and objects nest in a JSON text (counting stops past
    ``stop_above``); brackets inside strings do not count. Checked on the bytes,
    before parsing, so that no parser recurses that deep."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKET)
    depth = deepest = 0
    for byte in brackets:
        depth += 1 if byte in _OPENERS else -1
        if depth > deepest:
            deepest = depth
            if deepest > stop_above:
                break
    return deepest


def is_json_media_type(content_type: str) -> bool:
    """``application/json`` or a ``+json`` type, in UTF-8 if a charset is named."""
    media_type, _, params = content_type.partition(";")
    media_type = media_type.strip().lower()
    if media_type != "application/json" and not (
        "/" in media_type and media_type.endswith("+json")
    ):
        return False
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() != "utf-8":
            return False
    return True


def _invalid(message: str, key: str, detail: str | None = None) -> ValidationException:
    """The refusal: ``detail`` in the client's words (``validation_text``), ``errors``
    with the validator's own message and the field's path."""
    return ValidationException(
        detail=detail or field_sentence(message, key),
        extra=[{"message": message, "key": key, "source": "body"}],
    )


_UNKNOWN = re.compile(r"Object contains unknown field `(.*)`", re.DOTALL)


def _from_msgspec(
    error: msgspec.ValidationError, info: msgspec.inspect.Type
) -> ValidationException:
    """msgspec's message, with the path it names as the key (the field itself for an
    unknown one, as for those ``_unknown_field`` finds)."""
    message, _, at = str(error).partition(" - at `$")
    key = at.removesuffix("`").removeprefix(".")
    unknown = _UNKNOWN.fullmatch(message)
    if unknown is not None:
        return _invalid("unknown field", _key(key, unknown.group(1)))
    if not key and message.startswith("Expected `object`"):  # the body is not an object
        return _invalid(message, key, f"the body must be {body_shape(info)}")
    allowed = allowed_values(info, key) if message.startswith("Invalid enum") else ""
    return _invalid(message, key, field_sentence(message, key, allowed=allowed))


def _key(path: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{path}[{name}]"
    return f"{path}.{name}" if path else name


def _big_integers(value: Any, path: str = "") -> Iterator[str]:
    """The paths of integers beyond ``MAX_INTEGER`` (iterative: depth is bounded already,
    but a long array is not)."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, bool):
            continue
        if isinstance(item, int) and abs(item) > MAX_INTEGER:
            yield at
        elif isinstance(item, dict):
            stack.extend((v, _key(at, k)) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, _key(at, i)) for i, v in enumerate(item))


def _unwrap(info: msgspec.inspect.Type) -> msgspec.inspect.Type:
    while isinstance(info, msgspec.inspect.Metadata):
        info = info.type
    return info


def _unknown_field(info: msgspec.inspect.Type, value: Any, path: str = "") -> str | None:
    """The path of the first field the body type does not know, at any depth; structs
    need not say ``forbid_unknown_fields`` for it. ``value`` has decoded strictly into
    the type already, so shapes match."""
    info = _unwrap(info)
    if isinstance(info, msgspec.inspect.UnionType):
        member = _member(info, value)
        return _unknown_field(member, value, path) if member is not None else None
    if isinstance(info, msgspec.inspect.StructType) and isinstance(value, dict):
        fields = {f.encode_name: f for f in info.fields}
        for name, item in value.items():
            field = fields.get(name)
            if field is None and name != info.tag_field:
                return _key(path, name)
            found = _unknown_field(field.type, item, _key(path, name)) if field else None
            if found is not None:
                return found
    elif isinstance(info, msgspec.inspect.DictType) and isinstance(value, dict):
        for name, item in value.items():
            if (found := _unknown_field(info.value_type, item, _key(path, name))) is not None:
                return found
    elif isinstance(info, msgspec.inspect.ListType | msgspec.inspect.VarTupleType):
        for i, item in enumerate(value if isinstance(value, list) else []):
            if (found := _unknown_field(info.item_type, item, _key(path, i))) is not None:
                return found
    return None


def _member(union: msgspec.inspect.UnionType, value: Any) -> msgspec.inspect.Type | None:
    """The member of a union a JSON object or array decoded into: msgspec allows one
    object-like member, or several structs told apart by their tag."""
    fitting = [_unwrap(m) for m in union.types if _fits(m, value)]
    if len(fitting) <= 1:
        return fitting[0] if fitting else None
    for member in fitting:
        if (
            isinstance(member, msgspec.inspect.StructType)
            and member.tag_field is not None
            and value.get(member.tag_field) == member.tag
        ):
            return member
    return None


def _fits(info: msgspec.inspect.Type, value: Any) -> bool:
    """Whether a union member is the one a JSON object or array decoded into."""
    info = _unwrap(info)
    if isinstance(value, dict):
        return isinstance(info, msgspec.inspect.StructType | msgspec.inspect.DictType)
    if isinstance(value, list):
        return isinstance(info, msgspec.inspect.ListType | msgspec.inspect.VarTupleType)
    return False


class _BodyType:
    """A route's body type, with what checking a body against it needs."""

    def __init__(self, annotation: Any) -> None:
        self.decoder = msgspec.json.Decoder(annotation, strict=True)
        self.info = msgspec.inspect.type_info(annotation)

    def check(self, body: bytes) -> None:
        if not body.strip():
            message = "the body is empty"
            raise _invalid(message, "", f"{message}: send {body_shape(self.info)}")
        if nesting_depth(body) > MAX_DEPTH:
            raise _invalid(f"the body nests deeper than {MAX_DEPTH} levels", "")
        try:
            raw = msgspec.json.decode(body)
            for at in _big_integers(raw):  # before the type's own checks, which name less
                raise _invalid(f"integers are at most {MAX_INTEGER} in magnitude", at)
            self.decoder.decode(body)
        except UnicodeDecodeError:
            raise _invalid("the body is not valid UTF-8", "") from None
        except msgspec.ValidationError as error:
            raise _from_msgspec(error, self.info) from None
        except msgspec.DecodeError as error:
            message = f"the body is not valid JSON: {_json_fault(error)}"
            raise _invalid(message, "", f"{message}; send {body_shape(self.info)}") from None
        unknown = _unknown_field(self.info, raw)
        if unknown is not None:
            raise _invalid("unknown field", unknown)


def _json_fault(error: msgspec.DecodeError) -> str:
    text = str(error).removeprefix("JSON is malformed: ")
    return "it ends before it is complete" if text == "Input data was truncated" else text


@cache
def _checker(annotation: Any) -> _BodyType:
    return _BodyType(annotation)


def _body_type(handler: HTTPRouteHandler) -> _BodyType | None:
    data = handler.parsed_fn_signature.parameters.get("data")
    return _checker(data.annotation) if data is not None else None


async def check_json_body(request: Request[Any, Any, Any]) -> None:
    """Refuses (as a problem) a body its route would otherwise read leniently."""
    handler = request.route_handler
    body_type = _body_type(handler) if isinstance(handler, HTTPRouteHandler) else None
    if body_type is None:
        return
    content_type = request.headers.get("content-type", "")
    if not is_json_media_type(content_type):
        # an Idempotency-Key's fingerprint has no content type: the same body sent again
        # as JSON would replay this refusal, so the key is released (nothing ran)
        request.scope.setdefault("state", {})[RETRYABLE_FLAG] = True
        sent = f"not {content_type}" if content_type else "the request names none"
        raise problem(
            415,
            "unsupported-media-type",
            "send the body as JSON with Content-Type: application/json (or a +json type, "
            f"in UTF-8); {sent}",
        )
    body_type.check(await request.body())
