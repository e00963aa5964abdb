"""Auth at the edge: the hostile token corpus, valid tokens, roles, the route table, JWKS refetch.

The corpus edge judges tokens at the corpus's instant. Paths under /auth/me need a token (the
route both variants of the template serve), /api/products writes need the admin role, POSTs to
/auth are optional, and GET /api/products is public (shared/policies/routes.json).
"""

from __future__ import annotations

import time

import pytest

from shared.assertion import ASSERTION_HEADER, verify_assertion
from tests.data.tokens import HostileToken, ValidToken, load_corpus
from tests.edge.behaviour.conftest import EdgeUnderTest
from tests.edge.support.lab import Lab
from tests.edge.support.origin_server import EDGE_KEY_ID, EDGE_SECRET
from tests.edge.support.raw_http import request_bytes, send_raw
from tests.edge.support.tokens import ROTATED_KID, corpus_jwks, mint, public_jwk

CORPUS = load_corpus()
ASYMMETRIC_VALID = [token for token in CORPUS.valid if token.name != "hs256"]
HS256_VALID = next(token for token in CORPUS.valid if token.name == "hs256")
ADMIN_TOKEN = next(token for token in CORPUS.valid if "admin" in token.roles)
CUSTOMER_TOKEN = next(token for token in CORPUS.valid if token.name == "es256")


def _header_safe(token: str) -> bool:
    """Whether ``Bearer <token>`` is a legal HTTP field value (RFC 9110 §5.5)."""
    return all(char == "\t" or " " <= char <= "~" or char >= "\x80" for char in token)


def _assertion_of(lab: Lab, path: str, edge: EdgeUnderTest) -> dict[str, object]:
    received = lab.received(path)[-1]
    assertion = verify_assertion(
        received.header(ASSERTION_HEADER.lower()) or "",
        secrets={EDGE_KEY_ID: EDGE_SECRET.encode()},
        method=received.method,
        path=received.target,
        now=edge.now(),
    )
    return {"subject": assertion.subject, "roles": assertion.roles, "country": assertion.country}


@pytest.mark.parametrize("hostile", CORPUS.hostile, ids=lambda token: token.name)
def test_every_hostile_token_is_refused_with_401_and_never_reaches_the_origin(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str, hostile: HostileToken
) -> None:
    path = f"/auth/me/{unique}"
    if _header_safe(hostile.token):
        # Whitespace around a field value is not part of it (RFC 9110 §5.5): this is what any
        # server receives for the token, so it is what the edge must refuse.
        value = ("Bearer " + hostile.token).strip(" \t")
        authorization = [(b"Authorization", value.encode("utf-8"))]
        response = corpus_edge.client.get(path, headers=authorization)
        status, body = response.status_code, response.json()
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.headers["x-cache"] == "BYPASS"
    else:
        # NUL or a line break cannot be in a header: the HTTP layer refuses the request itself.
        raw = request_bytes("GET", path).replace(
            b"\r\n\r\n", b"\r\nAuthorization: Bearer " + hostile.token.encode() + b"\r\n\r\n"
        )
        status, body = send_raw(corpus_edge.url, raw).status, None
        assert status == 400
    if body is not None:
        assert status == 401
        assert body["error"]["code"] in ("invalid_token", "invalid_request")
    assert lab.received(path) == []


@pytest.mark.parametrize("valid", ASYMMETRIC_VALID, ids=lambda token: token.name)
def test_valid_tokens_pass_and_the_origin_gets_the_caller_in_the_signed_assertion(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str, valid: ValidToken
) -> None:
    path = f"/auth/me/{unique}"  # template:demo
    # template:no-demo: path = f"/auth/me/{unique}"
    response = corpus_edge.client.get(
        path, headers={"Authorization": f"Bearer {valid.token}", "CF-IPCountry": "DE"}
    )

    assert response.status_code == 200
    assert _assertion_of(lab, path, corpus_edge) == {
        "subject": valid.subject,
        "roles": valid.roles,
        "country": "DE",
    }


def test_a_token_signed_with_a_symmetric_key_from_the_jwks_is_never_trusted(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    # The corpus JWKS publishes an HS256 secret: anyone could mint tokens with it.
    path = f"/auth/me/{unique}"
    response = corpus_edge.client.get(
        path, headers={"Authorization": f"Bearer {HS256_VALID.token}"}
    )

    assert response.status_code == 401
    assert lab.received(path) == []


def test_a_required_route_without_a_token_is_401_with_a_bearer_challenge(
    corpus_edge: EdgeUnderTest, unique: str
) -> None:
    response = corpus_edge.client.get(f"/api/orders/{unique}")  # template:demo
    # template:no-demo: response = corpus_edge.client.get(f"/auth/me/{unique}")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="outpost"'
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    "authorization",
    ["Basic dXNlcjpwYXNz", "Bearer", f"Bearer  {CUSTOMER_TOKEN.token}"],
    ids=["basic-scheme", "no-credentials", "two-spaces"],
)
def test_malformed_credentials_on_a_required_route_are_401(
    corpus_edge: EdgeUnderTest, unique: str, authorization: str
) -> None:
    response = corpus_edge.client.get(
        f"/api/orders/{unique}",  # template:demo
        # template:no-demo: f"/auth/me/{unique}",
        headers={"Authorization": authorization},
    )

    assert response.status_code == 401
    assert "error=" in response.headers["www-authenticate"]


def test_two_authorization_headers_are_refused(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = f"/auth/me/{unique}"
    token = f"Bearer {CUSTOMER_TOKEN.token}"
    response = corpus_edge.client.get(
        path, headers=[("Authorization", token), ("Authorization", token)]
    )

    assert response.status_code == 401
    # Fetch-API runtimes join repeated fields into one value ("Bearer a, Bearer a"); the CPython
    # edge sees two fields. Both are the same malformed request.
    assert response.json()["error"]["code"] == "invalid_request"
    assert 'error="invalid_request"' in response.headers["www-authenticate"]
    assert lab.received(path) == []


def test_credentials_joined_by_a_comma_in_one_field_are_an_invalid_request(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = f"/auth/me/{unique}"
    token = CUSTOMER_TOKEN.token
    response = corpus_edge.client.get(
        path, headers={"Authorization": f"Bearer {token}, Bearer {token}"}
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_request"
    assert lab.received(path) == []


def test_a_missing_role_is_403_insufficient_scope(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    method, path = "PATCH", f"/api/products/{unique}"  # template:demo
    # template:no-demo: method, path = "GET", f"/metrics/{unique}"  # needs the admin role
    response = corpus_edge.client.request(
        method,
        path,
        json={"price_cents": 1},
        headers={"Authorization": f"Bearer {CUSTOMER_TOKEN.token}", "CF-IPCountry": "DE"},
    )

    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert response.json()["error"]["code"] == "forbidden"
    assert lab.received(path) == []


def test_the_required_role_lets_the_request_through(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = f"/api/products/{unique}"  # template:demo
    # template:no-demo: path = f"/metrics/{unique}"  # every method needs the admin role
    response = corpus_edge.client.patch(
        path,
        json={"price_cents": 1},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN.token}", "CF-IPCountry": "DE"},
    )

    assert response.status_code == 200
    assert len(lab.received(path)) == 1


def test_an_optional_route_admits_anonymous_callers_but_not_bad_tokens(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = f"/auth/{unique}"
    anonymous = corpus_edge.client.post(path, json={})
    forged = corpus_edge.client.post(path, json={}, headers={"Authorization": "Bearer a.b.c"})

    assert anonymous.status_code == 200
    assert _assertion_of(lab, path, corpus_edge)["subject"] is None
    assert forged.status_code == 401
    assert len(lab.received(path)) == 1


def test_a_public_route_ignores_tokens_and_never_forwards_them(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = f"/api/products/{unique}"  # template:demo
    # template:no-demo: path = f"/healthz/{unique}"
    response = corpus_edge.client.get(path, headers={"Authorization": "Bearer not-even-a-token"})

    assert response.status_code == 200
    assert lab.received(path)[-1].header("authorization") is None
    assert _assertion_of(lab, path, corpus_edge)["subject"] is None


def test_a_key_added_to_the_jwks_is_fetched_on_first_sight_of_its_kid_at_a_bounded_rate(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = f"/auth/me/{unique}"
    token = mint(
        "rotated-user",
        "customer",
        kid=ROTATED_KID,
        key_file="test-only-other-issuer-es256.pem",
        now=corpus_edge.now(),
    )
    headers = {"Authorization": f"Bearer {token}"}
    try:
        time.sleep(1.1)  # past the corpus edge's refetch interval (1 s)
        fetches = lab.jwks_fetches
        assert corpus_edge.client.get(path, headers=headers).status_code == 401
        assert lab.jwks_fetches == fetches + 1  # an unknown kid triggered one refetch
        burst = [corpus_edge.client.get(path, headers=headers).status_code for _ in range(10)]
        assert burst == [401] * 10
        assert lab.jwks_fetches == fetches + 1  # ... and no more within the interval

        rotated = corpus_jwks()
        rotated["keys"].append(public_jwk("test-only-other-issuer-es256.pem", ROTATED_KID))
        lab.set_jwks(rotated)
        time.sleep(1.1)
        response = corpus_edge.client.get(path, headers=headers)
    finally:
        lab.set_jwks(corpus_jwks())

    assert response.status_code == 200
    assert _assertion_of(lab, path, corpus_edge)["subject"] == "rotated-user"
