"""What the OpenAPI document says of each operation beyond its schemas.

``DocumentOperations`` (a route plugin of the app) gives every documented operation:

- its description: the handler's docstring (what it does, what it changes), then who
  may call it, written from the role matrix (``entrypoints/http/roles.py``) so that
  the document cannot say other than the guard does;
- an example of each success response, from ``api/response_examples.py`` by the
  type the handler returns (a route may set its own, as ``ResponseSpec(examples=...)``);
- the ``Idempotency-Key`` header on the routes ``IdempotencyMiddleware`` handles (a
  POST, PUT, PATCH or DELETE that takes an API key), so a route cannot forget it.

Litestar builds an operation with the handler's ``operation_class``; the class made
here finishes it in ``__post_init__``, once Litestar has filled in the responses.
"""

from __future__ import annotations

import inspect
import typing
from dataclasses import dataclass
from typing import Any

from litestar.openapi.spec import Example, Operation, Reference
from litestar.plugins import ReceiveRoutePlugin
from litestar.response import Response
from litestar.routes import BaseRoute, HTTPRoute

from entrypoints.http.api.response_examples import example_of
from entrypoints.http.auth import needs_auth
from entrypoints.http.idempotency import METHODS as KEYED_METHODS
from entrypoints.http.openapi import IDEMPOTENCY_KEY, VerbatimExample
from entrypoints.http.roles import PUBLIC, RouteGroup, rule_of

WEBHOOKS = "/api/v1/webhooks"
WHO = "**Who may call it:**"


def who_may_call(method: str, path: str, group: RouteGroup | None) -> str:
    """The sentence of an operation's description that names the roles allowed."""
    if group is None:
        return f"{WHO} nobody yet: the route has no rule in the role matrix (403)."
    if group.roles == PUBLIC:
        if method == "POST" and path.startswith(WEBHOOKS):
            return (
                f"{WHO} the payment gateway; no API key, the gateway's "
                "signature authenticates the request."
            )
        return f"{WHO} anyone; no API key needed."
    roles = [f"`{role}`" for role in sorted(group.roles)]
    named = roles[0] if len(roles) == 1 else f"{', '.join(roles[:-1])} or {roles[-1]}"
    return f"{WHO} API keys of the role {named} (role matrix: {group.name})."


def description_of(docstring: str | None, method: str, path: str) -> str:
    text = inspect.cleandoc(docstring or "")
    if WHO in text:  # described already: a route registered again
        return text
    who = who_may_call(method, path, rule_of(method, path))
    return "\n\n".join(part for part in (text, who) if part)


def _returned(annotation: Any) -> Any:
    """The body type of a handler's return annotation (``Response[X]`` -> ``X``)."""
    if typing.get_origin(annotation) is Response:
        return typing.get_args(annotation)[0]
    return annotation


def _operation_class(keyed: bool, success_example: Any | None) -> type[Operation]:
    @dataclass
    class DocumentedOperation(Operation):
        def __post_init__(self) -> None:
            if keyed:
                self.parameters = [*(self.parameters or []), IDEMPOTENCY_KEY]
            for status, response in (self.responses or {}).items():
                if isinstance(response, Reference):
                    continue
                for media in (response.content or {}).values():
                    for example in (media.examples or {}).values():
                        if isinstance(example, Example):
                            example.id = None  # the key names it; OpenAPI has no "id" member
                    if status.startswith("2") and not media.examples and success_example:
                        media.examples = {
                            "example": VerbatimExample(
                                summary="A typical answer", value=success_example
                            )
                        }

    return DocumentedOperation


class DocumentOperations(ReceiveRoutePlugin):
    """Descriptions with roles, success examples and the idempotency header."""

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            method = sorted(handler.http_methods)[0]
            handler.description = description_of(
                handler.description or handler.fn.__doc__, method, route.path_format
            )
            returned = _returned(handler.parsed_fn_signature.return_type.annotation)
            keyed = needs_auth(route.path) and bool(handler.http_methods & KEYED_METHODS)
            handler.operation_class = _operation_class(keyed, example_of(returned))
