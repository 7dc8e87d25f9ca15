"""`tryon bench`: per-stage and whole-pipeline timings on a real video at 640x480.

The tracker-only time (face mesh for earrings, MediaPipe hands for rings and wrist pieces, MediaPipe pose for
necklaces) is measured in the same run, on the same frames, with a tracker of its own, so the ratio "whole
pipeline / tracker alone" does not depend on how fast this machine is today. `run_suite` runs the earrings,
the ring and the pendant necklace case one after the other.

Several items are worn at once as a set (`tryon bench --item A --item B ...`, or `SET`: issue 24's hoops, a ring
on each hand, a cable chain layered with a pendant, a watch and a tennis bracelet); without --video a set
of pieces of more than one kind is timed on the clip that shows face, hands and upper body (`video_for`).
The stages: "tracking" is the trackers' wall time together (they run at once, tryon.tracking.trackers);
"face_mesh", "segmentation", "pose" and "hands" are each tracker's own, so with a set they overlap.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from tryon.config import REPO_ROOT
from tryon.jewelry.catalog import Catalog
from tryon.pipeline import Pipeline, PipelineOptions
from tryon.tracking.face import FaceTracker
from tryon.tracking.hands import HandTracker
from tryon.tracking.pose import PoseTracker
from tryon.types import Frame

MEDIA_VIDEO = REPO_ROOT.parent / "shared" / "media" / "video"
DEFAULT_VIDEO = MEDIA_VIDEO / "woman_hoop_earrings_head_motion.mp4"
DEFAULT_ITEM = "hoop-round-25mm-yellow-gold"
HAND_VIDEO = MEDIA_VIDEO / "hand_fingerspelling.mp4"
HAND_ITEM = "ring-solitaire-diamond-6.5mm-platinum"
NECK_VIDEO = MEDIA_VIDEO / "woman_upper_body_slight_motion.mp4"
NECK_ITEM = "pendant-solitaire-diamond-6.5mm-white-gold"
BOTH_VIDEO = MEDIA_VIDEO / "woman_hands_upper_body.mp4"  # hands and shoulders in view: a ring and a necklace
# What each case's pipeline is compared against: the bare MediaPipe tracker (the face mesh without the
# steadied copy the pipeline gives it, so that copy counts as the pipeline's own cost).
TRACKERS: dict[str, tuple[str, Callable[[], Any]]] = {"ears": ("face mesh", lambda: FaceTracker("video", steady=False)),
            "finger": ("hands", lambda: HandTracker("video")), "wrist": ("hands", lambda: HandTracker("video")),
            "neck": ("pose", lambda: PoseTracker("video"))}
# Issue 24's whole set: hoops, a ring on each hand, a cable chain layered with a pendant, a watch on one wrist and
# a tennis bracelet on the other.
SET = ("hoop-round-25mm-yellow-gold", "ring-solitaire-diamond-6.5mm-platinum@left_ring",
       "ring-band-4mm-yellow-gold@right_ring", "necklace-cable-2.5mm-yellow-gold",
       "pendant-solitaire-diamond-6.5mm-yellow-gold", "watch-round-39mm-stainless-steel@left_wrist",
       "bracelet-tennis-diamond-2.75mm-white-gold@right_wrist")
SIZE = (640, 480)
BLOCK = 50  # frames per turn when the pipeline and the bare tracker alternate


@dataclass(frozen=True)
class BenchResult:
    source: str
    frames: int
    item: str
    stages_ms: dict[str, dict[str, float]] = field(default_factory=dict)  # stage -> median/p90/mean
    pipeline_fps: float = 0.0
    tracker: str = "face mesh"
    tracker_only_ms: float = 0.0
    ratio_to_tracker: float = 0.0
    compositor: str = "plain"  # what the "composite" stage ran: "neural" (the camera's look) or "plain"


def video_for(catalog: Catalog, items: Sequence[str]) -> Path:
    """The shared clip that shows what these items are worn on: the earrings' clip for earrings, the hand's for
    rings, the upper body's for necklaces, and the one with face, hands and upper body for wrist pieces and
    for sets of more than one kind."""
    sites = {catalog.get(spec.partition("@")[0]).site for spec in items}
    if len(sites) == 1:
        return {"ears": DEFAULT_VIDEO, "finger": HAND_VIDEO, "neck": NECK_VIDEO}.get(sites.pop(), BOTH_VIDEO)
    return BOTH_VIDEO


def load_frames(video: Path | None, n: int) -> tuple[list[np.ndarray], str]:
    """Up to n RGB frames at 640x480 (letterboxed to keep the aspect), from the video or, without one,
    a clip made by moving skimage's astronaut photo (ships with scikit-image)."""
    frames: list[np.ndarray] = []
    if video is not None and video.exists():
        cap = cv2.VideoCapture(str(video))
        while len(frames) < n:
            ok, bgr = cap.read()
            if not ok:
                break
            frames.append(letterbox(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
        cap.release()
        if frames:
            while len(frames) < n:  # loop short clips back and forth
                frames.extend(frames[-2::-1][: n - len(frames)])
            return frames, str(video)
    from skimage import data

    base = letterbox(data.astronaut())
    for i in range(n):
        m: np.ndarray = cv2.getRotationMatrix2D((320, 240), 4 * np.sin(i / 15), 1.0 + 0.03 * np.sin(i / 23))
        m[:, 2] += (6 * np.sin(i / 11), 4 * np.cos(i / 13))
        frames.append(cv2.warpAffine(base, m, SIZE, borderMode=cv2.BORDER_REFLECT))
    return frames, "skimage astronaut, synthetic motion"


def letterbox(rgb: np.ndarray) -> np.ndarray:
    """(480, 640, 3) uint8: the picture scaled to fit 640x480, keeping its aspect, centred on black."""
    h, w = rgb.shape[:2]
    s = min(SIZE[0] / w, SIZE[1] / h)
    small = cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    out = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    y0, x0 = (SIZE[1] - small.shape[0]) // 2, (SIZE[0] - small.shape[1]) // 2
    out[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
    return out


def _summary(values: Sequence[float]) -> dict[str, float]:
    v = sorted(values)
    return {
        "median": round(statistics.median(v), 3),
        "p90": round(v[min(len(v) - 1, int(0.9 * len(v)))], 3),
        "mean": round(statistics.fmean(v), 3),
    }


def run_bench(video: Path | None = DEFAULT_VIDEO, frames: int = 300, item: str | Sequence[str] = DEFAULT_ITEM,
              warmup: int = 15) -> BenchResult:
    """item: one item spec, or several worn together (the tracker compared against is the first one's)."""
    items = [item] if isinstance(item, str) else list(item)
    clip, source = load_frames(video, frames + warmup)
    catalog = Catalog.load()
    tracker_name, tracker_type = TRACKERS[catalog.get(items[0].partition("@")[0]).site]
    per_stage: dict[str, list[float]] = {}
    alone: list[float] = []
    # The pipeline and the bare tracker take turns over the clip, BLOCK frames each, so that both are
    # measured under the same load: this shared machine's speed drifts by 10-20 % over minutes.
    with Pipeline(catalog, items, PipelineOptions(mode="video")) as pipe, tracker_type() as tracker:
        for start in range(0, len(clip), BLOCK):
            for i in range(start, min(start + BLOCK, len(clip))):
                t0 = time.perf_counter()
                result = pipe.process(Frame(clip[i], i * 33))
                total = (time.perf_counter() - t0) * 1e3
                if i >= warmup:
                    for k, v in result.timings_ms.items():
                        per_stage.setdefault(k, []).append(v)
                    per_stage.setdefault("total", []).append(total)
            for i in range(start, min(start + BLOCK, len(clip))):
                t0 = time.perf_counter()
                tracker.process(clip[i], i * 33)
                if i >= warmup:
                    alone.append((time.perf_counter() - t0) * 1e3)
        compositor = "neural" if pipe.compositor is not None and pipe.compositor.active else "plain"
    stages = {k: _summary(v) for k, v in per_stage.items()}
    alone_med = statistics.median(alone)
    return BenchResult(
        source=source, frames=len(clip) - warmup, item=" + ".join(items), stages_ms=stages,
        pipeline_fps=round(1000.0 / stages["total"]["mean"], 2),
        tracker=tracker_name,
        tracker_only_ms=round(alone_med, 3),
        ratio_to_tracker=round(stages["total"]["median"] / alone_med, 2),
        compositor=compositor,
    )


def run_suite(frames: int = 300) -> list[BenchResult]:
    """The earrings, the ring, the pendant necklace, and a ring (on the left ring finger) with a necklace
    (the render budget's two cases: a pair of earrings, a ring plus a necklace), each on its shared video."""
    return [run_bench(DEFAULT_VIDEO, frames, DEFAULT_ITEM), run_bench(HAND_VIDEO, frames, HAND_ITEM),
            run_bench(NECK_VIDEO, frames, NECK_ITEM), run_bench(BOTH_VIDEO, frames, (f"{HAND_ITEM}@left_ring", NECK_ITEM))]


def format_result(r: BenchResult) -> str:
    lines = [f"source: {r.source} ({r.frames} frames at 640x480), item: {r.item}, compositor: {r.compositor}",
             f"{'stage':<14}{'median ms':>10}{'p90 ms':>10}{'mean ms':>10}"]
    for k, v in r.stages_ms.items():
        lines.append(f"{k:<14}{v['median']:>10.2f}{v['p90']:>10.2f}{v['mean']:>10.2f}")
    lines.append(f"whole pipeline: {r.pipeline_fps:.1f} frames/s; {r.tracker} alone: {r.tracker_only_ms:.2f} ms "
                 f"median; pipeline / {r.tracker} = {r.ratio_to_tracker:.2f}")
    return "\n".join(lines)
