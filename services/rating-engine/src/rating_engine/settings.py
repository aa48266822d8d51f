"""Settings of the rating engine, from RATING_ENGINE_* environment variables."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from inspection_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RATING_ENGINE_", extra="ignore")

    port: int = 8001
    token: SecretStr | None = None
    """When set, calls to /v1 must carry it (`Authorization: Bearer`); the gateway is given the same."""
    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    """Bytes a request's body may hold (413 past it): a national pooled request carries tens of thousands of
    cases' answers, some ten megabytes of JSON."""
