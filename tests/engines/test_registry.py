"""Engines by name (``batch_ocr/engines/registry.py``)."""

from __future__ import annotations

import pytest

from batch_ocr.engines import registry
from batch_ocr.engines.api.engine import ApiEngine
from batch_ocr.engines.registry import (
    AUTO,
    EngineOptions,
    create_engine,
    engine_class,
    engine_names,
)
from batch_ocr.errors import CallBudgetExhausted, ConfigError
from batch_ocr.settings import Settings


def test_the_choices_are_every_registered_engine_then_auto() -> None:
    assert engine_names() == (*registry.ENGINES, AUTO)
    assert engine_names()[:2] == ("api", "local")


def test_every_registered_engine_imports_and_is_named_as_registered() -> None:
    for name in registry.ENGINES:
        found = engine_class(name)
        assert found.name == name
        assert isinstance(found.billed, bool)


def test_an_unknown_engine_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        engine_class("cloud")
    assert str(caught.value) == "unknown engine 'cloud': choose one of api, local, auto"
    with pytest.raises(ConfigError):
        engine_class(AUTO)  # auto is resolved first, never created


def test_the_api_needs_credentials_except_in_a_dry_run() -> None:
    settings = Settings.model_validate({"engine": "api"})
    with pytest.raises(ConfigError, match="missing API credentials: set BATCH_OCR_SECRET_ID "
                                          "and BATCH_OCR_SECRET_KEY"):
        create_engine(settings)
    dry = create_engine(settings, EngineOptions(dry_run=True))
    assert isinstance(dry, ApiEngine)


async def test_options_reach_the_engine() -> None:
    settings = Settings.model_validate({"engine": "api", "secret_id": "AKID", "secret_key": "k"})
    engine = create_engine(settings, EngineOptions(max_calls=2))
    assert isinstance(engine, ApiEngine)
    await engine.gate.admit()
    await engine.gate.admit()
    with pytest.raises(CallBudgetExhausted, match="--max-calls 2 reached"):
        await engine.gate.admit()
