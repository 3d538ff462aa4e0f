"""The ID number's rules, in one module for the checks and the offline engine alike.

- GB 11643-1999 "Citizen identification number": structure, the birth date and sex it
  encodes, and the ISO 7064 MOD 11-2 check character;
- GB/T 2260: the province-level code;
- GB/T 3304 "Names of nationalities of China": the 56 short forms as cards print them.

Digits are ASCII only: ``[0-9]``, never ``\\d`` (which also matches full-width and other
Unicode digits, and let a number with a full-width digit pass one copy of these rules
but not the other).
"""

from __future__ import annotations

import datetime
import re

#: GB 11643-1999, 6.2: weight of each of the first 17 digits (2^(18-i) mod 11).
CHECK_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
#: Check character for each value of the weighted sum mod 11.
CHECK_CHARS = "10X98765432"

#: First two digits of a province-level division (GB/T 2260). 71 (Taiwan) is listed
#: by GB/T 2260 though no mainland card carries it. 81/82/83 are not resident-card
#: codes at all: they prefix the 18-digit numbers of the residence permits for Hong
#: Kong, Macao and Taiwan residents (2018), which use the same number format and are
#: often scanned in the same batches. 9x (foreigners' permanent residence cards,
#: 2023 edition) is deliberately absent: those are not resident ID cards.
PROVINCE_CODES: frozenset[str] = frozenset({
    "11", "12", "13", "14", "15",
    "21", "22", "23",
    "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46",
    "50", "51", "52", "53", "54",
    "61", "62", "63", "64", "65",
    "71", "81", "82", "83",
})

#: The province-level division an address begins with, by the ID number's first two
#: digits (GB/T 2260). The number keeps the region where it was first issued, so a
#: card's address may lie in another province: this says where to look, not where
#: the holder must live.
PROVINCE_NAMES: dict[str, str] = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省",
    "31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省", "35": "福建省",
    "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省", "54": "西藏自治区",
    "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区", "71": "台湾省",
}  # fmt: skip

#: The 56 ethnic groups, as the 民族 field prints them (GB/T 3304 without the 族).
NATIONS: tuple[str, ...] = (
    "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜",
    "满", "侗", "瑶", "白", "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳",
    "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土",
    "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米",
    "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔",
    "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
)
#: What else a genuine card may print in the 民族 field. 穿青人 is printed on cards
#: issued in Guizhou to people of that undetermined group; GB/T 3304 code 97 is 其他
#: (其他未识别民族) and code 98 外国血统中国籍人士, which cards shorten to 外国血统
#: (both spellings accepted). Anything else is more likely an OCR error than a card.
OTHER_NATIONS: frozenset[str] = frozenset({
    "穿青人", "其他", "未识别民族", "外国血统", "外国血统中国籍人士",
})
#: Every accepted 民族 value: the short forms, the same with 族 (汉族, as some
#: recognisers and forms spell it), and ``OTHER_NATIONS``.
KNOWN_NATIONS: frozenset[str] = (
    frozenset(NATIONS) | frozenset(n + "族" for n in NATIONS) | OTHER_NATIONS
)

# [0-9], not \d: \d also matches full-width and other Unicode digits.
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")


def normalize_id_number(number: str) -> str:
    """Surrounding whitespace removed, ``x`` upper-cased (cards print ``X``)."""
    return number.strip().upper()


def id_number_well_formed(number: str) -> bool:
    """True for 17 digits followed by a digit or X (lowercase x accepted)."""
    return bool(_ID_SHAPE.fullmatch(normalize_id_number(number)))


def check_char(first17: str) -> str:
    """The check character (``0``-``9`` or ``X``) for the first 17 digits of a number.

    Raises ``ValueError`` unless ``first17`` is exactly 17 ASCII digits.
    """
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"expected 17 digits, got {first17!r}")
    total = sum(int(digit) * weight for digit, weight in zip(first17, CHECK_WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def id_checksum_ok(number: str) -> bool:
    """True when ``number`` is well formed and its 18th character is the right check char."""
    if not id_number_well_formed(number):
        return False
    normalized = normalize_id_number(number)
    return check_char(normalized[:17]) == normalized[17]


def birth_date_from_id(number: str) -> str:
    """``YYYY-MM-DD`` from digits 7-14 of a well-formed number, as printed (not validated)."""
    digits = normalize_id_number(number)[6:14]
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"


def sex_from_id(number: str) -> str:
    """``男`` when the 17th digit is odd, ``女`` when even (GB 11643-1999, 5.3)."""
    return "男" if int(normalize_id_number(number)[16]) % 2 else "女"


def region_known(number: str) -> bool:
    """True when the first two characters are a province-level code (``PROVINCE_CODES``)."""
    return normalize_id_number(number)[:2] in PROVINCE_CODES


def nation_known(nation: str) -> bool:
    """True for one of the 56 groups (with or without 族) or another printed form."""
    return nation.strip() in KNOWN_NATIONS



def calendar_date(year: str, month: str, day: str) -> datetime.date | None:
    """A real calendar date from its printed parts (ASCII digits), or None."""
    if not all(part.isascii() and part.isdigit() for part in (year, month, day)):
        return None
    try:
        return datetime.date(int(year), int(month), int(day))
    except ValueError:
        return None


def birth_date_in(number: str) -> datetime.date | None:
    """The birth date an ID number encodes (characters 7-14) if it is a real date."""
    if len(number) < 14:
        return None
    return calendar_date(number[6:10], number[10:12], number[12:14])


def sex_in(number: str) -> str | None:
    """The sex an ID number encodes (its 17th digit), or None when it has none."""
    if len(number) < 17 or not (number[16].isascii() and number[16].isdigit()):
        return None
    return "男" if int(number[16]) % 2 else "女"


def id_number_valid(number: str) -> bool:
    """Exactly as printed: 18 characters, a real birth date, the right check character.

    Unlike ``id_checksum_ok`` nothing is normalised: a recogniser must print ``X``.
    """
    return (
        bool(_ID_SHAPE.fullmatch(number))
        and birth_date_in(number) is not None
        and check_char(number[:17]) == number[17]
    )
