"""The review page's template, stylesheet and script: package data in ``templates/``.

They ship inside the wheel (``pyproject.toml``, ``[tool.setuptools.package-data]``) and
are read with ``importlib.resources``, so they are found wherever the package is
installed, zipped or not. The stylesheet and the script are inlined into every page,
and ``render.content_security_policy`` allows exactly them by their hashes. Keep them
free of anything that loads from elsewhere: no ``@import``, no ``url(...)``, no web
fonts, no ``fetch``.
"""

from __future__ import annotations

import functools
from importlib import resources

import jinja2

_TEMPLATES = "templates"


def read_asset(name: str) -> str:
    """The text of ``templates/<name>``, exactly as shipped."""
    return (resources.files("batch_ocr.report") / _TEMPLATES / name).read_text(encoding="utf-8")


#: The page's stylesheet (``templates/review.css``).
STYLE = read_asset("review.css")
#: The page's script (``templates/review.js``).
SCRIPT = read_asset("review.js")


@functools.cache
def page_template() -> jinja2.Template:
    """The page's template (``templates/review.html``), compiled once.

    Autoescaping is on for every value: what is not escaped must be wrapped in
    ``markupsafe.Markup`` by the caller, on purpose. An undefined name is an error, not
    an empty string, so a misspelt variable cannot blank part of the page unnoticed.
    """
    environment = jinja2.Environment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        # Block tags take no line of their own in the output; the page ends in a newline.
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return environment.from_string(read_asset("review.html"))
