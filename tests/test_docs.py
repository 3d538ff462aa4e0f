"""The user docs stay true to the code: the README starts with a quick start and stays a
guide, every link resolves, and every public name (flag, variable, config key, column,
status, summary key) is documented in docs/reference.md. The quick start itself is run
for real by tests/engines/test_engine_integration.py."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from batch_ocr.cli import build_parser
from batch_ocr.columns import CSV_COLUMNS, JSONL_COLUMNS, PAIRED_TABLE_COLUMNS
from batch_ocr.run.summary import SummaryJson
from batch_ocr.settings import SETTING_KEYS, env_var
from batch_ocr.statuses import STATUSES

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DOCS = sorted((REPO / "docs").glob("*.md"))
PAGES = [README, REPO / "samples" / "README.md", *DOCS]
QUICK_START = "batch-ocr samples/cards -o out/results.csv"


def _prose(path: Path) -> str:
    """A page without its fenced code blocks (links and headings there are not real)."""
    return re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_readme_starts_with_a_result_and_stays_a_guide() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 450
    head = "\n".join(lines[:60])
    assert "pip install -e '.[local]'" in head
    assert QUICK_START in head
    assert "rows written: 11 (ok 10, not_id_card 1)" in head  # what the user gets


def test_the_readme_keeps_the_install_and_test_commands_ci_runs() -> None:
    text = README.read_text(encoding="utf-8")
    for command in ("pip install -e '.[local,dev]'", "pip install -e '.[local,dev,dask]'",
                    "python -m pytest"):
        assert f"```\n{command}\n```" in text, command


def test_the_quick_start_folders_hold_what_the_readme_says() -> None:
    cards = sorted(p.name for p in (REPO / "samples" / "cards").iterdir())
    assert len(cards) == 11 and "not_a_card.jpg" in cards
    assert sorted(p.name for p in (REPO / "samples" / "hostile").iterdir()) == ["broken.jpg"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", _prose(page)):
        if target.startswith(("http://", "https://")):
            continue
        path, _, fragment = target.partition("#")
        destination = (page.parent / path).resolve() if path else page
        if not destination.exists():
            broken.append(target)
        elif fragment and destination.suffix == ".md":
            headings = re.findall(r"^#+ (.*)$", _prose(destination), flags=re.M)
            if fragment not in {_anchor(h) for h in headings}:
                broken.append(target)
    assert broken == []


def test_every_docs_page_cited_in_the_code_exists() -> None:
    cited = set()
    for folder in ("batch_ocr", "tests", "samples"):
        for source in (REPO / folder).rglob("*.py"):
            cited |= set(re.findall(r"docs/[\w-]+\.md", source.read_text(encoding="utf-8")))
    assert cited, "no citation found: the pattern is wrong"
    assert sorted(c for c in cited if not (REPO / c).is_file()) == []


def test_the_python_example_names_what_the_package_has() -> None:
    example = re.search(r"```python\n(.*?)```", (REPO / "docs" / "python.md").read_text(
        encoding="utf-8"), flags=re.S)
    assert example is not None
    imports = re.findall(r"^from (batch_ocr[\w.]*) import (.+)$", example.group(1), flags=re.M)
    assert imports
    for module, names in imports:
        loaded = importlib.import_module(module)
        for name in (n.strip() for n in names.split(",")):
            assert hasattr(loaded, name), f"{module}.{name}"


def test_every_public_name_is_in_the_reference() -> None:
    reference = (REPO / "docs" / "reference.md").read_text(encoding="utf-8")
    wanted = [f"`{key}`" for key in SETTING_KEYS]
    wanted += [env_var(key) for key in SETTING_KEYS]
    wanted += [f"`{key}`" for key in SummaryJson.model_fields]
    wanted += [f"`{status}`" for status in STATUSES]
    wanted += [f"`{column}`" for column in (*CSV_COLUMNS, *JSONL_COLUMNS)]
    for action in build_parser()._actions:
        wanted += [option for option in action.option_strings if option != "-h"
                   and option != "--help"]
    assert [name for name in wanted if name not in reference] == []


def test_every_column_of_the_paired_table_is_in_the_cards_page() -> None:
    cards = (REPO / "docs" / "cards.md").read_text(encoding="utf-8")
    assert [c for c in PAIRED_TABLE_COLUMNS if f"`{c}`" not in cards] == []
