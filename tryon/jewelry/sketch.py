"""Design from a sketch: a drawn outline (pen or pencil on paper, photographed or scanned, or drawn on a page)
becomes the outline of a pendant or an earring cut from sheet metal.

Reading the drawing (:func:`read_sketch`, image -> :class:`Sketch`, pixels, y down):
  1. the paper is taken out: the page's own brightness is estimated by a morphological closing far wider
     than a stroke (it follows uneven light, gradients and shadows, and keeps a shadow's edge sharp); each
     pixel's darkness is 1 - pixel / paper, so a stroke reads the same in the light and in a shadow;
  2. ink is what is clearly darker than the paper (Otsu's threshold among the darker pixels, never under
     ``INK_MIN``); the long straight lines of ruled or squared paper (HoughLinesP, over half the page) are
     taken out where they are lighter than the strokes; specks are dropped; breaks in a pencil line are
     closed;
  3. the drawing is the largest ink shape; it must enclose a region (an outline) or be filled in (a solid
     drawing). An outline whose ends do not meet is closed by a straight stroke where the gap is at most
     ``MAX_GAP`` of the drawing's size, and refused (saying where the gap is) otherwise; a tangle of crossing
     strokes with no region that dominates is refused as a scribble;
  4. the shape is the filled outline, its edge on the middle of the stroke (the filled region shrunk by half
     the pen's width); a separate closed loop drawn inside it is a hole; strokes inside that close nothing
     are ignored (a plate has no engraving).

Making it a plate (:func:`plate_outline`, :class:`Sketch` -> :class:`PlateOutline`, millimetres, y up): the
shape is scaled to its height, then parts thinner than the minimum width are found (a morphological opening
by half that width): a thin part joined to the rest at two or more places (a neck, the rim round a hole) is
thickened to the minimum; one joined at one place (a spur, a stray tail of the pen) is cut off; corners are
rounded, the outline smoothed and simplified. Too much of the drawing thinner than the minimum is refused.

:func:`sketch_design` puts it together: the plate (:func:`tryon.jewelry.necklaces.plate_pendant` or
:func:`tryon.jewelry.earrings.plate_earring`), its catalog entry, and what was done to the drawing.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import scipy.sparse
import scipy.sparse.csgraph
import trimesh
from numpy.typing import NDArray

from tryon.errors import InputError
from tryon.jewelry import earrings, materials, necklaces
from tryon.jewelry.catalog import Item
from tryon.jewelry.facts import DEFAULT_MIN_WALL_MM, scene_facts
from tryon.jewelry.geometry.plates import polygon_area
from tryon.jewelry.geometry.scenes import Builder
from tryon.jewelry.geometry.units import FloatArray, check_range

Raster = NDArray[Any]  # an image or a mask as OpenCV takes it: (h, w) uint8 0/255 unless said otherwise

__all__ = [
    "DEFAULT_SIZE_MM",
    "MAX_GAP",
    "MIN_WIDTH_MM",
    "PlateOutline",
    "Sketch",
    "load_sketch",
    "plate_outline",
    "read_sketch",
    "sketch_design",
]

WORK_PX = 1000  # the drawing is read at this size (its larger side), whatever the photo's
MAX_PIXELS = 40_000_000  # a larger image is refused before it is decoded
INK_MIN = 0.16  # darkness (1 - pixel / paper) below which nothing is ink: paper grain, faint ruling
MAX_GAP = 0.05  # an outline's gap closed for the user, as a fraction of the drawing's larger side
MAX_INK_FRACTION = 0.22  # more of the page dark than this: a photo, not a drawing on paper
MIN_DRAWING = 0.06  # a drawing spans at least this fraction of the page's larger side
MIN_WIDTH_MM = 1.0  # thinnest part of a plate: the 0.8 mm casting minimum with room to spare
DEFAULT_SIZE_MM = {"pendant": 20.0, "earring": 15.0}
SIZE_RANGE_MM = {"pendant": (8.0, 50.0), "earring": (8.0, 45.0)}
PLATE_PX = 480  # the plate's outline is worked on a raster this many pixels tall
MAX_SPUR_FRACTION = 0.3  # more of the drawing cut off as thinner than the minimum: refused
MAX_NECK_FRACTION = 0.2  # more metal added to thicken necks than this fraction of the plate: refused
FACTS_SAMPLES = 600  # thickness rays when a design is checked (tryon catalog facts casts 1,200)


@dataclass(frozen=True)
class Sketch:
    """A drawn shape, read from an image.

    mask: (h, w) bool, the shape filled, holes False, its edge on the middle of the drawn stroke; cropped to
    the shape with a margin; image rows and columns (y down). stroke_px: the pen's width in ``mask`` pixels.
    notes: what was done to the drawing, in plain words (a gap closed, other shapes left out, ...).
    """

    mask: NDArray[np.bool_]
    stroke_px: float
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlateOutline:
    """A plate's outline in millimetres, y up, centred on its box: outer (n, 2) counter-clockwise, holes
    (each (m, 2)) clockwise; ``height_mm`` tall exactly. notes: what was done to make it."""

    outer: FloatArray
    holes: tuple[FloatArray, ...]
    notes: tuple[str, ...] = ()

    @property
    def height_mm(self) -> float:
        return float(np.ptp(self.outer[:, 1]))

    @property
    def width_mm(self) -> float:
        return float(np.ptp(self.outer[:, 0]))


# ---------------------------------------------------------------- reading the drawing


def load_sketch(path: Path, data: bytes | None = None) -> Sketch:
    """:func:`read_sketch` of an image file (PNG, JPEG, ...; ``data``: its bytes, where they are not read
    from ``path``)."""
    path = Path(path)
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as e:
            raise InputError(f"cannot read the sketch {path}: {e.strerror}") from None
    return read_sketch(_decode(data, path.name))


def _decode(data: bytes, label: str) -> Raster:
    """(h, w, 3) RGB of an image file's bytes, EXIF orientation applied; refuses huge and unreadable files."""
    import io

    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise InputError(f"{label} is {opened.width} x {opened.height} pixels; a sketch is at most "
                                 f"{MAX_PIXELS / 1e6:.0f} MP")
            im: Image.Image = ImageOps.exif_transpose(opened)
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                rgba = im.convert("RGBA")
                page = Image.new("RGBA", rgba.size, (255, 255, 255, 255))  # a transparent page is white paper
                im = Image.alpha_composite(page, rgba)
            return np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise InputError(f"{label} is not a readable image ({type(e).__name__}: {e})") from None


def read_sketch(image: Raster) -> Sketch:
    """The drawn shape in ``image`` ((h, w, 3) RGB or (h, w) grey, uint8): see the module's steps 1-4.

    Raises InputError naming what is wrong: nothing drawn, specks only, a photo rather than a drawing, an
    outline that does not close (with where its gap is), a scribble.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or min(image.shape[:2]) < 32:
        raise InputError(f"a sketch is an 8-bit image at least 32 pixels a side, not {image.dtype} "
                         f"{'x'.join(map(str, image.shape))}")
    grey = image if image.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)
    scale = WORK_PX / max(grey.shape)
    if scale < 1.0:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    else:
        scale = 1.0
    darkness = _darkness(grey)
    ink = _ink(darkness)
    ink, notes = _shape_ink(ink, scale)
    return _filled(ink, notes)


def _disk(radius: float) -> Raster:
    r = max(1, int(round(radius)))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


def _darkness(grey: Raster) -> NDArray[Any]:
    """(h, w) 0..1: how much darker than the paper round it each pixel is."""
    side = max(grey.shape)
    g = cv2.GaussianBlur(grey.astype(np.float32), (0, 0), 0.7)  # sensor and JPEG noise
    # The paper: a closing wider than any stroke fills the strokes in and keeps the light's steps (a
    # shadow's edge) where they are; a dilation would spread the lit side into the shadow.
    paper = cv2.morphologyEx(g, cv2.MORPH_CLOSE, _disk(0.02 * side))
    paper = cv2.GaussianBlur(paper, (0, 0), 0.004 * side)
    return np.clip(1.0 - g / np.maximum(paper, 1.0), 0.0, 1.0)


def _ink(darkness: NDArray[Any]) -> Raster:
    """(h, w) 0/255: the strokes. Ruling lines lighter than the strokes are taken out."""
    h, w = darkness.shape
    candidates = darkness[darkness > 0.08]
    if candidates.size < 30:
        return np.zeros((h, w), np.uint8)
    level, _ = cv2.threshold(np.round(candidates * 255.0).astype(np.uint8).reshape(-1, 1), 0, 255,
                             cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    threshold = max(INK_MIN, float(level) / 255.0)
    ink = (darkness > threshold).astype(np.uint8) * 255
    dark = float(np.mean(darkness > INK_MIN))
    if dark > MAX_INK_FRACTION:
        raise InputError(f"{100 * dark:.0f}% of the picture is darker than paper: this looks like a photo, "
                         "not a drawing: draw the outline with a pen or pencil on plain, lined or squared paper")
    # Ruled or squared paper: long straight lines, found on everything a little darker than the paper.
    faint = (darkness > 0.06).astype(np.uint8) * 255
    lines = cv2.HoughLinesP(faint, 1, math.pi / 360.0, threshold=int(0.25 * min(h, w)),
                            minLineLength=int(0.5 * min(h, w)), maxLineGap=int(0.01 * max(h, w)) + 2)
    if lines is not None and np.any(ink):
        ruled = np.zeros((h, w), np.uint8)
        for x0, y0, x1, y1 in lines[:, 0]:
            if abs(x1 - x0) > 5 * abs(y1 - y0) or abs(y1 - y0) > 5 * abs(x1 - x0):  # horizontal or vertical
                cv2.line(ruled, (int(x0), int(y0)), (int(x1), int(y1)), (255,), 5)
        on_lines = ruled > 0
        strokes = darkness[(ink > 0) & ~on_lines]
        # Where the strokes cross a ruling line they are darker than it: kept. Ruling alone: all of it goes.
        lighter = darkness < 0.8 * float(np.median(strokes)) if strokes.size else np.ones_like(on_lines)
        ink[on_lines & lighter] = 0
    return ink


def _shape_ink(ink: Raster, scale: float) -> tuple[Raster, list[str]]:
    """The ink of the drawing alone (the largest shape, its gaps closed), and notes."""
    h, w = ink.shape
    side = max(h, w)
    notes: list[str] = []
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    spans = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT])
    specks = int(np.sum(spans < 0.012 * side))
    keep = np.flatnonzero(spans >= 0.012 * side) + 1
    if not len(keep):
        if specks:
            raise InputError(f"no drawing found: only {specks} specks or dots, no line long enough to be an "
                             "outline (draw the shape's outline in one closed line)")
        raise InputError("nothing drawn: the page is blank (draw the shape's outline in one closed line)")
    ink = np.where(np.isin(labels, keep), 255, 0).astype(np.uint8)
    # Breaks in a pencil line, a pen lifted for an instant: closed by a small closing.
    ink = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, _disk(max(1.5, 0.004 * side)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    spans = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT])
    order = np.argsort(-spans) + 1
    main = int(order[0])
    if spans[main - 1] < MIN_DRAWING * side:
        raise InputError(f"no drawing found: the largest mark is {100 * spans[main - 1] / side:.0f}% of the page "
                         "across; only specks or short strokes (draw the shape's outline larger, in one closed line)")
    if len(spans) > 400:
        raise InputError(f"{len(spans)} separate marks: this is noise or texture, not a drawing (draw the shape's "
                         "outline in one closed line on plain paper)")
    shape = np.where(labels == main, 255, 0).astype(np.uint8)
    x, y, bw, bh = stats[main, :4]
    others = [int(i) for i in order[1:] if spans[i - 1] >= 0.25 * spans[main - 1]
              and not _inside(stats[i, :4], (x, y, bw, bh))]
    if others:
        notes.append(f"{len(others) + 1} separate shapes are drawn; the largest is used "
                     f"({bw / scale:.0f} x {bh / scale:.0f} px)")
    inner = np.where((labels > 0) & (labels != main) & np.isin(labels, others, invert=True), 255, 0)
    inner = inner.astype(np.uint8)
    shape = _closed(shape, scale, notes)
    # Inner loops (holes) and marks inside the outline come along; shapes elsewhere do not.
    return shape | inner, notes


def _inside(box: NDArray[Any], outer: tuple[int, int, int, int]) -> bool:
    x, y, w, h = (int(v) for v in box)
    ox, oy, ow, oh = outer
    return ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


def _regions(shape: Raster) -> tuple[float, list[float], float]:
    """(filled area, the areas of the regions the ink encloses, ink area) of one ink shape, pixels."""
    contours, hierarchy = cv2.findContours(shape, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    top = [i for i in range(len(contours)) if hierarchy[0, i, 3] < 0]
    filled = max(cv2.contourArea(contours[i]) for i in top)
    cells = [cv2.contourArea(contours[i]) for i in range(len(contours)) if hierarchy[0, i, 3] >= 0]
    return float(filled), sorted((float(c) for c in cells), reverse=True), float(np.count_nonzero(shape))


def _closed(shape: Raster, scale: float, notes: list[str]) -> Raster:
    """The shape's ink with its outline closed: gaps up to MAX_GAP bridged, larger ones refused."""
    for _ in range(4):
        filled, cells, ink = _regions(shape)
        biggest = cells[0] if cells else 0.0
        ys, xs = np.nonzero(shape)
        size = float(max(np.ptp(xs), np.ptp(ys)) + 1)
        if ink >= 0.8 * filled and cv2.distanceTransform(shape, cv2.DIST_L2, 5).max() >= 0.05 * size:
            return shape  # drawn filled in (a thin open line also covers what its edge encloses: it is not)
        if sum(cells) >= 0.3 * filled and (len(cells) <= 4 or biggest >= 0.6 * sum(cells)):
            return shape  # an outline round one region (or a few: an "8", two loops joined)
        if len(cells) >= 5 and biggest < 0.6 * sum(cells):
            raise InputError(f"this looks like a scribble: {len(cells)} small regions between crossing strokes and "
                             "no one outline (draw the shape's outline once, in one closed line)")
        gap, a, b = _smallest_gap(shape)
        if gap is None or a is None or b is None:
            raise InputError("the outline does not close: the stroke's ends are far apart and nothing joins them "
                             "(draw the shape's outline in one closed line)")
        where = (f"between ({a[0] / scale:.0f}, {a[1] / scale:.0f}) and ({b[0] / scale:.0f}, {b[1] / scale:.0f}) px "
                 "in the picture")
        if gap > MAX_GAP * size:
            raise InputError(f"the outline does not close: a gap of {100 * gap / size:.0f}% of the drawing's size "
                             f"{where}; gaps up to {100 * MAX_GAP:.0f}% are closed for you (join the line's ends)")
        width = max(2, int(round(_stroke_width(shape))))
        cv2.line(shape, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), (255,), width)
        notes.append(f"a gap in the outline ({100 * gap / size:.1f}% of its size) was closed {where}")
    raise InputError("the outline does not close: too many gaps (draw the shape's outline in one closed line)")


def _skeleton(shape: Raster) -> Raster:
    return cv2.ximgproc.thinning(shape, thinningType=cv2.ximgproc.THINNING_GUOHALL)


def _stroke_width(shape: Raster) -> float:
    """The pen's width (px): twice the median distance from the strokes' middle lines to their edges."""
    skeleton = _skeleton(shape) > 0
    if not skeleton.any():
        return 1.0
    distance = cv2.distanceTransform(shape, cv2.DIST_L2, 5)
    return max(1.0, 2.0 * float(np.median(distance[skeleton])) - 1.0)


def _smallest_gap(shape: Raster) -> tuple[float | None, FloatArray | None, FloatArray | None]:
    """The shortest straight bridge from a stroke's end to another part of the stroke (one far from it along
    the stroke, so that the bridge closes a loop): (length px, end (x, y), other point (x, y))."""
    skeleton = _skeleton(shape) > 0
    ys, xs = np.nonzero(skeleton)
    if len(xs) < 3:
        return None, None, None
    index = -np.ones(shape.shape, np.int64)
    index[ys, xs] = np.arange(len(xs))
    rows, cols, weights = [], [], []
    neighbours = np.zeros(len(xs), np.int64)
    h, w = shape.shape
    for dy, dx in ((0, 1), (1, -1), (1, 0), (1, 1)):
        y2, x2 = ys + dy, xs + dx
        ok = (y2 >= 0) & (y2 < h) & (x2 >= 0) & (x2 < w)
        j = np.full(len(xs), -1)
        j[ok] = index[y2[ok], x2[ok]]
        has = j >= 0
        rows.append(np.arange(len(xs))[has])
        cols.append(j[has])
        weights.append(np.full(int(has.sum()), math.hypot(dy, dx)))
        np.add.at(neighbours, np.arange(len(xs))[has], 1)
        np.add.at(neighbours, j[has], 1)
    graph = scipy.sparse.csr_matrix((np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))),
                                    shape=(len(xs), len(xs)))
    ends = np.flatnonzero(neighbours == 1)
    if not len(ends):
        return None, None, None
    ends = ends[:24]
    along = scipy.sparse.csgraph.dijkstra(graph, directed=False, indices=ends)
    points = np.stack([xs, ys], axis=1).astype(np.float64)
    best: tuple[float, int, int] | None = None
    width = _stroke_width(shape)
    for k, end in enumerate(ends):
        straight = np.linalg.norm(points - points[end], axis=1)
        # A bridge closes a loop when the way round along the stroke is much longer than the bridge; points
        # on another stroke (not reached along this one) close nothing.
        ok = np.isfinite(along[k]) & (along[k] > 2.5 * straight + 4.0 * width)
        if not ok.any():
            continue
        hit = int(np.flatnonzero(ok)[np.argmin(straight[ok])])
        if best is None or straight[hit] < best[0]:
            best = (float(straight[hit]), int(end), hit)
    if best is None:
        return None, None, None
    return best[0], points[best[1]], points[best[2]]


def _filled(ink: Raster, notes: list[str]) -> Sketch:
    """The drawing's shape: inside its outer outline, less the insides of closed loops within it (holes),
    the edges moved to the middle of the stroke."""
    contours, hierarchy = cv2.findContours(ink, cv2.RETR_TREE, cv2.CHAIN_APPROX_NONE)
    parent = hierarchy[0, :, 3]
    depth = np.zeros(len(contours), np.int64)
    for i in range(len(contours)):
        p = parent[i]
        while p >= 0:
            depth[i] += 1
            p = parent[p]
    outer = max((i for i in range(len(contours)) if depth[i] == 0), key=lambda i: cv2.contourArea(contours[i]))
    solid: Raster = np.zeros(ink.shape, np.uint8)
    cv2.drawContours(solid, contours, outer, (255,), cv2.FILLED)
    holes = 0
    for i in range(len(contours)):
        # Depth 3: inside a closed loop (depth 2's ink) that stands in the outline's region (depth 1).
        if depth[i] == 3 and _ancestor(parent, i, 3) == outer and cv2.contourArea(contours[i]) > 4.0:
            cv2.drawContours(solid, contours, i, (0,), cv2.FILLED)
            holes += 1
    filled_area = float(np.count_nonzero(solid))
    stroke = _stroke_width(ink & solid)
    if np.count_nonzero(ink & solid) < 0.8 * filled_area:
        # An outline: the shape's edge is the middle of the stroke.
        if stroke >= 2.0:
            solid = cv2.erode(solid, _disk(stroke / 2.0))
    if holes:
        notes.append(f"{holes} closed loop{'s' if holes > 1 else ''} inside the outline kept as "
                     f"hole{'s' if holes > 1 else ''}")
    ys, xs = np.nonzero(solid)
    if not len(xs):
        raise InputError("the outline encloses nothing once the pen's width is taken off: draw it larger")
    pad = int(math.ceil(stroke)) + 2
    crop = solid[max(0, ys.min() - pad):ys.max() + pad + 1, max(0, xs.min() - pad):xs.max() + pad + 1] > 0
    return Sketch(np.ascontiguousarray(crop), stroke, tuple(notes))


def _ancestor(parent: NDArray[Any], i: int, levels: int) -> int:
    for _ in range(levels):
        i = int(parent[i])
    return i


# ---------------------------------------------------------------- the plate's outline


def plate_outline(sketch: Sketch, height_mm: float, min_width_mm: float = MIN_WIDTH_MM) -> PlateOutline:
    """The sketch's shape as a plate ``height_mm`` tall whose every part is at least ``min_width_mm`` wide
    (module docstring). Raises InputError where too much of it is thinner than that."""
    if not height_mm > 0.0 or not min_width_mm > 0.0:
        raise InputError(f"a plate {height_mm} mm tall with parts {min_width_mm} mm wide cannot be made")
    mask = sketch.mask.astype(np.uint8) * 255
    ys, xs = np.nonzero(mask)
    tall = float(np.ptp(ys) + 1)
    ppm = PLATE_PX / height_mm  # pixels per mm on the working raster
    r = 0.5 * min_width_mm * ppm
    pad = int(math.ceil(3 * r)) + 4
    fx = PLATE_PX / tall
    size = (max(1, int(round(mask.shape[1] * fx))), max(1, int(round(mask.shape[0] * fx))))
    scaled = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA if fx < 1 else cv2.INTER_LINEAR)
    big: Raster = cv2.copyMakeBorder((scaled > 127.5).astype(np.uint8) * 255, pad, pad, pad, pad, cv2.BORDER_CONSTANT)
    area = float(np.count_nonzero(big))
    notes: list[str] = []
    opened: Raster = cv2.morphologyEx(big, cv2.MORPH_OPEN, _disk(r))
    thin = cv2.subtract(big, opened)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(thin, connectivity=8)
    distance = cv2.distanceTransform(big, cv2.DIST_L2, 5)
    necks: Raster = np.zeros_like(big)
    cut, narrowest = 0.0, math.inf
    margin = int(math.ceil(r)) + 4
    for i in range(1, count):
        x, y, w, h = (int(v) for v in stats[i, :4])
        window = (slice(max(0, y - margin), y + h + margin), slice(max(0, x - margin), x + w + margin))
        part = np.where(labels[window] == i, 255, 0).astype(np.uint8)
        body = opened[window]
        touched, _ = cv2.connectedComponents(cv2.dilate(part, _disk(2)) & body, connectivity=8)
        # A neck joins two parts, a rim closes a loop round a hole: both are thickened. Anything else thinner
        # than the minimum (a spur, a stray tail, a sharp tip) is cut off.
        if touched - 1 >= 2 and (_hole_count(body | part) > _hole_count(body) or _joins(body, part)):
            middle = cv2.ximgproc.thinning(part) > 0
            if middle.any():
                narrowest = min(narrowest, 2.0 * float(distance[window][middle].min()) / ppm)
            necks[window] |= cv2.dilate(np.where(middle, 255, 0).astype(np.uint8), _disk(r + 1.0))
        else:
            cut += float(stats[i, cv2.CC_STAT_AREA])
    if cut > MAX_SPUR_FRACTION * area:
        raise InputError(f"{100 * cut / area:.0f}% of the drawing is thinner than {min_width_mm:g} mm at "
                         f"{height_mm:g} mm tall, too thin to cast: draw the shape bolder or make it larger "
                         "(--size-mm)")
    if cut > 0.002 * area:
        notes.append(f"sharp tips and thin ends under {min_width_mm:g} mm wide cut off "
                     f"({100 * cut / area:.1f}% of the drawing)")
    added = float(np.count_nonzero(necks & ~big))
    if added > MAX_NECK_FRACTION * area:
        raise InputError(f"the outline has necks as thin as {narrowest:.2f} mm at {height_mm:g} mm tall; thickening "
                         f"them to {min_width_mm:g} mm would add {100 * added / area:.0f}% to the piece: draw the "
                         "narrow parts wider or make the piece larger (--size-mm)")
    if np.isfinite(narrowest) and added > 0:
        notes.append(f"thin necks thickened to {min_width_mm:g} mm (the narrowest was {narrowest:.2f} mm)")
    shape: Raster = cv2.bitwise_or(opened, necks)
    shape = cv2.morphologyEx(shape, cv2.MORPH_CLOSE, _disk(r))  # inner corners rounded, pinholes filled
    outer, holes = _outlines(shape, min_width_mm * ppm)
    if len(holes) < _hole_count(big):
        notes.append("a hole narrower than the minimum width was filled")
    # Pixels -> mm, y up, centred on the box, exactly height_mm tall.
    lo, hi = outer.min(axis=0), outer.max(axis=0)
    centre = (lo + hi) / 2.0
    k = height_mm / float(hi[1] - lo[1])

    def to_mm(points: FloatArray) -> FloatArray:
        return (points - centre) * np.array([k, -k])  # y down -> y up turns each loop's sense

    out = to_mm(outer)
    out = out if polygon_area(out) > 0 else out[::-1]
    hole_mm = tuple(h if polygon_area(h) < 0 else h[::-1] for h in (to_mm(h) for h in holes))
    return PlateOutline(out, hole_mm, tuple(notes))


def _joins(body: Raster, part: Raster) -> bool:
    """Whether ``part`` joins separate pieces of ``body`` into one."""
    apart, _ = cv2.connectedComponents(body, connectivity=8)
    together, _ = cv2.connectedComponents(cv2.bitwise_or(body, part), connectivity=8)
    return together < apart


def _hole_count(mask: Raster) -> int:
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    return 0 if hierarchy is None else int(np.sum(hierarchy[0, :, 3] >= 0))


def _outlines(shape: Raster, min_px: float) -> tuple[FloatArray, list[FloatArray]]:
    """The largest outer contour of ``shape`` and its holes (px, x right, y down), smoothed and simplified."""
    contours, hierarchy = cv2.findContours(shape, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    if hierarchy is None:
        raise InputError("nothing is left of the drawing once its thin parts are taken off: draw it bolder")
    top = [i for i in range(len(contours)) if hierarchy[0, i, 3] < 0]
    outer = max(top, key=lambda i: cv2.contourArea(contours[i]))
    holes = [i for i in range(len(contours)) if hierarchy[0, i, 3] == outer
             and cv2.contourArea(contours[i]) >= min_px * min_px]
    return _smooth(contours[outer]), [_smooth(contours[i]) for i in holes]


def _smooth(contour: NDArray[Any], sigma: float = 2.0, max_points: int = 360) -> FloatArray:
    """A traced contour (n, 1, 2) as a smooth polygon (m, 2) of at most ``max_points``: the pixel staircase
    averaged out (a circular Gaussian along it), then simplified to within a quarter pixel or more."""
    pts = contour[:, 0, :].astype(np.float64)
    n = len(pts)
    half = int(3 * sigma)
    taps = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    taps /= taps.sum()
    wrapped = np.concatenate([pts[-half:], pts, pts[:half]]) if n > 2 * half else pts
    if n > 2 * half:
        pts = np.stack([np.convolve(wrapped[:, c], taps, mode="valid") for c in range(2)], axis=1)
    eps = 0.25
    while True:
        simple = cv2.approxPolyDP(pts.astype(np.float32).reshape(-1, 1, 2), eps, True)[:, 0, :].astype(np.float64)
        if len(simple) <= max_points:
            return simple
        eps *= 1.5


# ---------------------------------------------------------------- the design


def sketch_design(path: Path, kind: str, size_mm: float | None = None, metal: str = "yellow_gold",
                  data: bytes | None = None) -> tuple[Item, Builder, PlateOutline]:
    """A pendant or an earring cut to the drawing in the image at ``path`` (``data``: its bytes, where they
    are not read from ``path``), ``size_mm`` tall (the plate; default :data:`DEFAULT_SIZE_MM`), in ``metal``.

    Returns its catalog entry (id "design-<kind>-<8 hex digits of the drawing and parameters>"), the
    builder of its scene (the piece was built once and its thinnest metal measured as ``tryon catalog facts``
    does: it is known to build and to be thick enough to cast), and the plate's outline with the notes on
    what was done to the drawing and the piece's thinnest metal and weight. Raises InputError for a drawing
    that cannot be read or made (module docstring).
    """
    if kind not in DEFAULT_SIZE_MM:
        raise InputError(f"a sketch becomes a pendant or an earring, not {kind!r} (--type pendant|earring)")
    size = DEFAULT_SIZE_MM[kind] if size_mm is None else float(size_mm)
    check_range(f"A sketched {kind}'s height", size, *SIZE_RANGE_MM[kind])
    metal = str(metal).strip().lower().replace("-", "_").replace(" ", "_")
    materials.check_names(metal, None)
    path = Path(path)
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as e:
            raise InputError(f"cannot read the sketch {path}: {e.strerror}") from None
    sketch = load_sketch(path, data)
    outline = plate_outline(sketch, size)
    outline = PlateOutline(outline.outer, outline.holes, sketch.notes + outline.notes)
    def piece() -> trimesh.Scene:
        if kind == "pendant":
            return necklaces.plate_pendant(outline.outer, list(outline.holes), metal=metal)
        return earrings.plate_earring(outline.outer, list(outline.holes), metal=metal)

    def build() -> trimesh.Scene:
        if kind == "pendant":
            return necklaces.necklace(necklaces.cable_chain(link_mm=2.0, wire_mm=0.4, metal=metal), piece())
        return piece()

    try:
        made = piece()
    except ValueError as e:  # the faces could not be triangulated
        raise InputError(f"the drawing's outline cannot be made into a plate ({e}): draw a simpler outline") from None
    # Manufacturable: the thinnest metal of the piece itself (a pendant's chain is machine-made, not cast) as
    # `tryon catalog facts` measures it.
    facts = scene_facts(made, kind="" if kind == "pendant" else kind, metal=metal, samples=FACTS_SAMPLES)
    if not facts.ok or not facts.watertight or facts.thinnest_metal_mm is None:
        raise InputError(f"the plate made from this drawing is not manufacturable: {'; '.join(facts.notes)} "
                         "(draw the narrow parts wider or make the piece larger with --size-mm)")
    outline = PlateOutline(outline.outer, outline.holes, outline.notes + (
        f"thinnest metal {facts.thinnest_metal_mm:.2f} mm ({facts.thinnest_part}), at least the "
        f"{DEFAULT_MIN_WALL_MM:g} mm casting minimum; {facts.metal_weight_g:.2f} g of metal",))
    key = {"kind": kind, "sketch": hashlib.sha256(data).hexdigest(), "size_mm": size, "metal": metal}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:8]
    item_id = f"design-{kind}-{digest}"
    label = path.stem[:40] or "sketch"
    name = f"Design: {kind} from the sketch {label}, {size:g} mm, {metal.replace('_', ' ')}"
    if kind == "pendant":
        item = Item(item_id, name, "pendant", "neck", f"necklaces/{item_id}.glb", metal, None,
                    {"length": necklaces.NECKLACE_LENGTH_MM, "size": size}, "design-pendant-sketch", size)
    else:
        item = Item(item_id, name, "earring", "ears", f"earrings/{item_id}.glb", metal, None,
                    {"plate_height": size, "plate_width": round(outline.width_mm, 3)}, "design-earring-sketch", size)
    return item, build, outline
