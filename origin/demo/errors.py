"""What can go wrong in the demo domain, as plain exceptions (the routes turn them into HTTP).

Each class declares the HTTP ``status`` it answers with (``*NotFound`` 404; ``Conflict`` and its
subclasses, duplicate SKU, product in use, out of stock, 409; ``VersionMismatch`` 412;
``IdempotencyKeyReused`` 422; ``InvalidIdempotencyKey`` and ``InvalidCursor`` 400), a stable
``code`` for the JSON error body and the facts a client needs (which product, how many are left)
as attributes, so the mapping to a response is mechanical: a new error states its status where it
is defined, not in a table elsewhere.
"""

from __future__ import annotations

from typing import ClassVar

from origin.idempotency import KEY_REUSED_CODE, key_reused_detail


class DemoError(Exception):
    """Base of the demo domain's errors."""

    status: ClassVar[int] = 400
    """The HTTP status this error answers with; subclasses that mean something else override it."""
    code: ClassVar[str] = "demo_error"


class ProductNotFound(DemoError):
    status = 404
    code = "product_not_found"

    def __init__(self, product_id: int) -> None:
        super().__init__(f"product {product_id} not found")
        self.product_id = product_id


class OrderNotFound(DemoError):
    status = 404
    code = "order_not_found"

    def __init__(self, order_id: int) -> None:
        super().__init__(f"order {order_id} not found")
        self.order_id = order_id


class Conflict(DemoError):
    """The request contradicts the current state (HTTP 409)."""

    status = 409
    code = "conflict"


class DuplicateSku(Conflict):
    code = "duplicate_sku"

    def __init__(self, sku: str) -> None:
        super().__init__(f"a product with SKU {sku!r} already exists")
        self.sku = sku


class ProductInUse(Conflict):
    code = "product_in_use"

    def __init__(self, product_id: int) -> None:
        super().__init__(f"product {product_id} appears in orders and cannot be deleted")
        self.product_id = product_id


class VersionMismatch(DemoError):
    """The client's copy is stale (an ``If-Match`` ETag that no longer matches: HTTP 412)."""

    status = 412
    code = "version_mismatch"

    def __init__(self, product_id: int, expected: int, current: int) -> None:
        super().__init__(
            f"product {product_id} is at version {current}, not {expected}; fetch it again"
        )
        self.product_id = product_id
        self.expected = expected
        self.current = current


class OutOfStock(Conflict):
    code = "out_of_stock"

    def __init__(self, product_id: int, requested: int, available: int) -> None:
        super().__init__(
            f"product {product_id} has {available} in stock, {requested} were requested"
        )
        self.product_id = product_id
        self.requested = requested
        self.available = available


class IdempotencyKeyReused(DemoError):
    """The same key came back with a different request: refuse rather than guess (HTTP 422)."""

    status = 422
    code = KEY_REUSED_CODE

    def __init__(self, key: str) -> None:
        super().__init__(key_reused_detail(key))
        self.key = key


class InvalidIdempotencyKey(DemoError):
    status = 400
    code = "invalid_idempotency_key"

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid Idempotency-Key: {reason}")


class InvalidCursor(DemoError):
    status = 400
    code = "invalid_cursor"

    def __init__(self) -> None:
        super().__init__("the pagination cursor is not one this server issued; start over")
