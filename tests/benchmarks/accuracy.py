"""Field-level accuracy, speed and memory of the offline engine, per set.

    python tests/benchmarks/accuracy.py [--set NAME ...] [--count N] [--seed N]
                                        [--workers 1] [--report PATH] [--failures]
                                        [--review-on RISK,...]

Generated sets (cards drawn by ``samples/make_samples.py``, imported by file path, for
random fictional people; fronts and backs alternate). Cards are drawn in two faces: about
a third of them (``card_face``, chosen per case apart from the set's other draws) in Noto
Sans CJK JP Bold, tagged ``font-bold`` in their degradations, the rest in the regular SC
face of the samples; ``synthetic`` and ``pages`` stay all regular. Each set's report
gives fields exact per face. Without the bold face's package (the ``dev`` extra) every
card is drawn regular, said once on stderr.

- ``synthetic``: phone photos: on a textured background, rotated (a little, or by
  quarter turns), in perspective, blurred, noised, shrunk, JPEG-compressed.
- ``bilingual``: the six bilingual regions' cards (Uyghur, Korean, Zhuang labels and
  lines beside the Chinese; Tibetan, Mongolian and Yi nations' cards in Chinese only,
  as no Python package ships their fonts), half clean, half as photos.
- ``photocopy``: grey or colour copies on paper, most with a 复印无效 stamp.
- ``flat``: clean flat renders, 480 to 1712 px wide, PNG or JPEG.
- ``small``: small blurred cards, 300-420 px wide.
- ``long``: three-line addresses, half with ``·`` names.
- ``pages``: whole pages of cards (A4 copies, stamped and watermarked; desk photos).
- ``stamped``: copies with one or two stamps or watermarks (复印无效, 再次复印无效,
  仅限…使用, 仅供…使用) across any text row, at any angle, ink and size.
- ``copy_pages`` and ``phone_photos`` (``office_sets.py``): A4 copy pages (front above
  back, a stamp over any field, 180-degree turns, tilt, PNG/JPEG/PDF, some numbers and
  dates that fail a rule as printed) and phone photos of colour cards (perspective,
  shadow, glare, clutter, 1,200-3,000 px JPEGs, some with a front and a back).

Published sets, read from beside the project and skipped where absent (never copied in):
``specimens`` (``../shared/specimens``, one card per file) and ``documents``
(``../shared/documents``, copy pages; each card is cut out and read on its own).

Prints a table per set (exact-match rate per field and overall, sides lost, the review
signal's silent errors, review rate and confidence calibration, CPU per card), one
summary table (what docs/offline-engine.md shows), and the image warnings' hit and false-positive
rates on these sets; writes a JSON report. The image warnings are also scored apart
(``--warnings N``): each warning's hit rate on N generated positives made for it
(``tests/warning_cases.py``) and its false-positive rate on clean colour cards
(generated, ``samples/``, ``../shared/specimens``), with the grey copies of
``../shared/documents`` as real positives for ``copy``. CPU per card is
measured in this process with one thread, models loaded first (start-up and loading
excluded); ``--workers N`` also runs each set through the local engine's ``WorkerPool`` for the workers'
own CPU per card and peak memory. Every set also counts its fields that hold a piece of
a copy's stamp (``tests/stamp_remnants.py``). Targets: >= 97 % of fields exact on every
set (but ``STRESS_SETS``), no field with a stamp remnant, <= 0.30 s CPU per card,
<= 400 MB per worker; for the review signal (``score_review``, rows as a run writes
them, ``expired`` judged on ``REVIEW_AS_OF``): <= 0.5 % silent errors on every set,
<= 10 % of the rows read right flagged on the clean sets (``REVIEW_RATE_SETS``), and
>= 99.5 % of the fields at confidence >= 0.95 right.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import functools
import importlib.util
import io
import json
import math
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SPECIMENS = REPO.parent / "shared" / "specimens"
DOCUMENTS = REPO.parent / "shared" / "documents"
MAKE_SAMPLES = REPO / "samples" / "make_samples.py"
DEFAULT_REPORT = Path(__file__).with_name("accuracy_report.json")
FRONT_FIELDS = ("name", "sex", "nation", "birth", "address", "number")
BACK_FIELDS = ("authority", "timelimit")
TARGET_EXACT = 0.97
#: CPU per card with one worker, start-up and model loading excluded (docs/offline-engine.md).
TARGET_CPU_S_PER_CARD = 0.30
TARGET_PEAK_RSS_MB = 400

sys.path.insert(0, str(REPO))


@dataclass
class Case:
    """One image and what it truly says."""

    name: str
    image_bytes: bytes
    side: str
    truth: dict[str, str]
    degradations: list[str] = field(default_factory=list)
    #: Image warnings this picture should raise (``copy``, ``blur``...); the others
    #: raised on it count as false positives.
    expected_warnings: frozenset[str] = frozenset()
    #: Card crops to read instead of ``image_bytes`` (the cards of a copy page).
    crops: list[bytes] = field(default_factory=list)
    #: Cards on ``image_bytes`` (a page of a front and a back holds two): CPU per card
    #: divides a page's time by them.
    cards_on_image: int = 1


def load_make_samples() -> ModuleType:
    """``samples/make_samples.py`` as a module, without making ``samples`` a package."""
    spec = importlib.util.spec_from_file_location("make_samples", MAKE_SAMPLES)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(MAKE_SAMPLES)
    module = importlib.util.module_from_spec(spec)
    # dataclasses look the module up in sys.modules while the class body runs.
    sys.modules["make_samples"] = module
    spec.loader.exec_module(module)
    return module


#: Share of a generated set's cards drawn in the bold face (``make_samples.CARD_FACES``)
#: rather than the regular one the committed samples use, so no set is all one face.
BOLD_SHARE = 1 / 3
#: The degradation a card drawn in the bold face records (the regular face records none).
BOLD_TAG = "font-bold"


@functools.cache
def _say_bold_missing(package: str) -> None:
    print(f"no {package} installed (the dev extra): every generated card is drawn in the "
          "regular face", file=sys.stderr)  # fmt: skip


def card_face(set_name: str, seed: int, index: int, bold_share: float = BOLD_SHARE) -> str:
    """The face card ``index`` of a generated set is drawn in: ``bold`` about one time
    in three (``bold_share``), else ``regular``.

    Chosen by a ``random.Random`` of the case's own (set, seed, index), not by the set's
    generator: the set's other draws (people, stamps, light) do not depend on the faces,
    so a bold case is the regular one in the other face, and keeps its face whatever the
    count. Where the bold face's package is missing,
    ``regular``, said once on stderr: a machine without the dev extra still runs the sets.
    """
    if random.Random(f"{set_name}:{seed}:{index}:face").random() >= bold_share:
        return "regular"
    samples = load_make_samples()
    if not samples.face_drawable("bold"):
        _say_bold_missing(samples.CARD_FACES["bold"].package)
        return "regular"
    return "bold"


def face_applied(face: str) -> list[str]:
    """The degradations that say a card's face: ``BOLD_TAG`` for bold, none for regular."""
    return [BOLD_TAG] if face == "bold" else []


# --------------------------------------------------------------------------- degradations


def _texture(rng: random.Random, width: int, height: int) -> Any:
    """A background: wood grain, a checked cloth, a noisy desk or a dark gradient."""
    import numpy as np

    kind = rng.choice(("wood", "cloth", "desk", "dark"))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    noise_rng = np.random.default_rng(rng.randrange(2**32))
    if kind == "wood":
        base = np.array([rng.randint(60, 140), rng.randint(90, 160), rng.randint(130, 200)])
        grain = np.sin(xx / rng.uniform(6, 18) + 3 * np.sin(yy / rng.uniform(40, 90)))
        img = base[None, None, :] * (0.8 + 0.2 * grain[..., None])
    elif kind == "cloth":
        cell = rng.randint(12, 40)
        check = ((xx // cell + yy // cell) % 2)[..., None]
        a = np.array([rng.randint(0, 255) for _ in range(3)])
        b = np.array([rng.randint(0, 255) for _ in range(3)])
        img = a * check + b * (1 - check)
    elif kind == "desk":
        level = rng.randint(150, 235)
        img = np.full((height, width, 3), level, np.float32)
        img += noise_rng.normal(0, 18, (height, width, 1))
    else:
        img = (20 + 60 * (xx / width))[..., None] * np.array([1.0, 0.9, 0.8])
    img = img + noise_rng.normal(0, 6, (height, width, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def degrade(card: Any, rng: random.Random) -> tuple[bytes, list[str]]:
    """A photo of ``card`` (PIL image) with random degradations; JPEG bytes and their names."""
    import cv2
    import numpy as np
    from PIL import Image, ImageFilter

    applied: list[str] = []
    bgr = np.asarray(card.convert("RGB"))[:, :, ::-1].copy()
    h, w = bgr.shape[:2]

    # Low resolution: the card drawn small (like a far-away photo), read back as is.
    if rng.random() < 0.3:
        factor = rng.uniform(0.5, 0.7)
        bgr = cv2.resize(bgr, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        h, w = bgr.shape[:2]
        applied.append(f"lowres{factor:.2f}")

    on_background = rng.random() < 0.8
    if on_background:
        canvas_w = int(w * rng.uniform(1.25, 1.8))
        canvas_h = int(h * rng.uniform(1.4, 2.2))
        background = _texture(rng, canvas_w, canvas_h)
        corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
        angle = math.radians(rng.uniform(-12, 12))
        persp = rng.uniform(0, 0.08)
        cx, cy = canvas_w / 2 + rng.uniform(-0.08, 0.08) * w, canvas_h / 2
        scale = min(canvas_w / (w * 1.15), canvas_h / (h * 1.3))
        target = []
        for x, y in corners - [w / 2, h / 2]:
            x, y = x * scale, y * scale
            xr = x * math.cos(angle) - y * math.sin(angle)
            yr = x * math.sin(angle) + y * math.cos(angle)
            target.append(
                [cx + xr + rng.uniform(-persp, persp) * w, cy + yr + rng.uniform(-persp, persp) * h]
            )
        matrix = cv2.getPerspectiveTransform(corners, np.array(target, np.float32))
        warped = cv2.warpPerspective(bgr, matrix, (canvas_w, canvas_h))
        mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), matrix, (canvas_w, canvas_h))
        # The sample cards have white rounded corners: cut them away so the desk shows.
        radius = int(0.035 * w * scale)
        rounded = np.zeros((h, w), np.uint8)
        cv2.rectangle(rounded, (radius, 0), (w - radius, h), 255, -1)
        cv2.rectangle(rounded, (0, radius), (w, h - radius), 255, -1)
        for px, py in ((radius, radius), (w - radius, radius), (radius, h - radius),
                       (w - radius, h - radius)):  # fmt: skip
            cv2.circle(rounded, (px, py), radius, 255, -1)
        mask = np.minimum(cv2.warpPerspective(rounded, matrix, (canvas_w, canvas_h)), mask)
        bgr = np.where(mask[..., None] > 127, warped, background)
        applied.append(f"background,rot{math.degrees(angle):+.0f},persp{persp:.2f}")

    turns = rng.choice((0, 0, 0, 1, 2, 3))
    if turns:
        bgr = np.ascontiguousarray(np.rot90(bgr, -turns))
        applied.append(f"turn{90 * turns}")

    image = Image.fromarray(bgr[:, :, ::-1])
    if rng.random() < 0.5:
        blur_px = rng.uniform(0.6, 1.4)
        image = image.filter(ImageFilter.GaussianBlur(blur_px))
        applied.append(f"blur{blur_px:.1f}")
    if rng.random() < 0.5:
        sigma = rng.uniform(4, 12)
        arr = np.asarray(image).astype(np.float32)
        arr += np.random.default_rng(rng.randrange(2**32)).normal(0, sigma, arr.shape)
        image = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
        applied.append(f"noise{sigma:.0f}")
    quality = rng.choice((35, 50, 70, 90))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    applied.append(f"jpeg{quality}")
    return buffer.getvalue(), applied


def synthetic_cases(count: int, seed: int) -> list[Case]:
    """``count`` degraded synthetic cards, fronts and backs alternating."""
    samples = load_make_samples()
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        person = samples.make_person(rng)
        width = rng.choice((640, 760, 856, 1000))
        if i % 2 == 0:
            image, _ = samples.draw_front(person, width=width)
            side = "front"
            truth = {
                "name": person.name,
                "sex": person.sex,
                "nation": person.nation,
                "birth": person.birth.isoformat(),
                "address": person.address,
                "number": person.number,
            }
        else:
            image = samples.draw_back(person, width=width)
            side = "back"
            truth = {"authority": person.authority, "timelimit": samples.timelimit_api(person)}
        image_bytes, applied = degrade(image, rng)
        cases.append(Case(f"synthetic-{i:03d}-{side}", image_bytes, side, truth, applied))
    return cases


def _truth(samples: ModuleType, person: Any, side: str) -> dict[str, str]:
    if side == "front":
        return {
            "name": person.name,
            "sex": person.sex,
            "nation": person.nation,
            "birth": person.birth.isoformat(),
            "address": person.address,
            "number": person.number,
        }
    return {"authority": person.authority, "timelimit": samples.timelimit_api(person)}


def _encode(image: Any, fmt: str, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(buffer, "JPEG", quality=quality)
    else:
        image.convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()


def _draw(samples: ModuleType, person: Any, side: str, width: int, **style: Any) -> Any:
    if side == "front":
        return samples.draw_front(person, width=width, **style)[0]
    style.pop("inline_labels", None)
    return samples.draw_back(person, width=width, **style)


def bilingual_cases(count: int, seed: int) -> list[Case]:
    """Cards of the six bilingual regions: minority labels and lines beside the Chinese.

    Half are clean renders, half go through the phone-photo degradations. A script no
    Python package has a font for (Tibetan, Mongolian, Yi: ``samples/make_samples.py``)
    is left off its nation's cards, which are then Chinese only; the harness says which.
    """
    samples = load_make_samples()
    rng = random.Random(seed)
    scripts = sorted(samples.SCRIPTS)
    undrawn = [name for name in scripts if not samples.script_drawable(name)]
    if undrawn:
        print(f"bilingual: no font package for {', '.join(undrawn)}: those nations' cards "
              "are drawn in Chinese only", file=sys.stderr)  # fmt: skip
    cases = []
    for i in range(count):
        script = scripts[(i // 2) % len(scripts)]
        person = samples.make_person(rng, nation=samples.SCRIPTS[script].nation,
                                     long_address=rng.random() < 0.3)  # fmt: skip
        side = "front" if i % 2 == 0 else "back"
        inline = rng.random() < 0.5
        drawn = script if samples.script_drawable(script) else None
        face = card_face("bilingual", seed, i)
        image = _draw(samples, person, side, rng.choice((760, 856, 1000)), script=drawn,
                      inline_labels=inline, face=face)  # fmt: skip
        applied = [script if drawn else f"{script}-chinese-only", "inline" if inline else "stacked",
                   *face_applied(face)]  # fmt: skip
        if rng.random() < 0.5:
            image_bytes, more = degrade(image, rng)
            applied += more
        else:
            image_bytes = _encode(image, "PNG")
        cases.append(Case(f"bilingual-{i:03d}-{side}", image_bytes, side,
                          _truth(samples, person, side), applied))  # fmt: skip
    return cases


def photocopy(card: Any, rng: random.Random, samples: ModuleType, *,
              stamp: bool = True) -> tuple[bytes, list[str]]:  # fmt: skip
    """A photocopy of ``card``: grey (or faded colour) toner, a 复印无效 stamp (most of
    the time, unless ``stamp`` is False), on paper."""
    import numpy as np
    from PIL import Image, ImageFilter

    applied = []
    colour = rng.random() < 0.3
    if colour:
        image = card.convert("RGB")
        applied.append("colour-copy")
    else:
        image = card.convert("L").convert("RGB")
        applied.append("grey-copy")
    # Copiers raise contrast and drop the card's pale background towards white.
    arr = np.asarray(image).astype(np.float32)
    low, high = rng.uniform(40, 90), rng.uniform(200, 235)
    arr = np.clip((arr - low) * 255.0 / (high - low), 0, 255)
    arr += np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(3, 9), arr.shape)
    image = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if stamp and rng.random() < 0.8:
        w, h = image.size
        spot = rng.choice(((0.72, 0.45), (0.6, 0.83), (0.45, 0.55), (0.8, 0.2)))
        stamp_rgb = (200, 40, 40) if colour or rng.random() < 0.5 else (90, 90, 90)
        image = samples.copy_stamp(image, "复印无效", center=(spot[0] * w, spot[1] * h),
                                   angle_deg=rng.uniform(-20, 20), rgb=stamp_rgb)  # fmt: skip
        applied.append(f"stamp@{spot[0]:.2f},{spot[1]:.2f}")
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.8)))
    # On a sheet of paper, slightly askew.
    paper_level = rng.randint(225, 250)
    page = Image.new("RGB", (int(image.width * rng.uniform(1.3, 1.7)),
                             int(image.height * rng.uniform(1.5, 2.2))), (paper_level,) * 3)  # fmt: skip
    angle = rng.uniform(-4, 4)
    rotated = image.rotate(angle, expand=True, fillcolor=(paper_level,) * 3,
                           resample=Image.Resampling.BICUBIC)  # fmt: skip
    page.paste(rotated, ((page.width - rotated.width) // 2, (page.height - rotated.height) // 3))
    if not colour:
        page = page.convert("L")
    quality = rng.choice((60, 75, 90))
    buffer = io.BytesIO()
    page.save(buffer, "JPEG", quality=quality)
    applied += [f"rot{angle:+.1f}", f"jpeg{quality}"]
    return buffer.getvalue(), applied


def photocopy_cases(count: int, seed: int) -> list[Case]:
    """Cards as back offices copy them: grey or colour toner, stamps, on paper."""
    samples = load_make_samples()
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        person = samples.make_person(rng)
        side = "front" if i % 2 == 0 else "back"
        face = card_face("photocopy", seed, i)
        image = _draw(samples, person, side, rng.choice((640, 856, 1000)), face=face)
        image_bytes, applied = photocopy(image, rng, samples)
        cases.append(Case(f"photocopy-{i:03d}-{side}", image_bytes, side,
                          _truth(samples, person, side), [*applied, *face_applied(face)],
                          frozenset({"copy"})))  # fmt: skip
    return cases


#: Stamps and watermarks of the ``stamped`` set, 复印无效 the most common.
STAMP_TEXTS = ("复印无效", "复印无效", "复印无效", "再次复印无效", "仅限办理入职手续使用",
               "仅供银行开户使用", "仅限本次核验使用", "此复印件仅供银行开户使用")  # fmt: skip
#: Heights of the text rows a stamp is pressed across, in the generator's base card
#: (856 px wide): name, sex/nation, birth, address lines, number; authority, period.
FRONT_ROW_YS = (70, 134, 198, 262, 304, 346, 454)
BACK_ROW_YS = (300, 400, 460)


def _press_stamps(card: Any, side: str, rng: random.Random, samples: ModuleType
                  ) -> tuple[Any, list[str]]:  # fmt: skip
    """``card`` with one or two stamps or watermarks across its text rows: any of
    ``STAMP_TEXTS``, framed or bare, red or any grey, turned up to 25 degrees."""
    applied = []
    scale = card.width / samples.BASE_WIDTH
    for _ in range(1 if rng.random() < 0.7 else 2):
        text = rng.choice(STAMP_TEXTS)
        framed = text.endswith("无效") and rng.random() < 0.8
        row_y = rng.choice(FRONT_ROW_YS if side == "front" else BACK_ROW_YS)
        x = rng.uniform(300, 700)
        y = row_y + rng.uniform(-14, 14)
        angle = rng.uniform(-25, 25)
        grey = rng.randint(30, 150)
        rgb = (200, 40, 40) if rng.random() < 0.35 else (grey, grey, grey)
        size = round(rng.uniform(26, 46) * scale)
        card = samples.copy_stamp(card, text, center=(x * scale, y * scale), angle_deg=angle,
                                  rgb=rgb, size_px=size, framed=framed,
                                  opacity_percent=rng.randint(45, 80))  # fmt: skip
        applied.append(f"{text}@{x:.0f},{y:.0f},{angle:+.0f},{'framed' if framed else 'bare'}"
                       f",{'red' if rgb[1] == 40 else f'grey{grey}'}")
    return card, applied


def stamped_cases(count: int, seed: int) -> list[Case]:
    """Copies stamped across their text: 复印无效, 再次复印无效, 仅限…使用 and 仅供…使用, at
    any text row, angle, ink and size, one or two per card, then copied grey or colour
    on paper as the ``photocopy`` set is. Fronts and backs alternate; a quarter of the
    fronts have three-line addresses."""
    samples = load_make_samples()
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        side = "front" if i % 2 == 0 else "back"
        person = samples.make_person(rng, long_address=side == "front" and rng.random() < 0.25)
        face = card_face("stamped", seed, i)
        card = _draw(samples, person, side, rng.choice((640, 856, 1000)), face=face)
        card, stamps = _press_stamps(card, side, rng, samples)
        image_bytes, applied = photocopy(card, rng, samples, stamp=False)
        cases.append(Case(f"stamped-{i:03d}-{side}", image_bytes, side,
                          _truth(samples, person, side), stamps + applied + face_applied(face),
                          frozenset({"copy"})))  # fmt: skip
    return cases


def flat_cases(count: int, seed: int) -> list[Case]:
    """Clean flat renders: the card edge to edge, nothing else, PNG or fine JPEG."""
    samples = load_make_samples()
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        person = samples.make_person(rng, long_address=rng.random() < 0.25)
        side = "front" if i % 2 == 0 else "back"
        width = rng.choice((480, 640, 856, 1200, 1712))
        fmt = rng.choice(("PNG", "JPEG"))
        face = card_face("flat", seed, i)
        image_bytes = _encode(_draw(samples, person, side, width, face=face), fmt, 92)
        cases.append(Case(f"flat-{i:03d}-{side}", image_bytes, side,
                          _truth(samples, person, side),
                          [f"flat{width}", fmt.lower(), *face_applied(face)]))  # fmt: skip
    return cases


def small_cases(count: int, seed: int) -> list[Case]:
    """Small, blurred cards (a far-away photo): 300-420 px wide, soft, compressed."""
    from PIL import ImageFilter

    samples = load_make_samples()
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        person = samples.make_person(rng)
        side = "front" if i % 2 == 0 else "back"
        width = rng.randint(300, 420)
        blur = rng.uniform(0.4, 0.9)
        face = card_face("small", seed, i)
        image = _draw(samples, person, side, width, face=face).filter(
            ImageFilter.GaussianBlur(blur))
        quality = rng.choice((70, 85, 95))
        cases.append(Case(f"small-{i:03d}-{side}", _encode(image, "JPEG", quality), side,
                          _truth(samples, person, side),
                          [f"width{width}", f"blur{blur:.1f}", f"jpeg{quality}",
                           *face_applied(face)],
                          frozenset({"blur"}) if blur > 0.7 else frozenset()))  # fmt: skip
    return cases


def long_field_cases(count: int, seed: int) -> list[Case]:
    """Fronts with three-line addresses, half of them with ``·`` names; some degraded."""
    samples = load_make_samples()
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        person = samples.make_person(rng, long_address=True, dotted_name=i % 2 == 0)
        face = card_face("long", seed, i)
        image = _draw(samples, person, "front", rng.choice((640, 856, 1000)), face=face)
        if rng.random() < 0.5:
            image_bytes, applied = degrade(image, rng)
        else:
            image_bytes, applied = _encode(image, "PNG"), ["clean"]
        cases.append(Case(f"long-{i:03d}-front", image_bytes, "front",
                          _truth(samples, person, "front"), [*applied, *face_applied(face)]))  # fmt: skip
    return cases


#: The generated sets: name -> (builder, default seed). ``synthetic`` is the original
#: phone-photo set, kept as it was so its numbers compare across versions.
#: How the copies of the ``pages`` set are saved, in turn: lossless, and as the lossy
#: JPEG scans (on their own and inside a PDF) that once lost a copy's back.
PAGE_COPY_ENCODINGS = ("png", "jpeg75", "pdf-jpeg75")
#: An office's scan of a copy: its resolution, how much paler the back came out, and
#: the gap between the front and the back when they nearly touch (share of a card).
OFFICE_SCAN_DPI = 150
OFFICE_BACK_WASHED_OUT = 0.3
OFFICE_CLOSE_ROW_GAP = 0.04


def page_cases(count: int, seed: int) -> list[Case]:
    """Pages of cards drawn by ``make_samples.card_pages``: A4 copies (colour or grey,
    stamped 复印无效 and watermarked 仅限…使用, back upside down, page sideways or upside
    down) and desk photos of an ID side beside a bank card, read whole by the engine.

    The copies are saved in turn as PNG, as a quality-75 JPEG scan and as that JPEG
    inside a PDF (the page image batch-ocr takes out of it); desk photos as JPEG. The
    lossy scans are an office's: 150 dpi, the scanner's shadow line along the edge, the
    back paler than the front (an ID-copy mode exposes each side on its own pass), and
    every other one with the back a finger's width below the front.

    One person per page: the page's expected row (``both`` for a front and a back) is its
    truth. Pages of two people's cards are left to ``tests/engines/test_card_pages.py``,
    which checks every numbered row (this harness merges a case's fields).
    """
    import dataclasses

    from tests.card_pages import encode_page, page_image

    samples = load_make_samples()
    rng = random.Random(seed)
    cases: list[Case] = []
    copies = 0
    while len(cases) < count:
        for page in samples.card_pages(rng, 8):
            rows = samples.card_page_rows(page)
            if len(rows) != 1 or len(cases) >= count:
                continue
            encoding = "jpeg90" if page.desk else PAGE_COPY_ENCODINGS[copies % 3]
            copies += not page.desk
            dpi = samples.CARD_PAGE_DPI
            if encoding != "png" and not page.desk:
                paler = tuple(dataclasses.replace(card, washed_out=OFFICE_BACK_WASHED_OUT)
                              if card.kind == "back" else card for card in page.cards)  # fmt: skip
                gap = OFFICE_CLOSE_ROW_GAP if copies % 2 else page.row_gap
                page = dataclasses.replace(page, cards=paler, scan_edge=True, row_gap=gap)
                dpi = OFFICE_SCAN_DPI
            image = samples.draw_card_page(page, rng, dpi=dpi)
            image_bytes = page_image(encode_page(image, encoding))
            cases.append(Case(page.name, image_bytes, str(rows[0]["side"]),
                              dict(rows[0]["truth"]), [page.name, encoding],
                              cards_on_image=len(page.cards)))  # fmt: skip
    return cases


def _office_sets() -> ModuleType:
    """``office_sets.py`` beside this file: the copy-page and phone-photo sets."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import office_sets

    return office_sets


GENERATED_SETS = {
    "synthetic": (lambda count, seed: synthetic_cases(count, seed), 8),
    "bilingual": (bilingual_cases, 14),
    "photocopy": (photocopy_cases, 15),
    "flat": (flat_cases, 16),
    "small": (small_cases, 17),
    "long": (long_field_cases, 18),
    "pages": (page_cases, 19),
    "stamped": (stamped_cases, 20),
    "copy_pages": (lambda count, seed: _office_sets().copy_page_cases(count, seed), 21),
    "phone_photos": (lambda count, seed: _office_sets().phone_photo_cases(count, seed), 22),
}
#: Sets made to find where a rule breaks, not to score reading: a stamp pressed across a
#: field hides some of its characters, so ``stamped`` is held to no stamp remnant but
#: not to the exact-field target, and stays out of "all generated sets".
STRESS_SETS = ("stamped",)


def _compact_period(printed: str) -> str:
    start, _, end = printed.partition("-")
    return f"{start.replace('.', '')}-{end.replace('.', '')}"


def specimen_cases() -> list[Case]:
    """The specimens with their sidecar truth, normalised to the harness's field forms."""
    cases = []
    for sidecar in sorted(SPECIMENS.glob("*.json")):
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        truth = dict(meta["truth"])
        if "timelimit" in truth:
            truth["timelimit"] = _compact_period(truth["timelimit"])
        image_bytes = (SPECIMENS / meta["file"]).read_bytes()
        cases.append(Case(meta["file"], image_bytes, meta["side"], truth))
    return cases


def _card_crops(page_bytes: bytes) -> list[bytes]:
    """The cards on a copy page, each cut out with a margin (PNG bytes).

    A copy page is flat paper; cards are where the grey level varies (guilloche, text):
    large card-shaped blobs of local contrast. A page with none is returned whole.
    """
    import cv2
    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(page_bytes)).convert("RGB"))
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    mean = cv2.blur(gray, (9, 9))
    spread = np.sqrt(np.maximum(cv2.blur(gray * gray, (9, 9)) - mean * mean, 0))
    mask = (spread > 2.0).astype(np.uint8) * 255
    mask[:4], mask[-4:], mask[:, :4], mask[:, -4:] = 0, 0, 0, 0  # a scanner's frame line
    size = max(5, int(0.03 * max(gray.shape)))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((size, size), np.uint8))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((size, size), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    height, width = gray.shape
    crops = []
    for contour in contours:
        (_, _), (w, h), _ = cv2.minAreaRect(contour)
        if min(w, h) == 0 or not 1.3 < max(w, h) / min(w, h) < 1.9:
            continue
        if w * h < 0.05 * width * height:
            continue
        x, y, bw, bh = cv2.boundingRect(contour)
        margin = int(0.06 * max(bw, bh))
        crop = rgb[max(0, y - margin) : y + bh + margin, max(0, x - margin) : x + bw + margin]
        buffer = io.BytesIO()
        Image.fromarray(crop).save(buffer, "PNG")
        crops.append(buffer.getvalue())
    return crops or [page_bytes]


def document_cases() -> list[Case]:
    """The copy pages of ``../shared/documents``, each card cut out and read on its own.

    Finding the cards on a page is the engine's page logic; this set scores reading
    each card, whatever finds it.
    """
    cases = []
    for sidecar in sorted(DOCUMENTS.glob("*.json")):
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        if not meta.get("sides"):
            continue
        truth = dict(meta["truth"])
        if "timelimit" in truth:
            truth["timelimit"] = _compact_period(truth["timelimit"])
        page = (DOCUMENTS / meta["file"]).read_bytes()
        crops = _card_crops(page)
        cases.append(Case(meta["file"], page, "+".join(sorted(meta["sides"])), truth,
                          [f"{len(crops)} crops"], frozenset({"copy"}), crops))  # fmt: skip
    return cases


# --------------------------------------------------------------------------- scoring


def observed(data: Any) -> dict[str, str]:
    """The engine's answer in the harness's field forms (birth as YYYY-MM-DD)."""
    info = data.info
    out = {
        "name": info.name or "",
        "sex": info.sex or "",
        "nation": info.nation or "",
        "address": info.address or "",
        "number": info.number or "",
        "authority": info.authority or "",
        "timelimit": info.timelimit or "",
        "birth": "",
    }
    if info.year and info.month and info.day and info.month.isdigit() and info.day.isdigit():
        out["birth"] = f"{info.year}-{int(info.month):02d}-{int(info.day):02d}"
    return out


def _reads(result: Any) -> list[Any]:
    """Each card side a result holds: several when the engine read a page of cards."""
    cards = getattr(result, "cards", ()) or ()
    return [getattr(card, "data", card) for card in cards] or [result.data]


def merged_observed(results: list[Any]) -> tuple[dict[str, str], str]:
    """Fields read from one or more recognitions of one case, and the sides seen."""
    out: dict[str, str] = {}
    sides = []
    for result in results:
        for data in _reads(result):
            if not any(data.validity.values()):
                continue
            sides.append(data.side or "")
            for key, value in observed(data).items():
                if value and not out.get(key):
                    out[key] = value
    return out, "+".join(sorted(set(sides)))


def _card_sides(sides: str) -> set[str]:
    """``front+back`` or ``both`` -> {front, back}: the card sides a case holds."""
    out = set(sides.split("+")) - {""}
    return (out - {"both"}) | ({"front", "back"} if "both" in out else set())


def score(cases: list[Case], results: list[list[Any]]) -> dict[str, Any]:
    """Exact-match counts per field, overall, side accuracy, warnings and the failures."""
    from tests.stamp_remnants import remnants

    stamp_texts = (*STAMP_TEXTS, *load_make_samples().WATERMARKS)
    per_field: dict[str, list[int]] = {}
    per_face: dict[str, list[int]] = {}
    failures = []
    stamped_fields = []
    side_ok = sides_lost = 0
    for case, case_results in zip(cases, results, strict=True):
        got, sides = merged_observed(case_results)
        side_ok += sides == case.side
        sides_lost += len(_card_sides(case.side) - _card_sides(sides))
        face = per_face.setdefault("bold" if BOLD_TAG in case.degradations else "regular",
                                   [0, 0, 0])  # fmt: skip
        face[2] += 1
        for name, want in case.truth.items():
            hits = per_field.setdefault(name, [0, 0])
            hits[1] += 1
            face[1] += 1
            face[0] += got.get(name, "") == want
            left = remnants(want, got.get(name, ""), stamp_texts)
            if left:
                stamped_fields.append({"case": case.name, "field": name, "want": want,
                                       "got": got.get(name, ""), "remnants": left})  # fmt: skip
            if got.get(name, "") == want:
                hits[0] += 1
            else:
                failures.append(
                    {"case": case.name, "field": name, "want": want, "got": got.get(name, ""),
                     "side": sides, "degradations": case.degradations}
                )  # fmt: skip
    total_ok = sum(ok for ok, _ in per_field.values())
    total = sum(n for _, n in per_field.values())
    return {
        "fields": {
            k: {"exact": ok, "total": n, "rate": ok / n} for k, (ok, n) in per_field.items()
        },
        "overall": {"exact": total_ok, "total": total, "rate": total_ok / total if total else 0},
        "side": {"exact": side_ok, "total": len(cases), "lost": sides_lost},
        # Fields exact per face the cards were drawn in (``card_face``).
        "faces": {k: {"cases": c, "exact": ok, "total": n, "rate": ok / n if n else 0}
                  for k, (ok, n, c) in sorted(per_face.items())},  # fmt: skip
        # Fields holding any piece of a copy's stamp (tests/stamp_remnants.py): none may.
        "stamp_remnants": {"fields": len(stamped_fields), "total": total,
                           "cases": stamped_fields},  # fmt: skip
        "warnings": score_warnings(cases, results),
        "failures": failures,
    }


def score_warnings(cases: list[Case], results: list[list[Any]]) -> dict[str, Any] | None:
    """Hit and false-positive rate of each image warning the engine raised.

    A hit is a warning raised on a picture made to raise it (``Case.expected_warnings``);
    a false positive, one raised on a picture not made to. None while the engine
    reports no warnings.
    """
    raised: list[set[str]] = []
    for case_results in results:
        found = [getattr(r, "warnings", None) for r in case_results]
        if all(w is None for w in found):
            return None
        raised.append({name for w in found if w for name in w})
    names = sorted({n for r in raised for n in r} | {n for c in cases for n in c.expected_warnings})
    out = {}
    for name in names:
        positives = [name in got for case, got in zip(cases, raised, strict=True)
                     if name in case.expected_warnings]  # fmt: skip
        negatives = [name in got for case, got in zip(cases, raised, strict=True)
                     if name not in case.expected_warnings]  # fmt: skip
        out[name] = {"hits": sum(positives), "positives": len(positives),
                     "false_positives": sum(negatives), "negatives": len(negatives)}  # fmt: skip
    return out


#: The day ``expired`` is judged against: pinned, so a set's numbers do not move with
#: the calendar.
REVIEW_AS_OF = datetime.date(2026, 1, 1)
#: The harness's field -> the output columns holding it (``rows.PROVIDER_KEY_COLUMNS``).
FIELD_COLUMNS = {
    "name": ("name",), "sex": ("sex",), "nation": ("nation",), "birth": ("birth_date",),
    "address": ("address",), "number": ("id_number",), "authority": ("authority",),
    "timelimit": ("valid_from", "valid_to"),
}  # fmt: skip
#: The side of a row -> the harness fields it holds.
SIDE_FIELDS = {"front": FRONT_FIELDS, "back": BACK_FIELDS, "both": (*FRONT_FIELDS, *BACK_FIELDS)}
#: Targets of the review signal (README, "Review signal"): wrong rows let through, rows
#: read right flagged all the same (on clean valid cards and clean copies), and what a
#: confidence of 0.95 or more promises.
TARGET_SILENT_ERRORS = 0.005
TARGET_REVIEW_RATE = 0.10
TARGET_CONFIDENT_RIGHT = 0.995
CONFIDENT_AT = 0.95
#: Sets of clean, valid cards and clean copies: the review-rate target is theirs.
REVIEW_RATE_SETS = ("flat", "photocopy", "specimens", "documents")


def reviewed_rows(case_results: list[Any], review_on: tuple[str, ...] = ()) -> list[Any]:
    """The rows a run writes for one case's recognitions: each card read becomes a row
    with the picture's warnings, its checks as of ``REVIEW_AS_OF`` and the review signal
    (what ``recognition.ImageRows`` and ``Runner.present`` do)."""
    import dataclasses
    import inspect

    from batch_ocr import statuses
    from batch_ocr.run.cards import CardRead
    from batch_ocr.run.present import review
    from batch_ocr.run.present.checks import check_row
    from batch_ocr.run.present.review import with_review

    # What a run records beside a row whose engine placed its glare (not before it).
    placed_mark = getattr(review, "placed_mark", None)
    from batch_ocr.run.present.rows import row_from_card

    # The same harness measures a review signal that knows no ``review_on`` (before it).
    takes_review_on = "review_on" in inspect.signature(with_review).parameters
    rows = []
    for result in case_results:
        reads = getattr(result, "cards", ()) or (
            CardRead(result.data, confidence=result.confidence),)
        for read in reads:
            row = row_from_card("case", read.data, attempts=1, sha256="",
                                confidence=read.confidence)  # fmt: skip
            if row.status in statuses.WARNED_STATUSES:
                warnings = [*(result.warnings or ()), *read.warnings]
                row = dataclasses.replace(row, warnings=warnings)
                if placed_mark is not None and result.warnings is not None:
                    row = dataclasses.replace(
                        row, review_reasons=placed_mark(warnings, read.confidence))
            checks = check_row(row, as_of=REVIEW_AS_OF)
            extra = {"review_on": review_on} if takes_review_on else {}
            rows.append(with_review(row, checks=checks, **extra))
    return rows


def _row_fields(row: Any) -> dict[str, str]:
    """A row's fields in the harness's forms (``timelimit`` as the API gives it)."""
    out = {key: "".join(str(getattr(row, c)) for c in columns)
           for key, columns in FIELD_COLUMNS.items()}  # fmt: skip
    start, end = row.valid_from.replace("-", ""), row.valid_to.replace("-", "")
    out["timelimit"] = f"{start}-{end}" if start or end else ""
    return out


def _field_confidence(row: Any, key: str) -> float | None:
    scores = [row.confidence[c] for c in FIELD_COLUMNS[key] if c in row.confidence]
    return min(scores) if scores else None


def _card_breaks_a_rule(case: Case) -> bool:
    """Whether the card as printed fails an ID check (``expired`` aside): its row needs
    a person however well it is read."""
    from batch_ocr.run.present.checks import check_row
    from batch_ocr.run.present.rows import Row, split_timelimit

    truth = case.truth
    valid_from, valid_to = split_timelimit(truth.get("timelimit"))
    sides = _card_sides(case.side)
    side = "both" if sides == {"front", "back"} else next(iter(sides), "")
    row = Row(file=case.name, status="ok", side=side, sex=truth.get("sex", ""),
              nation=truth.get("nation", ""), birth_date=truth.get("birth", ""),
              id_number=truth.get("number", ""), valid_from=valid_from,
              valid_to=valid_to)  # fmt: skip
    from batch_ocr import id_rules

    # A number the card prints wrong (17 or 19 characters, a check character or a birth
    # date that cannot be) fails its own rule: its row is rightly flagged ``invalid:``.
    number = truth.get("number")
    if number is not None and not id_rules.id_number_valid(number):
        return True
    return any(check != "expired" for check in check_row(row, as_of=REVIEW_AS_OF))


def score_review(cases: list[Case], results: list[list[Any]],
                 review_on: tuple[str, ...] = ()) -> dict[str, Any]:  # fmt: skip
    """The review signal on one set: silent errors, review rate, confidence calibration.

    A case's rows are those a run writes for its image (its crops'). A field is wrong
    when the row holding it reads it otherwise than the truth, or no row holds it (a
    side lost). A wrong field is *silent* when the row holding it does not need review
    (a lost field: when no row of the case does); a case with a silent one is a silent
    error. The review rate is the share of cases whose every field is right and that
    are flagged all the same (cards that fail an ID check as printed, rightly flagged,
    are counted apart). Calibration: of the fields read with a confidence of
    ``CONFIDENT_AT`` or more, the share right.
    """
    silent_cases, wrong_cases, right_cases, flagged_right, invalid_cards = [], 0, 0, 0, 0
    confident = [0, 0]
    reasons: dict[str, int] = {}
    for case, case_results in zip(cases, results, strict=True):
        rows = reviewed_rows(case_results, review_on)
        held: dict[str, list[Any]] = {}
        for row in rows:
            if row.status != "ok":
                continue
            for key in SIDE_FIELDS.get(row.side, ()):
                held.setdefault(key, []).append(row)
        wrong, silent = [], []
        for key, want in case.truth.items():
            holders = held.get(key, [])
            reads = [(row, _row_fields(row)[key]) for row in holders]
            for row, got in reads:
                score = _field_confidence(row, key)
                if score is not None and score >= CONFIDENT_AT:
                    confident[0] += got == want
                    confident[1] += 1
            if any(got == want for _, got in reads):
                continue
            wrong.append(key)
            flagged = [row.needs_review for row in holders] or [r.needs_review for r in rows]
            if not any(flagged):
                silent.append(key)
        flagged_case = any(row.needs_review for row in rows)
        if wrong:
            wrong_cases += 1
            if silent:
                silent_cases.append({"case": case.name, "fields": silent})
        elif _card_breaks_a_rule(case):
            # Read right, and rightly flagged: the card itself fails an ID check (a
            # specimen's number). Not a row the review rate is about.
            invalid_cards += 1
        else:
            right_cases += 1
            flagged_right += flagged_case
            if flagged_case:
                for reason in {r.split(":")[0] + ":" + r.split(":")[1]
                               for row in rows for r in row.review_reasons}:  # fmt: skip
                    reasons[reason] = reasons.get(reason, 0) + 1
    total = len(cases)
    return {
        "cases": total,
        "wrong_cases": wrong_cases,
        "silent_errors": len(silent_cases),
        "silent_rate": len(silent_cases) / total if total else 0.0,
        "silent_cases": silent_cases,
        "right_cases": right_cases,
        "invalid_cards": invalid_cards,
        "flagged_right": flagged_right,
        "review_rate": flagged_right / right_cases if right_cases else 0.0,
        # What flagged the rows read right, most common first.
        "right_flagged_by": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
        "confident_fields": confident[1],
        "confident_right": confident[0],
        "confident_rate": confident[0] / confident[1] if confident[1] else 1.0,
        "review_on": list(review_on),
    }


def review_met(name: str, review: dict[str, Any]) -> bool:
    """Silent errors, calibration and (on the clean sets) the review rate on target."""
    met = review["silent_rate"] <= TARGET_SILENT_ERRORS
    met &= review["confident_rate"] >= TARGET_CONFIDENT_RIGHT
    if name in REVIEW_RATE_SETS:
        met &= review["review_rate"] <= TARGET_REVIEW_RATE
    return met


def review_markdown(review: dict[str, Any]) -> str:
    """The review signal's lines of one set's table."""
    lines = [
        f"silent errors (a wrong field, needs_review false): {review['silent_errors']}"
        f"/{review['cases']} ({review['silent_rate']:.1%})",
        f"review rate (flagged among rows read right): {review['flagged_right']}"
        f"/{review['right_cases']} ({review['review_rate']:.1%}; besides "
        f"{review['invalid_cards']} read right whose card fails an ID check as printed)",
        f"confidence >= {CONFIDENT_AT}: {review['confident_right']}/"
        f"{review['confident_fields']} right ({review['confident_rate']:.2%})",
    ]
    if review["right_flagged_by"]:
        lines.append("  rows read right flagged by: " + ", ".join(
            f"{reason} {n}" for reason, n in review["right_flagged_by"].items()))  # fmt: skip
    lines += [f"  - silent: {c['case']} {', '.join(c['fields'])}"
              for c in review["silent_cases"]]  # fmt: skip
    return "\n".join(lines)


LABELS = {
    "name": "name", "sex": "sex", "nation": "nation", "birth": "birth date",
    "address": "address", "number": "ID number", "authority": "authority",
    "timelimit": "validity period",
}  # fmt: skip


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return ""
    if row["exact"] == row["total"]:
        return f"{row['exact']}/{row['total']}"
    return f"{row['exact']}/{row['total']} ({row['rate']:.1%})"


def _share(review: dict[str, Any] | None, part: str, whole: str, digits: int = 1) -> str:
    if review is None:
        return ""
    n, total = review[part], review[whole]
    return f"{n}/{total} ({n / total:.{digits}%})" if total else f"{n}/{total}"


def summary_table(reports: dict[str, dict[str, Any]]) -> str:
    """One markdown table: fields down, sets across, then side, CPU and warnings."""
    names = list(reports)
    lines = ["| field | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for key, label in LABELS.items():
        cells = [_cell(reports[n]["fields"].get(key)) for n in names]
        if any(cells):
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("| **all fields** | " + " | ".join(
        f"**{_cell(reports[n]['overall'])}**" for n in names) + " |")  # fmt: skip
    lines.append("| side right | " + " | ".join(
        f"{reports[n]['side']['exact']}/{reports[n]['side']['total']}" for n in names) + " |")  # fmt: skip
    lines.append("| sides lost | " + " | ".join(
        str(reports[n]["side"]["lost"]) for n in names) + " |")  # fmt: skip
    lines.append("| fields with stamp remnants | " + " | ".join(
        str(reports[n]["stamp_remnants"]["fields"]) for n in names) + " |")  # fmt: skip
    lines.append("| silent errors | " + " | ".join(
        _share(reports[n].get("review"), "silent_errors", "cases") for n in names) + " |")  # fmt: skip
    lines.append("| review rate (of rows right) | " + " | ".join(
        _share(reports[n].get("review"), "flagged_right", "right_cases") for n in names)
        + " |")  # fmt: skip
    lines.append(f"| right at confidence >= {CONFIDENT_AT} | " + " | ".join(
        _share(reports[n].get("review"), "confident_right", "confident_fields", 2)
        for n in names) + " |")  # fmt: skip
    lines.append("| CPU s per card | " + " | ".join(
        f"{reports[n]['timing']['cpu_s_per_card']:.3f}" for n in names) + " |")  # fmt: skip
    warned = sorted({w for n in names for w in (reports[n].get("warnings") or {})})
    for warning in warned:
        cells = []
        for n in names:
            row = (reports[n].get("warnings") or {}).get(warning)
            if row is None:
                cells.append("")
                continue
            hit = f"{row['hits']}/{row['positives']} hit" if row["positives"] else ""
            false = f"{row['false_positives']}/{row['negatives']} false"
            cells.append(", ".join(c for c in (hit, false) if c))
        lines.append(f"| warning `{warning}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown(title: str, report: dict[str, Any]) -> str:
    """The per-field table of one set."""
    lines = [f"### {title}", "", "| field | exact | total | rate |", "|---|---:|---:|---:|"]
    order = [f for f in (*FRONT_FIELDS, *BACK_FIELDS) if f in report["fields"]]
    for name in order:
        row = report["fields"][name]
        lines.append(f"| {name} | {row['exact']} | {row['total']} | {row['rate']:.1%} |")
    overall = report["overall"]
    lines.append(
        f"| **overall** | **{overall['exact']}** | **{overall['total']}** | **{overall['rate']:.1%}** |"
    )
    side = report["side"]
    lines.append("")
    lines.append(f"side right (and card recognised): {side['exact']}/{side['total']}")
    lines.append(f"sides lost: {side['lost']}")
    if len(report.get("faces", {})) > 1:
        lines.append("fields exact by face: " + ", ".join(
            f"{k} {f['exact']}/{f['total']} ({f['rate']:.1%}, {f['cases']} cases)"
            for k, f in report["faces"].items()))  # fmt: skip
    stamped = report["stamp_remnants"]
    lines.append(f"fields with stamp remnants: {stamped['fields']}/{stamped['total']}")
    lines += [f"  - {c['case']} {c['field']}: {c['got']} (remnants {c['remnants']})"
              for c in stamped["cases"]]  # fmt: skip
    timing = report["timing"]
    lines.append(
        f"in process, one thread: CPU {timing['cpu_s_per_card']:.3f} s per card "
        f"(median {timing['median_cpu_s']:.3f}, max {timing['max_cpu_s']:.3f}), "
        f"wall {timing['wall_s_per_card']:.3f} s"
    )
    return "\n".join(lines)


def run_in_process(cases: list[Case]) -> tuple[list[list[Any]], dict[str, float]]:
    """Recognise each case (each of its crops) here, timing CPU and wall clock per card.

    Models are loaded first: start-up and loading are not per-card time. CPU time,
    not wall, is the measure: the machine is shared.
    """
    import statistics

    from batch_ocr.engines.local import _ocr, recognise

    _ocr.models()
    results, cpu, wall = [], [], []
    for case in cases:
        images = case.crops or [case.image_bytes]
        cards = len(case.crops) or case.cards_on_image
        c0, w0 = time.process_time(), time.perf_counter()
        results.append([recognise(image) for image in images])
        cpu.append((time.process_time() - c0) / cards)
        wall.append((time.perf_counter() - w0) / cards)
    n = max(1, len(cases))
    return results, {
        "cpu_s_per_card": sum(cpu) / n,
        "median_cpu_s": statistics.median(cpu) if cpu else 0.0,
        "max_cpu_s": max(cpu, default=0.0),
        "wall_s_per_card": sum(wall) / n,
    }


def _peak_rss_mb(pid: int) -> float:
    """A process's peak resident memory (Linux ``VmHWM``), in MB; 0 where unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


async def _run_pool(cases: list[Case], workers: int) -> dict[str, Any]:
    """Every case through a ``WorkerPool`` of ``workers`` processes: the workers' own
    CPU per card (from ``/proc``, models loaded first) and each worker's peak RSS."""
    from batch_ocr.engines.local.processes import WorkerPool

    engine = WorkerPool(workers)
    images = [image for case in cases for image in (case.crops or [case.image_bytes])]
    cards = sum(len(case.crops) or case.cards_on_image for case in cases)
    try:
        # Warm the workers up (model load is per process, not per image).
        await asyncio.gather(*(engine.recognise(images[0]) for _ in range(workers)))
        pool = engine._executor
        pids = list(pool._processes) if pool is not None else []  # noqa: SLF001
        before = {pid: _cpu_of(pid) for pid in pids}
        start = time.perf_counter()
        await asyncio.gather(*(engine.recognise(image) for image in images))
        wall = time.perf_counter() - start
        cpu = sum(_cpu_of(pid) - before[pid] for pid in pids)
        peaks = [round(_peak_rss_mb(pid), 1) for pid in pids]
    finally:
        await engine.aclose()
    return {
        "workers": workers,
        "images": len(images),
        "wall_s": wall,
        "cpu_s_per_card": cpu / max(1, cards),
        "worker_peak_rss_mb": peaks,
    }


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of a live process (Linux ``/proc/PID/stat``)."""
    import os

    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- image warnings (generated sets)

#: Seed of the image-warning sets when ``--seed`` is not given.
WARNING_SEED = 8
TARGET_WARNING_HIT = 0.9
TARGET_WARNING_FALSE_POSITIVE = 0.05


def image_warning_sets(count: int, seed: int) -> dict[str, list[Any]]:
    """Positives (one degradation each) and clean colour cards, from tests/warning_cases."""
    from tests import warning_cases

    shared = list(warning_cases.shared_cases())
    return {
        "positives": list(warning_cases.degraded_cases(count, seed)),
        "clean": [
            *warning_cases.clean_cases(2 * count, seed + 1),
            *warning_cases.sample_cases(),
            *(case for case in shared if not case.expected),
        ],
        "dev_copies": [case for case in shared if case.expected],
    }


def score_image_warnings(sets: dict[str, list[Any]]) -> dict[str, Any]:
    """Per warning: hits on its positives, false positives on clean cards; CPU per image.

    Each picture goes through what a run does: the engine's outline search, then
    ``image_warnings.detect``.
    """
    from batch_ocr.vision import image_warnings
    from batch_ocr.vision.photo import find_card

    raised: dict[str, list[list[str]]] = {}
    cpu: list[float] = []
    for name, cases in sets.items():
        raised[name] = []
        for case in cases:
            started = time.process_time()
            raised[name].append(image_warnings.detect(case.image, find_card(case.image)))
            cpu.append(time.process_time() - started)
    report: dict[str, Any] = {"warnings": {}, "false_positive_cases": []}
    clean = sets["clean"]
    for warning in image_warnings.WARNINGS:
        positives = [got for case, got in zip(sets["positives"], raised["positives"],
                                              strict=True) if warning in case.expected]
        dev = [got for case, got in zip(sets["dev_copies"], raised["dev_copies"], strict=True)
               if warning in case.expected]  # fmt: skip
        # Another degradation's pictures should not raise this one either.
        others = [got for case, got in zip(sets["positives"], raised["positives"], strict=True)
                  if warning not in case.expected]  # fmt: skip
        false = sum(warning in got for got in raised["clean"])
        report["warnings"][warning] = {
            "hits": sum(warning in got for got in positives),
            "positives": len(positives),
            "dev_hits": sum(warning in got for got in dev),
            "dev_positives": len(dev),
            "false_positives": false,
            "clean": len(clean),
            "cross_positives": sum(warning in got for got in others),
            "cross_total": len(others),
        }
    report["false_positive_cases"] = [
        {"case": case.name, "warnings": got}
        for case, got in zip(clean, raised["clean"], strict=True) if got
    ]  # fmt: skip
    report["cpu_ms_per_image"] = 1000 * sum(cpu) / max(1, len(cpu))
    return report


def image_warnings_markdown(report: dict[str, Any]) -> str:
    """The warnings table: hit rate, dev-set hits, false positives on clean cards."""
    lines = [
        "### image warnings",
        "",
        "| warning | hits on generated positives | real positives (dev set) "
        "| false positives on clean colour cards | raised on other degradations |",
        "|---|---:|---:|---:|---:|",
    ]
    for warning, row in report["warnings"].items():
        dev = f"{row['dev_hits']}/{row['dev_positives']}" if row["dev_positives"] else "-"
        lines.append(
            f"| {warning} | {row['hits']}/{row['positives']} "
            f"({row['hits'] / max(1, row['positives']):.0%}) | {dev} "
            f"| {row['false_positives']}/{row['clean']} "
            f"({row['false_positives'] / max(1, row['clean']):.1%}) "
            f"| {row['cross_positives']}/{row['cross_total']} |"
        )
    lines += ["", f"CPU per image (outline search + every measure): "
                  f"{report['cpu_ms_per_image']:.1f} ms"]  # fmt: skip
    return "\n".join(lines)


def image_warnings_met(report: dict[str, Any]) -> bool:
    """Every warning hits at least 90 % of its positives with at most 5 % false positives."""
    return all(
        row["hits"] >= TARGET_WARNING_HIT * row["positives"]
        and row["false_positives"] <= TARGET_WARNING_FALSE_POSITIVE * row["clean"]
        for row in report["warnings"].values()
    )


def main(argv: list[str] | None = None) -> int:
    """Run the harness; exit 0 when every target is met, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    choices = (*GENERATED_SETS, "specimens", "documents", "all")
    parser.add_argument("--set", choices=choices, action="append",
                        help="a set to run (repeatable; default: all)")  # fmt: skip
    parser.add_argument("--count", type=int, default=None,
                        help="cards per generated set (default 40 for synthetic, 24 others)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=None, help="seed of the generated sets")
    parser.add_argument("--workers", type=int, default=1,
                        help="also run every set through the local engine's worker pool with this many "
                             "processes, for per-worker CPU and peak memory (0: skip)")  # fmt: skip
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT, help="JSON report path")
    parser.add_argument("--failures", action="store_true", help="print every wrong field")
    parser.add_argument("--warnings", type=int, default=20, metavar="N",
                        help="image warnings: N generated positives per warning and 2N "
                             "clean cards (default 20; 0: skip)")  # fmt: skip
    parser.add_argument("--review-on", default="", metavar="RISK,...",
                        help="document risks that also flag rows, as batch-ocr's "
                             "--review-on (default: none)")  # fmt: skip
    args = parser.parse_args(argv)
    review_on = tuple(r.strip() for r in args.review_on.split(",") if r.strip())

    from batch_ocr.engines.local import available

    if not available():
        print("the local engine is not installed: pip install 'batch-ocr[local]'", file=sys.stderr)
        return 2
    wanted = set(args.set or ["all"])
    every = "all" in wanted
    sets: dict[str, list[Case]] = {}
    for name, (build, seed) in GENERATED_SETS.items():
        if every or name in wanted:
            count = args.count or (40 if name == "synthetic" else 24)
            sets[name] = build(count, seed if args.seed is None else args.seed)
    for name, folder, build_shared in (("specimens", SPECIMENS, specimen_cases),
                                       ("documents", DOCUMENTS, document_cases)):  # fmt: skip
        if every or name in wanted:
            if folder.is_dir():
                sets[name] = build_shared()
            else:
                print(f"no {name} at {folder}: skipping that set", file=sys.stderr)

    full: dict[str, Any] = {"targets": {"exact_rate": TARGET_EXACT,
                                        "cpu_s_per_card": TARGET_CPU_S_PER_CARD,
                                        "worker_peak_rss_mb": TARGET_PEAK_RSS_MB}}  # fmt: skip
    reports: dict[str, dict[str, Any]] = {}
    met = True
    for name, cases in sets.items():
        results, timing = run_in_process(cases)
        report = score(cases, results)
        report["review"] = score_review(cases, results, review_on)
        report["timing"] = timing
        if args.workers > 0:
            report["pool"] = asyncio.run(_run_pool(cases, args.workers))
        reports[name] = full[name] = report
        print(markdown(f"{name} ({len(cases)} cards)", report))
        print(review_markdown(report["review"]))
        if "pool" in report:
            pool = report["pool"]
            print(f"WorkerPool, {pool['workers']} worker(s): {pool['cpu_s_per_card']:.3f} s CPU "
                  f"per card, peak RSS per worker {pool['worker_peak_rss_mb']} MB")  # fmt: skip
            met &= max(pool["worker_peak_rss_mb"], default=0) <= TARGET_PEAK_RSS_MB
        if args.failures:
            for failure in report["failures"]:
                print(f"  - {failure}")
        print()
        met &= name in STRESS_SETS or report["overall"]["rate"] >= TARGET_EXACT
        met &= report["stamp_remnants"]["fields"] == 0
        met &= review_met(name, report["review"])
        met &= timing["cpu_s_per_card"] <= TARGET_CPU_S_PER_CARD
    generated = [n for n in reports if n in GENERATED_SETS and n not in STRESS_SETS]
    if generated:
        total = sum(reports[n]["overall"]["total"] for n in generated)
        exact = sum(reports[n]["overall"]["exact"] for n in generated)
        full["generated_overall"] = {"exact": exact, "total": total,
                                     "rate": exact / total if total else 0}  # fmt: skip
        print(f"all generated sets: {exact}/{total} ({exact / max(1, total):.1%})\n")
    print(summary_table(reports))
    if args.warnings > 0:
        seed = WARNING_SEED if args.seed is None else args.seed
        image_warnings_report = score_image_warnings(image_warning_sets(args.warnings, seed))
        full["image_warnings"] = image_warnings_report
        print()
        print(image_warnings_markdown(image_warnings_report))
        met &= image_warnings_met(image_warnings_report)
    args.report.write_text(json.dumps(full, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nreport: {args.report}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
