"""The templates every tenant starts with (a tenant may override them)."""

from __future__ import annotations

import msgspec

from commerce_core.notifications.notification import Kind


class TemplateSet(msgspec.Struct, frozen=True, kw_only=True):
    """A template: the email's subject and bodies, and the text message (empty for the
    kinds that go by email only)."""

    subject: str
    text: str
    html: str
    sms: str


def _set(subject: str, text: str, html: str, sms: str = "") -> TemplateSet:
    return TemplateSet(subject=subject, text=text, html=html, sms=sms)


_HELLO = "Hello {{ customer_name }},\n\n"
_BYE = "\n\n{{ shop_name }}\n"


def _html(body: str) -> str:
    return f"<p>Hello {{{{ customer_name }}}},</p>\n{body}\n<p>{{{{ shop_name }}}}</p>\n"


def _defaults() -> dict[Kind, TemplateSet]:
    return {
        Kind.ORDER_CONFIRMATION: _set(
            "Order {{ order_number }} confirmed",
            _HELLO + "thank you for your order {{ order_number }} of {{ total_amount }}"
            " {{ total_currency }} (minor units)." + _BYE,
            _html("<p>Thank you for your order <b>{{ order_number }}</b>.</p>"),
        ),
        Kind.PAYMENT_RECEIPT: _set(
            "Payment received for order {{ order_number }}",
            _HELLO + "we received your payment of {{ amount }} {{ currency }} (minor units)"
            " for order {{ order_number }}." + _BYE,
            _html("<p>We received your payment for order <b>{{ order_number }}</b>.</p>"),
        ),
        Kind.SHIPPED: _set(
            "Order {{ order_number }} is on its way",
            _HELLO + "order {{ order_number }} has shipped. Follow it: {{ tracking_url }}" + _BYE,
            _html(
                "<p>Order <b>{{ order_number }}</b> has shipped."
                ' <a href="{{ tracking_url }}">Follow it</a>.</p>'
            ),
            "{{ shop_name }}: order {{ order_number }} has shipped. {{ tracking_url }}",
        ),
        Kind.DELIVERED: _set(
            "Order {{ order_number }} was delivered",
            _HELLO + "order {{ order_number }} was delivered. Enjoy!" + _BYE,
            _html("<p>Order <b>{{ order_number }}</b> was delivered.</p>"),
            "{{ shop_name }}: order {{ order_number }} was delivered.",
        ),
        Kind.REFUND_ISSUED: _set(
            "Refund for order {{ order_number }}",
            _HELLO + "we refunded {{ amount }} {{ currency }} (minor units) for order"
            " {{ order_number }}." + _BYE,
            _html("<p>We issued a refund for order <b>{{ order_number }}</b>.</p>"),
        ),
        Kind.ORDER_CANCELLED: _set(
            "Order {{ order_number }} was cancelled",
            _HELLO + "order {{ order_number }} was cancelled." + _BYE,
            _html("<p>Order <b>{{ order_number }}</b> was cancelled.</p>"),
        ),
        Kind.PAYMENT_FAILED: _set(
            "Payment for order {{ order_number }} failed",
            _HELLO + "the payment for order {{ order_number }} failed. Try again:"
            " {{ retry_url }}" + _BYE,
            _html(
                "<p>The payment for order <b>{{ order_number }}</b> failed."
                ' <a href="{{ retry_url }}">Try again</a>.</p>'
            ),
        ),
    }


DEFAULTS: dict[Kind, TemplateSet] = _defaults()
