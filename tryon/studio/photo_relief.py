"""A cut-out piece from a photo made solid: heights, materials and the photo's detail over a relief mesh.

The cut-out (the piece's RGB and matte, cropped; ``pixel_mm`` millimetres per pixel) is brought to a grid of
at most GRID_PX pixels on its larger side, and then:

- **what each pixel is**: a stone (tryon.retouch.gems' stone masks: coloured regions not of the metal's hue,
  bright faceted colourless ones) that is faceted (strong fine-scale contrast) stays a gem; a smooth coloured
  one (glass, enamel, a bead) is a glossy dielectric; the rest is metal. Labels are smoothed (a majority
  over a few pixels), so a highlight or a dark reflection on the metal stays metal;
- **thickness**: the metal is a sheet with rounded edges (PLATE_HALF_MM a side) wherever the photo shows it
  flat; where its shading changes across the piece the way a curved surface's does (the low-pass luminance's
  local spread, relative to its mean), it rises toward the outline's inflation (tryon.jewelry.geometry.
  heightfield.poisson_dome) - domed where the photo shows a dome, flat where flat. Stones rise above the
  setting by their own inflation. Fine detail (engraving, texture) is pressed in from the luminance's
  high-pass (DETAIL_MM). The back is flatter than the front (BACK_SHARE);
- **the photo's detail as tint**: per vertex, multiplying the material's base colour (glTF's rule for a
  vertex colour): on metal and stones the fine-scale darkening only (grooves, pavé gaps, grain; the metal's
  own colour stays the alloy's, so it takes the room's light as metal does); on the dielectric parts the
  photo's colour itself;
- **stones sparkle**: their triangles get facet normals (cells of about a sixth of the stone, each tilted a
  little at random), so a facet flashes as the piece or the light moves.

Holes in the matte stay open through the piece (tryon.jewelry.geometry.heightfield.relief_mesh).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import trimesh

from tryon.jewelry import materials
from tryon.jewelry.geometry.crowns import crowned_stone
from tryon.jewelry.geometry.heightfield import Relief, decimated, poisson_dome, relief_mesh
from tryon.jewelry.geometry.plates import polygon_area
from tryon.jewelry.geometry.units import MM
from tryon.render.scene import TINT_ATTRIBUTE
from tryon.retouch.gems import stone_masks
from tryon.retouch.tone import piece_box, srgb_to_linear

__all__ = ["GRID_PX", "Layers", "not_metal", "relief_layers", "relief_meshes", "stone_gems"]

GRID_PIXELS = 16_000  # the relief's grid holds about this many of the piece's pixels (two triangles each a side) ...
GRID_PX = 360  # ... and at most this many on its larger side
MAX_TRIANGLES = 6_000  # a smooth part (the metal, enamel) is decimated to about this many ...
MAX_STONE_TRIANGLES = 1_500  # ... and one gem's stones set as a relief to this many
CUT_SOLIDITY = 0.8  # a stone this convex (its area over its hull's) is cut as a crown to its outline
CROWN_SHARE = 0.35  # a cut stone's crown height, of its radius
PLATE_HALF_MM = 0.45  # half the metal sheet's thickness where the photo shows it flat
DOME_GAIN = 0.75  # of the outline's inflation (a disc of radius R: R / sqrt(2)) where the photo shows a dome
DOME_SPREAD = (0.05, 0.2)  # the low-pass luminance's relative spread from flat to fully domed
STONE_RISE = 0.35  # a stone's own inflation above the setting, times
SEAT_MM = 0.05  # stones and enamel sit this deep in the metal, and rise at least this far above it
DETAIL_MM = 0.06  # engraving and grain pressed in from the luminance's high-pass
BACK_SHARE = 0.5  # the back's dome, of the front's
MAX_THICKNESS_SHARE = 0.45  # at most this share of the piece's smaller side thick
TINT_MIN = 0.3  # the darkest detail a metal or a stone keeps
CAVITY = 0.8  # of the local mean luminance: what is darker than this is a groove, shaded darker; the rest is not
COLOURED_CHROMA = 0.6  # a warm-hued stone this saturated ((max - min) / max, linear) is coloured ...
SISTER_CHROMA = 0.5  # a stone paler than this, among two or more colourless ones of its size, is colourless
PALE_CHROMA = 0.3  # ... and a stone of any other hue this saturated (a pale aquamarine)
NOT_METAL_SATURATION = 0.45
COOL_HUES, COOL_SATURATION = (80, 150), 0.15  # pale blue topaz and aquamarine are this grey
GOLD_HUES = (8, 32)  # OpenCV hue (0..180): yellow and rose golds, and the warm reflections on them
BIG_STONE_SHARE = 0.1  # of the piece: a stone this big is filled out to its convex hull
MIN_STONE_MM = 0.6  # a stone at least this across (a 1 mm pave diamond is the smallest usual)
DIAMOND_MIN_LUMINANCE = 0.3  # linear: a colourless stone is bright
FACET_RINGS = (0.45, 0.8)  # a stone's table and its crown's rings end at these shares of its radius
FACET_TILTS = (0.0, 0.35, 0.65)  # radians: the table's, then each ring's facets' tilt outward
FACET_SECTORS = 8
METAL, STONE, DIELECTRIC = 0, 1, 2
DIELECTRIC_MATERIAL = "photo_enamel"  # not a named spec: the renderer takes its glTF factors
DIELECTRIC_ROUGHNESS = 0.3


@dataclass(frozen=True)
class Layers:
    """The cut-out on the relief's grid: what each pixel is and how high it stands. mm, rows down."""

    coverage: np.ndarray  # (h, w) float 0..1: the matte
    mask: np.ndarray  # (h, w) bool: the piece
    labels: np.ndarray  # (h, w) uint8: METAL, STONE or DIELECTRIC
    front_mm: np.ndarray  # (h, w)
    back_mm: np.ndarray  # (h, w)
    rise_mm: np.ndarray  # (h, w): a stone's or an enamel's front above the metal's
    tint: np.ndarray  # (h, w, 3) float 0..1
    linear: np.ndarray  # (h, w, 3) float: the photo's colour, linear
    pixel_mm: float


def _blur(x: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(x.astype(np.float32), (0, 0), max(sigma, 0.3))


def _inside_mean(x: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    """x's Gaussian mean over the mask's pixels only (normalised convolution); x where nothing is near."""
    w = mask.astype(np.float32)
    num, den = _blur(x * w, sigma), _blur(w, sigma)
    return np.where(den > 1e-3, num / np.maximum(den, 1e-3), x)


def not_metal(rgb: np.ndarray, metal: str | None = None) -> np.ndarray:
    """(h, w) bool: pixels too saturated to be the metal (``metal``; None: any gold or white metal), as a
    piece that is mostly a stone (a briolette on a bail) shows them: HSV saturation over NOT_METAL_SATURATION
    (COOL_SATURATION for blues and violets) in a bright enough pixel, with a hue outside the golds' (white
    metals have no hue of their own)."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    hue, sat, val = hsv[..., 0].astype(np.int32), hsv[..., 1] / 255.0, hsv[..., 2] / 255.0
    gold = (hue >= GOLD_HUES[0]) & (hue <= GOLD_HUES[1])
    white = metal is not None and metal in ("white_gold", "silver", "platinum", "stainless_steel")
    cool = (hue >= COOL_HUES[0]) & (hue <= COOL_HUES[1])  # no metal is blue, cyan or violet of its own
    limit = np.where(cool, COOL_SATURATION, NOT_METAL_SATURATION)
    return (sat > limit) & (val > 0.12) & (np.ones_like(gold) if white else ~gold)


def _sure_gold(rgb: np.ndarray) -> np.ndarray:
    """(h, w) bool: pixels surely gold: gold-hued and clearly saturated."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    hue = hsv[..., 0].astype(np.int32)
    return (hue >= GOLD_HUES[0]) & (hue <= GOLD_HUES[1]) & (hsv[..., 1] > 0.3 * 255) & (hsv[..., 2] > 0.2 * 255)


def _labels(rgb: np.ndarray, alpha: np.ndarray, mask: np.ndarray, lum: np.ndarray, linear: np.ndarray,
            pixel_mm: float, metal: str) -> np.ndarray:
    """Each pixel's material (module docstring). A stone under MIN_STONE_MM across is a reflection on the
    metal; a colourless one darker than DIAMOND_MIN_LUMINANCE is not a diamond but glass, enamel or a bead."""
    box = piece_box(alpha)
    stone = np.zeros_like(mask)
    if box is not None:
        x0, y0, x1, y1 = box
        stone[y0:y1, x0:x1] = stone_masks(rgb, alpha)[0] > 0.5
    coloured = cv2.morphologyEx(not_metal(rgb, metal).astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    stone = (stone | coloured.astype(bool)) & mask
    labels = np.full(mask.shape, METAL, np.uint8)
    if stone.any():
        count, comp = cv2.connectedComponents(stone.astype(np.uint8))
        fine = np.abs(lum - _blur(lum, 1.2)) / np.maximum(_blur(lum, 1.2), 1e-3)
        chroma = (linear.max(axis=2) - linear.min(axis=2)) / np.maximum(linear.max(axis=2), 1e-4)
        sure_gold = _sure_gold(rgb) if metal in ("yellow_gold", "rose_gold") else np.zeros_like(mask)
        for k in range(1, count):
            region = comp == k
            if 2.0 * np.sqrt(region.sum() / np.pi) * pixel_mm < MIN_STONE_MM:
                continue
            # A faceted stone scatters light into bright and dark facets (small ones, or a big stone's big
            # ones: looked for at a fifth of its radius too); glass and enamel do not.
            radius = np.sqrt(region.sum() / np.pi)
            coarse = fine
            if radius > 10.0:
                smooth = _blur(lum, radius / 5.0)
                coarse = np.abs(lum - smooth) / np.maximum(smooth, 1e-3)
            faceted = max(float(np.median(fine[region])), float(np.median(coarse[region]))) > 0.06
            colourless = float(np.median(chroma[region])) < COLOURED_CHROMA
            dull = colourless and float(np.median(lum[region])) < DIAMOND_MIN_LUMINANCE
            if region.sum() >= BIG_STONE_SHARE * mask.sum():
                # A big stone is convex (a briolette, an oval): its pale highlights and facets inside its
                # hull are stone too, unless they are surely the gold of its setting.
                hull = np.zeros(mask.shape, np.uint8)
                cv2.fillConvexPoly(hull, cv2.convexHull(cv2.findNonZero(region.astype(np.uint8))), (1,))
                region = hull.astype(bool) & mask & ~sure_gold
            if colourless and not faceted and not dull:
                continue  # a smooth, bright, colourless patch on the metal is its highlight, not white enamel
            labels[region] = STONE if faceted and not dull else DIELECTRIC
    size = max(3, (min(mask.shape) // 60) | 1)
    smoothed = cv2.medianBlur(labels, size)
    return np.where(mask, smoothed, METAL).astype(np.uint8)


def relief_layers(rgb: np.ndarray, alpha: np.ndarray, pixel_mm: float, metal: str) -> Layers:
    """The cut-out ``rgb`` (h, w, 3) uint8 sRGB and ``alpha`` (h, w) 0..1, ``pixel_mm`` mm per pixel, on the
    relief's grid, labelled and given heights and tints (module docstring); ``metal``: the piece's."""
    inside = max(float((alpha >= 0.5).sum()), 1.0)
    scale = min(2.0, GRID_PX / max(alpha.shape), float(np.sqrt(GRID_PIXELS / inside)))
    size = (max(2, round(alpha.shape[1] * scale)), max(2, round(alpha.shape[0] * scale)))
    how = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC
    coverage = np.clip(cv2.resize(alpha.astype(np.float32), size, interpolation=how), 0.0, 1.0)
    small = cv2.resize(rgb, size, interpolation=how)
    px = pixel_mm / scale
    mask = coverage >= 0.5
    linear = srgb_to_linear(small.astype(np.float32) / 255.0)
    lum = np.maximum(linear @ np.array([0.2126, 0.7152, 0.0722], np.float32), 1e-4)
    labels = _labels(small, coverage, mask, lum, linear, px, metal)
    side = float(min(np.ptp(np.argwhere(mask), axis=0))) * px if mask.any() else 1.0

    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5) * px
    plate = PLATE_HALF_MM * np.sqrt(1.0 - (1.0 - np.clip(dist / PLATE_HALF_MM, 0.0, 1.0)) ** 2)
    dome = DOME_GAIN * poisson_dome(mask, px)
    extent = max(mask.shape)
    low = _inside_mean(lum, mask, 0.04 * extent)
    window = 0.12 * extent
    m1, m2 = _inside_mean(low, mask, window), _inside_mean(low * low, mask, window)
    spread = np.sqrt(np.maximum(m2 - m1 * m1, 0.0)) / np.maximum(m1, 1e-4)
    curved = np.clip((spread - DOME_SPREAD[0]) / (DOME_SPREAD[1] - DOME_SPREAD[0]), 0.0, 1.0)
    front = np.maximum(plate, curved * dome)
    back = np.maximum(plate, BACK_SHARE * curved * dome)
    stones = mask & (labels != METAL)
    rise = STONE_RISE * poisson_dome(stones, px) + SEAT_MM if stones.any() else np.zeros_like(front)
    local = _inside_mean(lum, mask, 1.5)
    detail = np.clip(lum / np.maximum(local, 1e-4) - 1.0, -1.0, 1.0)
    front += np.where(labels == METAL, DETAIL_MM * detail, 0.0)
    limit = MAX_THICKNESS_SHARE * side
    total = front + back
    squeeze = np.where(total > limit, limit / np.maximum(total, 1e-6), 1.0)
    front, back = np.maximum(front * squeeze, 0.02), np.maximum(back * squeeze, 0.02)

    # Tints: the fine-scale darkening on metal and stones; the photo's colour on the dielectric parts.
    shade = np.clip(lum / np.maximum(CAVITY * _inside_mean(lum, mask, 0.03 * extent), 1e-4), TINT_MIN, 1.0)
    tint = np.repeat(shade[..., None], 3, axis=2)
    own = labels == DIELECTRIC
    if own.any():
        top = float(np.percentile(lum[own], 95))
        tint[own] = np.clip(linear[own] / max(top, 1e-3), 0.0, 1.0)
    return Layers(coverage, mask, labels, front, back, rise, tint.astype(np.float32), linear, px)


def stone_gems(layers: Layers) -> dict[int, str]:
    """Each stone's gem, by its own median colour: {stone component number in ``stone_parts``: gem name}."""
    count, comp, coloured = stone_parts(layers)
    areas = np.bincount(comp.ravel(), minlength=count)
    out = {}
    for k in range(1, count):
        if areas[k] < 4:
            continue
        c = np.median(layers.linear[comp == k], axis=0)
        chroma = float((c.max() - c.min()) / max(float(c.max()), 1e-6))
        # A pale stone among colourless sisters of its size (one of four diamonds catching a blue reflection)
        # is one of them; a coloured speck too small to be a stone is a diamond's fire.
        sisters = int(((areas[coloured:] > 0.5 * areas[k]) & (areas[coloured:] < 2.0 * areas[k])).sum())
        speck = 2.0 * np.sqrt(areas[k] / np.pi) * layers.pixel_mm < MIN_STONE_MM
        if k >= coloured or speck or (chroma < SISTER_CHROMA and sisters >= 2):
            out[k] = "diamond"
        else:
            out[k] = nearest_gem((float(c[0]), float(c[1]), float(c[2])))
    return out


def stone_parts(layers: Layers) -> tuple[int, np.ndarray, int]:
    """(count + 1, (h, w) int32 component numbers, the first colourless one's number) of the stones (0: not
    a stone): the coloured ones and the colourless ones (a halo of diamonds round a garnet, which reflect the
    metal's colour) apart, by each pixel's neighbourhood's chroma; pale pixels inside a coloured stone's hull
    are that stone."""
    stone = layers.mask & (layers.labels == STONE)
    lin = layers.linear
    chroma = (lin.max(axis=2) - lin.min(axis=2)) / np.maximum(lin.max(axis=2), 1e-4)
    # Colourless stones on gold reflect its warm colour: there a stone is coloured only when far more
    # saturated; a cool or a red-violet hue (no metal's) is a coloured stone even when pale.
    warm = (lin[..., 0] >= lin[..., 1]) & (lin[..., 1] >= lin[..., 2])
    coloured = _inside_mean(chroma, stone, 1.5) > np.where(warm, COLOURED_CHROMA, PALE_CHROMA)
    coloured &= stone
    count_a, comp_a = cv2.connectedComponents(coloured.astype(np.uint8))
    # A coloured stone's own pale highlights and facets lie inside its hull: they are that stone.
    for k in range(1, count_a):
        hull = np.zeros(stone.shape, np.uint8)
        cv2.fillConvexPoly(hull, cv2.convexHull(cv2.findNonZero((comp_a == k).astype(np.uint8))), (1,))
        inside = hull.astype(bool) & stone & ~coloured
        comp_a[inside] = k
        coloured |= inside
    count_b, comp_b = cv2.connectedComponents((stone & ~coloured).astype(np.uint8))
    comp = np.where(comp_b > 0, comp_b + count_a - 1, comp_a).astype(np.int32)
    return int(count_a + count_b - 1), comp, int(count_a)


def nearest_gem(colour: tuple[float, float, float]) -> str:
    """The catalog gem whose body colour is nearest in chromaticity (and colourless for near-neutral)."""
    c = np.asarray(colour, np.float64)
    chroma = (c.max() - c.min()) / max(c.max(), 1e-6)
    warm = c[0] >= c[1] >= c[2]
    if chroma < (COLOURED_CHROMA if warm else PALE_CHROMA):
        return "diamond"
    direction = c / max(float(np.linalg.norm(c)), 1e-9)
    best, name = -2.0, "diamond"
    for g in materials.GEMS.values():
        b = np.asarray(g.base_color, np.float64)
        if (b.max() - b.min()) / max(b.max(), 1e-6) < 0.25:
            continue
        score = float(direction @ (b / np.linalg.norm(b)))
        if score > best:
            best, name = score, g.name
    return name


def _facet_normals(v: np.ndarray, stone: np.ndarray, pixel_mm: float) -> np.ndarray:
    """(k, 3) a normal per stone triangle (v: (k, 3, 3) its corners, mm, the grid's centre the origin), as a
    brilliant's crown facets them: round each stone's centre a flat table (FACET_RINGS[0] of its radius), then
    rings of FACET_SECTORS facets tilted outward, each ring further (FACET_TILTS) and turned half a facet from
    the one inside it. Walls keep their own normals."""
    face_n = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
    face_n /= np.maximum(np.linalg.norm(face_n, axis=1, keepdims=True), 1e-12)
    centre = v.mean(axis=1)
    h, w = stone.shape
    count, comp, stats, centroids = cv2.connectedComponentsWithStats(stone.astype(np.uint8))
    rows = np.clip(np.round((h - 1) / 2.0 - centre[:, 1] / pixel_mm).astype(int), 0, h - 1)
    cols = np.clip(np.round(centre[:, 0] / pixel_mm + (w - 1) / 2.0).astype(int), 0, w - 1)
    which = comp[rows, cols]
    out = face_n.copy()
    front = face_n[:, 2] > 0.5
    for k in range(1, count):
        mine = (which == k) & front
        if not mine.any():
            continue
        cx = (centroids[k, 0] - (w - 1) / 2.0) * pixel_mm
        cy = ((h - 1) / 2.0 - centroids[k, 1]) * pixel_mm
        radius = max(np.sqrt(stats[k, cv2.CC_STAT_AREA] / np.pi) * pixel_mm, 1e-6)
        d = centre[mine, :2] - [cx, cy]
        r = np.linalg.norm(d, axis=1) / radius
        theta = np.arctan2(d[:, 1], d[:, 0])
        ring = np.searchsorted(FACET_RINGS, r)
        sector = np.floor(theta / (2.0 * np.pi) * FACET_SECTORS + 0.5 * ring) - 0.5 * ring + 0.5
        facing = sector * (2.0 * np.pi / FACET_SECTORS)
        tilt = np.asarray(FACET_TILTS)[np.minimum(ring, len(FACET_TILTS) - 1)]
        out[mine] = np.column_stack([np.sin(tilt) * np.cos(facing), np.sin(tilt) * np.sin(facing), np.cos(tilt)])
    return out


def relief_meshes(layers: Layers, metal: str, gems: dict[int, str],
                  origin_mm: tuple[float, float] = (0.0, 0.0)) -> list[tuple[str, trimesh.Trimesh]]:
    """The relief as closed meshes (metres, x right, y up, front +z): ("metal", the whole silhouette), and
    set into its front, one per gem ("stones_GEM": faceted) and "enamel" (the smooth dielectric parts), each
    with its glTF material and per-vertex tint; gems: each stone's (:func:`stone_gems`). origin_mm: the
    point (mm from the grid's centre, y up) moved to the origin. Raises ValueError where the mask holds
    nothing to build."""
    shift = np.array([origin_mm[0], origin_mm[1], 0.0])
    metal_relief = relief_mesh(layers.mask, layers.front_mm, layers.back_mm, layers.pixel_mm, edge=layers.coverage)
    out = [("metal", _mesh(layers, metal_relief, materials.pbr_material(metal), shift, None))]
    _, comp, _ = stone_parts(layers)
    seat = -(layers.front_mm - SEAT_MM)  # set into the metal's front: their backs are its front less SEAT_MM
    regions = []
    for g in sorted(set(gems.values())):
        mine = [k for k, v in gems.items() if v == g]
        cut, rest = _cut_stones(layers, comp, mine, shift)
        if cut is not None:
            cut.visual = trimesh.visual.TextureVisuals(material=materials.pbr_material(g))
            cut.vertex_attributes[TINT_ATTRIBUTE] = np.ones((len(cut.vertices), 3), np.float32)
            out.append((f"stones_{g}", cut))
        if rest:  # stones no crown fits (a halo round a centre stone): faceted reliefs
            regions.append((f"stones_{g}_set", np.isin(comp, rest), materials.pbr_material(g)))
    enamel = trimesh.visual.material.PBRMaterial(name=DIELECTRIC_MATERIAL, baseColorFactor=[255, 255, 255, 255],
                                                  metallicFactor=0.0, roughnessFactor=DIELECTRIC_ROUGHNESS)
    regions.append(("enamel", layers.mask & (layers.labels == DIELECTRIC), enamel))
    for name, region, material in regions:
        try:
            relief = relief_mesh(region, layers.front_mm + layers.rise_mm, seat, layers.pixel_mm)
        except ValueError:  # no 2 x 2 block of it: too small to build
            continue
        out.append((name, _mesh(layers, relief, material, shift, region if name.startswith("stones") else None)))
    return out


def _cut_stones(layers: Layers, comp: np.ndarray, stones: list[int], shift: np.ndarray
                ) -> tuple[trimesh.Trimesh | None, list[int]]:
    """The stones numbered ``stones`` in ``comp`` that are round enough (their outline's area at least
    CUT_SOLIDITY of their hull's) cut as brilliants' crowns to their outlines (tryon.jewelry.geometry.crowns), set into the
    metal's front, as one faceted mesh in metres; and the numbers of the others."""
    h, w = comp.shape
    px = layers.pixel_mm
    soups, normals, rest = [], [], []
    for k in stones:
        region = (comp == k).astype(np.uint8)
        r = max(1, round(np.sqrt(region.sum() / np.pi) / 8.0))  # ragged edges (a halo's bits) trimmed off
        smooth = cv2.morphologyEx(region, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                                                                     (2 * r + 1, 2 * r + 1)))
        contours, _ = cv2.findContours(smooth if smooth.any() else region, cv2.RETR_EXTERNAL,
                                       cv2.CHAIN_APPROX_NONE)
        if not contours:
            continue
        contour = max(contours, key=cv2.contourArea)[:, 0, :].astype(np.float64)
        hull = cv2.contourArea(cv2.convexHull(contour.astype(np.float32)))
        area = float(region.sum())
        if len(contour) < 8 or hull <= 0.0 or cv2.contourArea(contour.astype(np.float32)) < CUT_SOLIDITY * hull:
            rest.append(k)
            continue
        outline = np.column_stack([(contour[:, 0] - (w - 1) / 2.0) * px, ((h - 1) / 2.0 - contour[:, 1]) * px])
        if polygon_area(outline) < 0.0:
            outline = outline[::-1]
        front = layers.front_mm[region.astype(bool)]
        radius = np.sqrt(area / np.pi) * px
        v, n = crowned_stone(outline, float(front.mean()) + SEAT_MM, float(front.min()) - SEAT_MM,
                             CROWN_SHARE * radius)
        soups.append(v)
        normals.append(n)
    if not soups:
        return None, rest
    v = np.concatenate(soups) - shift
    mesh = trimesh.Trimesh(v * MM, np.arange(len(v)).reshape(-1, 3), vertex_normals=np.concatenate(normals),
                           process=False)
    return mesh, rest


def _mesh(layers: Layers, relief: Relief, material: trimesh.visual.material.PBRMaterial, shift: np.ndarray,
          facets: np.ndarray | None) -> trimesh.Trimesh:
    """One relief as a mesh in metres with its material and per-vertex tint; faceted (each triangle its own
    vertices, with its facet's normal) where ``facets`` (the stones' mask) is given."""
    # Brought down to what a worn piece needs on screen; the photo's detail stays in the tint.
    positions, faces, index = decimated(relief.vertices, relief.faces,
                                        MAX_TRIANGLES if facets is None else MAX_STONE_TRIANGLES)
    if facets is not None:
        normals = np.repeat(_facet_normals(positions[faces], facets, layers.pixel_mm), 3, axis=0)
        index = index[faces.ravel()]
        positions = positions[faces.ravel()]
        faces = np.arange(len(index)).reshape(-1, 3)
    else:
        normals = trimesh.Trimesh(positions, faces, process=False).vertex_normals
    pix = relief.vertex_pixels[index]
    mesh = trimesh.Trimesh((positions - shift) * MM, faces, vertex_normals=normals, process=False)
    mesh.visual = trimesh.visual.TextureVisuals(material=material)
    # Stones: their facets make the photo's light and dark; the tint would darken them twice.
    tint = np.ones((len(pix), 3), np.float32) if facets is not None else layers.tint[pix[:, 0], pix[:, 1]]
    mesh.vertex_attributes[TINT_ATTRIBUTE] = tint.astype(np.float32)
    return mesh
