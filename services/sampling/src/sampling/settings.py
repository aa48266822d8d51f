"""Settings of the sampling service, from SAMPLING_* environment variables."""

from pydantic_settings import SettingsConfigDict

from inspection_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SAMPLING_", extra="ignore")

    port: int = 8002
