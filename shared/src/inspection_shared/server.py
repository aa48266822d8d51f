"""Serving a service: the one `serve` all three run by, and the HTTP/1.1 protocol their servers speak.

The protocol is uvicorn's httptools protocol, kept whole (it is fast, and the gateway's reads are
benchmarked), with limits it lacks: the request's target and its headers are counted as they arrive, and
a request over `max_request_line_bytes` (414) or `max_header_bytes` (431) is refused as soon as it is
known to be, with a problem, and its connection closed. Without them one 64 MB header was taken in
whole, a piece at a time, while every other request on the process waited. uvicorn's own answer to
bytes that are not HTTP (a plain-text 400) is given as a problem too. A connection closed after an answer
given before the request's body was all read (the edge's 408 for a body too slow to come) lingers the
same way, so that the client, still sending, reads the answer rather than a reset.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import httptools
import structlog
import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from inspection_shared.edge import API_POLICY, SECURITY_HEADERS
from inspection_shared.logs import configure_logging
from inspection_shared.problems import PROBLEM_JSON, FieldError, Problem
from inspection_shared.settings import ServiceSettings
from inspection_shared.web import freeze_startup_objects

LINGER_SECONDS = 1.0
"""How long a refused connection stays open, reading and dropping what the client still sends, so that
the client reads the refusal: a socket closed with unread data is reset, and the answer lost with it."""

_VALID_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:\-]{1,128}$")

log = structlog.get_logger("http")


class _Refused(Exception):
    """Raised from a parser callback to stop reading a request over a limit."""


def target_too_long(limit: int) -> Problem:
    return Problem(
        414, "URI too long", f"The request's target (path and query) is over {limit} bytes, the most accepted.",
        slug="uri-too-long", errors=[FieldError(field="target", message=f"over {limit} bytes")],
    )


def headers_too_large(limit: int, header: bytes | None = None) -> Problem:
    field = "headers" if header is None else "headers." + header.decode("latin-1").lower()
    return Problem(
        431, "Request header fields too large",
        f"The request's headers are over {limit} bytes in all, the most accepted.",
        slug="request-header-fields-too-large", errors=[FieldError(field=field, message=f"over {limit} bytes in all")],
    )


def not_http(reason: str) -> Problem:
    return Problem(400, "Bad request", f"The request could not be read as HTTP/1.1: {reason}.", slug="bad-request")


class _LingeringTransport:
    """The connection's transport as a request's cycle sees it: its `close` lingers if the request's
    body is still coming (see `LimitedHttpToolsProtocol.close_after_answer`)."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: LimitedHttpToolsProtocol):
        self._protocol = protocol

    def __getattr__(self, name: str) -> Any:
        return getattr(self._protocol.transport, name)

    def close(self) -> None:
        self._protocol.close_after_answer()


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with limits on the request line and the headers.

    The target is counted in `on_url`, which httptools calls with each piece as it arrives; complete
    headers in `on_header`. A header still arriving is not handed over until it is complete (httptools
    gathers it), so the bytes of each read that ends inside a request's head are counted too, and a
    request whose head runs past both limits together is refused there, holding at most one read more.
    """

    max_request_line_bytes = 8 * 1024
    max_header_bytes = 64 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = False
        self._requests = 0
        self._target_bytes = 0
        self._header_bytes = 0
        self._head_read_bytes = 0
        self._refusal: Problem | None = None
        self._in_message = False  # a request's head or body is still coming
        self._dropping = False  # what the client still sends is read and dropped until the connection closes
        self._closing: Any = None

    # Parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = self._in_message = True
        self._requests += 1
        self._target_bytes = self._header_bytes = self._head_read_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._target_bytes += len(url)
        if self._target_bytes > self.max_request_line_bytes:
            self._refusal = target_too_long(self.max_request_line_bytes)
            raise _Refused()
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4  # ": " and CRLF
        if self._header_bytes > self.max_header_bytes:
            self._refusal = headers_too_large(self.max_header_bytes, name)
            raise _Refused()
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()
        if self.cycle is not None:
            self.cycle.transport = _LingeringTransport(self)

    def on_message_complete(self) -> None:
        self._in_message = False
        super().on_message_complete()

    # Protocol interface

    def data_received(self, data: bytes) -> None:
        # uvicorn's, but a request it cannot or will not read is answered by `_refuse`.
        if self._dropping or self._refusal is not None:
            return  # what a refused client still sends is dropped until the connection closes
        in_head, requests = self._in_head, self._requests
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._refuse(self._refusal or not_http(str(error).rstrip(".") or "unreadable"))
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if self._in_head and in_head and self._requests == requests:
            # The whole read lies inside one request's head (the read that began it is not counted).
            self._head_read_bytes += len(data)
            if self._head_read_bytes > self.max_request_line_bytes + self.max_header_bytes:
                self._refuse(headers_too_large(self.max_header_bytes))

    def send_400_response(self, msg: str) -> None:
        self._refuse(not_http(msg.rstrip(".")))

    def connection_lost(self, exc: Exception | None) -> None:
        if self._closing is not None:
            self._closing.cancel()
        super().connection_lost(exc)

    def _request_id(self) -> str:
        for name, value in self.headers or ():
            if name == b"x-request-id" and _VALID_REQUEST_ID.match(value):
                return value.decode("ascii")
        return uuid.uuid4().hex

    def _refuse(self, problem: Problem) -> None:
        """Answer `problem` and close the connection, after a moment of reading and dropping."""
        self._refusal = problem
        if self.transport.is_closing():
            return
        request_id = self._request_id()
        body = json.dumps(problem.body().model_dump(mode="json", exclude_none=True)).encode()
        head = [STATUS_LINE[problem.status]]
        for name, value in (*self.server_state.default_headers, *SECURITY_HEADERS, API_POLICY):
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: ", PROBLEM_JSON.encode(), b"\r\n",
            b"content-length: ", str(len(body)).encode(), b"\r\n",
            b"x-request-id: ", request_id.encode(), b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        # The target and headers are not logged: they may name a case.
        log.warning("request refused", status=problem.status, detail=problem.detail, request_id=request_id)
        self._linger()

    def close_after_answer(self) -> None:
        """Close the connection after an answer that closes it: at once, unless the request's body is still
        coming, when it lingers so that the client reads the answer (a socket closed with unread data is
        reset, and what was sent before may be lost with it)."""
        if self._in_message and not self.transport.is_closing():
            self._linger()
        else:
            self.transport.close()

    def _linger(self) -> None:
        """Shut the writing side, drop what the client still sends, and close after `LINGER_SECONDS`."""
        self._dropping = True
        if self._closing is not None:
            return
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._closing = self.loop.call_later(LINGER_SECONDS, self.transport.close)


def limited_protocol(settings: ServiceSettings) -> type[LimitedHttpToolsProtocol]:
    """The protocol class uvicorn is given (`http=`), with the limits of `settings`."""
    return type(
        "LimitedHttpToolsProtocol",
        (LimitedHttpToolsProtocol,),
        {"max_request_line_bytes": settings.max_request_line_bytes, "max_header_bytes": settings.max_header_bytes},
    )


def serve(build_app: Callable[[], FastAPI], settings: ServiceSettings, *, service: str) -> None:
    """Run a service in this process until it is stopped: JSON logs named `service`, the app
    `build_app` makes (from the same `settings`), its start-up objects set aside from the collector, and
    uvicorn on `settings.host:port` speaking the limited protocol, believing the forwarded scheme and
    client address (X-Forwarded-Proto, X-Forwarded-For) from `settings.trusted_proxies` only."""
    configure_logging(service, settings.log_level)
    app = build_app()
    freeze_startup_objects()
    uvicorn.run(
        app, host=settings.host, port=settings.port, log_config=None, http=limited_protocol(settings),
        forwarded_allow_ips=settings.trusted_proxies,
    )
