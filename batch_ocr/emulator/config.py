"""The emulator's settings: one frozen, validated object, every default in one place."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from batch_ocr.emulator import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEMO_SECRET_ID,
    DEMO_SECRET_KEY,
    HANG_S,
)
from batch_ocr.provider import (
    BODY_TIMEOUT_S,
    DEFAULT_API_PATH,
    HEADER_TIMEOUT_S,
    MAX_BODY_BYTES,
    MAX_CLOCK_SKEW_S,
    MAX_CONNECTIONS,
    MAX_PORTRAITS,
    PORTRAIT_TTL_S,
)
from batch_ocr.provider.connections import ConnectionLimits


class Credential(BaseModel):
    """One SecretId/SecretKey pair the emulated gateway accepts."""

    model_config = ConfigDict(frozen=True)

    secret_id: str = Field(min_length=1)
    secret_key: str = Field(min_length=1)


class EmulatorConfig(BaseModel):
    """Everything the emulator can be told, keyword-only, validated once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = DEFAULT_HOST
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    path: str = DEFAULT_API_PATH
    credentials: tuple[Credential, ...] = (
        Credential(secret_id=DEMO_SECRET_ID, secret_key=DEMO_SECRET_KEY),
    )
    fixture_paths: tuple[Path, ...] = ()
    #: ``fixtures``: recorded answers (anything else is "not a card"); ``local``: real
    #: recognition by the offline engine, a self-hosted server speaking the provider's API.
    engine: Literal["fixtures", "local"] = "fixtures"
    workers: int | None = Field(default=None, ge=1, le=64)

    portrait_ttl_s: float = Field(default=PORTRAIT_TTL_S, gt=0)
    max_portraits: int = Field(default=MAX_PORTRAITS, ge=1)
    max_body_bytes: int = Field(default=MAX_BODY_BYTES, ge=1024)
    max_clock_skew_s: float = Field(default=MAX_CLOCK_SKEW_S, ge=0)
    # The gateway's front door, as batch-ocr-server's (``provider.connections``).
    max_connections: int = Field(default=MAX_CONNECTIONS, ge=1)
    header_timeout_s: float = Field(default=HEADER_TIMEOUT_S, gt=0)
    body_timeout_s: float = Field(default=BODY_TIMEOUT_S, gt=0)

    # Faults: one seeded random.Random drives them all, so a seed replays a run.
    seed: int | None = None
    latency_ms: float = Field(default=0.0, ge=0)
    latency_jitter_ms: float = Field(default=0.0, ge=0)
    fail_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    fail_codes: tuple[int, ...] = (500, 501)
    html_error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    reset_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    hang_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    hang_s: float = Field(default=HANG_S, gt=0)

    # Limits the gateway enforces for the buyer's plan; None = unlimited.
    qps: float | None = Field(default=None, gt=0)
    quota: int | None = Field(default=None, ge=0)

    @field_validator("path")
    @classmethod
    def _one_leading_slash(cls, value: str) -> str:
        # The listening line and the route both need exactly one leading slash.
        return "/" + value.strip().lstrip("/")

    @field_validator("fail_codes")
    @classmethod
    def _known_codes(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value:
            raise ValueError("fail_codes must name at least one code")
        for code in value:
            if not 100 <= code <= 9999:
                raise ValueError(f"fail code {code} is not a plausible provider code")
        return value

    @field_validator("credentials")
    @classmethod
    def _some_credentials(cls, value: tuple[Credential, ...]) -> tuple[Credential, ...]:
        if not value:
            raise ValueError("at least one SecretId/SecretKey pair is needed")
        return value

    @model_validator(mode="after")
    def _rates_fit(self) -> EmulatorConfig:
        # The fault kinds are drawn from one uniform number, so they must not overlap.
        total = self.fail_rate + self.html_error_rate + self.reset_rate + self.hang_rate
        if total > 1.0 + 1e-9:
            raise ValueError(
                "fail_rate + html_error_rate + reset_rate + hang_rate must not exceed 1"
            )
        return self

    @property
    def connection_limits(self) -> ConnectionLimits:
        """The connection cap and the deadlines for a request to arrive."""
        return ConnectionLimits(max_connections=self.max_connections,
                                header_timeout_s=self.header_timeout_s,
                                body_timeout_s=self.body_timeout_s,
                                max_drain_bytes=self.max_body_bytes)

    @property
    def secret_keys(self) -> dict[str, str]:
        """SecretId -> SecretKey, as the gateway looks them up."""
        return {c.secret_id: c.secret_key for c in self.credentials}
