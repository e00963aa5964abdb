"""The edge: a pipeline over ports (auth -> geofence -> cache -> forward), runtime-agnostic.

:mod:`edge.pipeline` holds the steps; :mod:`edge.ports` names what a runtime must provide;
:mod:`edge.runtime.cpython.runtime` and the worker entry (``edge/worker.py``, Pyodide) implement
them.
Nothing here imports a web framework, and nothing imports the origin.
"""
