"""The neck through time, for necklaces: the torso frame smoothed, carried by the head and the chest's flow,
held and faded when the shoulders leave, and a pendant's swing.

After `reset()` the first frame comes out as measured: a photo is a reset and one frame.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tryon.anchors import neck
from tryon.anchors.drape import drape_for, pendant_rest
from tryon.filters.hold import HoldAndFade
from tryon.filters.one_euro import OneEuroFilter, OneEuroParams, RigidFilter
from tryon.physics import Pendulum
from tryon.tracking.flow import FlowCarrier
from tryon.types import AnchorPose, BodyLandmarks, Capsule, FaceLandmarks, HeadPose, Intrinsics

# The torso (necklaces): MediaPipe pose already smooths its landmarks in video; this keeps the chain still
# when the body is, and follows at walking speeds.
TORSO_FILTER = OneEuroParams(min_cutoff_hz=1.0, beta=300.0)
TORSO_ROTATION_FILTER = OneEuroParams(min_cutoff_hz=0.3, beta=0.5)
SIZE_FILTER = OneEuroParams(min_cutoff_hz=0.2, beta=0.0)
# Where the head turns on the neck, in the head frame (metres before the person's scale): below and behind
# the face's sides in front of the ears, over the top of the spine.
NECK_PIVOT_HEAD_M = np.array([0.0, -0.035, -0.03])
NECK_OFFSET_FILTER = OneEuroParams(min_cutoff_hz=1.0, beta=0.0)
FLOW_CORRECTION = 0.02  # how far each pose run pulls the flow-carried notch toward the pose's own
NOTCH_HEIGHT_FILTER = OneEuroParams(min_cutoff_hz=0.03, beta=0.0)  # a body constant: learnt over seconds
NOMINAL_PENDANT_CHAIN_M = 0.45  # where the pendulum's pivot is taken to be: a princess chain's lowest point


class NeckFilter:
    """The torso through time, for necklaces.

    MediaPipe's shoulder points are noisy (5 to 10 px spread on a photo moved by known amounts), the face
    mesh is precise (about 0.5 px). So with a face in view the notch is carried by the point where the head
    turns on the neck (NECK_PIVOT_HEAD_M: turning or nodding the head hardly moves it, moving the body
    does), plus the notch's offset from that point, in camera metres, through a filter (the neck's length
    and posture change slowly; the offset's own turn with the camera's roll is followed within a second).
    The torso's rotation and the body's scale come from the shoulders through One Euro filters. Without a
    face: the shoulders alone.

    Where the chest below the neck has texture (clothes, a neckline, jewellery already worn), sparse optical
    flow follows it from frame to frame (tryon.tracking.flow): the notch's pixel and the shoulder line's roll
    move with the picture there, to a fraction of a pixel, and the pose pulls them back a little on each
    run (FLOW_CORRECTION) so they cannot drift; the depth stays the head's. Bare skin or a plain shirt
    gives no flow, and the scheme above carries on alone. Hold-and-fade when the shoulders leave; the
    pendant's swing on top.
    """

    def __init__(self) -> None:
        self._hold: HoldAndFade[tuple[np.ndarray, float]] = HoldAndFade(at_once=True)
        self._pendulum = Pendulum()
        self.reset()

    def reset(self) -> None:
        """A new stream: nothing held, every filter empty; the next frame comes out as measured."""
        self._hold.reset()
        self._restart()

    def _restart(self) -> None:
        self._pose = RigidFilter(TORSO_ROTATION_FILTER, TORSO_FILTER)
        self._scale_filter = OneEuroFilter(SIZE_FILTER)
        self._offset_filter = OneEuroFilter(NECK_OFFSET_FILTER)
        self._notch_filter = OneEuroFilter(NOTCH_HEIGHT_FILTER)
        self._pendulum.reset()
        self._torso: np.ndarray | None = None  # filtered cam_T_torso from the shoulders
        self._scale = 1.0
        self._offset: np.ndarray | None = None  # notch - neck pivot, camera metres, filtered
        self._opacity = 0.0
        self._flow = FlowCarrier(FLOW_CORRECTION)  # the notch's pixel and the shoulder line's image angle

    def update(self, body: BodyLandmarks | None, measured: bool, intr: Intrinsics, head: HeadPose | None,
               t_ms: float, face: FaceLandmarks | None = None, gray: np.ndarray | None = None
               ) -> tuple[AnchorPose, tuple[Capsule, ...]] | None:
        """measured: the pose ran this frame (else `body` is None and the last torso is carried on, by the
        head's neck pivot when the face is seen). head: this frame's smoothed head pose, if any; face: its
        landmarks. The notch's height is the mean of the shoulders' prior and the chin's cue; in video the
        chin's cue goes through a slow filter, so nodding does not move the necklace. gray: the frame in
        grey levels (float32 or uint8), for the flow (None: none, as for a photo)."""
        t = float(t_ms)
        notch_up = neck.NOTCH_UP
        cue = neck.notch_up_from_chin(body, face.points_px[152, :2], face.face_width_px) \
            if body is not None and face is not None else None
        if cue is not None:
            blend = np.array([0.5 * (neck.NOTCH_UP + cue)])
            notch_up = float(self._notch_filter(blend, t)[0])
        elif self._notch_filter.value is not None:
            notch_up = float(self._notch_filter.value[0])
        frame = neck.torso_frame(body, intr, head, notch_up) if body is not None else None
        if measured:
            shown, opacity, reset = self._hold.update(frame, t)
            if reset:
                self._restart()
            self._opacity = opacity
            if shown is None:
                self._torso = None
                return None
            if frame is not None:
                self._torso = self._pose(frame[0], t)
                self._scale = float(self._scale_filter(np.array([frame[1]]), t)[0])
                if head is not None:
                    self._offset = self._offset_filter(frame[0][:3, 3] - _neck_pivot(head), t)
        if self._torso is None:
            return None
        m = self._torso.copy()
        if head is not None and self._offset is not None:
            m[:3, 3] = _neck_pivot(head) + self._offset
        if gray is not None:
            m = self._follow_flow(m, frame[0] if measured and frame is not None else None, gray, intr)
        rest = m @ pendant_rest(drape_for(NOMINAL_PENDANT_CHAIN_M, 0.0, self._scale))
        swing = self._pendulum.swing(rest[:3, 3], rest[:3, :3], t)
        anchor = dataclasses.replace(neck.neck_anchor(m, self._scale, intr, self._opacity), swing_rad=swing)
        return anchor, neck.neck_occluders(m, self._scale)


    def _follow_flow(self, m: np.ndarray, measured: np.ndarray | None, gray: np.ndarray, intr: Intrinsics
                     ) -> np.ndarray:
        """m with its notch pixel and image roll taken from the flow where the chest's texture allows."""
        px = intr.project(m[:3, 3][None])[0]
        roll = _image_roll(m, intr)
        span = self._scale * neck.NOMINAL_SHOULDER_WIDTH_M * intr.fx / max(m[2, 3], 1e-3)
        box = (int(px[0] - 0.3 * span), int(px[1] + 0.03 * span), int(px[0] + 0.3 * span), int(px[1] + 0.4 * span))
        if measured is None:  # between pose runs: the flow alone
            carried = self._flow.step(gray, box, None)
        else:  # each pose run pulls the flow's answer a little toward the pose's
            carried = self._flow.step(gray, box, intr.project(measured[:3, 3][None])[0], _image_roll(measured, intr))
        if not carried or self._flow.px is None:
            self._flow.px, self._flow.angle = px, roll  # no texture to follow: the face and shoulders' answer
            return m
        out = m.copy()
        out[:3, 3] = _on_ray(self._flow.px, m[2, 3], intr)
        turn = self._flow.angle - roll
        c, s = np.cos(turn), np.sin(turn)
        out[:3, :3] = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]) @ m[:3, :3]
        return out


def _on_ray(px: np.ndarray, depth: float, intr: Intrinsics) -> np.ndarray:
    """The camera-frame point at this depth on the pixel's ray."""
    return np.array([(px[0] - intr.cx) / intr.fx, (px[1] - intr.cy) / intr.fy, 1.0]) * depth


def _image_roll(m: np.ndarray, intr: Intrinsics) -> float:
    """The angle of the frame's x axis (the shoulder line) in the image, radians."""
    a, b = intr.project(np.stack([m[:3, 3], m[:3, 3] + 0.1 * m[:3, 0]]))
    return float(np.arctan2(b[1] - a[1], b[0] - a[0]))


def _neck_pivot(head: HeadPose) -> np.ndarray:
    return head.to_camera(NECK_PIVOT_HEAD_M[None])[0]
