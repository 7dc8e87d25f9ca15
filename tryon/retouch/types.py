"""Values passed between the retouch stages (frozen; arrays are never changed after they are made)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tryon.errors import InputError

BACKGROUNDS = ("white", "transparent")  # or "#RRGGBB"
SHADOWS = ("contact", "drop", "reflection", "none")
METALS = ("auto", "yellow-gold", "rose-gold", "white-gold", "silver", "platinum")
FRAMES = ("fill", "keep")
FORMATS = ("jpg", "png", "webp")
FILL_SIZE_PX = 2000  # --frame fill's default canvas: marketplaces ask for 1000 to 2100 px on the longer side
FILL_SHARE = 0.85  # --frame fill: the piece spans this share of the canvas's longer side


def parse_colour(text: str) -> tuple[int, int, int]:
    """'#RRGGBB' -> (r, g, b) 0..255; InputError for anything else."""
    t = text.strip()
    if len(t) != 7 or t[0] != "#":
        raise InputError(f"background colour '{text}': write it as #RRGGBB, e.g. #F5F5F5")
    try:
        return int(t[1:3], 16), int(t[3:5], 16), int(t[5:7], 16)
    except ValueError:
        raise InputError(f"background colour '{text}': write it as #RRGGBB, e.g. #F5F5F5") from None


@dataclass(frozen=True)
class RetouchOptions:
    """What the user chose. `size_px`: the canvas's longer side (fill: default FILL_SIZE_PX; keep: the input's)."""

    background: str = "white"
    shadow: str = "contact"
    metal: str = "auto"
    frame: str = "fill"
    size_px: int | None = None
    format: str = "jpg"

    def __post_init__(self) -> None:
        if self.background not in BACKGROUNDS:
            parse_colour(self.background)
        for name, value, allowed in (("shadow", self.shadow, SHADOWS), ("metal", self.metal, METALS),
                                     ("frame", self.frame, FRAMES), ("format", self.format, FORMATS)):
            if value not in allowed:
                raise InputError(f"--{name} '{value}': use one of {', '.join(allowed)}")
        if self.size_px is not None and not 64 <= self.size_px <= 8000:
            raise InputError(f"--size {self.size_px}: use 64 to 8000 pixels")

    @property
    def ext(self) -> str:
        """The output's file extension: png whenever the background is transparent (JPEG has no alpha)."""
        return "png" if self.background == "transparent" and self.format == "jpg" else self.format

    def background_rgb(self) -> tuple[int, int, int] | None:
        """The background colour, or None for transparent."""
        if self.background == "transparent":
            return None
        return (255, 255, 255) if self.background == "white" else parse_colour(self.background)


@dataclass(frozen=True)
class Matte:
    """The piece's coverage in the photo.

    alpha : (H, W) float32 0..1, the piece only (not its shadow, not the stand or card it lies on; a ring's
        or hoop's open interior is 0)
    box : (x0, y0, x1, y1) pixels, the piece's bounding box (alpha > 0.5), x1 and y1 exclusive
    """

    alpha: np.ndarray
    box: tuple[int, int, int, int]


@dataclass(frozen=True)
class Look:
    """What makes a batch look alike: measured on one output, imposed on the others (or read from --match REF).

    exposure : median luminance (0..1, sRGB) of the piece
    white_rgb : (3,) the piece's bright neutral point, 0..1 sRGB
    fill_share : the share of the canvas's longer side the piece spans
    """

    exposure: float
    white_rgb: tuple[float, float, float]
    fill_share: float = FILL_SHARE


@dataclass(frozen=True)
class Retouched:
    """One photo's result.

    image : (H, W, 3) uint8 RGB on the chosen background, or (H, W, 4) uint8 RGBA when transparent
    alpha : (H, W) float32 0..1, the piece in the output's frame (shadow not included)
    metal : the alloy the tone was moved toward ('none' when no metal was found)
    checks : marketplace checks by name -> {"ok": bool, "value": ..., "rule": str}
    steps : what each step did (specks removed, highlight pixels rolled off, ...), for the manifest
    """

    image: np.ndarray
    alpha: np.ndarray
    metal: str
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    steps: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(c["ok"] for c in self.checks.values())
