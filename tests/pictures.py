"""Pictures that stand in for cards in tests: each has something on it.

A blank, uniform or tiny picture is never sent to an engine (docs/reference.md, "Statuses":
``blank_image``, ``image_too_small``), so a stand-in for a card carries a frame and a
label in a colour that stands out from its background, and is at least 100 px long.
"""

from __future__ import annotations

from PIL import Image, ImageColor, ImageDraw


def ink_for(colour: str | tuple[int, ...]) -> tuple[int, int, int]:
    """Black on a light background, white on a dark one."""
    rgb = ImageColor.getrgb(colour) if isinstance(colour, str) else colour
    return (0, 0, 0) if sum(rgb[:3]) > 380 else (255, 255, 255)


def marked(size: tuple[int, int], colour: str | tuple[int, ...] = "white",
           label: str = "") -> Image.Image:
    """A ``size`` picture of ``colour`` with a frame and ``label`` drawn on it."""
    image = Image.new("RGB", size, colour if isinstance(colour, str) else tuple(colour))
    ink = ink_for(colour)
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.rectangle((width // 8, height // 8, width - width // 8, height - height // 8),
                   outline=ink, width=max(1, min(size) // 30))
    if label:
        draw.text((width // 8 + 4, height // 8 + 4), label, fill=ink)
    return image
