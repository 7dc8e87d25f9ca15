"""Product visuals: a 360-degree turntable video and stills from named angles, the item alone on white.

Staging. Each kind is set up in a *stage* frame (OpenCV-like: x right, y down, z away from the viewer) as
a shop shows it, from its ``STAGES`` entry (which item direction faces the viewer at azimuth 0 and which
is up), the same views as :mod:`tryon.render.thumbnail`:
    earrings   hang, +y up, the face out of the ear (+x: a stud's table, a drop's stone) to the front;
               a hoop (a loop in the item's x-y plane, symmetric in x) shows its circle (+z) instead;
    rings      stand, stone up (+z), the hole's axis (y) horizontal, seen through the hole at azimuth 0;
    watches    stand on the strap, dial (+z) to the front, 12 o'clock (-x) up, the crown (+y) right;
    bracelets  lie flat, their axis (y) upright, the back of the wrist (+z) to the front;
    necklaces  the chain as it drapes on a nominal neck (tryon.anchors.drape), the whole loop (back
               included), upright as worn, the front of the body to the front;
    pendants   the same drape, framed on the pendant and the chain within its height above it; the rest
               of the chain fades out toward the top and the sides of the picture.
Hanging parts (a drop, a pendant) hang along the stage's vertical. The item turns about the vertical
through its own centre (a pendant: through the pendant); the camera looks from an azimuth (degrees about
the vertical, toward the item's right) and an elevation (degrees above the horizon).

Framing. The camera's pose and intrinsics are fitted once for all the views of one picture set: the
union of the item's (convex hull's) projections over every angle of the turn spans 1 / MARGIN of the
picture's width or height and is centred, so the turntable does not zoom and the item never touches the
border. Lens: about THUMB_HFOV_DEG, as the thumbnails.

Picture. The renderer's own studio light (its shaders untouched), composited over white:
``out = rgb + (1 - a) * background`` (premultiplied), where the background is white darkened by a soft
contact shadow: the item's surface splatted straight down onto a floor under its lowest point, weighted
by how near the floor it is, blurred. The shadow stays clear of the border, so the corners are pure white.

One :class:`~tryon.render.renderer.Renderer` does every view (its EGL context belongs to its thread):
pass your own, or let ``write_turntable`` / ``write_stills`` make one.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import cv2
import numpy as np
from av.video.stream import VideoStream
from scipy.spatial import ConvexHull, QhullError

from tryon import media
from tryon.errors import InputError
from tryon.jewelry.catalog import NECK_KINDS, Catalog, Item
from tryon.render.renderer import Z_NEAR_M, Renderer, Roi
from tryon.render.scene import ItemModel, item_model
from tryon.render.thumbnail import THUMB_HFOV_DEG
from tryon.types import Intrinsics

__all__ = ["STAGES", "STILL_ANGLES", "TURNTABLE_EXTS", "metal_variants", "stills", "turntable_frames",
           "write_stills", "write_turntable"]

SECONDS_RANGE = (2.0, 6.0)
FPS_RANGE = (10, 60)
SIZE_RANGE_PX = (64, 4096)
MARGIN = 1.12  # the item (and its shadow) spans 1 / MARGIN of the picture at its widest
ELEVATION_DEG = 20.0
KIND_ELEVATION_DEG = {"bracelet": 40.0}  # a bracelet lies flat: seen from lower down it is only a sliver
FIT_ANGLES = 180  # the turn's framing is fitted on at least this many angles (every frame's among them)
# Named still views: (azimuth, elevation) in degrees.
STILL_ANGLES: dict[str, tuple[float, float]] = {
    "front": (0.0, 10.0),
    "three-quarter": (40.0, 25.0),
    "side": (90.0, 10.0),
    "top": (0.0, 90.0),
}
FILE_MODE = 0o644  # what is written is for sharing (tryon.media's temp files start private)
TURNTABLE_EXTS = media.VIDEO_EXTS  # .mp4 and .mov: H.264; .webm: VP9 (tryon.media's encoders)

_X, _Y, _Z = np.eye(3)
# Per kind, in the item's frame: (the direction that faces the viewer at azimuth 0, the direction that is up).
STAGES: dict[str, tuple[np.ndarray, np.ndarray]] = {
    "earring": (_X, _Y),
    "ring": (-_Y, _Z),
    "watch": (_Z, -_X),
    "bracelet": (_Z, _Y),
    "necklace": (-_Z, -_Y),  # the torso frame of tryon.anchors.neck: +z into the body, +y down
    "pendant": (-_Z, -_Y),
}
HANGING_KINDS = ("earring", "necklace", "pendant")  # float a little above the shadow's floor

# Contact shadow: a floor under the item's lowest point; the item's surface, sampled by area, dropped onto
# it and weighted by exp(-height / (falloff * the item's height)), blurred. Two layers: a tight, dark contact
# where it touches and a wide, light ambient shade. (falloff, blur sigma as a fraction of the item's largest
# extent, darkness: the fraction of white taken away where the floor is fully covered)
SHADOW_LAYERS = ((0.04, 0.012, 0.45), (0.35, 0.06, 0.22))
SHADOW_GAP = 0.08  # hanging kinds float this fraction of their height above the floor
SHADOW_SAMPLES = 40000
SHADOW_CELLS = 384  # the floor texture's cells along its longer side
SHADOW_REACH = 3.5  # sigmas of the widest blur round the samples that the floor texture covers
SHADOW_MIN = 1.0 / 512.0  # less darkness than this is none (it rounds to white anyway): the far floor is exact
# Pendants: the chain fades out toward the top of the picture (between these fractions of its height)
# and toward its sides (between these fractions of its width from either side).
FADE_ROWS = (0.08, 0.32)
FADE_COLS = (0.015, 0.09)


@dataclass(frozen=True)
class _Floor:
    """The contact shadow as a texture on the floor plane y = level (stage frame): darkness (rows along z,
    columns along x), and the (3, 3) map from its pixel coordinates (centres at integers) to (x, z, 1)."""

    darkness: np.ndarray
    texel_to_floor: np.ndarray
    level: float

    def footprint(self) -> np.ndarray:
        """(n, 3) points bounding where the floor is darkened (stage frame)."""
        v, u = np.nonzero(self.darkness >= SHADOW_MIN)
        if len(u) == 0:
            return np.zeros((0, 3))
        cells = np.unique(np.concatenate([np.stack([u + du, v + dv], axis=1) for du in (-0.5, 0.5)
                                          for dv in (-0.5, 0.5)]), axis=0)
        xz = (np.column_stack([cells, np.ones(len(cells))]) @ self.texel_to_floor.T)[:, :2]
        xz = _hull_points(xz)  # flat: its outline
        return np.column_stack([xz[:, 0], np.full(len(xz), self.level), xz[:, 1]])


@dataclass(frozen=True)
class _Stage:
    """An item posed on the stage, its turning axis through the origin."""

    parts: list[np.ndarray]  # stage_T_part per part (a necklace's links: a (k, 4, 4) stack)
    bounds: np.ndarray  # (n, 3) points whose projections bound what is framed (a convex hull's vertices)
    floor: _Floor | None  # the contact shadow (None: none)
    fade: bool  # a pendant: the chain fades out toward the top and the sides


# --- staging ------------------------------------------------------------------------------------------------


def _stage_rotation(model: ItemModel, kind: str) -> np.ndarray:
    """(4, 4) stage_T_item rotation for the kind's STAGES entry (a hoop-like earring faces +z)."""
    if kind not in STAGES:
        raise InputError(f"unknown kind {kind!r}: use one of {', '.join(STAGES)}")
    front, top = STAGES["necklace" if model.is_necklace and kind not in NECK_KINDS else kind]
    if kind == "earring" and _hoop_like(model):
        front = _Z
    right = np.cross(top, front)
    out = np.eye(4)
    out[:3, :3] = np.stack([right, -top, -front])  # rows: the stage's axes in item coordinates
    return out


def _hoop_like(model: ItemModel) -> bool:
    """An earring that is a loop in its x-y plane: centred on the piercing along x (a stud or a drop has its
    post behind, along -x) and thin across z."""
    pts = np.vstack([(p.corners @ p.item_T_part[:3, :3].T) + p.item_T_part[:3, 3] for p in model.parts])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    width = hi[0] - lo[0]
    return bool(width > 0 and abs(hi[0] + lo[0]) < 0.2 * width and hi[2] - lo[2] < 0.5 * width)


def _triangles(model: ItemModel, parts: list[np.ndarray], keep: Callable[[str], bool] = lambda role: True
               ) -> np.ndarray:
    """(t, 3, 3) every triangle of the kept parts at each of their poses."""
    out = []
    for p, m in zip(model.parts, parts, strict=True):
        if not keep(p.role):
            continue
        v = p.vertices[:, :3].astype(np.float64)
        for pose in m.reshape(-1, 4, 4):
            out.append((v @ pose[:3, :3].T + pose[:3, 3]).reshape(-1, 3, 3))
    return np.concatenate(out) if out else np.zeros((0, 3, 3))


def _hull_points(points: np.ndarray) -> np.ndarray:
    try:
        return points[ConvexHull(points).vertices]
    except (QhullError, ValueError):  # flat or too few points: all of them bound it just as well
        return points


def _stage(model: ItemModel, kind: str, shadow: bool = True) -> _Stage:
    rot = _stage_rotation(model, kind)
    pendant = model.is_necklace and kind == "pendant" and any(p.role == "pendant" for p in model.parts)
    # Pendants: the front of the drape only (the rest is far out of the picture); hanging parts hang along
    # the stage's +y, which cam_T_parts takes for gravity.
    parts = model.necklace_parts(rot, whole_loop=True) if model.is_necklace and not pendant else model.cam_T_parts(rot)
    tris = _triangles(model, parts)
    points = tris.reshape(-1, 3)
    if pendant:  # the pendant and what of the chain hangs within its height above it
        shadow_tris = _triangles(model, parts, lambda role: role == "pendant")
        low = shadow_tris.reshape(-1, 3)
        top = low[:, 1].min() - (low[:, 1].max() - low[:, 1].min())
        points = points[points[:, 1] >= top]
        centre = 0.5 * (low.min(axis=0) + low.max(axis=0))
    else:
        shadow_tris = tris
        centre = 0.5 * (points.min(axis=0) + points.max(axis=0))
    shift = np.eye(4)
    shift[:3, 3] = -centre
    parts = [shift @ m for m in parts]
    points = points - centre
    shadow_tris = shadow_tris - centre
    bounds = _hull_points(points)

    floor = _floor(shadow_tris, points, kind) if shadow and len(shadow_tris) else None
    return _Stage(parts, bounds, floor, pendant)


def _floor(tris: np.ndarray, points: np.ndarray, kind: str) -> _Floor:
    """The contact shadow of these triangles on a floor under the lowest of the points (stage frame)."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    height, extent = max(float(hi[1] - lo[1]), 1e-4), float(np.max(hi - lo))
    level = float(hi[1]) + (SHADOW_GAP * height if kind in HANGING_KINDS else 0.0)  # y down: under the lowest
    # Points spread over the surface by area (a long post's few big triangles shade along their length).
    edge1, edge2 = tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0]
    areas = 0.5 * np.linalg.norm(np.cross(edge1, edge2), axis=1)
    rng = np.random.default_rng(0)
    pick = rng.choice(len(tris), SHADOW_SAMPLES, p=areas / areas.sum())
    r1, r2 = np.sqrt(rng.random(SHADOW_SAMPLES)), rng.random(SHADOW_SAMPLES)
    samples = tris[pick, 0] + (r1 * (1.0 - r2))[:, None] * edge1[pick] + (r1 * r2)[:, None] * edge2[pick]
    each = float(areas.sum()) / SHADOW_SAMPLES  # the surface area a sample stands for
    above = level - samples[:, 1]
    reach = SHADOW_REACH * max(blur for _, blur, _ in SHADOW_LAYERS) * extent
    x0, z0 = samples[:, 0].min() - reach, samples[:, 2].min() - reach
    x1, z1 = samples[:, 0].max() + reach, samples[:, 2].max() + reach
    cell = max(x1 - x0, z1 - z0) / SHADOW_CELLS
    nx, nz = int(math.ceil((x1 - x0) / cell)) + 1, int(math.ceil((z1 - z0) / cell)) + 1
    u = np.clip(np.round((samples[:, 0] - x0) / cell).astype(np.int64), 0, nx - 1)
    v = np.clip(np.round((samples[:, 2] - z0) / cell).astype(np.int64), 0, nz - 1)
    light = np.ones((nz, nx), np.float32)
    for falloff, blur, darkness in SHADOW_LAYERS:
        covered = np.bincount(v * nx + u, each * np.exp(-above / (falloff * height)), nx * nz) / (cell * cell)
        covered = cv2.GaussianBlur(covered.reshape(nz, nx).astype(np.float32), (0, 0), blur * extent / cell,
                                   borderType=cv2.BORDER_CONSTANT)
        # A closed surface covers the floor under it about twice (its top and its bottom).
        light *= 1.0 - darkness * (1.0 - np.exp(-0.5 * covered))
    dark = 1.0 - light
    dark[dark < SHADOW_MIN] = 0.0
    return _Floor(dark, np.array([[cell, 0.0, x0], [0.0, cell, z0], [0.0, 0.0, 1.0]]), level)


# --- camera ---------------------------------------------------------------------------------------------------


def _view_rotation(azimuth_deg: float, elevation_deg: float) -> np.ndarray:
    """(3, 3) cam_R_stage for a camera at this azimuth (toward the item's right) and elevation, looking at
    the stage's origin, upright."""
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    turn = np.array([[math.cos(az), 0.0, math.sin(az)], [0.0, 1.0, 0.0], [-math.sin(az), 0.0, math.cos(az)]])
    tilt = np.array([[1.0, 0.0, 0.0], [0.0, math.cos(el), -math.sin(el)], [0.0, math.sin(el), math.cos(el)]])
    return tilt @ turn


def _fit(stage: _Stage, views: list[tuple[float, float]], size_px: int) -> tuple[Intrinsics, np.ndarray]:
    """Intrinsics and the camera translation (cam = R_view @ stage + t) that frame the union of the item's
    projections (its shadow's too) over all the views: centred, spanning 1 / MARGIN of the picture."""
    floor = np.zeros((0, 3)) if stage.floor is None else stage.floor.footprint()
    seen = []
    for above in (False, True):  # the shadow is seen only from above the floor
        rotations = [_view_rotation(a, e) for a, e in views if (e > 0.0) == above]
        if rotations:
            pts = np.vstack([stage.bounds, floor]) if above else stage.bounds
            seen.append(np.einsum("vij,nj->vni", np.stack(rotations), pts).reshape(-1, 3))
    union = np.vstack(seen)
    centre = 0.5 * (union.min(axis=0) + union.max(axis=0))
    rel = union - centre
    reach = math.tan(math.radians(THUMB_HFOV_DEG) / 2.0) / MARGIN
    distance = float(np.max(np.abs(rel[:, :2]).max(axis=1) / reach - rel[:, 2]))
    distance = max(distance, float(np.max(-rel[:, 2])) + 3.0 * Z_NEAR_M)  # all well beyond the near plane
    t = np.array([0.0, 0.0, distance]) - centre
    cam = union + t
    u, v = cam[:, 0] / cam[:, 2], cam[:, 1] / cam[:, 2]
    span = max(float(u.max() - u.min()), float(v.max() - v.min()), 1e-9)
    f = size_px / MARGIN / span
    c = (size_px - 1) / 2.0
    intr = Intrinsics(f, f, c - f * 0.5 * float(u.max() + u.min()), c - f * 0.5 * float(v.max() + v.min()),
                      size_px, size_px)
    return intr, t


def _pose(azimuth_deg: float, elevation_deg: float, t: np.ndarray) -> np.ndarray:
    cam_T_stage = np.eye(4)
    cam_T_stage[:3, :3] = _view_rotation(azimuth_deg, elevation_deg)
    cam_T_stage[:3, 3] = t
    return cam_T_stage


# --- pictures -------------------------------------------------------------------------------------------------


def _shadow(floor: _Floor | None, intr: Intrinsics, cam_T_stage: np.ndarray) -> np.ndarray | None:
    """(size, size) the floor's darkness seen from this camera (the floor texture warped by the homography
    from its pixels to the picture's), None without a shadow or from below the floor."""
    if floor is None:
        return None
    r, t = cam_T_stage[:3, :3], cam_T_stage[:3, 3]
    if float((r.T @ -t)[1]) >= floor.level:  # the camera (y down) is not above the floor
        return None
    floor_to_cam = np.column_stack([r[:, 0], r[:, 2], r[:, 1] * floor.level + t])
    homography = intr.K @ floor_to_cam @ floor.texel_to_floor
    size = (intr.width_px, intr.height_px)
    dark = cv2.warpPerspective(floor.darkness, homography, size, flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=(0.0,))
    dark[dark < SHADOW_MIN] = 0.0
    return dark


def _fade(size_px: int) -> np.ndarray:
    """(size, size, 1) a pendant's chain fading in from the top and the sides of the picture."""
    at = (np.arange(size_px) + 0.5) / size_px

    def smooth(x: np.ndarray, edge: tuple[float, float]) -> np.ndarray:
        t = np.clip((x - edge[0]) / (edge[1] - edge[0]), 0.0, 1.0)
        return t * t * (3.0 - 2.0 * t)

    rows = smooth(at, FADE_ROWS)
    cols = smooth(np.minimum(at, 1.0 - at), FADE_COLS)
    return (rows[:, None] * cols[None, :]).astype(np.float32)[..., None]


def _picture(renderer: Renderer, model: ItemModel, stage: _Stage, intr: Intrinsics, cam_T_stage: np.ndarray,
             fade: np.ndarray | None) -> np.ndarray:
    """(size, size, 3) uint8 RGB: the item from this camera, on white with its shadow."""
    size = intr.width_px
    parts = [cam_T_stage @ m for m in stage.parts]
    rgba = renderer.draw(Roi(0, 0, size, size), intr, [(model, parts)])
    if fade is not None:
        rgba *= fade
    dark = _shadow(stage.floor, intr, cam_T_stage)
    background = 1.0 if dark is None else (1.0 - dark)[..., None]
    out = rgba[..., :3] + (1.0 - rgba[..., 3:4]) * background
    return (np.clip(out, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _check_size(size_px: int) -> int:
    if not isinstance(size_px, (int, np.integer)) or not SIZE_RANGE_PX[0] <= size_px <= SIZE_RANGE_PX[1]:
        raise InputError(f"picture size must be a whole number of pixels in {SIZE_RANGE_PX[0]}..{SIZE_RANGE_PX[1]}, "
                         f"got {size_px!r}")
    return int(size_px)


def _frame_count(seconds: float, fps: int) -> int:
    if not isinstance(seconds, (int, float)) or not SECONDS_RANGE[0] <= seconds <= SECONDS_RANGE[1]:
        raise InputError(f"a turntable lasts {SECONDS_RANGE[0]:g} to {SECONDS_RANGE[1]:g} seconds, got {seconds!r}")
    if not isinstance(fps, (int, np.integer)) or not FPS_RANGE[0] <= fps <= FPS_RANGE[1]:
        raise InputError(f"frame rate must be a whole number in {FPS_RANGE[0]}..{FPS_RANGE[1]} fps, got {fps!r}")
    return round(seconds * fps)


def _elevation(kind: str, elevation_deg: float | None) -> float:
    el = KIND_ELEVATION_DEG.get(kind, ELEVATION_DEG) if elevation_deg is None else float(elevation_deg)
    if not -30.0 <= el <= 90.0:
        raise InputError(f"elevation must be between -30 and 90 degrees, got {elevation_deg!r}")
    return el


def turntable_frames(renderer: Renderer, model: ItemModel, kind: str, size_px: int = 720, seconds: float = 4.0,
                     fps: int = 30, elevation_deg: float | None = None, shadow: bool = True) -> Iterator[np.ndarray]:
    """(size, size, 3) uint8 RGB frames of the item turning once round its vertical axis on white,
    seconds * fps of them: frame k at azimuth 360 k / n (the first from the front, the last one step short
    of a full turn, so the video loops). elevation_deg: the camera's, above the horizon (None: the kind's,
    ELEVATION_DEG, bracelets KIND_ELEVATION_DEG). One fit frames every angle (no zoom during the turn).
    Arguments are checked (InputError) and the framing fitted on the call; frames render as iterated."""
    n = _frame_count(seconds, fps)
    size_px = _check_size(size_px)
    el = _elevation(kind, elevation_deg)
    stage = _stage(model, kind, shadow)
    fit_n = n * max(1, -(-FIT_ANGLES // n))  # a multiple of n: every frame's angle among them
    intr, t = _fit(stage, [(360.0 * k / fit_n, el) for k in range(fit_n)], size_px)
    return _turn(renderer, model, stage, intr, t, n, el)


def _turn(renderer: Renderer, model: ItemModel, stage: _Stage, intr: Intrinsics, t: np.ndarray, n: int,
          el: float) -> Iterator[np.ndarray]:
    fade = _fade(intr.width_px) if stage.fade else None
    for k in range(n):
        yield _picture(renderer, model, stage, intr, _pose(360.0 * k / n, el, t), fade)


def _still_views(angles: Iterable[str] | Mapping[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    if isinstance(angles, Mapping):
        views = {str(k): (float(v[0]), float(v[1])) for k, v in angles.items()}
    else:
        names = [angles] if isinstance(angles, str) else list(angles)
        unknown = [a for a in names if a not in STILL_ANGLES]
        if unknown:
            raise InputError(f"unknown view {', '.join(map(repr, unknown))}: use {', '.join(STILL_ANGLES)}")
        views = {a: STILL_ANGLES[a] for a in names}
    if not views:
        raise InputError("no views asked for")
    for name, (_, el) in views.items():
        if not -30.0 <= el <= 90.0:
            raise InputError(f"view {name!r}: elevation must be between -30 and 90 degrees, got {el:g}")
    return views


def stills(renderer: Renderer, model: ItemModel, kind: str, size_px: int = 1024,
           angles: Iterable[str] | Mapping[str, tuple[float, float]] = tuple(STILL_ANGLES),
           shadow: bool = True) -> dict[str, np.ndarray]:
    """{view name: (size, size, 3) uint8 RGB} the item on white from each view, each framed on its own.
    angles: names from STILL_ANGLES (front, three-quarter, side, top), or {name: (azimuth, elevation)}
    in degrees (azimuth about the vertical toward the item's right, from its front)."""
    size_px = _check_size(size_px)
    views = _still_views(angles)
    stage = _stage(model, kind, shadow)
    fade = _fade(size_px) if stage.fade else None
    out = {}
    for name, (az, el) in views.items():
        intr, t = _fit(stage, [(az, el)], size_px)
        out[name] = _picture(renderer, model, stage, intr, _pose(az, el, t), fade)
    return out


# --- files ------------------------------------------------------------------------------------------------------


def _encode(frames: Iterable[np.ndarray], path: str, ext: str, fps: int, size: int,
            progress: Callable[[int, int], None] | None, total: int) -> int:
    """Encode RGB frames to path with tryon.media's encoder for ext, constant rate fps; returns the count."""
    codec, options = media._video_encoder(ext)
    rate = Fraction(fps)
    container_options = {"movflags": "+faststart"} if ext in (".mp4", ".mov") else {}
    done = 0
    with av.open(path, "w", container_options=container_options) as out:
        stream = cast(VideoStream, out.add_stream(codec, rate=rate, options=options, time_base=1 / rate))
        stream.width, stream.height, stream.pix_fmt = size, size, "yuv420p"
        for rgb in frames:
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            frame.pts, frame.time_base = done, 1 / rate
            out.mux(stream.encode(frame))
            done += 1
            if progress is not None:
                progress(done, total)
        out.mux(stream.encode(None))
    return done


def _writable_file(path: Path, exts: tuple[str, ...], what: str) -> Path:
    ext = path.suffix.lower()
    if ext not in exts:
        raise InputError(f"{path}: a {what} is written as {', '.join(exts)} (got '{ext or path.name}')")
    if path.is_dir():
        raise InputError(f"{path}: is a folder")
    if not path.parent.is_dir():
        raise InputError(f"{path}: cannot write (no folder {path.parent})")
    if not os.access(path.parent, os.W_OK):
        raise InputError(f"{path}: cannot write (folder {path.parent} is not writable)")
    return path


def write_frames(frames: Iterable[np.ndarray], out: Path, fps: int, size_px: int,
                 progress: Callable[[int, int], None] | None, total: int) -> int:
    """Encode square RGB frames into the video ``out`` (its extension's codec), atomically: on any error
    nothing is left there (InputError saying why). Returns how many frames were written."""
    tmp = None
    try:
        with media._atomic(out) as tmp:
            done = _encode(frames, tmp, out.suffix.lower(), fps, size_px, progress, total)
            os.chmod(tmp, FILE_MODE)
    except av.FFmpegError as e:
        raise InputError(f"{out}: writing the video failed ({e})") from None
    except OSError as e:  # the final rename
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise InputError(f"{out}: cannot write ({e.strerror or e})") from None
    return done


def write_turntable(catalog: Catalog, item_id: str, out_path: str | os.PathLike[str], seconds: float = 4.0,
                    size_px: int = 720, fps: int = 30, *, elevation_deg: float | None = None,
                    renderer: Renderer | None = None,
                    progress: Callable[[int, int], None] | None = None) -> media.VideoInfo:
    """Render the item's turntable (see :func:`turntable_frames`) and write it as a video: .mp4 or .mov
    (H.264), .webm (VP9), yuv420p at fps. Atomic: on any error nothing is left at out_path. Raises
    UnknownItemError for an unknown id, InputError for bad arguments, a bad path or extension (checked
    before rendering). renderer: one to draw with (default: a new one, closed after).
    progress(done, total) after each frame. Returns the written file's VideoInfo."""
    out = _writable_file(Path(out_path), TURNTABLE_EXTS, "turntable")
    n = _frame_count(seconds, fps)
    size_px = _check_size(size_px)
    if size_px % 2:
        raise InputError(f"a video's size must be even (yuv420p), got {size_px}")
    item = catalog.get(item_id)
    model = item_model(catalog, item)
    own = renderer is None
    renderer = Renderer() if renderer is None else renderer
    try:
        frames = turntable_frames(renderer, model, item.kind, size_px, seconds, fps, elevation_deg)
        done = write_frames(frames, out, fps, size_px, progress, n)
    finally:
        if own:
            renderer.close()
    if done != n:  # pragma: no cover - the generator yields exactly n
        raise InputError(f"{out}: wrote {done} of {n} frames")
    return media.probe_video(out)


def metal_variants(catalog: Catalog, item_id: str, metals: str | Iterable[str] = "all") -> list[Item]:
    """The item's family members that differ from it only in metal (same stone and size), one per metal:
    metals "all" (catalog order; a family in one metal gives just the item), one metal name or several
    (InputError naming what the family offers for a metal it does not come in)."""
    item = catalog.get(item_id)
    if metals == "all":
        out: dict[str, Item] = {}
        for i in catalog:
            if i.family == item.family and i.stone == item.stone and i.size_mm == item.size_mm:
                out.setdefault(i.metal, item if i.metal == item.metal else i)
        return list(out.values())
    names = [metals] if isinstance(metals, str) else list(metals)
    if not names:
        raise InputError("no metals asked for")
    found: dict[str, Item] = {}
    for m in names:
        v = catalog.variant(item.id, metal=m, stone=item.stone, size_mm=item.size_mm)
        found.setdefault(v.id, v)
    return list(found.values())


def write_stills(catalog: Catalog, item_id: str, out_dir: str | os.PathLike[str], metals: str | Iterable[str] = "all",
                 size_px: int = 1024, angles: Iterable[str] | Mapping[str, tuple[float, float]] = tuple(STILL_ANGLES),
                 *, renderer: Renderer | None = None) -> dict[str, dict[str, Path]]:
    """Write the stills of every metal variant of the item (:func:`metal_variants`) as PNGs
    ``out_dir/<variant id>-<view>.png`` (out_dir is made if missing). Everything renders before anything
    is written, and each file is written atomically. Returns {variant id: {view: path}}."""
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    variants = metal_variants(catalog, item_id, metals)
    views = _still_views(angles)
    size_px = _check_size(size_px)
    own = renderer is None
    renderer = Renderer() if renderer is None else renderer
    try:
        pictures = {v.id: stills(renderer, item_model(catalog, v), v.kind, size_px, views) for v in variants}
    finally:
        if own:
            renderer.close()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"{folder}: cannot make the folder ({e.strerror or e})") from None
    out: dict[str, dict[str, Path]] = {}
    for vid, shots in pictures.items():
        out[vid] = {}
        for name, rgb in shots.items():
            path = folder / f"{vid}-{name}.png"
            data = media.encode_image(rgb, ".png")
            with media._atomic(path) as tmp:
                Path(tmp).write_bytes(data)
                os.chmod(tmp, FILE_MODE)
            out[vid][name] = path
    return out
