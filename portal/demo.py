"""Demo-data extension point: each app registers a seeder that `seed_demo` runs after the core's own data.

A seeder is `(tenant, *, password_hash, log) -> list[(username, tenant_code, description)]`; it must be
idempotent (a second run changes nothing) and return the accounts it created or found, for the printed table.
"""

from collections.abc import Callable

SEEDERS: list[Callable] = []
