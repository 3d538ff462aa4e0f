"""Run settings: one frozen, validated object, and where each value comes from.

Precedence, lowest first: the defaults below < a TOML config file (``--config``, else
``./batch-ocr.toml``, else ``$XDG_CONFIG_HOME/batch-ocr/config.toml``) < the environment
(``BATCH_OCR_<KEY>``) < command-line flags. Every default lives in this module.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from batch_ocr.errors import ConfigError

DEFAULT_ENDPOINT = (
    "https://service-fh4alf8j-1256140209.ap-shanghai.apigateway.myqcloud.com"
    "/release/idcard_ocr/post"
)
ENV_PREFIX = "BATCH_OCR_"
CONFIG_FILE_NAME = "batch-ocr.toml"


class Settings(BaseModel):
    """Everything a run needs to know, validated once and then never changed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    secret_id: str | None = Field(None, description="SecretId from the marketplace console")
    secret_key: SecretStr | None = Field(None, description="SecretKey (never printed)")
    endpoint: str = Field(DEFAULT_ENDPOINT, description="API URL")
    source: str = Field("market", description="X-Source header value")
    concurrency: int = Field(8, ge=1, le=1024, description="requests in flight at most")
    qps: float | None = Field(None, gt=0, description="cap on requests per second")
    max_attempts: int = Field(5, ge=1, le=100, description="attempts per image, the first included")
    timeout: float = Field(30.0, gt=0, description="seconds per request")
    format: Literal["csv", "jsonl"] | None = Field(None, description="output format")
    bom: bool = Field(True, description="UTF-8 BOM at the start of CSV output")
    state: Path | None = Field(None, description="state journal path")
    price_per_call: float = Field(1.0, ge=0, description="CNY per call, for --dry-run cost")
    ca_bundle: Path | None = Field(None, description="extra CA certificates (PEM) to trust")
    engine: Literal["api", "local", "auto"] = Field(
        "auto", description="api, local (offline), or auto: api when credentials are set"
    )
    workers: int | None = Field(None, ge=1, le=64, description="local engine worker processes")

    @field_validator("endpoint")
    @classmethod
    def _endpoint_is_http(cls, endpoint: str) -> str:
        if not endpoint.startswith(("https://", "http://")):
            raise ValueError("must start with https:// or http://")
        return endpoint

    def secret_key_value(self) -> str:
        """The secret key in clear, for signing only."""
        return self.secret_key.get_secret_value() if self.secret_key else ""

    def require_credentials(self) -> None:
        """Raise ``ConfigError`` with one line telling exactly how to set them."""
        pairs = (("BATCH_OCR_SECRET_ID", self.secret_id), ("BATCH_OCR_SECRET_KEY", self.secret_key))
        missing = [name for name, value in pairs if not value]
        if missing:
            raise ConfigError(
                f"missing API credentials: set {' and '.join(missing)} in the environment "
                "(or secret_id/secret_key in the config file)"
            )


#: Keys that may appear in the config file and the environment.
SETTING_KEYS: tuple[str, ...] = tuple(Settings.model_fields)


def env_var(key: str) -> str:
    """The environment variable of a setting, e.g. ``BATCH_OCR_SECRET_ID``."""
    return ENV_PREFIX + key.upper()


def default_of(key: str) -> Any:
    """The built-in default of a setting (for ``--help``)."""
    return Settings.model_fields[key].default


def user_config_path(environ: Mapping[str, str]) -> Path:
    """``$XDG_CONFIG_HOME/batch-ocr/config.toml`` (``~/.config`` when unset)."""
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "batch-ocr" / "config.toml"


def find_config_file(explicit: Path | None, environ: Mapping[str, str]) -> Path | None:
    """The config file in force, or None. An explicit path must exist."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"config file not found: {explicit}")
        return explicit
    for candidate in (Path(CONFIG_FILE_NAME), user_config_path(environ)):
        if candidate.is_file():
            return candidate
    return None


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings in a TOML file; unknown keys are an error (they are usually typos)."""
    try:
        with path.open("rb") as handle:
            values = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    unknown = sorted(set(values) - set(SETTING_KEYS))
    if unknown:
        raise ConfigError(f"unknown key(s) in {path}: {', '.join(unknown)}")
    return values


def read_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The ``BATCH_OCR_*`` settings present (and non-empty) in ``environ``."""
    return {key: environ[env_var(key)] for key in SETTING_KEYS if environ.get(env_var(key))}


def _describe(error: ValidationError) -> str:
    # Pydantic's own text quotes the input value; a value may be the secret key, so we
    # name the key and the rule only.
    parts = []
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"]) or "settings"
        parts.append(f"{key}: {item['msg']}")
    return "; ".join(parts)


def load_settings(
    flags: Mapping[str, Any] | None = None,
    *,
    config_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build the settings: defaults < config file < environment < ``flags``.

    ``flags`` holds only what the user gave on the command line (None means "not given").
    """
    environ = os.environ if environ is None else environ
    merged: dict[str, Any] = {}
    config_file = find_config_file(config_path, environ)
    if config_file is not None:
        merged.update(read_config_file(config_file))
    merged.update(read_environment(environ))
    merged.update({k: v for k, v in (flags or {}).items() if v is not None})
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(f"invalid settings: {_describe(exc)}") from None
