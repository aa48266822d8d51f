"""Settings of the sampling service, from SAMPLING_* environment variables."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from inspection_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SAMPLING_", extra="ignore")

    port: int = 8002
    token: SecretStr | None = None
    """When set, calls to /v1 must carry it (`Authorization: Bearer`); the gateway is given the same."""
    max_frame_rows: int = 500_000
    """Cases a frame may hold; a larger one is refused with 413."""
    max_upload_bytes: int = Field(256 * 1024 * 1024, ge=1024)
    """Bytes a frame's request body may hold, as JSON, CSV or a form; a larger one is refused with 413."""
    max_concurrent_draws: int = Field(2, ge=1)
    """Sample draws under way at once; more wait their turn before their frame is read, so memory stays
    bounded (a national frame of 250,000 cases takes about 170 MB while it is drawn) and the draws under
    way keep the cores (each already uses two)."""
