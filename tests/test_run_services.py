"""`make run`'s port probe: a port the last run left in TIME_WAIT is free, a listening one is taken."""

import socket

import pytest

from scripts.run_services import port_is_free


def _listener() -> socket.socket:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio's servers bind
    server.bind(("127.0.0.1", 0))
    server.listen()
    return server


def _leave_in_time_wait() -> int:
    """A port whose server side closed a real connection first, as a stopped service does: TIME_WAIT."""
    server = _listener()
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server side closes first, so its end of the connection waits
    server.close()
    assert client.recv(1) == b""  # the FIN arrived
    client.close()
    return port


def test_a_port_left_in_time_wait_by_a_stopped_server_is_free():
    port = _leave_in_time_wait()
    with socket.socket() as plain, pytest.raises(OSError):
        plain.bind(("127.0.0.1", port))  # the old probe's bind: refused while the connection waits
    assert port_is_free(port) is True


def test_a_listening_port_is_taken():
    server = _listener()
    try:
        assert port_is_free(server.getsockname()[1]) is False
    finally:
        server.close()


def test_a_port_held_by_a_server_on_every_address_is_taken():
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", 0))
    server.listen()
    try:
        assert port_is_free(server.getsockname()[1]) is False
    finally:
        server.close()
