"""The accuracy harness's sets of the pictures offices hold: copy pages and phone photos.

Registered in ``accuracy.GENERATED_SETS`` (``python tests/benchmarks/accuracy.py --set
copy_pages --set phone_photos``); the cards are drawn by ``samples/make_samples.py``
for random fictional people, and everything else here, so a seed gives the same set.

- ``copy_pages``: A4 photocopies of one person's card, the front above the back (now
  and then one side alone), grey or colour, a 复印无效 stamp over any field (name, sex,
  nation, birth date, address, ID number, authority, validity), the back or the whole
  page turned 180 degrees, cards tilted up to 10 degrees, blur, brightness and
  contrast of the copier; saved as PNG, JPEG or a PDF holding the JPEG. Some cards print
  a number that fails a rule (17 or 19 characters, a wrong check character) or a birth
  date that does not exist: their truth is what is printed.
- ``phone_photos``: photos of colour cards on a desk: perspective up to 20 degrees,
  a shadow, a glare spot, clutter beside the card (a bank card, a sheet of printed
  text, a pen, a cup), JPEG quality 65-92, 1,200 to 3,000 px on the long side; some
  photos hold a front and a back.

In both sets about a third of the cards are drawn in a bold face (Noto Sans CJK JP Bold,
with some Japanese glyph forms) instead of the regular one, each recorded as
``font-bold`` in its case's degradations (``accuracy.card_face``).
"""

from __future__ import annotations

import dataclasses
import io
import math
import random
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parents[1]))

import accuracy  # noqa: E402
from accuracy import Case  # noqa: E402

#: Where each field is printed, in the generator's base card (856 px wide): the centre
#: of a stamp pressed across it.
FIELD_SPOTS = {
    "name": (200, 72), "sex": (168, 136), "nation": (380, 136), "birth": (260, 200),
    "address": (330, 280), "number": (480, 456), "authority": (470, 398),
    "timelimit": (520, 458),
}  # fmt: skip
FRONT_SPOTS = ("name", "sex", "nation", "birth", "address", "number")
BACK_SPOTS = ("authority", "timelimit")
#: Bilingual templates the generator can draw with a font package (the others would
#: be Chinese only, as the ``bilingual`` set says).
SCRIPTS = ("uyghur", "korean", "zhuang")
#: How a copy page is saved, in turn.
PAGE_ENCODINGS = ("png", "jpeg75", "pdf-jpeg75", "jpeg85")


def _samples() -> ModuleType:
    return accuracy.load_make_samples()


# ------------------------------------------------------------------ what a card prints


def _misprinted(person: Any, rng: random.Random) -> tuple[Any, tuple[str, str, str] | None, str]:
    """``person`` as a card that fails a rule prints them, most often unchanged.

    Returns the person (number as printed), the birth date as printed when it is no
    date, and what was done (empty: a valid card).
    """
    samples = _samples()
    roll = rng.random()
    number = person.number
    if roll < 0.05:
        cut = rng.randrange(6, 17)
        return dataclasses.replace(person, number=number[:cut] + number[cut + 1:]), None, "n17"
    if roll < 0.10:
        at = rng.randrange(6, 17)
        longer = number[:at] + str(rng.randrange(10)) + number[at:]
        return dataclasses.replace(person, number=longer), None, "n19"
    if roll < 0.15:
        wrong = rng.choice([c for c in "0123456789X" if c != number[-1]])
        return dataclasses.replace(person, number=number[:-1] + wrong), None, "badcheck"
    if roll < 0.20:
        # 30 or 31 February, or 31 of a 30-day month; the number holds the same date
        # (and a right check character), as a forged or misprinted card would.
        month = rng.choice((2, 4, 6, 9, 11))
        day = rng.choice((30, 31)) if month == 2 else 31
        year = person.birth.year
        first17 = f"{number[:6]}{year}{month:02d}{day:02d}{number[14:17]}"
        person = dataclasses.replace(person, number=first17 + samples.id_check_char(first17))
        return person, (str(year), str(month), str(day)), f"nodate{month:02d}{day:02d}"
    return person, None, ""


def _truth(person: Any, side: str, birth: tuple[str, str, str] | None) -> dict[str, str]:
    truth = dict(_samples().side_truth(person, side))
    if birth is not None and side == "front":
        truth["birth"] = f"{birth[0]}-{int(birth[1]):02d}-{int(birth[2]):02d}"
    return truth


def _card(person: Any, side: str, width: int, birth: tuple[str, str, str] | None,
          script: str | None, face: str) -> Any:  # fmt: skip
    samples = _samples()
    if side == "front":
        return samples.draw_front(person, width=width, birth_printed=birth, script=script,
                                  face=face)[0]  # fmt: skip
    return samples.draw_back(person, width=width, script=script, face=face)


def _person(rng: random.Random) -> tuple[Any, tuple[str, str, str] | None, list[str], str | None]:
    """A person, as printed; the card's template script (None: Chinese only)."""
    samples = _samples()
    script = rng.choice(SCRIPTS) if rng.random() < 0.12 else None
    nation = samples.SCRIPTS[script].nation if script else None
    person = samples.make_person(rng, nation=nation, long_address=rng.random() < 0.25)
    person, birth, misprint = _misprinted(person, rng)
    applied = [a for a in (misprint, script) if a]
    return person, birth, applied, script


# ------------------------------------------------------------------------ copy pages


@dataclasses.dataclass(frozen=True)
class _Stamp:
    """What chance chose for a 复印无效 stamp across one field (offsets in base-card px)."""

    target: str
    rgb: tuple[int, int, int]
    text: str
    dx: float
    dy: float
    angle_deg: float
    size: float
    framed: bool
    opacity_percent: int


def _stamp_draws(side: str, rng: random.Random) -> _Stamp:
    """A stamp across one of ``side``'s fields, chosen at random."""
    target = rng.choice(FRONT_SPOTS if side == "front" else BACK_SPOTS)
    grey = rng.randint(40, 140)
    rgb = (200, 40, 40) if rng.random() < 0.4 else (grey, grey, grey)
    # Keyword arguments are evaluated in the order written: the draws' order is the set's.
    return _Stamp(target, rgb, text=rng.choice(("复印无效", "复印无效", "再次复印无效")),
                  dx=rng.uniform(-30, 30), dy=rng.uniform(-10, 10),
                  angle_deg=rng.uniform(-20, 20), size=rng.uniform(28, 42),
                  framed=rng.random() < 0.85, opacity_percent=rng.randint(45, 75))


def _stamp_field(card: Any, stamp: _Stamp) -> Any:
    """``card`` with ``stamp`` pressed across its field."""
    samples = _samples()
    x, y = FIELD_SPOTS[stamp.target]
    scale = card.width / samples.BASE_WIDTH
    return samples.copy_stamp(
        card, stamp.text, center=((x + stamp.dx) * scale, (y + stamp.dy) * scale),
        angle_deg=stamp.angle_deg, rgb=stamp.rgb, size_px=round(stamp.size * scale),
        framed=stamp.framed, opacity_percent=stamp.opacity_percent,
    )  # fmt: skip


@dataclasses.dataclass(frozen=True)
class _Toner:
    """What chance chose for a copier: levels, gain, noise and blur."""

    low: float
    high: float
    gain: float
    noise_seed: int
    noise_sigma: float
    blur: float


def _toner_draws(rng: random.Random) -> _Toner:
    low, high = rng.uniform(20, 90), rng.uniform(195, 250)
    gain = rng.uniform(0.85, 1.1)
    noise_seed = rng.randrange(2**32)
    return _Toner(low, high, gain, noise_seed, rng.uniform(2, 8), rng.uniform(0.3, 1.3))


def _copier(image: Any, toner: _Toner, grey: bool) -> tuple[Any, list[str]]:
    """A copier's toner: grey or colour, its brightness and contrast, a little blur."""
    import numpy as np
    from PIL import Image, ImageFilter

    rgb = image.convert("L").convert("RGB") if grey else image.convert("RGB")
    arr = np.asarray(rgb).astype(np.float32)
    low, high, gain = toner.low, toner.high, toner.gain
    arr = np.clip((arr - low) * 255.0 * gain / (high - low), 0, 255)
    arr += np.random.default_rng(toner.noise_seed).normal(0, toner.noise_sigma, arr.shape)
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(toner.blur))
    return out, [f"low{low:.0f}", f"high{high:.0f}", f"gain{gain:.2f}", f"blur{toner.blur:.1f}"]


@dataclasses.dataclass(frozen=True)
class _PageSide:
    """One side on a copy page: its stamp, whether it is upside down, its tilt and shift."""

    side: str
    stamp: _Stamp | None
    upside_down: bool
    tilt: float
    shift: tuple[float, float]  # of its centre, in card widths


@dataclasses.dataclass(frozen=True)
class _CopyPage:
    """Every random choice of one copy page, made before (or without) drawing it."""

    index: int
    person: Any
    birth: tuple[str, str, str] | None
    applied: tuple[str, ...]
    script: str | None
    grey: bool
    dpi: int
    sides: tuple[_PageSide, ...]
    toner: _Toner
    upside_down: bool
    face: str  # of the card's text (``accuracy.card_face``)


def _copy_page_draws(index: int, rng: random.Random, face: str) -> _CopyPage:
    """The draws of copy page ``index``, in the order the set has always made them."""
    person, birth, applied, script = _person(rng)
    names = ("front", "back") if rng.random() < 0.85 else (rng.choice(("front", "back")),)
    grey = rng.random() < 0.75
    dpi = rng.choice((150, 200))
    page_tilt = rng.uniform(-4, 4)
    sides = []
    for side in names:
        stamp = _stamp_draws(side, rng) if rng.random() < 0.85 else None
        upside_down = side == "back" and rng.random() < 0.2
        tilt = max(-10.0, min(10.0, page_tilt + rng.uniform(-6, 6)))
        shift = (rng.uniform(-0.1, 0.1), rng.uniform(-0.05, 0.05))
        sides.append(_PageSide(side, stamp, upside_down, tilt, shift))
    toner = _toner_draws(rng)
    return _CopyPage(index, person, birth, tuple(applied), script, grey, dpi, tuple(sides),
                     toner, upside_down=rng.random() < 0.25, face=face)  # fmt: skip


def _copy_page(plan: _CopyPage) -> Case:
    """Copy page ``plan`` drawn, copied and saved."""
    from PIL import Image

    from tests.card_pages import encode_page, page_image

    card_width = round(85.6 / 25.4 * plan.dpi)
    page = Image.new("RGB", (round(210 / 25.4 * plan.dpi), round(297 / 25.4 * plan.dpi)),
                     (246, 246, 244))  # fmt: skip
    applied = [*plan.applied, *accuracy.face_applied(plan.face)]
    for row, side in enumerate(plan.sides):
        card = _card(plan.person, side.side, card_width, plan.birth, plan.script, plan.face)
        if side.stamp is not None:
            card = _stamp_field(card, side.stamp)
            applied.append(f"stamp-{side.stamp.target}")
        if side.upside_down:
            card = card.rotate(180)
            applied.append("back-upside-down")
        applied.append(f"{side.side}-tilt{side.tilt:+.1f}")
        mask = Image.new("L", card.size, 255)
        turned = card.rotate(side.tilt, expand=True, resample=Image.Resampling.BICUBIC)
        turned_mask = mask.rotate(side.tilt, expand=True)
        centre = (page.width / 2 + side.shift[0] * card_width,
                  page.height * (0.25 + 0.32 * row) + side.shift[1] * card_width)
        page.paste(turned, (round(centre[0] - turned.width / 2),
                            round(centre[1] - turned.height / 2)), turned_mask)  # fmt: skip
    page, toner = _copier(page, plan.toner, plan.grey)
    applied += ["grey" if plan.grey else "colour", *toner]
    if plan.upside_down:
        page = page.rotate(180)
        applied.append("page-upside-down")
    encoding = PAGE_ENCODINGS[plan.index % len(PAGE_ENCODINGS)]
    image_bytes = page_image(encode_page(page, encoding))
    sides = [side.side for side in plan.sides]
    truth = {k: v for side in sides for k, v in _truth(plan.person, side, plan.birth).items()}
    side_name = "both" if len(sides) == 2 else sides[0]
    return Case(f"copy_pages-{plan.index:03d}-{side_name}", image_bytes, side_name, truth,
                [*applied, encoding, f"{plan.dpi}dpi"], frozenset({"copy"}),
                cards_on_image=len(sides))  # fmt: skip


def copy_page_cases(count: int, seed: int, *, first: int = 0,
                    bold_share: float = accuracy.BOLD_SHARE) -> list[Case]:  # fmt: skip
    """A4 copy pages ``first`` to ``count - 1`` of one person each (see the module
    docstring). The pages before ``first`` have their random draws made but are not
    drawn, so a page is the same whatever ``first``: a test that needs one page of a
    set draws that page alone. ``bold_share`` 0 draws every card in the regular face,
    as the set was drawn before it had two (what a test pinning such a page needs)."""
    rng = random.Random(seed)
    plans = [_copy_page_draws(i, rng, accuracy.card_face("copy_pages", seed, i, bold_share))
             for i in range(count)]  # fmt: skip
    return [_copy_page(plan) for plan in plans[first:]]


# ---------------------------------------------------------------------- phone photos


def _clutter(canvas: Any, rng: random.Random, avoid: list[tuple[float, float, float, float]]
             ) -> list[str]:  # fmt: skip
    """Objects on the desk beside the cards: a bank card, a sheet of print, a pen, a cup."""
    from PIL import ImageDraw

    samples = _samples()
    draw = ImageDraw.Draw(canvas)
    width, height = canvas.size
    placed = []
    for kind in rng.sample(("bank", "paper", "pen", "cup"), rng.randint(1, 3)):
        for _ in range(20):
            w = rng.uniform(0.15, 0.3) * width
            h = w * rng.uniform(0.5, 1.2)
            x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
            box = (x, y, x + w, y + h)
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]
                       for b in avoid):  # fmt: skip
                break
        else:
            continue
        avoid.append(box)
        if kind == "bank":
            card = samples.draw_bank_card(rng, width=round(w)).rotate(
                rng.uniform(-30, 30), expand=True, fillcolor=canvas.getpixel((round(x), round(y))))
            canvas.paste(card, (round(x), round(y)))
        elif kind == "paper":
            draw.rectangle(box, fill=(248, 248, 244))
            font = samples.card_font(max(10, round(h / 14)))
            for line in range(1, 12):
                ty = y + line * h / 13
                text = "".join(rng.choice("申请表办理业务姓名地址电话日期签字") for _ in range(12))
                draw.text((x + 0.05 * w, ty), text, font=font, fill=(40, 40, 40))
        elif kind == "pen":
            draw.line((x, y, x + w, y + h * 0.3), fill=(20, 30, 120), width=max(6, round(h / 14)))
        else:
            draw.ellipse(box, fill=(rng.randint(150, 250), rng.randint(60, 200), 60),
                         outline=(60, 60, 60), width=4)  # fmt: skip
        placed.append(kind)
    return placed


def _project(corners: Any, tilt_x: float, tilt_y: float, spin: float, focal: float) -> Any:
    """Corners of a flat card (centred at 0) as a camera sees it turned by the angles."""
    import numpy as np

    ax, ay, az = (math.radians(a) for a in (tilt_x, tilt_y, spin))
    rx = np.array([[1, 0, 0], [0, math.cos(ax), -math.sin(ax)], [0, math.sin(ax), math.cos(ax)]])
    ry = np.array([[math.cos(ay), 0, math.sin(ay)], [0, 1, 0], [-math.sin(ay), 0, math.cos(ay)]])
    rz = np.array([[math.cos(az), -math.sin(az), 0], [math.sin(az), math.cos(az), 0], [0, 0, 1]])
    points = np.c_[corners, np.zeros(len(corners))] @ (rz @ ry @ rx).T
    depth = focal + points[:, 2]
    return np.c_[points[:, 0] * focal / depth, points[:, 1] * focal / depth]


def _light(bgr: Any, rng: random.Random) -> tuple[Any, list[str]]:
    """A shadow across part of the picture and, most of the time, a glare spot."""
    import cv2
    import numpy as np

    height, width = bgr.shape[:2]
    applied = []
    out = bgr.astype(np.float32)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    if rng.random() < 0.7:
        angle = rng.uniform(0, 2 * math.pi)
        offset = rng.uniform(-0.2, 0.3) * max(width, height)
        side = (xx - width / 2) * math.cos(angle) + (yy - height / 2) * math.sin(angle) - offset
        depth = rng.uniform(0.35, 0.6)
        soft = rng.uniform(0.01, 0.05) * max(width, height)
        shade = 1 - depth / (1 + np.exp(-side / soft))
        out *= shade[..., None]
        applied.append(f"shadow{depth:.2f}")
    if rng.random() < 0.7:
        cx, cy = rng.uniform(0.3, 0.7) * width, rng.uniform(0.3, 0.7) * height
        radius = rng.uniform(0.03, 0.07) * max(width, height)
        glare = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * radius**2))
        out = out + (255 - out) * (rng.uniform(0.6, 0.95) * glare)[..., None]
        applied.append(f"glare{radius:.0f}")
    out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 1.2))
    return np.clip(out, 0, 255).astype(np.uint8), applied


def phone_photo_cases(count: int, seed: int, *,
                      bold_share: float = accuracy.BOLD_SHARE) -> list[Case]:  # fmt: skip
    """``count`` phone photos of colour cards on a desk (see the module docstring);
    ``bold_share`` as :func:`copy_page_cases`'s."""
    import cv2
    import numpy as np
    from PIL import Image

    rng = random.Random(seed)
    cases = []
    for i in range(count):
        person, birth, applied, script = _person(rng)
        face = accuracy.card_face("phone_photos", seed, i, bold_share)
        applied += accuracy.face_applied(face)
        sides = ("front", "back") if rng.random() < 0.3 else (rng.choice(("front", "back")),)
        long_side = rng.randint(1200, 3000)
        portrait = rng.random() < 0.4
        width, height = (round(long_side * 0.75), long_side) if portrait else (
            long_side, round(long_side * 0.75))
        background = accuracy._texture(rng, width, height)  # noqa: SLF001
        canvas = Image.fromarray(background[:, :, ::-1].copy())
        # The cards: how much of the picture's width they fill, stacked or side by side.
        share = rng.uniform(0.55, 0.8) if len(sides) == 1 else rng.uniform(0.42, 0.48)
        card_w = round(share * (width if len(sides) == 1 or portrait else width / 1.0))
        if len(sides) == 2 and not portrait:
            card_w = round(min(card_w, 0.45 * width))
        card_h = round(card_w * 540 / 856)
        slots = _slots(len(sides), portrait, width, height, card_w, card_h, rng)
        bgr = np.asarray(canvas)[:, :, ::-1].copy()
        occupied = []
        for side, (cx, cy) in zip(sides, slots, strict=True):
            card = _card(person, side, card_w, birth, script, face)
            tilt_x, tilt_y = rng.uniform(-20, 20), rng.uniform(-20, 20)
            spin = rng.uniform(-15, 15) + rng.choice((0, 0, 0, 0, 90, 180, -90))
            corners = np.array([[-card_w / 2, -card_h / 2], [card_w / 2, -card_h / 2],
                                [card_w / 2, card_h / 2], [-card_w / 2, card_h / 2]])  # fmt: skip
            target = _project(corners, tilt_x, tilt_y, spin, 1.3 * long_side) + [cx, cy]
            matrix = cv2.getPerspectiveTransform(
                np.array([[0, 0], [card_w, 0], [card_w, card_h], [0, card_h]], np.float32),
                target.astype(np.float32))
            card_bgr = np.asarray(card.convert("RGB"))[:, :, ::-1]
            warped = cv2.warpPerspective(card_bgr, matrix, (width, height))
            mask = cv2.warpPerspective(_rounded(card_w, card_h), matrix, (width, height))
            bgr = np.where(mask[..., None] > 127, warped, bgr)
            xs, ys = target[:, 0], target[:, 1]
            occupied.append((xs.min(), ys.min(), xs.max(), ys.max()))
            applied.append(f"{side}-tilt{tilt_x:+.0f},{tilt_y:+.0f},spin{spin:+.0f}")
        canvas = Image.fromarray(bgr[:, :, ::-1].copy())
        applied += _clutter(canvas, rng, occupied)
        bgr, light = _light(np.asarray(canvas)[:, :, ::-1], rng)
        quality = rng.randint(65, 92)
        buffer = io.BytesIO()
        Image.fromarray(bgr[:, :, ::-1]).save(buffer, "JPEG", quality=quality)
        truth = {k: v for side in sides for k, v in _truth(person, side, birth).items()}
        side_name = "both" if len(sides) == 2 else sides[0]
        cases.append(Case(f"phone_photos-{i:03d}-{side_name}", buffer.getvalue(), side_name,
                          truth, [*applied, *light, f"{width}x{height}", f"jpeg{quality}"],
                          cards_on_image=len(sides)))  # fmt: skip
    return cases


def _slots(cards: int, portrait: bool, width: int, height: int, card_w: int, card_h: int,
           rng: random.Random) -> list[tuple[float, float]]:  # fmt: skip
    """Centres of the cards: one near the middle, or two apart (stacked on a portrait
    photo, side by side on a landscape one)."""
    jitter = rng.uniform(-0.05, 0.05)
    if cards == 1:
        return [(width * (0.5 + jitter), height * (0.5 - jitter))]
    if portrait:
        return [(width * (0.5 + jitter), height * 0.3), (width * (0.5 - jitter), height * 0.7)]
    return [(width * 0.27, height * (0.5 + jitter)), (width * 0.73, height * (0.5 - jitter))]


def _rounded(width: int, height: int) -> Any:
    import cv2
    import numpy as np

    radius = round(30 * width / 856)
    mask = np.zeros((height, width), np.uint8)
    cv2.rectangle(mask, (radius, 0), (width - radius, height), 255, -1)
    cv2.rectangle(mask, (0, radius), (width, height - radius), 255, -1)
    for px, py in ((radius, radius), (width - radius, radius), (radius, height - radius),
                   (width - radius, height - radius)):  # fmt: skip
        cv2.circle(mask, (px, py), radius, 255, -1)
    return mask
