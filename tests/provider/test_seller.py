"""The seller's reading of a JSON body: nesting is refused before it is parsed."""

from __future__ import annotations

import json

import pytest

from batch_ocr.provider import MAX_JSON_DEPTH
from batch_ocr.provider.seller import json_too_deep, parse_json, parse_upload


@pytest.mark.parametrize("body", [
    b"[" * 100_000,
    b'{"image": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    b'{"a": {"b": ' * 50_000,
])
def test_a_deeply_nested_body_is_a_bad_parameter_not_a_crash(body: bytes) -> None:
    assert json_too_deep(body)
    assert parse_json(body) is None
    upload = parse_upload(body, "application/json")
    assert upload.image is None and upload.problem == "body is not a JSON object of strings"


def test_nesting_up_to_the_limit_is_parsed_and_brackets_in_strings_do_not_count() -> None:
    nested = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert not json_too_deep(f'{{"x": {nested[1:-1]}}}'.encode())
    assert json_too_deep(f'{{"x": {nested}}}'.encode())
    brackets = '[{"\\\\' * 1000 + '\\"' + "]}" * 1000
    body = json.dumps({"image": "data:image/png;base64,AAAA", "url": "", "note": brackets})
    assert not json_too_deep(body.encode())
    assert parse_json(body.encode()) == {"image": b"data:image/png;base64,AAAA", "url": b""}
