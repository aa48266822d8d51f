"""The three services as real processes on loopback, one stack per test module and database."""

import pytest

from tests.support.identity import admin_env
from tests.support.servers import three_services


@pytest.fixture(scope="module")
def stack(database_url, tmp_path_factory):
    """Set up the database as `make run` does, then start the engines and the gateway.

    Module-scoped: a module that stops an engine does so in its last test.
    """
    with three_services(database_url, tmp_path_factory.mktemp("stack"), admin_env()) as running:
        yield running
