"""One product photo's path through the studio: matte, clean, compose, checks (DESIGN.md, "The studio's path").

`retouch(rgb, options)` runs the stages in order and returns a `Retouched` value. Every pixel of the piece comes
from the photo: the stages move tones and remove specks, they never draw detail.

For `--frame fill` the work after the matte happens on a crop around the piece, scaled down to the size it will
have on the canvas (a 12 MP photo of a ring becomes a ~1.7 MP crop), so cleaning costs what the output needs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import time
from typing import Any

import cv2
import numpy as np

from tryon.errors import InputError
from tryon.retouch.checks import marketplace_checks
from tryon.retouch.compose import compose
from tryon.retouch.dust import remove_dust
from tryon.retouch.gems import restore_gems
from tryon.retouch.look import apply_look, measure_look
from tryon.retouch.matte import check_rgb, cut_out, foreground_colours
from tryon.retouch.tone import balance_white, correct_metal, detect_metal, roll_off_highlights
from tryon.retouch.types import FILL_SHARE, FILL_SIZE_PX, Look, Matte, Retouched, RetouchOptions

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
CROP_MARGIN = 0.12  # of the piece's longer side, kept around it for the fill crop (edges, the shadow's room)
LOOK_SIDE_PX = 640  # a batch's looks are measured on copies this size (the look is a few medians)


def keep_freed_memory() -> bool:
    """For a process that retouches photo after photo (the CLI, a batch worker, the server's retouch worker):
    glibc serves large buffers (a 2000 px float canvas is 48 MB) from the heap and keeps what is freed, instead of
    mapping fresh pages for each and unmapping them after. On this VM the page faults of fresh mappings made
    compose take 0.2 to 1.0 s per photo at random; with the heap kept, 0.15 s. The process keeps its peak memory
    until it ends. Whether glibc took it (False elsewhere: other C libraries, macOS)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, 1 << 30)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, (1 << 31) - 1))
    except (OSError, AttributeError):
        return False


def retouch(rgb: np.ndarray, options: RetouchOptions, look: Look | None = None) -> Retouched:
    """The catalog image of the piece in `rgb` ((H, W, 3) uint8 sRGB).

    look: the batch's look (or --match REF's) to bring the piece to; None keeps the photo's own.
    Raises InputError for a bad photo or one with nothing to cut out.
    """
    check_rgb(rgb, "retouch")
    steps: dict[str, Any] = {}
    t0 = time.perf_counter()
    matte = cut_out(rgb)
    steps["matte_s"] = round(time.perf_counter() - t0, 3)
    rgb, gains = balance_white(rgb, matte.alpha)  # on the whole photo: it reads the background around the piece
    steps["white_gains"] = [round(float(g), 4) for g in gains]
    rgb, alpha, scale = work_frame(rgb, matte, options)
    steps["work_scale"] = round(scale, 4)
    rgb, steps["specks_removed"] = remove_dust(rgb, alpha)
    rgb, steps["highlight_px"] = roll_off_highlights(rgb, alpha)
    metal = detect_metal(rgb, alpha) if options.metal == "auto" else options.metal
    rgb = correct_metal(rgb, alpha, metal)
    rgb, steps["stone_px"] = restore_gems(rgb, alpha)
    if look is not None:
        rgb = apply_look(rgb, alpha, look)
    fg = foreground_colours(rgb, alpha)
    image, alpha_out = compose(fg, alpha, options)
    checks = marketplace_checks(image, alpha_out, options)
    steps["total_s"] = round(time.perf_counter() - t0, 3)
    return Retouched(image, alpha_out, metal, checks, steps)


def work_frame(rgb: np.ndarray, matte: Matte, options: RetouchOptions) -> tuple[np.ndarray, np.ndarray, float]:
    """The photo and matte the later stages work on, and the scale from the photo to them.

    keep: the whole photo. fill: a crop of the piece and CROP_MARGIN around it, shrunk (never enlarged: compose
    enlarges once, at the end) to the scale the piece will have on the canvas.
    """
    if options.frame == "keep":
        return rgb, matte.alpha, 1.0
    h, w = matte.alpha.shape
    x0, y0, x1, y1 = matte.box
    side = max(x1 - x0, y1 - y0)
    m = int(round(CROP_MARGIN * side)) + 2
    x0, y0, x1, y1 = max(0, x0 - m), max(0, y0 - m), min(w, x1 + m), min(h, y1 + m)
    crop, alpha = rgb[y0:y1, x0:x1], matte.alpha[y0:y1, x0:x1]
    scale = FILL_SHARE * (options.size_px or FILL_SIZE_PX) / side
    if scale >= 1.0:
        return np.ascontiguousarray(crop), np.ascontiguousarray(alpha), 1.0
    size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
    return (cv2.resize(crop, size, interpolation=cv2.INTER_AREA),
            np.clip(cv2.resize(alpha, size, interpolation=cv2.INTER_AREA), 0.0, 1.0), scale)


def photo_look(rgb: np.ndarray) -> Look:
    """The look of a photo's piece (for --match REF and a batch's shared look), measured on a small copy."""
    check_rgb(rgb, "look")
    s = min(1.0, LOOK_SIDE_PX / max(rgb.shape[:2]))
    small = rgb if s >= 1.0 else cv2.resize(rgb, (max(16, round(rgb.shape[1] * s)), max(16, round(rgb.shape[0] * s))),
                                            interpolation=cv2.INTER_AREA)
    matte = cut_out(small)
    small, _ = balance_white(small, matte.alpha)
    return measure_look(small, matte.alpha)


def batch_look(looks: list[Look]) -> Look:
    """One look for a whole batch: the median of its photos' looks (one odd photo does not move it)."""
    if not looks:
        raise InputError("a batch look needs at least one photo")
    white = np.median(np.array([lk.white_rgb for lk in looks], np.float64), axis=0)
    return Look(float(np.median([lk.exposure for lk in looks])), (float(white[0]), float(white[1]), float(white[2])),
                float(np.median([lk.fill_share for lk in looks])))
