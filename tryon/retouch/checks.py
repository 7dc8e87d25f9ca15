"""Marketplace checks on a composed output: what Amazon, Etsy, eBay and the like ask of a main product image.

Each check is {"ok": bool, "value": measured value, "rule": one sentence for a person}. The checks read the image
itself (before any encoding) and alpha_out, the piece alone in the output's frame, as compose returns them.

    background : every pixel with no piece (alpha_out == 0) and outside the shadow is exactly the background:
                 255, 255, 255 for white, the chosen #RRGGBB, or alpha 0 for transparent. The shadow's extent is
                 remade from alpha_out (make_shadow is a function of the matte alone), so a grey backdrop, a
                 254 left by resampling or a shadow that runs on fails. value: how many pixels are off.
    fill       : the piece's box (alpha_out > BOX_ALPHA) spans at least MIN_FILL of the canvas in its fuller
                 direction (max of width share and height share; on a square canvas, its longer side's share).
                 Measured for --frame keep too: the rule is the marketplace's, whatever framing was asked for.
    size       : the canvas's longer side is SIZE_RANGE_PX[0]..SIZE_RANGE_PX[1] pixels.
    square     : --frame fill only (a square main image); with --frame keep the photo's own shape is what was
                 asked for, so it does not apply: ok True, value None, and the rule says so.
    clipping   : no part of the piece (alpha_out > ALPHA_FLOOR) lies on the canvas's outermost pixels.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from tryon.errors import InputError
from tryon.retouch.compose import ALPHA_FLOOR
from tryon.retouch.shadow import BOX_ALPHA, piece_box, shadow_extent
from tryon.retouch.types import RetouchOptions

MIN_FILL = 0.80  # the piece spans at least this share of the canvas
SIZE_RANGE_PX = (1000, 2100)  # the canvas's longer side


def marketplace_checks(image: np.ndarray, alpha_out: np.ndarray, options: RetouchOptions) -> dict[str, dict[str, Any]]:
    """The marketplace checks of a composed output (see the module's docstring).

    image : (H, W, 3) uint8 RGB, or (H, W, 4) uint8 RGBA when options.background is "transparent"
    alpha_out : (H, W) float 0..1, the piece alone in the image's frame
    returns : {"background", "fill", "size", "square", "clipping"} -> {"ok": bool, "value": ..., "rule": str}
    """
    _check_inputs(image, alpha_out, options)
    h, w = alpha_out.shape
    return {
        "background": _background(image, alpha_out, options),
        "fill": _fill(alpha_out),
        "size": {"ok": SIZE_RANGE_PX[0] <= max(h, w) <= SIZE_RANGE_PX[1], "value": max(h, w),
                 "rule": f"the longer side is {SIZE_RANGE_PX[0]} to {SIZE_RANGE_PX[1]} pixels"},
        "square": _square(h, w, options),
        "clipping": _clipping(alpha_out),
    }


def _background(image: np.ndarray, alpha: np.ndarray, options: RetouchOptions) -> dict[str, Any]:
    shadow, rect = shadow_extent(alpha, options.shadow)
    free = alpha <= 0  # no piece
    if rect is not None:
        x0, y0, x1, y1 = rect
        free[y0:y1, x0:x1] &= shadow[y0:y1, x0:x1] <= 0
    colour = options.background_rgb()
    if colour is None:
        wrong = image[..., 3] != 0
        rule = "the background (no piece, no shadow) is fully transparent (alpha 0)"
    else:
        c = np.asarray(colour, np.uint8)
        wrong = cv2.inRange(image, c, c) == 0  # one OpenCV pass, not a per-channel numpy compare
        what = "pure white 255, 255, 255" if colour == (255, 255, 255) else "exactly #{:02X}{:02X}{:02X}".format(*colour)
        rule = f"the background (no piece, no shadow) is {what}"
    n = int(np.count_nonzero(free & wrong))
    checked = int(np.count_nonzero(free))
    return {"ok": n == 0, "value": n, "rule": rule + f"; value: pixels that are not ({checked} checked)"}


def _fill(alpha: np.ndarray) -> dict[str, Any]:
    h, w = alpha.shape
    box = piece_box(alpha)
    share = 0.0 if box is None else max((box[2] - box[0]) / w, (box[3] - box[1]) / h)
    return {"ok": share >= MIN_FILL, "value": round(share, 3),
            "rule": f"the piece (alpha > {BOX_ALPHA}) spans at least {MIN_FILL:.0%} of the image's width or height"}


def _square(h: int, w: int, options: RetouchOptions) -> dict[str, Any]:
    rule = "a main image is square"
    if options.frame != "fill":
        return {"ok": True, "value": None, "rule": rule + " (not checked: --frame keep keeps the photo's own shape)"}
    return {"ok": h == w, "value": f"{w}x{h}", "rule": rule}


def _clipping(alpha: np.ndarray) -> dict[str, Any]:
    edge = np.concatenate([alpha[0], alpha[-1], alpha[1:-1, 0], alpha[1:-1, -1]])
    n = int(np.count_nonzero(edge > ALPHA_FLOOR))
    return {"ok": n == 0, "value": n, "rule": "no part of the piece touches the image's edge; value: edge pixels it covers"}


def _check_inputs(image: np.ndarray, alpha: np.ndarray, options: RetouchOptions) -> None:
    if not isinstance(options, RetouchOptions):
        raise InputError(f"marketplace checks: options must be RetouchOptions, got {type(options).__name__}")
    channels = 4 if options.background == "transparent" else 3
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != channels:
        want = "RGBA (H, W, 4)" if channels == 4 else "RGB (H, W, 3)"
        raise InputError(f"marketplace checks: the image must be {want} uint8 for background "
                         f"'{options.background}', got {getattr(image, 'shape', None)} {getattr(image, 'dtype', '')}")
    if not isinstance(alpha, np.ndarray) or alpha.shape != image.shape[:2] or not np.issubdtype(alpha.dtype, np.floating):
        raise InputError(f"marketplace checks: alpha_out must be float {image.shape[:2]} like the image, "
                         f"got {getattr(alpha, 'shape', None)} {getattr(alpha, 'dtype', '')}")
