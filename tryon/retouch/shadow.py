"""Shadows made from the piece's matte, in the output canvas's frame: contact, drop, reflection.

A shadow is a *darkness*: the share of the backdrop's light it takes away, 0..1, so the backdrop under it is
`bg * (1 - darkness)` (compose.py lays the piece over it). Every size is a share of the piece's longer side L
(the box of alpha > BOX_ALPHA), so a shadow looks the same at any output size. Darkness fades to exactly 0 (a
hard floor, SHADOW_FLOOR) and is 0 on the canvas's outermost rows and columns, so the background beyond the shadow
stays pure white (255, not 254) and the shadow never runs off the canvas.

All three stand on a ground found from the matte's outline (_ground): each earring of a pair, each ring of two,
on its own; a watch's case over its strap's. The smooth shadows (contact, drop) are worked out on a crop around
the piece brought down to about WORK_PX on its longer side (a soft shadow has no detail to lose) and brought back
up bilinearly; the reflection is a copy of the piece's detail, so it is made at full resolution, and only over
the few rows below the piece.
"""

from __future__ import annotations

import cv2
import numpy as np

from tryon.errors import InputError
from tryon.retouch.types import SHADOWS

BOX_ALPHA = 0.5  # the piece's box: alpha above this (as Matte.box)
SHADOW_FLOOR = 1.5 / 255  # darkness below this is cut to exactly 0 (and the rest rescaled: no step)
WORK_PX = 480  # the smooth shadows' working resolution, the piece's longer side in pixels
MIN_PART = 0.02  # parts of the matte smaller than this share of the largest part's area (specks) cast nothing
GROUND_SLOPE = 0.5  # a low point governs the columns around it as long as it is this much lower per column away
GROUND_WINDOW = 0.03  # a low point of the outline: the lowest within this share of L to either side

# contact: a thin dark line just under the piece's bottom edges plus a wider, fainter occlusion around it
CONTACT_PEAK = 0.42  # darkness right under a long flat bottom edge
CONTACT_REACH = 0.025  # contact fades with an edge's height above the ground over this share of L
CONTACT_SIGMA = ((0.012, 0.003), (0.030, 0.010))  # (sigma_x, sigma_y) / L: the line, the soft occlusion
CONTACT_MIX = (0.65, 0.35)  # their shares of the peak
CONTACT_DROP = 0.004  # the line sits this share of L below the edge (the piece rests on it, not in it)

# drop: the silhouette squashed onto the ground under the piece and blurred (softer the higher it is)
DROP_PEAK = 0.28
DROP_SQUASH = 0.12  # the silhouette's height on the ground, a share of its own height
DROP_OFFSET = 0.012  # its centre this share of L below the ground
DROP_SIGMA = (0.030, 0.014)  # (sigma_x, sigma_y) / L
DROP_HIGH_FADE = 0.7  # the piece's top casts this much less than its bottom

# reflection: the piece mirrored about the ground under it, fading out below it
REFLECTION_PEAK = 0.25  # opacity of the mirrored copy right at the contact line
REFLECTION_LENGTH = 0.10  # fades to 0 over this share of L (or the room left below the piece)
REFLECTION_SIGMA = 0.003  # a glossy surface is not a perfect mirror: a slight blur, / L


def make_shadow(alpha: np.ndarray, kind: str, fg: np.ndarray | None = None) -> np.ndarray:
    """The shadow's darkness under a piece already placed in the output canvas.

    alpha : (H, W) float 0..1, the piece's matte in the canvas's frame
    kind : one of SHADOWS: "contact", "drop", "reflection", "none"
    fg : (H, W, 3) float 0..1 sRGB, the piece's colour in the same frame; only "reflection" reads it
    returns : (H, W) float32 darkness 0..1; for "reflection" with fg given, (H, W, 3) float32: the
        mirrored copy's darkness per channel on white, opacity * (1 - its colour); without fg its opacity.
        Exactly 0 far from the piece and on the canvas's outermost rows and columns.
    """
    return shadow_extent(alpha, kind, fg)[0]


def shadow_extent(alpha: np.ndarray, kind: str, fg: np.ndarray | None = None
                  ) -> tuple[np.ndarray, tuple[int, int, int, int] | None]:
    """make_shadow, and the rectangle (x0, y0, x1, y1) outside which its darkness is 0 (None: 0 everywhere).

    Only that rectangle is computed (and only the piece's box of fg is read); the rest of the canvas is np.zeros,
    whose pages the system hands out only when written to.
    """
    _check_alpha(alpha)
    if kind not in SHADOWS:
        raise InputError(f"shadow '{kind}': use one of {', '.join(SHADOWS)}")
    if fg is not None and (fg.shape != alpha.shape + (3,) or not np.issubdtype(fg.dtype, np.floating)):
        raise InputError(f"reflection colour: expected ({alpha.shape[0]}, {alpha.shape[1]}, 3) float, "
                         f"got {fg.shape} {fg.dtype}")
    h, w = alpha.shape
    box = piece_box(alpha)
    if kind == "reflection":
        return _reflection(alpha, box, fg)
    out = np.zeros((h, w), np.float32)
    if kind == "none" or box is None:
        return out, None
    x0, y0, x1, y1 = box
    L = float(max(x1 - x0, y1 - y0))
    # the region the shadow can reach: around the piece, mostly below it
    rx0, rx1 = max(0, int(x0 - 0.2 * L)), min(w, int(np.ceil(x1 + 0.2 * L)))
    ry0, ry1 = max(0, int(y0 - 0.05 * L)), min(h, int(np.ceil(y1 + 0.25 * L)))
    crop = np.clip(alpha[ry0:ry1, rx0:rx1], 0.0, 1.0).astype(np.float32, copy=False)
    s = min(1.0, WORK_PX / L)
    if s < 1.0:
        size = (max(1, round(crop.shape[1] * s)), max(1, round(crop.shape[0] * s)))
        small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    else:
        small = crop
    Ls = L * s
    room = (h - 2 * _border_px(h, w) - y1) * s  # rows left under the piece (and a margin), at the working scale
    dark = _floor(_contact(small, Ls) if kind == "contact" else _drop(small, Ls, room))
    # floored at the working resolution (cheap): bilinear upsampling keeps the zeros away from the shadow exact
    # (its edge moves by under one working pixel, and compose and the checks both read this same function)
    if dark.shape != crop.shape:
        out[ry0:ry1, rx0:rx1] = cv2.resize(dark, (crop.shape[1], crop.shape[0]), interpolation=cv2.INTER_LINEAR)
    else:
        out[ry0:ry1, rx0:rx1] = dark
    _zero_border(out, _border_px(h, w))
    return out, (rx0, ry0, rx1, ry1)


def piece_box(alpha: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of alpha > BOX_ALPHA (x1, y1 exclusive), or None when there is no piece."""
    mask = (alpha > BOX_ALPHA).view(np.uint8)
    x, y, bw, bh = cv2.boundingRect(mask)
    if bw == 0 or bh == 0:
        return None
    return x, y, x + bw, y + bh


def _check_alpha(alpha: np.ndarray) -> None:
    if not isinstance(alpha, np.ndarray) or alpha.ndim != 2 or alpha.size == 0:
        raise InputError(f"matte: expected (H, W) float 0..1, got {getattr(alpha, 'shape', type(alpha).__name__)}")
    if not np.issubdtype(alpha.dtype, np.floating):
        raise InputError(f"matte: expected float 0..1, got {alpha.dtype}")


def _contact(a: np.ndarray, L: float) -> np.ndarray:
    """Darkness of a soft line under the bottom edges that are near the ground."""
    h, w = a.shape
    k = max(1, round(0.006 * L))
    below = np.zeros_like(a)
    below[:-k] = a[k:]
    edge = np.clip(a - below, 0.0, 1.0)  # piece here, none just below: a bottom edge
    # Only edges near the ground touch it: a ring's hole has a bottom edge too (its top band's underside), a
    # ring's sides curve up from its lowest point, a watch's case sits on its strap.
    _, lowest, ground = _ground(a, L)
    rows = np.arange(h, dtype=np.float32)[:, None]
    weight = np.exp(-np.maximum(ground[None, :] - 1 - rows, 0.0) / (CONTACT_REACH * L)).astype(np.float32)
    weight[:, lowest < 0] = 0.0  # columns of specks or of nothing
    edge *= weight
    shift = max(0, round(CONTACT_DROP * L))
    if shift:
        edge = np.vstack([np.zeros((shift, w), np.float32), edge[:-shift]])
    dark = np.zeros_like(a)
    for (sx, sy), share in zip(CONTACT_SIGMA, CONTACT_MIX, strict=True):
        sig_x, sig_y = max(0.6, sx * L), max(0.6, sy * L)
        b = cv2.GaussianBlur(edge, (0, 0), sigmaX=sig_x, sigmaY=sig_y, borderType=cv2.BORDER_CONSTANT)
        # a long flat edge k rows tall blurs to a peak of about k / (sqrt(2 pi) sigma_y): that is "full" contact;
        # stacked edges saturate instead of adding up to a black blot
        full = k / (np.sqrt(2 * np.pi) * sig_y)
        dark += share * (1.0 - np.exp(-2.0 * b / full)) / (1.0 - np.exp(-2.0))
    return np.clip(CONTACT_PEAK * dark, 0.0, CONTACT_PEAK).astype(np.float32)


def _ground(a: np.ndarray, L: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the piece stands, column by column.

    A piece touches the ground at the low points of its outline (the bottom of a ring's band, of each earring,
    of a watch's strap): columns whose lowest pixel is the lowest within GROUND_WINDOW * L. Each column stands on
    the ground of the low point that governs it, the one whose row minus GROUND_SLOPE per column of distance is
    lowest in the photo: a ring standing behind another (higher in the photo, farther than its height
    difference / GROUND_SLOPE) keeps its own ground, while a watch's case, wider than its strap and lifted on
    it, is over the strap's ground. The ground is flat around each low point: a ring's rounded sides are above
    it, not on it.

    returns : present (h, w) bool, the piece (alpha > BOX_ALPHA) without the matte's specks (parts smaller than
        MIN_PART of the largest); lowest (w,) float32, the row under each column's lowest piece pixel (-1 where
        there is none); ground (w,) float32, the row of the ground under each column
    """
    h, w = a.shape
    n, labels, stats, _ = cv2.connectedComponentsWithStats((a > BOX_ALPHA).astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    if n > 1:
        areas = stats[1:, cv2.CC_STAT_AREA]
        keep[1:] = areas >= MIN_PART * areas.max()
    present = keep[labels]
    lowest = np.where(present.any(axis=0), h - np.argmax(present[::-1], axis=0), -1).astype(np.float32)
    win = max(1, round(GROUND_WINDOW * L))
    low_points = np.flatnonzero((lowest >= 0) & (lowest >= cv2.dilate(lowest[None, :], np.ones((1, 2 * win + 1)))[0]))
    if low_points.size == 0:
        return present, lowest, lowest
    xs = np.arange(w, dtype=np.float32)
    reach = lowest[low_points][None, :] - GROUND_SLOPE * np.abs(xs[:, None] - low_points[None, :].astype(np.float32))
    ground = lowest[low_points][np.argmax(reach, axis=1)]
    return present, lowest, ground


def _drop(a: np.ndarray, L: float, room: float) -> np.ndarray:
    """Darkness of the silhouette squashed onto the ground (see _ground) to DROP_SQUASH of its height, centred
    just below it; flatter where there are fewer than `room` rows under the piece for it (a tall piece framed to
    fill the canvas): squashed further rather than cut off by the canvas's edge."""
    h, w = a.shape
    present, lowest, ground = _ground(a, L)
    rows = np.flatnonzero(present.any(axis=1))
    if rows.size == 0:
        return np.zeros_like(a)
    height = float(rows[-1] + 1 - rows[0])
    # how far under the ground the shadow reaches: its offset, the squashed silhouette's lower half, the blur
    need = DROP_OFFSET * L + DROP_SQUASH * height / 2 + 3.0 * DROP_SIGMA[1] * L
    fit = float(np.clip(room / need, 0.2, 1.0)) if need > 0 else 1.0
    offset, squash, sigma_y = DROP_OFFSET * L * fit, DROP_SQUASH * fit, max(0.6, DROP_SIGMA[1] * L * fit)
    # filled from each column's top to its bottom: a ring's hole would squash into a pale ellipse inside the
    # shadow, which reads as a ring lying flat rather than one standing
    solid = np.maximum.accumulate(present, axis=0) & np.maximum.accumulate(present[::-1], axis=0)[::-1]
    ys = np.arange(h, dtype=np.float32)[:, None]
    above = np.clip((ground[None, :] - ys) / height, 0.0, 1.0)
    # the parts near the ground cast the darker shadow, the parts high above it a fainter one
    caster = np.where(solid, 1.0, np.where(present, a, 0.0)) * (1.0 - DROP_HIGH_FADE * above)
    # squashing by 1 / DROP_SQUASH samples every few rows: blur along y first so a chain does not alias into stripes
    caster = cv2.GaussianBlur(caster.astype(np.float32), (1, 0), sigmaX=0.1, sigmaY=0.5 / squash)
    # destination row y' of source row y in column x: y' = g + offset + squash * height / 2 - (g - y) * squash
    centre = ground[None, :] + offset + squash * height / 2
    map_y = (ground[None, :] - (centre - ys) / squash).astype(np.float32)
    map_x = np.broadcast_to(np.arange(w, dtype=np.float32)[None, :], (h, w)).copy()
    map_y[:, lowest < 0] = -1.0  # columns with no piece above them cast nothing
    sil = cv2.remap(caster, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    sil = cv2.GaussianBlur(sil, (0, 0), sigmaX=max(0.6, DROP_SIGMA[0] * L), sigmaY=sigma_y, borderType=cv2.BORDER_CONSTANT)
    peak = float(sil.max())
    if peak <= 0:
        return np.zeros_like(a)
    # a thin piece (a bangle seen edge-on) casts a faint blurred line: scaled to the same peak darkness, its
    # shadow still reads, while a wide one is not allowed to go darker than DROP_PEAK
    return (DROP_PEAK / peak) * sil


def _reflection(alpha: np.ndarray, box: tuple[int, int, int, int] | None, fg: np.ndarray | None
                ) -> tuple[np.ndarray, tuple[int, int, int, int] | None]:
    """The piece mirrored about the ground under each column (see _ground), fading out below it, as on a glossy
    surface: each earring of a pair, each ring of two, mirrored about where it stands. Opacity (H, W), or
    darkness (H, W, 3) when fg is given."""
    h, w = alpha.shape
    opacity = np.zeros((h, w), np.float32)
    dark = np.zeros((h, w, 3), np.float32) if fg is not None else None
    empty = (dark if dark is not None else opacity), None
    if box is None:
        return empty
    x0, y0, x1, y1 = box
    L = float(max(x1 - x0, y1 - y0))
    piece = np.clip(alpha[y0:y1, x0:x1], 0.0, 1.0).astype(np.float32)
    _, lowest, ground = _ground(piece, L)  # rows in the box, from its top
    border = _border_px(h, w)
    g_top, g_bottom = int(ground[lowest >= 0].min()), int(ground.max())
    length = int(min(REFLECTION_LENGTH * L, 0.9 * (h - border - (y0 + g_bottom))))
    if length < 2:
        return empty
    # the rows the reflection covers, in the box's frame: from the highest ground to the lowest ground + length
    r0, r1 = g_top, g_bottom + length
    ys = np.arange(r0, r1, dtype=np.float32)[:, None]
    depth = ys - ground[None, :]  # rows under the ground: row ground + i mirrors row ground - 1 - i
    inside = (depth >= 0) & (depth < length) & (lowest >= 0)[None, :]
    map_y = np.where(inside, ground[None, :] - 1 - depth, -1).astype(np.float32)
    map_x = np.broadcast_to(np.arange(x1 - x0, dtype=np.float32)[None, :], map_y.shape).copy()
    fade = np.where(inside, REFLECTION_PEAK * (1.0 - depth / length) ** 2, 0.0).astype(np.float32)
    sig = REFLECTION_SIGMA * L

    def mirror(img: np.ndarray) -> np.ndarray:
        out = cv2.remap(img, map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT)
        return cv2.GaussianBlur(out, (0, 0), sig) if sig >= 0.5 else out

    rows = slice(y0 + r0, min(h, y0 + r1))
    n = rows.stop - rows.start
    opacity[rows, x0:x1] = _floor(np.clip(mirror(piece) * fade, 0.0, 1.0))[:n]
    _zero_border(opacity, border)
    rect = (x0, rows.start, x1, rows.stop)
    if dark is None or fg is None:
        return opacity, rect
    col = np.clip(mirror(np.clip(fg[y0:y1, x0:x1], 0.0, 1.0).astype(np.float32)), 0.0, 1.0)[:n]
    dark[rows, x0:x1] = opacity[rows, x0:x1, None] * (1.0 - col)
    return dark, rect


def _floor(d: np.ndarray) -> np.ndarray:
    """Darkness below SHADOW_FLOOR to exactly 0, the rest stretched so the fade has no step."""
    return np.maximum(d - SHADOW_FLOOR, 0.0) * np.float32(1.0 / (1.0 - SHADOW_FLOOR))


def _border_px(h: int, w: int) -> int:
    """The shadow fades to 0 over this many pixels before the canvas's edge."""
    return max(2, round(0.01 * max(h, w)))


def _zero_border(d: np.ndarray, border: int) -> None:
    """Fade d (in place) to 0 over `border` pixels at the canvas's edges: a shadow never runs off the canvas."""
    h, w = d.shape[:2]
    ramp = np.clip(np.arange(border, dtype=np.float32) / border, 0.0, 1.0)
    b = min(border, h // 2, w // 2)
    if b <= 0:
        d[...] = 0
        return
    r = ramp[:b]
    shape_y = (b, 1) if d.ndim == 2 else (b, 1, 1)
    shape_x = (1, b) if d.ndim == 2 else (1, b, 1)
    d[:b] *= r.reshape(shape_y)
    d[h - b:] *= r[::-1].reshape(shape_y)
    d[:, :b] *= r.reshape(shape_x)
    d[:, w - b:] *= r[::-1].reshape(shape_x)
