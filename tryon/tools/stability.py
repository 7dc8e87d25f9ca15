"""Stability with ground truth: a real photo warped by a known similarity transform per frame (roll,
scale, shift) plus sensor noise makes a clip; each reported anchor is mapped back through the inverse
transform, where a perfect tracker gives a constant point.

spread_px : RMS distance of the mapped-back points from their mean (both axes together), in pixels of
the photo. lag_frames : the delay that best aligns the reported track with the true one.

`python -m tryon.tools.stability [PHOTO ...] [--frames N] [--still] [--bare]` prints the ear anchors'
spread and lag on such clips (default: skimage's astronaut; photos are shrunk to 640 px), through the
pipeline's tracking and filters; --still: sensor noise only, no motion; --bare: the face mesh without its
steadied copy (tryon.tracking.crop), for comparison.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np


@dataclass(frozen=True)
class Motion:
    roll_deg: float = 4.0
    scale: float = 0.06
    shift_px: float = 10.0
    noise_sd: float = 2.0  # sensor noise, grey levels
    fps: float = 30.0


def warp_matrix(i: int, size: tuple[int, int], motion: Motion) -> np.ndarray:
    """(2, 3) similarity transform of frame i: smooth, incommensurate sinusoids."""
    w, h = size
    roll = motion.roll_deg * np.sin(2 * np.pi * i / 70)
    scale = 1.0 + motion.scale * np.sin(2 * np.pi * i / 97)
    m: np.ndarray = cv2.getRotationMatrix2D((w / 2, h / 2), roll, scale)
    m[:, 2] += (motion.shift_px * np.sin(2 * np.pi * i / 53), 0.6 * motion.shift_px * np.cos(2 * np.pi * i / 61))
    return m


def synthetic_clip(photo: np.ndarray, n: int, motion: Motion = Motion(), seed: int = 0
                   ) -> Iterator[tuple[np.ndarray, int, np.ndarray]]:
    """Yields (frame RGB uint8, timestamp_ms, (2, 3) warp)."""
    rng = np.random.default_rng(seed)
    h, w = photo.shape[:2]
    for i in range(n):
        m = warp_matrix(i, (w, h), motion)
        frame = cv2.warpAffine(photo, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        noisy = frame.astype(np.float32) + rng.normal(0.0, motion.noise_sd, frame.shape)
        yield np.clip(noisy + 0.5, 0, 255).astype(np.uint8), int(round(i * 1000 / motion.fps)), m


def unwarp(xy: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Map a point of a warped frame back into the photo."""
    inv = cv2.invertAffineTransform(m)
    return inv[:, :2] @ xy + inv[:, 2]


@dataclass(frozen=True)
class StabilityResult:
    spread_px: float
    lag_frames: float
    frames: int


def measure(tracks: np.ndarray, warps: list[np.ndarray]) -> StabilityResult:
    """tracks : (n, 2) reported image points per frame (NaN where missing); warps : n (2, 3) matrices."""
    ok = ~np.isnan(tracks).any(axis=1)
    back = np.array([unwarp(p, m) for p, m, k in zip(tracks, warps, ok, strict=True) if k])
    spread = float(np.sqrt(np.mean(np.sum((back - back.mean(axis=0)) ** 2, axis=1))))
    # Lag: the true track is the mean point carried forward by each frame's warp.
    centre = back.mean(axis=0)
    truth = np.array([m[:, :2] @ centre + m[:, 2] for m in warps])
    idx = np.flatnonzero(ok)
    best, best_err = 0.0, np.inf
    for d in np.arange(0.0, 4.01, 0.05):
        t = idx - d
        valid = t >= 0
        shifted = np.stack([np.interp(t[valid], np.arange(len(truth)), truth[:, k]) for k in range(2)], axis=1)
        err = float(np.mean(np.sum((tracks[idx[valid]] - shifted) ** 2, axis=1)))
        if err < best_err:
            best, best_err = float(d), err
    return StabilityResult(spread, best, int(ok.sum()))


def run(photo: np.ndarray, track: Callable[[np.ndarray, int], dict[str, np.ndarray]], n: int = 240,
        motion: Motion = Motion(), warmup: int = 10) -> dict[str, StabilityResult]:
    """track(frame, timestamp_ms) -> {name: (2,) xy or NaNs}; returns a result per name."""
    tracks: dict[str, list[np.ndarray]] = {}
    warps = []
    for i, (frame, ts, m) in enumerate(synthetic_clip(photo, n + warmup, motion)):
        points = track(frame, ts)
        if i < warmup:
            continue
        warps.append(m)
        for k, v in points.items():
            tracks.setdefault(k, []).append(np.asarray(v, np.float64))
    return {k: measure(np.array(v), warps) for k, v in tracks.items()}


def ear_stability(photo: np.ndarray, n: int = 200, motion: Motion = Motion(), steady: bool = True
                  ) -> dict[str, StabilityResult]:
    """The ear anchors through the pipeline's face tracking and filters (no rendering) on a clip of photo."""
    from tryon.jewelry.catalog import Catalog
    from tryon.pipeline import Pipeline, PipelineOptions
    from tryon.types import Frame

    options = PipelineOptions(mode="video", render=False, track=frozenset({"face"}), steady_face=steady)
    with Pipeline(Catalog.load(), [], options) as pipe:
        return run(photo, lambda f, t: {a.site: a.xy_px for a in pipe.track(Frame(f, t)).anchors}, n=n,
                   motion=motion)


def _main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m tryon.tools.stability", description=__doc__.split("\n\n")[0])
    ap.add_argument("photos", nargs="*", type=Path)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--still", action="store_true", help="sensor noise only, no motion")
    ap.add_argument("--bare", action="store_true", help="the face mesh without its steadied copy")
    args = ap.parse_args(argv)
    motion = Motion(roll_deg=0.0, scale=0.0, shift_px=0.0) if args.still else Motion()
    if args.photos:
        photos = []
        for path in args.photos:
            bgr = cv2.imread(str(path))
            if bgr is None:
                print(f"cannot read {path}", file=sys.stderr)
                return 2
            s = min(1.0, 640 / max(bgr.shape[:2]))
            photos.append((path.name, cv2.cvtColor(cv2.resize(bgr, None, fx=s, fy=s, interpolation=cv2.INTER_AREA),
                                                   cv2.COLOR_BGR2RGB)))
    else:
        from skimage import data

        photos = [("astronaut", data.astronaut())]
    for name, photo in photos:
        res = ear_stability(photo, args.frames, motion, steady=not args.bare)
        cells = ", ".join(f"{k} {v.spread_px:.2f} px lag {v.lag_frames:.2f}" for k, v in res.items())
        print(f"{name}: {cells}")
    return 0


if __name__ == "__main__":
    from tryon.tracking.quiet import filter_stderr

    filter_stderr()  # MediaPipe's routine log lines kept from the user, as on `tryon` commands
    raise SystemExit(_main(sys.argv[1:]))
