"""What a request handler can reach: settings, the database, the key-value store, authentication.

Built once by the app's lifespan and kept on ``app.state.services``; handlers get it with
:func:`services`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request

from origin.kv import Store
from origin.observability.origin_metrics import OriginMetrics
from origin.settings import Settings
from shared.principal import Principal

Authenticator = Callable[[Request], Awaitable[Principal | None]]


@dataclass(slots=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    store: Store
    authenticator: Authenticator
    metrics: OriginMetrics


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found
