"""The OpenAPI 3.1 document, generated from the app's routes and the ``@operation`` on each.

Every route must say what it takes and answers: :func:`build_openapi` refuses an app with an
undocumented route, so adding one without ``@operation`` fails at start-up and in the tests.
Routes that are not part of the JSON API (``/metrics``, the document itself) opt out with
``include_in_schema=False``. Schemas come from pydantic models; ``ErrorBody`` (the shared
``{"error": {"code", "message"}}``) is always a component.

    @operation(summary="One product", responses={200: ProductOut, 404: ErrorBody})
    async def get_product(request: Request) -> Response: ...
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter
from starlette.convertors import Convertor, FloatConvertor, IntegerConvertor, UUIDConvertor
from starlette.endpoints import HTTPEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Host, Mount, Route

OPENAPI_VERSION = "3.1.0"
REF_TEMPLATE = "#/components/schemas/{model}"
_ATTRIBUTE = "__openapi_operation__"
_HTTP_METHODS = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "PATCH", "TRACE")
BEARER_SCHEME = "bearerAuth"

F = TypeVar("F", bound=Callable[..., Any])


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str
    message: str


class ErrorBody(BaseModel):
    """The error document every failing request answers with."""

    error: ErrorDetail


class UndocumentedRouteError(ValueError):
    """Routes exist that the OpenAPI document cannot describe (no ``@operation``)."""


@dataclass(frozen=True, slots=True)
class Operation:
    summary: str
    responses: Mapping[int, Any]
    """Status -> the type of the JSON body (a pydantic model, ``list[Model]``...), ``None`` for
    no body."""
    request_body: Any = None
    query: type[BaseModel] | None = None
    auth: bool = False
    tags: tuple[str, ...] = ()
    description: str | None = None
    operation_id: str | None = None
    deprecated: bool = False
    extra_responses: Mapping[int, Any] = field(default_factory=dict)


def operation(
    *,
    summary: str,
    responses: Mapping[int, Any],
    request_body: Any = None,
    query: type[BaseModel] | None = None,
    auth: bool = False,
    tags: Sequence[str] = (),
    description: str | None = None,
    operation_id: str | None = None,
    deprecated: bool = False,
) -> Callable[[F], F]:
    """Describe an endpoint (function, or method of an ``HTTPEndpoint``) for the OpenAPI document.

    ``auth=True`` adds the bearer security requirement and, unless given, a 401 ``ErrorBody``;
    a ``request_body`` or ``query`` adds a 422 ``ErrorBody`` and a ``request_body`` a 413, unless
    given. ``description``
    defaults to the endpoint's docstring.
    """
    if not responses:
        raise ValueError("an operation must declare at least one response")
    for status in responses:
        if not isinstance(status, int) or not 100 <= status <= 599:
            raise ValueError(f"response status must be an int from 100 to 599, got {status!r}")
    implied: dict[int, Any] = {}
    if auth and 401 not in responses:
        implied[401] = ErrorBody
    if (request_body is not None or query is not None) and 422 not in responses:
        implied[422] = ErrorBody
    if request_body is not None and 413 not in responses:
        implied[413] = ErrorBody  # the body-limit middleware's answer

    def attach(endpoint: F) -> F:
        setattr(
            endpoint,
            _ATTRIBUTE,
            Operation(
                summary=summary,
                responses=dict(responses),
                request_body=request_body,
                query=query,
                auth=auth,
                tags=tuple(tags),
                description=description if description is not None else inspect.getdoc(endpoint),
                operation_id=operation_id,
                deprecated=deprecated,
                extra_responses=implied,
            ),
        )
        return endpoint

    return attach


def operation_of(endpoint: object) -> Operation | None:
    found = getattr(endpoint, _ATTRIBUTE, None)
    return found if isinstance(found, Operation) else None


@dataclass(frozen=True, slots=True)
class _Documented:
    path: str
    method: str
    name: str
    operation: Operation
    path_params: tuple[tuple[str, Convertor[Any]], ...]


def build_openapi(
    routes: Iterable[BaseRoute],
    title: str,
    version: str,
    *,
    description: str | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``routes`` (a Starlette app's ``app.routes``).

    Raises :class:`UndocumentedRouteError` naming every route without ``@operation``.
    """
    documented, undocumented = _collect(routes, prefix="", convertors=())
    if undocumented:
        raise UndocumentedRouteError(
            "routes without @operation (document them or pass include_in_schema=False): "
            + ", ".join(undocumented)
        )
    schemas, components = _schemas(documented)

    paths: dict[str, dict[str, Any]] = {}
    operation_ids: set[str] = set()
    uses_auth = False
    for index, item in enumerate(documented):
        path_item = paths.setdefault(item.path, {})
        method = item.method.lower()
        if method in path_item:
            raise ValueError(f"{item.method} {item.path} is defined by more than one route")
        op = _operation_object(index, item, schemas, components)
        if op["operationId"] in operation_ids:
            raise ValueError(
                f"operationId {op['operationId']!r} is used twice; pass operation_id=... to tell"
                " the operations apart"
            )
        operation_ids.add(op["operationId"])
        uses_auth = uses_auth or item.operation.auth
        path_item[method] = op

    info: dict[str, Any] = {"title": title, "version": version}
    if description is not None:
        info["description"] = description
    document_components: dict[str, Any] = {"schemas": dict(sorted(components.items()))}
    if uses_auth:
        document_components["securitySchemes"] = {
            BEARER_SCHEME: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        }
    return {
        "openapi": OPENAPI_VERSION,
        "info": info,
        "paths": paths,
        "components": document_components,
    }


def _collect(
    routes: Iterable[BaseRoute],
    prefix: str,
    convertors: tuple[tuple[str, Convertor[Any]], ...],
) -> tuple[list[_Documented], list[str]]:
    documented: list[_Documented] = []
    undocumented: list[str] = []
    for route in routes:
        if isinstance(route, Route):
            if not route.include_in_schema:
                continue
            path = prefix + route.path_format
            params = convertors + tuple(route.param_convertors.items())
            for method, handler, name in _handlers(route):
                op = operation_of(handler)
                if op is None:
                    undocumented.append(f"{method} {path}")
                else:
                    documented.append(_Documented(path, method, name, op, params))
        elif isinstance(route, Mount):
            # A mounted app without routes (static files) is not part of the JSON API.
            mount_prefix = prefix + route.path_format.removesuffix("/{path}")
            mount_params = convertors + tuple(
                (name, conv) for name, conv in route.param_convertors.items() if name != "path"
            )
            more, missing = _collect(route.routes, mount_prefix, mount_params)
            documented += more
            undocumented += missing
        elif isinstance(route, Host):
            more, missing = _collect(route.routes, prefix, convertors)
            documented += more
            undocumented += missing
    return documented, undocumented


def _handlers(route: Route) -> list[tuple[str, object, str]]:
    """(method, the callable carrying ``@operation``, the default operationId) per method."""
    endpoint = route.endpoint
    if inspect.isclass(endpoint) and issubclass(endpoint, HTTPEndpoint):
        return [
            (method, getattr(endpoint, method.lower()), f"{endpoint.__name__}_{method.lower()}")
            for method in _HTTP_METHODS
            if hasattr(endpoint, method.lower())
        ]
    methods = [method for method in _HTTP_METHODS if method in (route.methods or {"GET"})]
    name = getattr(endpoint, "__name__", route.name)
    if len(methods) == 1:
        return [(methods[0], endpoint, name)]
    return [(method, endpoint, f"{name}_{method.lower()}") for method in methods]


def _schemas(
    documented: list[_Documented],
) -> tuple[dict[tuple[int, str, str], Any], dict[str, Any]]:
    """One pydantic pass over every type, so shared models become one component each."""
    inputs: list[tuple[tuple[int, str, str], Any, TypeAdapter[Any]]] = [
        ((-1, "error", ""), "serialization", TypeAdapter(ErrorBody))
    ]
    for index, item in enumerate(documented):
        op = item.operation
        if op.request_body is not None:
            inputs.append(((index, "body", ""), "validation", TypeAdapter(op.request_body)))
        if op.query is not None:
            inputs.append(((index, "query", ""), "validation", TypeAdapter(op.query)))
        for status, body in {**op.extra_responses, **op.responses}.items():
            if body is not None:
                inputs.append(
                    ((index, "response", str(status)), "serialization", TypeAdapter(body))
                )
    by_key, definitions = TypeAdapter.json_schemas(inputs, ref_template=REF_TEMPLATE)
    schemas = {key: schema for (key, _mode), schema in by_key.items()}
    return schemas, dict(definitions.get("$defs", {}))


def _operation_object(
    index: int,
    item: _Documented,
    schemas: Mapping[tuple[int, str, str], Any],
    components: Mapping[str, Any],
) -> dict[str, Any]:
    op = item.operation
    result: dict[str, Any] = {
        "operationId": op.operation_id or item.name,
        "summary": op.summary,
    }
    if op.description:
        result["description"] = op.description
    if op.tags:
        result["tags"] = list(op.tags)
    if op.deprecated:
        result["deprecated"] = True
    parameters = [_path_parameter(name, conv) for name, conv in item.path_params]
    if op.query is not None:
        parameters += _query_parameters(schemas[(index, "query", "")], components)
    if parameters:
        result["parameters"] = parameters
    if op.request_body is not None:
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schemas[(index, "body", "")]}},
        }
    responses: dict[str, Any] = {}
    for status, body in sorted({**op.extra_responses, **op.responses}.items()):
        response: dict[str, Any] = {"description": _reason(status)}
        if body is not None:
            schema = schemas[(index, "response", str(status))]
            response["content"] = {"application/json": {"schema": schema}}
        responses[str(status)] = response
    result["responses"] = responses
    if op.auth:
        result["security"] = [{BEARER_SCHEME: []}]
    return result


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def _path_parameter(name: str, convertor: Convertor[Any]) -> dict[str, Any]:
    schema: dict[str, Any]
    if isinstance(convertor, IntegerConvertor):
        schema = {"type": "integer", "minimum": 0}  # Starlette's int matches digits only
    elif isinstance(convertor, FloatConvertor):
        schema = {"type": "number", "minimum": 0}
    elif isinstance(convertor, UUIDConvertor):
        schema = {"type": "string", "format": "uuid"}
    else:
        schema = {"type": "string"}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query_parameters(
    reference: Mapping[str, Any], components: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """One ``in: query`` parameter per field of the query model."""
    model = _resolve(reference, components)
    required = set(model.get("required", ()))
    parameters = []
    for name, schema in model.get("properties", {}).items():
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": schema,
        }
        if "description" in schema:
            parameter["description"] = schema["description"]
        parameters.append(parameter)
    return parameters


def _resolve(schema: Mapping[str, Any], components: Mapping[str, Any]) -> Mapping[str, Any]:
    reference = schema.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/components/schemas/"):
        resolved = components[reference.removeprefix("#/components/schemas/")]
        assert isinstance(resolved, Mapping)
        return resolved
    return schema


def openapi_route(
    routes: Iterable[BaseRoute],
    title: str,
    version: str,
    *,
    path: str = "/openapi.json",
    description: str | None = None,
) -> Route:
    """A route serving the document for ``routes``, built now so an undocumented route fails at
    start-up; the route itself stays out of the document."""
    body = json.dumps(
        build_openapi(routes, title, version, description=description), separators=(",", ":")
    ).encode()

    async def serve_openapi(request: Request) -> Response:
        return Response(body, media_type="application/json")

    return Route(path, serve_openapi, methods=["GET"], include_in_schema=False)
