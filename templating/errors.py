"""The one error type of the template machinery: a message the command line prints as is."""

from __future__ import annotations


class TemplateError(Exception):
    """Something the user can fix (a bad name, a non-empty path, a dirty tree, a bad ref)."""
