"""Settings every service shares; each service subclasses with its own environment prefix."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    host: str = "127.0.0.1"
    port: int
    log_level: str = "INFO"
    max_request_line_bytes: int = Field(
        default=8 * 1024, ge=256, description="Bytes a request's target (path and query) may hold; more is a 414."
    )
    max_header_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Bytes a request's headers may hold in all; more is a 431."
    )
    readiness_timeout_seconds: float = Field(
        default=2.0, gt=0, description="How long /readyz waits for each dependency before saying it timed out."
    )
    body_timeout_seconds: float = Field(
        default=60.0, gt=0,
        description="How long a client may take to send a request's body, from the first read of it; longer is a 408.",
    )
