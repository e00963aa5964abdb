"""Identity: the origin's token service and the authentication of every request.

- ``service``: :class:`~origin.identity.service.Identity`, built by ``create_app``, started by
  its lifespan; ``routes``: ``/.well-known/jwks.json`` and ``/auth/*``.
- ``authenticator``: edge assertion, then bearer token, then anonymous; ``verification``: the
  origin's own and external issuers' tokens through ``shared.jwt``; ``revocation`` and
  ``replay``: revoked sessions and spent assertion nonces.
- ``keys`` / ``keyring_file``: signing keys, rotation, JWKS; ``tokens``: minting.
- ``accounts`` / ``sessions`` / ``models``: the database side; ``passwords``: Argon2id.

See docs/identity.md.
"""
