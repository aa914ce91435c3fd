"""Rendering notification templates: each source is compiled once and reused, the sandbox
and the strict values hold for a reused template, and a broken one fails every time."""

from __future__ import annotations

import pytest

from commerce_core.notifications.defaults import DEFAULTS, TemplateSet
from commerce_core.notifications.notification import Kind
from commerce_core.notifications.templates import (
    SAMPLE,
    TemplateRenderError,
    _compiled,
    render,
)


def one_part(source: str) -> TemplateSet:
    return TemplateSet(subject="s", text=source, html="h", sms="m")


def test_a_source_is_compiled_once_and_rendered_with_each_call_s_values() -> None:
    templates = one_part("Hello {{ customer_name }}, order {{ order_number }} (unique 7f3a)")
    first = render(templates, {**SAMPLE, "customer_name": "Ada"})
    misses = _compiled.cache_info().misses
    second = render(templates, {**SAMPLE, "customer_name": "Grace"})
    assert _compiled.cache_info().misses == misses
    assert first.text == "Hello Ada, order 1001 (unique 7f3a)"
    assert second.text == "Hello Grace, order 1001 (unique 7f3a)"


def test_a_reused_template_still_refuses_unknown_values_and_python_internals() -> None:
    unknown = one_part("{{ no_such_value }} (unique 91c2)")
    internals = one_part("{{ order_number.__class__.__mro__ }} (unique 0d4e)")
    for templates in (unknown, unknown, internals, internals):
        with pytest.raises(TemplateRenderError):
            render(templates, SAMPLE)


def test_a_template_that_does_not_parse_fails_every_time() -> None:
    broken = one_part("{{ order_number (unique 55ab)")
    for _ in range(2):
        with pytest.raises(TemplateRenderError, match="text"):
            render(broken, SAMPLE)


def test_the_default_templates_render_the_same_twice() -> None:
    templates = DEFAULTS[Kind(next(iter(k.value for k in Kind)))]
    assert render(templates, SAMPLE) == render(templates, SAMPLE)
