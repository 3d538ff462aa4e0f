"""What a test of generated or shared pages needs, each skip saying what is missing.

One home for them: the offline engine (the ``local`` extra), the card font the sample
generator draws with, and the dev set of ``../shared/documents`` (absent on a user's
machine).
"""

from __future__ import annotations

import pytest

from tests.card_pages import DOCUMENTS, font_available


def _local_engine_available() -> bool:
    from batch_ocr.engines.local import available

    return available()


needs_local = pytest.mark.skipif(not _local_engine_available(),
                                 reason="the 'local' extra is not installed")
needs_font = pytest.mark.skipif(not font_available(), reason="the card font is not installed")
needs_documents = pytest.mark.skipif(not DOCUMENTS.is_dir(),
                                     reason="../shared/documents is not beside the project")
