"""The demo domain: a small shop (products, stock, orders) that shows the template's patterns.

**A new app replaces this package** (tables, schemas, data functions, seed data and routes) and
the migration that creates its tables. What it demonstrates and is worth keeping: tables with
database-enforced invariants (CHECK, UNIQUE, foreign keys), strict input schemas, keyset
pagination, a version column for ETags, stock decremented by a conditional UPDATE instead of
read-modify-write, and idempotent order creation that is safe under concurrent retries.
"""
