"""Rendering a notification from its template: Jinja2 in a sandbox, so a tenant's template
reaches only the values it is given (no attribute of Python internals, no imports).

A template has a ``subject``, a ``text`` and an ``html`` body for email and an ``sms``
body; a tenant may override any of them per kind (``TemplateOverride``), the rest come
from ``defaults``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import msgspec
from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from commerce_core.notifications.defaults import DEFAULTS, TemplateSet
from commerce_core.notifications.notification import Kind
from commerce_core.shared.errors import InvalidValueError

MAX_TEMPLATE_CHARS = 20_000


class TemplateOverride(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A tenant's own version of some parts of a template; a part left out (or null)
    keeps the default."""

    subject: str | None = None
    text: str | None = None
    html: str | None = None
    sms: str | None = None


class Rendered(msgspec.Struct, frozen=True, kw_only=True):
    subject: str
    text: str
    html: str
    sms: str


class TemplateRenderError(InvalidValueError):
    """A template that does not render: a syntax error, an unknown value, or a reach
    outside the sandbox."""


_TEXT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_HTML = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)


def parse_kind(name: str) -> Kind:
    try:
        return Kind(name)
    except ValueError:
        known = ", ".join(kind.value for kind in Kind)
        raise InvalidValueError(f"template {name!r} does not exist; use one of: {known}") from None


def merged(kind: Kind, override: TemplateOverride | None) -> TemplateSet:
    default = DEFAULTS[kind]
    if override is None:
        return default
    return TemplateSet(
        subject=override.subject if override.subject is not None else default.subject,
        text=override.text if override.text is not None else default.text,
        html=override.html if override.html is not None else default.html,
        sms=override.sms if override.sms is not None else default.sms,
    )


def check_override(override: TemplateOverride) -> TemplateOverride:
    for part in ("subject", "text", "html", "sms"):
        value = getattr(override, part)
        if value is not None and len(value) > MAX_TEMPLATE_CHARS:
            raise InvalidValueError(f"{part}: at most {MAX_TEMPLATE_CHARS} characters")
    return override


@lru_cache(maxsize=512)
def _compiled(env: SandboxedEnvironment, source: str) -> Template:
    # compiling is most of a render's cost, and the same few sources come back for every
    # notification (a syntax error raises, and is not kept)
    return env.from_string(source)


def _render(env: SandboxedEnvironment, part: str, source: str, values: Mapping[str, str]) -> str:
    try:
        return _compiled(env, source).render(values)
    except TemplateError as error:  # SecurityError and UndefinedError are TemplateErrors
        raise TemplateRenderError(f"{part}: {error}") from None


def render(templates: TemplateSet, values: Mapping[str, str]) -> Rendered:
    """Every part rendered with ``values``; ``TemplateRenderError`` names the first
    part that fails."""
    return Rendered(
        subject=" ".join(_render(_TEXT, "subject", templates.subject, values).split()),
        text=_render(_TEXT, "text", templates.text, values),
        html=_render(_HTML, "html", templates.html, values),
        sms=_render(_TEXT, "sms", templates.sms, values).strip(),
    )


SAMPLE: dict[str, str] = {
    "shop_name": "Example Shop",
    "customer_name": "Ada Lovelace",
    "order_number": "1001",
    "order_id": "00000000-0000-4000-8000-000000001001",
    "amount": "4999",
    "currency": "EUR",
    "total_amount": "4999",
    "total_currency": "EUR",
    "carrier": "dhl",
    "tracking_number": "JD014600006281230000",
    "tracking_url": "https://shop.example/orders/1001/tracking",
    "retry_url": "https://shop.example/orders/1001/pay",
    "reason": "card declined",
}
"""What a preview renders with: every value a default template uses."""
