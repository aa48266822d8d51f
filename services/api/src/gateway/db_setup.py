"""Before `gateway.cli` touches the database: the PostgreSQL database DATABASE_URL names exists (made by
`setup` and `migrate` when missing and the server lets its user create it), or one line says what is
wrong and what to run. SQLite makes its own file.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL, make_url

from gateway.db import DatabaseLimits, create_engine, sqlstate

NO_SUCH_DATABASE = "3D000"
ALREADY_THERE = "42P04"  # made meanwhile, by another set-up
REFUSED_LOGIN = frozenset({"28000", "28P01"})
LIMITS = DatabaseLimits(connect_timeout=5.0, pool_size=1, max_overflow=0)


class DatabaseUnavailable(Exception):
    """The database cannot be used: the one line to show, saying why and what to do."""


async def ensure_database(url: str, create: bool) -> bool:
    """Make sure the database `url` names can be connected to; with `create`, make it if it is missing.
    Whether it was made now. Raises DatabaseUnavailable with a line for people."""
    target = make_url(url)
    if target.get_backend_name() != "postgresql":
        return False
    try:
        await _execute(target, "SELECT 1")
        return False
    except Exception as error:
        if sqlstate(error) != NO_SUCH_DATABASE:
            raise DatabaseUnavailable(_unusable(target, error)) from error
    if not create:
        raise DatabaseUnavailable(
            f'The database "{target.database}" does not exist on PostgreSQL at {_server(target)}: '
            "run `python -m gateway.cli setup` (or make run) to make it."
        )
    name = postgresql.dialect().identifier_preparer.quote_identifier(target.database)
    try:
        # CREATE DATABASE cannot run inside a transaction, nor in the database it makes.
        await _execute(target.set(database="postgres"), f"CREATE DATABASE {name}")
    except Exception as error:
        if sqlstate(error) == ALREADY_THERE:
            return False
        raise DatabaseUnavailable(
            f'The database "{target.database}" does not exist on PostgreSQL at {_server(target)} and '
            f"{target.username or 'this user'} could not make it ({_reason(error)}): run "
            f"`createdb -h {target.host or 'localhost'} -p {target.port or 5432} {name}` as a user allowed to "
            "(or CREATE DATABASE there), then this again."
        ) from error
    return True


async def _execute(url: URL, statement: str) -> None:
    engine = create_engine(url.render_as_string(hide_password=False), LIMITS)
    try:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def _server(url: URL) -> str:
    return f"{url.host or 'localhost'}:{url.port or 5432}"


def _reason(error: BaseException) -> str:
    """The innermost message: the server's words, or the operating system's."""
    while (inner := getattr(error, "orig", None) or error.__cause__) is not None:
        error = inner
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def _unusable(url: URL, error: BaseException) -> str:
    if isinstance(error, OSError):  # refused, no such host, timed out
        return (f"PostgreSQL at {_server(url)} cannot be reached ({_reason(error)}): start it, or point "
                "DATABASE_URL at a server that runs.")
    if sqlstate(error) in REFUSED_LOGIN:
        return (f"PostgreSQL at {_server(url)} refused {url.username or 'the login'} ({_reason(error)}): "
                "correct the user or password in DATABASE_URL.")
    return f"PostgreSQL at {_server(url)} could not be used ({_reason(error)})."
