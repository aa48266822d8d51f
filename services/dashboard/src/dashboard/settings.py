"""Settings of the dashboard, from DASHBOARD_* environment variables."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from inspection_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DASHBOARD_", extra="ignore")

    port: int = 8003
    gateway_url: str = Field(default="http://127.0.0.1:8000", description="The gateway the pages read from.")
    session_idle_minutes: int = Field(
        default=30, ge=1, description="A session unused this long ends; the person signs in again."
    )
    session_hours: int = Field(default=10, ge=1, description="A session ends this long after signing in, used or not.")
    max_sessions: int = Field(
        default=10_000, ge=10, description="Sessions held at once; past it the least recently used ends first."
    )
    inspection_interval_days: int = Field(
        default=3 * 365, ge=1,
        description="The programme's interval: a unit whose last published inspection is older is overdue.",
    )
