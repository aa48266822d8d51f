"""The three services as real processes on loopback, one stack per test module and database."""

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.support.identity import admin_env
from tests.support.servers import service


@pytest.fixture(scope="module")
def stack(database_url, tmp_path_factory):
    """Set up the database as `make run` does, then start the engines and the gateway.

    Module-scoped: a module that stops an engine does so in its last test.
    """
    tmp_path = tmp_path_factory.mktemp("stack")
    env = {"DATABASE_URL": database_url}
    setup = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "setup"], env={**os.environ, **env, **admin_env()},
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert setup.returncode == 0, setup.stderr
    with (
        service("rating_engine", "RATING_ENGINE_", tmp_path) as rating,
        service("sampling", "SAMPLING_", tmp_path) as sampling,
        service(
            "gateway", "GATEWAY_", tmp_path,
            {**env, "GATEWAY_RATING_ENGINE_URL": rating.url, "GATEWAY_SAMPLING_URL": sampling.url},
        ) as gateway,
    ):
        yield {"gateway": gateway, "rating": rating, "sampling": sampling}
