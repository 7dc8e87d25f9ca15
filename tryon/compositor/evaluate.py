"""`tryon compositor eval`: error in the jewelry region on held-out photos, for each way of compositing.

Methods, all quantised to 8 bits as the product writes them, against the camera's target:
- plain: alpha compositing of the layer as rendered (the fallback);
- reinhard: classical colour-statistics transfer (Reinhard et al. 2001): the layer's colours moved in Lab
  toward the mean and spread of the background crop round it (half way: a full transfer would paint gold
  in the skin's colours);
- gray world: classical auto white balance and exposure: the camera's per-channel gains estimated as the
  frame's mean linear colour over the mean of the training photos (GRAY_WORLD_REF), applied to the layer;
- network: the neural compositor as it runs live (noise included).
The region is each piece's alpha > 0.02 grown by 4 px (tryon.compositor.look.region_mask). MSE is over
all region pixels and channels of the set, in 0..1 units; PSNR = 10 log10(1 / MSE).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from tryon.compositor.camera import srgb_to_linear
from tryon.compositor.data import Examples
from tryon.compositor.look import composite_look_np
from tryon.compositor.neural import Compositor
from tryon.errors import InputError

# Mean linear RGB of the training photos' thumbnails (no camera applied), measured with
# `python -m tryon.compositor.evaluate --gray-reference`: what "grey" is for the gray-world baseline.
GRAY_WORLD_REF = np.array([0.343, 0.329, 0.341], np.float32)
REINHARD_STRENGTH = 0.5
METHODS = ("plain", "reinhard", "gray world", "network")


@dataclass(frozen=True)
class Score:
    method: str
    mse: float
    psnr_db: float

    def to_json(self) -> dict[str, object]:
        return {"method": self.method, "mse": round(self.mse, 6), "psnr_db": round(self.psnr_db, 2)}


def _plain(frame: np.ndarray, layer: np.ndarray) -> np.ndarray:
    return layer[..., :3] + frame * (1.0 - layer[..., 3:4])


def _straight(layer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = layer[..., 3:4]
    return np.clip(layer[..., :3] / np.maximum(a, 1 / 255), 0, 1).astype(np.float32), a


def reinhard(frame: np.ndarray, layer: np.ndarray, strength: float = REINHARD_STRENGTH) -> np.ndarray:
    """frame (h, w, 3) float32 0..1, layer (h, w, 4) premultiplied -> composite (h, w, 3): the layer's Lab
    mean and spread (alpha-weighted) moved toward the background crop's by `strength`."""
    rgb, a = _straight(layer)
    w = a[..., 0]
    if w.sum() <= 0:
        return _plain(frame, layer)
    lab_fg = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).reshape(-1, 3)
    lab_bg = cv2.cvtColor(frame.astype(np.float32), cv2.COLOR_RGB2LAB).reshape(-1, 3)
    wf = w.reshape(-1, 1) / w.sum()
    mu_f = (lab_fg * wf).sum(0)
    sd_f = np.sqrt(((lab_fg - mu_f) ** 2 * wf).sum(0)) + 1e-3
    mu_b, sd_b = lab_bg.mean(0), lab_bg.std(0) + 1e-3
    mu = mu_f + strength * (mu_b - mu_f)
    sd = sd_f * (sd_b / sd_f) ** strength
    moved = ((lab_fg - mu_f) / sd_f * sd + mu).reshape(rgb.shape).astype(np.float32)
    out = np.clip(cv2.cvtColor(moved, cv2.COLOR_LAB2RGB), 0, 1)
    return out * a + frame * (1.0 - a)


def gray_world(frame: np.ndarray, layer: np.ndarray, thumb: np.ndarray) -> np.ndarray:
    """The layer's linear colour times the gains gray world reads off the frame's thumbnail (each clipped
    to a quarter..four times)."""
    rgb, a = _straight(layer)
    mean = srgb_to_linear(thumb.astype(np.float32) / 255.0).reshape(-1, 3).mean(0)
    gains = np.clip(mean / GRAY_WORLD_REF, 0.25, 4.0).astype(np.float32)
    lin = srgb_to_linear(rgb) * gains
    from tryon.compositor.camera import linear_to_srgb

    return linear_to_srgb(lin) * a + frame * (1.0 - a)


def _quantise(x: np.ndarray) -> np.ndarray:
    return np.clip(x * 255.0 + 0.5, 0, 255).astype(np.uint8)


def evaluate(ex: Examples, compositor: Compositor | None,
             progress: Callable[[int, int], None] | None = None) -> list[Score]:
    """Scores on these examples: plain, reinhard, gray world and (with an active compositor) network."""
    if len(ex) == 0:
        raise InputError("no examples to evaluate on")
    net = compositor is not None and compositor.active
    looks = []
    if net:
        assert compositor is not None
        for s in range(0, len(ex), 256):
            looks += compositor.looks(ex.thumb[s : s + 256], ex.frame[s : s + 256])  # the crop: its patch
    regions = ex.region()
    sse = {m: 0.0 for m in METHODS}
    count = 0
    for i in range(len(ex)):
        frame = ex.frame[i].astype(np.float32) / 255.0
        layer = ex.layer[i].astype(np.float32) / 255.0
        target = ex.target[i].astype(np.float32) / 255.0
        region = regions[i] > 0
        outs = {"plain": _plain(frame, layer), "reinhard": reinhard(frame, layer),
                "gray world": gray_world(frame, layer, ex.thumb[i])}
        if net:
            assert compositor is not None
            h, w = frame.shape[:2]
            outs["network"] = composite_look_np(frame, layer, looks[i], compositor.noise_at(0, 0, w, h, i))
        for m, out in outs.items():
            err = _quantise(out).astype(np.float32) / 255.0 - target
            sse[m] += float((err[region] ** 2).sum())
        count += int(region.sum()) * 3
        if progress is not None and (i + 1) % 100 == 0:
            progress(i + 1, len(ex))
    scores = []
    for m in METHODS:
        if m == "network" and not net:
            continue
        mse = sse[m] / max(count, 1)
        scores.append(Score(m, mse, 10.0 * math.log10(1.0 / mse) if mse > 0 else float("inf")))
    return scores


def format_scores(scores: list[Score], n_examples: int, n_photos: int) -> str:
    plain = next(s for s in scores if s.method == "plain").mse
    lines = [f"held-out: {n_examples} examples on {n_photos} photos; error in the jewelry region",
             f"{'method':<12}{'MSE':>10}{'PSNR dB':>10}{'vs plain':>10}"]
    for s in scores:
        lines.append(f"{s.method:<12}{s.mse:>10.5f}{s.psnr_db:>10.2f}{(s.mse / plain - 1) * 100:>+9.1f}%")
    return "\n".join(lines)


def gray_reference(photos: list, n_frames: int = 400, seed: int = 0) -> np.ndarray:
    """Mean linear RGB of camera-sized frames of these photos (no camera), as GRAY_WORLD_REF."""
    from tryon.compositor.data import camera_frame
    from tryon.compositor.look import thumbnail

    rng = np.random.default_rng(seed)
    loaded = [p.load() for p in photos]
    means = [srgb_to_linear(thumbnail(camera_frame(loaded[int(rng.integers(len(loaded)))], rng)) / 255.0)
             .reshape(-1, 3).mean(0) for _ in range(n_frames)]
    return np.mean(means, axis=0)


def load_examples(path: Path) -> Examples:
    return Examples.load(path)


if __name__ == "__main__":  # pragma: no cover - a maintenance tool
    import sys

    if "--gray-reference" in sys.argv:
        from tryon.compositor.data import photos, split

        print(np.round(gray_reference(split(photos())[0]), 3).tolist())
