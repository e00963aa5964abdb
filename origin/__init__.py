"""The origin: a plain ASGI (Starlette) app holding the business logic and the database."""
