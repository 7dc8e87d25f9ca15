"""Colour and tone of a product photo: white balance from the backdrop, blown hotspots, the metal's alloy colour.

Every function takes the photo `rgb` : (H, W, 3) uint8 sRGB and the piece's matte `alpha` : (H, W) float32 0..1
and returns a new array (the inputs are never changed). Colour work happens in CIE Lab (OpenCV's float convention:
L 0..100, a and b about -128..127): statistics on a subsample of the piece, corrections as per-channel LUTs (white
balance) or a colour-grid LUT applied to the piece's pixels only (metal), so the cost follows the piece.
"""

from __future__ import annotations

import cv2
import numpy as np

from tryon.errors import InputError
from tryon.retouch.types import METALS

PIECE = 0.5  # alpha above this is the piece
BACKDROP = 0.02  # alpha below this is backdrop (white balance, dust on the background)

# The alloys' colour as the professional retouchers' results show it: (hue angle in degrees in the a*b* plane,
# chroma) of the metal's mid-tones. Measured on the shared product photos' professional results: yellow gold at hue
# 82 to 92, chroma 28 to 39 (brassy gold drifts past 95 toward green, a red cast below 75); white metals at chroma
# 0 to 5 with b* 0 to -5 (a clean, faintly cool white; blue would be b* below about -6). Rose gold is redder.
ALLOYS: dict[str, tuple[float, float]] = {
    "yellow-gold": (84.0, 33.0),
    "rose-gold": (58.0, 24.0),
    "white-gold": (270.0, 1.5),
    "silver": (270.0, 2.0),
    "platinum": (270.0, 1.0),
}
MAX_HUE_SHIFT = 12.0  # degrees: correct_metal turns a cast, it does not repaint a metal
CHROMA_PULL = 0.5  # share of the way from the metal's chroma to the alloy's
CHROMA_SCALE = (0.8, 1.25)  # bounds on the chroma factor toward the alloy's chroma
MAX_WHITE_SHIFT = 10.0  # a*b* units: the most a white metal's cast is moved
WHITE_SPREAD = 0.6  # a white metal's tints (reflections of the room) are kept at this share
LUT_LEVELS = 32  # correct_metal's colour grid per channel (32^3 colours)
MAX_WB_GAIN = 1.45  # per channel, linear light: a stronger cast is more likely a coloured backdrop
NEUTRAL_CHROMA = 9.0  # below this median chroma the piece's metal is a white metal
COOL_CAST_CHROMA = 16.0  # a white metal under blue light or sky reaches this chroma; a blue stone is far beyond
MAX_METAL_HUE_IQR = 30.0  # degrees: one metal's hues spread 5 to 20 (shading, reflections); more is many materials


def check_photo(rgb: np.ndarray, alpha: np.ndarray, where: str) -> np.ndarray:
    """Raise InputError unless rgb is (H, W, 3) uint8 and alpha (H, W) real 0..1; returns alpha as float32."""
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        got = f"{rgb.dtype} {rgb.shape}" if isinstance(rgb, np.ndarray) else type(rgb).__name__
        raise InputError(f"{where}: the photo must be an (H, W, 3) uint8 RGB array, got {got}")
    if rgb.shape[0] < 2 or rgb.shape[1] < 2:
        raise InputError(f"{where}: the photo is empty ({rgb.shape[1]}x{rgb.shape[0]} px)")
    if not isinstance(alpha, np.ndarray) or alpha.shape != rgb.shape[:2] or not np.issubdtype(alpha.dtype, np.floating):
        got = f"{alpha.dtype} {alpha.shape}" if isinstance(alpha, np.ndarray) else type(alpha).__name__
        raise InputError(f"{where}: the matte must be an (H, W) = {rgb.shape[:2]} float array 0..1, got {got}")
    return np.ascontiguousarray(alpha, dtype=np.float32)


def piece_box(alpha: np.ndarray, pad: int = 0) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of alpha > PIECE grown by pad px and clipped to the image; None when there is no piece."""
    rows = np.flatnonzero((alpha > PIECE).any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero((alpha[rows[0]:rows[-1] + 1] > PIECE).any(axis=0))
    h, w = alpha.shape
    return (max(0, int(cols[0]) - pad), max(0, int(rows[0]) - pad),
            min(w, int(cols[-1]) + 1 + pad), min(h, int(rows[-1]) + 1 + pad))


def srgb_to_linear(v: np.ndarray) -> np.ndarray:
    """sRGB 0..1 -> linear light 0..1 (float32)."""
    v = np.asarray(v, dtype=np.float32)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(v: np.ndarray) -> np.ndarray:
    """linear light 0..1 -> sRGB 0..1 (float32)."""
    v = np.clip(np.asarray(v, dtype=np.float32), 0.0, 1.0)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055).astype(np.float32)


def gain_luts(gains: tuple[float, float, float], power: float = 1.0) -> np.ndarray:
    """(256, 1, 3) uint8 LUT: each channel's linear-light gain, then sRGB value ** power (exposure without clipping)."""
    lin = srgb_to_linear(np.arange(256, dtype=np.float32) / 255.0)
    out = np.stack([linear_to_srgb(lin * g) for g in gains], axis=1) ** power
    return np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8).reshape(256, 1, 3)


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """(h, w, 3) uint8 sRGB -> float32 Lab (L 0..100)."""
    return cv2.cvtColor(rgb.astype(np.float32) * (1.0 / 255.0), cv2.COLOR_RGB2Lab)


def from_lab(lab: np.ndarray) -> np.ndarray:
    """float32 Lab -> (h, w, 3) uint8 sRGB, rounded and clipped."""
    rgb = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- white balance


def backdrop_pixels(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """(n, 3) uint8: the backdrop away from the piece and the shadow it casts, read at <= 400 px on the longer side.

    A band of 4 % of the longer side around anything with alpha > BACKDROP is left out: shadows and reflections
    hug the piece. Averaging down first is harmless: a white balance only needs the backdrop's mean colour.
    """
    h, w = alpha.shape
    s = min(1.0, 400.0 / max(h, w))
    size = (max(2, int(round(w * s))), max(2, int(round(h * s))))
    small_rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if s < 1 else rgb
    small_a = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA) if s < 1 else alpha
    away = max(2, int(round(0.04 * max(size))))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * away + 1, 2 * away + 1))
    near = cv2.dilate((small_a > BACKDROP * 0.5).astype(np.uint8), disc)
    return small_rgb[near == 0]


def balance_white(rgb: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Neutralise the colour cast read from the BACKDROP (alpha ~ 0, away from the piece and its shadow).

    The gains (r, g, b), linear light, keep the backdrop's luminance and are applied to the whole photo: the cast is
    the light's, so the piece shares it. The piece itself is never read, so gold stays gold. A strongly coloured
    backdrop (red paper, pink fabric, wood) is a choice, not a cast: the correction fades out with its chroma, and
    out with the spread of its colours (a scene behind an on-model shot is no backdrop).
    Returns (rgb (H, W, 3) uint8, gains); gains (1, 1, 1) and the photo unchanged when no backdrop is visible.
    """
    alpha = check_photo(rgb, alpha, "balance_white")
    px = backdrop_pixels(rgb, alpha)
    if px.shape[0] < 100:
        return rgb.copy(), (1.0, 1.0, 1.0)
    lum = px.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    # The brighter half of the backdrop and nothing clipped: shadows and clipped pixels carry no cast.
    lo, hi = np.percentile(lum, [50, 99.5])
    keep = (lum >= lo) & (lum <= min(hi, 250.0)) & (px.max(axis=1) < 253)
    if keep.sum() < 50:
        return rgb.copy(), (1.0, 1.0, 1.0)
    mean_lin = srgb_to_linear(px[keep].astype(np.float32) / 255.0).mean(axis=0)
    y = float(mean_lin @ np.array([0.2126, 0.7152, 0.0722], np.float32))
    if y < 0.02:
        return rgb.copy(), (1.0, 1.0, 1.0)
    lab = cv2.cvtColor(linear_to_srgb(mean_lin).reshape(1, 1, 3), cv2.COLOR_RGB2Lab)[0, 0]
    chroma = float(np.hypot(lab[1], lab[2]))
    # Full from chroma 7 to 20, none from 32 (a coloured backdrop), and none under 3: a grey card's own faint tint
    # is no cast worth moving the piece for (the professional results keep such tints: chroma 4 to 5 here).
    strength = float(np.clip((32.0 - chroma) / 12.0, 0.0, 1.0) * np.clip((chroma - 3.0) / 4.0, 0.0, 1.0))
    # A backdrop is nearly one colour (a*b* spread under 2.5 on every studio photo here); a room, a person or
    # foliage behind the piece spreads 10 and more, and its mean colour says nothing about the light.
    ab = cv2.cvtColor(px[keep].reshape(-1, 1, 3).astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab).reshape(-1, 3)[:, 1:]
    spread = float(np.hypot(*ab.std(axis=0)))
    strength *= float(np.clip((8.0 - spread) / 4.0, 0.0, 1.0))
    gains = np.clip(y / np.maximum(mean_lin, 1e-4), 1 / MAX_WB_GAIN, MAX_WB_GAIN) ** strength
    if np.all(np.abs(gains - 1.0) < 0.004):
        return rgb.copy(), (1.0, 1.0, 1.0)
    out = cv2.LUT(rgb, gain_luts((float(gains[0]), float(gains[1]), float(gains[2]))))
    return out, (float(gains[0]), float(gains[1]), float(gains[2]))


# ---------------------------------------------------------------- highlights

CLIP_LEVEL = 250  # every channel at or above this: blown
MIN_HOTSPOT_SHARE = 2e-5  # of the image's pixels: smaller clipped blobs are sparkle and stay as they are
MIN_HOTSPOT_REACH = 0.002  # of the longer side: a hotspot is at least this far across from its rim to its core
HOTSPOT_PEAK = 250.0  # the rolled-off hotspot's centre: bright, but no longer a hard-edged flat plateau


def roll_off_highlights(rgb: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, int]:
    """Give blown hotspots on the piece a soft shoulder; returns (rgb (H, W, 3) uint8, pixels touched).

    A hotspot is a connected blob of clipped pixels (every channel >= CLIP_LEVEL) wholly on the piece, larger than
    sparkle and wider than a specular streak (MIN_HOTSPOT_REACH).
    Inside it the colour rises from the colour at its rim (filled inward by cv2.inpaint, so gold keeps its warmth)
    to HOTSPOT_PEAK at its centre along a smoothstep of the distance to the rim: a dome instead of a flat plateau
    with a hard edge. Only clipped pixels change; every other pixel is returned as it was.
    """
    alpha = check_photo(rgb, alpha, "roll_off_highlights")
    out = rgb.copy()
    box = piece_box(alpha, pad=2)
    if box is None:
        return out, 0
    x0, y0, x1, y1 = box
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    clipped = cv2.inRange(crop, np.full(3, CLIP_LEVEL, np.uint8), np.full(3, 255, np.uint8))
    if not clipped.any():
        return out, 0
    n, labels, stats, _ = cv2.connectedComponentsWithStats(clipped, connectivity=8)
    flat = labels.ravel()
    # A clipped blob that runs off the piece is the white backdrop (or the piece melting into it), not a hotspot.
    off_piece = np.bincount(flat, weights=(alpha[y0:y1, x0:x1] <= PIECE).ravel().astype(np.float32), minlength=n)
    # A hotspot is a blob: a thin clipped streak is a polished edge's specular line and stays as it is.
    r_core = max(2, int(round(MIN_HOTSPOT_REACH * max(alpha.shape))))
    core = cv2.erode(clipped, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r_core + 1, 2 * r_core + 1)))
    wide = np.bincount(flat, weights=(core > 0).ravel().astype(np.float32), minlength=n) > 0
    min_area = max(12, int(MIN_HOTSPOT_SHARE * alpha.size))
    big = (stats[:, cv2.CC_STAT_AREA] >= min_area) & (off_piece == 0) & wide
    big[0] = False
    if not big.any():
        return out, 0
    # Work on the hotspots' own box and a margin for the rim colour.
    sx, sy = stats[big, cv2.CC_STAT_LEFT], stats[big, cv2.CC_STAT_TOP]
    pad = 4
    hx0, hy0 = max(0, int(sx.min()) - pad), max(0, int(sy.min()) - pad)
    hx1 = min(x1 - x0, int((sx + stats[big, cv2.CC_STAT_WIDTH]).max()) + pad)
    hy1 = min(y1 - y0, int((sy + stats[big, cv2.CC_STAT_HEIGHT]).max()) + pad)
    sub_labels = labels[hy0:hy1, hx0:hx1]
    sub = np.ascontiguousarray(crop[hy0:hy1, hx0:hx1])
    hot = big[sub_labels]
    hot8 = hot.astype(np.uint8)
    dist = cv2.distanceTransform(hot8, cv2.DIST_L2, 3)
    reach = np.zeros(n, np.float32)
    np.maximum.at(reach, sub_labels[hot], dist[hot])
    t = np.clip(dist[hot] / np.maximum(reach[sub_labels[hot]], 1.0), 0.0, 1.0)
    w = (t * t * (3.0 - 2.0 * t))[:, None]
    rim = cv2.inpaint(sub, hot8, 3, cv2.INPAINT_TELEA)[hot].astype(np.float32)
    # The rim colour right at the edge; then toward the peak: the shoulder, never darker than the rim.
    dome = np.maximum(rim * (1.0 - w) + HOTSPOT_PEAK * w, rim)
    new = np.clip(dome + 0.5, 0, 255).astype(np.uint8)
    touched = int(np.count_nonzero(np.any(new != sub[hot], axis=1)))
    sub[hot] = new
    out[y0 + hy0:y0 + hy1, x0 + hx0:x0 + hx1] = sub
    return out, touched


# ---------------------------------------------------------------- metal


def _hue_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(b, a)).astype(np.float32) % 360.0


def _hue_gap(h: np.ndarray, ref: float) -> np.ndarray:
    """Absolute angular distance in degrees, 0..180."""
    d = np.abs(h - ref) % 360.0
    return np.minimum(d, 360.0 - d)


def _piece_lab(rgb: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Lab of the piece's confidently-inside pixels (alpha > 0.9), subsampled to <= ~30k: ((n, 3), (n,) alpha)."""
    box = piece_box(alpha)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    step = max(1, int(np.sqrt((x1 - x0) * (y1 - y0) / 30_000)))
    a = alpha[y0:y1:step, x0:x1:step]
    inside = a > 0.9
    if inside.sum() < 50:
        return None
    return to_lab(np.ascontiguousarray(rgb[y0:y1:step, x0:x1:step]))[inside], a[inside]


def metal_pixels(lab: np.ndarray) -> np.ndarray:
    """(n,) bool: pixels that can be metal: neither black nor blown, and not a saturated stone's colour.

    Metal is at most moderately saturated (gold photographs at chroma 15 to 50) and its hue is gold's (35 to 105
    degrees: rose gold near 55, yellow gold 75 to 95) or it is nearly neutral, or a white metal under a cool
    cast (blue to cyan, chroma below COOL_CAST_CHROMA).
    """
    L, a, b = lab[:, 0], lab[:, 1], lab[:, 2]
    c = np.hypot(a, b)
    h = _hue_deg(a, b)
    lit = (L > 25) & (L < 97)
    return lit & (gold_hued(h, c) | (c < NEUTRAL_CHROMA) | ((h > 180) & (h < 300) & (c < COOL_CAST_CHROMA)))


def gold_hued(h: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Hue (degrees) and chroma that can be a coloured metal: gold's hues, not a stone's saturation."""
    return (h > 35) & (h < 105) & (c < 60)


def detect_metal(rgb: np.ndarray, alpha: np.ndarray) -> str:
    """The piece's alloy: one of METALS[1:] ('yellow-gold', 'rose-gold', 'white-gold', 'silver', 'platinum') or 'none'.

    Read from the piece's metal-like pixels (metal_pixels): a coloured metal when enough of them carry chroma
    (rose gold when its hue is redder than 62 degrees), otherwise a white metal (white gold when faintly warm, else
    silver; platinum is not told apart from silver by colour and is only chosen by the user). 'none' when under a
    quarter of the piece looks like metal (pearls, polymer clay) or its warm colours spread over many hues
    (enamel flowers, mother-of-pearl: MAX_METAL_HUE_IQR) or its colourless part is dark (black pearls).
    """
    alpha = check_photo(rgb, alpha, "detect_metal")
    got = _piece_lab(rgb, alpha)
    if got is None:
        return "none"
    lab, _ = got
    metal = metal_pixels(lab)
    if metal.mean() < 0.25:
        return "none"
    m = lab[metal]
    c = np.hypot(m[:, 1], m[:, 2])
    coloured = (c >= NEUTRAL_CHROMA) & gold_hued(_hue_deg(m[:, 1], m[:, 2]), c)
    if coloured.mean() >= 0.35:
        mc = m[coloured]
        hues = _hue_deg(mc[:, 1], mc[:, 2])
        q25, hue, q75 = np.percentile(hues, [25, 50, 75])
        if q75 - q25 > MAX_METAL_HUE_IQR:
            return "none"  # warm colours of many hues: enamel, mother-of-pearl, clay, skin; no one metal to move
        return "rose-gold" if hue < 62.0 else "yellow-gold"
    if float(np.median(m[:, 0])) < 50.0:
        return "none"  # dark and colourless: black pearls, onyx, oxidised pieces; no white metal to clean
    warm = float(np.median(m[:, 2]))
    return "white-gold" if warm > 2.5 else "silver"


def correct_metal(rgb: np.ndarray, alpha: np.ndarray, metal: str) -> np.ndarray:
    """Move the piece's metal toward `metal`'s colour (ALLOYS); 'none' returns the photo unchanged.

    Only a* and b* change (L, the metal's own shading and reflections, is kept). Coloured alloys: the metal's a*b*
    is turned about the neutral axis by the hue gap to the alloy (at most MAX_HUE_SHIFT degrees) and its chroma
    moved CHROMA_PULL of the way to the alloy's (CHROMA_SCALE bounds), so the spread of tones within the metal
    survives. White metals: the cast (the metal's median a*b* less the alloy's) is taken off, at most
    MAX_WHITE_SHIFT, and the tints around it are calmed to WHITE_SPREAD. Each pixel is moved in proportion to how
    much it looks like this metal: stones (saturated, or far from the metal's hue) and the backdrop stay as they
    were. The move is computed on a LUT_LEVELS^3 colour grid and applied to the piece's pixels (alpha > 0.3) as an
    RGB offset, blended by the matte. Returns (H, W, 3) uint8.
    """
    alpha = check_photo(rgb, alpha, "correct_metal")
    if metal not in ALLOYS:
        if metal == "none":
            return rgb.copy()
        raise InputError(f"correct_metal: metal '{metal}': use one of {', '.join(METALS[1:])} or none")
    got = _piece_lab(rgb, alpha)
    out = rgb.copy()
    if got is None:
        return out
    lab_s, _ = got
    metal_s = metal_pixels(lab_s)
    if metal_s.sum() < 50:
        return out
    m = lab_s[metal_s]
    med_a, med_b = float(np.median(m[:, 1])), float(np.median(m[:, 2]))
    ref_h, ref_c = ALLOYS[metal]
    white = ref_c < NEUTRAL_CHROMA
    c_s = np.hypot(m[:, 1], m[:, 2])
    strong = (c_s >= NEUTRAL_CHROMA) & gold_hued(_hue_deg(m[:, 1], m[:, 2]), c_s)
    if not white and strong.sum() >= 20:
        ms = m[strong]
        cur_h = float(np.degrees(np.arctan2(np.median(ms[:, 2]), np.median(ms[:, 1]))) % 360.0)
        cur_c = float(np.median(c_s[strong]))
    else:
        cur_h = float(np.degrees(np.arctan2(med_b, med_a)) % 360.0)
        cur_c = float(np.hypot(med_a, med_b))
    # The correction is a smooth function of colour: computed once on a LUT_LEVELS^3 colour grid (the same cost
    # for a 1 MP or a 12 MP photo), read back per piece pixel as an RGB offset (nearest grid colour; the offset
    # varies slowly, so the pixel keeps its own fine tones) and blended by the matte.
    grid = np.linspace(0.0, 255.0, LUT_LEVELS, dtype=np.float32)
    cube = np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), axis=-1).reshape(-1, 1, 3)
    lab = cv2.cvtColor(cube / 255.0, cv2.COLOR_RGB2Lab).reshape(-1, 3)
    L, a, b = lab[:, 0], lab[:, 1], lab[:, 2]
    c = np.hypot(a, b)
    # How metal-like each colour is: near the metal's hue (cosine of the hue gap, full within 25 degrees, none past
    # 45) or nearly neutral, and not much more saturated than the metal.
    cos_gap = (a * np.cos(np.radians(cur_h)) + b * np.sin(np.radians(cur_h))) / np.maximum(c, 1e-3)
    cos25, cos45 = np.cos(np.radians(25.0)), np.cos(np.radians(45.0))
    hue_w = np.clip((cos_gap - cos45) / (cos25 - cos45), 0.0, 1.0)
    hue_w = np.maximum(hue_w, np.clip((NEUTRAL_CHROMA - c) / 4.0, 0.0, 1.0))
    sat_w = np.clip((max(cur_c, NEUTRAL_CHROMA) * 1.8 + 12.0 - c) / 10.0, 0.0, 1.0)
    lit_w = np.clip((L - 12.0) / 13.0, 0.0, 1.0)
    w = hue_w * sat_w * lit_w
    if white:
        da = ref_c * np.cos(np.radians(ref_h)) - med_a
        db = ref_c * np.sin(np.radians(ref_h)) - med_b
        n = float(np.hypot(da, db))
        if n > MAX_WHITE_SHIFT:
            da, db = da * MAX_WHITE_SHIFT / n, db * MAX_WHITE_SHIFT / n
        # Strongly coloured pixels of the piece are not the white metal's cast: fade the shift out by chroma.
        w = w * np.clip((24.0 - c) / 8.0, 0.0, 1.0)
        # Take the cast off and calm the tints around it; the cast's centre lands on the alloy's colour.
        na = a + w * (da + (WHITE_SPREAD - 1.0) * (a - med_a))
        nb = b + w * (db + (WHITE_SPREAD - 1.0) * (b - med_b))
    else:
        turn = float(np.clip(((ref_h - cur_h + 180.0) % 360.0) - 180.0, -MAX_HUE_SHIFT, MAX_HUE_SHIFT))
        scale = float(np.clip((cur_c + CHROMA_PULL * (ref_c - cur_c)) / max(cur_c, 1.0), *CHROMA_SCALE))
        cs, sn = np.cos(np.radians(turn)), np.sin(np.radians(turn))
        ra, rb = scale * (cs * a - sn * b), scale * (sn * a + cs * b)
        na, nb = a + w * (ra - a), b + w * (rb - b)
    lab[:, 1], lab[:, 2] = na, nb
    moved = cv2.cvtColor(lab.reshape(-1, 1, 3), cv2.COLOR_Lab2RGB).reshape(-1, 3) * 255.0
    offset = (moved - cube.reshape(-1, 3)).astype(np.float32)
    offset[w <= 1e-3] = 0.0
    # Only the piece's pixels are read and written (gathered), so the cost follows the piece, not its box.
    x0, y0, x1, y1 = piece_box(alpha) or (0, 0, 1, 1)
    a_box = alpha[y0:y1, x0:x1].ravel()
    where = np.flatnonzero(a_box > 0.3)
    if where.size == 0:
        return out
    box = np.ascontiguousarray(out[y0:y1, x0:x1]).reshape(-1, 3)  # a copy: written back below
    px = box[where]
    q = ((np.arange(256) * (LUT_LEVELS - 1) + 127) // 255).astype(np.int32)  # nearest grid level per value
    cell = (q[px[:, 0]] * LUT_LEVELS + q[px[:, 1]]) * LUT_LEVELS + q[px[:, 2]]
    blend = np.clip(a_box[where] * 2.0 - 0.6, 0.0, 1.0)[:, None]
    box[where] = np.clip(px + blend * offset[cell] + 0.5, 0, 255).astype(np.uint8)
    out[y0:y1, x0:x1] = box.reshape(y1 - y0, x1 - x0, 3)
    return out
