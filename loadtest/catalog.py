"""What the shop scenarios browse: the target's own catalog, fetched once per Locust process.

Product ids come from the target (``GET /api/products``), so the scenarios work against any
deployment of the app, not only the demo data's ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loadtest import per_process

LIST_QUERIES = (
    "/api/products?limit=20",
    "/api/products?category=coffee&limit=10",
    "/api/products?category=tea&limit=10",
    "/api/products?in_stock=true&limit=50",
)
"""The catalog pages the scenarios ask for: a handful of keys, as a shop's front pages are."""

PAGE_SIZE = 100


class CatalogUnavailable(RuntimeError):
    """The target did not list its products; without ids there is nothing to browse."""


@dataclass(frozen=True, slots=True)
class Catalog:
    all_ids: tuple[int, ...]
    in_stock_ids: tuple[int, ...]


def catalog_from_pages(pages: list[dict[str, Any]]) -> Catalog:
    items = [item for page in pages for item in page["items"]]
    all_ids = tuple(item["id"] for item in items)
    in_stock = tuple(item["id"] for item in items if item.get("stock", 0) > 0)
    if not all_ids:
        raise CatalogUnavailable("the target lists no products (seed it: outpost db seed)")
    if not in_stock:
        raise CatalogUnavailable("no product is in stock, so no order can succeed")
    return Catalog(all_ids, in_stock)


def process_catalog(client: Any, country: str) -> Catalog:
    """The catalog, fetched by the first user of this process; the others wait for it."""
    return per_process.once("catalog", lambda: _fetch_catalog(client, country))


def _fetch_catalog(client: Any, country: str) -> Catalog:
    pages: list[dict[str, Any]] = []
    path = f"/api/products?limit={PAGE_SIZE}"
    while True:
        response = client.get(path, headers={"CF-IPCountry": country}, name="setup: catalog")
        if response.status_code != 200:
            raise CatalogUnavailable(f"GET {path} answered {response.status_code}")
        page = response.json()
        pages.append(page)
        cursor = page.get("next_cursor")
        if not cursor:
            return catalog_from_pages(pages)
        path = f"/api/products?limit={PAGE_SIZE}&cursor={cursor}"
