"""All of one hand's anchors in one frame: a ring seat on every finger, the wrist, their occluders and the
measured sizes (tryon.anchors.fingers and tryon.anchors.wrist together)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tryon.anchors import fingers, wrist
from tryon.types import AnchorPose, Capsule, HandLandmarks, HandSizes, Intrinsics, Size


def hand_anchors(hand: HandLandmarks, pose: fingers.HandPose, gray: np.ndarray, intr: Intrinsics,
                  elbow_px: np.ndarray | None = None, smooth: Callable[[str, Size], Size] = lambda key, size: size
                  ) -> tuple[list[AnchorPose], list[Capsule], HandSizes]:
    """One frame's ring anchors on every finger, the wrist anchor, their occluders and the sizes; `smooth`
    (key, measured size) -> size filters each measurement once, before anchors, fits and occluders use it."""
    sizes = {f: smooth(f, fingers.finger_size(gray, hand, pose, f, intr)) for f in fingers.FINGERS}
    anchors = [fingers.ring_anchor(pose, f, sizes[f], intr) for f in fingers.FINGERS]
    axis = wrist.forearm_axis(pose, elbow_px, hand, intr)
    frame = wrist.wrist_frame(pose, axis, intr)
    width, circumference = wrist.wrist_size(gray, hand, frame, intr, pose.scale_sigma)
    width, circumference = smooth("wrist_width", width), smooth("wrist_circumference", circumference)
    anchors.append(wrist.wrist_anchor(pose, frame, width, intr))
    # The forearm last: the hand cover (tryon.pipeline) leaves it out where no elbow gives its direction.
    caps = fingers.hand_occluders(pose, sizes) + [wrist.forearm_occluder(frame, axis, width)]
    return anchors, caps, HandSizes(pose.side, sizes, circumference)
