"""Sessions: the browser holds only a random reference in a cookie; the person's tokens stay here.

Held in memory (one dashboard process; a restart signs everyone out), each ending after
`session_idle_minutes` unused or `session_hours` after signing in, the least recently used first past
`max_sessions`. A visitor not yet signed in has a session too, so that the sign-in form carries a CSRF
token; signing in replaces it with a new one (a reference known before signing in is worth nothing after).
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from inspection_shared.clients.gateway import Me, Tokens

COOKIE = "dashboard_session"
REFRESH_MARGIN_SECONDS = 30
"""An access token this close to its end is exchanged before use, not after the gateway refuses it."""


@dataclass
class Session:
    id: str
    csrf: str
    started: float
    last_used: float
    person: Me | None = None
    access_token: str = ""
    refresh_token: str = ""
    access_until: float = 0.0
    refreshing: asyncio.Lock = field(default_factory=asyncio.Lock)

    def csrf_matches(self, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(self.csrf, sent)

    def hold(self, tokens: Tokens) -> None:
        self.access_token, self.refresh_token = tokens.access_token, tokens.refresh_token
        self.access_until = time.monotonic() + tokens.expires_in

    @property
    def access_fresh(self) -> bool:
        return time.monotonic() < self.access_until - REFRESH_MARGIN_SECONDS


class SessionStore:
    def __init__(self, *, idle_seconds: float, lifetime_seconds: float, most: int):
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._idle, self._lifetime, self._most = idle_seconds, lifetime_seconds, most

    def __len__(self) -> int:
        return len(self._sessions)

    def new(self) -> Session:
        now = time.monotonic()
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), now, now)
        self._sessions[session.id] = session
        while len(self._sessions) > self._most:
            self._sessions.popitem(last=False)
        return session

    def get(self, session_id: str | None) -> Session | None:
        session = self._sessions.get(session_id or "")
        if session is None:
            return None
        now = time.monotonic()
        if now - session.last_used > self._idle or now - session.started > self._lifetime:
            self.end(session)
            return None
        session.last_used = now
        self._sessions.move_to_end(session.id)
        return session

    def signed_in(self, before: Session, person: Me, tokens: Tokens) -> Session:
        """A new session for `person`, replacing `before`."""
        self.end(before)
        session = self.new()
        session.person = person
        session.hold(tokens)
        return session

    def end(self, session: Session) -> None:
        self._sessions.pop(session.id, None)
