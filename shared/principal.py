"""Who is making a request, as established by the edge or by the origin itself."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller.

    ``country`` is the ISO 3166-1 alpha-2 code the request came from, or ``None`` when no trusted
    party established it (a client's own headers never count).
    """

    subject: str
    roles: frozenset[str] = frozenset()
    country: str | None = None

    def has_role(self, role: str) -> bool:
        return role in self.roles
