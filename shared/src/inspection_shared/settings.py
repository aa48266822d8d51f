"""Settings every service shares; each service subclasses with its own environment prefix.

Secrets come from the environment or from files it names: every secret setting (a `SecretStr`) may be
given as `<NAME>_FILE`, the path of a file holding it (Docker and Kubernetes secrets are mounted as
files), for example `GATEWAY_JWT_PRIVATE_KEY_FILE=/run/secrets/jwt_key` or `DATABASE_URL_FILE`. The
file's text is the value, without its final line break. Setting both the variable and its `_FILE`, or
naming a file that cannot be read, stops the service with a message naming the variable
(`SettingsFault`), never its value.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

FILE_SUFFIX = "_file"
_LIST_SEPARATORS = re.compile(r"[\s,]+")

MAX_BODY_BYTES = 1024 * 1024
"""A JSON request body's default limit: the largest of ours (a bulk of case answers) is a few hundred kB."""

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
"""The default limit of a body a route takes as a file (a caseload frame, a bulk import)."""


class SettingsFault(RuntimeError):
    """Settings that cannot be used; the message names the variable at fault, never a secret's value."""


def _is_secret(field: FieldInfo) -> bool:
    annotation = field.annotation
    return annotation is SecretStr or SecretStr in getattr(annotation, "__args__", ())


class SecretFilesSource(EnvSettingsSource):
    """`<NAME>_FILE` for every secret setting: the value read from the file the variable names."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if not _is_secret(field):
            return None, field_name, False
        for key, env_name, _ in self._extract_field_info(field, field_name):
            path = self.env_vars.get(env_name + FILE_SUFFIX)
            if not path:
                continue
            variable = (env_name + FILE_SUFFIX).upper()
            if self.env_vars.get(env_name):
                raise SettingsFault(f"{env_name.upper()} and {variable} are both set: set one of them.")
            try:
                text = Path(path).read_text()
            except (OSError, UnicodeDecodeError) as error:
                reason = getattr(error, "strerror", None) or "it is not UTF-8 text"
                raise SettingsFault(f"{variable} names {path}, which cannot be read: {reason}.") from None
            return text.removesuffix("\n").removesuffix("\r"), key, False
        return None, field_name, False


def split_list(value: Any) -> Any:
    """A list setting given as text: its items separated by commas or white space."""
    if isinstance(value, str):
        return [item for item in _LIST_SEPARATORS.split(value) if item]
    return value


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
    max_body_bytes: int = Field(
        default=MAX_BODY_BYTES, ge=1024, description="Bytes a request's body may hold; more is a 413."
    )
    max_upload_bytes: int = Field(
        default=MAX_UPLOAD_BYTES, ge=1024,
        description="Bytes the body of a route that takes a file (a frame, an import) may hold; more is a 413.",
    )
    readiness_timeout_seconds: float = Field(
        default=2.0, gt=0, description="How long /readyz waits for each dependency before saying it timed out."
    )
    body_timeout_seconds: float = Field(
        default=60.0, gt=0,
        description="How long a client may take to send a request's body, from the first read of it; longer is a 408.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins whose pages may call the service from a browser (comma-separated); none by default.",
    )
    trusted_proxies: str = Field(
        default="127.0.0.1",
        description="Addresses (comma-separated, or *) whose X-Forwarded-Proto and X-Forwarded-For are believed.",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        return split_list(value)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, SecretFilesSource(settings_cls), dotenv_settings, file_secret_settings


Loaded = TypeVar("Loaded", bound=BaseSettings)


def load_or_exit(settings_class: type[Loaded], program: str) -> Loaded:
    """The settings from the environment; settings that cannot be used stop the program (exit code 2)
    with one line per fault, naming the variable and never the value given."""
    try:
        return settings_class()
    except SettingsError as error:  # pydantic-settings wraps what a source raises
        if not isinstance(error.__cause__, SettingsFault):
            raise
        faults = [str(error.__cause__)]
    except ValidationError as error:
        prefix = settings_class.model_config.get("env_prefix", "")
        faults = [f"{(prefix + '_'.join(map(str, e['loc']))).upper()}: {e['msg']}." for e in error.errors()]
    print(f"{program}: the settings cannot be used:\n" + "\n".join(f"  - {f}" for f in faults), file=sys.stderr)
    sys.exit(2)
