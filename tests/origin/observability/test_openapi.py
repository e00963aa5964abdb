"""The OpenAPI document is generated from the routes, the route table and the rules around the
endpoints, and refuses undocumented routes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel, ConfigDict, Field
from starlette.endpoints import HTTPEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from origin.observability.openapi import (
    Answer,
    ErrorBody,
    Header,
    Responses,
    UndocumentedRouteError,
    build_openapi,
    not_null,
    openapi_route,
    operation,
)
from shared.routes import parse_route_table
from tests.origin.middleware.apps import client_for, origin_like_app


class Price(BaseModel):
    amount_cents: int
    currency: str = "EUR"


class ProductIn(BaseModel):
    name: str = Field(min_length=1)
    price: Price


class ProductOut(BaseModel):
    id: int
    name: str
    price: Price


class ProductQuery(BaseModel):
    limit: int = Field(20, ge=1, le=100, description="Page size.")
    q: str | None = None
    category: str


class OrderOut(BaseModel):
    id: str
    total: Price


class Health(BaseModel):
    status: str


@operation(summary="Liveness", responses={200: Health}, tags=["ops"])
async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


@operation(summary="List products", query=ProductQuery, responses={200: list[ProductOut]})
async def list_products(request: Request) -> Response:
    return JSONResponse([])


@operation(
    summary="Create a product",
    request_body=ProductIn,
    responses={201: ProductOut, 409: ErrorBody},
    tags=["products"],
)
async def create_product(request: Request) -> Response:
    """Adds a product to the catalogue."""
    return JSONResponse({}, status_code=201)


@operation(summary="One product", responses={200: ProductOut, 404: ErrorBody}, tags=["products"])
async def get_product(request: Request) -> Response:
    return JSONResponse({})


@operation(summary="Delete a product", responses={204: None, 404: ErrorBody})
async def delete_product(request: Request) -> Response:
    return Response(status_code=204)


class Order(HTTPEndpoint):
    @operation(summary="One order", responses={200: OrderOut, 404: ErrorBody})
    async def get(self, request: Request) -> Response:
        return JSONResponse({})

    @operation(summary="Cancel an order", responses={204: None})
    async def delete(self, request: Request) -> Response:
        return Response(status_code=204)


def sample_routes() -> list[BaseRoute]:
    return [
        Route("/healthz", healthz),
        Route("/api/products", list_products, methods=["GET"]),
        Route("/api/products", create_product, methods=["POST"]),
        Route("/api/products/{id:int}", get_product, methods=["GET"]),
        Route("/api/products/{id:int}", delete_product, methods=["DELETE"]),
        Mount("/api/orders", routes=[Route("/{order_id:uuid}", Order)]),
        Route("/internal", healthz, include_in_schema=False),
    ]


ACCESS = parse_route_table(
    {
        "routes": [
            {"prefix": "/api/products", "methods": ["GET"], "auth": "public"},
            {"prefix": "/api/products", "auth": "required", "roles": ["admin"]},
            {"prefix": "/api/orders", "auth": "required"},
        ],
        "default": {"auth": "public"},
    }
)


def document() -> dict[str, Any]:
    return build_openapi(sample_routes(), title="outpost", version="1.2.3", access=ACCESS)


def test_the_document_is_valid_openapi_3_1() -> None:
    doc = document()
    validate(doc)  # raises on any structural error
    assert doc["openapi"] == "3.1.0"
    assert doc["info"] == {"title": "outpost", "version": "1.2.3"}


def test_every_documented_route_and_method_appears_and_nothing_else() -> None:
    paths = document()["paths"]
    assert {path: sorted(item) for path, item in paths.items()} == {
        "/healthz": ["get"],
        "/api/products": ["get", "post"],
        "/api/products/{id}": ["delete", "get"],
        "/api/orders/{order_id}": ["delete", "get"],
    }  # HEAD (added by Starlette) and /internal (include_in_schema=False) are left out


def test_a_route_without_an_operation_fails_the_build_naming_it() -> None:
    async def undocumented(request: Request) -> Response:
        return Response()

    routes = [*sample_routes(), Mount("/admin", routes=[Route("/{user}", undocumented)])]
    with pytest.raises(UndocumentedRouteError, match=r"GET /admin/\{user\}"):
        build_openapi(routes, title="outpost", version="1")


def test_an_endpoint_class_method_without_an_operation_fails_the_build() -> None:
    class Half(HTTPEndpoint):
        @operation(summary="Fine", responses={200: None})
        async def get(self, request: Request) -> Response:
            return Response()

        async def put(self, request: Request) -> Response:
            return Response()

    with pytest.raises(UndocumentedRouteError, match="PUT /half"):
        build_openapi([Route("/half", Half)], title="t", version="1")


def test_path_parameters_come_from_the_route_convertors() -> None:
    paths = document()["paths"]
    assert paths["/api/products/{id}"]["get"]["parameters"] == [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}}
    ]
    assert paths["/api/orders/{order_id}"]["get"]["parameters"] == [
        {
            "name": "order_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "format": "uuid"},
        }
    ]


def test_query_models_become_query_parameters() -> None:
    parameters = {p["name"]: p for p in document()["paths"]["/api/products"]["get"]["parameters"]}
    assert set(parameters) == {"limit", "q", "category"}
    assert all(p["in"] == "query" for p in parameters.values())
    assert parameters["category"]["required"] is True
    assert parameters["limit"]["required"] is False
    assert parameters["limit"]["description"] == "Page size."
    assert parameters["limit"]["schema"]["maximum"] == 100


def test_bodies_and_responses_reference_component_schemas() -> None:
    doc = document()
    create = doc["paths"]["/api/products"]["post"]
    body_schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema == {"$ref": "#/components/schemas/ProductIn"}
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ProductOut"
    }
    listing = doc["paths"]["/api/products"]["get"]["responses"]["200"]
    assert listing["content"]["application/json"]["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/ProductOut"},
    }
    # Nested models are hoisted into components: no "$defs" is left anywhere.
    schemas = doc["components"]["schemas"]
    assert {"Price", "ProductIn", "ProductOut", "OrderOut", "ErrorBody", "ErrorDetail"} <= set(
        schemas
    )
    assert "$defs" not in json.dumps(doc)
    assert schemas["ProductOut"]["properties"]["price"] == {"$ref": "#/components/schemas/Price"}


def test_every_ref_points_at_an_existing_component() -> None:
    doc = document()
    refs: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    assert refs
    for ref in refs:
        assert ref.removeprefix("#/components/schemas/") in doc["components"]["schemas"]


def test_the_error_body_is_a_component_and_errors_use_it() -> None:
    doc = document()
    error = doc["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["error"]
    not_found = doc["paths"]["/api/products/{id}"]["get"]["responses"]["404"]
    assert not_found == {
        "description": "Not Found",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }


def test_the_route_table_gives_each_operation_its_security_401_and_403() -> None:
    paths = document()["paths"]
    create, one_order = paths["/api/products"]["post"], paths["/api/orders/{order_id}"]["get"]

    assert create["security"] == [{"bearerAuth": []}]
    assert {"401", "403"} <= set(create["responses"])
    assert one_order["security"] == [{"bearerAuth": []}]
    assert "401" in one_order["responses"]
    assert "403" not in one_order["responses"]  # no role needed
    assert create["responses"]["401"]["headers"]["WWW-Authenticate"]["required"] is True
    for public in (paths["/healthz"]["get"], paths["/api/products"]["get"]):
        assert "security" not in public
        assert not {"401", "403"} & set(public["responses"])
    assert document()["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }


def test_an_optional_token_is_declared_as_anonymous_or_bearer() -> None:
    access = parse_route_table({"routes": [{"prefix": "/", "auth": "optional"}]})
    doc = build_openapi([Route("/healthz", healthz)], "t", "1", access=access)

    assert doc["paths"]["/healthz"]["get"]["security"] == [{}, {"bearerAuth": []}]
    assert "401" in doc["paths"]["/healthz"]["get"]["responses"]


def test_without_a_route_table_nothing_is_secured() -> None:
    doc = build_openapi(sample_routes(), "t", "1")

    assert "securitySchemes" not in doc["components"]
    assert all("security" not in op for item in doc["paths"].values() for op in item.values())


def test_a_body_implies_every_refusal_of_a_body() -> None:
    create = document()["paths"]["/api/products"]["post"]

    assert {"400", "413", "415", "422"} <= set(create["responses"])


def limited(method: str, path: str) -> Responses:
    return {} if path == "/healthz" else {429: Answer(headers={"Retry-After": Header("wait")})}


def fenced(method: str, path: str) -> Responses:
    return {451: ErrorBody, 404: None}


def test_what_surrounds_the_endpoints_adds_its_answers_and_the_endpoint_has_the_last_word() -> None:
    doc = build_openapi(sample_routes(), "t", "1", implied=[limited, fenced])
    paths = doc["paths"]

    assert "429" not in paths["/healthz"]["get"]["responses"]
    assert "451" in paths["/healthz"]["get"]["responses"]
    listing = paths["/api/products"]["get"]["responses"]
    assert listing["429"]["headers"]["Retry-After"] == {
        "description": "wait",
        "required": True,
        "schema": {"type": "string"},
    }
    # An implied 404 without a body, unless the endpoint declares its own.
    assert "content" not in paths["/healthz"]["get"]["responses"]["404"]
    assert paths["/api/products/{id}"]["delete"]["responses"]["404"]["content"]


def test_operation_metadata_is_carried_over() -> None:
    doc = document()
    create = doc["paths"]["/api/products"]["post"]
    assert create["operationId"] == "create_product"
    assert create["summary"] == "Create a product"
    assert create["description"] == "Adds a product to the catalogue."
    assert create["tags"] == ["products"]
    assert doc["paths"]["/api/orders/{order_id}"]["delete"]["operationId"] == "Order_delete"
    assert doc["paths"]["/api/products/{id}"]["delete"]["responses"]["204"] == {
        "description": "No Content"
    }


def test_one_function_serving_two_methods_gets_two_operation_ids() -> None:
    @operation(summary="Either", responses={200: None})
    async def either(request: Request) -> Response:
        return Response()

    doc = build_openapi([Route("/either", either, methods=["GET", "POST"])], "t", "1")
    item = doc["paths"]["/either"]
    assert (item["get"]["operationId"], item["post"]["operationId"]) == (
        "either_get",
        "either_post",
    )


def test_the_same_endpoint_on_two_paths_needs_explicit_operation_ids() -> None:
    with pytest.raises(ValueError, match="operationId 'healthz' is used twice"):
        build_openapi([Route("/healthz", healthz), Route("/livez", healthz)], "t", "1")


@pytest.mark.parametrize(
    "responses", [{}, {99: None}, {"200": None}, {600: None}], ids=["none", "99", "str", "600"]
)
def test_operations_must_declare_sensible_responses(responses: dict[Any, Any]) -> None:
    with pytest.raises(ValueError, match="response"):
        operation(summary="x", responses=responses)


class Key(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    key: str = Field(alias="Idempotency-Key", min_length=1, max_length=8, description="Once.")


class ProductPath(BaseModel):
    id: int = Field(ge=1, le=2**31 - 1)


class KeySet(BaseModel):
    keys: list[dict[str, Any]]


@operation(
    summary="Place",
    request_body=ProductIn,
    request_media_types=("application/x-www-form-urlencoded", "application/json"),
    headers=Key,
    path=ProductPath,
    responses={
        200: Answer(KeySet, media_type="application/jwk-set+json"),
        201: Answer(ProductOut, headers={"Location": Header("Where it is.")}),
    },
)
async def place(request: Request) -> Response:
    return Response()


def test_headers_path_bounds_media_types_and_response_headers_are_declared() -> None:
    doc = build_openapi([Route("/place/{id:int}", place, methods=["POST"])], "t", "1")
    op = doc["paths"]["/place/{id}"]["post"]
    parameters = {p["name"]: p for p in op["parameters"]}

    assert parameters["id"]["schema"]["minimum"] == 1
    assert parameters["id"]["schema"]["maximum"] == 2**31 - 1
    assert parameters["Idempotency-Key"]["in"] == "header"
    assert parameters["Idempotency-Key"]["required"] is True
    assert parameters["Idempotency-Key"]["schema"]["maxLength"] == 8
    assert parameters["Idempotency-Key"]["description"] == "Once."
    assert list(op["requestBody"]["content"]) == [
        "application/x-www-form-urlencoded",
        "application/json",
    ]
    assert list(op["responses"]["200"]["content"]) == ["application/jwk-set+json"]
    assert op["responses"]["201"]["headers"]["Location"]["required"] is True
    validate(doc)


@pytest.mark.anyio
async def test_the_openapi_route_serves_the_document_and_stays_out_of_it() -> None:
    routes = sample_routes()
    routes.append(openapi_route(document()))
    app = origin_like_app(routes)
    async with client_for(app) as client:
        response = await client.get("/openapi.json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == document()
    assert "/openapi.json" not in response.json()["paths"]
    assert "/openapi.json" not in build_openapi(routes, "outpost", "1.2.3")["paths"]


class Patch(BaseModel):
    name: str | None = Field(default=None, min_length=1, json_schema_extra=not_null)
    note: str | None = None


def test_an_optional_input_field_can_be_offered_without_null() -> None:
    properties = Patch.model_json_schema()["properties"]

    assert properties["name"] == {"minLength": 1, "title": "Name", "type": "string"}
    assert {"type": "null"} in properties["note"]["anyOf"]  # the plain spelling: nullable


def _keywords(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {key for value in node.values() for key in _keywords(value)}
    if isinstance(node, list):
        return {key for item in node for key in _keywords(item)}
    return set()


# template:demo-begin
def test_the_apps_bounds_are_json_schema_keywords_not_pydantics_own() -> None:
    """Pydantic writes a constraint placed after a validator as its own ``ge``/``le``: JSON Schema
    ignores those, so the document would stop stating the bounds the server enforces."""
    from origin.app import create_app

    keywords = _keywords(create_app().state.openapi)

    assert {"minimum", "maximum"} <= keywords
    assert not keywords & {"ge", "le", "gt", "lt", "multiple_of"}


# template:demo-end
