"""The OpenAPI 3.1 document, generated from the app's routes, the ``@operation`` on each, and
the rules every route is subject to, so that the document is the contract the server keeps.

Every route must say what it takes and answers: :func:`build_openapi` refuses an app with an
undocumented route, so adding one without ``@operation`` fails at start-up and in the tests.
Routes that are not part of the API (the document itself) opt out with
``include_in_schema=False``. Schemas come from pydantic models and the constants behind them;
``ErrorBody`` (the shared ``{"error": {"code", "message"}}``) is always a component.

    @operation(summary="One product", path=ProductPath, responses={200: ProductOut, 404: ErrorBody})
    async def get_product(request: Request) -> Response: ...

What no endpoint states itself comes from the rules around it: the route table
(:mod:`shared.routes`) gives each operation its security and its 401/403; ``implied`` callables
add what the middleware and route checks may answer on a route (429, 451...).
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

from shared.routes import Auth, RouteTable

OPENAPI_VERSION = "3.1.0"
REF_TEMPLATE = "#/components/schemas/{model}"
_ATTRIBUTE = "__openapi_operation__"
_HTTP_METHODS = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "PATCH", "TRACE")
BEARER_SCHEME = "bearerAuth"

JSON = "application/json"

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
class Header:
    """A response header an answer carries."""

    description: str
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = True


@dataclass(frozen=True, slots=True)
class Answer:
    """A response: the type of its body (``None``: no body), its media type and its headers.

    In ``responses`` a bare type stands for ``Answer(that_type)``: a JSON body, no headers.
    """

    body: Any = ErrorBody
    media_type: str = JSON
    headers: Mapping[str, Header] = field(default_factory=dict)


Responses = Mapping[int, Any]
"""Status -> an :class:`Answer`, or the type of a JSON body (``None`` for no body)."""
ImpliedResponses = Callable[[str, str], Responses]
"""(method, path template) -> what something around every endpoint may answer on that route."""

WWW_AUTHENTICATE = Header("The bearer challenge (RFC 6750): why the credentials were refused.")


@dataclass(frozen=True, slots=True)
class Operation:
    summary: str
    responses: Mapping[int, Answer]
    request_body: Any = None
    request_media_types: tuple[str, ...] = (JSON,)
    query: type[BaseModel] | None = None
    headers: type[BaseModel] | None = None
    path: type[BaseModel] | None = None
    tags: tuple[str, ...] = ()
    description: str | None = None
    operation_id: str | None = None
    deprecated: bool = False
    extra_responses: Mapping[int, Answer] = field(default_factory=dict)


def operation(
    *,
    summary: str,
    responses: Responses,
    request_body: Any = None,
    request_media_types: Sequence[str] = (JSON,),
    query: type[BaseModel] | None = None,
    headers: type[BaseModel] | None = None,
    path: type[BaseModel] | None = None,
    tags: Sequence[str] = (),
    description: str | None = None,
    operation_id: str | None = None,
    deprecated: bool = False,
) -> Callable[[F], F]:
    """Describe an endpoint (function, or method of an ``HTTPEndpoint``) for the OpenAPI document.

    ``query``, ``headers`` and ``path`` are models whose fields (by alias) are the parameters of
    that kind; a path parameter without a field is described by its route convertor. A
    ``request_body`` (sent as one of ``request_media_types``) implies 400 (malformed), 413 (the
    body limit), 415 (another media type) and 422; ``query`` or ``headers`` imply 422; all unless
    given. ``description`` defaults to the endpoint's docstring.
    """
    if not responses:
        raise ValueError("an operation must declare at least one response")
    for status in responses:
        if not isinstance(status, int) or not 100 <= status <= 599:
            raise ValueError(f"response status must be an int from 100 to 599, got {status!r}")
    implied: dict[int, Answer] = {}
    if request_body is not None or query is not None or headers is not None:
        implied[422] = Answer()
    if request_body is not None:
        implied.update({400: Answer(), 413: Answer(), 415: Answer()})

    def attach(endpoint: F) -> F:
        setattr(
            endpoint,
            _ATTRIBUTE,
            Operation(
                summary=summary,
                responses=answers(responses),
                request_body=request_body,
                request_media_types=tuple(request_media_types),
                query=query,
                headers=headers,
                path=path,
                tags=tuple(tags),
                description=description if description is not None else inspect.getdoc(endpoint),
                operation_id=operation_id,
                deprecated=deprecated,
                extra_responses={k: v for k, v in implied.items() if k not in responses},
            ),
        )
        return endpoint

    return attach


def answers(responses: Responses) -> dict[int, Answer]:
    """``responses`` with every bare body type made an :class:`Answer`."""
    return {
        status: value if isinstance(value, Answer) else Answer(value)
        for status, value in responses.items()
    }


def not_null(schema: dict[str, Any]) -> None:
    """``Field(default=None, json_schema_extra=not_null)`` on an input field ``X | None`` whose
    None means "not sent": the document offers the field as optional, not ``null`` as a value
    (the model refuses an explicit null, or the request format cannot carry one)."""
    choices = [choice for choice in schema.pop("anyOf", ()) if choice != {"type": "null"}]
    if len(choices) == 1:
        schema.update(choices[0])
    elif choices:
        schema["anyOf"] = choices
    if "default" in schema and schema["default"] is None:
        del schema["default"]


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


@dataclass(frozen=True, slots=True)
class _Described:
    """One operation with everything the document says about it: the route's rules included."""

    item: _Documented
    responses: Mapping[int, Answer]
    security: list[dict[str, list[str]]] | None


def build_openapi(
    routes: Iterable[BaseRoute],
    title: str,
    version: str,
    *,
    access: RouteTable | None = None,
    implied: Sequence[ImpliedResponses] = (),
    description: str | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``routes`` (a Starlette app's ``app.routes``).

    ``access`` (the route table) gives each operation its security requirement, and its 401 and
    403; each of ``implied`` adds what it may answer on a route. An endpoint's own ``responses``
    win over both. Raises :class:`UndocumentedRouteError` naming every route without
    ``@operation``.
    """
    documented, undocumented = _collect(routes, prefix="", convertors=())
    if undocumented:
        raise UndocumentedRouteError(
            "routes without @operation (document them or pass include_in_schema=False): "
            + ", ".join(undocumented)
        )
    described = [_describe(item, access, implied) for item in documented]
    schemas, components = _schemas(described)

    paths: dict[str, dict[str, Any]] = {}
    operation_ids: set[str] = set()
    for index, entry in enumerate(described):
        item = entry.item
        path_item = paths.setdefault(item.path, {})
        method = item.method.lower()
        if method in path_item:
            raise ValueError(f"{item.method} {item.path} is defined by more than one route")
        op = _operation_object(index, entry, schemas, components)
        if op["operationId"] in operation_ids:
            raise ValueError(
                f"operationId {op['operationId']!r} is used twice; pass operation_id=... to tell"
                " the operations apart"
            )
        operation_ids.add(op["operationId"])
        path_item[method] = op

    info: dict[str, Any] = {"title": title, "version": version}
    if description is not None:
        info["description"] = description
    document_components: dict[str, Any] = {"schemas": dict(sorted(components.items()))}
    if any(entry.security for entry in described):
        document_components["securitySchemes"] = {
            BEARER_SCHEME: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        }
    return {
        "openapi": OPENAPI_VERSION,
        "info": info,
        "paths": paths,
        "components": document_components,
    }


def _describe(
    item: _Documented, access: RouteTable | None, implied: Sequence[ImpliedResponses]
) -> _Described:
    """The operation's security and every response it can give, from the most general rule to
    the endpoint's own word: implied answers, then the route table's, then the endpoint's."""
    responses: dict[int, Answer] = {}
    for answers_of in implied:
        responses.update(answers(answers_of(item.method, item.path)))
    security: list[dict[str, list[str]]] | None = None
    if access is not None:
        rule = access.match(item.method, item.path)
        if rule.auth is Auth.REQUIRED:
            security = [{BEARER_SCHEME: []}]
        elif rule.auth is Auth.OPTIONAL:
            security = [{}, {BEARER_SCHEME: []}]  # anonymous, or a valid token
        if rule.auth is not Auth.PUBLIC:
            responses[401] = Answer(headers={"WWW-Authenticate": WWW_AUTHENTICATE})
        if rule.roles:
            responses[403] = Answer()
    responses.update(item.operation.extra_responses)
    responses.update(item.operation.responses)
    return _Described(item, dict(sorted(responses.items())), security)


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
    described: list[_Described],
) -> tuple[dict[tuple[int, str, str], Any], dict[str, Any]]:
    """One pydantic pass over every type, so shared models become one component each."""
    inputs: list[tuple[tuple[int, str, str], Any, TypeAdapter[Any]]] = [
        ((-1, "error", ""), "serialization", TypeAdapter(ErrorBody))
    ]
    for index, entry in enumerate(described):
        op = entry.item.operation
        if op.request_body is not None:
            inputs.append(((index, "body", ""), "validation", TypeAdapter(op.request_body)))
        for kind, model in (("query", op.query), ("header", op.headers), ("path", op.path)):
            if model is not None:
                inputs.append(((index, kind, ""), "validation", TypeAdapter(model)))
        for status, answer in entry.responses.items():
            if answer.body is not None:
                key = (index, "response", str(status))
                inputs.append((key, "serialization", TypeAdapter(answer.body)))
    by_key, definitions = TypeAdapter.json_schemas(inputs, ref_template=REF_TEMPLATE)
    schemas = {key: schema for (key, _mode), schema in by_key.items()}
    return schemas, dict(definitions.get("$defs", {}))


def _operation_object(
    index: int,
    entry: _Described,
    schemas: Mapping[tuple[int, str, str], Any],
    components: Mapping[str, Any],
) -> dict[str, Any]:
    item = entry.item
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
    path_fields = _fields(schemas[(index, "path", "")], components) if op.path is not None else {}
    parameters = [
        _path_parameter(name, conv, path_fields.get(name)) for name, conv in item.path_params
    ]
    for kind, model in (("query", op.query), ("header", op.headers)):
        if model is not None:
            parameters += _parameters(kind, schemas[(index, kind, "")], components)
    if parameters:
        result["parameters"] = parameters
    if op.request_body is not None:
        body_schema = schemas[(index, "body", "")]
        result["requestBody"] = {
            "required": True,
            "content": {
                media_type: {"schema": body_schema} for media_type in op.request_media_types
            },
        }
    result["responses"] = {
        str(status): _response_object(status, answer, schemas.get((index, "response", str(status))))
        for status, answer in entry.responses.items()
    }
    if entry.security is not None:
        result["security"] = entry.security
    return result


def _response_object(status: int, answer: Answer, schema: Any) -> dict[str, Any]:
    response: dict[str, Any] = {"description": _reason(status)}
    if answer.headers:
        response["headers"] = {
            name: {
                "description": header.description,
                "required": header.required,
                "schema": dict(header.schema),
            }
            for name, header in answer.headers.items()
        }
    if answer.body is not None:
        response["content"] = {answer.media_type: {"schema": schema}}
    return response


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def _path_parameter(
    name: str, convertor: Convertor[Any], declared: Mapping[str, Any] | None
) -> dict[str, Any]:
    """A path parameter: as the operation's path model declares it, else as the route's
    convertor matches it."""
    schema: dict[str, Any]
    if declared is not None:
        schema = dict(declared)
    elif isinstance(convertor, IntegerConvertor):
        schema = {"type": "integer", "minimum": 0}  # Starlette's int matches digits only
    elif isinstance(convertor, FloatConvertor):
        schema = {"type": "number", "minimum": 0}
    elif isinstance(convertor, UUIDConvertor):
        schema = {"type": "string", "format": "uuid"}
    else:
        schema = {"type": "string"}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _fields(reference: Mapping[str, Any], components: Mapping[str, Any]) -> dict[str, Any]:
    properties = _resolve(reference, components).get("properties", {})
    return dict(properties)


def _parameters(
    kind: str, reference: Mapping[str, Any], components: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """One ``in: query`` (or ``header``) parameter per field of the model, named by alias."""
    model = _resolve(reference, components)
    required = set(model.get("required", ()))
    parameters = []
    for name, schema in model.get("properties", {}).items():
        parameter: dict[str, Any] = {
            "name": name,
            "in": kind,
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


def openapi_route(document: Mapping[str, Any], *, path: str = "/openapi.json") -> Route:
    """A route serving ``document`` (from :func:`build_openapi`, built at start-up so that an
    undocumented route fails it); the route itself stays out of the document."""
    body = json.dumps(document, separators=(",", ":")).encode()

    async def serve_openapi(request: Request) -> Response:
        return Response(body, media_type=JSON)

    return Route(path, serve_openapi, methods=["GET"], include_in_schema=False)
