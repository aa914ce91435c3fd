"""Validation messages in the client's words.

msgspec and Litestar say what failed in their own terms ("Expected `int`, got `str`",
"Object missing required field `lines`", "Validation failed for GET /orders?limit=x").
A problem's ``detail`` says it as a sentence about the field, named by its JSON path
(``lines[0].quantity``), and about what to send instead. The ``errors`` list keeps the
validator's own messages, which clients may already match on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import msgspec

_TYPES = {
    "int": "an integer",
    "float": "a number",
    "str": "a string",
    "bool": "true or false",
    "object": "a JSON object",
    "array": "an array",
    "null": "null",
    "uuid": "a UUID",
    "datetime": "a date and time",
    "date": "a date",
    "bytes": "base64 text",
}
_COMPARISONS = {">=": "at least", "<=": "at most", ">": "greater than", "<": "less than"}
_OF = {">=": "of ", "<=": "of "}

_TYPE_MISMATCH = re.compile(r"Expected `([^`]+)`, got `([^`]+)`")
_BOUND = re.compile(r"Expected `([^`]+)` (>=|<=|>|<) (\S+)")
_LENGTH = re.compile(r"Expected `([^`]+)` of length (>=|<=) (\d+)")
_PATTERN = re.compile(r"Expected `str` matching regex (.+)")
_MISSING = re.compile(r"Object missing required field `([^`]+)`")
_ENUM = re.compile(r"Invalid enum value (.+)")


def _kind(name: str) -> str:
    """``int | null`` -> "an integer or null"."""
    return " or ".join(_TYPES.get(part.strip(), part.strip()) for part in name.split("|"))


def _length(kind: str, op: str, size: str) -> str:
    unit = "character" if kind == "str" else "item"
    return f"must have {_COMPARISONS[op]} {size} {unit}{'' if size == '1' else 's'}"


_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]
_RULES: tuple[_Rule, ...] = (
    (_LENGTH, lambda m: _length(m.group(1), m.group(2), m.group(3))),
    (
        _BOUND,
        lambda m: (
            f"must be {_kind(m.group(1))} {_OF.get(m.group(2), '')}"
            f"{_COMPARISONS[m.group(2)]} {m.group(3)}"
        ),
    ),
    (_PATTERN, lambda m: f"does not have the expected form (the pattern {m.group(1)})"),
    (_ENUM, lambda m: f"{m.group(1)} is not one of the allowed values"),
)

_PHRASES = {
    "Invalid RFC3339 encoded datetime": "must be a date and time like 2026-01-31T12:00:00Z",
    "Invalid RFC3339 encoded date": "must be a date like 2026-01-31",
    "Invalid UUID": "must be a UUID like 3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "unknown field": "is not a field of this request: remove it (see the API schema)",
}


def phrase(message: str, *, typed_input: bool = True) -> tuple[str | None, str | None]:
    """(what is wrong, as a predicate of the field, or None for a message that is a
    sentence already; a field name it adds to the path).

    ``typed_input``: the value came as JSON, so its type is worth naming ("not a
    string"); a query or path value is always text, so it is not.
    """
    if (missing := _MISSING.fullmatch(message)) is not None:
        return "is required", missing.group(1)
    if (mismatch := _TYPE_MISMATCH.fullmatch(message)) is not None:
        got = f", not {_kind(mismatch.group(2))}" if typed_input else ""
        return f"must be {_kind(mismatch.group(1))}{got}", None
    for pattern, say in _RULES:
        if (match := pattern.fullmatch(message)) is not None:
            return say(match), None
    return _PHRASES.get(message), None


def field_sentence(message: str, key: str, *, typed_input: bool = True, allowed: str = "") -> str:
    """``lines[0].quantity must be an integer, not a string``; a message that is a
    sentence already is prefixed by its field (``lines[0]: a quantity is ...``)."""
    said, field = phrase(message, typed_input=typed_input)
    at = f"{key}.{field}" if key and field else key or field or ""
    if said is None:
        sentence = f"{at}: {message}" if at else message
    else:
        sentence = f"{at} {said}" if at else f"the body {said}"
    return f"{sentence}: {allowed}" if allowed else sentence


def errors_detail(errors: Iterable[Mapping[str, Any]]) -> str | None:
    """One sentence per listed error (from Litestar's own checks of the query, path,
    headers or cookies), or None if there are none."""
    sentences = []
    for error in errors:
        source = str(error.get("source") or "")
        where = {"query": "query parameter ", "header": "header ", "cookie": "cookie "}
        key = str(error.get("key") or "")
        sentence = field_sentence(str(error.get("message") or ""), key, typed_input=False)
        sentences.append(where.get(source, "") + sentence)
    return "; ".join(sentences) or None


def body_shape(info: msgspec.inspect.Type) -> str:
    """What a body must be: ``a JSON object with the fields reason (required), restock``."""
    info = _unwrap(info)
    if isinstance(info, msgspec.inspect.StructType):
        fields = ", ".join(
            f.encode_name + (" (required)" if f.required else "") for f in info.fields
        )
        return f"a JSON object with the fields {fields}" if fields else "a JSON object"
    if isinstance(info, msgspec.inspect.DictType):
        return "a JSON object"
    if isinstance(info, msgspec.inspect.ListType):
        return "a JSON array"
    return "JSON"


def allowed_values(info: msgspec.inspect.Type, key: str) -> str:
    """``one of: card, bank_transfer`` for an enum or literal at ``key``, else ""."""
    found = _at(info, [p for p in re.split(r"\.|\[\d+\]", key) if p])
    if isinstance(found, msgspec.inspect.EnumType):
        return "use one of " + ", ".join(str(m.value) for m in found.cls)
    if isinstance(found, msgspec.inspect.LiteralType):
        return "use one of " + ", ".join(str(v) for v in found.values)
    return ""


def _unwrap(info: msgspec.inspect.Type) -> msgspec.inspect.Type:
    while True:
        if isinstance(info, msgspec.inspect.Metadata):
            info = info.type
        elif isinstance(info, msgspec.inspect.UnionType):
            members = [t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)]
            if len(members) != 1:
                return info
            info = members[0]
        else:
            return info


def _at(info: msgspec.inspect.Type, names: list[str]) -> msgspec.inspect.Type | None:
    info = _unwrap(info)
    if isinstance(info, msgspec.inspect.ListType | msgspec.inspect.VarTupleType):
        return _at(info.item_type, names)
    if not names:
        return info
    if isinstance(info, msgspec.inspect.StructType):
        for field in info.fields:
            if field.encode_name == names[0]:
                return _at(field.type, names[1:])
    return None
