"""docker-compose.yml and the Dockerfiles agree with what the code expects (no Docker engine runs here)."""

import importlib.util
import re
import stat
from urllib.parse import urlparse

import pytest
import yaml

from dashboard.settings import Settings as DashboardSettings
from gateway.settings import Settings as GatewaySettings
from inspection_shared.settings import FILE_SUFFIX
from rating_engine.settings import Settings as RatingEngineSettings
from sampling.settings import Settings as SamplingSettings
from scripts.make_secrets import make_secrets
from tests.conftest import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = {
    # compose service: (module, settings class, environment prefix)
    "api": ("gateway", GatewaySettings, "GATEWAY_"),
    "rating-engine": ("rating_engine", RatingEngineSettings, "RATING_ENGINE_"),
    "sampling": ("sampling", SamplingSettings, "SAMPLING_"),
    "dashboard": ("dashboard", DashboardSettings, "DASHBOARD_"),
}


def test_compose_has_postgres_and_the_four_services():
    assert set(COMPOSE["services"]) == {"postgres", *SERVICES}
    assert COMPOSE["services"]["postgres"]["image"].startswith("postgres:15")
    assert "pg_isready" in " ".join(COMPOSE["services"]["postgres"]["healthcheck"]["test"])


@pytest.fixture
def made_secrets(tmp_path):
    """The secrets `make secrets` makes, where compose mounts them from (as it reads them: a folder here)."""
    assert make_secrets(tmp_path) == list(COMPOSE["secrets"])
    return tmp_path


def mounted(value: str, made_secrets) -> str:
    """A /run/secrets/ path of compose, as the file `make secrets` made."""
    return str(made_secrets / value.removeprefix("/run/secrets/")) if value.startswith("/run/secrets/") else value


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_service_matches_its_code(name, monkeypatch, made_secrets):
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
    for key, value in environment.items():
        setting = key.removesuffix(FILE_SUFFIX.upper())
        if setting != key:  # a secret, from a file compose mounts
            assert value == f"/run/secrets/{value.rsplit('/', 1)[-1]}" and value.rsplit("/", 1)[-1] in spec["secrets"]
        if setting == "DATABASE_URL":
            assert "database_url" in fields
            continue
        assert key.startswith(prefix), f"{name}: {key} lacks the prefix {prefix}"
        assert setting.removeprefix(prefix).lower() in fields, f"{name}: {key} is not a setting"

    port = int(environment[f"{prefix}PORT"])
    assert port == fields["port"].default, "compose and the code agree on the default port"
    assert f"EXPOSE {port}" in dockerfile.read_text()
    published = spec.get("ports", []) + spec.get("expose", [])
    assert any(str(p).split(":")[-1] == str(port) for p in published)
    assert f"127.0.0.1:{port}/" in " ".join(spec["healthcheck"]["test"])
    # The settings class accepts exactly this environment, its secrets read from the files mounted.
    for key, value in environment.items():
        monkeypatch.delenv(key.removesuffix(FILE_SUFFIX.upper()), raising=False)  # the test run's own keys
        monkeypatch.setenv(key, mounted(str(value), made_secrets))
    parsed = settings_class()
    assert (parsed.host, parsed.port) == ("0.0.0.0", port)
    for key in environment:
        if key.endswith(FILE_SUFFIX.upper()) and key != "DATABASE_URL_FILE":
            secret = getattr(parsed, key.removeprefix(prefix).removesuffix(FILE_SUFFIX.upper()).lower())
            assert secret.get_secret_value() == (made_secrets / environment[key].rsplit("/", 1)[-1]).read_text().strip()
    if name == "api":
        from gateway.production import production_faults

        assert production_faults(parsed) == []  # compose's gateway, with the secrets made, may start


def test_gateway_is_wired_to_postgres_and_both_engines(made_secrets):
    api = COMPOSE["services"]["api"]
    env = api["environment"]
    database = urlparse((made_secrets / "database_url").read_text().strip())
    assert database.scheme == "postgresql+asyncpg" and database.hostname == "postgres"
    assert database.password == (made_secrets / "postgres_password").read_text().strip()
    postgres = COMPOSE["services"]["postgres"]
    assert postgres["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    assert (database.username, database.path) == (postgres["environment"]["POSTGRES_USER"], "/inspection")
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
    assert "password=" not in text.lower() and "postgresql+" not in text and "BEGIN" not in text
    assert {name: spec["file"] for name, spec in COMPOSE["secrets"].items()} == {
        name: f"./secrets/{name}" for name in COMPOSE["secrets"]
    }
    assert "secrets/" in (ROOT / ".gitignore").read_text().split()


def test_make_secrets_keeps_what_is_there_and_keeps_the_folder_its_owners(tmp_path):
    assert len(make_secrets(tmp_path)) == 7
    before = {path.name: path.read_text() for path in tmp_path.iterdir()}
    (tmp_path / "sampling_token").unlink()
    assert make_secrets(tmp_path) == ["sampling_token"]
    after = {path.name: path.read_text() for path in tmp_path.iterdir()}
    assert {k: v for k, v in after.items() if k != "sampling_token"} == {k: v for k, v in before.items()
                                                                          if k != "sampling_token"}
    assert after["sampling_token"] != before["sampling_token"]
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700


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
    assert engines["rating-engine"]["RATING_ENGINE_TOKEN_FILE"] == gateway["GATEWAY_RATING_ENGINE_TOKEN_FILE"]
    assert engines["sampling"]["SAMPLING_TOKEN_FILE"] == gateway["GATEWAY_SAMPLING_TOKEN_FILE"]


def test_the_dashboard_reads_the_gateway_on_the_internal_network():
    dashboard = COMPOSE["services"]["dashboard"]
    url = urlparse(dashboard["environment"]["DASHBOARD_GATEWAY_URL"])
    assert (url.hostname, url.port) == ("api", GatewaySettings.model_fields["port"].default)
    assert dashboard["depends_on"] == {"api": {"condition": "service_healthy"}}
    assert "secrets" not in dashboard  # a client of the public API: no database, no keys
