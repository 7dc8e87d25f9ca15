"""Product videos: a short clip of one piece on white under a moving light, from a catalog item or a photo.

From a 3D catalog item, style ``turn`` is the turntable (:mod:`tryon.studio.turntable`: one full turn under
the studio light). From a product photo, the piece is the relief mesh that
:func:`tryon.studio.photo_piece.photo_piece` builds: a sheet modelled from the front only, so it cannot turn
round; instead it tilts a little in space while the key light travels across it. The styles (t runs over the clip):
    turn   the piece yaws back and forth (+-TURN_YAW_DEG) while the key light swings against it (loops);
    sweep  a gentle rocking tilt while the key light sweeps once across the piece, left to right;
    push   a slow push-in (the camera dollies from 1 / PUSH_START of its final distance) with a little
           tilt, the light drifting across.
Sweep and push work for 3D items too (the same motions round the item's front).

The light is real: every frame the renderer's key light (`Renderer.set_lights`, a direction in the camera
frame) moves, and the studio environment that the metal reflects turns with it about the vertical, so the
highlights run across the metal and the stones' facets catch and lose the light, computed from the relief's
normals and its material, not painted on. The fill, rim and bounce lights stay.

Staging, framing, the soft contact shadow on white and the H.264 encoding are the turntable's: the camera
orbits the stage's vertical axis (azimuth, elevation) and its framing is fitted once over every frame's view
(the push's end framing: the clip zooms only by the dolly). A photo piece stands in its kind's frame
(pendants and charms: +y up, front +z; earrings: +y up, front +x), seen nearly head on (PIECE_ELEVATION_DEG).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import trimesh

from tryon import media
from tryon.errors import InputError
from tryon.jewelry.catalog import Catalog
from tryon.render.environment import STUDIO_EXPOSURE, make_environment, studio, studio_environment
from tryon.render.renderer import LIGHTS, Renderer, Roi, box_roi
from tryon.render.scene import ItemModel, item_model
from tryon.studio import turntable as tt
from tryon.types import Intrinsics

__all__ = ["FPS", "PHOTO_KINDS", "SECONDS_RANGE", "SIZE_RANGE_PX", "STYLES", "Shot", "item_video_frames",
           "piece_video_frames", "shots", "write_product_video"]

STYLES = ("turn", "sweep", "push")
PHOTO_KINDS = ("earring", "pendant", "charm")
SECONDS_RANGE = (3.0, 10.0)
SIZE_RANGE_PX = (128, 2048)
FPS = 30
PIECE_ELEVATION_DEG = 8.0  # a relief is seen nearly head on (from higher up it shows its flat back edge)
TURN_YAW_DEG = 25.0
SWEEP_YAW_DEG, SWEEP_TILT_DEG = 12.0, 6.0
PUSH_YAW_DEG = 8.0
# 3D items' sweep and push move round this azimuth (a ring's front view looks through its hole).
ITEM_AZIMUTH_DEG = {"ring": 35.0}
PUSH_START = 0.72  # the push starts with the piece this fraction of its final size
# The key light's source: this high above the camera's horizon, swinging this far either side of the view.
KEY_ELEVATION_DEG = 35.0
KEY_SWING_DEG = {"turn": 45.0, "sweep": 70.0, "push": 40.0}
KEY_GAIN = 1.6  # the moving key is the clip's hero light: brighter than the studio's, so its highlights read
KEY_RADIANCE = (KEY_GAIN * LIGHTS[0][1][0], KEY_GAIN * LIGHTS[0][1][1], KEY_GAIN * LIGHTS[0][1][2])
ENV_FOLLOW = 1.0  # the environment turns by this share of the key light's swing
_X, _Y, _Z = np.eye(3)
# A photo piece's frame per kind: (its front, its up), as the contract of tryon.studio.photo_piece says.
PIECE_FRAMES = {"earring": (_X, _Y), "pendant": (_Z, _Y), "charm": (_Z, _Y)}


@dataclass(frozen=True)
class Shot:
    """One frame's camera and light: the camera's azimuth and elevation round the stage (degrees, as the
    turntable's), how much further than its final distance it stands (a fraction of it: the push's dolly), the key
    light's swing (degrees toward the picture's right, from straight behind the camera)."""

    azimuth_deg: float
    elevation_deg: float
    dolly: float
    light_deg: float


def _smooth(t: float) -> float:
    return t * t * (3.0 - 2.0 * t)


def shots(style: str, n: int, elevation_deg: float, light: bool = True, azimuth_deg: float = 0.0) -> list[Shot]:
    """The style's n shots for a camera elevation_deg above the horizon, round azimuth_deg. turn loops
    (frame n would be frame 0); sweep and push run once, first to last. light=False: the key light stays
    where the studio has it (light_deg nan), for comparisons."""
    if style not in STYLES:
        raise InputError(f"unknown style {style!r}: use one of {', '.join(STYLES)}")
    # A camera moving toward the piece's right (azimuth up) sees its front turn toward the picture's left, and a
    # mirror's highlight moves by half the light's swing: the light swings right as the camera does, so the
    # highlights run across the piece rather than ride along with it.
    swing = KEY_SWING_DEG[style]
    out = []
    for k in range(n):
        if style == "turn":
            phase = 2.0 * math.pi * k / n
            az, el, dolly, key = TURN_YAW_DEG * math.sin(phase), elevation_deg, 0.0, swing * math.sin(phase)
        else:
            t = k / max(n - 1, 1)
            s = _smooth(t)
            if style == "sweep":
                phase = 2.0 * math.pi * t
                az = SWEEP_YAW_DEG * math.sin(phase)
                el = elevation_deg + SWEEP_TILT_DEG * math.sin(2.0 * phase)
                dolly, key = 0.0, swing * (2.0 * s - 1.0)
            else:
                az, el = PUSH_YAW_DEG * (2.0 * s - 1.0), elevation_deg
                dolly, key = (1.0 / PUSH_START - 1.0) * (1.0 - s), swing * (2.0 * s - 1.0)
        out.append(Shot(azimuth_deg + az, el, dolly, key if light else math.nan))
    return out


# --- light ------------------------------------------------------------------------------------------------


def _key_lights(light_deg: float) -> tuple[tuple[tuple[float, float, float], tuple[float, float, float]], ...]:
    """The studio's lights with the key swung to light_deg (nan: the studio's own)."""
    if math.isnan(light_deg):
        return LIGHTS
    phi, theta = math.radians(light_deg), math.radians(KEY_ELEVATION_DEG)
    # Where the light is, seen from the piece (camera frame: x right, y down, the camera toward -z).
    source = (math.sin(phi) * math.cos(theta), -math.sin(theta), -math.cos(phi) * math.cos(theta))
    key = ((-source[0], -source[1], -source[2]), KEY_RADIANCE)
    return (key, *LIGHTS[1:])


def _turned_studio(angle_deg: float, base: np.ndarray) -> np.ndarray:
    """The studio map (H, W, 3) turned about the vertical by angle_deg: what is behind the camera (its soft
    boxes, which the metal mirrors) moves toward the picture's right, as the key light does for a positive
    swing. u = atan2(x, z) / 2pi + 0.5, so behind the camera the right is at lower u: a turn is a shift
    along the columns (fractional: linear blending)."""
    w = base.shape[1]
    shift = -angle_deg / 360.0 * w
    whole = math.floor(shift)
    frac = np.float32(shift - whole)
    a = np.roll(base, whole, axis=1)
    return (1.0 - frac) * a + frac * np.roll(a, 1, axis=1)


def _light(renderer: Renderer, shot: Shot, base: np.ndarray) -> None:
    renderer.set_lights(_key_lights(shot.light_deg))
    if math.isnan(shot.light_deg):
        renderer.set_environment(studio_environment())
    else:
        renderer.set_environment(make_environment(_turned_studio(ENV_FOLLOW * shot.light_deg, base),
                                                  STUDIO_EXPOSURE))


# --- frames -----------------------------------------------------------------------------------------------


def _piece_stage(model: ItemModel, kind: str) -> tt._Stage:
    """A photo piece on the turntable's stage: its front to the viewer, up up, centred; its contact shadow."""
    front, top = PIECE_FRAMES[kind]
    rot = np.eye(4)
    rot[:3, :3] = np.stack([np.cross(top, front), -top, -front])  # rows: the stage's axes in item coordinates
    parts = model.cam_T_parts(rot)  # what hangs, hangs along the stage's +y
    tris = tt._triangles(model, parts)
    points = tris.reshape(-1, 3)
    centre = 0.5 * (points.min(axis=0) + points.max(axis=0))
    shift = np.eye(4)
    shift[:3, 3] = -centre
    tris = tris - centre
    points = points - centre
    floor = tt._floor(tris, points, "pendant" if kind == "charm" else kind)
    return tt._Stage([shift @ m for m in parts], tt._hull_points(points), floor, False)


def _frames(renderer: Renderer, model: ItemModel, stage: tt._Stage, plan: list[Shot], size_px: int
            ) -> Iterator[np.ndarray]:
    """Fit the framing over every shot's view (at its final distance), then render each shot."""
    views = [(s.azimuth_deg, s.elevation_deg) for s in plan]
    extra = max(1, -(-tt.FIT_ANGLES // len(plan)))  # fit on in-between angles too: the item turns between frames
    dense = [(views[k][0] + (views[(k + 1) % len(views)][0] - views[k][0]) * j / extra,
              views[k][1] + (views[(k + 1) % len(views)][1] - views[k][1]) * j / extra)
             for k in range(len(views)) for j in range(extra)]
    intr, t = tt._fit(stage, dense, size_px)
    # The dolly backs away along the ray through the piece's centre: it stays where it is in the picture.
    poses = [tt._pose(s.azimuth_deg, s.elevation_deg, t * (1.0 + s.dolly)) for s in plan]
    # Draw only the region that the piece covers in some frame (a tall earring: a third of the picture); one
    # region for the clip, so the renderer keeps one target.
    seen = np.vstack([stage.bounds @ p[:3, :3].T + p[:3, 3] for p in poses])
    roi = box_roi(seen, intr) or Roi(0, 0, size_px, size_px)
    base = studio()
    fade = tt._fade(size_px) if stage.fade else None  # a pendant's chain fades out toward the picture's edges
    try:
        for shot, pose in zip(plan, poses, strict=True):
            _light(renderer, shot, base)
            yield _picture(renderer, model, stage, intr, pose, roi, fade)
    finally:  # the renderer may be the caller's: leave it lit as the studio
        renderer.set_lights(LIGHTS)
        renderer.set_environment(studio_environment())


def _picture(renderer: Renderer, model: ItemModel, stage: tt._Stage, intr: Intrinsics, cam_T_stage: np.ndarray,
             roi: Roi, fade: np.ndarray | None) -> np.ndarray:
    """(size, size, 3) uint8 RGB: the piece drawn in roi, on white with its shadow (as the turntable's)."""
    rgba = np.zeros((intr.height_px, intr.width_px, 4), np.float32)
    rgba[roi.y0:roi.y0 + roi.h, roi.x0:roi.x0 + roi.w] = renderer.draw(
        roi, intr, [(model, [cam_T_stage @ m for m in stage.parts])])
    if fade is not None:
        rgba *= fade
    dark = tt._shadow(stage.floor, intr, cam_T_stage)
    background = 1.0 if dark is None else (1.0 - dark)[..., None]
    out = rgba[..., :3] + (1.0 - rgba[..., 3:4]) * background
    return (np.clip(out, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _frame_count(seconds: float, fps: int) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) \
            or not SECONDS_RANGE[0] <= seconds <= SECONDS_RANGE[1]:
        raise InputError(f"a product video lasts {SECONDS_RANGE[0]:g} to {SECONDS_RANGE[1]:g} seconds, got {seconds!r}")
    if isinstance(fps, bool) or not isinstance(fps, (int, np.integer)) or not tt.FPS_RANGE[0] <= fps <= tt.FPS_RANGE[1]:
        raise InputError(f"frame rate must be a whole number in {tt.FPS_RANGE[0]}..{tt.FPS_RANGE[1]} fps, got {fps!r}")
    return round(seconds * fps)


def _check_size(size_px: int) -> int:
    if isinstance(size_px, bool) or not isinstance(size_px, (int, np.integer)) \
            or not SIZE_RANGE_PX[0] <= size_px <= SIZE_RANGE_PX[1] or size_px % 2:
        raise InputError(f"a product video's size must be an even number of pixels in "
                         f"{SIZE_RANGE_PX[0]}..{SIZE_RANGE_PX[1]} (H.264 in yuv420p), got {size_px!r}")
    return int(size_px)


def item_video_frames(renderer: Renderer, model: ItemModel, kind: str, style: str = "turn", size_px: int = 720,
                      seconds: float = 5.0, fps: int = FPS, light: bool = True) -> Iterator[np.ndarray]:
    """(size, size, 3) uint8 RGB frames of a 3D catalog item on white, seconds * fps of them: turn is the
    turntable (one full turn under the studio light); sweep and push move round its front under a moving
    light (light=False: the studio's fixed light). Arguments are checked (InputError) on the call."""
    n = _frame_count(seconds, fps)
    size_px = _check_size(size_px)
    el = tt._elevation(kind, None)
    plan = shots(style, n, el, light, ITEM_AZIMUTH_DEG.get(kind, 0.0))
    stage = tt._stage(model, kind)
    if style == "turn":
        fit_n = n * max(1, -(-tt.FIT_ANGLES // n))
        intr, t = tt._fit(stage, [(360.0 * k / fit_n, el) for k in range(fit_n)], size_px)
        return tt._turn(renderer, model, stage, intr, t, n, el)
    return _frames(renderer, model, stage, plan, size_px)


def piece_video_frames(renderer: Renderer, piece: trimesh.Scene | ItemModel, kind: str, style: str = "turn",
                       size_px: int = 720, seconds: float = 5.0, fps: int = FPS, light: bool = True
                       ) -> Iterator[np.ndarray]:
    """(size, size, 3) uint8 RGB frames of a photo piece (PhotoPiece.piece: the piece alone in its kind's
    frame, metres, anchor at the origin) tilting on white under a moving light (see the module docstring),
    seconds * fps of them. light=False: the studio's fixed light, for comparisons."""
    if kind not in PIECE_FRAMES:
        raise InputError(f"unknown type {kind!r}: a photo piece is one of {', '.join(PHOTO_KINDS)}")
    n = _frame_count(seconds, fps)
    size_px = _check_size(size_px)
    plan = shots(style, n, PIECE_ELEVATION_DEG, light)
    model = piece if isinstance(piece, ItemModel) else ItemModel("photo-piece", piece)
    return _frames(renderer, model, _piece_stage(model, kind), plan, size_px)


# --- the file ---------------------------------------------------------------------------------------------


def _photo_path(source: str | os.PathLike[str]) -> Path | None:
    """source as a photo's path, or None where it names a catalog item (no such file, no image extension)."""
    path = Path(source)
    if path.suffix.lower() in media.IMAGE_EXTS:
        if not path.is_file():
            raise InputError(f"{path}: no such photo")
        if not os.access(path, os.R_OK):
            raise InputError(f"{path}: cannot read the photo")
        return path
    if path.is_file():
        raise InputError(f"{path}: not a photo (use {', '.join(media.IMAGE_EXTS)}) nor a catalog item id")
    return None


def write_product_video(source: str | os.PathLike[str], out_path: str | os.PathLike[str], catalog: Catalog, *,
                        seconds: float = 5.0, size_px: int = 720, style: str = "turn", kind: str | None = None,
                        metal: str | None = None, size_mm: float | None = None,
                        anchor_px: tuple[float, float] | None = None, fps: int = FPS,
                        renderer: Renderer | None = None,
                        progress: Callable[[int, int], None] | None = None) -> media.VideoInfo:
    """Write a product video of source (a photo's path, or a catalog item id) to out_path (.mp4, H.264,
    yuv420p, faststart; atomic: on any error nothing is left there). A photo needs kind (earring, pendant,
    charm) and may give metal, size_mm (its height) and anchor_px (where the piece hangs from, in the photo's
    pixels: it picks the piece among several), passed to photo_piece; an item may give metal (its
    family's member in that metal). Every argument is checked (InputError; UnknownItemError for an unknown
    id) before anything renders. progress(done, total) after each frame. Returns the file's VideoInfo."""
    out = tt._writable_file(Path(out_path), (".mp4",), "product video")
    n = _frame_count(seconds, fps)
    size_px = _check_size(size_px)
    if style not in STYLES:
        raise InputError(f"unknown style {style!r}: use one of {', '.join(STYLES)}")
    photo = _photo_path(source)
    own = renderer is None
    if photo is not None:
        if kind not in PHOTO_KINDS:
            raise InputError(f"a photo needs its type: one of {', '.join(PHOTO_KINDS)}"
                             + ("" if kind is None else f" (got {kind!r})"))
        from tryon.studio.photo_piece import photo_piece  # the relief (and its checks) are photo_piece's

        # Earrings are mostly photographed in pairs: the video shows the pair's model (one piece of a pair).
        piece = photo_piece(photo, kind, size_mm=size_mm, metal=metal, pair=kind == "earring",
                            anchor_px=anchor_px).piece
        renderer = Renderer() if renderer is None else renderer
        try:
            frames = piece_video_frames(renderer, piece, kind, style, size_px, seconds, fps)
        except BaseException:
            if own:
                renderer.close()
            raise
    else:
        if kind is not None or size_mm is not None or anchor_px is not None:
            raise InputError("--type, --size-mm and --anchor are for a photo; a catalog item has its own")
        item = catalog.get(str(source))
        if metal is not None:
            item = catalog.variant(item.id, metal=metal.replace("-", "_"), stone=item.stone, size_mm=item.size_mm)
        model = item_model(catalog, item)
        renderer = Renderer() if renderer is None else renderer
        try:
            frames = item_video_frames(renderer, model, item.kind, style, size_px, seconds, fps)
        except BaseException:
            if own:
                renderer.close()
            raise
    try:
        done = tt.write_frames(frames, out, fps, size_px, progress, n)
    finally:
        close = getattr(frames, "close", None)
        if close is not None:  # a stopped generator puts the studio light back while the renderer is open
            close()
        if own:
            renderer.close()
    if done != n:  # pragma: no cover - the generators yield exactly n
        raise InputError(f"{out}: wrote {done} of {n} frames")
    return media.probe_video(out)
