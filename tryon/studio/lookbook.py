"""On-model pictures (lookbook): catalog pieces drawn on model photos through the try-on photo path, each
brought to the set's look and framed alike.

One model photo's work (`shoot_photo`): the photo is moved to the set's look (`Look`: the white point and the
highlight level measured over every model photo of the set, `set_look`; each photo's correction is bounded, so a
dark-skinned model stays dark-skinned and a red backdrop stays red), tracked once for every site the pieces need,
then each piece is rendered and composited by the same `Pipeline` that `tryon render` uses (real MediaPipe, the
renderer, the compositor) and cropped to a square around the worn site whose side is a fixed size on the body
(`SIDE_M`, metres at the site's depth: the same share of the picture for every model, whatever the photo's
resolution or how far the model stood), then resized to `size_px`. A piece whose site is not seen is a `Shot`
with the pipeline's reason ("no face found", "the ears are hidden ...") and no image.

The batch around it (discovery, manifest, resume, workers, contact sheet) is tryon.studio.lookbook_batch.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from tryon.compositor.alpha import composite
from tryon.errors import InputError
from tryon.jewelry.places import Worn, not_placed, resolve_specs
from tryon.pipeline import Pipeline
from tryon.retouch.tone import gain_luts, srgb_to_linear
from tryon.types import AnchorPose, Frame, FrameAnchors, RenderLayer

log = logging.getLogger(__name__)

# The crop's side on the body, metres at the site's depth: an ear with a drop below it, the neckline with a
# pendant, a hand's ring finger with its neighbours, a wrist with the back of the hand.
SIDE_M = {"ears": 0.16, "neck": 0.24, "finger": 0.11, "wrist": 0.17}
# Where the crop's centre lies from the site, as shares of its side: (away from the face's middle, down). An
# ear's crop is centred above and behind the lobe (the whole ear, the drop below it); a neck's below the neck's
# anchor (the pendant on its chain).
SITE_OFFSET = {"ears": (0.06, -0.10), "neck": (0.0, 0.25), "finger": (0.0, 0.0), "wrist": (0.0, 0.0)}
PIECE_ALPHA = 0.3  # fit_piece: the drawn piece's pixels
FIT_MARGIN = 0.06  # fit_piece: room round the piece, a share of the side
FIT_GROW = {"ears": 0.25, "neck": 0.5, "finger": 0.5, "wrist": 0.5}  # piece_bounds: how far round the box to look
EDGE_PX = 1  # at_edge: a piece this close to the photo's border is cut by it
MIN_VISIBLE = 0.5  # as tryon.jewelry.places.not_placed: a site is shown at or above this
HIDDEN = {"ears": "the earring would be hidden by hair", "neck": "the necklace would be hidden (hair or clothing)",
          "finger": "the ring would be hidden", "wrist": "the piece would be hidden at the wrist"}
MIN_CROP_PX = 96  # the framing's side in the photo: below this a picture would be mostly enlargement
MIN_SHOWN = 0.35  # of a piece's rendered coverage at its site: less left after hair and clothing is "hidden"
LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)  # Rec. 709
LOOK_SIDE_PX = 400  # the look is read on the photo averaged down to this longer side
WHITE_SHARE = 0.2  # the brightest share of the near-neutral pixels makes the white point
NEUTRAL_LUMA = 0.3  # near-neutral pixels for the white point: at least this bright,
NEUTRAL_CHROMA = 0.3  # their channels within this share of the largest,
NEUTRAL_SHARE = 0.005  # and at least this share of the photo (else its white is left alone)
KEY_QUANTILE = 0.90  # the photo's highlight level: this quantile of its luma (sRGB 0..1)
MAX_WHITE_GAIN = 1.10  # per channel, linear light: a set is evened out, a backdrop or a skin is not recoloured
KEY_RANGE = (0.08, 0.96)  # the key is read on pixels between these lumas: not a blown-out white or black backdrop
POWER_RANGE = (0.85, 1.18)  # exposure: the power curve on sRGB values (about +-0.25 stop in the mid-tones)
KEY_TOLERANCE = 0.03  # |log(key / target key)| below this: the exposure is left alone
MONO_CHROMA = 0.03  # 95 % of pixels spread less than this across channels (0..1): a black-and-white photo


@dataclass(frozen=True)
class Look:
    """A photo's (or a set's) look: `white` the bright point's linear-light colour, scaled to mean 1; `key` the
    highlight level (KEY_QUANTILE of the sRGB luma of the pixels within KEY_RANGE, 0..1); `mono`: a black-and-white
    photo."""

    white: tuple[float, float, float]
    key: float
    mono: bool = False
    white_known: bool = True  # False: too few near-neutral pixels to read the light's colour (its white is kept)


@dataclass(frozen=True)
class Shot:
    """One piece on one model photo: `image` (size, size, 3) uint8, or None with `reason`. `crop_px`: the square
    (x0, y0, side) cut from the photo; `scale`: output pixels per photo pixel (> 1: the photo was enlarged);
    `site`: the anchor site it is framed on."""

    spec: str
    image: np.ndarray | None
    reason: str = ""
    crop_px: tuple[int, int, int] | None = None
    scale: float = 0.0
    site: str = ""


def measure_look(rgb: np.ndarray) -> Look:
    """The photo's Look. rgb : (H, W, 3) uint8 sRGB."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8 or min(rgb.shape[:2]) < 8:
        raise InputError(f"measure_look: an (H, W, 3) uint8 photo of at least 8 px, got {rgb.shape} {rgb.dtype}")
    s = LOOK_SIDE_PX / max(rgb.shape[:2])
    small = cv2.resize(rgb, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1 else rgb
    px = small.reshape(-1, 3).astype(np.float32) * (1.0 / 255.0)
    luma = px @ LUMA
    mono = float(np.quantile(px.max(axis=1) - px.min(axis=1), 0.95)) < MONO_CHROMA
    # The white point from near-neutral bright pixels only (whites of the eyes, a white shirt, a grey backdrop): the
    # brightest pixels of a photo on a red or blue backdrop are the backdrop's colour, not the light's.
    top = px.max(axis=1)
    chroma = (top - px.min(axis=1)) / np.maximum(top, 1e-3)
    near = px[(top < 0.985) & (luma > NEUTRAL_LUMA) & (chroma < NEUTRAL_CHROMA)]
    white_known = near.shape[0] >= NEUTRAL_SHARE * px.shape[0] and not mono
    white = np.ones(3, np.float32)
    if white_known:
        y = near @ LUMA
        white = srgb_to_linear(near[y >= np.quantile(y, 1.0 - WHITE_SHARE)].mean(axis=0))
        white = white / max(float(white.mean()), 1e-4)
    lit = luma[(luma > KEY_RANGE[0]) & (luma < KEY_RANGE[1])]  # a white or black backdrop is not the exposure
    key = float(np.clip(np.quantile(lit if lit.size >= 50 else luma, KEY_QUANTILE), 0.02, 0.995))
    return Look((float(white[0]), float(white[1]), float(white[2])), key, mono, bool(white_known))


def set_look(looks: Sequence[Look]) -> Look:
    """The set's target: the median white (of the colour photos) and the median highlight level."""
    if not looks:
        raise InputError("set_look: no photo to measure")
    colour = [lk.white for lk in looks if lk.white_known and not lk.mono] or [(1.0, 1.0, 1.0)]
    white = np.median(np.asarray(colour, np.float64), axis=0)
    white = white / white.mean()
    return Look((float(white[0]), float(white[1]), float(white[2])), float(np.median([lk.key for lk in looks])))


def correction(look: Look, target: Look) -> tuple[tuple[float, float, float], float]:
    """Per-channel linear-light gains (bounded by MAX_WHITE_GAIN, the white's brightness kept) and the power on
    sRGB values (bounded by POWER_RANGE; 0 and 1 stay put, nothing clips) that move `look` to `target`."""
    if look.mono or not look.white_known:
        gains = np.ones(3)
    else:
        gains = np.clip(np.asarray(target.white) / np.maximum(np.asarray(look.white), 1e-4),
                        1 / MAX_WHITE_GAIN, MAX_WHITE_GAIN)
        gains = gains / float(gains @ LUMA)
    power = 1.0
    if 0.02 < look.key < 0.985 and 0.02 < target.key < 0.995:
        if abs(np.log(look.key / target.key)) >= KEY_TOLERANCE:
            power = float(np.clip(np.log(target.key) / np.log(look.key), *POWER_RANGE))
    return (float(gains[0]), float(gains[1]), float(gains[2])), power


def apply_correction(rgb: np.ndarray, gains: tuple[float, float, float], power: float) -> np.ndarray:
    """rgb moved by `correction`'s gains and power: (H, W, 3) uint8, a new array."""
    if power == 1.0 and gains == (1.0, 1.0, 1.0):
        return rgb.copy()
    return cv2.LUT(rgb, gain_luts(gains, power))


# ------------------------------------------------------------------ framing


def shown_sites(w: Worn, anchors: FrameAnchors) -> list[AnchorPose]:
    """The worn piece's sites that the tracking says are shown (visible >= MIN_VISIBLE)."""
    return [a for s in w.sites if (a := anchors.get(s)) is not None and a.visible >= MIN_VISIBLE]


def alpha_in(layer: RenderLayer, box: tuple[int, int, int]) -> float:
    """The layer's coverage (sum of alpha, pixels) inside the square box (x0, y0, side) of the frame."""
    if layer.rgba.size == 0:
        return 0.0
    lx, ly = layer.origin_px
    h, w = layer.rgba.shape[:2]
    x0, y0, side = box
    xa, xb = max(x0, lx), min(x0 + side, lx + w)
    ya, yb = max(y0, ly), min(y0 + side, ly + h)
    if xa >= xb or ya >= yb:
        return 0.0
    return float(layer.rgba[ya - ly:yb - ly, xa - lx:xb - lx, 3].sum())


def frame_box(kind: str, anchor: AnchorPose, anchors: FrameAnchors, shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(x0, y0, side) in photo pixels: a square SIDE_M[kind] metres across at the anchor's depth, placed by
    SITE_OFFSET, moved inside the photo (and shrunk to its shorter side when larger)."""
    h, w = int(shape[0]), int(shape[1])
    z = max(float(anchor.cam_T_anchor[2, 3]), 0.05)
    side = int(round(SIDE_M[kind] * anchors.intrinsics.fx / z))
    side = max(16, min(side, h, w))
    out, down = SITE_OFFSET[kind]
    away = 1.0 if anchor.site.startswith("left") else -1.0  # the person's left is the photo's right
    cx = float(anchor.xy_px[0]) + away * out * side
    cy = float(anchor.xy_px[1]) + down * side
    x0 = int(round(min(max(cx - side / 2, 0), w - side)))
    y0 = int(round(min(max(cy - side / 2, 0), h - side)))
    return x0, y0, side


def piece_bounds(layer: RenderLayer, box: tuple[int, int, int], grow: float) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) in photo pixels of the drawn piece (alpha > PIECE_ALPHA) near the box: within it grown by
    `grow` of its side each way (so an earring at the other ear, or a ring on the other hand, is left out); None when
    nothing is drawn there."""
    if layer.rgba.size == 0:
        return None
    x0, y0, side = box
    lx, ly = layer.origin_px
    h, w = layer.rgba.shape[:2]
    g = int(grow * side)
    xa, xb = max(x0 - g, lx), min(x0 + side + g, lx + w)
    ya, yb = max(y0 - g, ly), min(y0 + side + g, ly + h)
    if xa >= xb or ya >= yb:
        return None
    a = layer.rgba[ya - ly:yb - ly, xa - lx:xb - lx, 3] > PIECE_ALPHA
    rows, cols = np.nonzero(a.any(axis=1))[0], np.nonzero(a.any(axis=0))[0]
    if rows.size == 0:
        return None
    return xa + int(cols[0]), ya + int(rows[0]), xa + int(cols[-1]) + 1, ya + int(rows[-1]) + 1


def fit_piece(box: tuple[int, int, int], bounds: tuple[int, int, int, int] | None,
              shape: tuple[int, ...]) -> tuple[int, int, int]:
    """The box moved (its size kept) the least that holds the drawn piece's `bounds` with FIT_MARGIN round it,
    where the piece is small enough; then kept inside the photo. A long chain's pendant hangs far below the neck's
    anchor; a watch's case sits on the back of the wrist, not at the anchor."""
    if bounds is None:
        return box
    x0, y0, side = box
    m = FIT_MARGIN * side
    bx0, by0, bx1, by1 = bounds[0] - m, bounds[1] - m, bounds[2] + m, bounds[3] + m
    if bx1 - bx0 <= side:
        x0 = int(round(min(max(x0, bx1 - side), bx0)))
    if by1 - by0 <= side:
        y0 = int(round(min(max(y0, by1 - side), by0)))
    h, w = int(shape[0]), int(shape[1])
    return min(max(x0, 0), w - side), min(max(y0, 0), h - side), side


def at_edge(bounds: tuple[int, int, int, int] | None, shape: tuple[int, ...]) -> bool:
    """Whether the drawn piece reaches the photo's border (so part of it would lie beyond the photo)."""
    if bounds is None:
        return False
    h, w = int(shape[0]), int(shape[1])
    return bounds[0] <= EDGE_PX or bounds[1] <= EDGE_PX or bounds[2] >= w - EDGE_PX or bounds[3] >= h - EDGE_PX


def cut(rgb: np.ndarray, box: tuple[int, int, int], size_px: int) -> np.ndarray:
    """The box of rgb resized to (size_px, size_px, 3): area averaging to shrink, Lanczos to enlarge."""
    x0, y0, side = box
    crop = rgb[y0:y0 + side, x0:x0 + side]
    if side == size_px:
        return crop.copy()
    interp = cv2.INTER_AREA if side > size_px else cv2.INTER_LANCZOS4
    return cv2.resize(crop, (size_px, size_px), interpolation=interp)


# ------------------------------------------------------------------ one model photo


def _track_groups(pipe: Pipeline, specs: Sequence[str], frame: Frame) -> dict[str, FrameAnchors]:
    """Each spec's anchors, the photo tracked once for all of them where their pieces can be worn together (one
    piece per distinct set of sites), else once per such set."""
    placements = resolve_specs(pipe.catalog, specs)
    first: dict[tuple[str, ...], str] = {}
    for spec, w in zip(specs, placements, strict=True):
        first.setdefault(w.sites, spec)
    reps = list(first.values())
    try:
        pipe.set_items(reps)
        together = pipe.track(frame)
        by_sites = {sites: together for sites in first}
    except InputError:  # the pieces cannot be worn together (two for one site): one tracking each
        by_sites = {}
        for sites, spec in first.items():
            pipe.set_items([spec])
            by_sites[sites] = pipe.track(frame)
    return {spec: by_sites[w.sites] for spec, w in zip(specs, placements, strict=True)}


def shoot_photo(pipe: Pipeline, rgb: np.ndarray, specs: Sequence[str], size_px: int,
                gains: tuple[float, float, float] = (1.0, 1.0, 1.0), power: float = 1.0) -> list[Shot]:
    """Every piece of `specs` on this model photo, in order. pipe: an image-mode Pipeline (reused photo after
    photo); rgb : (H, W, 3) uint8; gains, power: the photo's `correction` to the set's look.

    Of a piece's shown sites (both ears of a frontal face, two hands) the one where most of the piece is left
    after hair and clothing is framed (the nearer one on a tie); under MIN_SHOWN of it anywhere, the pair is
    skipped as hidden."""
    frame = Frame(apply_correction(rgb, gains, power))
    tracked = _track_groups(pipe, specs, frame)
    shots = []
    for spec in specs:
        pipe.set_items([spec])
        worn = pipe.placements[0]
        anchors = tracked[spec]
        missing = not_placed(pipe.placements, anchors)
        sites = shown_sites(worn, anchors)
        if missing or not sites:
            shots.append(Shot(spec, None, missing[0].reason if missing else "its site is not seen"))
            continue
        layer = pipe.render(anchors, frame)
        bare = pipe.render(dataclasses.replace(anchors, covers={}), frame) if anchors.covers else layer
        kind = worn.item.site
        best: tuple[float, float, AnchorPose, tuple[int, int, int], tuple[int, int, int, int] | None] | None = None
        drawn = 0.0
        for anchor in sites:
            box = frame_box(kind, anchor, anchors, frame.rgb.shape)
            bounds = piece_bounds(bare, box, FIT_GROW[kind])
            box = fit_piece(box, bounds, frame.rgb.shape)
            whole = alpha_in(bare, box)
            drawn = max(drawn, whole)
            share = alpha_in(layer, box) / whole if whole > 0 else 0.0
            share = 0.0 if at_edge(bounds, frame.rgb.shape) else share
            rank = (round(share, 2), -float(anchor.cam_T_anchor[2, 3]), anchor, box, bounds)
            if best is None or rank[:2] > best[:2]:
                best = rank
        assert best is not None
        share, _, anchor, box, bounds = best
        if box[2] < MIN_CROP_PX:  # a far-off figure, or a false find on a small part of the photo
            part = {"ears": "ear", "neck": "neckline", "finger": "hand"}.get(kind, kind)
            shots.append(Shot(spec, None, f"the {part} is too small in this photo (its framing is {box[2]} px "
                                          f"across, at least {MIN_CROP_PX} needed)"))
            continue
        if drawn <= 0.0:  # tracked, but the piece falls outside the photo (a site at its very edge)
            shots.append(Shot(spec, None, "the piece would fall outside the photo"))
            continue
        if at_edge(bounds, frame.rgb.shape):
            shots.append(Shot(spec, None, "the piece would be cut by the photo's edge"))
            continue
        if share < MIN_SHOWN:
            shots.append(Shot(spec, None, HIDDEN.get(kind, "the piece would be hidden") + f" ({share:.0%} left)"))
            continue
        out = pipe.compositor(frame.rgb, layer) if pipe.compositor is not None else composite(frame.rgb, layer)
        shots.append(Shot(spec, cut(out, box, size_px), "", box, round(size_px / box[2], 3), anchor.site))
    return shots
