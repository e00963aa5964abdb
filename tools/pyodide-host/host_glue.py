"""How the harness calls a Python Worker, run inside Pyodide (the harness's own code).

It follows workerd's sequence for a `Default(WorkerEntrypoint)` worker: one instance per request
built with (ctx, env), the JS Request turned into a `workers.Request` by `python_from_rpc`,
`fetch` called relaxed (extra arguments dropped), and the result turned back into a JS Response by
`python_to_rpc`. The module is executed in a private namespace, never importable by the worker.
"""

from inspect import isawaitable, isclass
from typing import Any

from pyodide.code import relaxed_call  # type: ignore[import-not-found]
from workers import (  # type: ignore[import-not-found]
    WorkerEntrypoint,
    python_from_rpc,
    python_to_rpc,
)


def find_default_entrypoint(module: Any) -> Any:
    """The module's `Default` class; Python Workers have no other default handler any more."""
    candidate = getattr(module, "Default", None)
    if not (isclass(candidate) and issubclass(candidate, WorkerEntrypoint)):
        message = f"{module.__name__} must define `class Default(WorkerEntrypoint)`"
        raise TypeError(message)
    return candidate


async def call_fetch(entrypoint_class: Any, ctx: Any, env: Any, request: Any) -> Any:
    """Runs `Default(ctx, env).fetch(request)` and returns what the runtime would send."""
    instance = entrypoint_class(ctx, env)
    result = relaxed_call(instance.fetch, python_from_rpc(request))
    if isawaitable(result):
        result = await result
    return python_to_rpc(result)


def runtime_versions() -> dict[str, str]:
    """Which Python and Pyodide actually run, for the harness's report."""
    import sys

    import pyodide  # type: ignore[import-not-found]

    return {"python": sys.version.split()[0], "pyodide": pyodide.__version__}
