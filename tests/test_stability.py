"""Stability with ground truth (DESIGN.md): the astronaut photo moved by known similarity transforms plus
sensor noise; anchors mapped back through the inverse transform should not move."""

import numpy as np

from tryon.jewelry.catalog import Catalog
from tryon.pipeline import Pipeline, PipelineOptions
from tryon.quality import stability
from tryon.tracking.face import FaceTracker


def test_ear_anchors_are_stable_with_little_lag(astronaut):
    with Pipeline(Catalog.load(), [], PipelineOptions(mode="video", render=False, track=frozenset({"face"}))) as pipe, \
            FaceTracker("video") as raw:
        def track(frame, ts):
            out = {a.site: a.xy_px for a in pipe.track(frame, ts).anchors}
            faces = raw.process(frame, ts)
            out["raw_landmark_361"] = faces[0].points_px[361, :2] if faces else np.full(2, np.nan)
            return out

        res = stability.run(astronaut, track, n=200)
    for site in ("left_ear", "right_ear"):
        r = res[site]
        assert r.frames == 200
        # Measured 0.50 and 0.53 px; single raw landmarks give 0.40-0.46 px on this clip.
        assert r.spread_px <= 0.6, res
        assert r.lag_frames <= 1.0, res
    assert res["raw_landmark_361"].lag_frames == 0.0


def test_measure_detects_lag_and_spread():
    """The measure itself: a track that is the truth delayed by two frames reads as lag 2."""
    warps = [stability.warp_matrix(i, (512, 512), stability.Motion()) for i in range(120)]
    p = np.array([200.0, 300.0])
    truth = np.array([m[:, :2] @ p + m[:, 2] for m in warps])
    delayed = np.vstack([truth[:2], truth[:-2]])
    assert stability.measure(truth, warps).spread_px < 1e-9
    assert stability.measure(delayed, warps).lag_frames == 2.0


def test_ring_anchors_are_stable_with_little_lag():
    """A real hand photo moved by known similarity transforms: the ring seat (and the wrist) stay put."""
    from conftest import load_rgb

    from tryon.tracking.hands import HandTracker

    photo = load_rgb("hands/back_of_hand_ring.jpg")
    with Pipeline(Catalog.load(), [], PipelineOptions(mode="video", render=False, track=frozenset({"hands"}))) as pipe, \
            HandTracker("video") as raw:
        def track(frame, ts):
            out = {a.site: a.xy_px for a in pipe.track(frame, ts).anchors}
            hands = raw.process(frame, ts)
            out["raw_landmark_13"] = hands[0].points_px[13, :2] if hands else np.full(2, np.nan)
            return out

        res = stability.run(photo, track, n=150)
    for site in ("left_ring", "left_index", "left_wrist"):
        r = res[site]
        assert r.frames == 150
        # Measured 0.50 (ring), 0.61 (index), 0.65 px (wrist); target 1.0 px.
        assert r.spread_px <= 1.0, res
        assert r.lag_frames <= 1.0, res
