"""Readings for the hybrid engine's tests: a clean front and back, and ways to doubt them."""

from __future__ import annotations

import datetime

from batch_ocr.provider.models import CardData, CardInfo

AS_OF = datetime.date(2026, 1, 1)

FRONT = CardData(order_no="1", result=0, side="front",
                 info=CardInfo(name="张三", sex="男", nation="汉", year="1990", month="10",
                               day="9", address="江西省南昌市红谷滩区丰和中大道1001号",
                               number="360113199010099893"),
                 validity=dict.fromkeys(("name", "sex", "nation", "birthday", "address",
                                         "number"), True))  # fmt: skip
BACK = CardData(order_no="2", result=0, side="back",
                info=CardInfo(authority="南昌市公安局红谷滩分局", timelimit="20180727-20380727"),
                validity={"authority": True, "timelimit": True})  # fmt: skip
NOT_A_CARD = CardData(result=0, side="front", info=CardInfo(),
                      validity={"name": False, "number": False})  # fmt: skip
#: Every column the offline engine reads on a front, sure of each.
SURE = dict.fromkeys(("name", "sex", "nation", "birth_date", "address", "id_number",
                      "authority", "valid_from", "valid_to"), 0.99)  # fmt: skip


def front(**info: str) -> CardData:
    """``FRONT`` with some fields read otherwise."""
    return FRONT.model_copy(update={"info": FRONT.info.model_copy(update=info)})
