"""Synthetic product photos with exact alpha, for training the learned matte (tryon.retouch.net).

Everything here is made by the project: the pieces are the catalog's own models (assets/) and `tryon design`
variations of rings and earrings (tryon.jewelry.design), drawn by the project's renderer (tryon.render) from
random views; the backdrops and props are procedural. Nothing is read from photos.

One sample (`make_sample`), size S x S:
  1. a backdrop (`backdrop`): a grey card, a studio sweep gradient, white seamless, paper, crumpled fabric,
     wood grain, marble, sand, velvet or a coloured card, or two of them side by side (a two-panel shot);
     lit unevenly (a light fall-off across it, sometimes a vignette);
  2. the room the metal mirrors (`environment_for`): the backdrop wrapped round the sphere
     (tryon.render.environment.FrameLight.room, as the try-on lights jewelry by its camera frame), blended with
     the renderer's studio: polished metal shows the backdrop's colour and the soft boxes' highlights;
  3. props that are not the piece: a stand or post under it, a printed card, pebbles or beads, a clear
     acrylic holder;
  4. one to three pieces (often an identical pair, as earrings are shot) at random sizes and views, each with a
     shadow cast from its own alpha (a soft drop shadow and a tight contact shadow), sometimes a mirror image
     below it on a glossy surface (the reflection is background);
  5. camera defects on the whole picture: exposure, a colour cast, a tone curve, a vignette, blur (the
     target alpha is blurred alike), dust specks and fibres, sensor noise, JPEG.
The target is the pieces' exact coverage (premultiplied "over" of their rendered alpha).

Arrays: rgb (S, S, 3) uint8 sRGB; alpha (S, S) uint8 (0..255, the coverage). Everything is drawn from one
numpy Generator: the same seed gives the same samples.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from tryon.jewelry import design
from tryon.jewelry.catalog import MODEL_SIZES, Catalog
from tryon.render.environment import Environment, FrameLight, make_environment, studio
from tryon.render.renderer import Renderer, Roi
from tryon.render.scene import ItemModel, item_model
from tryon.render.thumbnail import VIEWS
from tryon.types import Intrinsics

HFOV_DEG = 20.0  # a product lens (the thumbnails' and turntables')
DESIGNS_PER_KIND = {"ring": 10, "earring": 10}  # `tryon design` variations added to the catalog's pieces
# How often each kind is drawn (product shoots are mostly rings and earrings; a long chain is a few pixels wide
# and teaches little about the rest).
KIND_WEIGHTS = {"ring": 0.38, "earring": 0.28, "bracelet": 0.1, "watch": 0.06, "necklace": 0.08, "pendant": 0.1}
BACKDROPS = ("grey", "sweep", "white", "paper", "fabric", "wood", "marble", "sand", "velvet", "colour")
# How often each backdrop is drawn (plain studio cards are the commonest in product photos).
BACKDROP_WEIGHTS = (0.17, 0.12, 0.12, 0.08, 0.1, 0.1, 0.1, 0.07, 0.06, 0.08)


@dataclass(frozen=True)
class Piece:
    """One drawable piece: its model and kind (ring, earring, necklace, pendant, bracelet, watch)."""

    name: str
    kind: str
    model: ItemModel


def pieces(catalog: Catalog, seed: int = 0, designs: dict[str, int] | None = None) -> list[Piece]:
    """Every catalog item plus seeded `tryon design` variations (rings and earrings) as drawable pieces."""
    out = [Piece(item.id, item.kind, item_model(catalog, item)) for item in catalog]
    for kind, count in (DESIGNS_PER_KIND if designs is None else designs).items():
        for item, build in design.variations(kind, {}, count, seed=seed):
            nominal = {k: item.dimensions_mm[k] for k in MODEL_SIZES.get(kind, ()) if k in item.dimensions_mm}
            out.append(Piece(item.id, kind, ItemModel(item.id, build(), nominal)))
    return out


# --- noise and backdrops ------------------------------------------------------------------------------------


def smooth_noise(rng: np.random.Generator, h: int, w: int, cells: float, octaves: int = 1) -> np.ndarray:
    """(h, w) float32 smooth value noise, about -1..1: random values on a grid of `cells` across the longer
    side, bicubically enlarged; octaves add finer grids at half the amplitude each."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for k in range(octaves):
        c = cells * 2**k
        gh, gw = max(2, int(math.ceil(c * h / max(h, w))) + 2), max(2, int(math.ceil(c * w / max(h, w))) + 2)
        grid = rng.standard_normal((gh, gw)).astype(np.float32)
        out += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.5
    return out / np.float32(total)


def _tint(rng: np.random.Generator, level: float, chroma: float) -> np.ndarray:
    """(3,) a colour of about this grey level with a random hue of this strength."""
    return np.clip(level * (1.0 + chroma * rng.standard_normal(3)), 0.0, 1.0).astype(np.float32)


def _coords(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    s = np.float32(max(h, w))
    return x / s, y / s


def _texture(rng: np.random.Generator, kind: str, h: int, w: int) -> np.ndarray:
    """(h, w, 3) float32 sRGB 0..1 of one backdrop kind, evenly lit."""
    x, y = _coords(h, w)
    if kind == "grey":
        base = _tint(rng, rng.uniform(0.35, 0.92), 0.03)
        return base * (1.0 + 0.02 * smooth_noise(rng, h, w, 3.0, 2))[..., None]
    if kind == "sweep":  # a studio sweep: a smooth gradient from top to bottom (or radial)
        c0, c1 = _tint(rng, rng.uniform(0.5, 1.0), 0.03), _tint(rng, rng.uniform(0.3, 0.95), 0.03)
        if rng.random() < 0.6:
            t = np.clip(y * rng.uniform(0.6, 1.6) + rng.uniform(-0.3, 0.2), 0.0, 1.0)
        else:
            t = np.clip(np.hypot(x - rng.uniform(0.2, 0.8), y - rng.uniform(0.2, 0.8)) * rng.uniform(0.8, 2.0), 0, 1)
        return c0 + (c1 - c0) * t[..., None]
    if kind == "white":
        return np.broadcast_to(_tint(rng, rng.uniform(0.9, 1.0), 0.01), (h, w, 3)).copy()
    if kind == "paper":
        base = _tint(rng, rng.uniform(0.75, 0.97), 0.04)
        grain = 0.03 * smooth_noise(rng, h, w, max(h, w) / 3.0) + 0.03 * smooth_noise(rng, h, w, 5.0, 3)
        out = base * (1.0 + grain)[..., None]
        for _ in range(int(rng.integers(0, 30))):  # fibres
            p0 = rng.uniform(0, 1, 2) * (w, h)
            d = rng.uniform(-1, 1, 2) * rng.uniform(3, 15)
            cv2.line(out, tuple(int(v) for v in p0), tuple(int(v) for v in p0 + d),
                     tuple(float(c) for c in base * rng.uniform(0.85, 1.08)), 1, cv2.LINE_AA)
        return out
    if kind == "fabric":  # folds shaded by a light from one side, plus a weave
        base = _tint(rng, rng.uniform(0.45, 0.97), rng.uniform(0.02, 0.25))
        folds = smooth_noise(rng, h, w, rng.uniform(2.0, 6.0), 3)
        gy, gx = np.gradient(folds)
        angle = rng.uniform(0, 2 * math.pi)
        # The folds' slope toward a light (per pixel of a picture this size, scaled to about +-0.25).
        slope = math.cos(angle) * gx + math.sin(angle) * gy
        shade = 1.0 + rng.uniform(0.05, 0.3) * slope / max(float(np.abs(slope).max()), 1e-6)
        period = rng.uniform(1.5, 4.0)
        weave = 1.0 + rng.uniform(0.0, 0.06) * np.sin(2 * np.pi * x * max(h, w) / period) \
            * np.sin(2 * np.pi * y * max(h, w) / period)
        return base * np.clip(shade * weave, 0.5, 1.4)[..., None]
    if kind == "wood":
        light = rng.random() < 0.5  # a grey-washed board or a brown one
        base = _tint(rng, rng.uniform(0.55, 0.85), 0.02) if light else \
            np.array([rng.uniform(0.45, 0.75), rng.uniform(0.3, 0.5), rng.uniform(0.15, 0.3)], np.float32)
        angle = rng.uniform(0, math.pi)
        u = math.cos(angle) * x + math.sin(angle) * y
        v = -math.sin(angle) * x + math.cos(angle) * y
        warp = smooth_noise(rng, h, w, 3.0, 2) * rng.uniform(0.02, 0.08)
        grain = np.sin(2 * np.pi * (v + warp + 0.02 * u) * rng.uniform(15, 45))
        fine = smooth_noise(rng, h, w, max(h, w) / 2.0)
        shade = 1.0 + rng.uniform(0.05, 0.18) * grain + 0.04 * fine
        planks = rng.random() < 0.4
        if planks:
            gap = (np.abs(np.sin(np.pi * v * rng.uniform(2, 5))) < 0.03).astype(np.float32)
            shade *= 1.0 - 0.5 * gap
        return base * shade[..., None]
    if kind == "marble":
        base = _tint(rng, rng.uniform(0.75, 0.97), 0.02)
        turb = smooth_noise(rng, h, w, 2.5, 4)
        f = rng.uniform(3, 10)
        vein = np.abs(np.sin(2 * np.pi * (x * f * rng.uniform(0.3, 1.0) + y * f * 0.5 + 2.5 * turb)))
        veins = np.power(1.0 - vein, rng.uniform(8, 30)).astype(np.float32)
        colour = _tint(rng, rng.uniform(0.2, 0.6), 0.05)
        out = base * (1.0 + 0.03 * smooth_noise(rng, h, w, 6.0, 2))[..., None]
        return out + (colour - out) * (rng.uniform(0.4, 0.9) * veins)[..., None]
    if kind == "sand":
        base = np.array([rng.uniform(0.65, 0.9), rng.uniform(0.55, 0.78), rng.uniform(0.38, 0.6)], np.float32)
        grains = rng.standard_normal((h, w)).astype(np.float32)
        grains = cv2.GaussianBlur(grains, (0, 0), rng.uniform(0.5, 1.2)) * rng.uniform(0.05, 0.15)
        dunes = smooth_noise(rng, h, w, 3.0, 2) * 0.08
        out = base * (1.0 + grains + dunes)[..., None]
        spots = rng.random((h, w)) < rng.uniform(0.0, 0.01)  # dark and light grains
        out[spots] *= rng.uniform(0.4, 1.4)
        return out
    if kind == "velvet":
        base = _tint(rng, rng.uniform(0.03, 0.25), rng.uniform(0.0, 0.6))
        return base * (1.0 + 0.15 * smooth_noise(rng, h, w, 4.0, 3))[..., None]
    # "colour": a coloured card (red, pink, blue, green, ...)
    hsv = np.array([[[int(rng.integers(0, 180)), int(rng.integers(60, 230)), int(rng.integers(90, 250))]]], np.uint8)
    base = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32) / 255.0
    return base * (1.0 + 0.03 * smooth_noise(rng, h, w, 4.0, 2))[..., None]


def backdrop(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, str]:
    """(h, w, 3) float32 sRGB backdrop and its kind's name; sometimes two kinds side by side (two panels)."""
    kind = str(rng.choice(BACKDROPS, p=BACKDROP_WEIGHTS))
    out = _texture(rng, kind, h, w)
    if rng.random() < 0.08:  # a two-panel picture: another backdrop on one side of a straight split
        other = _texture(rng, str(rng.choice(BACKDROPS, p=BACKDROP_WEIGHTS)), h, w)
        if rng.random() < 0.5:
            cut = int(rng.uniform(0.35, 0.65) * w)
            out[:, cut:] = other[:, cut:]
        else:
            cut = int(rng.uniform(0.35, 0.65) * h)
            out[cut:] = other[cut:]
        kind += "+two-panel"
    x, y = _coords(h, w)
    angle = rng.uniform(0, 2 * math.pi)
    falloff = 1.0 + rng.uniform(0.0, 0.25) * ((math.cos(angle) * (x - 0.5) + math.sin(angle) * (y - 0.5)) * 2.0)
    out = out * falloff[..., None]
    return np.clip(out, 0.0, 1.0).astype(np.float32), kind


# --- props that are not the piece ---------------------------------------------------------------------------


def _shaded_disc(canvas: np.ndarray, rng: np.random.Generator, cx: float, cy: float, r: float,
                 colour: np.ndarray) -> None:
    """A lit sphere (a bead, a pebble) drawn into canvas (float32 RGB) in place."""
    h, w = canvas.shape[:2]
    x0, x1 = max(0, int(cx - r - 1)), min(w, int(cx + r + 2))
    y0, y1 = max(0, int(cy - r - 1)), min(h, int(cy + r + 2))
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    dx, dy = (xx - cx) / r, (yy - cy) / r
    d2 = dx * dx + dy * dy
    inside = np.clip((1.0 - np.sqrt(d2)) * r, 0.0, 1.0)
    nz = np.sqrt(np.clip(1.0 - d2, 0.0, 1.0))
    shade = 0.35 + 0.65 * np.clip(-0.4 * dx - 0.5 * dy + 0.75 * nz, 0.0, 1.0)
    spec = np.power(np.clip(-0.3 * dx - 0.4 * dy + 0.86 * nz, 0.0, 1.0), 30.0) * rng.uniform(0.0, 0.8)
    c = colour * shade[..., None] + spec[..., None]
    region = canvas[y0:y1, x0:x1]
    region += (c - region) * inside[..., None]


def add_props(rng: np.random.Generator, canvas: np.ndarray, where: tuple[float, float, float]) -> np.ndarray:
    """Draw props into canvas ((S, S, 3) float32, in place): a stand under the piece at where = (cx, cy,
    radius) px, a printed card, pebbles or beads, a clear holder. Returns the canvas."""
    h, w = canvas.shape[:2]
    cx, cy, radius = where
    if rng.random() < 0.15:  # a stand or post under the piece
        colour = _tint(rng, rng.uniform(0.05, 0.95), 0.05)
        half = radius * rng.uniform(0.15, 0.5)
        top = int(cy + radius * rng.uniform(0.3, 0.9))
        x = np.arange(w, dtype=np.float32)
        across = np.clip((x - (cx - half)) / (2 * half), 0.0, 1.0)
        shade = 0.7 + 0.5 * np.sin(np.pi * across)  # a cylinder's shading
        post = np.clip(half - np.abs(x - cx) + 0.5, 0.0, 1.0)
        region = canvas[max(0, top):]
        region += (colour * shade[:, None] - region) * post[None, :, None]
        if rng.random() < 0.5:  # a round base
            cv2.ellipse(canvas, (int(cx), int(min(h - 1, cy + radius * 1.4))), (int(radius * 0.9), int(radius * 0.25)),
                        0, 0, 360, tuple(float(c) for c in colour * 0.9), -1, cv2.LINE_AA)
    if rng.random() < 0.12:  # a printed card (earrings are sold on them)
        cw, ch = rng.uniform(0.25, 0.6) * w, rng.uniform(0.25, 0.6) * h
        box = ((float(rng.uniform(0, w)), float(rng.uniform(0, h))), (float(cw), float(ch)), float(rng.uniform(-40, 40)))
        pts = cv2.boxPoints(box).astype(np.int32)
        cv2.fillConvexPoly(canvas, pts, tuple(float(c) for c in _tint(rng, rng.uniform(0.75, 1.0), 0.04)), cv2.LINE_AA)
        ink = tuple(float(c) for c in _tint(rng, rng.uniform(0.05, 0.4), 0.3))
        for _ in range(int(rng.integers(0, 4))):
            p = np.array(box[0]) + rng.uniform(-0.3, 0.3, 2) * (cw, ch)
            cv2.putText(canvas, "THANK YOU"[: int(rng.integers(3, 10))], (int(p[0]), int(p[1])), cv2.FONT_HERSHEY_SIMPLEX,
                        float(rng.uniform(0.25, 0.6)), ink, 1, cv2.LINE_AA)
    if rng.random() < 0.12:  # pebbles or beads scattered round
        colour = _tint(rng, rng.uniform(0.2, 0.9), rng.uniform(0.05, 0.5))
        for _ in range(int(rng.integers(1, 8))):
            _shaded_disc(canvas, rng, rng.uniform(0, w), rng.uniform(0, h), rng.uniform(2, 0.08 * w),
                         colour * rng.uniform(0.8, 1.2))
    if rng.random() < 0.06:  # a clear acrylic holder: a faint, lighter slab with bright edges
        x0, x1 = sorted(rng.uniform(0.1, 0.9, 2) * w)
        y0 = rng.uniform(0.4, 0.8) * h
        region = canvas[int(y0):, int(x0):int(x1) + 1]
        region *= np.float32(rng.uniform(1.02, 1.12))
        for xe in (int(x0), int(x1)):
            cv2.line(canvas, (xe, int(y0)), (xe, h - 1), (0.95, 0.95, 0.95), 1, cv2.LINE_AA)
    return canvas


# --- the light the metal mirrors ----------------------------------------------------------------------------


def environment_for(rng: np.random.Generator, backdrop_rgb: np.ndarray, light: FrameLight,
                    studio_map: np.ndarray) -> Environment:
    """An Environment (tryon.render.environment) for a piece lying on this backdrop ((h, w, 3) float32 sRGB):
    the backdrop wrapped round the sphere (its colour kept), blended with the studio's soft boxes."""
    room = light.room((np.clip(backdrop_rgb, 0, 1) * 255.0 + 0.5).astype(np.uint8))
    weight = rng.uniform(0.3, 0.8)
    lum = np.array([0.2126, 0.7152, 0.0722], np.float32)
    level = float(room.reshape(-1, 3).mean(axis=0) @ lum) / max(float(studio_map.reshape(-1, 3).mean(axis=0) @ lum), 1e-6)
    studio_part = studio_map * np.float32(np.clip(level, 0.3, 1.5) * rng.uniform(0.6, 1.4))
    radiance = weight * room * np.float32(rng.uniform(1.0, 2.2)) + (1.0 - weight) * studio_part
    return make_environment(radiance.astype(np.float32), exposure=float(rng.uniform(0.65, 1.1)), diffuse_gain=2.0)


# --- drawing one piece ---------------------------------------------------------------------------------------


def _rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    a = axis / np.linalg.norm(axis)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * (k @ k)


def _base_rotation(kind: str) -> np.ndarray:
    """cam_R_item of the kind's shop view (tryon.render.thumbnail's)."""
    if kind in VIEWS:
        return np.asarray(VIEWS[kind], float)
    if kind in ("necklace", "pendant"):
        return _rotation(np.array([1.0, 0.0, 0.0]), math.radians(-20.0))
    facing = np.array([[0.0, 0.0, -1.0], [0.0, -1.0, 0.0], [-1.0, 0.0, 0.0]]).T
    return _rotation(np.array([0.0, 1.0, 0.0]), math.radians(55.0)) @ facing


def _posed_points(model: ItemModel, cam_T_parts: list[np.ndarray]) -> np.ndarray:
    out = []
    for p, m in zip(model.parts, cam_T_parts, strict=True):
        for pose in m.reshape(-1, 4, 4):
            out.append(p.vertices[:, :3] @ pose[:3, :3].T + pose[:3, 3])
    return np.vstack(out)


def random_view(rng: np.random.Generator, kind: str) -> np.ndarray:
    """(3, 3) cam_R_item: the kind's shop view turned a little, or (rings, earrings, bracelets, watches)
    any way at all (pieces lie flat, stand, hang)."""
    base = _base_rotation(kind)
    if kind in ("necklace", "pendant"):  # draped: turned in the picture's plane, tilted a little
        roll = _rotation(np.array([0.0, 0.0, 1.0]), rng.uniform(-math.pi, math.pi) if rng.random() < 0.3
                         else rng.uniform(-0.4, 0.4))
        tilt = _rotation(rng.standard_normal(3), rng.uniform(0.0, 0.5))
        return roll @ tilt @ base
    if rng.random() < 0.5:
        return _rotation(rng.standard_normal(3), rng.uniform(0.0, 0.6)) @ base
    q = rng.standard_normal(4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def render_piece(renderer: Renderer, piece: Piece, rotation: np.ndarray, size_px: int) -> np.ndarray:
    """(size, size, 4) float32 premultiplied RGBA 0..1: the piece turned by rotation (cam_R_item), framed to
    span the square (a small margin), lit by the renderer's current environment."""
    cam_T_item = np.eye(4)
    cam_T_item[:3, :3] = rotation
    parts = piece.model.cam_T_parts(cam_T_item)
    points = _posed_points(piece.model, parts)
    centre = 0.5 * (points.min(axis=0) + points.max(axis=0))
    rel = points - centre
    reach = math.tan(math.radians(HFOV_DEG) / 2.0) / 1.04
    distance = float(np.max(np.abs(rel[:, :2]).max(axis=1) / reach - rel[:, 2]))
    cam_T_item[:3, 3] = np.array([0.0, 0.0, distance]) - centre
    intr = Intrinsics.from_hfov(size_px, size_px, HFOV_DEG)
    return renderer.draw(Roi(0, 0, size_px, size_px), intr, [(piece.model, piece.model.cam_T_parts(cam_T_item))])


# --- the whole picture --------------------------------------------------------------------------------------


def _paste(layer: np.ndarray, canvas_px: int, x0: int, y0: int) -> np.ndarray:
    """(S, S, 4) the layer placed with its corner at (x0, y0) on an empty canvas (cropped at the edges)."""
    out = np.zeros((canvas_px, canvas_px, 4), np.float32)
    s = layer.shape[0]
    ax0, ay0 = max(0, x0), max(0, y0)
    ax1, ay1 = min(canvas_px, x0 + s), min(canvas_px, y0 + s)
    if ax1 > ax0 and ay1 > ay0:
        out[ay0:ay1, ax0:ax1] = layer[ay0 - y0 : ay1 - y0, ax0 - x0 : ax1 - x0]
    return out


def _shift(dx: float, dy: float) -> np.ndarray:
    """(2, 3) float32 affine matrix of a translation by (dx, dy) px."""
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], np.float32)


def _cast_shadow(rng: np.random.Generator, alpha: np.ndarray) -> np.ndarray:
    """(S, S) darkness 0..1 cast from the pieces' alpha: a soft drop shadow and a tight contact one."""
    s = alpha.shape[0]
    dark = np.zeros_like(alpha)
    if rng.random() < 0.75:
        dx, dy = rng.normal(0.0, 0.03 * s), abs(rng.normal(0.02 * s, 0.03 * s))
        shifted = cv2.warpAffine(alpha, _shift(dx, dy), (s, s))
        soft = cv2.GaussianBlur(shifted, (0, 0), rng.uniform(0.01, 0.05) * s)
        dark = np.maximum(dark, rng.uniform(0.1, 0.6) * soft)
    if rng.random() < 0.5:
        shifted = cv2.warpAffine(alpha, _shift(0.0, rng.uniform(0.0, 0.01) * s), (s, s))
        tight = cv2.GaussianBlur(shifted, (0, 0), rng.uniform(0.8, 2.5))
        dark = np.maximum(dark, rng.uniform(0.2, 0.7) * tight)
    return dark


def _reflection(rng: np.random.Generator, layer: np.ndarray) -> np.ndarray:
    """(S, S, 4) premultiplied: the pieces mirrored below their lowest point, fading out (a glossy floor)."""
    s = layer.shape[0]
    rows = np.nonzero(layer[..., 3].max(axis=1) > 0.05)[0]
    if len(rows) == 0:
        return np.zeros_like(layer)
    bottom = int(rows.max())
    flipped = layer[::-1]
    shift = 2 * bottom - (s - 1) + int(rng.integers(0, 3))
    out = cv2.warpAffine(flipped, _shift(0.0, shift), (s, s))
    fade = np.clip(1.0 - (np.arange(s, dtype=np.float32) - bottom) / (rng.uniform(0.15, 0.4) * s), 0.0, 1.0)
    fade[: bottom + 1] = 0.0
    return out * (fade * rng.uniform(0.15, 0.6))[:, None, None]


def _over(top: np.ndarray, under: np.ndarray) -> np.ndarray:
    return top + (1.0 - top[..., 3:4]) * under


def _camera(rng: np.random.Generator, rgb: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Camera defects on the (S, S, 3) float32 sRGB picture; returns (uint8 rgb, float32 alpha) (the alpha
    is blurred with the picture)."""
    s = rgb.shape[0]
    out = rgb * np.exp(rng.normal(0.0, 0.06, 3)).astype(np.float32) * np.float32(2.0 ** rng.normal(0.0, 0.25))
    out = np.clip(out, 0.0, 1.0) ** np.float32(rng.uniform(0.8, 1.25))
    if rng.random() < 0.3:  # vignette
        x, y = _coords(s, s)
        out *= (1.0 - rng.uniform(0.1, 0.35) * ((x - 0.5) ** 2 + (y - 0.5) ** 2) * 2.0)[..., None]
    if rng.random() < 0.5:  # soft focus: the alpha blurs alike
        sigma = rng.uniform(0.3, 1.3)
        out = cv2.GaussianBlur(out, (0, 0), sigma)
        alpha = cv2.GaussianBlur(alpha, (0, 0), sigma)
    if rng.random() < 0.6:  # dust specks and fibres, on the piece and the backdrop alike
        for _ in range(int(rng.integers(1, 25))):
            p = (int(rng.integers(0, s)), int(rng.integers(0, s)))
            colour = tuple(float(c) for c in np.full(3, rng.choice([rng.uniform(0.0, 0.3), rng.uniform(0.8, 1.0)])))
            if rng.random() < 0.8:
                cv2.circle(out, p, int(rng.integers(0, 2)), colour, -1, cv2.LINE_AA)
            else:
                q = (p[0] + int(rng.integers(-8, 9)), p[1] + int(rng.integers(-8, 9)))
                cv2.line(out, p, q, colour, 1, cv2.LINE_AA)
    noise = rng.uniform(0.0, 0.03)
    out = out + rng.standard_normal(out.shape).astype(np.float32) * np.float32(noise) * np.sqrt(np.clip(out, 0.02, 1.0))
    u8 = (np.clip(out, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if rng.random() < 0.7:
        ok, buf = cv2.imencode(".jpg", u8[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 96))])
        if ok:
            u8 = np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])
    return u8, alpha


def _draw_piece(rng: np.random.Generator, catalogue: list[Piece]) -> Piece:
    """A piece: its kind drawn by KIND_WEIGHTS (among the kinds there are), then one of that kind."""
    kinds = sorted({p.kind for p in catalogue})
    weights = np.array([KIND_WEIGHTS.get(k, 0.05) for k in kinds])
    kind = kinds[int(rng.choice(len(kinds), p=weights / weights.sum()))]
    of_kind = [p for p in catalogue if p.kind == kind]
    return of_kind[int(rng.integers(0, len(of_kind)))]


def _surface_detail(rng: np.random.Generator, layer: np.ndarray) -> np.ndarray:
    """The rendered piece ((s, s, 4) premultiplied) with fine sparkle on its surface: bright and dark dots of
    a pixel or two, as pave, glitter and engraving show in photos (the renders' surfaces are smooth)."""
    s = layer.shape[0]
    dots = np.zeros((s, s), np.float32)
    count = int(rng.uniform(0.002, 0.03) * s * s)
    ys, xs = rng.integers(0, s, count), rng.integers(0, s, count)
    dots[ys, xs] = rng.choice([-1.0, 1.0], count, p=[0.4, 0.6]).astype(np.float32)
    dots = cv2.GaussianBlur(dots, (0, 0), rng.uniform(0.5, 1.0)) * np.float32(rng.uniform(1.5, 4.0))
    a = layer[..., 3:4]
    rgb = layer[..., :3] + dots[..., None] * a * np.float32(0.5)
    return np.concatenate([np.clip(rgb, 0.0, a), a], axis=2)


def _big_stone(rng: np.random.Generator, layer: np.ndarray, backdrop_rgb: np.ndarray) -> np.ndarray:
    """The piece ((s, s, 4) premultiplied) with a large stone set on it: a lit, faceted ellipse of a random
    gem colour (white, blue, green, red, pink, opal, turquoise), or of about the backdrop's own colour
    (backdrop_rgb (3,): a white opal or a pave dial on a pale card), glittering or not, centred on the piece's
    own pixels (a stone is part of the piece even where it is the backdrop's colour or fills a ring's middle)."""
    s = layer.shape[0]
    ys, xs = np.nonzero(layer[..., 3] > 0.5)
    if len(ys) == 0:
        return layer
    k = int(rng.integers(0, len(ys)))
    cy, cx = float(ys[k]), float(xs[k])
    ry, rx = rng.uniform(0.06, 0.3) * s, rng.uniform(0.06, 0.3) * s
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
    angle = rng.uniform(0, math.pi)
    u = ((xx - cx) * math.cos(angle) + (yy - cy) * math.sin(angle)) / rx
    v = (-(xx - cx) * math.sin(angle) + (yy - cy) * math.cos(angle)) / ry
    r = np.sqrt(u * u + v * v)
    cover = np.clip((1.0 - r) * min(rx, ry), 0.0, 1.0)
    hsv = np.array([[[int(rng.integers(0, 180)), int(rng.integers(0, 255)), int(rng.integers(120, 256))]]], np.uint8)
    colour = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32) / 255.0
    if rng.random() < 0.35:
        colour = np.clip(backdrop_rgb * rng.uniform(0.9, 1.15) + rng.normal(0.0, 0.03, 3), 0.0, 1.0).astype(np.float32)
    theta = np.arctan2(v, u)
    facets = 1.0 + rng.uniform(0.0, 0.5) * np.sign(np.sin(theta * int(rng.integers(3, 9)) + rng.uniform(0, 6)))
    shade = (0.55 + 0.45 * np.sqrt(np.clip(1.0 - r * r, 0.0, 1.0))) * facets
    shade = shade + 0.15 * smooth_noise(rng, s, s, 8.0, 2)
    if rng.random() < 0.4:  # pave or glitter across the stone's face
        dots = (rng.random((s, s)) < rng.uniform(0.05, 0.3)).astype(np.float32)
        shade = shade * (1.0 + rng.uniform(0.2, 0.8) * (cv2.GaussianBlur(dots, (0, 0), 0.7) * 3.0 - 0.5))
    stone = np.clip(colour * shade[..., None], 0.0, 1.0)
    rim = np.clip(1.0 - np.abs(r - 1.0) * min(rx, ry) / 2.0, 0.0, 1.0) * rng.uniform(0.0, 1.0)  # the setting's rim
    metal = layer[..., :3].sum(axis=(0, 1)) / max(float(layer[..., 3].sum()), 1e-6)
    stone = stone + (metal - stone) * rim[..., None]
    c = cover[..., None]
    return np.concatenate([stone * c + (1.0 - c) * layer[..., :3], c + (1.0 - c) * layer[..., 3:4]], axis=2)


def make_sample(rng: np.random.Generator, renderer: Renderer, catalogue: list[Piece], size_px: int,
                light: FrameLight, studio_map: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """One synthetic photo: ((S, S, 3) uint8 rgb, (S, S) uint8 alpha, a short description)."""
    s = size_px
    bg, what = backdrop(rng, s, s)
    renderer.set_environment(environment_for(rng, bg, light, studio_map))
    count = 1 if rng.random() < 0.6 else 2 if rng.random() < 0.8 else 3
    first = _draw_piece(rng, catalogue)
    pair = count == 2 and rng.random() < 0.6  # an identical pair, as earrings are shot
    share = rng.uniform(0.55, 1.0) if count == 1 else rng.uniform(0.35, 0.6)
    layers = np.zeros((s, s, 4), np.float32)
    names = []
    centre = (s / 2.0, s / 2.0, share * s / 2.0)
    for k in range(count):
        piece = first if k == 0 or pair else _draw_piece(rng, catalogue)
        rotation = random_view(rng, piece.kind)
        side = max(16, int(share * s * rng.uniform(0.85, 1.1)))
        layer = render_piece(renderer, piece, rotation, side)
        if rng.random() < 0.35:
            layer = _surface_detail(rng, layer)
        if piece.kind in ("ring", "earring", "pendant", "bracelet", "watch") and rng.random() < 0.4:
            layer = _big_stone(rng, layer, np.median(bg.reshape(-1, 3), axis=0))
        if count == 1:
            x0, y0 = (s - side) // 2 + int(rng.normal(0, 0.08 * s)), (s - side) // 2 + int(rng.normal(0, 0.08 * s))
        else:
            slot = (k + 0.5) / count
            x0 = int(slot * s - side / 2 + rng.normal(0, 0.04 * s))
            y0 = int((s - side) / 2 + rng.normal(0, 0.1 * s))
        if k == 0:
            centre = (x0 + side / 2.0, y0 + side / 2.0, side / 2.0)
        layers = _over(layers, _paste(layer, s, x0, y0)) if rng.random() < 0.5 else _over(_paste(layer, s, x0, y0), layers)
        names.append(piece.name)
    canvas = add_props(rng, bg.copy(), centre)
    canvas *= (1.0 - _cast_shadow(rng, layers[..., 3]))[..., None]
    if rng.random() < 0.2:
        reflection = _reflection(rng, layers)
        canvas = reflection[..., :3] + (1.0 - reflection[..., 3:4]) * canvas
    picture = layers[..., :3] + (1.0 - layers[..., 3:4]) * canvas
    rgb, alpha = _camera(rng, picture, layers[..., 3].copy())
    return rgb, (np.clip(alpha, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8), f"{what}: {', '.join(names)}"


def make_dataset(count: int, size_px: int = 192, seed: int = 0,
                 progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """`count` samples: ((n, S, S, 3) uint8 rgb, (n, S, S) uint8 alpha, descriptions), from `seed` alone."""
    rng = np.random.default_rng(seed)
    catalogue = pieces(Catalog.load(), seed)
    light, studio_map = FrameLight(), studio()
    rgbs = np.zeros((count, size_px, size_px, 3), np.uint8)
    alphas = np.zeros((count, size_px, size_px), np.uint8)
    notes = []
    with Renderer() as renderer:
        for i in range(count):
            rgbs[i], alphas[i], note = make_sample(rng, renderer, catalogue, size_px, light, studio_map)
            notes.append(note)
            if progress is not None:
                progress(i + 1, count)
    return rgbs, alphas, notes
