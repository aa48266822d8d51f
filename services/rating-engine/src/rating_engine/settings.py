"""Settings of the rating engine, from RATING_ENGINE_* environment variables."""

from pydantic_settings import SettingsConfigDict

from inspection_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RATING_ENGINE_", extra="ignore")

    port: int = 8001
