"""Endpoint use cases: register, change, rotate the secret, remove; retry a delivery.

A signing secret is returned by ``register`` and ``rotate_secret`` only: the caller
shows it once, and nothing else ever returns it (the stores keep it sealed)."""

from __future__ import annotations

import secrets as random_secrets
from dataclasses import dataclass
from uuid import UUID

import msgspec

from commerce_core.merchant_webhooks.deliveries import Delivery, DeliveryStatus
from commerce_core.merchant_webhooks.endpoints import (
    EndpointStatus,
    SigningSecrets,
    WebhookEndpoint,
)
from commerce_core.merchant_webhooks.events import check_patterns
from commerce_core.merchant_webhooks.ports import DeliveryKey, WebhookDeliveries, WebhookEndpoints
from commerce_core.merchant_webhooks.urls import UrlRules, parse_url
from commerce_core.shared.errors import DomainError
from commerce_core.shared.ports.clock import Clock, Ids

MAX_ENDPOINTS = 20
"""Per tenant: each endpoint multiplies the deliveries of every event."""


class EndpointNotFoundError(DomainError):
    def __init__(self, endpoint_id: UUID) -> None:
        super().__init__(f"no webhook endpoint {endpoint_id}")


class DeliveryNotFoundError(DomainError):
    def __init__(self, delivery_id: UUID) -> None:
        super().__init__(f"no webhook delivery {delivery_id}")


class TooManyEndpointsError(DomainError):
    def __init__(self) -> None:
        super().__init__(
            f"a tenant may have at most {MAX_ENDPOINTS} webhook endpoints; delete one first"
            " (DELETE /webhook-endpoints/{id})"
        )


@dataclass(frozen=True)
class EndpointDeps:
    endpoints: WebhookEndpoints
    deliveries: WebhookDeliveries
    clock: Clock
    ids: Ids
    rules: UrlRules


class RegisterEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    events: list[str]
    description: str | None = None


class ChangeEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    """``None`` keeps a field; enabling an endpoint clears its notice and failure streak."""

    url: str | None = None
    events: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None


def new_secret() -> str:
    return "whsec_" + random_secrets.token_hex(32)


async def register(
    deps: EndpointDeps, tenant: str, command: RegisterEndpoint
) -> tuple[WebhookEndpoint, str]:
    """The new endpoint and its signing secret (to show once)."""
    parse_url(command.url, deps.rules)
    events = check_patterns(command.events)
    if len(await deps.endpoints.list(tenant)) >= MAX_ENDPOINTS:
        raise TooManyEndpointsError
    now = deps.clock.now()
    secret = new_secret()
    endpoint = WebhookEndpoint(
        id=deps.ids.new_id(),
        tenant=tenant,
        url=command.url,
        events=events,
        description=command.description,
        status=EndpointStatus.ENABLED,
        notice=None,
        created_at=now,
        updated_at=now,
        secrets=SigningSecrets(current=secret),
    )
    await deps.endpoints.add(endpoint)
    return endpoint, secret


async def endpoint_of(deps: EndpointDeps, tenant: str, endpoint_id: UUID) -> WebhookEndpoint:
    endpoint = await deps.endpoints.get(tenant, endpoint_id)
    if endpoint is None:
        raise EndpointNotFoundError(endpoint_id)
    return endpoint


async def change(
    deps: EndpointDeps, tenant: str, endpoint_id: UUID, command: ChangeEndpoint
) -> WebhookEndpoint:
    endpoint = await endpoint_of(deps, tenant, endpoint_id)
    changes: dict[str, object] = {"updated_at": deps.clock.now()}
    if command.url is not None:
        parse_url(command.url, deps.rules)
        changes["url"] = command.url
    if command.events is not None:
        changes["events"] = check_patterns(command.events)
    if command.description is not None:
        changes["description"] = command.description
    if command.enabled is True:
        changes.update(status=EndpointStatus.ENABLED, notice=None, failing_since=None)
    elif command.enabled is False:
        changes.update(status=EndpointStatus.DISABLED, notice=None)
    changed = msgspec.structs.replace(endpoint, **changes)
    await deps.endpoints.save(changed)
    return changed


async def rotate_secret(
    deps: EndpointDeps, tenant: str, endpoint_id: UUID
) -> tuple[WebhookEndpoint, str]:
    """A new secret (to show once); the old one signs too for ``ROTATION_WINDOW``."""
    endpoint = await endpoint_of(deps, tenant, endpoint_id)
    now = deps.clock.now()
    secret = new_secret()
    rotated = msgspec.structs.replace(
        endpoint, secrets=endpoint.secrets.rotated(secret, now), updated_at=now
    )
    await deps.endpoints.save(rotated)
    return rotated, secret


async def remove(deps: EndpointDeps, tenant: str, endpoint_id: UUID) -> None:
    if not await deps.endpoints.delete(tenant, endpoint_id):
        raise EndpointNotFoundError(endpoint_id)


@dataclass(frozen=True)
class DeliveryPage:
    """Which of an endpoint's deliveries: a status (or all), how many, after which one."""

    status: DeliveryStatus | None
    limit: int
    after: DeliveryKey | None = None


async def deliveries_of(
    deps: EndpointDeps, tenant: str, endpoint_id: UUID, page: DeliveryPage
) -> list[Delivery]:
    await endpoint_of(deps, tenant, endpoint_id)
    return await deps.deliveries.of_endpoint(
        tenant, endpoint_id, page.status, page.limit, page.after
    )


async def retry_delivery(deps: EndpointDeps, tenant: str, delivery_id: UUID) -> Delivery:
    """Sends the delivery again now, whatever its status (a new attempt, same event id)."""
    delivery = await deps.deliveries.get(tenant, delivery_id)
    if delivery is None:
        raise DeliveryNotFoundError(delivery_id)
    await deps.deliveries.retry(tenant, delivery_id, deps.clock.now())
    found = await deps.deliveries.get(tenant, delivery_id)
    if found is None:  # its endpoint was deleted meanwhile
        raise DeliveryNotFoundError(delivery_id)
    return found
