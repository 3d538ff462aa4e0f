"""What a test of generated or shared pages needs, each skip saying what is missing.

One home for them: the offline engine (the ``local`` extra) and the dev set of
``../shared/documents`` (absent on a user's machine). The card font needs no skip: it comes
with the ``dev`` extra, like pytest itself.
"""

from __future__ import annotations

import pytest

from tests.card_pages import DOCUMENTS


def _local_engine_available() -> bool:
    from batch_ocr.engines.local import available

    return available()


needs_local = pytest.mark.skipif(not _local_engine_available(),
                                 reason="the 'local' extra is not installed")
needs_documents = pytest.mark.skipif(not DOCUMENTS.is_dir(),
                                     reason="../shared/documents is not beside the project")
