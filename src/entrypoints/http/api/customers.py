"""Customers: registration, profile, notes, GDPR export and erasure."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from commerce_core.customers import services as service
from commerce_core.customers.services import CustomerPatch, RegisterCustomer
from commerce_core.customers.views import CustomerExport, CustomerView
from commerce_core.processes.customer_export import export_customer_with_orders
from commerce_core.shared.context import CommandContext
from commerce_core.shared.retry import retry_on_conflict
from entrypoints.http.api import examples
from entrypoints.http.auth import Principal
from entrypoints.http.bundles import customer_services
from entrypoints.http.openapi import command_problems, query_problems
from entrypoints.http.sealed_responses import names_customer
from entrypoints.http.services import Services, tenant_of


class NoteIn(msgspec.Struct, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]


class NoteOut(msgspec.Struct):
    customer_id: UUID
    number: int
    text: str


class CustomersController(Controller):
    path = "/customers"
    tags = ["customers"]

    @post(
        "/",
        summary="Register a customer",
        status_code=201,
        responses=command_problems("email-taken", "idempotent-response-erased"),
    )
    async def register(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[RegisterCustomer, examples.CUSTOMER],
        services: NamedDependency[Services],
        ctx: NamedDependency[CommandContext],
    ) -> CustomerView:
        """Registers a customer; personal data is stored encrypted under their own key.
        `consent` says which channels order notifications may use: email unless
        refused, SMS only when given (`{"email": true, "sms": false}` by default)."""
        view = await service.register_customer(customer_services(services), ctx, data)
        names_customer(request, view.id)
        return view

    @get("/{customer_id:uuid}", summary="Show a customer", responses=query_problems("not-found"))
    async def show(
        self,
        customer_id: FromPath[UUID],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
    ) -> CustomerView:
        """The customer's profile, addresses, tags and notes, decrypted; once erased, the
        personal fields are null. Changes nothing."""
        return await service.get_customer(
            services.repo, services.keyring, tenant_of(principal), customer_id
        )

    @patch(
        "/{customer_id:uuid}",
        summary="Change a customer",
        responses=command_problems(
            "not-found",
            "email-taken",
            "customer-erased",
            "concurrency-conflict",
            "idempotent-response-erased",
        ),
    )
    async def update(
        self,
        request: Request[Any, Any, Any],
        customer_id: FromPath[UUID],
        data: Annotated[CustomerPatch, examples.CUSTOMER_PATCH],
        services: NamedDependency[Services],
        ctx: NamedDependency[CommandContext],
    ) -> CustomerView:
        """Changes the fields given; a field left out is unchanged, null clears name or phone.
        `consent` replaces the order notification consent (email, sms)."""
        view = await retry_on_conflict(
            lambda: service.update_customer(customer_services(services), ctx, customer_id, data)
        )
        names_customer(request, customer_id)
        return view

    @post(
        "/{customer_id:uuid}/notes",
        summary="Add a note to a customer",
        status_code=201,
        responses=command_problems(
            "not-found", "customer-erased", "concurrency-conflict", "idempotent-response-erased"
        ),
    )
    async def add_note(
        self,
        request: Request[Any, Any, Any],
        customer_id: FromPath[UUID],
        data: Annotated[NoteIn, examples.NOTE],
        services: NamedDependency[Services],
        ctx: NamedDependency[CommandContext],
    ) -> NoteOut:
        """Adds a note for staff to the customer (stored encrypted, erased with them);
        notes are numbered in order."""
        number = await retry_on_conflict(
            lambda: service.add_customer_note(
                customer_services(services), ctx, customer_id, data.text
            )
        )
        names_customer(request, customer_id)
        return NoteOut(customer_id, number, data.text)

    @get(
        "/{customer_id:uuid}/export",
        summary="Export a customer's data (GDPR)",
        responses=query_problems("not-found"),
    )
    async def export(
        self,
        customer_id: FromPath[UUID],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
    ) -> CustomerExport:
        """Everything held about the customer (GDPR access and portability): the
        profile, every recorded change, and the shipping and billing addresses of their
        orders (found through the order list, which may lag a new order by a moment)."""
        return await export_customer_with_orders(
            services.repo,
            services.keyring,
            services.order_queries,
            tenant_of(principal),
            customer_id,
        )

    @delete(
        "/{customer_id:uuid}",
        summary="Erase a customer's personal data",
        status_code=204,
        responses=command_problems("not-found", "concurrency-conflict"),
    )
    async def erase(
        self,
        customer_id: FromPath[UUID],
        services: NamedDependency[Services],
        ctx: NamedDependency[CommandContext],
    ) -> None:
        """Erases personal data by deleting the customer's key; order and money history stay."""
        await retry_on_conflict(
            lambda: service.erase_customer(customer_services(services), ctx, customer_id)
        )
