"""Alembic migration scripts; run through :mod:`origin.db.migrate`, no ``alembic.ini`` needed."""
