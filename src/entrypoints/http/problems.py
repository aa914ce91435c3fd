"""Problem details (RFC 9457): the one place where errors become HTTP responses.

Every 4xx/5xx answer is ``application/problem+json``::

    {"type": "https://commerce-core.dev/problems/<slug>", "title", "status", "detail",
     ...extra members, "request_id"}

Domain errors never know their status: ``DOMAIN_PROBLEMS`` maps each error type to
``(status, slug)`` or ``(status, slug, extra)`` where ``extra(error)`` returns more
members. A subclass maps like its nearest mapped ancestor. Controllers that need a
problem of their own raise ``problem(status, slug, detail, **members)``.
"""

from __future__ import annotations

from collections.abc import Callable
from inspect import getmro
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.types import ExceptionHandlersMap, Scope, Send

from commerce_core.catalog.services import UnknownProductError
from commerce_core.channels.connections import PosNotConnectedError, UnknownOversellError
from commerce_core.channels.oauth import OAuthDeniedError, OAuthStateError
from commerce_core.channels.ports import PosError, PosRefusedError, PosUnavailableError
from commerce_core.customers.customer import CustomerBlockedError, CustomerErasedError
from commerce_core.customers.email_claim import EmailTakenError
from commerce_core.eventstore import AggregateNotFoundError, ConcurrencyError
from commerce_core.fulfilment.connections import CarrierNotConnectedError
from commerce_core.fulfilment.ports import (
    AddressRefusedError,
    CarrierError,
    CarrierRefusedError,
    CarrierUnavailableError,
    LabelNotVoidableError,
    UnsupportedServiceError,
)
from commerce_core.fulfilment.quote import QuoteRefusedError
from commerce_core.fulfilment.quoting import NotDeliverableError
from commerce_core.fulfilment.shipment import (
    LabelInProgressError,
    LabelOutcomeUnknownError,
    NoLabelError,
)
from commerce_core.inventory.stock import InsufficientStockError
from commerce_core.marketplace.seller import SellerNotFoundError
from commerce_core.merchant_webhooks.services import (
    DeliveryNotFoundError,
    EndpointNotFoundError,
    TooManyEndpointsError,
)
from commerce_core.notifications.templates import TemplateRenderError
from commerce_core.ordering.order import OrderAlreadyPaidError, PaymentInProgressError
from commerce_core.payments.destinations import SellerNotReadyError
from commerce_core.payments.payment import (
    CaptureExceedsAuthorizedError,
    PaymentBusyError,
    PaymentDeclinedError,
)
from commerce_core.payments.ports.gateway import GatewayRequestError, GatewayUnavailableError
from commerce_core.processes.channel_imports import ImportConflictError
from commerce_core.processes.labels import LabelErasedError, UnknownRateError
from commerce_core.processes.manual_payments import NotManualPaymentError
from commerce_core.shared.bounds import OutOfBoundsError
from commerce_core.shared.errors import DomainError, InvalidTransitionError, InvalidValueError
from commerce_core.shared.refunds import RefundExceedsCapturedError
from commerce_core.tenancy.settings_patch import InvalidSettingError
from entrypoints.http import problem_text
from entrypoints.http.route_text import routing_detail
from entrypoints.http.unavailable import RETRY_AFTER_SECONDS, database_unavailable
from entrypoints.http.validation_text import errors_detail

PROBLEM_TYPE_BASE = "https://commerce-core.dev/problems/"
PROBLEM_JSON = "application/problem+json"

ProblemExtra = Callable[[Any], dict[str, Any]]
ProblemMapping = tuple[int, str] | tuple[int, str, ProblemExtra]


def _transition(error: InvalidTransitionError) -> dict[str, Any]:
    return {"current": error.current, "target": error.target}


def _stock(error: InsufficientStockError) -> dict[str, Any]:
    return {
        "sku": error.sku,
        "requested": error.requested,
        "available": error.available,
        "skus": error.skus,
    }


def _product(error: UnknownProductError) -> dict[str, Any]:
    return {"sku": error.sku}


def _bounds(error: OutOfBoundsError) -> dict[str, Any]:
    # the same shape as a schema validation error, so clients read one kind of 422
    message = str(error)
    return {
        "field": error.field,
        "maximum": error.maximum,
        "errors": [{"key": error.field, "message": message, "source": "body"}],
    }


def _setting(error: InvalidSettingError) -> dict[str, Any]:
    return {
        "field": error.field,
        "errors": [{"key": error.field, "message": error.message, "source": "body"}],
    }


def _seller(error: SellerNotFoundError | SellerNotReadyError) -> dict[str, Any]:
    return {"seller_id": error.seller_id}


def _gateway(error: GatewayRequestError) -> dict[str, Any]:
    return {"gateway_code": error.code}


def _decline(error: PaymentDeclinedError) -> dict[str, Any]:
    return {"decline_code": error.decline_code}


def _refund(error: RefundExceedsCapturedError) -> dict[str, Any]:
    return {"requested": error.requested.amount, "refundable": error.refundable.amount}


def _in_progress(error: PaymentInProgressError) -> dict[str, Any]:
    return {"payment_id": str(error.payment_id)}


def _quote(error: QuoteRefusedError) -> dict[str, Any]:
    return {"reason": error.reason.value}


def _import(error: ImportConflictError) -> dict[str, Any]:
    return {"order_id": str(error.order_id)}


def _busy(error: PaymentBusyError) -> dict[str, Any]:
    return {"payment_id": str(error.payment_id), "busy_with": error.busy_with}


DOMAIN_PROBLEMS: dict[type[Exception], ProblemMapping] = {
    DomainError: (409, "conflict"),
    InvalidTransitionError: (409, "invalid-transition", _transition),
    InvalidValueError: (422, "validation-error"),
    OutOfBoundsError: (422, "validation-error", _bounds),
    InvalidSettingError: (422, "validation-error", _setting),
    ConcurrencyError: (409, "concurrency-conflict"),
    AggregateNotFoundError: (404, "not-found"),
    UnknownProductError: (422, "validation-error", _product),
    GatewayUnavailableError: (503, "gateway-unavailable"),
    GatewayRequestError: (409, "gateway-error", _gateway),
    CarrierError: (502, "carrier-error"),
    # labels (ADR 0030): a carrier's refusal is the client's to fix, with its message
    CarrierUnavailableError: (503, "carrier-unavailable"),
    CarrierRefusedError: (422, "carrier-refused"),
    AddressRefusedError: (422, "address-refused"),
    UnsupportedServiceError: (422, "unsupported-service"),
    LabelNotVoidableError: (409, "label-not-voidable"),
    CarrierNotConnectedError: (422, "carrier-not-connected"),
    UnknownRateError: (422, "rate-not-found"),
    LabelInProgressError: (409, "label-in-progress"),
    LabelOutcomeUnknownError: (409, "label-outcome-unknown"),
    NoLabelError: (404, "no-label"),
    LabelErasedError: (410, "label-erased"),
    InsufficientStockError: (409, "insufficient-stock", _stock),
    PaymentDeclinedError: (402, "payment-declined", _decline),
    RefundExceedsCapturedError: (409, "refund-exceeds-captured", _refund),
    CaptureExceedsAuthorizedError: (409, "capture-exceeds-authorized"),
    EmailTakenError: (409, "email-taken"),
    CustomerBlockedError: (409, "customer-blocked"),
    CustomerErasedError: (409, "customer-erased"),
    SellerNotFoundError: (404, "seller-not-found", _seller),
    SellerNotReadyError: (409, "seller-not-ready", _seller),
    OrderAlreadyPaidError: (409, "order-already-paid"),
    PaymentInProgressError: (409, "payment-in-progress", _in_progress),
    PaymentBusyError: (409, "payment-in-progress", _busy),
    NotDeliverableError: (422, "not-deliverable"),
    QuoteRefusedError: (422, "shipping-quote-refused", _quote),
    EndpointNotFoundError: (404, "not-found"),
    DeliveryNotFoundError: (404, "not-found"),
    TooManyEndpointsError: (409, "webhook-endpoint-limit"),
    ImportConflictError: (409, "import-conflict", _import),
    TemplateRenderError: (422, "template-invalid"),
    # POS connections (ADR 0037): a forced pull the POS refused or could not answer
    PosNotConnectedError: (422, "pos-not-connected"),
    UnknownOversellError: (404, "not-found"),
    PosUnavailableError: (503, "pos-unavailable"),
    PosRefusedError: (422, "pos-refused"),
    PosError: (502, "pos-error"),
    # POS OAuth (ADR 0043): a callback whose state or grant does not hold
    OAuthStateError: (400, "invalid-oauth-state"),
    OAuthDeniedError: (400, "oauth-denied"),
}
"""Domain error type -> (status, slug[, extra]). Add your module's errors here."""

DETAILS: dict[type[Exception], Callable[[Any, Scope], str]] = {
    AggregateNotFoundError: problem_text.not_found,
    InvalidTransitionError: problem_text.transition,
    OrderAlreadyPaidError: problem_text.already_paid,
    InsufficientStockError: problem_text.insufficient_stock,
    UnknownProductError: problem_text.unknown_product,
    NotManualPaymentError: problem_text.card_refund,
}
"""Domain error type -> the ``detail`` a client reads (default: the error's message)."""

# Outcomes that invite the client to retry as is: an Idempotency-Key is released, not kept.
RETRYABLE_SLUGS = frozenset(
    {
        "concurrency-conflict",
        "gateway-unavailable",
        "carrier-unavailable",
        "pos-unavailable",
        "label-in-progress",
        "payment-in-progress",
        "rate-limited",
        "service-unavailable",
    }
)
RETRYABLE_FLAG = "problem_retryable"

TITLES = {
    "validation-error": "Invalid request",
    "not-found": "Not found",
    "invalid-transition": "Not possible in its current state",
    "insufficient-stock": "Insufficient stock",
    "concurrency-conflict": "Changed concurrently; retry",
    "payment-declined": "Payment declined",
    "refund-exceeds-captured": "Refund exceeds the captured amount",
    "order-already-paid": "The order is paid already",
    "payment-in-progress": "A payment is under way; retry once it is settled",
    "idempotency-key-reused": "Idempotency-Key reused with another request",
    "idempotency-key-in-progress": "A request with this Idempotency-Key is in progress",
    "unauthorized": "Unauthorized",
    "forbidden": "Forbidden",
    "invalid-signature": "Invalid signature",
    "method-not-allowed": "Method not allowed",
    "payload-too-large": "Request body too large",
    "internal-error": "Internal error",
    "rate-limited": "Too many requests",
    "unsupported-media-type": "Unsupported media type",
    "service-unavailable": "Service unavailable; retry later",
    "not-deliverable": "The shop does not ship this there",
    "shipping-quote-refused": "The shipping quote cannot be used for this order",
    "template-invalid": "The notification template does not render",
    "pos-not-connected": "The point of sale is not connected",
    "pos-unavailable": "The point of sale did not answer; retry later",
    "pos-refused": "The point of sale refused the request",
    "pos-error": "The point of sale failed",
    "invalid-oauth-state": "The OAuth state is unknown, used, expired or not yours",
    "oauth-denied": "The point of sale's account owner did not grant access",
    "oauth-not-configured": "The platform has no OAuth app at this point of sale",
}

HTTP_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "rate-limited",
    500: "internal-error",
    503: "service-unavailable",
}

_UNEXPECTED = "An unexpected error occurred; quote the request_id when reporting it."
_LITESTAR_VALIDATION = "Validation failed for "


def title_of(slug: str) -> str:
    return TITLES.get(slug) or slug.replace("-", " ").capitalize()


def problem_body(
    status: int,
    slug: str,
    detail: str,
    *,
    request_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title_of(slug),
        "status": status,
        "detail": detail,
    }
    body.update(extra or {})
    if request_id:
        body["request_id"] = request_id
    return body


def problem(status: int, slug: str, detail: str, **extra: Any) -> ProblemDetailsException:
    """An exception to raise from a controller: it becomes this problem response."""
    return ProblemDetailsException(
        detail=detail,
        status_code=status,
        type_=PROBLEM_TYPE_BASE + slug,
        title=title_of(slug),
        extra=extra or None,
    )


def _request_id(scope: Scope) -> str | None:
    request_id = scope.get("state", {}).get("request_id")
    return request_id if isinstance(request_id, str) else None


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    slug: str,
    detail: str,
    *,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    if slug in RETRYABLE_SLUGS:
        request.scope.setdefault("state", {})[RETRYABLE_FLAG] = True
    body = problem_body(status, slug, detail, request_id=_request_id(request.scope), extra=extra)
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def send_problem(
    scope: Scope,
    send: Send,
    status: int,
    slug: str,
    detail: str,
    headers: dict[str, str] | None = None,
) -> None:
    """Answers with a problem straight from an ASGI middleware (outside the handlers)."""
    body = msgspec.json.encode(problem_body(status, slug, detail, request_id=_request_id(scope)))
    raw_headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def domain_problem(error: Exception) -> tuple[int, str, dict[str, Any]] | None:
    """The (status, slug, extra members) of a mapped error type, or None."""
    for cls in getmro(type(error)):
        mapping = DOMAIN_PROBLEMS.get(cls)
        if mapping is not None:
            extra = mapping[2](error) if len(mapping) == 3 else {}
            return mapping[0], mapping[1], extra
    return None


def _on_problem(request: Request[Any, Any, Any], exc: ProblemDetailsException) -> Response[Any]:
    slug = (exc.type_ or "").removeprefix(PROBLEM_TYPE_BASE) or HTTP_SLUGS.get(
        exc.status_code, "error"
    )
    extra = exc.extra if isinstance(exc.extra, dict) else None
    return problem_response(
        request, exc.status_code, slug, exc.detail, extra=extra, headers=exc.headers
    )


def _on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, ValidationException):
        errors = exc.extra if isinstance(exc.extra, list) else []
        detail = exc.detail
        if detail.startswith(_LITESTAR_VALIDATION):  # Litestar's own: name the fields
            detail = errors_detail(errors) or "the request's parameters are not valid"
        return problem_response(request, 422, "validation-error", detail, extra={"errors": errors})
    if isinstance(exc.__cause__, SerializationException):  # the body is not valid JSON
        detail = "the body is not valid JSON; send a JSON object"
        return problem_response(request, 422, "validation-error", detail, extra={"errors": []})
    if exc.status_code >= 500:
        return _on_unexpected(request, exc)
    slug = HTTP_SLUGS.get(exc.status_code, "error")
    detail = routing_detail(request, exc)
    return problem_response(request, exc.status_code, slug, detail, headers=exc.headers)


def domain_detail(error: Exception, scope: Scope) -> str:
    """The sentence a client reads for a domain error (see ``problem_text``)."""
    for cls in getmro(type(error)):
        describe = DETAILS.get(cls)
        if describe is not None:
            return describe(error, scope)
    return str(error)


def _on_domain_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    mapped = domain_problem(exc)
    if mapped is None:  # a handler is only registered for mapped types
        return _on_unexpected(request, exc)
    status, slug, extra = mapped
    detail = domain_detail(exc, request.scope)
    return problem_response(request, status, slug, detail, extra=extra)


def _on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # a logger per call (not cached at import) follows the logging set up at the time
    log = structlog.get_logger("http.problems")
    if database_unavailable(exc):
        log.warning(
            "database unavailable", method=request.method, path=request.url.path, error=repr(exc)
        )
        return problem_response(
            request,
            503,
            "service-unavailable",
            "the database cannot be reached; retry after a moment",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    log.error(
        "unhandled exception",
        method=request.method,
        path=request.url.path,
        exc_info=exc,
    )
    return problem_response(request, 500, "internal-error", _UNEXPECTED)


def exception_handlers() -> ExceptionHandlersMap:
    """The app's exception handlers: domain errors, HTTP errors, anything unexpected."""
    handlers: ExceptionHandlersMap = dict.fromkeys(DOMAIN_PROBLEMS, _on_domain_error)
    handlers[ProblemDetailsException] = _on_problem
    handlers[HTTPException] = _on_http_error
    handlers[Exception] = _on_unexpected
    return handlers
