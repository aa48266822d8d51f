"""docker-compose.yml and the Dockerfiles agree with what the code expects (no Docker engine runs here)."""

import importlib.util
import re
from urllib.parse import urlparse

import pytest
import yaml

from gateway.settings import Settings as GatewaySettings
from rating_engine.settings import Settings as RatingEngineSettings
from sampling.settings import Settings as SamplingSettings
from tests.conftest import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = {
    # compose service: (module, settings class, environment prefix)
    "api": ("gateway", GatewaySettings, "GATEWAY_"),
    "rating-engine": ("rating_engine", RatingEngineSettings, "RATING_ENGINE_"),
    "sampling": ("sampling", SamplingSettings, "SAMPLING_"),
}


def test_compose_has_postgres_and_the_three_services():
    assert set(COMPOSE["services"]) == {"postgres", *SERVICES}
    assert COMPOSE["services"]["postgres"]["image"].startswith("postgres:15")
    assert "pg_isready" in " ".join(COMPOSE["services"]["postgres"]["healthcheck"]["test"])


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_service_matches_its_code(name, monkeypatch):
    module, settings_class, prefix = SERVICES[name]
    spec = COMPOSE["services"][name]
    dockerfile = ROOT / spec["build"]["dockerfile"]
    assert spec["build"]["context"] == "."
    assert dockerfile.exists()
    assert importlib.util.find_spec(module) is not None
    assert f"python -m {module}" in " ".join(spec["command"]).replace("exec ", "")
    assert f'CMD ["python", "-m", "{module}"]' in dockerfile.read_text()

    environment = spec["environment"]
    fields = settings_class.model_fields
    for key in environment:
        if key == "DATABASE_URL":
            assert "database_url" in fields
            continue
        assert key.startswith(prefix), f"{name}: {key} lacks the prefix {prefix}"
        assert key.removeprefix(prefix).lower() in fields, f"{name}: {key} is not a setting"

    port = int(environment[f"{prefix}PORT"])
    assert port == fields["port"].default, "compose and the code agree on the default port"
    assert f"EXPOSE {port}" in dockerfile.read_text()
    published = spec.get("ports", []) + spec.get("expose", [])
    assert any(str(p).split(":")[-1] == str(port) for p in published)
    assert f"127.0.0.1:{port}/" in " ".join(spec["healthcheck"]["test"])
    # The settings class accepts exactly this environment.
    for key, value in environment.items():
        monkeypatch.setenv(key, str(value))
    parsed = settings_class()
    assert (parsed.host, parsed.port) == ("0.0.0.0", port)


def test_gateway_is_wired_to_postgres_and_both_engines():
    api = COMPOSE["services"]["api"]
    env = api["environment"]
    database = urlparse(env["DATABASE_URL"].replace("${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}", "x"))
    assert database.scheme == "postgresql+asyncpg" and database.hostname == "postgres"
    for key, target in (("GATEWAY_RATING_ENGINE_URL", "rating-engine"), ("GATEWAY_SAMPLING_URL", "sampling")):
        url = urlparse(env[key])
        assert url.hostname == target
        assert url.port == SERVICES[target][1].model_fields["port"].default
    assert api["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "rating-engine": {"condition": "service_healthy"},
        "sampling": {"condition": "service_healthy"},
    }
    assert "gateway.cli setup" in " ".join(api["command"])
    assert "/readyz" in " ".join(api["healthcheck"]["test"])


def test_no_secret_is_written_into_compose():
    text = (ROOT / "docker-compose.yml").read_text()
    assert re.search(r"POSTGRES_PASSWORD:\s*\$\{POSTGRES_PASSWORD", text)
    assert "password=" not in text.lower()


def test_gateway_image_carries_the_migrations():
    dockerfile = (ROOT / "services/api/Dockerfile").read_text()
    assert "COPY migrations migrations" in dockerfile and "COPY alembic.ini" in dockerfile


def test_the_gateway_image_and_ci_install_the_libraries_pdf_reports_are_drawn_with():
    from gateway.reports.pages import PDF_LIBRARIES

    dockerfile = (ROOT / "services/api/Dockerfile").read_text()
    ci = (ROOT / ".ci/run").read_text()
    assert re.search(r"apt-get install -y --no-install-recommends " + " ".join(PDF_LIBRARIES), dockerfile)
    assert f"pdf_libraries=({' '.join(PDF_LIBRARIES)})" in ci


def test_compose_gives_each_engine_a_service_token_and_the_gateway_the_same_ones():
    engines = {name: COMPOSE["services"][name]["environment"] for name in ("rating-engine", "sampling")}
    gateway = COMPOSE["services"]["api"]["environment"]
    assert engines["rating-engine"]["RATING_ENGINE_TOKEN"] == gateway["GATEWAY_RATING_ENGINE_TOKEN"]
    assert engines["sampling"]["SAMPLING_TOKEN"] == gateway["GATEWAY_SAMPLING_TOKEN"]
    for value in (engines["rating-engine"]["RATING_ENGINE_TOKEN"], engines["sampling"]["SAMPLING_TOKEN"]):
        assert re.fullmatch(r"\$\{\w+:\?set \w+\}", value)  # from the environment, required, never written here
