"""Run settings: one frozen, validated object, and where each value comes from.

Precedence, lowest first: the defaults below < a TOML config file (``--config``, else
``./batch-ocr.toml``, else ``$XDG_CONFIG_HOME/batch-ocr/config.toml``) < the environment
(``BATCH_OCR_<KEY>``) < command-line flags. Every default lives in this module.
"""

from __future__ import annotations

import logging
import os
import stat
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from batch_ocr.errors import ConfigError
from batch_ocr.run.present.review import parse_review_on

DEFAULT_ENDPOINT = (
    "https://service-fh4alf8j-1256140209.ap-shanghai.apigateway.myqcloud.com"
    "/release/idcard_ocr/post"
)
ENV_PREFIX = "BATCH_OCR_"
CONFIG_FILE_NAME = "batch-ocr.toml"

log = logging.getLogger("batch_ocr")


class ApiSettings(BaseModel):
    """The ``[api]`` section: the paid service and how to call it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    secret_id: str | None = Field(None, description="SecretId from the marketplace console")
    secret_key: SecretStr | None = Field(None, description="SecretKey (never printed)")
    endpoint: str = Field(DEFAULT_ENDPOINT, description="API URL")
    source: str = Field("market", description="X-Source header value")
    qps: float | None = Field(None, gt=0, description="cap on requests per second")
    max_attempts: int = Field(5, ge=1, le=100, description="attempts per image, the first included")
    timeout: float = Field(30.0, gt=0, description="seconds per request")
    price_per_call: float = Field(1.0, ge=0, description="CNY per call, for --dry-run cost")
    ca_bundle: Path | None = Field(None, description="extra CA certificates (PEM) to trust")
    verify: bool = Field(False, description="also read every card offline and flag the fields "
                         "where the API's answer differs (free)")

    @field_validator("endpoint")
    @classmethod
    def _endpoint_is_http(cls, endpoint: str) -> str:
        if not endpoint.startswith(("https://", "http://")):
            raise ValueError("must start with https:// or http://")
        return endpoint

    def secret_key_value(self) -> str:
        """The secret key in clear, for signing only."""
        return self.secret_key.get_secret_value() if self.secret_key else ""

    def has_credentials(self) -> bool:
        """Half a pair counts: the user meant the API and must hear which half is missing."""
        return bool(self.secret_id or self.secret_key)

    def require_credentials(self) -> None:
        """Raise ``ConfigError`` with one line telling exactly how to set them."""
        pairs = (("BATCH_OCR_SECRET_ID", self.secret_id), ("BATCH_OCR_SECRET_KEY", self.secret_key))
        missing = [name for name, value in pairs if not value]
        if missing:
            raise ConfigError(
                f"missing API credentials: set {' and '.join(missing)} in the environment "
                "(or secret_id/secret_key in the config file)"
            )


#: Seconds to reach the Dask scheduler at start, and again for a first worker, before
#: the run stops (exit 3, ``cluster_unreachable``).
DASK_CONNECT_TIMEOUT_S = 10.0


class LocalSettings(BaseModel):
    """The ``[local]`` section: the offline engine."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workers: int | None = Field(None, ge=1, le=64, description="local engine worker processes")
    dask: str | None = Field(
        None, description="Dask scheduler address: run the offline engine on that cluster"
    )
    dask_connect_timeout: float = Field(
        DASK_CONNECT_TIMEOUT_S, gt=0, le=3600,
        description="seconds to reach the Dask scheduler, and for a worker to join, at start",
    )

    @field_validator("dask")
    @classmethod
    def _dask_is_an_address(cls, address: str | None) -> str | None:
        # Dask takes tcp://, tls://, ucx:// or a bare host:port; a space or an empty
        # value is always a typo.
        if address is not None and (not address.strip() or any(c.isspace() for c in address)):
            raise ValueError("must be a scheduler address like tcp://host:8786")
        return address


#: Built-in engine sections and their models. Another engine's section is kept as the
#: table it is (``Settings.engine_tables``) and validated by that engine.
SECTION_MODELS: dict[str, type[BaseModel]] = {"api": ApiSettings, "local": LocalSettings}


class Settings(BaseModel):
    """Everything a run needs to know, validated once and then never changed.

    Run-wide keys sit at the top; each engine's keys in its own section (``[api]``,
    ``[local]``). The flat keys of earlier versions (``secret_id = ...`` at the top of
    the file, ``BATCH_OCR_SECRET_ID``, ``--endpoint``) are folded into their section,
    so every existing key, variable and flag keeps working.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    concurrency: int = Field(8, ge=1, le=1024, description="images in flight at most")
    format: Literal["csv", "jsonl", "xlsx"] | None = Field(None, description="output format")
    bom: bool = Field(True, description="UTF-8 BOM at the start of CSV output")
    state: Path | None = Field(None, description="state journal path")
    follow_links: bool = Field(
        False, description="walk symbolic links to folders (once each, never a loop)"
    )
    #: Seals the journal's recognised fields (docs/security.md). Environment or config
    #: file only: a command line shows in ``ps`` and the shell's history.
    journal_key: SecretStr | None = Field(
        None, description="key sealing the state journal's recognised fields (never printed)"
    )

    def journal_key_value(self) -> str | None:
        """The journal key in clear, for the journal alone."""
        return self.journal_key.get_secret_value() if self.journal_key else None
    engine: str = Field(
        "auto", description="local (free, offline), api (paid, every card), hybrid (offline "
        "first, pay the API for doubt), or auto: api when credentials are set, else local"
    )
    review_on: tuple[str, ...] = Field(
        (), description="document risks that also flag rows for review "
        "(copy, reshoot, blur, border_incomplete, expired; comma-separated)")
    api: ApiSettings = Field(default_factory=lambda: ApiSettings.model_validate({}))
    local: LocalSettings = Field(default_factory=lambda: LocalSettings.model_validate({}))
    #: Sections of engines registered beyond the built-in ones, as written.
    engine_tables: dict[str, dict[str, Any]] = Field(default_factory=dict)
    #: Where the API credentials were set (``BATCH_OCR_SECRET_ID and
    #: BATCH_OCR_SECRET_KEY in the environment``, ``secret_id and secret_key in the
    #: config file PATH``), for a refusal to name what to fix; never a value. Not a
    #: setting: no config key or variable sets it (``load_settings`` does).
    credentials_from: str = ""

    @field_validator("review_on", mode="before")
    @classmethod
    def _review_on_is_risks(cls, value: Any) -> tuple[str, ...]:
        # A comma-separated string in the environment and on the command line, a
        # string or a list in the config file (README, "Review signal").
        if not isinstance(value, str | list | tuple):
            raise ValueError("must be a comma-separated list of risks")
        return parse_review_on(value)

    @model_validator(mode="before")
    @classmethod
    def _fold_flat_keys(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        values = dict(values)
        for key, section in SECTION_OF_KEY.items():
            if key in values:
                table = dict(_as_table(values.get(section)))
                table[key] = values.pop(key)
                values[section] = table
        return values


def _as_table(value: Any) -> dict[str, Any]:
    if isinstance(value, BaseModel):
        return value.model_dump()
    return dict(value) if isinstance(value, dict) else {}


#: Every flat key of a section, and the section it belongs to.
SECTION_OF_KEY: dict[str, str] = {
    key: section for section, model in SECTION_MODELS.items() for key in model.model_fields
}
#: Keys that may appear at the top of the config file and in the environment.
SETTING_KEYS: tuple[str, ...] = (
    *(key for key in Settings.model_fields
      if key not in (*SECTION_MODELS, "engine_tables", "credentials_from")),
    *SECTION_OF_KEY,
)


def env_var(key: str) -> str:
    """The environment variable of a setting, e.g. ``BATCH_OCR_SECRET_ID``."""
    return ENV_PREFIX + key.upper()


def default_of(key: str) -> Any:
    """The built-in default of a setting (for ``--help``)."""
    section = SECTION_OF_KEY.get(key)
    model: type[BaseModel] = SECTION_MODELS[section] if section else Settings
    return model.model_fields[key].default


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


def read_config_file(path: Path, engine_sections: Iterable[str] = ()) -> dict[str, Any]:
    """The settings in a TOML file; unknown keys are an error (they are usually typos)."""
    try:
        with path.open("rb") as handle:
            values = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    tables = {key for key, value in values.items() if isinstance(value, dict)}
    sections = {*SECTION_MODELS, *engine_sections}
    unknown = sorted(set(values) - set(SETTING_KEYS) - (tables & sections))
    if unknown:
        raise ConfigError(f"unknown key(s) in {path}: {', '.join(unknown)}")
    return _with_engine_tables(values)


def _with_engine_tables(values: dict[str, Any]) -> dict[str, Any]:
    """Move the tables of engines that are not built in under ``engine_tables``."""
    moved = dict(values)
    extra = {key: moved.pop(key) for key in values
             if isinstance(values[key], dict) and key not in SECTION_MODELS}
    if extra:
        moved["engine_tables"] = extra
    return moved


def readable_by_others(path: Path) -> bool:
    """True when group or others may read ``path`` (POSIX modes; never on Windows,
    where a file's ACL, not its mode bits, says who reads it)."""
    if os.name != "posix":
        return False
    try:
        return bool(path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH))
    except OSError:
        return False


#: Keys whose value is a secret: a config file holding one must be the owner's alone.
SECRET_KEYS = frozenset({"secret_key", "journal_key"})


def _holds_secret_key(values: Mapping[str, Any]) -> bool:
    """A secret at the top or in a section (``[api]``, an engine's table)."""
    return any(key in SECRET_KEYS or (isinstance(value, Mapping) and _holds_secret_key(value))
               for key, value in values.items())


def _all_keys(values: Mapping[str, Any]) -> Iterator[str]:
    for key, value in values.items():
        yield key
        if isinstance(value, Mapping):
            yield from _all_keys(value)


def warn_if_secret_exposed(path: Path, values: Mapping[str, Any]) -> None:
    """Warn (the run goes on) when a config file holding ``secret_key`` is readable by
    others: anyone on the machine could spend the account's money (docs/security.md)."""
    if _holds_secret_key(values) and readable_by_others(path):
        held = " and ".join(sorted(SECRET_KEYS & set(_all_keys(values))))
        log.warning("warning: %s holds %s and other users can read it; "
                    "run: chmod 600 %s", path, held, path)


def read_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The ``BATCH_OCR_*`` settings present (and non-empty) in ``environ``."""
    return {key: environ[env_var(key)] for key in SETTING_KEYS if environ.get(env_var(key))}


def _sectioned(layer: Mapping[str, Any]) -> dict[str, Any]:
    """One layer with its flat section keys moved into their section's table."""
    result: dict[str, Any] = {}
    for key, value in layer.items():
        section = SECTION_OF_KEY.get(key)
        if section is not None:
            result.setdefault(section, {})[key] = value
        elif key in SECTION_MODELS:
            result[key] = {**result.get(key, {}), **_as_table(value)}
        else:
            result[key] = value
    return result


def _describe(error: ValidationError) -> str:
    # Pydantic's own text quotes the input value; a value may be the secret key, so we
    # name the key and the rule only.
    parts = []
    for item in error.errors():
        # A flat key is named as users write it (``endpoint``, not ``api.endpoint``).
        loc = [str(p) for p in item["loc"]]
        if len(loc) == 2 and loc[0] in SECTION_MODELS and loc[1] in SECTION_OF_KEY:
            loc = loc[1:]
        key = ".".join(loc) or "settings"
        parts.append(f"{key}: {item['msg']}")
    return "; ".join(parts)


ENVIRONMENT = "in the environment"
CREDENTIAL_KEYS = ("secret_id", "secret_key")


def _credentials_from(layers: Iterable[tuple[str, Mapping[str, Any]]]) -> str:
    """Where each credential was set, by the layer that won, named as it was written
    there: ``BATCH_OCR_SECRET_ID and BATCH_OCR_SECRET_KEY in the environment``,
    ``secret_id and secret_key in the config file batch-ocr.toml``, or one of each."""
    place_of: dict[str, str] = {}
    for place, layer in layers:
        api = _sectioned(layer).get("api", {})
        for key in CREDENTIAL_KEYS:
            if api.get(key):
                place_of[key] = place
    by_place: dict[str, list[str]] = {}
    for key in CREDENTIAL_KEYS:
        if key in place_of:
            name = env_var(key) if place_of[key] == ENVIRONMENT else key
            by_place.setdefault(place_of[key], []).append(name)
    return " and ".join(f"{' and '.join(names)} {place}" for place, names in by_place.items())


def load_settings(
    flags: Mapping[str, Any] | None = None,
    *,
    config_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    engine_sections: Iterable[str] = (),
) -> Settings:
    """Build the settings: defaults < config file < environment < ``flags``.

    ``flags`` holds only what the user gave on the command line (None means "not given").
    ``engine_sections`` names the engines beyond the built-in ones whose ``[name]``
    table the config file may hold.
    """
    environ = os.environ if environ is None else environ
    layers: list[tuple[str, Mapping[str, Any]]] = []
    config_file = find_config_file(config_path, environ)
    if config_file is not None:
        from_file = read_config_file(config_file, engine_sections)
        warn_if_secret_exposed(config_file, from_file)
        layers.append((f"in the config file {config_file}", from_file))
    layers.append((ENVIRONMENT, read_environment(environ)))
    layers.append(("as given", {k: v for k, v in (flags or {}).items() if v is not None}))
    merged: dict[str, Any] = {}
    for _, layer in layers:
        for key, value in _sectioned(layer).items():
            if key in SECTION_MODELS:
                merged[key] = {**merged.get(key, {}), **value}
            else:
                merged[key] = value
    merged.setdefault("credentials_from", _credentials_from(layers))
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(f"invalid settings: {_describe(exc)}") from None
