"""Generated images for the image warnings: clean cards and one degradation per warning.

Used by ``tests/test_image_warnings.py`` (positives and clean negatives) and by the
accuracy harness (``tests/benchmarks/accuracy.py``, hit and false-positive rates).
Cards are drawn by ``samples/make_samples.py`` for random fictional people, seeded, so
every set is reproducible. Each degradation makes the condition a warning names, the
way it looks in a back office's scans:

- ``copy``: grey, contrast pushed up as a copier does, toner noise, a 复印无效 stamp
  (black, copied with the page, or red, stamped on the copy afterwards);
- ``reshoot``: a photo of a screen: the beat of the screen's pixel grid against the
  camera's sensor (moiré bands with colour fringes), slightly soft;
- ``blur``: Gaussian blur of 2.5 to 5 px on an 856 px card (text no longer sharp);
- ``glare``: a specular highlight (a saturated white blob with a soft rim) over text;
- ``border_incomplete``: 15 to 35 % of the card outside the picture, on one side;
- ``occluded``: a finger or an object (skin-coloured, dark or coloured, shaded) over
  the fields.
"""

from __future__ import annotations

import importlib.util
import math
import random
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
MAKE_SAMPLES = REPO / "samples" / "make_samples.py"
SAMPLES = REPO / "samples" / "cards"
SPECIMENS = REPO.parent / "shared" / "specimens"
DOCUMENTS = REPO.parent / "shared" / "documents"

#: Every warning a degradation below makes, in ``image_warnings.WARNINGS`` order.
DEGRADED = ("copy", "reshoot", "blur", "glare", "border_incomplete", "occluded")


@dataclass
class WarningCase:
    """One image (BGR pixels) and the warnings it must raise."""

    name: str
    image: Any  # np.ndarray, BGR
    expected: set[str] = field(default_factory=set)
    #: The card's corners in the image when it lies on a background (else None).
    quad: Any = None


def load_make_samples() -> ModuleType:
    """``samples/make_samples.py`` as a module, without making ``samples`` a package."""
    if "make_samples" in sys.modules:
        return sys.modules["make_samples"]
    spec = importlib.util.spec_from_file_location("make_samples", MAKE_SAMPLES)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(MAKE_SAMPLES)
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_samples"] = module
    spec.loader.exec_module(module)
    return module


def _bgr(image: Image.Image) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])


def draw_card(rng: random.Random, side: str) -> np.ndarray:
    """A clean card (BGR) of a random fictional person, 640 to 1000 px wide."""
    samples = load_make_samples()
    person = samples.make_person(rng)
    width = rng.choice((640, 760, 856, 1000))
    if side == "front":
        image, _ = samples.draw_front(person, width=width)
    else:
        image = samples.draw_back(person, width=width)
    return _bgr(image)


# --------------------------------------------------------------------------- placement


def _desk(rng: random.Random, width: int, height: int) -> np.ndarray:
    """A plain, wood or dark desk under the card, with sensor noise."""
    noise = np.random.default_rng(rng.randrange(2**32))
    kind = rng.choice(("plain", "wood", "dark"))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    if kind == "plain":
        level = rng.randint(90, 200)
        img = np.full((height, width, 3), level, np.float32) * np.array([1.0, 0.97, 0.93])
    elif kind == "wood":
        base = np.array([rng.randint(50, 110), rng.randint(80, 140), rng.randint(120, 180)])
        grain = np.sin(xx / rng.uniform(6, 18) + 3 * np.sin(yy / rng.uniform(40, 90)))
        img = base[None, None, :] * (0.85 + 0.15 * grain[..., None])
    else:
        img = (25 + 50 * (xx / width))[..., None] * np.array([1.0, 0.95, 0.9])
    img = img + noise.normal(0, 4, (height, width, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def place_on_desk(
    card: np.ndarray, rng: random.Random, *, shift: tuple[float, float] = (0.0, 0.0)
) -> tuple[np.ndarray, np.ndarray]:
    """``card`` photographed on a desk: rotated a little, some perspective.

    ``shift`` moves the card by fractions of its own size (to push it off the picture).
    Returns the picture and the card's corners in it.
    """
    h, w = card.shape[:2]
    canvas_w, canvas_h = int(w * rng.uniform(1.3, 1.6)), int(h * rng.uniform(1.5, 1.9))
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    angle = math.radians(rng.uniform(-6, 6))
    cx = canvas_w / 2 + shift[0] * w
    cy = canvas_h / 2 + shift[1] * h
    target = []
    for x, y in corners - [w / 2, h / 2]:
        xr = x * math.cos(angle) - y * math.sin(angle)
        yr = x * math.sin(angle) + y * math.cos(angle)
        target.append([cx + xr + rng.uniform(-0.02, 0.02) * w,
                       cy + yr + rng.uniform(-0.02, 0.02) * h])  # fmt: skip
    quad = np.array(target, np.float32)
    matrix = cv2.getPerspectiveTransform(corners, quad)
    warped = cv2.warpPerspective(card, matrix, (canvas_w, canvas_h))
    # The drawn cards have white rounded corners: cut them away so the desk shows.
    radius = int(0.035 * w)
    rounded = np.zeros((h, w), np.uint8)
    cv2.rectangle(rounded, (radius, 0), (w - radius, h), 255, -1)
    cv2.rectangle(rounded, (0, radius), (w, h - radius), 255, -1)
    for px, py in ((radius, radius), (w - radius, radius), (radius, h - radius),
                   (w - radius, h - radius)):  # fmt: skip
        cv2.circle(rounded, (px, py), radius, 255, -1)
    mask = cv2.warpPerspective(rounded, matrix, (canvas_w, canvas_h))
    desk = _desk(rng, canvas_w, canvas_h)
    return np.where(mask[..., None] > 127, warped, desk), quad


def camera(image: np.ndarray, rng: random.Random) -> np.ndarray:
    """A light touch of what any photo or scan adds: noise and JPEG at a usual quality."""
    noise = np.random.default_rng(rng.randrange(2**32)).standard_normal(
        image.shape, dtype=np.float32
    )
    noisy = image.astype(np.float32) + noise * rng.uniform(1, 4)
    image = np.clip(noisy, 0, 255).astype(np.uint8)
    quality = rng.choice((70, 85, 92))
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(encoded, cv2.IMREAD_COLOR)


# --------------------------------------------------------------------------- degradations


def photocopy(card: np.ndarray, rng: random.Random) -> np.ndarray:
    """A black-and-white copy: grey, contrast pushed, toner noise, a 复印无效 stamp."""
    grey = cv2.cvtColor(card, cv2.COLOR_BGR2GRAY).astype(np.float32)
    # Copiers wash out pale backgrounds and darken ink.
    low, high = rng.uniform(40, 90), rng.uniform(200, 235)
    grey = np.clip((grey - low) * 255.0 / (high - low), 0, 255)
    grey += np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(3, 9), grey.shape)
    out = cv2.cvtColor(np.clip(grey, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    h, w = out.shape[:2]
    red = rng.random() < 0.5
    colour = (40, 40, 200) if red else (30, 30, 30)  # BGR
    pil = Image.fromarray(out[:, :, ::-1].copy())
    layer = Image.new("RGBA", pil.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    size = int(w * rng.uniform(0.07, 0.1))
    x0, y0 = int(w * rng.uniform(0.15, 0.4)), int(h * rng.uniform(0.3, 0.6))
    rgba = (colour[2], colour[1], colour[0], 210)
    draw.text((x0 + size // 3, y0 + size // 4), "复印无效", font=load_make_samples().card_font(size), fill=rgba)
    draw.rectangle((x0, y0, x0 + int(size * 4.7), y0 + int(size * 1.5)), outline=rgba,
                   width=max(2, size // 12))  # fmt: skip
    layer = layer.rotate(rng.uniform(-15, 15), center=(x0, y0))
    pil = Image.alpha_composite(pil.convert("RGBA"), layer)
    return _bgr(pil)


def moire(card: np.ndarray, rng: random.Random) -> np.ndarray:
    """A photo of the card shown on a screen: moiré bands with colour fringes."""
    h, w = card.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # Two gratings (the screen's pixel rows and the sensor's) at a small angle beat
    # into bands a few to a few tens of pixels apart.
    period = rng.uniform(5.0, 11.0)
    theta = math.radians(rng.uniform(0, 180))
    u = xx * math.cos(theta) + yy * math.sin(theta)
    curve = rng.uniform(0, 0.0004)
    phase = 2 * math.pi * (u / period + curve * (xx - w / 2) ** 2 / period)
    amplitude = rng.uniform(10, 22)
    out = card.astype(np.float32)
    # Sub-pixels sit side by side, so the bands of each colour are shifted: rainbow fringes.
    for channel, shift in enumerate((0.0, 2.1, 4.2)):
        out[:, :, channel] += amplitude * np.sin(phase + shift)
    out = cv2.GaussianBlur(np.clip(out, 0, 255), (0, 0), rng.uniform(0.4, 0.8))
    # A screen is dimmer and bluer than paper.
    out = out * np.array([1.0, 0.96, 0.9]) * rng.uniform(0.85, 0.97)
    return np.clip(out, 0, 255).astype(np.uint8)


def blur(card: np.ndarray, rng: random.Random) -> np.ndarray:
    """Out of focus: Gaussian blur of 2.5-5 px at an 856 px card width."""
    sigma = rng.uniform(2.5, 5.0) * card.shape[1] / 856
    return cv2.GaussianBlur(card, (0, 0), sigma)


def glare(card: np.ndarray, rng: random.Random, side: str) -> np.ndarray:
    """A specular highlight over the text: saturated white core, soft rim."""
    h, w = card.shape[:2]
    cx, cy = _text_point(rng, side)
    rx, ry = w * rng.uniform(0.08, 0.16), h * rng.uniform(0.08, 0.16)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d2 = ((xx - cx * w) / rx) ** 2 + ((yy - cy * h) / ry) ** 2
    alpha = np.clip(1.6 * np.exp(-d2 * 0.8), 0, 1)[..., None]
    out = card.astype(np.float32) * (1 - alpha) + 255.0 * alpha
    return np.clip(out, 0, 255).astype(np.uint8)


def _text_point(rng: random.Random, side: str) -> tuple[float, float]:
    """A point among the fields, as fractions of the card (upright)."""
    if side == "front":
        return rng.uniform(0.12, 0.5), rng.uniform(0.15, 0.7)
    return rng.uniform(0.35, 0.75), rng.uniform(0.72, 0.85)


def occlude(card: np.ndarray, rng: random.Random, side: str) -> np.ndarray:
    """A finger or an object over the fields: a shaded, rounded shape."""
    h, w = card.shape[:2]
    kind = rng.choice(("finger", "dark", "coloured"))
    cx, cy = _text_point(rng, side)
    bw, bh = w * rng.uniform(0.16, 0.3), h * rng.uniform(0.2, 0.4)
    x0, y0 = int(cx * w - bw / 2), int(cy * h - bh / 2)
    x1, y1 = int(x0 + bw), int(y0 + bh)
    if kind == "finger":
        # Enters from the nearest long edge, as a thumb holding the card does.
        if cy > 0.5:
            y1 = h
        else:
            y0 = 0
        colour = np.array([rng.randint(120, 170), rng.randint(150, 190), rng.randint(200, 235)])
    elif kind == "dark":
        colour = np.array([rng.randint(20, 60)] * 3)
    else:
        colour = np.array([rng.randint(0, 255) for _ in range(3)])
    mask = np.zeros((h, w), np.uint8)
    radius = int(min(x1 - x0, y1 - y0) * 0.4)
    cv2.rectangle(mask, (x0 + radius, y0), (x1 - radius, y1), 255, -1)
    cv2.rectangle(mask, (x0, y0 + radius), (x1, y1 - radius), 255, -1)
    for px, py in ((x0 + radius, y0 + radius), (x1 - radius, y0 + radius),
                   (x0 + radius, y1 - radius), (x1 - radius, y1 - radius)):  # fmt: skip
        cv2.circle(mask, (px, py), radius, 255, -1)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    shade = 0.8 + 0.25 * np.sin(xx / max(1.0, bw) * math.pi + yy / max(1.0, bh))
    obj = np.clip(colour[None, None, :] * shade[..., None], 0, 255)
    soft = cv2.GaussianBlur(mask, (0, 0), 2).astype(np.float32)[..., None] / 255
    out = card.astype(np.float32) * (1 - soft) + obj * soft
    return np.clip(out, 0, 255).astype(np.uint8)


def crop_off(card: np.ndarray, rng: random.Random) -> np.ndarray:
    """A tight scan of the card with 15-35 % of it cut off on one side."""
    h, w = card.shape[:2]
    cut = rng.uniform(0.15, 0.35)
    edge = rng.choice(("left", "right", "top", "bottom"))
    if edge == "left":
        return card[:, int(cut * w) :].copy()
    if edge == "right":
        return card[:, : int((1 - cut) * w)].copy()
    if edge == "top":
        return card[int(cut * h) :, :].copy()
    return card[: int((1 - cut) * h), :].copy()


def _off_desk_shift(rng: random.Random) -> tuple[float, float]:
    """A shift that pushes 15-35 % of a card placed by ``place_on_desk`` out of frame."""
    # The canvas is 1.3-1.6 card widths wide and 1.5-1.9 heights tall; half the spare
    # room plus the part to hide.
    cut = rng.uniform(0.2, 0.4)
    if rng.random() < 0.5:
        return (rng.choice((-1, 1)) * (0.3 + cut), 0.0)
    return (0.0, rng.choice((-1, 1)) * (0.45 + cut))


# --------------------------------------------------------------------------- sets


def clean_cases(count: int, seed: int) -> Iterator[WarningCase]:
    """``count`` clean colour cards, fronts and backs alternating, tight or on a desk."""
    rng = random.Random(seed)
    for i in range(count):
        side = "front" if i % 2 == 0 else "back"
        card = draw_card(rng, side)
        if i % 4 < 2:
            yield WarningCase(f"clean-{i:03d}-{side}-tight", camera(card, rng))
        else:
            photo, quad = place_on_desk(card, rng)
            yield WarningCase(f"clean-{i:03d}-{side}-desk", camera(photo, rng), quad=quad)


def degraded_cases(count: int, seed: int) -> Iterator[WarningCase]:
    """``count`` cards per warning, each with that one degradation (see the docstring)."""
    rng = random.Random(seed)
    makers: dict[str, Callable[[np.ndarray, random.Random, str], np.ndarray]] = {
        "copy": lambda card, r, side: photocopy(card, r),
        "reshoot": lambda card, r, side: moire(card, r),
        "blur": lambda card, r, side: blur(card, r),
        "glare": glare,
        "occluded": occlude,
    }
    for warning in DEGRADED:
        for i in range(count):
            side = "front" if i % 2 == 0 else "back"
            card = draw_card(rng, side)
            on_desk = i % 4 >= 2
            name = f"{warning}-{i:03d}-{side}-{'desk' if on_desk else 'tight'}"
            if warning == "border_incomplete":
                if on_desk:
                    photo, _ = place_on_desk(card, rng, shift=_off_desk_shift(rng))
                    image = camera(photo, rng)
                else:
                    image = camera(crop_off(card, rng), rng)
                yield WarningCase(name, image, {warning})
                continue
            card = makers[warning](card, rng, side)
            if on_desk:
                photo, quad = place_on_desk(card, rng)
                yield WarningCase(name, camera(photo, rng), {warning}, quad=quad)
            else:
                yield WarningCase(name, camera(card, rng), {warning})


def decode_file(path: Path) -> np.ndarray:
    """A file's pixels as BGR (Pillow reads GIF and palette TIFF as well)."""
    with Image.open(path) as opened:
        return _bgr(opened)


def sample_cases() -> Iterator[WarningCase]:
    """The project's sample cards (clean colour cards: no warning)."""
    for path in sorted(SAMPLES.iterdir()):
        if path.name.startswith("not_a_card"):
            continue
        yield WarningCase(f"samples/cards/{path.name}", decode_file(path))


#: What the dev sets' pictures are, by file name: clean colour cards raise nothing;
#: the grey copies in ``documents/`` are copies.
SHARED_EXPECTED: dict[str, set[str]] = {
    "bdci_photocopy_huangwu.jpg": {"copy"},
    "bdci_photocopy_nixueting.jpg": {"copy"},
    "grey_specimen_daiyongming.jpg": {"copy"},
}


def shared_cases() -> Iterator[WarningCase]:
    """Published specimens (clean colour cards) and grey copies from ``../shared``."""
    for folder in (SPECIMENS, DOCUMENTS):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.jpg")):
            yield WarningCase(f"{folder.name}/{path.name}", decode_file(path),
                              set(SHARED_EXPECTED.get(path.name, set())))  # fmt: skip
