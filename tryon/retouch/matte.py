"""Jewelry matting: the piece's alpha, and its own colour at the edges.

    cut_out(rgb) -> Matte               the piece's alpha (H, W) float32 0..1 and its box
    foreground_colours(rgb, alpha)      (H, W, 3) float32 0..1 sRGB: the piece's colour with the backdrop removed

How cut_out decides, at a working copy of at most WORK_PIXELS:
1. the backdrop's colour everywhere: a gradient fitted to the border (backdrop.py), then twice the backdrop read
   around each pixel (colour, spread, grain) from what the pass before found surely backdrop;
2. a pixel is the piece where it differs from that backdrop in a way a shadow, a sweep's fall-off or the backdrop's
   own grain cannot explain: another hue (chroma), much brighter, much darker than a shadow gets, or sharp local
   contrast (polished metal mirrors the backdrop, so its colour can be the backdrop's, but its reflections are
   sharp-edged where a shadow is soft);
3. sure piece and sure backdrop flood the unsure pixels between them and meet at the sharpest colour step
   (watershed); unsure pixels in the backdrop's own colours (shaded, tinted sand) go to the backdrop first;
4. narrow gaps a little off the backdrop close (a mirroring band between its edges); holes enclosed by the piece
   are filled only when they are not the backdrop (a ring's open interior shows the backdrop and stays open);
   strays go (dust, a fibre, a second backdrop colour along the frame);
   a polished white band that mirrors a light backdrop is claimed by its edges (`_mirror_faces`);
5. closed-form matting (cfm.py) solves alpha in a narrow unsure band along the edge;
6. a guided filter carries the alpha to full resolution along the photo's own edges.
A learned coarse alpha (net.py) has its place at step 2 (`_learned_score`, off until it measurably helps).
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter

from tryon.errors import InputError
from tryon.retouch.backdrop import Backdrop, LocalBackdrop, fit_backdrop, local_backdrop, local_contrast, to_lab
from tryon.retouch.cfm import solve_band
from tryon.retouch.types import Matte

log = logging.getLogger(__name__)

USE_LEARNED = False  # the learned coarse alpha (net.py) joins the score once it measurably helps; see _learned_score
LEARNED_SIDE_PX = 448
WORK_PIXELS = 300_000  # heavy work at about 0.3 MP: edges are refined back at full resolution by the guided filter
# the piece score: four ratios, each 1 at its threshold
CHROMA_MIN = 7.0  # Lab units of a/b difference that are another hue, not JPEG noise or a colour cast's gradient
CHROMA_SIGMAS = 6.0  # ... and this many times the backdrop's own spread of hue
CHROMA_SURE = 1.5  # a hue difference seeds the piece only at this many times its threshold
BRIGHT_MIN = 9.0  # L units brighter than the backdrop (a highlight, a white stone on grey)
DARK_MIN_L = 12.0  # L units: the least darkening that counts as DARK_RATIO's (dark backdrops)
DARK_RATIO = 0.62  # darker than this share of the backdrop's L is the piece; a soft shadow seldom gets that dark
CONTRAST_MIN = 5.0  # local std of L (5 px window) that is a reflection's edge, not the backdrop's grain
CONTRAST_TEXTURES = 3.5  # ... and this many times the backdrop's own local contrast
DEV_MIN = 4.0  # Lab units off the backdrop's colour for local contrast to count in full
# deciding
SEED_LEVEL = 1.6  # score of a seed; grown into neighbours with a score of at least 1
SURE_LEVEL = 2.0  # scores this high are the piece beyond doubt: they seed the region growing into unsure pixels
BACKDROP_LEVEL = 0.6  # scores this low are backdrop beyond doubt
SHADE_RATIO = 0.96  # L ratio to the backdrop above which a pixel may be sure backdrop
SHADE_MIN_L = 2.0  # L units: the least darkening that is a shade (a black backdrop has none)
LOCAL_ROUNDS = 2  # rounds of reading the local backdrop (each from the last round's surely-backdrop pixels)
NEAR_MARGINS = 4  # "near the piece": within this many margins (1 % of the longer side each) of the first guess
RIM_SHARE = 0.015  # a shadow rim along the piece is at most this share of the longer side wide
TINT_MIN = 3.0  # Lab a/b units: a shade off the backdrop by less than this is neutral
COLOUR_BINS = 16
COLOUR_ODDS = 8.0  # an unsure pixel's colour this many times likelier on the backdrop makes it backdrop
GAP_SHARE = 0.007  # gaps up to about twice this share of the longer side are closed when a little off the backdrop
GAP_LEVEL = 0.35
HOLE_LEVEL = 0.5  # an enclosed hole whose mean score is this high is the piece (mirroring metal), not backdrop
PINHOLE_SHARE = 0.0005  # enclosed holes smaller than this share of the frame ...
PINHOLE_LEVEL = 0.15  # ... and a little off the backdrop (mean score) are filled
MIN_PIECE_SHARE = 0.0004  # the piece covers at least this share of the frame
SPECK_SHARE = 0.004  # components smaller than this share of the largest are dust, fibre or grain
STRAY_SHARE = 0.02  # components smaller than this share of the largest's area ...
STRAY_DISTANCE = 0.03  # ... and further than this share of the diagonal from the piece are strays
EDGE_HUG = 0.3  # a component (not the largest) with this share of its outline on the frame's edge is backdrop
CALM_BACKDROP = 0.9  # ... as is one touching the edge with this share of its pixels calm (no metal, no facets)
HUG_KEEP = 0.02  # ... unless no other component reaches this share of its area
# a mirroring face: a calm, neutral strip a little darker than the backdrop, bounded by a sharp edge (_mirror_faces)
FACE_REACH = 0.045  # share of the longer side: pixels further than this from the piece are backdrop for the flooding
FACE_WIDTH = 0.045  # a face is at most this share of the longer side wide
FACE_EDGE = 4.0  # its edge toward the backdrop: this many times the backdrop's own gradient (90th percentile)
FACE_CALM = 2.2  # median local contrast (L units) inside: polished metal is smooth between its edges
FACE_TINT = 2.5  # median Lab a/b units off the backdrop: white metal mirroring a neutral backdrop stays neutral
FACE_SHADE = (2.5, 12.0)  # mean L units darker than the backdrop: darker than its grain, lighter than a shadow
FACE_SCORE = 0.7  # mean piece score: a face the score already half-sees is left to the other steps
FACE_MIN_PX = 20  # working pixels: smaller regions are not worth a face's tests
BAND_PX = 2  # half-width of the unsure band solved by closed-form matting (working pixels)
GUIDE_EPS = 1e-4
EDGE_ALPHA = 0.002  # foreground colours are solved where alpha is between this and 1 minus it
NEAR_SIGMA_PX = 2.0  # working pixels: how far the nearby sure colour is gathered from


def check_rgb(rgb: np.ndarray, what: str) -> None:
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        got = f"{rgb.dtype} {rgb.shape}" if isinstance(rgb, np.ndarray) else type(rgb).__name__
        raise InputError(f"{what}: expected an (H, W, 3) uint8 RGB image, got {got}")
    if min(rgb.shape[:2]) < 16:
        raise InputError(f"{what}: the image is {rgb.shape[1]}x{rgb.shape[0]} px, too small to cut a piece out of")


def working_copy(rgb: np.ndarray, max_pixels: int = WORK_PIXELS) -> tuple[np.ndarray, float]:
    """(h, w, 3) float32 0..1 copy of `rgb` with at most max_pixels, and its scale (working px per photo px)."""
    h, w = rgb.shape[:2]
    scale = min(1.0, float(np.sqrt(max_pixels / (h * w))))
    small = rgb if scale >= 1.0 else cv2.resize(rgb, (max(16, round(w * scale)), max(16, round(h * scale))),
                                                interpolation=cv2.INTER_AREA)
    return small.astype(np.float32) / 255.0, scale


def piece_score(lab: np.ndarray, bg_lab: np.ndarray, spread: np.ndarray, texture: np.ndarray | float,
                sure: bool = False, contrast: np.ndarray | None = None) -> np.ndarray:
    """(h, w) float32: how surely each pixel is the piece; >= 1 is the piece, >= SEED_LEVEL sure.

    lab, bg_lab : (h, w, 3) float32 CIELAB, the photo and the backdrop expected there
    spread : (3,) or (h, w, 3) the backdrop's spread per Lab channel; texture : scalar or (h, w) its local contrast
    The largest of four ratios, each 1 at its threshold: chroma difference, brightening, darkening beyond a
    shadow's, and local contrast beyond the backdrop's grain. `sure`: the score for seeding, in which a hue
    difference counts CHROMA_SURE times less.
    """
    d = lab - bg_lab
    chroma = np.sqrt(d[..., 1] ** 2 + d[..., 2] ** 2)
    sp = np.asarray(spread, np.float32)
    sig_ab = np.maximum(sp[..., 1], sp[..., 2])
    s_chroma = chroma / np.maximum(CHROMA_MIN, CHROMA_SIGMAS * sig_ab)
    s_bright = d[..., 0] / np.maximum(BRIGHT_MIN, 5.0 * sp[..., 0])
    # darker than a shadow gets, in proportion to the backdrop's L (on a black backdrop nothing is darker)
    s_dark = (bg_lab[..., 0] - lab[..., 0]) / np.maximum((1.0 - DARK_RATIO) * bg_lab[..., 0], DARK_MIN_L)
    if contrast is None:
        contrast = local_contrast(lab[..., 0])
    s_contrast = contrast / np.maximum(CONTRAST_MIN, CONTRAST_TEXTURES * np.asarray(texture, np.float32))
    # contrast is read in a window, so it spills past the piece's edge onto the backdrop; it counts only where the
    # pixel itself is off the backdrop's colour
    dev = np.sqrt(d[..., 0] ** 2 + chroma ** 2) / np.maximum(DEV_MIN, 3.0 * np.maximum(sp[..., 0], sig_ab))
    s_contrast = s_contrast * np.minimum(dev, 1.0)
    other = np.maximum(s_bright, np.maximum(s_dark, s_contrast))
    # grain and JPEG blocks make single pixels jump: a 3 px median keeps chains (2+ px wide) and drops the jumps
    score = cv2.medianBlur(np.maximum(s_chroma, other).astype(np.float32), 3)
    if not sure:
        return score
    # a hue difference alone is sure only when large: gold tints the sand beside it and JPEG smears chroma
    return cv2.medianBlur(np.maximum(s_chroma / CHROMA_SURE, other).astype(np.float32), 3)


def _learned_score(small_rgb: np.ndarray) -> np.ndarray | None:
    """The learned net's coarse alpha (h, w) float32 at the working copy's size, or None.

    None unless USE_LEARNED is on and the net has weights. This is where the net joins the classical matte: its
    alpha is one more ratio in the piece score (`_with_learned`), so it can add what the colour cues miss (a
    polished shank mirroring the sweep) and the sure-backdrop tests still hold. It stays off until it measurably
    raises the IoU on the retoucher's masks (tests/retouch/test_retouch_matte.py), which needs its weights.
    """
    if not USE_LEARNED:
        return None
    from tryon.config import REPO_ROOT

    # importing the net loads torch (seconds): only worth it when there are weights to run
    if not (REPO_ROOT / "assets" / "models" / "retouch_matte.pt").exists():
        return None
    from tryon.retouch import net

    h, w = small_rgb.shape[:2]
    s = min(1.0, LEARNED_SIDE_PX / max(h, w))  # the net was trained at 320-512 px on the longer side
    rgb8 = (small_rgb * 255.0 + 0.5).astype(np.uint8)
    size = (max(16, round(w * s)), max(16, round(h * s)))
    out = net.coarse_alpha(rgb8 if s >= 1.0 else np.asarray(cv2.resize(rgb8, size, interpolation=cv2.INTER_AREA),
                                                                np.uint8))
    if out is None:
        return None
    return cv2.resize(np.asarray(out, np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


def _grow(score: np.ndarray) -> np.ndarray:
    """(h, w) bool: components of score >= 1 that hold a seed (score >= SEED_LEVEL), specks dropped."""
    weak = (score >= 1.0).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(weak, connectivity=8)
    if n <= 1:
        return np.zeros(score.shape, bool)
    seeded = np.zeros(n, bool)
    seeded[np.unique(labels[score >= SEED_LEVEL])] = True
    seeded[0] = False
    areas = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    areas[~seeded] = 0
    biggest = areas.max()
    keep = seeded & (areas >= max(SPECK_SHARE * biggest, 4.0))
    return keep[labels]


def _drop_strays(mask: np.ndarray, calm: np.ndarray) -> np.ndarray:
    """Drop components that are not the piece: small ones far from it (a dust speck, a fibre, a stray thread), and
    ones that hug the frame's edge or touch it while calm all over, without being the largest (a second backdrop
    colour, a table's dark edge, a fold of cloth).

    mask, calm : (h, w) bool (calm: no sharp local contrast there). A component is small below STRAY_SHARE of
    the largest's area, far beyond STRAY_DISTANCE of the frame's diagonal from every component at least half the
    largest's size; it hugs the edge when more than EDGE_HUG of its outline lies on the frame's edge.
    """
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return mask
    h, w = mask.shape
    areas = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    areas[0] = 0
    # outline length ~ pixels on the component's edge; edge contact = its pixels on the frame's outermost rows/cols
    m8 = mask.astype(np.uint8)
    outline = (m8 - cv2.erode(m8, np.ones((3, 3), np.uint8))) > 0
    per = np.bincount(labels[outline], minlength=n).astype(np.float64)
    frame = np.zeros((h, w), bool)
    frame[0] = frame[-1] = True
    frame[:, 0] = frame[:, -1] = True
    contact = np.bincount(labels[frame & mask], minlength=n).astype(np.float64)
    calm_share = np.bincount(labels[calm & mask], minlength=n) / np.maximum(areas, 1.0)
    calm_hug = (contact > 0) & (calm_share >= CALM_BACKDROP)
    hug = (contact > EDGE_HUG * np.maximum(per, 1.0)) | calm_hug
    # the piece is the largest component that does not hug the edge (when every one does, the largest)
    free = np.where(hug, 0.0, areas)
    if free.max() >= HUG_KEEP * areas.max():
        largest = int(np.argmax(free))
    else:
        largest = int(np.argmax(areas))
        if calm_hug[largest]:
            # nothing but calm patches of another shade along the frame: a two-tone backdrop, no piece
            return np.zeros_like(mask)
    hug[largest] = False
    areas = np.where(hug, 0.0, areas)
    big = areas >= 0.5 * areas[largest]
    reach = max(2, int(round(STRAY_DISTANCE * np.hypot(h, w))))
    near_big = cv2.distanceTransform((~big[labels]).astype(np.uint8), cv2.DIST_L2, 3) <= reach
    near = np.zeros(n, bool)
    near[np.unique(labels[near_big])] = True
    keep = (big | near | (areas >= STRAY_SHARE * areas[largest])) & ~hug
    keep[0] = False
    return keep[labels]


def _fill_holes(mask: np.ndarray, score: np.ndarray, lab: np.ndarray, local: LocalBackdrop) -> np.ndarray:
    """Fill holes enclosed by the piece unless they show the backdrop (a ring's open interior stays open).

    A hole is a background component that does not touch the frame's edge. It is backdrop when its median colour
    is close to the backdrop expected there (chroma within its spread; L within a shadow's range).
    """
    inv = (~mask).astype(np.uint8)
    n, labels = cv2.connectedComponents(inv, connectivity=4)
    if n <= 2:
        return mask
    edge = np.zeros(n, bool)
    edge[np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])] = True
    d = lab - local.lab
    chroma = np.sqrt(d[..., 1] ** 2 + d[..., 2] ** 2)
    lim = 0.6 * np.maximum(CHROMA_MIN, CHROMA_SIGMAS * np.maximum(local.spread[..., 1], local.spread[..., 2]))
    off_hue = (chroma > lim).astype(np.float64)
    off_l = (np.abs(d[..., 0]) > 3 * BRIGHT_MIN).astype(np.float64)
    flat = labels.ravel()
    count = np.bincount(flat, minlength=n).astype(np.float64)
    hue_share = np.bincount(flat, off_hue.ravel(), minlength=n) / np.maximum(count, 1)
    l_share = np.bincount(flat, off_l.ravel(), minlength=n) / np.maximum(count, 1)
    mean_score = np.bincount(flat, np.minimum(score, 2.0).ravel(), minlength=n) / np.maximum(count, 1)
    # pinholes between pavé stones and filigree are a few pixels of half-lit metal, not a view of the backdrop
    pinhole = (count < PINHOLE_SHARE * mask.size) & (mean_score >= PINHOLE_LEVEL)
    fill = ~edge & ((hue_share > 0.5) | (l_share > 0.5) | (mean_score >= HOLE_LEVEL) | pinhole)
    fill[0] = False
    return mask | fill[labels]


def coarse_mask(small: np.ndarray) -> tuple[np.ndarray, np.ndarray, LocalBackdrop]:
    """Binary piece mask (h, w) bool, its score (h, w) float32 and the local backdrop, from the working copy.

    The first pass judges every pixel against the border's gradient; each later one against the backdrop read
    around it from everything the pass before found surely backdrop (sand warmer near gold, a sweep's falloff,
    a sand cushion in a white cloth).
    """
    lab = to_lab(small)
    bd = fit_backdrop(lab)
    learned = _learned_score(small)
    local = LocalBackdrop(bd.lab, np.broadcast_to(bd.sigma, lab.shape).astype(np.float32),
                          np.full(lab.shape[:2], bd.texture, np.float32))
    contrast = local_contrast(lab[..., 0])
    score = _with_learned(piece_score(lab, bd.lab, bd.sigma, bd.texture, contrast=contrast), learned)
    for _ in range(LOCAL_ROUNDS):
        local = _read_local(lab, score, bd, local)
        score = _with_learned(piece_score(lab, local.lab, local.spread, local.texture, contrast=contrast), learned)
    sure = _with_learned(piece_score(lab, local.lab, local.spread, local.texture, sure=True, contrast=contrast),
                         learned)
    mask = _split_unsure(lab, score, sure, _grow(score), local, contrast)
    if mask.any():
        mask = _close_gaps(mask, score)
        mask = _fill_holes(mask, score, lab, local)
        mask = _drop_strays(mask, contrast < CONTRAST_MIN)
        mask = _mirror_faces(mask, lab, score, local, contrast)
    return mask, score, local


def _mirror_faces(mask: np.ndarray, lab: np.ndarray, score: np.ndarray, local: LocalBackdrop,
                  contrast: np.ndarray) -> np.ndarray:
    """The piece plus the polished faces beside it that mirror the backdrop (a white-gold shank seen edge-on).

    Such a face has the backdrop's colour, only a little darker, so no colour cue finds it; what gives it away is
    its far edge, a sharp line where a shadow fades. The piece and the backdrop further than FACE_REACH from it
    flood the luminance gradient (watershed), so they meet at the sharpest edge between them; a region the piece
    wins is claimed when it is a face: bounded toward the backdrop by an edge FACE_EDGE times sharper than the
    backdrop's grain, calm inside, neutral, a little darker than the backdrop (not a shadow's darkness), at most
    FACE_WIDTH wide, and not already half-seen by the score. Holes with no backdrop basin stay as they were.
    """
    h, w = mask.shape
    lum = cv2.GaussianBlur(lab[..., 0], (0, 0), 0.8)
    grad = np.hypot(cv2.Sobel(lum, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(lum, cv2.CV_32F, 0, 1, ksize=3)) / 8.0
    dist = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 3)
    far = dist > max(4, int(round(FACE_REACH * max(h, w))))
    if not far.any():
        return mask
    grain = max(0.3, float(np.percentile(grad[far], 90)))
    markers = np.zeros((h, w), np.int32)
    markers[far] = 1
    markers[mask] = 2
    g8 = np.clip(grad * (255.0 / (8.0 * grain)), 0, 255).astype(np.uint8)
    cv2.watershed(cv2.merge([g8, g8, g8]), markers)
    won = (markers == 2) & ~mask
    n, labels, stats, _ = cv2.connectedComponentsWithStats(won.astype(np.uint8), connectivity=8)
    if n <= 1:
        return mask
    # cheap tests on every region first (means by bincount), the medians and the edge only on what passes them
    flat = labels.ravel()
    area = np.maximum(stats[:, cv2.CC_STAT_AREA], 1).astype(np.float64)
    shade = np.bincount(flat, (local.lab[..., 0] - lab[..., 0]).ravel(), minlength=n) / area
    seen = np.bincount(flat, score.ravel(), minlength=n) / area
    candidates = np.flatnonzero((area >= FACE_MIN_PX) & (shade >= FACE_SHADE[0]) & (shade <= FACE_SHADE[1])
                                & (seen <= FACE_SCORE))
    candidates = candidates[candidates > 0]
    if len(candidates) == 0:
        return mask
    k3 = np.ones((3, 3), np.uint8)
    # the edge toward the backdrop: watershed lines beside the backdrop's basin
    line = (markers == -1) & (cv2.dilate((markers == 1).astype(np.uint8), k3) > 0)
    out = mask.copy()
    for i in candidates:
        x, y, cw, ch = stats[i, :4]
        x0, y0, x1, y1 = max(0, x - 1), max(0, y - 1), min(w, x + cw + 1), min(h, y + ch + 1)
        region = labels[y0:y1, x0:x1] == i
        r8 = region.astype(np.uint8)
        rim = (cv2.dilate(r8, k3) > 0) & line[y0:y1, x0:x1]
        if rim.sum() < 3:
            continue
        # the line runs beside the step, not always on it: the sharpest gradient within a pixel of it
        edge = float(np.median(cv2.dilate(grad[y0:y1, x0:x1], k3)[rim])) / grain
        width = 2.0 * float(cv2.distanceTransform(np.pad(r8, 1), cv2.DIST_L2, 3).max()) / max(h, w)
        if (edge >= FACE_EDGE and width <= FACE_WIDTH
                and float(np.median(contrast[y0:y1, x0:x1][region])) <= FACE_CALM
                and float(np.median(_tint(lab[y0:y1, x0:x1], local.lab[y0:y1, x0:x1])[region])) <= FACE_TINT):
            out[y0:y1, x0:x1] |= region
    return out


def _tint(lab: np.ndarray, bg_lab: np.ndarray) -> np.ndarray:
    """(h, w) Lab a/b distance of each pixel from the backdrop expected there."""
    return np.hypot(lab[..., 1] - bg_lab[..., 1], lab[..., 2] - bg_lab[..., 2])


def _with_learned(score: np.ndarray, learned: np.ndarray | None) -> np.ndarray:
    """The net's alpha (0..1) joins the score as one more ratio: 0.5 is its threshold, so 2 * alpha is 1 there."""
    if learned is None or learned.shape != score.shape:
        return score
    return np.maximum(score, 2.0 * learned)


def _read_local(lab: np.ndarray, score: np.ndarray, bd: Backdrop, prev: LocalBackdrop) -> LocalBackdrop:
    """The local backdrop read from what `score` (against `prev`) leaves surely backdrop."""
    first = _grow(score)
    margin = max(3, int(round(0.01 * max(lab.shape[:2]))))
    # distance to the first guess, once (large dilations cost more)
    dist = cv2.distanceTransform((~first).astype(np.uint8), cv2.DIST_L2, 3)
    # every hint of the piece (even ungrown: a polished shank mirrors the backdrop and shows only its edges) is
    # kept out of the backdrop's statistics, or the piece would raise the backdrop's own grain and hide itself
    hint = cv2.dilate((score >= 0.8).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    # ... and so is anything darker than a faint shade (beyond the backdrop's own grain): mirroring metal, shadows
    shade = 1.0 - max(1.0 - SHADE_RATIO, 3.0 * float(bd.sigma[0]) / max(float(np.median(bd.lab[..., 0])), 1.0))
    darker = lab[..., 0] < shade * prev.lab[..., 0]
    away = dist > margin
    # those doubts hold near the piece only: far from it a darker or rougher patch is the backdrop's own (a sand
    # cushion in a white cloth), and must be in the statistics
    near = dist <= NEAR_MARGINS * margin
    sure_bg = away & ~(near & (hint | darker | (score >= 0.5)))
    return local_backdrop(lab, sure_bg.astype(np.float32), bd, texture_weight=(away & (score < 1.0)).astype(np.float32),
                          texture_cap=2.0 * CONTRAST_MIN)


def _close_gaps(mask: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Fill narrow gaps between parts of the piece that are a little off the backdrop (score >= GAP_LEVEL).

    A polished band mirrors the backdrop: its edges are sharp but its middle is only a little darker than the
    backdrop, like a soft shadow. Bracketed by the piece on both sides it is the piece; a shadow beside the piece is
    bracketed on one side only, and a split shank's slit shows the backdrop itself (score below GAP_LEVEL).
    """
    r = max(2, int(round(GAP_SHARE * max(mask.shape))))
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    closed = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, k) > 0
    return mask | (closed & (score >= GAP_LEVEL))


def _colour_odds(lab: np.ndarray, piece: np.ndarray, backdrop: np.ndarray) -> np.ndarray:
    """(h, w) float32: how much likelier each pixel's colour is on `piece` than on `backdrop` (both (h, w) bool).

    Colour histograms of the two (16 bins per Lab axis, lightly smoothed), as GrabCut's colour models but without
    its graph cut, read back at every pixel.
    """
    n = COLOUR_BINS
    li = np.clip(lab[..., 0] * (n / 100.0), 0, n - 1).astype(np.int32)
    ai = np.clip((lab[..., 1] + 64.0) * (n / 128.0), 0, n - 1).astype(np.int32)
    bi = np.clip((lab[..., 2] + 64.0) * (n / 128.0), 0, n - 1).astype(np.int32)
    q = (li * n + ai) * n + bi
    hist = []
    for sel in (piece, backdrop):
        h = np.bincount(q[sel], minlength=n ** 3).astype(np.float32).reshape(n, n, n)
        h = gaussian_filter(h, 0.7, mode="constant")
        hist.append(h.ravel() / max(float(h.sum()), 1.0))
    return (hist[0][q] + 1e-5) / (hist[1][q] + 1e-5)


def _split_unsure(lab: np.ndarray, score: np.ndarray, sure: np.ndarray, grown: np.ndarray,
                  local: LocalBackdrop, contrast: np.ndarray) -> np.ndarray:
    """(h, w) bool: the unsure pixels between sure piece and sure backdrop go to whichever they are more alike.

    Backdrop next to a piece is often tinted by it (gold glows on sand; JPEG halves the chroma's resolution), so
    a threshold leaves a rim of backdrop on the piece. Seeded region growing (OpenCV's watershed on the
    smoothed Lab image) lets the sure piece and sure backdrop flood the unsure rim and meet at the sharpest
    colour step, which is the piece's true edge.
    """
    markers = np.zeros(score.shape, np.int32)
    # a sure backdrop pixel is also no darker than a faint shade: a polished band that mirrors the backdrop is
    # only a little darker, and must be left for the flooding (its sharp edges keep the backdrop out)
    shaded = (local.lab[..., 0] - lab[..., 0]) > np.maximum((1.0 - SHADE_RATIO) * local.lab[..., 0], SHADE_MIN_L)
    markers[(score < BACKDROP_LEVEL) & ~shaded] = 1
    markers[grown & (sure >= SURE_LEVEL)] = 2
    unsure = markers == 0
    if not unsure.any() or not (markers == 2).any():
        return grown
    # unsure pixels whose colour is common in the sure backdrop (shadows included) and rare on the sure piece are
    # backdrop: shaded sand tinted by gold is still sand's colour, not gold's
    like = _colour_odds(lab, markers == 2, (score < 1.0) & ~grown)
    # ... unless sharp local contrast says metal or a stone's facet is there (white gold and diamonds on white)
    calm = contrast < np.maximum(CONTRAST_MIN, CONTRAST_TEXTURES * local.texture)
    # ... and unless it is a neutral shade darker than the backdrop: a shadow, or polished white metal mirroring
    # it, which only the flooding (soft edges against sharp ones) can tell apart
    tinted = _tint(lab, local.lab) > TINT_MIN
    markers[unsure & calm & (like < 1.0 / COLOUR_ODDS) & (tinted | ~shaded)] = 1
    # chroma counts double: a hue step is the piece's edge, a luminance step may be the backdrop's grain
    weighted = (lab * np.array([1.0, 2.0, 2.0], np.float32) + np.array([0.0, 128.0, 128.0], np.float32))
    smooth = cv2.GaussianBlur(weighted.astype(np.float32), (0, 0), 1.0)
    guide8 = np.clip(smooth * (255.0 / 256.0) * np.array([2.5, 1.0, 1.0], np.float32), 0, 255).astype(np.uint8)
    cv2.watershed(guide8, markers)
    out = markers == 2
    # watershed lines (-1) fall on the edge itself: they count as piece when the score says so
    out |= (markers == -1) & (score >= 1.0)
    # a calm, shaded rim that the flooding gave to the piece but that opens onto the backdrop is the piece's
    # shadow (on sand, under a bracelet); the same shade bracketed by the piece (a mirroring band) stays
    # (a rim: within RIM_SHARE of the longer side from the backdrop; a dark stone's calm face reaches further in)
    near_out = cv2.distanceTransform(out.astype(np.uint8), cv2.DIST_L2, 3) <= RIM_SHARE * max(out.shape)
    rim = out & unsure & calm & shaded & near_out & ~tinted_strong(lab, local)
    if rim.any():
        n, labels = cv2.connectedComponents(rim.astype(np.uint8), connectivity=8)
        outside = cv2.dilate((~out).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        touching = np.zeros(n, bool)
        touching[np.unique(labels[outside & rim])] = True
        touching[0] = False
        out &= ~touching[labels]
    return out


def tinted_strong(lab: np.ndarray, local: LocalBackdrop) -> np.ndarray:
    """(h, w) bool: a hue far off the backdrop's (the piece's own colour, not a tint cast on the backdrop)."""
    return _tint(lab, local.lab) > CHROMA_SURE * 2.0 * CHROMA_MIN


def trimap_of(mask: np.ndarray, score: np.ndarray) -> np.ndarray:
    """(h, w) float32 trimap: 1 sure piece, 0 sure backdrop, 0.5 the unsure band within BAND_PX of the mask's edge.

    Inside the band, pixels that are the piece beyond doubt stay fixed: a chain thinner than the band would
    otherwise have no piece pixel to hold it, and the Laplacian's cheapest answer would be to let it vanish.
    """
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * BAND_PX + 1, 2 * BAND_PX + 1))
    m8 = mask.astype(np.uint8)
    band = (cv2.dilate(m8, k) > 0) & ~(cv2.erode(m8, k) > 0)
    tri = mask.astype(np.float32)
    tri[band] = 0.5
    tri[band & mask & (score >= 2.5 * SEED_LEVEL)] = 1.0
    tri[band & (score < 0.4)] = 0.0
    return tri


def _upsample(alpha_small: np.ndarray, rgb: np.ndarray, scale: float) -> np.ndarray:
    """Alpha at the photo's resolution: bilinear, then a guided filter on the photo's grey inside the piece's box."""
    h, w = rgb.shape[:2]
    if scale >= 1.0:
        return alpha_small
    up = cv2.resize(alpha_small, (w, h), interpolation=cv2.INTER_LINEAR)
    r = max(2, int(round(1.0 / scale)))
    ys, xs = np.nonzero((up > 0.01) & (up < 0.99))
    if len(ys) == 0:
        return up
    y0, y1 = max(0, ys.min() - 2 * r), min(h, ys.max() + 2 * r + 1)
    x0, x1 = max(0, xs.min() - 2 * r), min(w, xs.max() + 2 * r + 1)
    guide = cv2.cvtColor(rgb[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    up[y0:y1, x0:x1] = cv2.ximgproc.guidedFilter(guide, up[y0:y1, x0:x1], r, GUIDE_EPS)
    return np.clip(up, 0.0, 1.0)


def box_of(alpha: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of alpha > 0.5, x1 and y1 exclusive; (0, 0, 0, 0) when empty."""
    ys = np.flatnonzero((alpha > 0.5).any(axis=1))
    xs = np.flatnonzero((alpha > 0.5).any(axis=0))
    if len(ys) == 0:
        return (0, 0, 0, 0)
    return int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1


def cut_out(rgb: np.ndarray) -> Matte:
    """The piece's matte in `rgb` (H, W, 3) uint8 sRGB: alpha (H, W) float32 0..1 and its box.

    Raises InputError ("cut out: nothing to cut out: ...") when no piece stands out from the backdrop.
    """
    check_rgb(rgb, "cut out")
    small, scale = working_copy(rgb)
    mask, score, _ = coarse_mask(small)
    share = float(mask.mean())
    if share < MIN_PIECE_SHARE:
        raise InputError("cut out: nothing to cut out: no piece stands out from the backdrop "
                         f"(the largest candidate covers {share:.2%} of the frame)")
    if share > 0.9:
        raise InputError("cut out: nothing to cut out: no backdrop to tell the piece from "
                         f"(the piece would cover {share:.0%} of the frame)")
    alpha_small = solve_band(small, trimap_of(mask, score), prior=mask.astype(np.float32))
    alpha = _upsample(alpha_small, rgb, scale)
    box = box_of(alpha)
    if box == (0, 0, 0, 0):
        raise InputError("cut out: nothing to cut out: the matte came out empty")
    return Matte(alpha=alpha.astype(np.float32), box=box)


def foreground_colours(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """(H, W, 3) float32 0..1 sRGB: the piece's own colour, the backdrop removed from edge pixels.

    Solves I = a F + (1 - a) B for F where 0 < a < 1, in linear light, with B the backdrop fitted to the border;
    where a is small F is poorly determined (1/a amplifies noise), so it leans toward the nearest sure piece
    colour (an a^4-weighted blur). Where a is 0 or 1 F is the photo itself. Only the edge pixels are solved: the
    backdrop and the nearby colour come from the working copy, sampled at each edge pixel.
    """
    check_rgb(rgb, "foreground colours")
    if not isinstance(alpha, np.ndarray) or alpha.shape != rgb.shape[:2]:
        got = alpha.shape if isinstance(alpha, np.ndarray) else type(alpha).__name__
        raise InputError(f"foreground colours: alpha must be (H, W) = {rgb.shape[:2]}, got {got}")
    a = np.clip(alpha.astype(np.float32), 0.0, 1.0)
    out = rgb.astype(np.float32) * np.float32(1.0 / 255.0)
    ys, xs = np.nonzero((a > EDGE_ALPHA) & (a < 1.0 - EDGE_ALPHA))
    if len(ys) == 0:
        return out
    small, scale = working_copy(rgb)
    lin_small = _to_linear(small)
    b_small = _to_linear(np.clip(cv2.cvtColor(fit_backdrop(to_lab(small)).lab, cv2.COLOR_LAB2RGB), 0.0, 1.0))
    a_small = a if scale >= 1.0 else cv2.resize(a, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA)
    # the piece's nearby sure colour: alpha^4-weighted blur, wide enough to reach across the edge band
    wgt = a_small ** 4
    near_small = cv2.GaussianBlur(lin_small * wgt[..., None], (0, 0), NEAR_SIGMA_PX) / np.maximum(
        cv2.GaussianBlur(wgt, (0, 0), NEAR_SIGMA_PX), 1e-6)[..., None]
    sx, sy = (xs + 0.5) * scale - 0.5, (ys + 0.5) * scale - 0.5
    back, near = _bilinear(b_small, sx, sy), _bilinear(near_small, sx, sy)
    lin_i = _to_linear(out[ys, xs])
    av = a[ys, xs][:, None]
    solved = (lin_i - (1.0 - av) * back) / np.maximum(av, 1e-3)
    # trust the solve where alpha is large; lean on the nearby colour where it is small
    trust = np.clip((av - 0.15) / 0.6, 0.0, 1.0)
    f = trust * np.clip(solved, 0.0, 1.0) + (1.0 - trust) * near
    out[ys, xs] = np.clip(_to_srgb(f), 0.0, 1.0)
    return out


def _bilinear(img: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(n, c) bilinear samples of img (h, w, c) at float pixel coordinates x, y (n,), clamped to the image."""
    h, w = img.shape[:2]
    x = np.clip(x, 0.0, w - 1.0)
    y = np.clip(y, 0.0, h - 1.0)
    x0, y0 = np.minimum(x.astype(np.int64), w - 2 if w > 1 else 0), np.minimum(y.astype(np.int64), h - 2 if h > 1 else 0)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = (x - x0)[:, None].astype(np.float32), (y - y0)[:, None].astype(np.float32)
    top = img[y0, x0] * (1.0 - fx) + img[y0, x1] * fx
    bottom = img[y1, x0] * (1.0 - fx) + img[y1, x1] * fx
    return (top * (1.0 - fy) + bottom * fy).astype(np.float32)


def _to_linear(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _to_srgb(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1 / 2.4) - 0.055).astype(np.float32)
