"""Engines by name: one line each, imported only when chosen.

``--engine``'s choices come from here, and so does every engine a run is handed. An
engine is one module, one line below and (if it has settings) one section of the config
file named after it. Its price, transport and the codes a later run retries are its own
(``base.Engine``). The import is lazy so that ``batch-ocr --help`` loads neither the
network nor the imaging stack.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from batch_ocr.errors import ConfigError
from batch_ocr.settings import Settings

if TYPE_CHECKING:  # the engines themselves are imported only when chosen
    from batch_ocr.engines.base import Engine

#: name -> "module:Class" of an ``Engine`` that has a ``from_settings`` constructor.
ENGINES: dict[str, str] = {
    "api": "batch_ocr.engines.api.engine:ApiEngine",
    "local": "batch_ocr.engines.local.engine:LocalEngine",
    "hybrid": "batch_ocr.engines.hybrid.engine:HybridEngine",
}
#: What each engine is, in one line (``--engine``'s help, docs/reference.md).
ENGINE_CHOICES: dict[str, str] = {
    "local": "free, offline: nothing leaves this machine",
    "api": "paid, every card",
    "hybrid": "offline first, pay the API for doubt",
}
#: ``--verify``: for each engine that pays for answers, the engine that reads as it does
#: and has every answer checked offline for free (hybrid checks its own already).
VERIFIED: dict[str, str] = {
    "api": "batch_ocr.engines.hybrid.verify:VerifiedApiEngine",
    "hybrid": ENGINES["hybrid"],
}
#: Not an engine: the API when credentials are configured, else the offline engine.
AUTO = "auto"

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """Per-run choices an engine may honour (``--max-calls``; an injectable sleep)."""

    max_calls: int | None = None
    sleep: Sleep | None = None
    #: The engine will never be started: it may skip what only real calls need
    #: (credentials), but not what tells the user the real run would fail.
    dry_run: bool = False
    #: ``--verbose``: the libraries an engine runs on may log on the terminal too.
    verbose: bool = False


class EngineClass(Protocol):
    name: str
    billed: bool

    def from_settings(self, settings: Settings, options: EngineOptions) -> Engine: ...


def engine_names() -> tuple[str, ...]:
    """What ``--engine`` accepts: every registered engine, then ``auto``."""
    return (*ENGINES, AUTO)


def resolve_engine_name(settings: Settings) -> str:
    """``auto`` means the API when credentials are configured, else the local engine.

    Half a credential pair counts as configured: the user meant the API, and is better
    told which half is missing than silently switched to the local engine. A Dask
    address means the offline engine: it is the one that runs there.
    """
    if settings.local.dask is not None:
        if settings.engine == "hybrid":
            return "hybrid"  # it reads offline first, on the cluster
        if settings.engine not in (AUTO, "local"):
            raise ConfigError(f"--dask runs the offline engine on a cluster; it cannot be used "
                              f"with --engine {settings.engine}")
        return "local"
    if settings.engine != AUTO:
        return settings.engine
    return "api" if settings.api.has_credentials() else "local"


def engine_class(name: str, *, verify: bool = False) -> EngineClass:
    """The class registered as ``name`` (with ``verify``, the one that reads as it does
    and checks every answer offline); ``ConfigError`` when there is none."""
    target = ENGINES.get(name)
    if target is None:
        raise ConfigError(f"unknown engine {name!r}: choose one of {', '.join(engine_names())}")
    if verify:
        target = VERIFIED.get(name, "")
        if not target:
            raise ConfigError(f"--verify checks the API's answers offline; the {name} "
                              "engine pays for none (use --engine api or hybrid)")
    module_name, _, class_name = target.partition(":")
    module: Any = importlib.import_module(module_name)
    return cast(EngineClass, getattr(module, class_name))


def create_engine(settings: Settings, options: EngineOptions | None = None) -> Engine:
    """The engine ``settings`` select, created but not started."""
    return engine_class(resolve_engine_name(settings), verify=settings.api.verify
                        ).from_settings(settings, options or EngineOptions())
