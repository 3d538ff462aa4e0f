"""The status table (``batch_ocr/statuses.py``): clean, final, retried, redone."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from batch_ocr import statuses
from batch_ocr.engines.api.engine import ApiEngine
from batch_ocr.engines.local import LocalEngine


@pytest.mark.parametrize(
    ("status", "clean", "final", "redone"),
    [
        ("ok", True, True, False),
        ("not_id_card", True, True, False),
        ("scan_failed", True, True, True),
        ("rejected", False, False, True),
        ("error", False, True, True),
    ],
)
def test_status_table(status: str, clean: bool, final: bool, redone: bool) -> None:
    assert statuses.is_clean(status) is clean
    assert (status in statuses.FINAL_STATUSES) is final
    assert statuses.redone_by_retry_failed(status) is redone


def test_every_status_is_in_the_table() -> None:
    assert set(statuses.STATUSES) == {"ok", "not_id_card", "scan_failed", "rejected", "error"}
    assert not statuses.is_clean("unknown")
    assert not statuses.redone_by_retry_failed("unknown")


API_CODES = ["408", "429", "500", "501", "502", "503", "504", "timeout", "connection_error"]
LOCAL_CODES = ["local_worker_died"]


@pytest.mark.parametrize("code", ["file_vanished", "unreadable", "internal_error"])
def test_the_runs_own_transient_codes_are_retried_whatever_the_engine(code: str) -> None:
    for engine_codes in (frozenset(), ApiEngine.retried_next_run,
                         LocalEngine.retried_next_run):
        assert statuses.retry_next_run("error", code, engine_codes)
        assert statuses.retry_next_run("rejected", code, engine_codes)
        # A clean row is never retried, whatever code it carries.
        assert not statuses.retry_next_run("ok", code, engine_codes)
        assert not statuses.retry_next_run("scan_failed", code, engine_codes)


@pytest.mark.parametrize(("code", "api", "local"), [
    *((code, True, False) for code in API_CODES),
    *((code, False, True) for code in LOCAL_CODES),
])
def test_an_engines_transient_codes_are_the_engines_to_name(code: str, api: bool,
                                                            local: bool) -> None:
    """The run asks the engine it was handed which of its failures a later run retries
    (``Engine.retried_next_run``); it knows no engine's codes itself."""
    assert statuses.retry_next_run("error", code, ApiEngine.retried_next_run) is api
    assert statuses.retry_next_run("error", code, LocalEngine.retried_next_run) is local
    assert not statuses.retry_next_run("error", code)
    assert not statuses.retry_next_run("ok", code, ApiEngine.retried_next_run)


@pytest.mark.parametrize(
    "code",
    ["400", "401", "403", "404", "413", "unsupported_format", "corrupt_image", "file_too_large",
     "empty_file", "bad_dimensions", "cannot_fit", "symlink_outside", ""],
)
def test_permanent_codes_are_not_retried_by_the_next_run(code: str) -> None:
    for engine_codes in (ApiEngine.retried_next_run, LocalEngine.retried_next_run):
        assert not statuses.retry_next_run("error", code, engine_codes)
        assert not statuses.retry_next_run("rejected", code, engine_codes)


def test_card_status_table() -> None:
    assert statuses.PAIR_STATUSES == ("complete", "front_only", "back_only", "ambiguous")
    assert set(statuses.INCOMPLETE_PAIR_STATUSES) == {"front_only", "back_only", "ambiguous"}
    assert statuses.UNPAIRED not in statuses.PAIR_STATUSES
    assert set(statuses.FAILED_STATUSES) == {"rejected", "error"}


#: Every status a row or a card record can hold.
STATUS_NAMES = frozenset({*statuses.STATUSES, *statuses.PAIR_STATUSES, statuses.UNPAIRED})


def _candidates(node: ast.AST) -> list[ast.expr]:
    """What may hold a status literal: the operands of a comparison (and the members of
    a tuple, set or list compared with), a ``*status=`` argument, a returned value."""
    if isinstance(node, ast.Compare):
        operands = (node.left, *node.comparators)
        return [member for operand in operands
                for member in (operand.elts if isinstance(operand, ast.Tuple | ast.Set | ast.List)
                               else [operand])]
    if isinstance(node, ast.keyword) and (node.arg or "").endswith("status"):
        return [node.value]
    if isinstance(node, ast.Return) and node.value is not None:
        return [node.value]
    return []


def _status_literals(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """String literals naming a status where code tests, sets or returns one."""
    for node in ast.walk(tree):
        for candidate in _candidates(node):
            if isinstance(candidate, ast.Constant) and candidate.value in STATUS_NAMES:
                yield candidate.lineno, candidate.value


def test_statuses_are_named_only_by_the_table() -> None:
    package = Path(statuses.__file__).parent
    found = [
        f"{path.relative_to(package.parent)}:{line} {value!r}"
        for path in sorted(package.rglob("*.py"))
        if path != Path(statuses.__file__)
        for line, value in _status_literals(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert found == []


def test_the_literal_finder_finds_literals() -> None:
    code = 'row.status != "ok"\nRow(status="error")\nx in ("rejected", y)\n'
    assert sorted(v for _, v in _status_literals(ast.parse(code))) == ["error", "ok", "rejected"]
