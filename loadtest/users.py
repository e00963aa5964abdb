"""What every scenario's simulated user can do, whatever the app: pace itself, hold a token,
send a request and judge its answer by the status it should get.

A scenario module (``loadtest/scenarios.py``) subclasses :class:`PacedUser` with the app's own
requests; every request is named ``scenario: request [X-Cache]`` (see :mod:`loadtest.naming`).
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from locust import FastHttpUser, constant_throughput

from loadtest import per_process, tokens
from loadtest.naming import request_name, unexpected_status
from loadtest.pacing import PoissonPace

OK = frozenset({200})
CREATED = frozenset({201})
UNAUTHORIZED = frozenset({401})


class PacedUser(FastHttpUser):
    """A user sending at ``--user-rate`` (Poisson arrivals unless ``--arrivals steady``), from
    ``--country``, signed in with a token of its own."""

    abstract = True
    _next_number: ClassVar[int] = 0

    def on_start(self) -> None:
        options = self.environment.parsed_options
        rate = getattr(options, "user_rate", 1.0)
        if getattr(options, "arrivals", "poisson") == "steady":
            self.pace = constant_throughput(rate)
        else:
            self.pace = PoissonPace(rate)
        self.country_code: str = getattr(options, "country", "DE")
        self.blocked_country_code: str = getattr(options, "blocked_country", "KP")
        PacedUser._next_number += 1
        given = tokens.tokens_from_env(os.environ)
        if given:
            self.token = tokens.pick_token(given, PacedUser._next_number)
        else:
            # One signed-in account per process, when no tokens were given (LOADTEST_TOKENS).
            self.token = per_process.once("token", lambda: tokens.sign_in(self.client, os.environ))

    def wait_time(self) -> float:
        pause: float = self.pace(self)
        return pause

    # --- requests every app has ---------------------------------------------------------------

    def read_me(self, scenario: str) -> None:
        self.expect(scenario, "me", "GET", "/auth/me", OK, token=self.token)

    def send_bad_token(self, scenario: str, path: str = "/auth/me") -> None:
        """A well-formed token no key signed: the edge refuses it (401) without the origin."""
        self.expect(
            scenario, "bad token", "GET", path, UNAUTHORIZED, token=tokens.tampered(self.token)
        )

    # --- plumbing -----------------------------------------------------------------------------

    def expect(
        self,
        scenario: str,
        label: str,
        method: str,
        path: str,
        expected: frozenset[int],
        **options: Any,
    ) -> None:
        with self.send_request(method, path, **options) as answer:
            answer.request_meta["name"] = request_name(
                scenario, label, answer.headers.get("X-Cache")
            )
            judge(answer, unexpected_status(answer.status_code, expected))

    def send_request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: str | None = None,
        key: str | None = None,
        country: str | None = None,
    ) -> Any:
        headers = {"CF-IPCountry": country or self.country_code}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            headers["Content-Type"] = "application/json"
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.client.request(method, path, data=body, headers=headers, catch_response=True)


def judge(answer: Any, problem: str | None) -> None:
    if problem is None:
        answer.success()
    else:
        answer.failure(f"{problem}: {(answer.text or '')[:200]}")
