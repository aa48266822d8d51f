"""Fixtures of the gateway's tests."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from gateway.actors import Actor


@pytest.fixture
def acting_as(gateway_app):
    """Act, within the block, as an actor with the grants given (None: with no credentials). The actors are
    built from grants directly (the app's authenticator is swapped for one that answers them)."""
    real = gateway_app.state.authenticate

    @contextmanager
    def act(actor: Actor | None):
        async def authenticate(request):
            return actor

        gateway_app.state.authenticate = authenticate
        try:
            yield
        finally:
            gateway_app.state.authenticate = real

    return act
