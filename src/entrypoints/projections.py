"""The registered projections and the runner that keeps them up to date."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from commerce_core.effects.open_effects import OpenEffects
from commerce_core.eventstore import EventStore
from commerce_core.projections import Projection
from commerce_core.projections.analytics import OrderAnalytics
from commerce_core.projections.attribution import OrderAttribution
from commerce_core.projections.customer_list import CustomerList
from commerce_core.projections.customer_metrics import CustomerMetricsProjection
from commerce_core.projections.order_list import OrderList
from commerce_core.projections.payment_list import PaymentList
from commerce_core.projections.ports.read_models import ReadModelStore
from commerce_core.projections.product_list import ProductList
from commerce_core.projections.refund_approvals import RefundApprovals
from commerce_core.projections.runner import ProjectionRunner
from entrypoints.container import LocksFactory


def registered_projections() -> list[Projection]:
    """Every projection, heaviest first (CPU per event in bench/projections.py): runners
    share them out by their place in this list (the i-th to the runner of rank i modulo
    how many run), so that two runners get about as much work each (ADR 0054)."""
    return [
        OrderAnalytics(),
        OrderList(),
        OrderAttribution(),
        CustomerMetricsProjection(),
        PaymentList(),
        ProductList(),
        CustomerList(),
        RefundApprovals(),
        OpenEffects(),
    ]


@asynccontextmanager
async def running_projections(
    store: EventStore, read_models: ReadModelStore, locks: LocksFactory
) -> AsyncIterator[ProjectionRunner]:
    """Runs every projection until the block ends; across processes an advisory lock
    per projection lets exactly one process work on each, and the processes running
    share the projections out between them."""
    async with locks() as held:
        runner = ProjectionRunner(store, read_models, registered_projections(), locks=held)
        async with runner:
            yield runner
