"""Settings and where each value comes from (``batch_ocr/settings.py``)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

from batch_ocr.errors import ConfigError
from batch_ocr.settings import (
    CONFIG_FILE_NAME,
    DEFAULT_ENDPOINT,
    SETTING_KEYS,
    Settings,
    default_of,
    env_var,
    load_settings,
)

SECRET = "Sk-9f8e7d6c5b4a-TOP-SECRET"
MISSING_BOTH = (
    "missing API credentials: set BATCH_OCR_SECRET_ID and BATCH_OCR_SECRET_KEY in the "
    "environment (or secret_id/secret_key in the config file)"
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An empty cwd and an empty XDG config home, so no real config file leaks in."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}


def write_toml(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults(home: dict[str, str]) -> None:
    settings = load_settings({}, environ=home)

    assert settings.api.endpoint == DEFAULT_ENDPOINT
    assert (settings.api.source, settings.concurrency, settings.api.max_attempts) == ("market", 8, 5)
    assert (settings.api.qps, settings.format, settings.bom, settings.api.timeout) == (None, None, True, 30.0)
    assert settings.api.secret_id is None and settings.api.secret_key_value() == ""
    dumped = Settings().model_dump()
    flat = {k: v for k, v in dumped.items()
            if k not in ("api", "local", "engine_tables", "credentials_from")}
    flat |= dumped["api"] | dumped["local"]
    assert {key: default_of(key) for key in SETTING_KEYS} == flat


def test_env_var_names() -> None:
    assert env_var("secret_id") == "BATCH_OCR_SECRET_ID"
    assert env_var("max_attempts") == "BATCH_OCR_MAX_ATTEMPTS"


# Each layer overrides the ones below it; "None" in flags means "flag not given".
@pytest.mark.parametrize(
    ("toml", "env", "flags", "expected"),
    [
        (None, None, None, 8),
        (3, None, None, 3),
        (3, "4", None, 4),
        (None, "4", None, 4),
        (3, "4", 5, 5),
        (3, None, 5, 5),
        (None, None, 5, 5),
        (3, "", None, 3),  # an empty variable counts as unset
    ],
)
def test_precedence_defaults_file_env_flags(
    home: dict[str, str], tmp_path: Path, toml: int | None, env: str | None, flags: int | None,
    expected: int,
) -> None:
    config = write_toml(tmp_path / "c.toml", "" if toml is None else f"concurrency = {toml}\n")
    environ = dict(home)
    if env is not None:
        environ["BATCH_OCR_CONCURRENCY"] = env

    settings = load_settings({"concurrency": flags}, config_path=config, environ=environ)

    assert settings.concurrency == expected


def test_every_key_can_come_from_the_environment(home: dict[str, str]) -> None:
    environ = home | {
        "BATCH_OCR_SECRET_ID": "AKID123",
        "BATCH_OCR_SECRET_KEY": SECRET,
        "BATCH_OCR_ENDPOINT": "http://127.0.0.1:8080/ocr",
        "BATCH_OCR_QPS": "2.5",
        "BATCH_OCR_BOM": "false",
        "BATCH_OCR_FORMAT": "jsonl",
        "BATCH_OCR_STATE": "run.state",
    }

    settings = load_settings(None, environ=environ)

    assert settings.api.secret_id == "AKID123"
    assert settings.api.secret_key_value() == SECRET
    assert settings.api.endpoint == "http://127.0.0.1:8080/ocr"
    assert (settings.api.qps, settings.bom, settings.format) == (2.5, False, "jsonl")
    assert settings.state == Path("run.state")


def test_review_on_from_the_file_the_environment_and_flags(home: dict[str, str],
                                                           tmp_path: Path) -> None:
    listed = write_toml(tmp_path / "list.toml", 'review_on = ["copy", "expired"]\n')
    assert load_settings({}, config_path=listed, environ=home).review_on == ("copy", "expired")
    text = write_toml(tmp_path / "text.toml", 'review_on = "reshoot"\n')
    assert load_settings({}, config_path=text, environ=home).review_on == ("reshoot",)
    environ = home | {"BATCH_OCR_REVIEW_ON": "copy,blur"}
    assert load_settings({}, config_path=text, environ=environ).review_on == ("copy", "blur")
    assert load_settings({"review_on": "expired"}, environ=environ).review_on == ("expired",)
    assert load_settings({}, environ=home).review_on == ()
    with pytest.raises(ConfigError, match=r"^invalid settings: review_on: .*unknown risk\(s\) "
                                          r"copies; valid: copy, reshoot, blur, border_incomplete, expired$"):
        load_settings({}, environ=home | {"BATCH_OCR_REVIEW_ON": "copies"})
    number = write_toml(tmp_path / "number.toml", "review_on = 3\n")
    with pytest.raises(ConfigError, match=r"^invalid settings: review_on: "):
        load_settings({}, config_path=number, environ=home)


def test_cwd_file_is_found(home: dict[str, str]) -> None:
    write_toml(Path(CONFIG_FILE_NAME), 'source = "from-cwd"\n')
    write_toml(Path(home["XDG_CONFIG_HOME"]) / "batch-ocr" / "config.toml", 'source = "from-xdg"\n')

    assert load_settings({}, environ=home).api.source == "from-cwd"


def test_xdg_user_file_is_found(home: dict[str, str]) -> None:
    write_toml(Path(home["XDG_CONFIG_HOME"]) / "batch-ocr" / "config.toml", "qps = 3\n")

    assert load_settings({}, environ=home).api.qps == 3.0


def test_explicit_config_wins_over_cwd_file(home: dict[str, str], tmp_path: Path) -> None:
    write_toml(Path(CONFIG_FILE_NAME), 'source = "from-cwd"\n')
    explicit = write_toml(tmp_path / "explicit.toml", 'source = "explicit"\n')

    assert load_settings({}, config_path=explicit, environ=home).api.source == "explicit"


def test_explicit_config_must_exist(home: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found: .*nope.toml"):
        load_settings({}, config_path=tmp_path / "nope.toml", environ=home)


def test_unknown_toml_key_is_named(home: dict[str, str], tmp_path: Path) -> None:
    config = write_toml(tmp_path / "c.toml", "concurency = 4\nqps = 1\n")

    with pytest.raises(ConfigError, match="unknown key") as caught:
        load_settings({}, config_path=config, environ=home)

    assert "concurency" in str(caught.value)


def test_broken_toml_is_a_config_error(home: dict[str, str], tmp_path: Path) -> None:
    config = write_toml(tmp_path / "c.toml", f'secret_key = "{SECRET}\n')

    with pytest.raises(ConfigError, match="cannot read config file") as caught:
        load_settings({}, config_path=config, environ=home)

    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("source", "bad", "key"),
    [
        ("env", {"BATCH_OCR_CONCURRENCY": "lots-of-workers-xyz"}, "concurrency"),
        ("env", {"BATCH_OCR_QPS": "-7.25"}, "qps"),
        ("env", {"BATCH_OCR_FORMAT": "xlsx-format-xyz"}, "format"),
        ("env", {"BATCH_OCR_ENDPOINT": "ftp://files.example/xyz"}, "endpoint"),
        ("flags", {"max_attempts": 12345}, "max_attempts"),
        ("flags", {"timeout": "soon-xyz"}, "timeout"),
        ("toml", 'bom = "perhaps-xyz"\n', "bom"),
        ("toml", "concurrency = 0\n", "concurrency"),
    ],
)
def test_invalid_value_names_the_key_but_never_the_secret_or_the_value(
    home: dict[str, str], tmp_path: Path, source: str, bad: Any, key: str
) -> None:
    environ = home | {"BATCH_OCR_SECRET_ID": "AKID123", "BATCH_OCR_SECRET_KEY": SECRET}
    flags: dict[str, Any] = {}
    config = write_toml(tmp_path / "c.toml", f'secret_key = "{SECRET}"\n')
    if source == "env":
        environ |= bad
        offending = next(iter(bad.values()))
    elif source == "flags":
        flags = bad
        offending = str(next(iter(bad.values())))
    else:
        config = write_toml(tmp_path / "c.toml", f'secret_key = "{SECRET}"\n{bad}')
        offending = bad.split("=", 1)[1].strip().strip('"')

    with pytest.raises(ConfigError) as caught:
        load_settings(flags, config_path=config, environ=environ)

    message = str(caught.value)
    assert message.startswith("invalid settings: ")
    assert key in message
    assert SECRET not in message
    assert offending not in message.removeprefix("invalid settings: ").replace(key, "")


def test_secret_key_of_the_wrong_type_is_not_echoed(home: dict[str, str], tmp_path: Path) -> None:
    config = write_toml(tmp_path / "c.toml", "secret_key = 918273645546372819\n")

    with pytest.raises(ConfigError, match="secret_key") as caught:
        load_settings({}, config_path=config, environ=home)

    assert "918273645546372819" not in str(caught.value)


def test_unknown_flag_is_refused(home: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="bogus"):
        load_settings({"bogus": 1}, environ=home)


@pytest.mark.parametrize(
    "endpoint", ["ftp://example.com/ocr", "example.com/ocr", "//example.com", "file:///etc/passwd"]
)
def test_endpoint_must_be_http(home: dict[str, str], endpoint: str) -> None:
    with pytest.raises(ConfigError, match="endpoint: .*https:// or http://"):
        load_settings({"endpoint": endpoint}, environ=home)


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:9/x", "https://api.example.com/ocr"])
def test_http_and_https_endpoints_are_accepted(home: dict[str, str], endpoint: str) -> None:
    assert load_settings({"endpoint": endpoint}, environ=home).api.endpoint == endpoint


@pytest.mark.parametrize(
    ("credentials", "message"),
    [
        ({}, MISSING_BOTH),
        (
            {"BATCH_OCR_SECRET_ID": "AKID123"},
            "missing API credentials: set BATCH_OCR_SECRET_KEY in the environment "
            "(or secret_id/secret_key in the config file)",
        ),
        (
            {"BATCH_OCR_SECRET_KEY": SECRET},
            "missing API credentials: set BATCH_OCR_SECRET_ID in the environment "
            "(or secret_id/secret_key in the config file)",
        ),
    ],
)
def test_missing_credentials_message(
    home: dict[str, str], credentials: dict[str, str], message: str
) -> None:
    settings = load_settings({}, environ=home | credentials)

    with pytest.raises(ConfigError) as caught:
        settings.api.require_credentials()

    assert str(caught.value) == message


def test_credentials_from_file_satisfy_the_check(home: dict[str, str], tmp_path: Path) -> None:
    config = write_toml(tmp_path / "c.toml", f'secret_id = "AKID"\nsecret_key = "{SECRET}"\n')

    load_settings({}, config_path=config, environ=home).api.require_credentials()


def test_secret_key_never_shows_in_repr_or_str(home: dict[str, str]) -> None:
    settings = load_settings(
        {}, environ=home | {"BATCH_OCR_SECRET_ID": "AKID123", "BATCH_OCR_SECRET_KEY": SECRET}
    )

    for text in (repr(settings), str(settings), settings.model_dump_json(), f"{settings}"):
        assert SECRET not in text
    assert "AKID123" in repr(settings)
    assert settings.api.secret_key_value() == SECRET


def test_settings_are_frozen(home: dict[str, str]) -> None:
    settings = load_settings({}, environ=home)

    with pytest.raises(ValueError, match="frozen"):
        settings.concurrency = 99  # type: ignore[misc]


def test_config_example_documents_every_setting() -> None:
    import re

    from batch_ocr.settings import SETTING_KEYS

    example = (Path(__file__).resolve().parent.parent / "config.example.toml").read_text()
    documented = set(re.findall(r"^# (\w+) = ", example, re.MULTILINE))
    assert documented == set(SETTING_KEYS)


def test_engine_sections_in_the_config_file(home: dict[str, str], tmp_path: Path) -> None:
    config = write_toml(tmp_path / "c.toml",
                        'concurrency = 3\n[api]\nendpoint = "http://127.0.0.1:9/x"\nqps = 2\n'
                        "[local]\nworkers = 2\n")

    settings = load_settings({}, config_path=config, environ=home)

    assert (settings.concurrency, settings.api.endpoint, settings.api.qps,
            settings.local.workers) == (3, "http://127.0.0.1:9/x", 2.0, 2)


def test_flat_keys_override_the_section_layer_by_layer(home: dict[str, str],
                                                       tmp_path: Path) -> None:
    """A section in the file is one layer: the environment and flags still win over it."""
    config = write_toml(tmp_path / "c.toml", '[api]\nsource = "file"\nqps = 1\ntimeout = 5\n')
    environ = home | {"BATCH_OCR_QPS": "4"}

    settings = load_settings({"timeout": 9.0}, config_path=config, environ=environ)

    assert (settings.api.source, settings.api.qps, settings.api.timeout) == ("file", 4.0, 9.0)


def test_unknown_section_is_refused_but_a_registered_engines_is_kept(
        home: dict[str, str], tmp_path: Path) -> None:
    config = write_toml(tmp_path / "c.toml", "[echo]\nprefix = 'x'\n")

    with pytest.raises(ConfigError, match="unknown key.*echo"):
        load_settings({}, config_path=config, environ=home)
    settings = load_settings({}, config_path=config, environ=home, engine_sections=("echo",))
    assert settings.engine_tables == {"echo": {"prefix": "x"}}


def test_a_section_key_error_names_the_key_as_users_write_it(home: dict[str, str],
                                                             tmp_path: Path) -> None:
    config = write_toml(tmp_path / "c.toml", "[local]\nworkers = 0\n")

    with pytest.raises(ConfigError, match=r"^invalid settings: workers: "):
        load_settings({}, config_path=config, environ=home)


@pytest.mark.skipif(os.name != "posix", reason="file modes say who reads a file on POSIX only")
@pytest.mark.parametrize("mode", [0o644, 0o666, 0o640])
@pytest.mark.parametrize("section", ["", "[api]\n"])
def test_a_config_file_with_the_secret_readable_by_others_is_warned_about(
        home: dict[str, str], tmp_path: Path, mode: int, section: str,
        caplog: pytest.LogCaptureFixture) -> None:
    config = write_toml(tmp_path / "c.toml",
                        f'{section}secret_id = "AKID"\nsecret_key = "{SECRET}"\n')
    config.chmod(mode)

    with caplog.at_level(logging.WARNING, logger="batch_ocr"):
        settings = load_settings({}, config_path=config, environ=home)

    assert settings.api.secret_key_value() == SECRET  # a warning, not an error: the run goes on
    assert [r.getMessage() for r in caplog.records] == [
        f"warning: {config} holds secret_key and other users can read it; "
        f"run: chmod 600 {config}"
    ]
    assert SECRET not in caplog.text


@pytest.mark.skipif(os.name != "posix", reason="file modes say who reads a file on POSIX only")
def test_a_journal_key_is_a_secret_too(home: dict[str, str], tmp_path: Path,
                                       caplog: pytest.LogCaptureFixture) -> None:
    config = write_toml(tmp_path / "c.toml", f'journal_key = "{SECRET}"\n')
    config.chmod(0o644)

    with caplog.at_level(logging.WARNING, logger="batch_ocr"):
        settings = load_settings({}, config_path=config, environ=home)

    assert settings.journal_key_value() == SECRET
    assert SECRET not in repr(settings)  # never printed
    assert [r.getMessage() for r in caplog.records] == [
        f"warning: {config} holds journal_key and other users can read it; "
        f"run: chmod 600 {config}"
    ]


@pytest.mark.skipif(os.name != "posix", reason="file modes say who reads a file on POSIX only")
@pytest.mark.parametrize(("text", "mode"), [
    (f'secret_key = "{SECRET}"\n', 0o600),
    (f'secret_key = "{SECRET}"\n', 0o400),
    ('concurrency = 4\n', 0o644),
])
def test_a_private_config_file_or_one_without_the_secret_is_not_warned_about(
        home: dict[str, str], tmp_path: Path, text: str, mode: int,
        caplog: pytest.LogCaptureFixture) -> None:
    config = write_toml(tmp_path / "c.toml", text)
    config.chmod(mode)

    with caplog.at_level(logging.WARNING, logger="batch_ocr"):
        load_settings({}, config_path=config, environ=home)

    assert caplog.records == []
