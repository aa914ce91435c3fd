"""Where a webhook may be sent: https (http only on loopback or when allowed), and never
to private, link-local or metadata addresses unless the deployment allows them.

The rules run twice: when an endpoint is saved (on its URL, with a literal address
checked at once) and before every delivery (on the addresses its host resolves to
then), so a name that later resolves to a private address (DNS rebinding) is refused.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from commerce_core.shared.errors import InvalidValueError

MAX_URL_LENGTH = 2048

_URL = re.compile(
    r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<host>\[[0-9a-f:.]+\]|[^/?#:@\[\]\s]+)"
    r"(?::(?P<port>\d{1,5}))?(?P<rest>[/?#]\S*)?$",
    re.IGNORECASE,
)
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9-]{1,63}$")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefusedError(InvalidValueError):
    """The URL's host is, or resolves to, an address webhooks may not reach."""


@dataclass(frozen=True)
class UrlRules:
    """``allow_http``: http to any host; ``allow_private``: private, loopback and
    link-local addresses (tests, a receiver inside the same network)."""

    allow_http: bool = False
    allow_private: bool = False


@dataclass(frozen=True)
class WebhookUrl:
    url: str
    scheme: str
    host: str
    port: int


def parse_url(url: str, rules: UrlRules) -> WebhookUrl:
    """The parts of ``url``; ``InvalidValueError`` when the API may not send to it."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidValueError(f"url: at most {MAX_URL_LENGTH} characters")
    found = _URL.match(url)
    if found is None:  # the pattern admits no user or password before the host
        raise InvalidValueError("url: an absolute https URL without user or password, please")
    scheme = found["scheme"].lower()
    host = found["host"].strip("[]").lower()
    literal = _literal(host)
    if literal is None and not _HOSTNAME.match(host):
        raise InvalidValueError(f"url: {host!r} is not a host name")
    if scheme not in ("http", "https"):
        raise InvalidValueError("url: the scheme must be https")
    loopback = host == "localhost" or (literal is not None and literal.is_loopback)
    if scheme == "http" and not (rules.allow_http or loopback):
        raise InvalidValueError("url: webhooks are sent over https only (http on loopback)")
    if literal is not None:
        check_address(literal, rules)
    elif host == "localhost" or host.endswith(".localhost"):
        check_address(ipaddress.ip_address("127.0.0.1"), rules)
    port = int(found["port"]) if found["port"] else (443 if scheme == "https" else 80)
    if not 0 < port < 65536:
        raise InvalidValueError("url: the port must be between 1 and 65535")
    return WebhookUrl(url=url, scheme=scheme, host=host, port=port)


def check_address(address: Address, rules: UrlRules) -> None:
    """Refuses what is not on the public internet, unless the rules allow it."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_global and not address.is_multicast:
        return
    if rules.allow_private and not (address.is_multicast or address.is_unspecified):
        return
    raise AddressRefusedError(
        f"url: {address} is a private, loopback, link-local or reserved address;"
        " webhooks go to public addresses only"
    )


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None
