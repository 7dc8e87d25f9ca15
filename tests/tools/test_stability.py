"""Stability with ground truth (DESIGN.md): the astronaut photo moved by known similarity transforms plus
sensor noise; anchors mapped back through the inverse transform should not move."""

import numpy as np

from tryon.jewelry.catalog import Catalog
from tryon.pipeline import Pipeline, PipelineOptions
from tryon.tools import stability
from tryon.tracking.face import FaceTracker
from tryon.types import Frame


def _track_beside_raw(photo, tracked: str, raw_tracker, landmark: int, n: int) -> dict:
    """The stability of the pipeline's anchors (tracking `tracked`) and, as "raw_landmark_N", of the bare
    tracker's landmark N on the same clip."""
    with Pipeline(Catalog.load(), [], PipelineOptions(mode="video", render=False, track=frozenset({tracked}))) as pipe, \
            raw_tracker as raw:
        def track(frame, ts):
            out = {a.site: a.xy_px for a in pipe.track(Frame(frame, ts)).anchors}
            found = raw.process(frame, ts)
            out[f"raw_landmark_{landmark}"] = found[0].points_px[landmark, :2] if found else np.full(2, np.nan)
            return out

        return stability.run(photo, track, n=n)


def test_ear_anchors_are_stable_with_little_lag(astronaut):
    res = _track_beside_raw(astronaut, "face", FaceTracker("video"), 361, 200)
    for site in ("left_ear", "right_ear"):
        r = res[site]
        assert r.frames == 200
        # The target: at most 0.5 px. Measured 0.34 and 0.42 px (0.52 and 0.50 before the face
        # mesh read a face-steadied copy); the bare face mesh's landmark 361 gives 0.47 px on this clip.
        assert r.spread_px <= 0.5, res
        assert r.lag_frames <= 1.0, res
    assert res["raw_landmark_361"].lag_frames == 0.0


def test_ear_anchors_hold_still_on_a_still_face(astronaut):
    """No motion, only sensor noise: the earrings must not shimmer. Measured 0.08 and 0.11 px (the bare
    face mesh under the same filters: 0.10 and 0.16 px)."""
    res = stability.ear_stability(astronaut, 120, stability.Motion(roll_deg=0.0, scale=0.0, shift_px=0.0))
    for site in ("left_ear", "right_ear"):
        assert res[site].frames == 120 and res[site].spread_px <= 0.2, res


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

    res = _track_beside_raw(load_rgb("hands/back_of_hand_ring.jpg"), "hands", HandTracker("video"), 13, 150)
    for site in ("left_ring", "left_index", "left_wrist"):
        r = res[site]
        assert r.frames == 150
        # Measured 0.50 (ring), 0.61 (index), 0.65 px (wrist); target 1.0 px.
        assert r.spread_px <= 1.0, res
        assert r.lag_frames <= 1.0, res
