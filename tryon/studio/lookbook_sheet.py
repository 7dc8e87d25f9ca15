"""A lookbook's contact sheet: one row per model photo, one column per piece; each cell the picture made, or a
grey cell saying why the pair could not be made (or that it is still to come)."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from tryon import media

MAX_CELL_PX = 256
MIN_CELL_PX = 96
MAX_SHEET_PIXELS = 60_000_000  # a large set gets smaller cells, not a sheet no viewer opens
HEADER_PX = 28
LABEL_PX = 22
INK = (30, 30, 30)
PAPER = (250, 250, 250)
EMPTY = (222, 222, 222)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def cell_size(rows: int, cols: int) -> int:
    """The cell's side: MAX_CELL_PX, smaller for large sets (never below MIN_CELL_PX)."""
    fit = int((MAX_SHEET_PIXELS / max(1, rows * cols)) ** 0.5) - LABEL_PX
    return max(MIN_CELL_PX, min(MAX_CELL_PX, fit))


def _text(img: np.ndarray, text: str, org: tuple[int, int], width_px: int, scale: float = 0.4) -> None:
    """One line of text at org, cut to fit width_px."""
    (w, _), _ = cv2.getTextSize(text, FONT, scale, 1)
    while w > width_px and len(text) > 4:
        text = text[:-4] + "..."
        (w, _), _ = cv2.getTextSize(text, FONT, scale, 1)
    cv2.putText(img, text, org, FONT, scale, INK, 1, cv2.LINE_AA)


def _reason_cell(cell: int, reason: str) -> np.ndarray:
    tile = np.full((cell, cell, 3), EMPTY, np.uint8)
    chars = max(8, cell // 7)
    for i, line in enumerate(textwrap.wrap(reason, chars)[: max(1, cell // 16 - 1)]):
        _text(tile, line, (6, 18 + 15 * i), cell - 8, 0.38)
    return tile


def contact_sheet(path: Path, specs: Sequence[str], models: Sequence[str],
                  entries: Mapping[tuple[str, str], Mapping[str, Any]], outdir: Path) -> np.ndarray:
    """Write the sheet (PNG, atomically) and return it: (H, W, 3) uint8. entries: the manifest's pairs by (item,
    model); a done pair's picture is read from OUTDIR/its output."""
    cell = cell_size(len(models), len(specs))
    cols, rows = len(specs), len(models)
    sheet = np.full((HEADER_PX + rows * (cell + LABEL_PX), cols * cell + (cols + 1) * 4, 3), PAPER, np.uint8)
    for c, spec in enumerate(specs):
        _text(sheet, spec, (4 + c * (cell + 4), HEADER_PX - 9), cell, 0.42)
    for r, model in enumerate(models):
        y = HEADER_PX + r * (cell + LABEL_PX)
        for c, spec in enumerate(specs):
            x = 4 + c * (cell + 4)
            e = entries.get((spec, model), {})
            tile = None
            if e.get("status") == "done" and e.get("output"):
                try:
                    tile = cv2.resize(media.read_image(outdir / str(e["output"])), (cell, cell),
                                      interpolation=cv2.INTER_AREA)
                except Exception:  # noqa: BLE001 - a picture removed meanwhile: the cell says so
                    tile = None
                    e = {"reason": "its picture is missing"}
            if tile is None:
                tile = _reason_cell(cell, str(e.get("reason") or "not made yet"))
            sheet[y:y + cell, x:x + cell] = tile
        _text(sheet, model, (6, y + cell + LABEL_PX - 7), sheet.shape[1] - 12)
    media.write_image(path, sheet)
    return sheet
