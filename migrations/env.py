"""Alembic environment for the gateway: async engines, either database, batch mode for SQLite."""

import asyncio

import sqlalchemy as sa
from alembic import context
from sqlalchemy.engine import Connection

from gateway.db import UTCDateTime, create_engine
from gateway.models import Base
from gateway.settings import Settings

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    # A caller (tests, the CLI) may pass the URL explicitly; otherwise the gateway's settings decide.
    return config.attributes.get("database_url") or Settings().resolved_database_url()


def render_item(type_: str, obj: object, autogen_context) -> str | bool:
    """Write the gateway's column types into new migrations as plain SQLAlchemy, so that migrations
    never import application code that may change after them."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, sa.JSON) and getattr(obj, "_variant_mapping", None):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')"
    return False


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _sqlite_pragma(connection: Connection, pragma: str) -> list:
    """Run a PRAGMA on the connection itself, outside any transaction (inside one, foreign_keys is ignored)."""
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA {pragma}")
        return cursor.fetchall()
    finally:
        cursor.close()


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True, render_item=render_item)
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite alters a column by rebuilding its table; with foreign keys enforced, dropping the old table
        # would delete (or cascade to) the rows that refer to it. Enforced again, and checked, after.
        _sqlite_pragma(connection, "foreign_keys=OFF")
    try:
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if sqlite:
            broken = _sqlite_pragma(connection, "foreign_key_check")
            _sqlite_pragma(connection, "foreign_keys=ON")
            if broken:
                raise RuntimeError(f"the migration left rows referring to rows that are gone: {broken[:5]}")


async def run_migrations_online() -> None:
    engine = create_engine(database_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
