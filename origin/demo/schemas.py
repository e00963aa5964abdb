"""Demo API shapes: what clients may send (strict) and what they get back.

Inputs are strict: unknown fields are refused (a typo such as ``"prise_cents"`` must not be
silently ignored), JSON types are not coerced (``"12"`` is not a price), every number has
bounds that keep it inside the database's integer columns, and text is checked by the shared
types of :mod:`origin.fields` (no control characters, no lone surrogates). Query-string filters
(:class:`ProductQuery`) are the exception: query strings are text, so numbers are parsed, from
ASCII digits only.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Annotated, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from origin.demo.models import CATEGORY_MAX, DESCRIPTION_MAX, NAME_MAX, SKU_MAX
from origin.demo.pagination import Cursor
from origin.fields import ASCII_WHOLE_NUMBER, DbId, multi_line, single_line
from origin.observability.openapi import not_null

MAX_PRICE_CENTS = 100_000_000  # one million in currency units: far above any demo price
MAX_STOCK = 1_000_000_000  # fits a 32-bit INTEGER column with room to spare
MAX_ORDER_LINES = 50
MAX_LINE_QUANTITY = 1000
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
SEARCH_MAX = 100

Sku = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=SKU_MAX,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
    ),
]
Name = Annotated[str, single_line(min_length=1, max_length=NAME_MAX)]
Description = Annotated[str, multi_line(max_length=DESCRIPTION_MAX)]
# Lower-case slugs, so that filtering by category never depends on how someone capitalised it.
Category = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=CATEGORY_MAX,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
    ),
]
PriceCents = Annotated[int, Field(ge=0, le=MAX_PRICE_CENTS), ASCII_WHOLE_NUMBER]
Stock = Annotated[int, Field(ge=0, le=MAX_STOCK), ASCII_WHOLE_NUMBER]
Quantity = Annotated[int, Field(ge=1, le=MAX_LINE_QUANTITY), ASCII_WHOLE_NUMBER]
PageSize = Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE), ASCII_WHOLE_NUMBER]

STRICT_INPUT = ConfigDict(extra="forbid", strict=True)


class ProductCreate(BaseModel):
    model_config = STRICT_INPUT

    sku: Sku
    name: Name
    description: Description = ""
    category: Category
    price_cents: PriceCents
    stock: Stock


class ProductUpdate(BaseModel):
    """A partial update: only the fields present change; ``null`` is not a value for any of them."""

    model_config = STRICT_INPUT

    # None stands for "not sent": the document offers each field as optional, never null.
    sku: Sku | None = Field(default=None, json_schema_extra=not_null)
    name: Name | None = Field(default=None, json_schema_extra=not_null)
    description: Description | None = Field(default=None, json_schema_extra=not_null)
    category: Category | None = Field(default=None, json_schema_extra=not_null)
    price_cents: PriceCents | None = Field(default=None, json_schema_extra=not_null)
    stock: Stock | None = Field(default=None, json_schema_extra=not_null)

    @model_validator(mode="after")
    def _no_explicit_nulls(self) -> Self:
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError(f"{', '.join(nulls)}: null is not allowed; omit the field instead")
        return self

    def changes(self) -> dict[str, object]:
        """The fields the client sent, ready to write."""
        return self.model_dump(exclude_unset=True)


class ProductRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku: str
    name: str
    description: str
    category: str
    price_cents: int
    stock: int
    created_at: datetime
    updated_at: datetime
    version: int


class ProductQuery(BaseModel):
    """Filters and paging for the product list, parsed from a query string."""

    model_config = ConfigDict(extra="forbid")

    category: Category | None = None
    q: Annotated[str, single_line(min_length=1, max_length=SEARCH_MAX)] | None = None
    min_price_cents: PriceCents | None = None
    max_price_cents: PriceCents | None = None
    in_stock: bool | None = None
    limit: PageSize = DEFAULT_PAGE_SIZE
    cursor: Cursor | None = None

    @model_validator(mode="after")
    def _price_range_ordered(self) -> Self:
        low, high = self.min_price_cents, self.max_price_cents
        if low is not None and high is not None and low > high:
            raise ValueError("min_price_cents must not exceed max_price_cents")
        return self


class OrderLineCreate(BaseModel):
    model_config = STRICT_INPUT

    product_id: DbId
    quantity: Quantity


class OrderCreate(BaseModel):
    model_config = STRICT_INPUT

    items: Annotated[list[OrderLineCreate], Field(min_length=1, max_length=MAX_ORDER_LINES)]

    @model_validator(mode="after")
    def _one_line_per_product(self) -> Self:
        counts = Counter(line.product_id for line in self.items)
        repeated = sorted(product_id for product_id, count in counts.items() if count > 1)
        if repeated:
            raise ValueError(
                f"products {repeated} appear on more than one line; give each product one line "
                "with the total quantity"
            )
        return self


class OrderLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: int
    quantity: int
    unit_price_cents: int


class OrderRead(BaseModel):
    id: int
    status: str
    total_cents: int
    created_at: datetime
    items: list[OrderLineRead]


ItemT = TypeVar("ItemT", bound=BaseModel)


class Page(BaseModel, Generic[ItemT]):
    """One page of a list; ``next_cursor`` is ``None`` on the last page."""

    items: list[ItemT]
    next_cursor: str | None
