"""The trackers one stream runs, each made on first use and run at its own rate.

`Trackers.run(rgb, t_ms, need) -> Tracking`: the face mesh (with the person mask, every `segment_every`-th
frame in video and held in between), the pose (every `pose_every`-th frame in video, its forearms kept for the
wrists), and the hands, as `need` asks ("face", "pose", "hands"). MediaPipe graphs keep tracking state, so one
`Trackers` per stream.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np

from tryon.tracking.face import FaceTracker, Mode
from tryon.tracking.hands import HandTracker
from tryon.tracking.pose import PoseTracker, arms
from tryon.tracking.segmentation import PersonSegmenter
from tryon.types import BodyLandmarks, FaceLandmarks, HandLandmarks


@dataclass(frozen=True)
class Tracking:
    """What the trackers found in one frame. `person`: the person mask (H, W) 0..1, held between its runs in
    video (None without a face); `body`: the pose, when it ran this frame (`posed`); `arms`: the last pose's
    forearms ((elbow, wrist) pixel pairs); `gray`: the frame in grey levels (H, W) uint8, when asked for."""

    face: FaceLandmarks | None = None
    person: np.ndarray | None = None
    person_new: bool = False
    body: BodyLandmarks | None = None
    posed: bool = False
    arms: tuple[tuple[np.ndarray, np.ndarray], ...] = ()
    hands: tuple[HandLandmarks, ...] = ()
    gray: np.ndarray | None = None


class Trackers:
    """mode: "image" (every frame on its own) or "video" (timestamps increase). mirrored: the frames are mirror
    images (hands' sides). steady_face: the face mesh reads a face-steadied copy in video (tryon.tracking.crop)."""

    def __init__(self, mode: Mode, mirrored: bool = False, steady_face: bool = True, segment_every: int = 3) -> None:
        self.mode, self.mirrored, self.steady_face = mode, mirrored, steady_face
        self.segment_every = max(1, segment_every)
        self._face: FaceTracker | None = None
        self._segmenter: PersonSegmenter | None = None
        self._hands: HandTracker | None = None
        self._pose: PoseTracker | None = None
        self.reset()

    def reset(self) -> None:
        """A new stream: no held mask, no forearms, the frame count from zero."""
        self._index = 0
        self._person: np.ndarray | None = None
        self._arms: tuple[tuple[np.ndarray, np.ndarray], ...] = ()

    def run(self, rgb: np.ndarray, t_ms: int, need: set[str], timings: dict[str, float], pose_every: int = 3,
            gray: bool = False) -> Tracking:
        """One frame: each tracker in `need`; `timings` gets each one's milliseconds; `gray` asks for grey levels
        (also made when hands are tracked: their widths are measured on them)."""
        video = self.mode == "video"
        face, person_new = None, False
        if "face" in need:
            if self._face is None:
                self._face = FaceTracker(self.mode, steady=None if self.steady_face else False)
                self._segmenter = PersonSegmenter()
            t0 = time.perf_counter()
            faces = self._face.process(rgb, t_ms)
            face = faces[0] if faces else None
            t1 = time.perf_counter()
            if face is not None and (not video or self._index % self.segment_every == 0 or self._person is None):
                assert self._segmenter is not None
                self._person, person_new = self._segmenter.process(rgb), True
            person = self._person
            if len(faces) > 1 and person is not None:
                face = max(faces, key=lambda f: f.area_px * on_person(f, person))
            timings.update(face_mesh=(t1 - t0) * 1e3, segmentation=(time.perf_counter() - t1) * 1e3)
        body: BodyLandmarks | None = None
        posed = "pose" in need and (not video or self._index % max(1, pose_every) == 0)
        if posed:
            t0 = time.perf_counter()
            if self._pose is None:
                self._pose = PoseTracker(self.mode)
            body = self._pose.process(rgb, t_ms)
            self._arms = tuple(arms(body))
            timings["pose"] = (time.perf_counter() - t0) * 1e3
        hands: tuple[HandLandmarks, ...] = ()
        if "hands" in need:
            if self._hands is None:
                # A photo may show more hands than one per side (the pipeline picks among them).
                self._hands = HandTracker(self.mode, max_hands=4 if self.mode == "image" else 2, mirrored=self.mirrored)
            t0 = time.perf_counter()
            hands = self._hands.process(rgb, t_ms)
            timings["hands"] = (time.perf_counter() - t0) * 1e3
        self._index += 1
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if gray or "hands" in need else None
        return Tracking(face, self._person if face is not None else None, person_new, body, posed, self._arms,
                        hands, grey)

    def close(self) -> None:
        for part in (self._face, self._segmenter, self._hands, self._pose):
            if part is not None:
                part.close()


def on_person(face: FaceLandmarks, person: np.ndarray) -> float:
    """How much of a face lies on the person mask (H, W) 0..1: the mean of the mask at its landmarks. A "face"
    the face mesh finds in a backdrop (a poster, a pattern on a wall) lies off the person."""
    h, w = person.shape[:2]
    xy = np.rint(face.points_px[:, :2]).astype(int)
    inside = (xy[:, 0] >= 0) & (xy[:, 0] < w) & (xy[:, 1] >= 0) & (xy[:, 1] < h)
    if not inside.any():
        return 0.0
    return float(person[xy[inside, 1], xy[inside, 0]].mean())
