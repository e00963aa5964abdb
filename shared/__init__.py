"""Decisions shared by the edge and the origin.

Standard library only and free of I/O (no network, no clock reads, no globals), so that it
imports and behaves the same on CPython and under Pyodide. Time is always a parameter.
"""
