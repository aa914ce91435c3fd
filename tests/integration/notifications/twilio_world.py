"""Twilio's Messages API on a local server, checked against Twilio's published spec.

The spec (``tests/fixtures/vendor-specs/twilio``) describes form-encoded request bodies and
documents only the 201 answer of ``CreateMessage``: requests are decoded from the form
before they are checked, and error answers are checked against the error body Twilio's
documentation gives (``code``, ``message``, ``more_info``, ``status``), which is what the
SDK's ``TwilioRestException`` reads.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import jsonschema_rs

from tests.integration.carriers.openapi import Operation, Schema, Spec
from tests.integration.carriers.vendor_server import Answer, Received

FORM = "application/x-www-form-urlencoded"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-test-token"
FROM = "+15005550006"

ERROR = {
    "type": "object",
    "required": ["code", "message", "more_info", "status"],
    "properties": {
        "code": {"type": "integer"},
        "message": {"type": "string", "minLength": 1},
        "more_info": {"type": "string", "pattern": "^https://www.twilio.com/docs/errors/"},
        "status": {"type": "integer", "minimum": 400},
    },
}
_error = jsonschema_rs.Draft4Validator(ERROR)


class TwilioSpec(Spec):
    def __init__(self) -> None:
        super().__init__("twilio/twilio-messages.json")

    def schema_for(self, operation: Operation, what: str) -> Schema:
        if what != "request":
            return super().schema_for(operation, what)
        form: Schema = operation.spec["requestBody"]["content"][FORM]["schema"]
        return form

    def check_request(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
    ) -> list[str]:
        operation = self.operation(method, path)
        problems = []
        if headers.get("content-type", "").split(";")[0] != FORM:
            problems.append(f"the body must be sent as {FORM}")
        sid = path.split("/")[3]
        if not re.fullmatch(r"AC[0-9a-fA-F]{32}", sid):
            problems.append(f"path parameter AccountSid {sid!r} is not an account SID")
        form = self._decoded(operation, body)
        return problems + self._errors(operation, "request", form)

    def check_response(self, method: str, path: str, status: int, body: Any) -> list[str]:
        if status < 400:
            return super().check_response(method, path, status, body)
        errors = _error.iter_errors(body)
        return [f"error answer {list(e.instance_path)}: {e.message}" for e in errors]

    def _decoded(self, operation: Operation, body: bytes) -> dict[str, Any]:
        """The form's fields, typed as the schema says (a form carries only text)."""
        properties = self.schema_for(operation, "request")["properties"]
        fields: dict[str, Any] = {}
        for name, value in parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=True):
            kind = properties.get(name, {}).get("type")
            if kind == "integer" and value.lstrip("-").isdigit():
                fields[name] = int(value)
            elif kind == "boolean" and value in ("true", "false"):
                fields[name] = value == "true"
            elif kind == "array":
                fields.setdefault(name, []).append(value)
            else:
                fields[name] = value
        return fields


def created_example(spec: Spec, path: str) -> dict[str, Any]:
    """The spec's own example of a message just created (its schema requires nothing,
    so one built from the schema alone would be empty)."""
    created = spec.operation("post", path).spec["responses"]["201"]
    example: dict[str, Any] = created["content"]["application/json"]["examples"]["create"]
    return deepcopy(example["value"])


def twilio_error(status: int, code: int, message: str) -> Answer:
    return Answer(
        status,
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


@dataclass
class TwilioWorld:
    """Accepts every message, unless ``next_answers`` holds answers to give first."""

    spec: Spec = field(default_factory=TwilioSpec)
    next_answers: list[Callable[[dict[str, str]], Answer]] = field(default_factory=list)
    sent: list[dict[str, str]] = field(default_factory=list)

    def answer(self, received: Received) -> Answer:
        if received.headers.get("authorization") != _basic(ACCOUNT_SID, AUTH_TOKEN):
            return twilio_error(401, 20003, "Authenticate")
        form = dict(parse_qsl(received.body.decode()))
        if self.next_answers:
            return self.next_answers.pop(0)(form)
        self.sent.append(form)
        message = created_example(self.spec, received.path)
        number = len(self.sent)
        message.update(
            account_sid=ACCOUNT_SID,
            sid=f"SM{number:032x}",
            to=form["To"],
            body=form["Body"],
            status="queued",
        )
        message["from"] = form["From"]
        return Answer(201, message)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
