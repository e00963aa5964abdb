"""The demo shop's HTTP API (demo: replace with your app's routes).

Public catalog reads are cacheable by the edge and by the origin's own Redis copy; writes purge
the tags they touch. Orders are private to their owner, never cached anywhere, and placed
idempotently (``Idempotency-Key``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.endpoints import HTTPEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import origin.fields  # noqa: F401  (registers the db_id path convertor the routes use)
from origin.demo import catalog, orders
from origin.demo.errors import DemoError, InvalidCursor
from origin.demo.models import IDEMPOTENCY_KEY_MAX
from origin.demo.pagination import Cursor
from origin.demo.schemas import (
    DEFAULT_PAGE_SIZE,
    OrderCreate,
    OrderRead,
    Page,
    PageSize,
    ProductCreate,
    ProductQuery,
    ProductRead,
    ProductUpdate,
)
from origin.errors import ApiError
from origin.fields import DbId
from origin.http_cache import CachePolicy, cached_json, invalidating
from origin.idempotency import idempotent
from origin.observability.openapi import Answer, ErrorBody, Header, operation
from origin.principals import require_principal
from origin.services import services
from origin.validation import read_json, read_query

CATALOG_POLICY = CachePolicy(s_maxage=60, stale_while_revalidate=30, stale_if_error=600)
PRIVATE = {"Cache-Control": "private, no-store"}
CATALOG_TAG = "products"


# A written product or order: where it lives now.
CREATED_AT = {"Location": Header("The URL of the product or order.")}
# A cursor is only ever one the server made: anything else is 400 invalid_cursor.
INVALID_CURSOR = InvalidCursor.status


class OrdersQuery(BaseModel):
    """Paging for the order list, parsed from a query string."""

    model_config = ConfigDict(extra="forbid")

    limit: PageSize = DEFAULT_PAGE_SIZE
    cursor: Cursor | None = None


class ProductPath(BaseModel):
    product_id: DbId


class OrderPath(BaseModel):
    order_id: DbId


class OrderHeaders(BaseModel):
    """The headers placing an order takes (for the document: the route reads them itself)."""

    idempotency_key: Annotated[
        str,
        Field(
            alias="Idempotency-Key",
            min_length=1,
            max_length=IDEMPOTENCY_KEY_MAX,
            pattern=orders.IDEMPOTENCY_KEY_PATTERN,
            description="Unique per order (e.g. a UUID): a retry with the same key and body gets"
            " the same order back; the same key with another body is 422.",
        ),
    ]


def product_tag(product_id: int) -> str:
    return f"product:{product_id}"


@operation(
    summary="List products",
    query=ProductQuery,
    responses={200: Page[ProductRead], INVALID_CURSOR: ErrorBody, 503: ErrorBody},
    tags=["catalog"],
)
async def list_products(request: Request) -> Response:
    """Products by ascending id, filtered, one page at a time (``next_cursor`` for the next)."""
    query = read_query(request, ProductQuery)

    async def produce() -> object:
        async with services(request).sessions() as session:
            page = await catalog.list_products(session, **query.model_dump())
        return page.model_dump(mode="json")

    return await cached_json(request, tags=[CATALOG_TAG], policy=CATALOG_POLICY, produce=produce)


@operation(
    summary="One product",
    path=ProductPath,
    responses={200: ProductRead, 304: None, 404: ErrorBody, 503: ErrorBody},
    tags=["catalog"],
)
async def get_product(request: Request) -> Response:
    """The product; ``If-None-Match`` with its ETag answers 304."""
    product_id = path_id(request, "product_id")

    async def produce() -> object:
        async with services(request).sessions() as session:
            product = await catalog.get_product(session, product_id)
        return product.model_dump(mode="json")

    return await cached_json(
        request, tags=[product_tag(product_id)], policy=CATALOG_POLICY, produce=produce
    )


@operation(
    summary="Create a product",
    request_body=ProductCreate,
    responses={201: Answer(ProductRead, headers=CREATED_AT), 409: ErrorBody, 503: ErrorBody},
    tags=["catalog"],
)
async def create_product(request: Request) -> Response:
    """Admins only (the route table says so)."""
    data = await read_json(request, ProductCreate)
    async with invalidating(request, [CATALOG_TAG]) as write:
        product = await catalog.create_product(write.session, data)
    return written(product, status=201, purged=write.headers)


@operation(
    summary="Change a product",
    path=ProductPath,
    request_body=ProductUpdate,
    responses={200: ProductRead, 404: ErrorBody, 409: ErrorBody, 503: ErrorBody},
    tags=["catalog"],
)
async def update_product(request: Request) -> Response:
    """Admins only; only the fields sent change."""
    product_id = path_id(request, "product_id")
    changes = await read_json(request, ProductUpdate)
    async with invalidating(request, [CATALOG_TAG, product_tag(product_id)]) as write:
        product = await catalog.update_product(write.session, product_id, changes)
    return written(product, status=200, purged=write.headers)


@operation(
    summary="Delete a product",
    path=ProductPath,
    responses={204: None, 404: ErrorBody, 409: ErrorBody, 503: ErrorBody},
    tags=["catalog"],
)
async def delete_product(request: Request) -> Response:
    """Admins only; a product that orders refer to cannot be deleted (409)."""
    product_id = path_id(request, "product_id")
    async with invalidating(request, [CATALOG_TAG, product_tag(product_id)]) as write:
        await catalog.delete_product(write.session, product_id)
    return Response(status_code=204, headers={**PRIVATE, **write.headers})


@operation(
    summary="Place an order",
    request_body=OrderCreate,
    headers=OrderHeaders,
    responses={
        201: Answer(OrderRead, headers=CREATED_AT),
        400: ErrorBody,
        404: ErrorBody,
        409: ErrorBody,
        422: ErrorBody,
        503: ErrorBody,
    },
    tags=["orders"],
)
async def place_order(request: Request) -> Response:
    """Needs an ``Idempotency-Key`` header: a retry with the same key and body gets the same
    order back (``Idempotent-Replayed: true``), never a second one."""
    principal = await require_principal(request)
    key = request.headers.get("idempotency-key")
    if key is None:
        raise ApiError(
            400,
            "idempotency_key_required",
            "send an Idempotency-Key header (e.g. a UUID) so retries are safe",
        )
    orders.check_idempotency_key(key)
    order_request = await read_json(request, OrderCreate)
    fingerprint = orders.order_fingerprint(order_request)

    # Stock changes, so the products' cached copies go stale. A replay changes nothing and
    # purges again, which is harmless (and rare).
    stocked = [CATALOG_TAG, *(product_tag(line.product_id) for line in order_request.items)]

    async def place() -> Response:
        async with invalidating(request, stocked) as write:
            order, created = await orders.place_order(
                write.session, principal.subject, order_request.items, key, fingerprint
            )
        headers = {**PRIVATE, "Location": f"/api/orders/{order.id}"}
        if created:
            headers.update(write.headers)
        else:
            headers["Idempotent-Replayed"] = "true"
            services(request).metrics.idempotent_replays.inc(("database",))
        return JSONResponse(order.model_dump(mode="json"), status_code=201, headers=headers)

    return await idempotent(
        request, owner=principal.subject, key=key, fingerprint=fingerprint, run=place
    )


@operation(
    summary="Your orders",
    query=OrdersQuery,
    responses={200: Page[OrderRead], INVALID_CURSOR: ErrorBody, 503: ErrorBody},
    tags=["orders"],
)
async def list_orders(request: Request) -> Response:
    """The caller's orders, newest first."""
    principal = await require_principal(request)
    query = read_query(request, OrdersQuery)
    async with services(request).sessions() as session:
        page = await orders.list_orders(
            session, principal.subject, limit=query.limit, cursor=query.cursor
        )
    return JSONResponse(page.model_dump(mode="json"), headers=PRIVATE)


@operation(
    summary="One of your orders",
    path=OrderPath,
    responses={200: OrderRead, 404: ErrorBody, 503: ErrorBody},
    tags=["orders"],
)
async def get_order(request: Request) -> Response:
    """Another caller's order is 404, as if it did not exist."""
    principal = await require_principal(request)
    order_id = path_id(request, "order_id")
    async with services(request).sessions() as session:
        order = await orders.get_order(session, principal.subject, order_id)
    return JSONResponse(order.model_dump(mode="json"), headers=PRIVATE)


def path_id(request: Request, name: str) -> int:
    """A ``{name:db_id}`` path parameter: the router matched only ids a row can have, so a
    larger one never got here (a 404, not the database's error)."""
    value: int = request.path_params[name]
    return value


def written(product: ProductRead, *, status: int, purged: dict[str, str]) -> Response:
    return JSONResponse(
        product.model_dump(mode="json"),
        status_code=status,
        headers={**PRIVATE, **purged, "Location": f"/api/products/{product.id}"},
    )


def demo_error_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DemoError)
    return ApiError(exc.status, exc.code, str(exc), **_facts_of(exc)).to_response()


def _facts_of(error: DemoError) -> dict[str, Any]:
    names = ("product_id", "order_id", "requested", "available", "sku")
    return {name: getattr(error, name) for name in names if hasattr(error, name)}


# One endpoint class per path, so a wrong method gets 405 with every allowed method in
# ``Allow`` (separate routes per method would each know only their own).
class ProductCollection(HTTPEndpoint):
    get = staticmethod(list_products)
    post = staticmethod(create_product)


class ProductItem(HTTPEndpoint):
    get = staticmethod(get_product)
    patch = staticmethod(update_product)
    delete = staticmethod(delete_product)


class OrderCollection(HTTPEndpoint):
    get = staticmethod(list_orders)
    post = staticmethod(place_order)


class OrderItem(HTTPEndpoint):
    get = staticmethod(get_order)


ROUTES = [
    Route("/api/products", ProductCollection),
    Route("/api/products/{product_id:db_id}", ProductItem),
    Route("/api/orders", OrderCollection),
    Route("/api/orders/{order_id:db_id}", OrderItem),
]
EXCEPTION_HANDLERS = {DemoError: demo_error_response}
