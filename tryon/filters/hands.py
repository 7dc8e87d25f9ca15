"""Each hand through time (the person's left or right): its ring and wrist anchors smoothed, held and faded
when it leaves, snapped when it returns, and the measured sizes filtered slowly.

After `reset()` the first frame comes out as measured: a photo is a reset and one frame.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tryon.anchors import fingers
from tryon.anchors.hands import hand_anchors
from tryon.filters.hold import HoldAndFade
from tryon.filters.one_euro import OneEuroFilter, OneEuroParams, RigidFilter
from tryon.types import AnchorPose, Capsule, HandLandmarks, HandSizes, Intrinsics, Size

# The hand's pose (rotation and position of each anchor) smoothed like the head's; sizes slowly.
HAND_FILTER = OneEuroParams(min_cutoff_hz=1.0, beta=300.0)
HAND_ROTATION_FILTER = OneEuroParams(min_cutoff_hz=1.5, beta=3.0)
SIZE_FILTER = OneEuroParams(min_cutoff_hz=0.2, beta=0.0)


class HandFilter:
    """One hand's (the person's left or right) anchors through time: hold-and-fade when it leaves, snap
    when it returns, One Euro on each anchor's pose and a slow filter on the measured sizes."""

    def __init__(self) -> None:
        self._hold: HoldAndFade[fingers.HandPose] = HoldAndFade(at_once=True)
        self.reset()

    def reset(self) -> None:
        """A new stream: nothing held, every filter empty; the next frame comes out as measured."""
        self._hold.reset()
        self._poses: dict[str, RigidFilter] = {}
        self._sizes: dict[str, OneEuroFilter] = {}
        self._last: tuple[list[AnchorPose], list[Capsule], HandSizes] | None = None

    def update(self, hand: HandLandmarks | None, gray: np.ndarray, intr: Intrinsics, t_ms: float,
               elbow_px: np.ndarray | None = None, shown_as: str | None = None
               ) -> tuple[list[AnchorPose], list[Capsule], HandSizes] | None:
        """This frame's anchors, occluders and sizes (None when nothing is held). shown_as: the side whose
        sites the hand fills when that is not its own ("left"/"right": a second hand of one side, shown where
        no hand of the other side is); its shape and which way it faces stay its own side's."""
        pose = fingers.hand_pose(hand, intr) if hand is not None else None
        shown, opacity, reset = self._hold.update(pose, float(t_ms))
        if reset:
            self._poses.clear()
            self._sizes.clear()
        if shown is None:
            self._last = None
            return None
        if pose is not None and hand is not None:
            anchors, caps, sizes = hand_anchors(hand, pose, gray, intr, elbow_px,
                                                 lambda key, size: self._smooth_size(key, size, t_ms))
            if shown_as is not None and shown_as != hand.side:
                anchors = [dataclasses.replace(a, site=shown_as + a.site.removeprefix(hand.side)) for a in anchors]
                sizes = dataclasses.replace(sizes, side=shown_as)
            smoothed = []
            for a in anchors:
                m = self._poses.setdefault(a.site, RigidFilter(HAND_ROTATION_FILTER, HAND_FILTER))(
                    a.cam_T_anchor, float(t_ms))
                smoothed.append(dataclasses.replace(a, cam_T_anchor=m, xy_px=intr.project(m[:3, 3][None])[0]))
            self._last = (smoothed, caps, sizes)
        if self._last is None:
            return None
        anchors, caps, sizes = self._last
        return [dataclasses.replace(a, visible=opacity) for a in anchors], caps, sizes

    def _smooth_size(self, key: str, size: Size, t_ms: float) -> Size:
        f = self._sizes.setdefault(key, OneEuroFilter(SIZE_FILTER))
        v = f(np.array([size.value_mm, size.sigma_mm]), float(t_ms))
        return Size(round(float(v[0]), 2), round(float(v[1]), 2))
