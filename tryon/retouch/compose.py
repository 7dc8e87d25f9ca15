"""Compose: the piece framed on its output canvas, its shadow under it, the chosen background behind.

The piece is laid over the background in linear light, `F * a + B * (1 - a)` on linear values, because that is
the equation foreground_colours solves for F (matte.py: I = a F + (1 - a) B in linear light, as a camera's
pixel sums the light of the piece and the backdrop it partly covers). Composed with the same equation, a piece
put back on its own backdrop gives the photo's edge pixels back, and a thin chain keeps the weight it had in the
photo; an sRGB blend of the same F and alpha draws every edge darker (a faint dark outline on white). Only the
partly covered pixels (0 < a < 1) differ between the two, so only they pay for the sRGB curve. There is no grey
halo as long as F is the piece's own colour (foreground_colours removes the backdrop's spill): an edge pixel is
then a blend of the piece and the new background, never of the old one. The shadow darkens the background in
sRGB (`B * (1 - darkness)`, a retoucher's multiply layer): its darkness reads directly as the grey seen.

Background pixels are exactly the background colour (255, 255, 255 for white) wherever there is no piece and no
shadow: the piece's alpha is cut to 0 below ALPHA_FLOOR after resampling and the shadow has a hard floor
(shadow.SHADOW_FLOOR), so resampling and soft tails leave no 254s. Only the crop around the piece is resampled
and only the rectangle the piece and its shadow cover is computed; the rest of the canvas is filled as uint8.

Framing (RetouchOptions.frame):
    fill : a square canvas of size_px (default FILL_SIZE_PX); the piece's box (alpha > shadow.BOX_ALPHA, shadow
        not included) centred and scaled so its longer side spans FILL_SHARE of the canvas's side
    keep : the input's canvas and framing; size_px, when given, scales the longer side to it
Resampling is premultiplied (fg * alpha and alpha resampled together, so no colour from outside the piece leaks
into its edge): INTER_AREA down, INTER_CUBIC up, alpha clipped to 0..1 (cubic overshoot would ring).
A transparent output carries F and alpha as they are (straight RGBA): the viewer does the blend.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tryon.compositor.camera import linear_to_srgb, srgb_to_linear
from tryon.errors import InputError
from tryon.retouch.shadow import piece_box, shadow_extent
from tryon.retouch.types import FILL_SHARE, FILL_SIZE_PX, RetouchOptions

ALPHA_FLOOR = 1.0 / 255  # alpha below this after resampling is no piece: it would only turn 255 into 254
FILTER_PAD = 3  # source pixels kept around the piece for the resampling filter's support
SNAP_SCALE = 0.005  # fill: a scale this close to 1 is taken as 1 (the piece then spans FILL_SHARE +- 0.5 %)
MIN_PIECE_PX = 12  # a "piece" smaller than this is a speck: enlarged to fill a canvas it would be a blur


@dataclass(frozen=True)
class Placed:
    """The piece resampled into its canvas: only the crop around it is held.

    canvas : (H, W) of the output
    rect : (x0, y0, x1, y1) of the crop in the canvas, x1 and y1 exclusive
    premul : (y1 - y0, x1 - x0, 3) float32, fg * alpha (premultiplied colour), 0 <= premul <= alpha
    alpha : (y1 - y0, x1 - x0) float32 0..1, 0 below ALPHA_FLOOR
    """

    canvas: tuple[int, int]
    rect: tuple[int, int, int, int]
    premul: np.ndarray
    alpha: np.ndarray

    def full_alpha(self) -> np.ndarray:
        """(H, W) float32: the piece's alpha over the whole canvas."""
        out = np.zeros(self.canvas, np.float32)
        x0, y0, x1, y1 = self.rect
        out[y0:y1, x0:x1] = self.alpha
        return out

    def full_fg(self) -> np.ndarray:
        """(H, W, 3) float32: the piece's straight colour over the whole canvas (0 where there is no piece)."""
        out = np.zeros(self.canvas + (3,), np.float32)
        x0, y0, x1, y1 = self.rect
        a = _rgb(self.alpha)
        out[y0:y1, x0:x1] = np.clip(cv2.divide(self.premul, np.maximum(a, ALPHA_FLOOR)), 0.0, 1.0)
        return out


def place(fg: np.ndarray, alpha: np.ndarray, options: RetouchOptions) -> tuple[np.ndarray, np.ndarray]:
    """Frame the piece on its output canvas (see the module's docstring for fill and keep).

    fg : (H, W, 3) float 0..1 sRGB, the piece's own colour; alpha : (H, W) float 0..1, its matte
    returns : fg (H', W', 3) float32 (0 where alpha is 0), alpha (H', W') float32 in the canvas's frame
    """
    p = place_crop(fg, alpha, options)
    return p.full_fg(), p.full_alpha()


def place_crop(fg: np.ndarray, alpha: np.ndarray, options: RetouchOptions) -> Placed:
    """place(), keeping only the resampled crop around the piece (what compose needs)."""
    fg, alpha = _check_inputs(fg, alpha, options)
    h, w = alpha.shape
    box = piece_box(alpha)
    if box is None:
        raise InputError("nothing to compose: the matte has no piece (alpha is nowhere above 0.5)")
    x0, y0, x1, y1 = box
    if max(x1 - x0, y1 - y0) < MIN_PIECE_PX:
        raise InputError(f"nothing to compose: the piece is {x1 - x0}x{y1 - y0} pixels, too small to frame "
                         f"(at least {MIN_PIECE_PX} on its longer side)")
    if options.frame == "fill":
        side = options.size_px or FILL_SIZE_PX
        canvas = (side, side)
        k = FILL_SHARE * side / max(x1 - x0, y1 - y0)
        # a photo already brought to the canvas's scale (the pipeline shrinks its work frame so) is not resampled
        # by a fraction of a percent: that would only soften pavé and engraving
        k = 1.0 if abs(k - 1.0) < SNAP_SCALE else k
        tx, ty = side / 2 - k * (x0 + x1) / 2, side / 2 - k * (y0 + y1) / 2
    else:
        k = options.size_px / max(h, w) if options.size_px else 1.0
        canvas = (max(1, round(h * k)), max(1, round(w * k)))
        tx = ty = 0.0
    # the source crop: all of the piece's faint edge (not only its box), padded for the filter, limited to what
    # lands on the canvas
    faint = alpha > ALPHA_FLOOR
    rows = np.flatnonzero(faint.any(axis=1))
    cols = np.flatnonzero(faint[rows[0]:rows[-1] + 1].any(axis=0))
    sx0 = max(0, int(cols[0]) - FILTER_PAD, int(np.floor(-tx / k)))
    sx1 = min(w, int(cols[-1]) + 1 + FILTER_PAD, int(np.ceil((canvas[1] - tx) / k)))
    sy0 = max(0, int(rows[0]) - FILTER_PAD, int(np.floor(-ty / k)))
    sy1 = min(h, int(rows[-1]) + 1 + FILTER_PAD, int(np.ceil((canvas[0] - ty) / k)))
    a = np.clip(alpha[sy0:sy1, sx0:sx1], 0.0, 1.0)  # a copy: the caller's matte is never written to
    # premultiplied: a new array, resized or not. (OpenCV does the per-channel work: numpy broadcasting an
    # (h, w, 1) array against (h, w, 3) runs an inner loop of 3 and is several times slower.)
    pm: np.ndarray = cv2.multiply(fg[sy0:sy1, sx0:sx1], _rgb(a))
    # the crop's place on the canvas, to the nearest pixel; its size from the scale alone, so that at scale 1 it
    # is the crop's own size (a copy, not a one-pixel stretch)
    dx0, dy0 = int(np.floor(k * sx0 + tx + 0.5)), int(np.floor(k * sy0 + ty + 0.5))
    dx1, dy1 = dx0 + max(1, round(k * (sx1 - sx0))), dy0 + max(1, round(k * (sy1 - sy0)))
    if (dx1 - dx0, dy1 - dy0) != (sx1 - sx0, sy1 - sy0):
        interp = cv2.INTER_AREA if k < 1 else cv2.INTER_CUBIC
        a = cv2.resize(a, (dx1 - dx0, dy1 - dy0), interpolation=interp)
        pm = cv2.resize(pm, (dx1 - dx0, dy1 - dy0), interpolation=interp)
        # cubic overshoot: where alpha overshoots 1 it is clipped, and its colour is scaled with it (else a solid
        # edge's colour would brighten by the overshoot); below 0 both go to 0 just after
        over = a > 1.0
        if over.any():
            pm[over] = pm[over] / a[over][:, None]
    # alpha: at most 1 (THRESH_TRUNC), 0 below ALPHA_FLOOR and below 0 (THRESH_TOZERO)
    a = cv2.threshold(cv2.threshold(a, 1.0, 1.0, cv2.THRESH_TRUNC)[1], ALPHA_FLOOR, 0.0, cv2.THRESH_TOZERO)[1]
    # colour never brighter than its coverage (fg above 1, overshoot) and never negative; 0 where alpha is 0
    pm = cv2.min(pm, _rgb(a))
    np.maximum(pm, 0.0, out=pm)
    # rounding may push the crop a pixel past the canvas: cut it there
    cx0, cy0 = max(0, -dx0), max(0, -dy0)
    cx1, cy1 = (dx1 - dx0) - max(0, dx1 - canvas[1]), (dy1 - dy0) - max(0, dy1 - canvas[0])
    rect = (dx0 + cx0, dy0 + cy0, dx0 + cx1, dy0 + cy1)
    return Placed(canvas, rect, np.ascontiguousarray(pm[cy0:cy1, cx0:cx1]), np.ascontiguousarray(a[cy0:cy1, cx0:cx1]))


def compose(fg: np.ndarray, alpha: np.ndarray, options: RetouchOptions) -> tuple[np.ndarray, np.ndarray]:
    """Place the piece, make its shadow and lay both on the background.

    fg : (H, W, 3) float 0..1 sRGB, the piece's own colour (foreground_colours); alpha : (H, W) float 0..1
    returns : image (H', W', 3) uint8 RGB on white or a colour, or (H', W', 4) uint8 straight RGBA when the
        background is transparent (alpha channel = the piece's alpha plus the shadow as semi-transparent black);
        alpha_out (H', W') float32 0..1, the piece alone in the output's frame (shadow not included)
    """
    p = place_crop(fg, alpha, options)
    a_full = p.full_alpha()
    kind = options.shadow
    dark, shadow_rect = shadow_extent(a_full, kind, p.full_fg() if kind == "reflection" else None)
    # the rectangle the piece and its shadow cover; outside it the canvas is the background as it is
    x0, y0, x1, y1 = p.rect
    if shadow_rect is not None:
        x0, y0 = min(x0, shadow_rect[0]), min(y0, shadow_rect[1])
        x1, y1 = max(x1, shadow_rect[2]), max(y1, shadow_rect[3])
    px0, py0, px1, py1 = p.rect
    if p.rect == (x0, y0, x1, y1):
        pm = p.premul.copy()
    else:
        pm = np.zeros((y1 - y0, x1 - x0, 3), np.float32)
        pm[py0 - y0:py1 - y0, px0 - x0:px1 - x0] = p.premul
    d = dark[y0:y1, x0:x1]
    # the share of the background that shows, (1 - d) * (1 - a): not shadowed, not covered
    uncovered = 1.0 - a_full[y0:y1, x0:x1]
    if d.ndim == 2:
        clear = _rgb(uncovered - d * uncovered)
    else:
        clear = cv2.multiply(1.0 - d, _rgb(uncovered))
    bg = options.background_rgb()
    h, w = p.canvas
    if bg is not None:
        image = np.empty((h, w, 3), np.uint8)
        image.reshape(h, w * 3)[:] = np.tile(np.asarray(bg, np.uint8), w)
        # In place where it can be: on this VM each fresh 2000 px float canvas (48 MB) costs 0.2-0.5 s of page
        # faults the first time a process needs one that large (pipeline.keep_freed_memory keeps them after).
        if bg != (255, 255, 255):  # scaled per channel along rows of w * 3 values (a long inner loop)
            row = np.tile(np.asarray(bg, np.float32) / 255.0, clear.shape[1])
            rows = clear.reshape(clear.shape[0], -1)
            np.multiply(rows, row, out=rows)
        out = cv2.add(pm, clear, dst=clear)
        _blend_edges_linear(out, pm, a_full[y0:y1, x0:x1], d, bg)
        image[y0:y1, x0:x1] = _to_u8(out)
        return image, a_full
    # transparent: the shadow is a layer of its own colour (black, or the reflection's tint) and opacity, chosen
    # so that the PNG laid on white looks exactly like the white composite: colour 1 - d / opacity per channel
    opacity = d.max(axis=2) if d.ndim == 3 else d
    if d.ndim == 3:
        pm += cv2.multiply(_rgb(opacity) - d, _rgb(uncovered))
    total = 1.0 - (uncovered - opacity * uncovered)  # a + opacity * (1 - a)
    # straight colour = premultiplied / total; where nothing is there (total 0) white, for viewers that ignore alpha
    empty = (total <= 0).astype(np.float32)
    rgb = cv2.divide(pm + _rgb(empty), _rgb(total + empty))
    image = np.full((h, w, 4), 255, np.uint8)
    image[..., 3] = 0
    image[y0:y1, x0:x1] = cv2.merge([*cv2.split(_to_u8(rgb)), _to_u8(total)])
    return image, a_full


def _blend_edges_linear(out: np.ndarray, pm: np.ndarray, a: np.ndarray, d: np.ndarray, bg: tuple[int, int, int]) -> None:
    """Redo the piece's partly covered pixels (0 < a < 1) of `out` (in place) as a blend in linear light.

    out, pm : (h, w, 3) float32 sRGB, the sRGB composite and the premultiplied piece; a : (h, w); d : (h, w) or
    (h, w, 3) the shadow's darkness. Only those pixels (a few percent of the canvas) pay for the sRGB curve.
    """
    ys, xs = np.nonzero((a > 0) & (a < 1))  # indexing by position: no copies of the (strided) whole rectangle
    if ys.size == 0:
        return
    cov = a[ys, xs][:, None]
    colour = np.clip(pm[ys, xs] / cov, 0.0, 1.0)
    shade = d[ys, xs] if d.ndim == 3 else d[ys, xs][:, None]
    backdrop = (np.asarray(bg, np.float32) / 255.0) * (1.0 - shade)  # the shadowed background, sRGB
    out[ys, xs] = linear_to_srgb(srgb_to_linear(colour) * cov + srgb_to_linear(backdrop) * (1.0 - cov))


def _rgb(x: np.ndarray) -> np.ndarray:
    """(h, w) float32 -> (h, w, 3), the value in every channel."""
    return cv2.cvtColor(np.ascontiguousarray(x, np.float32), cv2.COLOR_GRAY2RGB)


def _to_u8(x: np.ndarray) -> np.ndarray:
    """float 0..1 -> uint8, rounded to nearest and saturated (1.0 -> 255 exactly), in one OpenCV pass."""
    return cv2.convertScaleAbs(np.ascontiguousarray(x), alpha=255.0)


def _check_inputs(fg: np.ndarray, alpha: np.ndarray, options: RetouchOptions) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(options, RetouchOptions):
        raise InputError(f"compose: options must be RetouchOptions, got {type(options).__name__}")
    if not isinstance(alpha, np.ndarray) or alpha.ndim != 2 or alpha.size == 0:
        raise InputError(f"compose: alpha must be (H, W) float 0..1, got {getattr(alpha, 'shape', type(alpha).__name__)}")
    if not isinstance(fg, np.ndarray) or fg.shape != alpha.shape + (3,):
        raise InputError(f"compose: fg must be ({alpha.shape[0]}, {alpha.shape[1]}, 3) like alpha, "
                         f"got {getattr(fg, 'shape', type(fg).__name__)}")
    for name, arr in (("fg", fg), ("alpha", alpha)):
        if not np.issubdtype(arr.dtype, np.floating):
            raise InputError(f"compose: {name} must be float 0..1, got {arr.dtype}")
    # a sample is enough to catch 0..255 floats or NaNs without scanning a 12 MP array twice
    step = max(1, alpha.shape[0] // 256)
    sample = fg[::step, ::step]
    if not np.isfinite(sample).all() or sample.max() > 1.0 + 1e-3 or sample.min() < -1e-3:
        raise InputError("compose: fg must be finite float 0..1 (sRGB), not 0..255")
    if not np.isfinite(alpha[::step, ::step]).all():
        raise InputError("compose: alpha must be finite float 0..1")
    return fg.astype(np.float32, copy=False), alpha.astype(np.float32, copy=False)
