"""Draw synthetic Chinese resident ID cards (居民身份证) of fictional people.

Writes the sample folder that batch-ocr's emulator and tests run over: card images in
all five formats the provider accepts (JPEG, PNG, BMP, GIF, TIFF), one picture that is
not a card, one truncated JPEG, and ``fixtures.jsonl``, the answers the emulator gives
for each card image (``API_CONTRACT.md``, "Response"). Every person is made up and every
ID number is generated here with a GB 11643-1999 check character.

Regenerate with ``python samples/make_samples.py``. ``python samples/make_samples.py
--documents DIR`` writes A4 photocopy pages (front above back, grey) into ``DIR`` as a
3-page PDF and a 2-page TIFF, with their truths (:func:`write_documents`);
``--card-pages DIR`` writes pages of several cards (two-sided copies, four sides, an ID
card beside a bank card, stamped and watermarked) with the rows each must give
(:func:`write_card_pages`).
The output is deterministic: the people are fixed, every random choice comes from a
seeded ``random.Random``, and files
are saved without timestamps at fixed quality, so two runs give byte-identical files
(with the same Pillow/FreeType build and font file).

Draws with fonts from Python packages of the project's ``dev`` extra, never from a system
path, so every machine draws the same cards: Noto Sans CJK SC (``noto-cjk-sans-otc``) for
everything Chinese, and for the Korean and Zhuang lines of bilingual cards; Noto Sans
Arabic (``fontpkg-noto-sans-arabic``) for the Uyghur lines. A card's Chinese can be drawn
in a second face, Noto Sans CJK JP Bold (``noto-cjk-sans-jp-bold``; ``face="bold"`` of
:func:`draw_front` and :func:`draw_back`), so that generated sets do not all share one
face; every file this script writes is drawn in the SC face. All three are Google's Noto
fonts under the SIL Open Font License 1.1. No Python package ships a Tibetan, Mongolian or Yi
font, so :func:`draw_front` and :func:`draw_back` refuse those three scripts
(:class:`FontMissingError`); the accuracy harness draws those nations' cards in Chinese
only, and says so.

The drawing functions are importable by file path (an accuracy harness does so):
:func:`draw_front`, :func:`draw_back`, :func:`make_person`, :func:`id_check_char`,
and the :class:`Person` they draw.
"""

import hashlib
import importlib.resources
import io
import json
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

#: The card font: the Simplified Chinese face of Google's Noto Sans CJK collection, from
#: the Python package ``noto-cjk-sans-otc`` (module docstring).
FONT_PACKAGE = "noto-cjk-sans-otc"
FONT_MODULE = "noto_cjk_sans_otc"
FONT_FILE = "NotoSansCJK-Regular.ttc"
FONT_FACE = "Noto Sans CJK SC"


@dataclass(frozen=True)
class CardFace:
    """A face a card's text can be drawn in: the Python package shipping it, the file
    inside that package, and the face's family name (a collection is searched by it)."""

    package: str
    module: str
    file: str
    family: str


#: The faces a card's text can be drawn in, by name. ``regular`` draws every committed
#: sample; ``bold`` (Noto Sans CJK JP Bold, ``noto-cjk-sans-jp-bold``) gives a generator
#: a second face: a heavier stroke and, for some characters, the Japanese glyph forms,
#: as cards printed by other machines and fonts differ from ours.
CARD_FACES = {
    "regular": CardFace(FONT_PACKAGE, FONT_MODULE, FONT_FILE, FONT_FACE),
    "bold": CardFace("noto-cjk-sans-jp-bold", "noto_cjk_sans_jp_bold",
                     "NotoSansCJKjp-Bold.otf", "Noto Sans CJK JP"),
}  # fmt: skip
DEFAULT_FACE = "regular"

#: The real card is 85.6 mm x 54 mm; every coordinate below is in pixels of an
#: 856 px wide card and scaled to the width asked for.
BASE_WIDTH = 856
BASE_HEIGHT = 540

#: Seed of every random choice ``main`` makes (ID sequence digits, order numbers).
SEED = 20240611
#: Fixed JPEG quality: together with no EXIF it keeps reruns byte-identical.
JPEG_QUALITY = 90

# Colours: a pale blue-grey card fading to a faint pink, blue-grey labels, near-black values.
CARD_LEFT_RGB = (226, 234, 240)
CARD_RIGHT_RGB = (240, 230, 234)
GUILLOCHE_RGB = (206, 218, 228)
LABEL_RGB = (52, 98, 150)
VALUE_RGB = (20, 20, 24)
PORTRAIT_BG_RGB = (236, 244, 250)
EMBLEM_RED_RGB = (200, 30, 36)
EMBLEM_GOLD_RGB = (250, 206, 64)
OUTSIDE_RGB = (255, 255, 255)

#: GB 11643-1999: weights of the first 17 digits and the check character for each
#: remainder of the weighted sum mod 11.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"

#: The 56 nations as the card prints them (without the trailing 族).
NATIONS = (
    "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白",
    "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡",
    "纳西", "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬",
    "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安",
    "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
)  # fmt: skip


@dataclass(frozen=True)
class Region:
    """A county-level place: the address prefix, its area code and its police branch."""

    province: str
    city: str  # "" for the municipalities, whose province is the city
    district: str
    area_code: str  # first six digits of the ID number
    authority: str  # 签发机关 as printed on the back


#: Real administrative names and codes; the streets and house numbers are made up.
REGIONS = (
    Region("北京市", "", "朝阳区", "110105", "北京市公安局朝阳分局"),
    Region("北京市", "", "海淀区", "110108", "北京市公安局海淀分局"),
    Region("上海市", "", "浦东新区", "310115", "上海市公安局浦东分局"),
    Region("上海市", "", "徐汇区", "310104", "上海市公安局徐汇分局"),
    Region("天津市", "", "南开区", "120104", "天津市公安局南开分局"),
    Region("重庆市", "", "渝中区", "500103", "重庆市公安局渝中区分局"),
    Region("广东省", "广州市", "天河区", "440106", "广州市公安局天河区分局"),
    Region("广东省", "深圳市", "南山区", "440305", "深圳市公安局南山分局"),
    Region("江西省", "南昌市", "红谷滩区", "360113", "南昌市公安局红谷滩分局"),
    Region("浙江省", "杭州市", "西湖区", "330106", "杭州市公安局西湖区分局"),
    Region("江苏省", "南京市", "鼓楼区", "320106", "南京市公安局鼓楼分局"),
    Region("四川省", "成都市", "武侯区", "510107", "成都市公安局武侯区分局"),
    Region("湖北省", "武汉市", "洪山区", "420111", "武汉市公安局洪山区分局"),
    Region("陕西省", "西安市", "雁塔区", "610113", "西安市公安局雁塔分局"),
    Region("山东省", "青岛市", "市南区", "370202", "青岛市公安局市南分局"),
    Region("福建省", "厦门市", "思明区", "350203", "厦门市公安局思明分局"),
    Region("新疆维吾尔自治区", "乌鲁木齐市", "天山区", "650102", "乌鲁木齐市公安局天山区分局"),
    Region("内蒙古自治区", "呼和浩特市", "新城区", "150102", "呼和浩特市公安局新城区分局"),
    Region("西藏自治区", "拉萨市", "城关区", "540102", "拉萨市公安局城关分局"),
    Region("广西壮族自治区", "南宁市", "青秀区", "450103", "南宁市公安局青秀分局"),
)

SURNAMES = (
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
    "郭", "何", "林", "罗", "高", "郑", "梁", "谢", "宋", "唐", "韩", "冯", "邓", "曹", "彭",
    "欧阳", "司马", "诸葛", "上官",
)  # fmt: skip
GIVEN_CHARS = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
    "明", "超", "秀", "霞", "平", "刚", "桂", "英", "华", "小", "红", "建", "国", "文", "晨",
    "宇", "欣", "博", "海", "雪", "梅", "志", "鹏", "佳", "婷",
)  # fmt: skip
#: Transliterated names for the nations that usually write them so (given·father's name).
TRANSLITERATED_GIVEN = ("阿依古丽", "古丽娜", "艾力", "买买提", "热依拉", "努尔兰", "巴图")
TRANSLITERATED_FAMILY = ("买买提", "吐尔逊", "艾山", "阿不都", "库尔班", "哈力克")
STREETS = (
    "人民路", "解放路", "中山路", "建设大道", "和平街", "光明路", "新华街", "文化路", "长江路",
    "滨河北路", "幸福里", "东风路",
)  # fmt: skip


#: Towns and villages for the long (three-line) addresses; made up.
TOWNS = ("城关镇", "新华街道", "东风乡", "红星镇", "长安街道", "团结乡")
VILLAGES = ("和平村", "幸福村", "光明社区", "胜利村", "向阳社区", "团结新村")
#: Where the nations of the bilingual cards mostly live: their sample region's code.
HOME_REGIONS = {
    "维吾尔": "650102", "藏": "540102", "蒙古": "150102", "壮": "450103", "彝": "510107",
}  # fmt: skip


@dataclass(frozen=True)
class Person:
    """What an ID card says about its holder; ``valid_to`` is None for a 长期 card."""

    name: str
    sex: str  # "男" or "女"
    nation: str  # as printed, without 族: "汉", "维吾尔"
    birth: date
    address: str
    number: str  # 18 characters, the last one may be "X"
    authority: str
    valid_from: date
    valid_to: date | None


def id_check_char(first17: str) -> str:
    """The GB 11643-1999 check character (``0``-``9`` or ``X``) for 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"need exactly 17 digits, got {first17!r}")
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def make_number(area_code: str, birth: date, sex: str, rng: random.Random) -> str:
    """A checksummed ID number whose birth date and sex digit agree with the arguments."""
    # The 17th digit is odd for men and even for women.
    sex_digit = rng.choice("13579" if sex == "男" else "02468")
    first17 = f"{area_code}{birth:%Y%m%d}{rng.randrange(100):02d}{sex_digit}"
    return first17 + id_check_char(first17)


def add_years(day: date, years: int) -> date:
    """``day`` moved by whole years; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def validity_years(birth: date, issued: date) -> int | None:
    """Years a card issued at ``issued`` is valid for by the holder's age (None: 长期)."""
    age = issued.year - birth.year - ((issued.month, issued.day) < (birth.month, birth.day))
    if age < 16:
        return 5
    if age < 26:
        return 10
    if age < 46:
        return 20
    return None


def make_person(
    rng: random.Random,
    *,
    nation: str | None = None,
    dotted_name: bool = False,
    long_address: bool = False,
) -> Person:
    """A random, plausible, fictional person with a consistent, checksummed ID number.

    ``nation`` fixes the nation (its home region is then likely), ``dotted_name`` gives
    a transliterated name with ``·``, ``long_address`` one that fills three lines.
    """
    region = rng.choice(REGIONS)
    if nation is None:
        nation = "汉" if rng.random() < 0.7 else rng.choice(NATIONS)
    elif nation in HOME_REGIONS:
        region = next(r for r in REGIONS if r.area_code == HOME_REGIONS[nation])
    sex = rng.choice("男女")
    if dotted_name or nation in ("维吾尔", "哈萨克", "乌孜别克", "塔吉克"):
        name = f"{rng.choice(TRANSLITERATED_GIVEN)}·{rng.choice(TRANSLITERATED_FAMILY)}"
    else:
        given = "".join(rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2))))
        name = rng.choice(SURNAMES) + given
    # Day <= 28 so every date exists in every year.
    birth = date(rng.randint(1950, 2012), rng.randint(1, 12), rng.randint(1, 28))
    issued = date(
        rng.randint(max(birth.year + 1, 2005), 2025), rng.randint(1, 12), rng.randint(1, 28)
    )
    years = validity_years(birth, issued)
    street = rng.choice(STREETS)
    house = f"{rng.randint(1, 999)}号"
    if rng.random() < 0.5:
        house += f"{rng.randint(1, 30)}栋{rng.randint(1, 6)}0{rng.randint(1, 4)}室"
    address = f"{region.province}{region.city}{region.district}{street}{house}"
    if long_address:
        address = _long_address(region, rng)
    return Person(
        name=name,
        sex=sex,
        nation=nation,
        birth=birth,
        address=address,
        number=make_number(region.area_code, birth, sex, rng),
        authority=region.authority,
        valid_from=issued,
        valid_to=None if years is None else add_years(issued, years),
    )


def _long_address(region: Region, rng: random.Random) -> str:
    """An address that fills the front's three address lines (about 34 characters)."""
    optional = [
        f"{rng.choice(TOWNS)}{rng.choice(VILLAGES)}",
        f"{rng.randint(1, 12)}组",
        f"{rng.choice(STREETS)}{rng.randint(1, 999)}号",
    ]
    unit = (
        f"{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元"
        f"{rng.randint(1, 30)}0{rng.randint(1, 4)}室"
    )
    head = f"{region.province}{region.city}{region.district}"

    def weight(text: str) -> float:  # digits are about half as wide as characters
        return sum(0.6 if ch.isdigit() else 1.0 for ch in text)

    while weight(head + "".join(optional) + unit) > 33 and optional:
        optional.pop(rng.randrange(len(optional)))
    return head + "".join(optional) + unit


def timelimit_printed(person: Person) -> str:
    """有效期限 as the card prints it: ``2018.07.27-2038.07.27`` or ``2015.03.01-长期``."""
    end = "长期" if person.valid_to is None else f"{person.valid_to:%Y.%m.%d}"
    return f"{person.valid_from:%Y.%m.%d}-{end}"


def timelimit_api(person: Person) -> str:
    """``timelimit`` as the API returns it: ``20180727-20380727`` or ``20150301-长期``."""
    end = "长期" if person.valid_to is None else f"{person.valid_to:%Y%m%d}"
    return f"{person.valid_from:%Y%m%d}-{end}"


# --------------------------------------------------------------------------- drawing


class FontMissingError(RuntimeError):
    """A font the drawing needs is not installed (the module docstring names the packages)."""


def _missing(package: str) -> FontMissingError:
    return FontMissingError(
        f"the Python package {package} is not installed: pip install -e '.[dev]' "
        f"(or pip install {package})"
    )


def _package_file(module: str, relative: str) -> Path | None:
    """A file shipped inside the Python package ``module`` (None: not installed)."""
    try:
        root = importlib.resources.files(module)
    except ModuleNotFoundError:
        return None
    # Installed wheels are plain folders; FreeType needs a real file it can keep open.
    path = Path(str(root.joinpath(relative)))
    return path if path.is_file() else None


def _face_index(path: Path, face: str) -> int:
    """The index of the face named ``face`` in the font collection at ``path``."""
    index = 0
    while True:
        try:
            family, _style = ImageFont.truetype(str(path), 12, index=index).getname()
        except OSError:  # past the last face
            raise FontMissingError(f"{path} holds no face named {face!r}") from None
        if family == face:
            return index
        index += 1


@cache
def card_font_file(face: str = DEFAULT_FACE) -> tuple[Path, int]:
    """The file of the card face named ``face`` (a key of ``CARD_FACES``) and the index
    of that face in it.

    Chosen by name: the regular collection also holds the Japanese, Korean and
    Traditional faces, whose forms of the same characters differ from the mainland's.
    """
    card_face = CARD_FACES[face]
    path = _package_file(card_face.module, card_face.file)
    if path is None:
        raise _missing(card_face.package)
    return path, _face_index(path, card_face.family)


def face_drawable(face: str) -> bool:
    """Whether the package of the card face named ``face`` is installed."""
    card_face = CARD_FACES[face]
    return _package_file(card_face.module, card_face.file) is not None


@cache
def card_font(size_px: int, face: str = DEFAULT_FACE) -> ImageFont.FreeTypeFont:
    """The card font at ``size_px`` pixels, in the face named ``face``."""
    path, index = card_font_file(face)
    return ImageFont.truetype(str(path), size_px, index=index)


class _Canvas:
    """An RGB card of a given width with drawing helpers in 856-px-card coordinates."""

    def __init__(self, width: int, face: str = DEFAULT_FACE) -> None:
        if width < 64:
            raise ValueError(f"width {width} px is too small to draw a card")
        self.face = face
        self.scale = width / BASE_WIDTH
        self.size = (width, round(BASE_HEIGHT * self.scale))
        self.image = _card_background(self.size, self.scale)
        self.draw = ImageDraw.Draw(self.image)

    def px(self, value: float) -> int:
        return round(value * self.scale)

    def box(self, x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
        return (self.px(x0), self.px(y0), self.px(x1), self.px(y1))

    def font(self, size: float) -> ImageFont.FreeTypeFont:
        return card_font(max(6, self.px(size)), self.face)

    def text(
        self,
        xy: tuple[float, float],
        text: str,
        size: float,
        fill: tuple[int, int, int],
        *,
        spacing: float = 0.0,
        bold: bool = False,
    ) -> float:
        """Draw ``text`` (top-left at ``xy``) with extra ``spacing`` between characters.

        Returns the x just after the text, in base coordinates.
        """
        font = self.font(size)
        stroke = max(1, self.px(1)) if bold else 0
        x, y = xy
        for char in text:
            self.draw.text(
                (self.px(x), self.px(y)), char, font=font, fill=fill,
                stroke_width=stroke, stroke_fill=fill,
            )  # fmt: skip
            x += font.getlength(char) / self.scale + spacing
        return x - spacing

    def width_of(self, text: str, size: float) -> float:
        return self.font(size).getlength(text) / self.scale

    def finish(self) -> Image.Image:
        """Round the card's corners onto a white backdrop, like a scan of a real card."""
        mask = Image.new("L", self.size, 0)
        ImageDraw.Draw(mask).rounded_rectangle(
            (0, 0, self.size[0] - 1, self.size[1] - 1), radius=self.px(30), fill=255
        )
        out = Image.new("RGB", self.size, OUTSIDE_RGB)
        out.paste(self.image, (0, 0), mask)
        return out


def _card_background(size: tuple[int, int], scale: float) -> Image.Image:
    """A pale left-to-right gradient with faint guilloche waves, as on the real card."""
    width, height = size
    ramp = Image.linear_gradient("L").rotate(90, expand=True).resize((width, height))
    # linear_gradient runs top (0) to bottom (255); rotated it runs right to left.
    left = Image.new("RGB", size, CARD_LEFT_RGB)
    right = Image.new("RGB", size, CARD_RIGHT_RGB)
    image = Image.composite(left, right, ramp)
    draw = ImageDraw.Draw(image)
    line_w = max(1, round(scale))
    for k in range(14):
        amplitude = (18 + 3 * k) * scale
        period = (220 + 17 * k) * scale
        phase = k * 0.7
        base_y = (40 + 36 * k) * scale
        points = [
            (x, base_y + amplitude * math.sin(2 * math.pi * x / period + phase))
            for x in range(0, width + 8, 8)
        ]
        draw.line(points, fill=GUILLOCHE_RGB, width=line_w)
    return image


def _wrap(canvas: _Canvas, text: str, size: float, max_width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``max_width`` (Chinese wraps anywhere)."""
    lines: list[str] = []
    current = ""
    for char in text:
        if current and canvas.width_of(current + char, size) > max_width:
            lines.append(current)
            current = char
        else:
            current += char
    if current:
        lines.append(current)
    return lines


def _draw_silhouette(canvas: _Canvas, box: tuple[float, float, float, float]) -> None:
    """A plain head-and-shoulders shape on a light ground, standing in for the photo."""
    x0, y0, x1, y1 = canvas.box(*box)
    w, h = x1 - x0, y1 - y0
    # Drawn on its own tile so the shoulders are clipped at the photo's edge.
    photo = Image.new("RGB", (w, h), PORTRAIT_BG_RGB)
    draw = ImageDraw.Draw(photo)
    cx = w / 2
    draw.ellipse((0.06 * w, 0.68 * h, 0.94 * w, 1.45 * h), fill=(58, 74, 96))  # shoulders
    draw.polygon([(cx - 0.12 * w, 0.68 * h), (cx + 0.12 * w, 0.68 * h), (cx, 0.86 * h)],
                 fill=(240, 242, 246))  # fmt: skip
    draw.rectangle((cx - 0.09 * w, 0.52 * h, cx + 0.09 * w, 0.72 * h), fill=(222, 186, 156))
    draw.ellipse((cx - 0.24 * w, 0.16 * h, cx + 0.24 * w, 0.62 * h), fill=(236, 200, 170))
    draw.chord((cx - 0.26 * w, 0.11 * h, cx + 0.26 * w, 0.50 * h), start=180, end=360,
               fill=(40, 36, 36))  # fmt: skip
    canvas.image.paste(photo, (x0, y0))


# --------------------------------------------------------------------------- bilingual cards

ARABIC_PACKAGE = "fontpkg-noto-sans-arabic"
ARABIC_FAMILY = "Noto Sans Arabic"


def _arabic_font_file() -> tuple[Path, int]:
    """Noto Sans Arabic (its default instance is the Regular weight), for Uyghur."""
    try:
        import fontpkg  # the Python package that locates fontpkg-noto-sans-arabic's file
    except ModuleNotFoundError:
        raise _missing(ARABIC_PACKAGE) from None
    try:
        return fontpkg.path(ARABIC_FAMILY), 0
    except fontpkg.FontpkgError:
        raise _missing(ARABIC_PACKAGE) from None


@dataclass(frozen=True)
class Script:
    """A minority script that bilingual cards print beside the Chinese.

    ``labels`` are the field labels in that script (approximate: they stand for what
    the recogniser must learn to ignore); value lines are made of ``letters``.
    ``font_file`` locates the font that draws it, None where no Python package ships
    one (the module docstring): such a script is kept for when one does, and drawing
    it raises :class:`FontMissingError`.
    """

    nation: str
    font_file: Callable[[], tuple[Path, int]] | None
    labels: dict[str, str]
    letters: str
    word_letters: tuple[int, int] = (3, 7)
    vertical: bool = False  # traditional Mongolian runs top to bottom
    syllable_mark: str = ""  # Tibetan's tsheg ends each syllable


def _label_set(*names: str) -> dict[str, str]:
    keys = ("name", "sex", "nation", "birth", "address", "number", "authority", "period",
            "title")  # fmt: skip
    return dict(zip(keys, names, strict=True))


SCRIPTS = {
    "uyghur": Script(
        "维吾尔", _arabic_font_file,
        _label_set("ئىسمى", "جىنسى", "مىللىتى", "تۇغۇلغان ۋاقتى", "ئادرېسى",
                   "كىملىك نومۇرى", "تارقاتقان ئورۇن", "كۈچكە ئىگە مۇددىتى",
                   "جۇڭخۇا خەلق جۇمھۇرىيىتى"),
        "ئابپتجچخدرزژسشغفقكگڭلمنھوۇۆۈۋېىي",
    ),
    "tibetan": Script(
        "藏", None,
        _label_set("མིང་།", "ཕོ་མོ།", "མི་རིགས།", "སྐྱེས་ཚེས།", "སྡོད་གནས།",
                   "ཐོབ་ཐང་ལག་ཁྱེར་ཨང་།", "སྤྲོད་མཁན།", "ནུས་ཡོད་དུས་ཚོད།",
                   "ཀྲུང་ཧྭ་མི་དམངས་སྤྱི་མཐུན་རྒྱལ་ཁབ།"),
        "ཀཁགངཅཆཇཉཏཐདནཔཕབམཙཚཛཝཞཟའཡརལཤསཧཨ", (1, 3), syllable_mark="་",
    ),
    "mongolian": Script(
        "蒙古", None,
        _label_set("ᠨᠡᠷ᠎ᠡ", "ᠬᠦᠢᠰᠦ", "ᠦᠨᠳᠦᠰᠦᠲᠡᠨ", "ᠲᠥᠷᠥᠭᠰᠡᠨ", "ᠰᠠᠭᠤᠭ᠎ᠠ ᠭᠠᠵᠠᠷ",
                   "ᠢᠷᠭᠡᠨ ᠦ ᠨᠣᠮᠧᠷ", "ᠣᠯᠭᠣᠭᠰᠠᠨ ᠭᠠᠵᠠᠷ", "ᠬᠦᠴᠦᠨ ᠲᠡᠢ ᠬᠤᠭᠤᠴᠠᠭ᠎ᠠ",
                   "ᠪᠦᠭᠦᠳᠡ ᠨᠠᠶᠢᠷᠠᠮᠳᠠᠬᠤ ᠳᠤᠮᠳᠠᠳᠤ ᠠᠷᠠᠳ ᠣᠯᠠᠨ ᠢᠯᠠᠰ"),
        "ᠠᠡᠢᠣᠤᠥᠦᠨᠪᠫᠬᠭᠮᠯᠰᠱᠲᠳᠴᠵᠶᠷᠸ", vertical=True,
    ),
    "yi": Script(
        "彝", None,
        _label_set("ꂓꂿ", "ꁱꃀ", "ꊿꋍ", "ꄿꁧ", "ꀋꄮ", "ꇁꂷꉘꎭ", "ꈭꀋꆈ", "ꏢꈌꄮ",
                   "ꍏꉸꏓꂱꋧꄉꉻꏟ"),
        "".join(chr(c) for c in range(0xA000, 0xA48C, 7)), (1, 3),
    ),
    "korean": Script(
        "朝鲜", card_font_file,
        _label_set("성명", "성별", "민족", "출생", "주소", "공민신분번호", "발급기관",
                   "유효기간", "중화인민공화국"),
        "".join(chr(c) for c in range(0xAC00, 0xD7A4, 97)), (2, 4),
    ),
    "zhuang": Script(
        "壮", card_font_file,
        _label_set("Singqmingz", "Singqbied", "Minzcuz", "Seng", "Dieghyouq",
                   "Gunghminz ndangfaenh hauhmaj", "Gihgvanh fatcingq", "Geizhanh mizyauq",
                   "Cunghvaz Yinzminz Gunghozgoz"),
        "abcdefghijklmnoprstuwyzqjx", (3, 8),
    ),
}  # fmt: skip


def script_drawable(script_name: str) -> bool:
    """Whether some Python package ships a font for this script (installed or not)."""
    return SCRIPTS[script_name].font_file is not None


@cache
def _script_font(script_name: str, size_px: int) -> ImageFont.FreeTypeFont:
    script = SCRIPTS[script_name]
    if script.font_file is None:
        raise FontMissingError(
            f"no Python package ships a font for the {script_name} script: "
            f"draw the {script.nation} card without script="
        )
    path, index = script.font_file()
    return ImageFont.truetype(str(path), size_px, index=index)


def _script_words(script: Script, rng: random.Random, words: int) -> str:
    """A line of made-up words in ``script`` (stands for a transliterated value)."""
    out = []
    for _ in range(words):
        count = rng.randint(*script.word_letters)
        word = "".join(rng.choice(script.letters) for _ in range(count))
        out.append(word + script.syllable_mark if script.syllable_mark else word)
    return ("" if script.syllable_mark else " ").join(out)


def _script_text(
    canvas: "_Canvas", script_name: str, xy: tuple[float, float], text: str, size: float,
    *, right_edge: float | None = None, max_width: float | None = None,
) -> None:  # fmt: skip
    """Draw minority-script ``text`` at ``xy`` (or ending at ``right_edge``), shaped.

    Vertical scripts are drawn as a column: the line turned a quarter clockwise.
    """
    script = SCRIPTS[script_name]
    font = _script_font(script_name, max(6, canvas.px(size)))
    if max_width is not None:
        while font.size > 6 and font.getlength(text) > canvas.px(max_width):
            font = _script_font(script_name, font.size - 1)
    left, top, right, bottom = font.getbbox(text)
    tile = Image.new("L", (max(1, right) + 2, max(1, bottom) + 2), 0)
    ImageDraw.Draw(tile).text((0, 0), text, font=font, fill=255)
    if script.vertical:
        tile = tile.rotate(-90, expand=True)
    x, y = canvas.px(xy[0]), canvas.px(xy[1])
    if right_edge is not None:
        x = canvas.px(right_edge) - tile.width
    ink = Image.new("RGB", tile.size, LABEL_RGB)
    canvas.image.paste(ink, (x, y), tile)


#: Portrait box on the front, in base coordinates (the real photo sits right of centre).
PORTRAIT_BOX = (576.0, 62.0, 796.0, 332.0)
LABEL_SIZE = 24.0
VALUE_SIZE = 31.0
NUMBER_SIZE = 34.0
LABEL_X = 62.0
VALUE_X = 150.0


def draw_front(
    person: Person, *, width: int = BASE_WIDTH, script: str | None = None,
    inline_labels: bool = False, birth_printed: tuple[str, str, str] | None = None,
    face: str = DEFAULT_FACE,
) -> tuple[Image.Image, tuple[int, int, int, int]]:  # fmt: skip
    """Draw the portrait side (人像面); return the RGB image and the portrait's pixel box.

    With ``script`` (a key of ``SCRIPTS``) the card is bilingual: each label and the
    name and address are also printed in that script, above the Chinese (or, with
    ``inline_labels``, the labels just left of the Chinese ones). ``birth_printed``
    (year, month, day) prints a birth date no ``date`` holds (a 30 February). ``face``
    (a key of ``CARD_FACES``) draws the Chinese labels and values.
    """
    canvas = _Canvas(width, face)
    if script is not None:
        _draw_front_script(canvas, person, script, inline_labels)

    def label(y: float, text: str, x: float = LABEL_X) -> float:
        # Labels sit a little lower than values so their baselines line up.
        return canvas.text((x, y + 5), text, LABEL_SIZE, LABEL_RGB, spacing=10)

    def value(x: float, y: float, text: str) -> float:
        return canvas.text((x, y), text, VALUE_SIZE, VALUE_RGB)

    label(58, "姓名")
    value(VALUE_X, 54, person.name)

    label(122, "性别")
    value(VALUE_X, 118, person.sex)
    label(122, "民族", x=262)
    value(350, 118, person.nation)

    label(186, "出生")
    year, month, day = birth_printed or (
        f"{person.birth.year}", f"{person.birth.month}", f"{person.birth.day}")
    x = value(VALUE_X, 182, year)
    x = label(186, "年", x=x + 8)
    x = value(x + 14, 182, month)
    x = label(186, "月", x=x + 8)
    x = value(x + 14, 182, day)
    label(186, "日", x=x + 8)

    label(250, "住址")
    lines = _wrap(canvas, person.address, VALUE_SIZE, PORTRAIT_BOX[0] - 20 - VALUE_X)
    if len(lines) > 3:
        raise ValueError(f"address does not fit on three lines: {person.address!r}")
    for i, line in enumerate(lines):
        value(VALUE_X, 246 + 42 * i, line)

    canvas.text((LABEL_X, 446), "公民身份号码", LABEL_SIZE, LABEL_RGB, spacing=4)
    canvas.text((262, 438), person.number, NUMBER_SIZE, VALUE_RGB, spacing=4)

    _draw_silhouette(canvas, PORTRAIT_BOX)
    return canvas.finish(), canvas.box(*PORTRAIT_BOX)


def _star(cx: float, cy: float, radius: float, rotation_deg: float = -90.0) -> list[float]:
    """The ten points of a five-pointed star, flattened, in base coordinates."""
    points: list[float] = []
    for i in range(10):
        r = radius if i % 2 == 0 else radius * 0.382
        angle = math.radians(rotation_deg + 36 * i)
        points += [cx + r * math.cos(angle), cy + r * math.sin(angle)]
    return points


def _draw_emblem(canvas: _Canvas, cx: float, cy: float, radius: float) -> None:
    """A placeholder for the national emblem: red disc, gold ring, five stars, a gate."""
    draw = canvas.draw

    def scaled(points: Sequence[float]) -> list[int]:
        return [canvas.px(p) for p in points]

    draw.ellipse(canvas.box(cx - radius, cy - radius, cx + radius, cy + radius),
                 fill=EMBLEM_GOLD_RGB)  # fmt: skip
    inner = radius * 0.88
    draw.ellipse(canvas.box(cx - inner, cy - inner, cx + inner, cy + inner), fill=EMBLEM_RED_RGB)
    draw.polygon(scaled(_star(cx - 0.34 * radius, cy - 0.42 * radius, 0.22 * radius)),
                 fill=EMBLEM_GOLD_RGB)  # fmt: skip
    for dx, dy in ((-0.02, -0.66), (0.14, -0.50), (0.16, -0.28), (0.02, -0.14)):
        draw.polygon(scaled(_star(cx + dx * radius, cy + dy * radius, 0.08 * radius)),
                     fill=EMBLEM_GOLD_RGB)  # fmt: skip

    # The gate: a roof, a wall with three doors, a base (offsets in units of the radius).
    def rect(dx0: float, dy0: float, dx1: float, dy1: float, fill: tuple[int, int, int]) -> None:
        draw.rectangle(
            canvas.box(cx + dx0 * radius, cy + dy0 * radius, cx + dx1 * radius, cy + dy1 * radius),
            fill=fill,
        )

    roof = [(-0.50, 0.12), (0.50, 0.12), (0.40, 0.02), (-0.40, 0.02)]
    draw.polygon(scaled([v for dx, dy in roof for v in (cx + dx * radius, cy + dy * radius)]),
                 fill=EMBLEM_GOLD_RGB)  # fmt: skip
    rect(-0.40, 0.12, 0.40, 0.38, EMBLEM_GOLD_RGB)
    for dx in (-0.22, 0.0, 0.22):
        rect(dx - 0.05, 0.22, dx + 0.05, 0.38, EMBLEM_RED_RGB)
    rect(-0.58, 0.42, 0.58, 0.52, EMBLEM_GOLD_RGB)


def _draw_wall(canvas: _Canvas) -> None:
    """A faint Great Wall ridge line across the middle, as on the real back."""
    points = [(190 + 40 * i, 300 - 38 * math.sin(i * 0.9) - 4 * i) for i in range(15)]
    canvas.draw.line([(canvas.px(x), canvas.px(y)) for x, y in points],
                     fill=(196, 204, 210), width=canvas.px(6), joint="curve")  # fmt: skip
    for x, y in points[3::4]:
        canvas.draw.rectangle(canvas.box(x - 12, y - 40, x + 12, y), fill=(200, 208, 214))


def _draw_front_script(canvas: _Canvas, person: Person, script_name: str, inline: bool) -> None:
    """The minority-script half of a bilingual front."""
    script = SCRIPTS[script_name]
    rng = random.Random(f"{person.number}{script_name}")
    label_rows = (("name", 58), ("sex", 122), ("birth", 186), ("address", 250), ("number", 446))
    for key, y in label_rows:
        text = script.labels[key]
        if script.vertical:
            # A Mongolian column left of the Chinese label.
            _script_text(canvas, script_name, (LABEL_X - 30, y - 18), text, 15, max_width=60)
        elif inline:
            _script_text(canvas, script_name, (0, y + 8), text, 14, right_edge=LABEL_X - 4,
                         max_width=LABEL_X - 16)  # fmt: skip
        else:
            _script_text(canvas, script_name, (LABEL_X, y - 20), text, 14, max_width=84)
    if not script.vertical:
        _script_text(canvas, script_name, (262, 100), script.labels["nation"], 14, max_width=84)
    value_lines = ((54, 2), (226, 4))  # a name line, an address line, above the Chinese
    for y, words in value_lines:
        line = _script_words(script, rng, words)
        if script.vertical:
            _script_text(canvas, script_name, (PORTRAIT_BOX[0] - 24, y - 40), line, 16,
                         max_width=110)  # fmt: skip
        else:
            _script_text(canvas, script_name, (VALUE_X, y - 24 if y == 54 else y - 5), line, 16,
                         max_width=PORTRAIT_BOX[0] - 30 - VALUE_X)  # fmt: skip


def draw_back(
    person: Person, *, width: int = BASE_WIDTH, script: str | None = None,
    period_printed: str | None = None, face: str = DEFAULT_FACE,
) -> Image.Image:
    """Draw the national-emblem side (国徽面) as an RGB image (bilingual with ``script``);
    ``period_printed`` prints a period of validity no dates hold (``2019.02.30-...``);
    ``face`` (a key of ``CARD_FACES``) draws the Chinese text."""
    canvas = _Canvas(width, face)
    if script is not None:
        _draw_back_script(canvas, person, script)
    _draw_wall(canvas)
    _draw_emblem(canvas, 142, 132, 86)
    canvas.text((272, 62), "中华人民共和国", 44, VALUE_RGB, spacing=12, bold=True)
    canvas.text((262, 150), "居民身份证", 62, VALUE_RGB, spacing=30, bold=True)
    canvas.text((200, 384), "签发机关", LABEL_SIZE, VALUE_RGB, spacing=4)
    canvas.text((350, 378), person.authority, VALUE_SIZE, VALUE_RGB)
    canvas.text((200, 444), "有效期限", LABEL_SIZE, VALUE_RGB, spacing=4)
    canvas.text((350, 438), period_printed or timelimit_printed(person), VALUE_SIZE, VALUE_RGB)
    return canvas.finish()


def _draw_back_script(canvas: _Canvas, person: Person, script_name: str) -> None:
    """The minority-script half of a bilingual back: title, labels, the office's name."""
    script = SCRIPTS[script_name]
    rng = random.Random(f"{person.number}{script_name}back")
    _script_text(canvas, script_name, (272, 116), script.labels["title"], 22, max_width=520)
    if script.vertical:
        _script_text(canvas, script_name, (160, 330), script.labels["authority"], 15,
                     max_width=110)  # fmt: skip
        return
    _script_text(canvas, script_name, (200, 360), script.labels["authority"], 14, max_width=140)
    _script_text(canvas, script_name, (200, 420), script.labels["period"], 14, max_width=140)
    _script_text(canvas, script_name, (350, 352), _script_words(script, rng, 3), 17,
                 max_width=440)  # fmt: skip


def copy_stamp(
    image: Image.Image, text: str, *, center: tuple[float, float], angle_deg: float,
    rgb: tuple[int, int, int] = (200, 40, 40), size_px: int | None = None,
    framed: bool = True, opacity_percent: int = 60,
) -> Image.Image:  # fmt: skip
    """``image`` with an ink stamp such as 复印无效 pressed on it (half-transparent).

    ``framed``: a rubber stamp's rectangle around the text (False: a watermark's bare
    text, such as 仅供…使用); ``opacity_percent``: how much of what is under the ink it
    covers.
    """
    size_px = size_px or max(10, image.width // 18)
    font = card_font(size_px)
    pad = size_px // 3
    width = int(font.getlength(text) + 2 * pad + size_px * 0.2 * (len(text) - 1))
    tile = Image.new("L", (width, size_px + 3 * pad), 0)
    draw = ImageDraw.Draw(tile)
    x = pad
    for char in text:
        draw.text((x, pad), char, font=font, fill=255)
        x += font.getlength(char) + size_px * 0.2
    if framed:
        draw.rectangle((1, 1, tile.width - 2, tile.height - 2), outline=255,
                       width=max(1, size_px // 10))  # fmt: skip
    tile = tile.rotate(angle_deg, expand=True, resample=Image.Resampling.BICUBIC)
    alpha = tile.point(lambda v: v * opacity_percent // 100)
    out = image.convert("RGB")
    ink = Image.new("RGB", tile.size, rgb)
    out.paste(ink, (int(center[0] - tile.width / 2), int(center[1] - tile.height / 2)), alpha)
    return out


def draw_not_a_card(width: int = 800, height: int = 500) -> Image.Image:
    """A landscape (sky, sun, mountains, lake): a picture with no card in it."""
    sky = Image.linear_gradient("L").resize((width, height))
    image = Image.composite(
        Image.new("RGB", (width, height), (250, 214, 170)),
        Image.new("RGB", (width, height), (96, 150, 214)),
        sky,
    )
    draw = ImageDraw.Draw(image)
    draw.ellipse((560, 70, 660, 170), fill=(255, 236, 150))
    draw.polygon([(0, 330), (150, 170), (290, 300), (420, 150), (600, 320), (800, 210),
                  (800, 360), (0, 360)], fill=(92, 112, 128))  # fmt: skip
    draw.polygon([(0, 360), (120, 280), (260, 350), (470, 260), (800, 340), (800, 380),
                  (0, 380)], fill=(60, 98, 80))  # fmt: skip
    draw.rectangle((0, 380, width, height), fill=(70, 120, 170))
    for y in range(395, height, 14):
        draw.line([(40 + (y * 37) % 300, y), (140 + (y * 37) % 300, y)], fill=(140, 180, 214))
    return image


# --------------------------------------------------------------------------- sample set


@dataclass(frozen=True)
class CardFile:
    """One card image to write: who, which side, file name and how it is saved."""

    person_key: str
    side: str  # "front" or "back"
    file_name: str
    width: int = BASE_WIDTH


def _fixed_people(rng: random.Random) -> dict[str, Person]:
    """The people of the sample set, chosen to cover the cases the tests need."""

    def person(
        name: str, sex: str, nation: str, birth: date, region: Region, street: str,
        valid_from: date, valid_to: date | None,
    ) -> Person:  # fmt: skip
        return Person(
            name=name, sex=sex, nation=nation, birth=birth,
            address=f"{region.province}{region.city}{region.district}{street}",
            number=make_number(region.area_code, birth, sex, rng),
            authority=region.authority, valid_from=valid_from, valid_to=valid_to,
        )  # fmt: skip

    by_code = {region.area_code: region for region in REGIONS}
    return {
        # 20-year card, short address.
        "zhangsan": person("张三", "男", "汉", date(1990, 10, 9), by_code["360113"],
                           "丰和中大道1001号", date(2018, 7, 27), date(2038, 7, 27)),
        # Expired: a 10-year card that ran out in 2025.
        "lixiaohong": person("李小红", "女", "汉", date(1998, 3, 5), by_code["440106"],
                             "天河北路233号", date(2015, 3, 1), date(2025, 3, 1)),
        # Open-ended (长期) card, long address on two lines, one-digit month.
        "wangli": person("王丽", "女", "汉", date(1961, 9, 21), by_code["310115"],
                         "张江镇碧波路690弄12号402室", date(2015, 3, 1), None),
        # Minority nation, transliterated name with a middle dot, two-line address.
        "ayiguli": person("阿依古丽·买买提", "女", "维吾尔", date(1988, 12, 1),
                          by_code["650102"], "解放南路88号", date(2016, 5, 12),
                          date(2036, 5, 12)),
        # A child's 5-year card; compound surname.
        "ouyangming": person("欧阳明", "男", "汉", date(2012, 2, 14), by_code["110105"],
                             "建国路88号院3号楼1单元501", date(2022, 2, 20), date(2027, 2, 20)),
    }  # fmt: skip


#: Every format at least once, three naming conventions, one upper-case extension.
#: The BMP is drawn narrower: even as an 8-bit palette BMP it is stored uncompressed.
CARD_FILES = (
    CardFile("zhangsan", "front", "zhangsan_front.jpg"),
    CardFile("zhangsan", "back", "zhangsan_back.png"),
    CardFile("lixiaohong", "front", "lixiaohong_front.bmp", width=640),
    CardFile("lixiaohong", "back", "lixiaohong_back.gif"),
    CardFile("wangli", "front", "wangli-正.png"),
    CardFile("wangli", "back", "wangli-反.tif"),
    CardFile("ayiguli", "front", "ayiguli_front.tiff"),
    CardFile("ayiguli", "back", "ayiguli_back.jpeg"),
    CardFile("ouyangming", "front", "ouyangming-front.gif"),
    CardFile("ouyangming", "back", "ouyangming-back.JPG"),
)


def encode_image(image: Image.Image, file_name: str) -> bytes:
    """The file bytes for ``image`` in the format its extension names, reproducibly.

    No EXIF, no timestamps, fixed JPEG quality; palette formats (GIF, BMP, TIFF) are
    quantised to 256 colours, which keeps text crisp and the files small.
    """
    suffix = Path(file_name).suffix.lower()
    buffer = io.BytesIO()
    if suffix in (".jpg", ".jpeg"):
        image.convert("RGB").save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif suffix == ".png":
        image.convert("RGB").save(buffer, "PNG", optimize=True)
    elif suffix in (".gif", ".bmp", ".tif", ".tiff"):
        # Median-cut quantisation without dithering is deterministic and keeps flat areas flat.
        paletted = image.convert("RGB").quantize(colors=256, dither=Image.Dither.NONE)
        if suffix == ".gif":
            paletted.save(buffer, "GIF", optimize=False)
        elif suffix == ".bmp":
            paletted.save(buffer, "BMP")
        else:
            paletted.save(buffer, "TIFF", compression="tiff_lzw")
    else:
        raise ValueError(f"no encoder for {file_name!r}")
    return buffer.getvalue()


def front_fixture(person: Person, order_no: str) -> dict[str, object]:
    """The API's ``data`` for a front, with exactly what :func:`draw_front` prints."""
    return {
        "order_no": order_no,
        "result": 0,
        "side": "front",
        "info": {
            "name": person.name,
            "sex": person.sex,
            "nation": person.nation,
            "year": str(person.birth.year),
            # The API gives month and day without zero padding ("9"), as the card prints them.
            "month": str(person.birth.month),
            "day": str(person.birth.day),
            "address": person.address,
            "number": person.number,
        },
        "validity": {"name": True, "sex": True, "birthday": True, "address": True, "number": True},
        "image_url": None,
    }


def back_fixture(person: Person, order_no: str) -> dict[str, object]:
    """The API's ``data`` for a back; ``timelimit`` in the API's compact form."""
    return {
        "order_no": order_no,
        "result": 0,
        "side": "back",
        "info": {"authority": person.authority, "timelimit": timelimit_api(person)},
        "validity": {"authority": True, "timelimit": True},
        "image_url": None,
    }


# --------------------------------------------------------------------- document pages

#: A4 at the resolution copy shops scan at: 210 x 297 mm at 200 dpi. A card (85.6 mm)
#: on it is 674 px wide.
PAGE_DPI = 200
PAGE_SIZE_PX = (round(210 / 25.4 * PAGE_DPI), round(297 / 25.4 * PAGE_DPI))
PAGE_CARD_WIDTH_PX = round(85.6 / 25.4 * PAGE_DPI)
#: Grey of the copier's paper and how much toner dust it adds.
PAGE_PAPER_GREY = 236
PAGE_SPECKS = 900


def draw_photocopy_page(person: Person, rng: random.Random) -> Image.Image:
    """An A4 photocopy (身份证复印件): the front above the back, in grey, slightly dusty.

    What back offices keep and scan to PDF or TIFF (docs/documents.md). Greyscale
    ("L"), ``PAGE_SIZE_PX``; the cards sit near the top at their real size, a little off
    centre and a little apart, as a copier operator places them.
    """
    page = Image.new("L", PAGE_SIZE_PX, PAGE_PAPER_GREY)
    front, _ = draw_front(person, width=PAGE_CARD_WIDTH_PX)
    back = draw_back(person, width=PAGE_CARD_WIDTH_PX)
    left = (PAGE_SIZE_PX[0] - PAGE_CARD_WIDTH_PX) // 2 + rng.randint(-40, 40)
    top = 180 + rng.randint(-30, 30)
    for card in (front, back):
        # A copier darkens the card's pale background: map it below the paper's grey.
        grey = card.convert("L").point(lambda value: int(value * 0.88))
        page.paste(grey, (left + rng.randint(-12, 12), top))
        top += grey.height + 120 + rng.randint(-20, 20)
    draw = ImageDraw.Draw(page)
    for _ in range(PAGE_SPECKS):
        x, y = rng.randrange(PAGE_SIZE_PX[0]), rng.randrange(PAGE_SIZE_PX[1])
        draw.point((x, y), fill=rng.randint(90, 180))
    return page


def save_pages_pdf(pages: Sequence[Image.Image], path: Path, *, append: bool = False) -> None:
    """A scanner's PDF: each page one JPEG filling an A4 page; ``append`` adds pages.

    Appending writes an incremental update after the existing bytes, as a scanner that
    adds to a daily file does. Fixed dates keep the file reproducible.
    """
    first, *rest = pages
    first.save(path, "PDF", save_all=True, append_images=rest, append=append,
               resolution=PAGE_DPI, quality=JPEG_QUALITY,
               creationDate=_FIXED_PDF_DATE, modDate=_FIXED_PDF_DATE)


def save_pages_tiff(pages: Sequence[Image.Image], path: Path) -> None:
    """A multi-page TIFF, one frame per page, losslessly compressed."""
    first, *rest = pages
    first.save(path, "TIFF", save_all=True, append_images=rest, compression="tiff_deflate",
               dpi=(PAGE_DPI, PAGE_DPI))


_FIXED_PDF_DATE = time.gmtime(1718096400)  # 2024-06-11, as Pillow takes dates


def page_truth(person: Person) -> dict[str, object]:
    """What a page drawn for ``person`` holds: both sides' fields, as the API gives them."""
    return {"front": front_fixture(person, "")["info"],
            "back": back_fixture(person, "")["info"]}


def write_documents(out_dir: Path, *, seed: int = SEED) -> list[str]:
    """Write ``copies.pdf`` (3 pages) and ``copies.tiff`` (2 pages) and their truths.

    Each page is one random person's photocopy (:func:`draw_photocopy_page`);
    ``documents.jsonl`` says, per file and 1-based page, whose card it is. Returns the
    names written. Not part of the default sample folder: runs over ``samples/`` and
    their fixtures stay as they are.
    """
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    truths: list[str] = []
    written: list[str] = []
    for file_name, count in (("copies.pdf", 3), ("copies.tiff", 2)):
        people = [make_person(rng) for _ in range(count)]
        pages = [draw_photocopy_page(person, rng) for person in people]
        if file_name.endswith(".pdf"):
            save_pages_pdf(pages, out_dir / file_name)
        else:
            save_pages_tiff(pages, out_dir / file_name)
        written.append(file_name)
        for number, person in enumerate(people, start=1):
            truths.append(json.dumps({"file": file_name, "page": number, **page_truth(person)},
                                     ensure_ascii=False, sort_keys=True))
    (out_dir / "documents.jsonl").write_text("\n".join(truths) + "\n", encoding="utf-8")
    return [*written, "documents.jsonl"]


# --------------------------------------------------------------------------- pages of cards
#
# What back offices really hold (docs/documents.md): a 身份证复印件, one A4 page with the
# front above the back, often grey and stamped 复印无效 across the text; pages with two
# people's cards; a phone photo of an ID card beside a bank card. Each page comes with
# the rows batch-ocr must make of it (:func:`card_page_rows`).

#: A4 portrait (210 x 297 mm) and the card's width (85.6 mm), in millimetres.
A4_MM = (210.0, 297.0)
CARD_MM = 85.6
#: Resolution pages are drawn at: a copy shop's scan; a card is then 674 px wide.
CARD_PAGE_DPI = 200
COPY_PAPER_RGB = (246, 246, 244)
STAMP_RED_RGB = (214, 40, 48)
#: Stamps and watermarks copies carry (none of them may ever end up in a field).
STAMP_TEXT = "复印无效"
WATERMARKS = ("仅限办理入职手续使用", "仅供银行开户使用", "仅限本次核验使用")
#: A made-up bank (no real bank's name or number range).
BANK_NAME = "示例银行"


def _mm_to_px(mm: float, dpi: int) -> int:
    return round(mm / 25.4 * dpi)


def draw_bank_card(rng: random.Random, *, width: int = BASE_WIDTH) -> Image.Image:
    """A made-up bank card (ID-1, like the ID card): a card of another kind, never a row."""
    height = round(width * BASE_HEIGHT / BASE_WIDTH)
    scale = width / BASE_WIDTH
    top = Image.new("RGB", (width, height), (24, 62, 128))
    bottom = Image.new("RGB", (width, height), (40, 120, 170))
    image = Image.composite(top, bottom, Image.linear_gradient("L").resize((width, height)))
    draw = ImageDraw.Draw(image)

    def font(size: float) -> ImageFont.FreeTypeFont:
        return card_font(max(6, round(size * scale)))

    def at(x: float, y: float) -> tuple[int, int]:
        return round(x * scale), round(y * scale)

    draw.text(at(60, 40), BANK_NAME, font=font(56), fill=(255, 255, 255))
    draw.text(at(60, 110), "EXAMPLE BANK  借记卡", font=font(26), fill=(220, 230, 245))
    draw.rounded_rectangle((*at(70, 190), *at(170, 265)), radius=round(10 * scale),
                           fill=(222, 190, 96))  # fmt: skip
    digits = "6" + "".join(str(rng.randrange(10)) for _ in range(15))
    number = " ".join(digits[i : i + 4] for i in range(0, 16, 4))
    draw.text(at(70, 320), number, font=font(54), fill=(250, 250, 250))
    expiry = f"{rng.randint(1, 12):02d}/{rng.randint(27, 35)}"
    draw.text(at(330, 400), f"VALID THRU {expiry}", font=font(26), fill=(230, 236, 245))
    draw.text(at(70, 460), "ZHANG WEI", font=font(28), fill=(230, 236, 245))
    draw.rectangle((*at(640, 420), *at(800, 510)), fill=(250, 250, 250))
    draw.text(at(655, 430), "银联", font=font(34), fill=(200, 30, 36))
    draw.text(at(655, 472), "UnionPay", font=font(22), fill=(20, 60, 120))
    mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, width - 1, height - 1),
                                           radius=round(30 * scale), fill=255)  # fmt: skip
    out = Image.new("RGB", (width, height), OUTSIDE_RGB)
    out.paste(image, (0, 0), mask)
    return out


def _stamp_box(text: str, height_px: int, colour: tuple[int, int, int]) -> Image.Image:
    """A rubber stamp: ``text`` in a rectangle, on a transparent RGBA tile."""
    font = card_font(height_px)
    width = round(font.getlength(text)) + height_px
    tile = Image.new("RGBA", (width, round(height_px * 1.6)), (0, 0, 0, 0))
    draw = ImageDraw.Draw(tile)
    ink = (*colour, 215)
    line = max(2, height_px // 10)
    draw.rectangle((0, 0, tile.width - 1, tile.height - 1), outline=ink, width=line)
    draw.text((height_px // 2, round(height_px * 0.25)), text, font=font, fill=ink)
    return tile


def stamp_card(card: Image.Image, side: str, rng: random.Random, *, watermark: str,
               colour: tuple[int, int, int], nation: str = "") -> Image.Image:  # fmt: skip
    """``card`` with a 复印无效 stamp across a text row and a 仅限…使用 watermark in a corner.

    On the front the stamp sits on the sex/nation row, right of the nation (so the
    recogniser reads it on the same row as the nation, as real copies make it); on the
    back it sits between the title and the issuing authority.
    """
    out = card.convert("RGBA")
    scale = card.width / BASE_WIDTH
    stamp = _stamp_box(STAMP_TEXT, round(34 * scale), colour)
    stamp = stamp.rotate(rng.uniform(-4, 4), expand=True, resample=Image.Resampling.BICUBIC)
    if side == "front":
        # Just right of the nation, on its row (where real copies put it, 蒙古印无效).
        x = 350 + card_font(31).getlength(nation) + rng.uniform(12, 24)
        y = 104 + rng.uniform(-4, 4)
    else:
        x, y = 240 + rng.uniform(0, 60), 262 + rng.uniform(-6, 6)
    out.alpha_composite(stamp, (round(x * scale), round(y * scale)))
    mark = Image.new("RGBA", out.size, (0, 0, 0, 0))
    mark_font = card_font(max(6, round(20 * scale)))
    ImageDraw.Draw(mark).text((round(24 * scale), round(14 * scale)), watermark,
                              font=mark_font, fill=(*colour, 200))  # fmt: skip
    out.alpha_composite(mark)
    return out.convert("RGB")


def _rounded_mask(size: tuple[int, int], radius: int) -> Image.Image:
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, size[0] - 1, size[1] - 1), radius=radius,
                                           fill=255)  # fmt: skip
    return mask


def _place(page: Image.Image, card: Image.Image, centre: tuple[float, float],
           angle_deg: float) -> None:  # fmt: skip
    """Paste ``card`` (rounded corners cut away) turned by ``angle_deg`` at ``centre``."""
    mask = _rounded_mask(card.size, round(30 * card.width / BASE_WIDTH))
    turned = card.rotate(angle_deg, expand=True, resample=Image.Resampling.BICUBIC)
    turned_mask = mask.rotate(angle_deg, expand=True, resample=Image.Resampling.BICUBIC)
    page.paste(turned, (round(centre[0] - turned.width / 2), round(centre[1] - turned.height / 2)),
               turned_mask)  # fmt: skip


@dataclass(frozen=True)
class PageCard:
    """One card on a page: a side of a person's ID card, or a bank card (person None)."""

    kind: str  # "front", "back" or "bank"
    person: Person | None = None
    upside_down: bool = False
    #: How much lighter than the card the copier printed it, 0 to 1 (an ID-copy mode
    #: exposes each side on its own pass, so the back may come out paler than the front).
    washed_out: float = 0.0


@dataclass(frozen=True)
class CardPage:
    """How one page is drawn: its cards in reading order and how it was copied."""

    name: str
    cards: tuple[PageCard, ...]
    columns: int = 1
    grey: bool = True
    stamps: bool = True
    #: Quarter turns of the whole page (a page scanned sideways or upside down).
    page_turns: int = 0
    #: A desk photo instead of an A4 copy (the ID card beside a bank card).
    desk: bool = False
    #: Space between rows of cards, as a share of a card's height (a copier operator
    #: leaves about half a card; some leave a finger's width).
    row_gap: float = 0.45
    #: The scanner's edge: the lid's shadow along the top and left of the scan and a
    #: light line along the bottom and right, as flatbed scans of copies show it.
    scan_edge: bool = False


def draw_card_page(page: CardPage, rng: random.Random, *, dpi: int = CARD_PAGE_DPI
                   ) -> Image.Image:  # fmt: skip
    """Draw ``page``: cards at their real size on A4 (or on a desk), as a scan shows them."""
    card_width = _mm_to_px(CARD_MM, dpi)
    watermark = rng.choice(WATERMARKS)
    colour = (70, 70, 70) if page.grey else STAMP_RED_RGB
    images = []
    for placed in page.cards:
        if placed.kind == "bank":
            card = draw_bank_card(rng, width=card_width)
        elif placed.kind == "front":
            assert placed.person is not None
            card = draw_front(placed.person, width=card_width)[0]
        else:
            assert placed.person is not None
            card = draw_back(placed.person, width=card_width)
        if page.stamps and placed.kind != "bank":
            nation = placed.person.nation if placed.person else ""
            card = stamp_card(card, placed.kind, rng, watermark=watermark, colour=colour,
                              nation=nation)
        if placed.washed_out:
            kept = 1 - placed.washed_out
            card = card.point(lambda v, kept=kept: round(255 - (255 - v) * kept))
        images.append(card.rotate(180) if placed.upside_down else card)

    rows = math.ceil(len(images) / page.columns)
    if page.desk:
        size = (round(card_width * (page.columns * 1.25 + 0.3)),
                round(card_width * 0.63 * (rows + 0.9)))  # fmt: skip
        image = Image.new("RGB", size, (96, 84, 72))
    else:
        size = (_mm_to_px(A4_MM[0], dpi), _mm_to_px(A4_MM[1], dpi))
        image = Image.new("RGB", size, COPY_PAPER_RGB)
    cell_w = size[0] / page.columns
    card_h = images[0].height
    pitch = 1 + page.row_gap
    top = (size[1] - rows * card_h * pitch) / 2 if page.desk else _mm_to_px(30, dpi)
    for index, card in enumerate(images):
        row, column = divmod(index, page.columns)
        centre = (cell_w * (column + 0.5) + rng.uniform(-0.03, 0.03) * card_width,
                  top + card_h * (0.6 + pitch * row) + rng.uniform(-0.03, 0.03) * card_h)
        _place(image, card, centre, rng.uniform(-3.0, 3.0))

    if page.desk:
        noise = Image.effect_noise(size, 14).convert("RGB")
        image = Image.blend(image, noise, 0.08)
    if page.grey:
        # A copier: grey, a little darker and flatter, dusty.
        grey = image.convert("L").point(lambda v: int(30 + v * 0.8))
        draw = ImageDraw.Draw(grey)
        for _ in range(600):
            x, y = rng.randrange(size[0]), rng.randrange(size[1])
            draw.point((x, y), fill=rng.randint(80, 170))
        image = grey.convert("RGB")
    if page.page_turns:
        image = image.rotate(-90 * page.page_turns, expand=True)
    if page.scan_edge:
        image = _scan_edge(image)
    return image


#: Brightness of the first scan lines at the top and left edge, as a share of the page's
#: (measured on the dev set's scans: 88, 168, 188 on paper at 196), and of the last line.
SCAN_EDGE_SHADE = (0.45, 0.86, 0.96)
SCAN_EDGE_LIGHT = 1.05


def _scan_edge(image: Image.Image) -> Image.Image:
    """``image`` with a flatbed scanner's edge: lid shadow top and left, a light line
    bottom and right."""
    out = image.copy()
    width, height = out.size

    def scale(box: tuple[int, int, int, int], factor: float) -> None:
        out.paste(out.crop(box).point(lambda v: min(255, round(v * factor))), box[:2])

    for depth, shade in enumerate(SCAN_EDGE_SHADE):
        scale((depth, depth, width, depth + 1), shade)
        scale((depth, depth + 1, depth + 1, height), shade)
    scale((0, height - 1, width, height), SCAN_EDGE_LIGHT)
    scale((width - 1, 0, width, height - 1), SCAN_EDGE_LIGHT)
    return out


def card_page_rows(page: CardPage) -> list[dict[str, object]]:
    """The rows batch-ocr must make of ``page``: ``card``, ``side`` and the true fields.

    One front and one back of one person: one row, side ``both``. More ID card sides:
    one row each, numbered in reading order. Bank cards: no row (``not_id_card`` alone).
    """
    sides = [c for c in page.cards if c.kind != "bank"]
    if not sides:
        return [{"card": None, "side": "", "status": "not_id_card", "truth": {}}]
    if (len(sides) == 2 and {c.kind for c in sides} == {"front", "back"}
            and sides[0].person == sides[1].person):  # fmt: skip
        person = sides[0].person
        assert person is not None
        truth = {**side_truth(person, "front"), **side_truth(person, "back")}
        return [{"card": None, "side": "both", "status": "ok", "truth": truth}]
    numbered = len(sides) > 1
    return [
        {"card": n if numbered else None, "side": c.kind, "status": "ok",
         "truth": side_truth(c.person, c.kind)}  # type: ignore[arg-type]
        for n, c in enumerate(sides, start=1)
    ]  # fmt: skip


def side_truth(person: Person, side: str) -> dict[str, str]:
    """What one side prints, in plain forms (birth YYYY-MM-DD, timelimit as the API gives)."""
    if side == "front":
        return {"name": person.name, "sex": person.sex, "nation": person.nation,
                "birth": person.birth.isoformat(), "address": person.address,
                "number": person.number}  # fmt: skip
    return {"authority": person.authority, "timelimit": timelimit_api(person)}


def card_pages(rng: random.Random, count: int) -> list[CardPage]:
    """``count`` pages cycling through every layout (people drawn from ``rng``)."""
    pages = []
    for i in range(count):
        a, b = make_person(rng), make_person(rng)
        layout = i % 8
        front, back = PageCard("front", a), PageCard("back", a)
        if layout == 0:
            page = CardPage(f"copy-colour-{i:02d}", (front, back), grey=False)
        elif layout == 1:
            page = CardPage(f"copy-grey-back-upside-down-{i:02d}",
                            (front, PageCard("back", a, upside_down=True)))  # fmt: skip
        elif layout == 2:
            page = CardPage(f"copy-grey-sideways-{i:02d}", (front, back), page_turns=1)
        elif layout == 3:
            page = CardPage(f"copy-grey-upside-down-{i:02d}", (front, back), page_turns=2)
        elif layout == 4:
            page = CardPage(f"four-sides-{i:02d}", (front, back, PageCard("front", b),
                                                   PageCard("back", b)), columns=2)  # fmt: skip
        elif layout == 5:
            page = CardPage(f"two-fronts-{i:02d}", (front, PageCard("front", b)))
        elif layout == 6:
            page = CardPage(f"id-beside-bank-card-{i:02d}", (front, PageCard("bank")),
                            columns=2, grey=False, stamps=False, desk=True)  # fmt: skip
        else:
            page = CardPage(f"back-beside-bank-card-{i:02d}", (PageCard("bank"), back),
                            columns=2, grey=False, stamps=False, desk=True)  # fmt: skip
        pages.append(page)
    return pages


def write_card_pages(out_dir: Path, *, count: int = 8, seed: int = SEED) -> list[str]:
    """Write ``count`` pages (PNG, or JPEG for desk photos) and ``card_pages.jsonl``.

    Each line of ``card_pages.jsonl`` is a file and the rows it must give
    (:func:`card_page_rows`). Returns the file names written.
    """
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    lines, names = [], []
    for page in card_pages(rng, count):
        image = draw_card_page(page, rng)
        file_name = page.name + (".jpg" if page.desk else ".png")
        (out_dir / file_name).write_bytes(encode_image(image, file_name))
        names.append(file_name)
        lines.append(json.dumps({"file": file_name, "rows": card_page_rows(page)},
                                ensure_ascii=False, sort_keys=True))  # fmt: skip
    (out_dir / "card_pages.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [*names, "card_pages.jsonl"]


def main(out_dir: Path | None = None) -> int:
    """Write the sample set into ``out_dir`` (default: this script's folder).

    The cards go to ``cards/`` and the undecodable file to ``hostile/``, so that a run
    over ``cards/`` alone (the README's quick start) is clean and exits 0;
    ``fixtures.jsonl`` stays in ``out_dir`` and names each card relative to ``cards/``.
    """
    out_dir = out_dir or Path(__file__).resolve().parent
    cards_dir, hostile_dir = out_dir / "cards", out_dir / "hostile"
    cards_dir.mkdir(parents=True, exist_ok=True)
    hostile_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    try:
        people = _fixed_people(rng)
        fixtures: list[str] = []
        for card in CARD_FILES:
            person = people[card.person_key]
            order_no = str(rng.randrange(10**17, 10**18))
            portrait_box: tuple[int, int, int, int] | None = None
            if card.side == "front":
                image, portrait_box = draw_front(person, width=card.width)
                data = front_fixture(person, order_no)
            else:
                image = draw_back(person, width=card.width)
                data = back_fixture(person, order_no)
            payload = encode_image(image, card.file_name)
            (cards_dir / card.file_name).write_bytes(payload)
            record: dict[str, object] = {
                "sha256": hashlib.sha256(payload).hexdigest(),
                "file": card.file_name,
                "data": data,
            }
            if portrait_box is not None:
                record["portrait_box"] = list(portrait_box)
            fixtures.append(json.dumps(record, ensure_ascii=False, sort_keys=True))

        landscape = encode_image(draw_not_a_card(), "not_a_card.jpg")
        (cards_dir / "not_a_card.jpg").write_bytes(landscape)
        # The first 200 bytes of a real JPEG: a valid header, then nothing to decode.
        (hostile_dir / "broken.jpg").write_bytes(landscape[:200])
    except FontMissingError as exc:
        print(f"make_samples: {exc}", file=sys.stderr)
        return 1

    (out_dir / "fixtures.jsonl").write_text("\n".join(fixtures) + "\n", encoding="utf-8")
    for card in CARD_FILES:
        print(f"{card.file_name}: {people[card.person_key].name} {card.side}")
    return 0


if __name__ == "__main__":
    writers = {"--documents": write_documents, "--card-pages": write_card_pages}
    if sys.argv[1:2] and sys.argv[1] in writers and len(sys.argv) == 3:
        try:
            for name in writers[sys.argv[1]](Path(sys.argv[2])):
                print(name)
        except FontMissingError as exc:
            print(f"make_samples: {exc}", file=sys.stderr)
            sys.exit(1)
        sys.exit(0)
    sys.exit(main())
