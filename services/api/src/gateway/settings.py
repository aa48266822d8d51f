"""Settings of the gateway, from GATEWAY_* environment variables (and DATABASE_URL)."""

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from inspection_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    port: int = 8000
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "GATEWAY_DATABASE_URL"),
        description="postgresql+asyncpg://... for PostgreSQL; unset for the embedded SQLite file under ./var/.",
    )
    rating_engine_url: str = "http://127.0.0.1:8001"
    sampling_url: str = "http://127.0.0.1:8002"
    engine_timeout_seconds: float = 30.0
    summary_cache_size: int = Field(
        default=256, ge=0, description="Inspection summaries each gateway process keeps rendered (0: none)."
    )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        path = Path("var").resolve() / "inspection.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{path}"
