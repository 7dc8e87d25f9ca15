"""The trackers one stream runs, each made on first use and run at its own rate.

`Trackers.run(rgb, t_ms, need) -> Tracking`: the face mesh (with the person mask, every `segment_every`-th
frame in video and held in between), the pose (every `pose_every`-th frame in video, its forearms kept for the
wrists), and the hands, as `need` asks ("face", "pose", "hands"). MediaPipe graphs keep tracking state, so one
`Trackers` per stream.

The trackers of one frame run at once: each reads the same frame and none reads another's result, and
MediaPipe releases the GIL while its graph runs, so on two cores the face mesh and the pose run beside the
hands (themselves one graph per hand, in threads: tryon.tracking.hands). For issue 24's whole set (earrings,
rings, necklaces, wrist pieces) the face mesh, the pose (every third frame) and the hands took 29-31 ms a frame
one after the other and take 23 ms at once (docs/BENCHMARKS.md); with no core free (other work running) the
two ways cost the same. The person mask, when due, also starts beside the face mesh (earrings alone too).
Each tracker's results are the same either way (tests/tracking/test_trackers.py).
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from tryon.tracking.face import FaceTracker, Mode
from tryon.tracking.hands import HandTracker
from tryon.tracking.pose import PoseTracker, arms
from tryon.tracking.segmentation import PersonSegmenter
from tryon.types import BodyLandmarks, FaceLandmarks, HandLandmarks

# Video: the trackers run one after the other on a stream's first frames, while their graphs still chatter on
# stderr (tryon.tracking.quiet keeps that from the user, one graph at a time), then at once; photos, one after
# the other.
AT_ONCE_FROM = 2


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
        self._pool: ThreadPoolExecutor | None = None  # made when a frame first needs two trackers
        self.reset()

    def reset(self) -> None:
        """A new stream: no held mask, no forearms, the frame count from zero."""
        self._index = 0
        self._person: np.ndarray | None = None
        self._arms: tuple[tuple[np.ndarray, np.ndarray], ...] = ()
        self._face_seen = False  # the last frame had a face: a due mask may start beside the face mesh

    def run(self, rgb: np.ndarray, t_ms: int, need: set[str], timings: dict[str, float], pose_every: int = 3,
            gray: bool = False) -> Tracking:
        """One frame: each tracker in `need`, at once (see the module's docstring); `timings` gets each one's
        milliseconds and "tracking" the whole stage's; `gray` asks for grey levels (also made when hands are
        tracked: their widths are measured on them)."""
        t_start = time.perf_counter()
        video = self.mode == "video"
        posed = "pose" in need and (not video or self._index % max(1, pose_every) == 0)
        # The person mask is due: it starts beside the face mesh when the last frame had a face, and is dropped if
        # this one has none (the segmenter keeps no state from frame to frame); with no face in sight it is made
        # only once one is found, so a faceless stream (a kiosk waiting) does not pay for it on every frame.
        masked = "face" in need and (not video or self._index % self.segment_every == 0 or self._person is None)
        side_jobs = ("face" in need) + posed  # what runs beside the hands (or beside each other)
        at_once = video and self._index >= AT_ONCE_FROM
        parallel = at_once and side_jobs + ("hands" in need) > 1
        masked_beside = at_once and masked and self._face_seen
        if (parallel or masked_beside) and self._pool is None:
            self._pool = ThreadPoolExecutor(3, "trackers")
        face_job: Future[tuple[FaceLandmarks | None, bool, float, float]] | None = None
        pose_job: Future[tuple[BodyLandmarks | None, float]] | None = None
        mask_job: Future[tuple[np.ndarray, float]] | None = None
        if "face" in need:
            if self._face is None:
                self._face = FaceTracker(self.mode, steady=None if self.steady_face else False)
                self._segmenter = PersonSegmenter()
            if masked_beside:
                assert self._pool is not None
                mask_job = self._pool.submit(self._run_mask, rgb)
            if parallel:
                assert self._pool is not None
                face_job = self._pool.submit(self._run_face, rgb, t_ms, mask_job, masked)
        if posed:
            if self._pose is None:
                self._pose = PoseTracker(self.mode)
            if parallel:
                assert self._pool is not None
                pose_job = self._pool.submit(self._run_pose, rgb, t_ms)
        hands: tuple[HandLandmarks, ...] = ()
        if "hands" in need:
            if self._hands is None:
                # A photo may show more hands than one per side (the pipeline picks among them).
                self._hands = HandTracker(self.mode, max_hands=4 if self.mode == "image" else 2, mirrored=self.mirrored)
            t0 = time.perf_counter()
            try:
                hands = self._hands.process(rgb, t_ms)
            except BaseException:
                # Let the face mesh and the pose finish this frame before anything asks them for the next one.
                side: list[Future[Any]] = [job for job in (face_job, pose_job, mask_job) if job is not None]
                wait(side)
                raise
            timings["hands"] = (time.perf_counter() - t0) * 1e3
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if gray or "hands" in need else None
        face, person_new = None, False
        if "face" in need:
            face, person_new, face_ms, seg_ms = (face_job.result() if face_job is not None
                                                 else self._run_face(rgb, t_ms, mask_job, masked))
            timings.update(face_mesh=face_ms, segmentation=seg_ms)
            self._face_seen = face is not None
        body: BodyLandmarks | None = None
        if posed:
            body, pose_ms = pose_job.result() if pose_job is not None else self._run_pose(rgb, t_ms)
            self._arms = tuple(arms(body))
            timings["pose"] = pose_ms
        self._index += 1
        timings["tracking"] = (time.perf_counter() - t_start) * 1e3
        return Tracking(face, self._person if face is not None else None, person_new, body, posed, self._arms,
                        hands, grey)

    def _run_face(self, rgb: np.ndarray, t_ms: int, mask_job: Future[tuple[np.ndarray, float]] | None,
                  masked: bool) -> tuple[FaceLandmarks | None, bool, float, float]:
        """The face mesh and, when due (`masked`), the person mask, started beside it (`mask_job`) or made here
        after it for a face: (face, whether the mask is new, the face mesh's and the mask's milliseconds). Only
        this touches the face mesh and the held mask while a frame is tracked."""
        assert self._face is not None
        t0 = time.perf_counter()
        try:
            faces = self._face.process(rgb, t_ms)
        except BaseException:
            if mask_job is not None:
                wait([mask_job])
            raise
        face = faces[0] if faces else None
        face_ms = (time.perf_counter() - t0) * 1e3
        person_new, mask_ms = False, 0.0
        person: np.ndarray | None = None
        if mask_job is not None:
            person, mask_ms = mask_job.result()  # (waited for even without a face: the segmenter is then free)
        elif masked and face is not None:
            person, mask_ms = self._run_mask(rgb)
        if person is not None and face is not None:
            self._person, person_new = person, True
        person_now = self._person
        if len(faces) > 1 and person_now is not None:
            face = max(faces, key=lambda f: f.area_px * on_person(f, person_now))
        return face, person_new, face_ms, mask_ms

    def _run_mask(self, rgb: np.ndarray) -> tuple[np.ndarray, float]:
        assert self._segmenter is not None
        t0 = time.perf_counter()
        return self._segmenter.process(rgb), (time.perf_counter() - t0) * 1e3

    def _run_pose(self, rgb: np.ndarray, t_ms: int) -> tuple[BodyLandmarks | None, float]:
        assert self._pose is not None
        t0 = time.perf_counter()
        body = self._pose.process(rgb, t_ms)
        return body, (time.perf_counter() - t0) * 1e3

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
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
