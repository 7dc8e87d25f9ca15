"""Contact sheets for the evaluation tools: square crops of a frame around a case, with the annotated point
and ours marked and a label under each, laid out in a grid (one JPEG per measure).

Colours (RGB): the annotation green, ours red, helpers (chin line, shoulders, our other anchors) blue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

TILE_PX = 240
LABEL_PX = 34  # two lines of text under each crop
GREEN = (40, 220, 40)
RED = (235, 40, 40)
BLUE = (60, 140, 255)
YELLOW = (250, 220, 40)
MAGENTA = (255, 40, 255)
BACKGROUND = (24, 24, 24)
FONT = cv2.FONT_HERSHEY_SIMPLEX
Point = Sequence[float] | np.ndarray  # (2,) pixels


@dataclass(frozen=True)
class Mark:
    """Something to draw on a crop, in the frame's pixel coordinates: a point ("cross", "dot", "ring"), a
    segment from `xy` to `to_xy` ("line"), or a horizontal / vertical frame line ("hline" at y, "vline" at x)."""

    kind: str
    xy: tuple[float, float]
    colour: tuple[int, int, int]
    to_xy: tuple[float, float] | None = None


def crop_box(centre_xy: Point, half_px: float, size: tuple[int, int]) -> tuple[int, int, int]:
    """(x0, y0, side) of a square crop around `centre_xy` with half-side `half_px` (at least 8 px), in frame
    pixels; it may reach past the frame (the outside is padded). size: the frame's (width, height)."""
    half = max(8.0, float(half_px))
    side = int(round(2 * half))
    return int(round(centre_xy[0] - half)), int(round(centre_xy[1] - half)), side


def tile(rgb: np.ndarray, centre_xy: Point, half_px: float, marks: Sequence[Mark],
         label: Sequence[str], overlay: np.ndarray | None = None) -> np.ndarray:
    """(TILE_PX + LABEL_PX, TILE_PX, 3) uint8: the crop, scaled to TILE_PX, with `marks` drawn after scaling (so
    they stay thin) and up to two lines of `label` under it. overlay: (H, W, 4) premultiplied RGBA float in
    0..1 (a rendered layer) composited onto the frame first."""
    h, w = rgb.shape[:2]
    x0, y0, side = crop_box(centre_xy, half_px, (w, h))
    crop = np.full((side, side, 3), BACKGROUND, np.uint8)
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x0 + side), min(h, y0 + side)
    if sx1 > sx0 and sy1 > sy0:
        part = rgb[sy0:sy1, sx0:sx1].astype(np.float32)
        if overlay is not None:
            o = overlay[sy0:sy1, sx0:sx1]
            part = part * (1.0 - o[..., 3:4]) + 255.0 * o[..., :3]
        crop[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = np.clip(part, 0, 255).astype(np.uint8)
    scale = TILE_PX / side
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_NEAREST if scale >= 4 else cv2.INTER_LINEAR
    img = np.ascontiguousarray(cv2.resize(crop, (TILE_PX, TILE_PX), interpolation=interp))

    def at(p: tuple[float, float]) -> tuple[int, int]:
        return int(round((p[0] - x0 + 0.5) * scale - 0.5)), int(round((p[1] - y0 + 0.5) * scale - 0.5))

    for m in marks:
        c = tuple(int(v) for v in m.colour)
        if m.kind == "hline":
            y = at(m.xy)[1]
            cv2.line(img, (0, y), (TILE_PX - 1, y), c, 1, cv2.LINE_AA)
        elif m.kind == "vline":
            x = at(m.xy)[0]
            cv2.line(img, (x, 0), (x, TILE_PX - 1), c, 1, cv2.LINE_AA)
        elif m.kind == "line" and m.to_xy is not None:
            cv2.line(img, at(m.xy), at(m.to_xy), c, 2, cv2.LINE_AA)
        elif m.kind == "dot":
            cv2.circle(img, at(m.xy), 3, c, -1, cv2.LINE_AA)
        elif m.kind == "ring":
            cv2.circle(img, at(m.xy), 9, c, 1, cv2.LINE_AA)
        else:  # a cross with a dark outline, readable on light and dark skin and hair
            cx, cy = at(m.xy)
            for colour, width in (((0, 0, 0), 3), (c, 1)):
                cv2.line(img, (cx - 8, cy), (cx + 8, cy), colour, width, cv2.LINE_AA)
                cv2.line(img, (cx, cy - 8), (cx, cy + 8), colour, width, cv2.LINE_AA)
    out = np.full((TILE_PX + LABEL_PX, TILE_PX, 3), BACKGROUND, np.uint8)
    out[:TILE_PX] = img
    for i, text in enumerate(list(label)[:2]):
        cv2.putText(out, _fit(text), (3, TILE_PX + 13 + 15 * i), FONT, 0.34, (235, 235, 235), 1, cv2.LINE_AA)
    return out


def tint(rgba: np.ndarray, colour: tuple[int, int, int] = MAGENTA) -> np.ndarray:
    """A rendered layer (H, W, 4) premultiplied RGBA as a flat, strong colour where it has any alpha, so a thin
    chain's placement reads on a small crop."""
    a = np.clip(3.0 * rgba[..., 3:4], 0.0, 0.85)
    return np.concatenate([a * (np.asarray(colour, np.float32) / 255.0), a], axis=-1).astype(np.float32)


def _fit(text: str, chars: int = 44) -> str:
    """The text shortened in the middle to fit a tile's width."""
    return text if len(text) <= chars else text[: chars // 2 - 1] + ".." + text[-(chars - chars // 2 - 1) :]


def sheet(tiles: Sequence[np.ndarray], title: str, columns: int = 6) -> np.ndarray:
    """(H, W, 3) uint8: `tiles` (equal sizes) in a grid under a title line; a note when there are none."""
    th, tw = (TILE_PX + LABEL_PX, TILE_PX) if not tiles else tiles[0].shape[:2]
    cols = max(1, min(columns, len(tiles) or 1))
    rows = max(1, -(-len(tiles) // cols))
    gap, head = 4, 26
    title_px = cv2.getTextSize(title, FONT, 0.5, 1)[0][0] + 12
    out = np.full((head + rows * (th + gap), max(cols * (tw + gap) + gap, title_px), 3), BACKGROUND, np.uint8)
    cv2.putText(out, title, (6, 18), FONT, 0.5, YELLOW, 1, cv2.LINE_AA)
    if not tiles:
        cv2.putText(out, "no cases", (6, head + 20), FONT, 0.5, (235, 235, 235), 1, cv2.LINE_AA)
    for i, t in enumerate(tiles):
        r, c = divmod(i, cols)
        y, x = head + r * (th + gap), gap + c * (tw + gap)
        out[y : y + th, x : x + tw] = t
    return out
