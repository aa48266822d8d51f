"""Settings of the gateway, from GATEWAY_* environment variables (and DATABASE_URL)."""

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from gateway.casedata.keys import CaseDataSettings
from gateway.db import DatabaseLimits
from inspection_shared.settings import ServiceSettings


class Settings(CaseDataSettings, ServiceSettings):
    """The case data settings (GATEWAY_CASE_*) are `casedata.keys.CaseDataSettings`."""

    # An empty variable is an unset one (docker-compose passes `${GATEWAY_ADMIN_EMAIL:-}` through as "").
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", env_ignore_empty=True)

    port: int = 8000
    env: Literal["development", "production"] = Field(
        default="development",
        description="production: refuse to start on default or missing secrets, SQLite, a CORS origin of `*`, or "
        "engines reached over the network without their tokens (see gateway.production).",
    )
    database_url: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "GATEWAY_DATABASE_URL"),
        description="postgresql+asyncpg://... for PostgreSQL; unset for the embedded SQLite file under ./var/.",
    )
    rating_engine_url: str = "http://127.0.0.1:8001"
    sampling_url: str = "http://127.0.0.1:8002"
    rating_engine_token: SecretStr | None = Field(default=None, description="The rating engine's service token.")
    sampling_token: SecretStr | None = Field(default=None, description="The sampling service's service token.")
    engine_timeout_seconds: float = Field(
        default=30.0, gt=0, description="The budget of one engine call, its retries included (then 504)."
    )
    db_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    db_checkout_timeout_seconds: float = Field(
        default=5.0, gt=0, description="How long a request waits for a database connection (then 503)."
    )
    db_statement_timeout_seconds: float = Field(
        default=15.0, gt=0, description="How long one statement may run (then 503); on SQLite, a writer's wait."
    )
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=20, ge=0)
    summary_cache_size: int = Field(
        default=256, ge=0, description="Inspection summaries each gateway process keeps rendered (0: none)."
    )
    report_cache_size: int = Field(
        default=64, ge=0, description="Inspection reports each gateway process keeps built (0: none)."
    )

    # Sign-in (see gateway.identity): keys, token lifetimes, refusals of repeated failures, the first admin.
    jwt_private_key: SecretStr | None = Field(
        default=None, description="The Ed25519 private key (PEM) that signs access tokens."
    )
    jwt_retired_public_keys: str | None = Field(
        default=None, description="Public keys (PEM, one after another) of keys rotated out, still accepted."
    )
    jwt_retired_public_keys_file: Path | None = None
    jwt_issuer: str = Field(default="inspection-gateway", min_length=1, description="The `iss` of every token.")
    access_token_seconds: int = Field(default=900, ge=30, le=86_400)
    refresh_token_days: float = Field(default=30, gt=0, le=365)
    sign_in_account_failures: int = Field(
        default=5, ge=1, description="Failed sign-ins to one account in a window before it is refused (429)."
    )
    sign_in_address_failures: int = Field(
        default=20, ge=1, description="Failed sign-ins from one client address in a window before it is refused."
    )
    sign_in_window_seconds: int = Field(default=900, ge=1)
    admin_email: str | None = Field(default=None, description="The administrator `gateway.cli setup` keeps.")
    admin_password: SecretStr | None = None

    # Webhooks (see gateway.events.delivery): where they may deliver, and how they are retried.
    webhook_allowed_hosts: str = Field(
        default="",
        description="Host names or addresses, comma-separated, that webhooks may deliver to although they are "
        "private, loopback or link-local (refused otherwise).",
    )
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60, description="The wait for a receiver's answer.")
    webhook_retry_first_seconds: float = Field(
        default=10.0, gt=0, description="The wait before the first retry; each retry then waits twice as long."
    )
    webhook_retry_longest_seconds: float = Field(default=3600.0, gt=0, description="The longest wait between retries.")
    webhook_retry_for_seconds: float = Field(
        default=86_400.0, gt=0, description="How long a delivery is retried before it is given up (a day)."
    )
    webhook_poll_seconds: float = Field(
        default=2.0, gt=0, description="How often the delivery worker looks for work it was not woken for."
    )

    def webhook_hosts_allowed(self) -> frozenset[str]:
        return frozenset(host.strip().lower() for host in self.webhook_allowed_hosts.split(",") if host.strip())

    def database_limits(self) -> DatabaseLimits:
        return DatabaseLimits(
            connect_timeout=self.db_connect_timeout_seconds,
            checkout_timeout=self.db_checkout_timeout_seconds,
            statement_timeout=self.db_statement_timeout_seconds,
            pool_size=self.db_pool_size,
            max_overflow=self.db_max_overflow,
        )

    def resolved_database_url(self) -> str:
        if self.database_url is not None and self.database_url.get_secret_value():
            return self.database_url.get_secret_value()
        path = Path("var").resolve() / "inspection.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{path}"
