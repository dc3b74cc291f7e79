"""A service's own schema on a real PostgreSQL, for tests of its SQL."""

from __future__ import annotations

import uuid

import asyncpg

from braided.services import SERVICE_DIRS
from shared.db import create_pool, migrate, migration_files


async def service_pool(dsn: str, service: str, prefix: str) -> asyncpg.Pool:
    """A fresh schema (a random name, so no clean-up) with `service`'s migrations
    applied, and a small pool on it."""
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    await migrate(dsn, schema, migration_files(SERVICE_DIRS[service]))
    return await create_pool(dsn, schema, max_size=2)
