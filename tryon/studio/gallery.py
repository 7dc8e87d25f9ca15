"""Comparison sheets: each piece on a real photo, photo-real shading beside plain PBR, cropped round it.

`tryon gallery PHOTO -o SHEET.jpg --item ID ...` makes one row per item: the item as a stock PBR viewer
lights it (pyrender's own metallic-roughness shading and lights, gems as coloured plastic:
tryon.render.reference), and as our renderer does (the room's light taken from the photo, gem optics, pearl
nacre). Both crops are the same region of the same photo, the same posed parts through the same camera, both
plainly alpha-composited, so only the shading differs.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from tryon.errors import InputError
from tryon.jewelry.catalog import Catalog
from tryon.pipeline import Pipeline, PipelineOptions
from tryon.types import Frame, RenderLayer

TILE_PX = 224
LABEL_PX = 28
MIN_CROP_PX = 48


def jewelry_box(layer: RenderLayer, pad: float = 0.35) -> tuple[int, int, int] | None:
    """(cx, cy, half) a square round the largest piece the layer covers (alpha > 0.05; of a pair of earrings,
    the nearer one), padded; None when empty."""
    if layer.rgba.size == 0:
        return None
    covered = (layer.rgba[..., 3] > 0.05).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(cv2.dilate(covered, np.ones((9, 9), np.uint8)))
    if count < 2:
        return None
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    ys, xs = np.nonzero((labels == largest) & (covered > 0))
    x0, y0 = layer.origin_px
    cx = x0 + (xs.min() + xs.max()) // 2
    cy = y0 + (ys.min() + ys.max()) // 2
    half = max(int((1.0 + pad) * max(np.ptp(xs), np.ptp(ys)) / 2), MIN_CROP_PX // 2)
    return int(cx), int(cy), half


def crop_square(rgb: np.ndarray, box: tuple[int, int, int], size_px: int = TILE_PX) -> np.ndarray:
    """(size, size, 3) the square box of rgb (edge pixels repeated where it leaves the frame), resized."""
    cx, cy, half = box
    padded = cv2.copyMakeBorder(rgb, half, half, half, half, cv2.BORDER_REPLICATE)
    crop = padded[cy : cy + 2 * half, cx : cx + 2 * half]
    return cv2.resize(crop, (size_px, size_px), interpolation=cv2.INTER_CUBIC if 2 * half < size_px else cv2.INTER_AREA)


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((LABEL_PX, tile.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text, (8, LABEL_PX - 9), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (30, 30, 30), 1, cv2.LINE_AA)
    return np.vstack([bar, tile])


def gallery(rgb: np.ndarray, catalog: Catalog, items: Sequence[str], hfov_deg: float = 60.0,
            columns: int = 2) -> np.ndarray:
    """(H, W, 3) uint8: a pair per item spec, plain PBR (pyrender) on the left and photo-real (ours) on the
    right, `columns` pairs a row."""
    if columns < 1:
        raise InputError("columns must be at least 1")
    if not items:
        raise InputError("name at least one --item")
    rows = []
    # Shading alone is compared: both sides plainly composited (no neural compositor). One pipeline per
    # shading serves every item (a photo keeps no state from one item to the next).
    pipes = {shading: Pipeline(catalog, [], PipelineOptions(mode="image", hfov_deg=hfov_deg, shading=shading,
                                                            use_compositor=False))
             for shading in ("plain", "photoreal")}
    try:
        for spec in items:
            shots = {}
            for shading, pipe in pipes.items():
                pipe.set_items([spec])
                result = pipe.process(Frame(rgb))
                shots[shading] = (result.image, result.layer)
            layer = shots["photoreal"][1]
            box = jewelry_box(layer) if layer is not None else None
            if box is None:
                raise InputError(f"{spec}: nothing to show on this photo (is the place it is worn in view?)")
            pair = np.hstack([_label(crop_square(shots["plain"][0], box), "plain PBR"),
                              _label(crop_square(shots["photoreal"][0], box), "photo-real")])
            rows.append(_label(pair, spec.partition("@")[0]))
    finally:
        for pipe in pipes.values():
            pipe.close()
    gap = np.full((rows[0].shape[0], 8, 3), 255, np.uint8)
    while len(rows) % min(columns, len(items)):
        rows.append(np.full_like(rows[0], 255))
    per_row = min(columns, len(items))
    lines = [np.hstack([x for pair in rows[i : i + per_row] for x in (pair, gap)][:-1])
             for i in range(0, len(rows), per_row)]
    return np.vstack(lines)
