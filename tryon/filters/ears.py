"""The ears through time: the head pose and both lobe anchors smoothed, held and faded on tracking loss, each
ear's visibility eased, and a drop earring's swing at each lobe.

After `reset()` the first frame comes out as measured, fully shown or hidden: a photo is a reset and one frame.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tryon.anchors.ears import SITES, EarVisibility, lobe_frames
from tryon.anchors.face_model import FaceModel
from tryon.filters.hold import HoldAndFade
from tryon.filters.one_euro import HeadPoseFilter, OneEuroFilter, OneEuroParams
from tryon.physics import Pendulum, hang_rotation
from tryon.types import AnchorPose, FaceLandmarks, HeadPose, Intrinsics

# Anchor positions (camera metres): smooth hard when still (1 Hz), open up with speed (beta per m/s;
# at a typical 5 cm/s head motion the cutoff is ~20 Hz, so the lag stays near 0.1 frame). Tuned on the
# synthetic-motion clip of tryon.tools.stability.
ANCHOR_FILTER = OneEuroParams(min_cutoff_hz=1.0, beta=400.0)
# Drop earrings: a damped pendulum at each lobe (tryon.physics), long enough for the hook's own turn.
DROP_MIN_LENGTH_M = 0.02
DROP_DAMPING = 0.35
DROP_DRIVE_HZ = 4.0  # the lobe's acceleration, low-passed (tracking noise differentiated twice is loud)
DROP_FRICTION_M_S2 = 0.25  # smaller accelerations (a tremor, tracking noise) do not move the drop
DROP_DEPTH_FILTER = OneEuroParams(min_cutoff_hz=1.0 / (2.0 * np.pi * 0.5), beta=0.0)  # a plain 0.5 s low-pass


@dataclasses.dataclass(frozen=True)
class EarsResult:
    """The head pose to draw by (None: nothing to draw) and both ear anchors with their visibility."""

    head: HeadPose | None
    anchors: tuple[AnchorPose, ...]


class EarFilter:
    def __init__(self, model: FaceModel) -> None:
        self.model = model
        self._filter = HeadPoseFilter()
        self._hold: HoldAndFade[HeadPose] = HoldAndFade(at_once=True)
        self._visibility = EarVisibility()
        self._anchor_filters = {site: OneEuroFilter(ANCHOR_FILTER) for site in SITES}
        self._drop_depth = {site: OneEuroFilter(DROP_DEPTH_FILTER) for site in SITES}  # per ear, metres
        self._drops: dict[str, Pendulum] = {}
        self._drop_length_m = 0.0
        self.reset()

    def reset(self) -> None:
        self._hold.reset()
        self._visibility = EarVisibility()
        self._reset_motion()
        self.prior: HeadPose | None = None  # the last raw head pose: the head solver's starting point
        self._last_vis: dict[str, float] = {}
        self._last_anchors: tuple[AnchorPose, ...] = ()

    def _reset_motion(self) -> None:
        self._filter.reset()
        for f in (*self._anchor_filters.values(), *self._drop_depth.values()):
            f.reset()
        for drop in self._drops.values():
            drop.reset()

    def set_drop(self, hang_length_m: float) -> None:
        """The worn earrings hang this far below the lobe (0: studs and hoops, nothing swings)."""
        if hang_length_m <= 0.0:
            self._drops, self._drop_length_m = {}, 0.0
            return
        # A drop beside the jaw swings both ways. Its hook turns in the piercing too, which makes the
        # swinging length longer than the drop (DROP_MIN_LENGTH_M) and rubs (more damping than a pendant's).
        length = max(hang_length_m, DROP_MIN_LENGTH_M)
        if self._drops and self._drop_length_m == length:
            return
        self._drop_length_m = length
        self._drops = {s: Pendulum(length_m=length, damping=DROP_DAMPING, max_angle=0.4, out_only=False,
                                   drive_cutoff_hz=DROP_DRIVE_HZ, friction_m_s2=DROP_FRICTION_M_S2)
                       for s in SITES}

    def update(self, face: FaceLandmarks | None, raw: HeadPose | None, raw_anchors: tuple[AnchorPose, ...],
               intr: Intrinsics, t_ms: float) -> EarsResult:
        """One frame: `raw` is this frame's head pose solved from `face` (None when no face), `raw_anchors` its
        unsmoothed ear anchors."""
        first = self._hold.fresh  # the stream's first frame: each ear shown or hidden, no easing
        shown, opacity, reset = self._hold.update(raw, t_ms)
        if reset:  # back after a long gap: snap to the new pose rather than glide from the old one
            self._reset_motion()
        if raw is not None:
            self.prior = raw
        if shown is None:
            self.prior = None
            return EarsResult(None, ())
        if raw is not None and face is not None:
            pose = self._filter(raw)
            self._last_vis = {a.site: self._visibility(face, a.site, t_ms, first)
                              for a in raw_anchors}
            self._last_anchors = tuple(self._smooth(a, pose, intr, t_ms) for a in raw_anchors)
        else:
            pose = shown  # held: the last smoothed pose and anchors
        anchors = tuple(dataclasses.replace(a, visible=self._last_vis.get(a.site, 0.0) * opacity)
                        for a in self._last_anchors)
        return EarsResult(pose, anchors)

    def _smooth(self, raw: AnchorPose, pose: HeadPose, intr: Intrinsics, t_ms: float) -> AnchorPose:
        """The anchor's position through its One Euro filter; its orientation from the smoothed head."""
        m = raw.cam_T_anchor.copy()
        m[:3, 3] = self._anchor_filters[raw.site](m[:3, 3], t_ms)
        m[:3, :3] = pose.cam_T_head[:3, :3] @ lobe_frames(self.model)[raw.site][:3, :3]
        swing = (0.0, 0.0)
        drop = self._drops.get(raw.site)
        if drop is not None:  # driven by the filtered lobe's motion, in the frame where the drop hangs at rest
            # The lobe's depth (from the iris's size) jitters by millimetres on a still head, its pixel by a
            # fraction of one: the pendulum sees the pixel's ray at a slowly smoothed depth.
            depth = float(self._drop_depth[raw.site](m[2:3, 3], t_ms)[0])
            rest = m @ hang_rotation(m)
            swing = drop.swing(m[:3, 3] * (depth / m[2, 3]), rest[:3, :3], t_ms)
        return AnchorPose(raw.site, m, raw.visible, intr.project(m[:3, 3][None])[0], swing_rad=swing)
