"""Decisions shared by the edge and the origin.

Standard library only and free of I/O (no network, no clock reads, no globals), so that it
imports and behaves the same on CPython and under Pyodide. Time is always a parameter.

One exception: :mod:`shared.cli`, the toolkit of the ``outpost`` command's verbs (standard library
only too, but it binds sockets), which the worker never imports.
"""
