"""Recognised lines of a card, as the recogniser gives them once a stamp's text is cut
out of a line (``TextLine.stamped``): the offline engine's parsing tests build cards
from them."""

from __future__ import annotations

from batch_ocr.engines.local._rows import TextLine

FRONT = ["姓名李小红", "性别女民族汉", "出生1988年1月27日", "住址广东省深圳市南山区建设大道197号",
         "公民身份号码440305198801276987"]  # fmt: skip
BACK = ["签发机关深圳市公安局南山分局", "有效期限2015.03.01-2035.03.01"]


def lines(texts: list[str], *, stamped: tuple[int, ...] = (), least: float = 0.99,
          ) -> list[TextLine]:  # fmt: skip
    """One line a row, read at ``least``; those at ``stamped`` had a stamp cut out."""
    return [TextLine(text, least, 60, 60 * i, 700, 60 * i + 30, least=least,
                     stamped=i in stamped, chars=tuple((ch, least) for ch in text))
            for i, text in enumerate(texts)]  # fmt: skip
