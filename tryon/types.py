"""Frozen value types passed between the pipeline's stages.

Coordinate frames used throughout:
- pixel: x right, y down, origin at the top-left pixel's centre, units `_px`.
- camera: OpenCV convention, x right, y down, z forward out of the lens, metres (`_m`).
- head: MediaPipe's canonical face frame in metres: x toward the person's left, y up, z out of the face
  (toward the camera in a frontal view). Scaled per person by `HeadPose.scale`.
- anchor: origin at the site (a piercing point); for ears +x points out of the ear along the piercing
  axis, +y up; the jewelry models use the same frame.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from tryon.errors import InputError


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole camera intrinsics in pixels (no distortion)."""

    fx: float
    fy: float
    cx: float
    cy: float
    width_px: int
    height_px: int

    @classmethod
    def from_hfov(cls, width_px: int, height_px: int, hfov_deg: float = 60.0) -> Intrinsics:
        """Square pixels and a centred principal point, from the horizontal field of view."""
        if not 1.0 <= hfov_deg <= 170.0:
            raise InputError(f"field of view must be between 1 and 170 degrees, got {hfov_deg}")
        if width_px <= 0 or height_px <= 0:
            raise InputError(f"image size must be positive, got {width_px}x{height_px}")
        f = 0.5 * width_px / math.tan(math.radians(hfov_deg) / 2.0)
        return cls(f, f, (width_px - 1) / 2.0, (height_px - 1) / 2.0, width_px, height_px)

    @property
    def K(self) -> np.ndarray:  # noqa: N802 - the usual name for the matrix
        """(3, 3) float64 camera matrix."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def project(self, points_m: np.ndarray) -> np.ndarray:
        """points_m : (n, 3) camera-frame metres -> (n, 2) float64 pixels."""
        p = np.asarray(points_m, dtype=np.float64).reshape(-1, 3)
        z = np.maximum(p[:, 2], 1e-6)
        return np.stack([self.fx * p[:, 0] / z + self.cx, self.fy * p[:, 1] / z + self.cy], axis=1)


@dataclass(frozen=True)
class FaceLandmarks:
    """One face from the face mesh, in pixels.

    points_px : (478, 3) float32. x, y in pixels; z in pixels too (MediaPipe's relative depth times the
    image width), smaller is closer to the camera. Points 468..477 are the irises.
    """

    points_px: np.ndarray
    image_size: tuple[int, int]  # (width, height)
    timestamp_ms: int

    def __post_init__(self) -> None:
        if self.points_px.shape != (478, 3):
            raise InputError(f"face landmarks must be (478, 3), got {self.points_px.shape}")

    @property
    def face_width_px(self) -> float:
        """Distance between landmarks 234 and 454 (the face's sides at the ears)."""
        return float(np.linalg.norm(self.points_px[234, :2] - self.points_px[454, :2]))

    @property
    def area_px(self) -> float:
        lo, hi = self.points_px[:, :2].min(axis=0), self.points_px[:, :2].max(axis=0)
        return float(np.prod(hi - lo))


@dataclass(frozen=True)
class BodyLandmarks:
    """One person's body from MediaPipe pose.

    points_px : (33, 2) float64 pixels. visibility : (33,) float64, 0..1, how sure MediaPipe is that each
    point is in view and not hidden. world_m : (33, 3) float64, MediaPipe's metric estimate of the same
    points (origin between the hips, axes like the camera's: x right, y down, z away).
    """

    points_px: np.ndarray
    visibility: np.ndarray
    world_m: np.ndarray
    image_size: tuple[int, int]  # (width, height)
    timestamp_ms: int

    def __post_init__(self) -> None:
        if self.points_px.shape != (33, 2) or self.visibility.shape != (33,) or self.world_m.shape != (33, 3):
            raise InputError(f"pose landmarks must be (33, 2), (33,) and (33, 3), got {self.points_px.shape}, "
                             f"{self.visibility.shape} and {self.world_m.shape}")

    def seen(self, *indices: int, at_least: float = 0.5) -> bool:
        """Whether every one of these points is visible with at least this confidence."""
        return all(self.visibility[i] >= at_least for i in indices)


@dataclass(frozen=True)
class HandLandmarks:
    """One hand from MediaPipe hands.

    points_px : (21, 3) float32, x and y in pixels, z relative depth in pixels (smaller is closer).
    world_m : (21, 3) float32, MediaPipe's metric estimate of the same points (origin near the palm's
    centre, its own axes). side : the person's hand, "left" or "right". score : handedness confidence.
    """

    points_px: np.ndarray
    world_m: np.ndarray
    side: str
    score: float
    image_size: tuple[int, int]  # (width, height)
    timestamp_ms: int

    def __post_init__(self) -> None:
        if self.points_px.shape != (21, 3) or self.world_m.shape != (21, 3):
            raise InputError(f"hand landmarks must be (21, 3), got {self.points_px.shape} and {self.world_m.shape}")
        if self.side not in ("left", "right"):
            raise InputError(f"hand side must be 'left' or 'right', got {self.side!r}")

    @property
    def area_px(self) -> float:
        lo, hi = self.points_px[:, :2].min(axis=0), self.points_px[:, :2].max(axis=0)
        return float(np.prod(hi - lo))


@dataclass(frozen=True)
class HeadPose:
    """Where the head is: p_cam = R @ (scale * p_head) + t, with p_head in the canonical head frame.

    cam_T_head : (4, 4) float64 rigid transform, metres. scale : the person's head size relative to the
    canonical model, fixed by the iris diameter (11.7 mm).
    """

    cam_T_head: np.ndarray
    scale: float
    timestamp_ms: int

    def to_camera(self, points_head_m: np.ndarray) -> np.ndarray:
        """(n, 3) canonical head-frame metres -> (n, 3) camera-frame metres."""
        p = np.asarray(points_head_m, dtype=np.float64).reshape(-1, 3) * self.scale
        return p @ self.cam_T_head[:3, :3].T + self.cam_T_head[:3, 3]

    @property
    def yaw_deg(self) -> float:
        """Head turn about its vertical axis; 0 frontal, positive when the person turns to their left."""
        z_axis = self.cam_T_head[:3, 2]  # the head's forward axis in camera coordinates
        return float(math.degrees(math.atan2(z_axis[0], -z_axis[2])))


@dataclass(frozen=True)
class AnchorPose:
    """A site on the body where jewelry attaches.

    cam_T_anchor : (4, 4) float64, the anchor frame in camera metres. visible : 0 (hidden) .. 1 (shown).
    xy_px : (2,) float64, the site projected into the image.
    """

    site: str
    cam_T_anchor: np.ndarray
    visible: float
    xy_px: np.ndarray
    # The body's size where the piece sits, in metres (a finger's inner ring diameter as "diameter"; a
    # wrist's "width" and "thickness"); the renderer fits bands to it. Empty for ears.
    fit_m: dict[str, float] = field(default_factory=dict, hash=False)
    # Dangling parts' swing (about the rest frame's z, about its x), radians, from tryon.physics.Pendulum.
    swing_rad: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True)
class Capsule:
    """A depth-only occluder: a cone-sided capsule from a_m to b_m (camera metres) with end radii."""

    a_m: np.ndarray
    b_m: np.ndarray
    radius_a_m: float
    radius_b_m: float


@dataclass(frozen=True)
class Size:
    """A measured body size with its one-sigma uncertainty, in millimetres."""

    value_mm: float
    sigma_mm: float


@dataclass(frozen=True)
class HandSizes:
    """One hand's ring sizes per finger (inner diameter) and wrist circumference."""

    side: str
    fingers: dict[str, Size] = field(default_factory=dict, hash=False)
    wrist_circumference: Size | None = None


class Cover(Protocol):
    """What of the frame lies in front of the jewelry at a site (hair over a chain): `cover(x0, y0, w, h)` ->
    (h, w) float32 0..1 for that frame region, or None when nothing covers it. A value computed from one
    frame (it reads no state), asked only for the regions the jewelry covers."""

    def __call__(self, x0: int, y0: int, w: int, h: int) -> np.ndarray | None: ...


@dataclass(frozen=True)
class FrameAnchors:
    """Everything the renderer needs from one frame's tracking. Empty `anchors` when nothing is tracked.
    `covers`: per site, what lies in front of the jewelry there (hair over a necklace)."""

    timestamp_ms: int
    intrinsics: Intrinsics
    face_width_px: float = 0.0
    head: HeadPose | None = None
    anchors: tuple[AnchorPose, ...] = field(default_factory=tuple)
    occluders: tuple[Capsule, ...] = field(default_factory=tuple)  # hands and wrists, camera frame
    hands: tuple[HandSizes, ...] = field(default_factory=tuple)
    covers: Mapping[str, Cover] = field(default_factory=dict, hash=False, compare=False)

    def get(self, site: str) -> AnchorPose | None:
        return next((a for a in self.anchors if a.site == site), None)


@dataclass(frozen=True)
class Frame:
    """One camera frame in: `rgb` (H, W, 3) uint8, its time (milliseconds, increasing within a stream), and
    what watches show (seconds past 12:00; None: 10:10:30)."""

    rgb: np.ndarray
    timestamp_ms: int = 0
    dial_time_s: float | None = None


@dataclass(frozen=True)
class NotPlaced:
    """A worn piece that could not be drawn in this frame, and why ("no face found", ...)."""

    item_id: str
    where: str
    reason: str


@dataclass(frozen=True)
class FrameResult:
    """One frame out: the picture with the jewelry (H, W, 3) uint8, the anchors it was drawn at, the rendered
    layer (None when the pipeline does not render), each stage's time in milliseconds, and the worn pieces
    that could not be placed."""

    image: np.ndarray
    anchors: FrameAnchors
    layer: RenderLayer | None = None
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    not_placed: tuple[NotPlaced, ...] = ()


@dataclass(frozen=True)
class RenderLayer:
    """Rendered jewelry for one frame: premultiplied-alpha RGBA over a region of the frame.

    rgba : (h, w, 4) float32 in 0..1, colour premultiplied by alpha, sRGB. origin_px : (x0, y0) of the
    region's top-left pixel in the frame. An empty layer has shape (0, 0, 4).
    """

    rgba: np.ndarray
    origin_px: tuple[int, int]
    frame_size: tuple[int, int]  # (width, height)

    @property
    def is_empty(self) -> bool:
        return self.rgba.size == 0 or not bool((self.rgba[..., 3] > 0).any())

    def full_frame(self) -> np.ndarray:
        """(H, W, 4) float32 premultiplied RGBA the size of the frame."""
        w, h = self.frame_size
        out = np.zeros((h, w, 4), np.float32)
        if self.rgba.size:
            x0, y0 = self.origin_px
            rh, rw = self.rgba.shape[:2]
            out[y0 : y0 + rh, x0 : x0 + rw] = self.rgba
        return out
