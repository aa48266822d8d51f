"""Changes announced to every gateway process: what a process keeps in memory about some tables is
dropped the moment another request, in any process, changes them.

A domain names the tables it keeps something about (`announce(channel, *tables)`) and subscribes to the
channel (`subscribe`). The write path (`writes`) notes each write to such a table and, as the transaction
commits:

- on PostgreSQL sends `NOTIFY channel, 'table,table'` in that same transaction, so it is heard exactly
  when the change is committed (never for a change rolled back) by every process LISTENing
  (`ChangeListener`);
- in this process, calls the subscribers at once after the commit, so the request that made the change
  is answered only after this process has forgotten what it changed (on SQLite, which has no NOTIFY and
  serves one process, this is all there is).

A process that is not LISTENing cannot know what changed meanwhile: `ChangeListener.listening` says
whether it is, and subscribers are told `EVERYTHING` changed whenever it stops or starts again.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

import asyncpg
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.db import DatabaseLimits, postgres_connect_args

log = structlog.get_logger("announcements")

EVERYTHING = frozenset({"*"})
"""What subscribers are told when changes may have been missed (the listener stopped or started)."""

APPLICATION_NAME = "inspection-gateway change listener"
"""How the listening connections are named to PostgreSQL (pg_stat_activity.application_name), followed by
the process id: `listener_name(pid)`."""

_CHANNELS: dict[str, str] = {}
"""Table name -> the channel its changes are announced on."""


class Subscriber(Protocol):
    def changed(self, channel: str, tables: frozenset[str]) -> None: ...


_subscribers: weakref.WeakSet[Subscriber] = weakref.WeakSet()


def listener_name(pid: int) -> str:
    return f"{APPLICATION_NAME} (pid {pid})"


def announce(channel: str, *tables: str) -> None:
    """Announce every committed write to these tables on `channel`."""
    for table in tables:
        _CHANNELS[table] = channel


def channel_of(table: str) -> str | None:
    return _CHANNELS.get(table)


def subscribe(subscriber: Subscriber) -> None:
    """Tell `subscriber` of every change committed in this process and heard from others, for as long as it
    lives (held weakly: an app's caches go with the app)."""
    _subscribers.add(subscriber)


def tell(channel: str, tables: frozenset[str]) -> None:
    """Tell every subscriber; one that fails is logged, never the commit that told it (it has happened)."""
    for subscriber in list(_subscribers):
        try:
            subscriber.changed(channel, tables)
        except Exception:
            log.exception("a subscriber failed to hear a change", channel=channel)


def notification(channel: str, tables: Iterable[str]) -> tuple[str, str]:
    """The channel and payload of the NOTIFY announcing changes to `tables`."""
    return channel, ",".join(sorted(tables))


class ChangeListener:
    """One connection of its own that LISTENs on the channels, for as long as the app runs; it reconnects
    by itself after a loss, and checks every `keepalive` seconds that the connection still answers (a
    connection that silently went away would otherwise look alive while missing every change)."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        channels: Iterable[str],
        *,
        keepalive: float = 2.0,
        retry: float = 1.0,
    ):
        self._connect = connect
        self._channels = tuple(sorted(set(channels)))
        self._keepalive = keepalive
        self._retry = retry
        self._task: asyncio.Task | None = None
        self.listening = False
        self._listening_event = asyncio.Event()

    @classmethod
    def for_engine(cls, engine: AsyncEngine, channels: Iterable[str], limits: DatabaseLimits) -> ChangeListener:
        """A listener connecting as the engine does (same server, credentials and timeouts)."""
        _, connect_args = engine.dialect.create_connect_args(engine.url)
        for adapter_only in ("prepared_statement_cache_size", "prepared_statement_name_func", "async_creator_fn"):
            connect_args.pop(adapter_only, None)
        arguments = {**connect_args, **postgres_connect_args(limits)}
        arguments["server_settings"] = {**arguments["server_settings"], "application_name": listener_name(os.getpid())}
        return cls(lambda: asyncpg.connect(**arguments), channels, keepalive=min(2.0, limits.statement_timeout))

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="change-listener")

    async def wait_listening(self, timeout: float) -> bool:
        """Whether the listener is LISTENing within `timeout` seconds (it connects in the background)."""
        try:
            await asyncio.wait_for(self._listening_event.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    def _heard(self, connection: object, pid: int, channel: str, payload: str) -> None:
        tell(channel, frozenset(payload.split(",")) if payload else EVERYTHING)

    def _set_listening(self, listening: bool) -> None:
        if listening == self.listening:
            return
        self.listening = listening
        if listening:
            self._listening_event.set()
        else:
            self._listening_event.clear()
        # Whatever was changed while nobody listened is unknown: everything held is dropped, both when
        # listening stops (so nothing is served from memory meanwhile) and when it starts again.
        for channel in self._channels:
            tell(channel, EVERYTHING)

    async def _run(self) -> None:
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await self._connect()
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _: lost.set())
                for channel in self._channels:
                    await connection.add_listener(channel, self._heard)
                self._set_listening(True)
                log.info("listening for changes", channels=list(self._channels))
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), self._keepalive)
                    except TimeoutError:
                        await connection.fetchval("SELECT 1", timeout=self._keepalive)
                raise ConnectionError("the listening connection was closed")
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure: listen again on a new connection
                if self.listening:
                    log.warning("stopped listening for changes", error=type(error).__name__)
            finally:
                self._set_listening(False)
                if connection is not None:
                    connection.terminate()
            await asyncio.sleep(self._retry)
