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
    resolve_engine_name,
)
from batch_ocr.errors import CallBudgetExhausted, ConfigError
from batch_ocr.settings import Settings
from tests.skips import needs_local


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
    assert str(caught.value) == ("unknown engine 'cloud': choose one of api, local, hybrid, "
                                 "auto")
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


def test_each_engine_says_what_it_is_for_in_one_line() -> None:
    assert list(registry.ENGINE_CHOICES) == ["local", "api", "hybrid"]
    assert registry.ENGINE_CHOICES["hybrid"] == "offline first, pay the API for doubt"


@needs_local
async def test_hybrid_is_the_offline_engine_and_the_api_as_one() -> None:
    from batch_ocr.engines.hybrid.engine import HybridEngine

    settings = Settings.model_validate({"engine": "hybrid", "secret_id": "AKID",
                                        "secret_key": "k", "price_per_call": 0.5})
    engine = create_engine(settings, EngineOptions(max_calls=1))
    assert isinstance(engine, HybridEngine) and isinstance(engine.paid, ApiEngine)
    assert (engine.name, engine.billed, engine.image_limits, engine.reads_in_dry_run) == (
        "hybrid", True, None, True)
    assert engine.offline.name == "local"
    assert engine.price_per_call_cny == 0.5  # what it pays for, it pays at the API's price
    await engine.paid.gate.admit()  # --max-calls (and --qps) are the API's call gate's
    with pytest.raises(CallBudgetExhausted, match="--max-calls 1 reached"):
        await engine.paid.gate.admit()
    with pytest.raises(ConfigError, match="missing API credentials"):
        create_engine(Settings.model_validate({"engine": "hybrid"}))
    # A dry run calls nothing: no credentials needed.
    create_engine(Settings.model_validate({"engine": "hybrid"}), EngineOptions(dry_run=True))


@needs_local
def test_hybrid_reads_offline_on_the_cluster_with_dask() -> None:
    settings = Settings.model_validate({"engine": "hybrid", "dask": "tcp://127.0.0.1:1"})
    assert resolve_engine_name(settings) == "hybrid"


@needs_local
def test_verify_gives_the_api_engine_a_second_opinion_and_nothing_else_one() -> None:
    from batch_ocr.engines.hybrid.verify import VerifiedApiEngine

    keys = {"secret_id": "AKID", "secret_key": "k", "verify": True}
    verified = create_engine(Settings.model_validate({"engine": "api", **keys}))
    assert isinstance(verified, VerifiedApiEngine) and verified.name == "api"
    hybrid = create_engine(Settings.model_validate({"engine": "hybrid", **keys}))
    assert hybrid.name == "hybrid"  # it checks every answer it pays for already
    with pytest.raises(ConfigError) as caught:
        create_engine(Settings.model_validate({"engine": "local", "verify": True}))
    assert str(caught.value) == ("--verify checks the API's answers offline; the local engine "
                                 "pays for none (use --engine api or hybrid)")
