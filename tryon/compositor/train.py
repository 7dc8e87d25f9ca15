"""`tryon compositor train`: remake the compositor's weights from scratch on this CPU, seeded.

1. Examples (tryon.compositor.data): TrainConfig.n_train on the training photos, n_test on the held-out
   photos; cached under the data folder (keyed by everything they depend on: seed, counts, photos,
   shaders, renderer, catalog, the camera and data code), so a second run starts training at once.
2. Training: AdamW with a cosine schedule, fixed steps and seeds, two threads, deterministic algorithms
   (the same command gives the same weights). The pixel loss is the mean squared error in the jewelry
   region (alpha > 0.02 grown by 4 px) of the noise-free output; the noise level has no pixel loss to learn
   from (the camera's grain cannot be predicted pixel for pixel, and any grain raises the squared error),
   so it is learnt from the camera's known noise instead.
3. The weights kept are an exponential moving average of the trained ones, written atomically (a
   state_dict with a small `meta` dict).
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tryon.compositor import data
from tryon.errors import InputError, TryOnError

DEFAULT_STEPS = 2500  # held-out error is lowest near here; more steps only fit the training photos better


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 0
    n_train: int = 12_000
    n_test: int = 1_200
    steps: int = DEFAULT_STEPS
    batch: int = 64
    lr: float = 3e-3
    width: int = 24
    hidden: int = 64
    minutes: float = 30.0  # the whole run's budget: training stops early (and says so) to stay inside it
    noise_weight: float = 1e-3
    weight_decay: float = 0.0
    ema_decay: float = 0.995
    dropout: float = 0.0


@dataclass(frozen=True)
class TrainReport:
    weights: str
    steps: int
    stopped_early: bool
    data_s: float
    train_s: float
    total_s: float
    train_examples: int
    test_examples: int
    train_photos: int
    test_photos: int
    test_mse_plain: float
    test_mse_net: float
    weights_bytes: int


def cache_dir_for(data_dir: Path) -> Path:
    return Path(data_dir) / "compositor"


class _Jewelry:
    """The catalog's pieces and a renderer, made on first use (a run that finds all its examples cached
    renders nothing)."""

    def __init__(self) -> None:
        self._jewelry: data.Jewelry | None = None

    def __call__(self) -> data.Jewelry:
        if self._jewelry is None:
            self._jewelry = data.Jewelry()
        return self._jewelry

    def close(self) -> None:
        if self._jewelry is not None:
            self._jewelry.close()


def _examples(side: str, photos: list[data.Photo], n: int, seed: int, cache_dir: Path, jewelry: _Jewelry,
              say: Callable[[str], None]) -> data.Examples:
    path = cache_dir / f"{side}-{data.dataset_key(photos, seed, n)}.npz"
    if path.exists():
        try:
            ex = data.Examples.load(path)
            say(f"{side}: {len(ex)} examples from the cache ({path})")
            return ex
        except (OSError, ValueError, KeyError) as e:
            say(f"{side}: the cached examples are unreadable ({e}); making them again")
    t0 = time.perf_counter()
    ex = data.make_examples(photos, jewelry(), n, seed)
    ex.save(path)
    say(f"{side}: {n} examples on {len(photos)} photos in {time.perf_counter() - t0:.1f} s")
    return ex


def _split() -> tuple[list[data.Photo], list[data.Photo]]:
    train_photos, test_photos = data.split(data.photos())
    if not train_photos or not test_photos:
        raise InputError("need photos on both sides of the split")
    return train_photos, test_photos


def build_data(config: TrainConfig, cache_dir: Path, say: Callable[[str], None] = print
               ) -> tuple[data.Examples, data.Examples, list[data.Photo], list[data.Photo]]:
    """(train examples, test examples, train photos, test photos), from the cache when it has them."""
    train_photos, test_photos = _split()
    jewelry = _Jewelry()
    try:
        train_ex = _examples("train", train_photos, config.n_train, config.seed + 1, cache_dir, jewelry, say)
        test_ex = _examples("test", test_photos, config.n_test, config.seed + 2, cache_dir, jewelry, say)
    finally:
        jewelry.close()
    return train_ex, test_ex, train_photos, test_photos


def build_test_data(config: TrainConfig, cache_dir: Path, say: Callable[[str], None] = print
                    ) -> tuple[data.Examples, list[data.Photo]]:
    """The held-out examples training measures itself on (the same, from the cache, after a training run)."""
    test_photos = _split()[1]
    jewelry = _Jewelry()
    try:
        ex = _examples("test", test_photos, config.n_test, config.seed + 2, cache_dir, jewelry, say)
    finally:
        jewelry.close()
    return ex, test_photos


def _tensors(ex: data.Examples, idx: np.ndarray, flip: np.ndarray | None = None) -> dict[str, Any]:
    """A batch as float tensors (N, C, H, W) 0..1, the examples in `flip` mirrored left to right; "region":
    (N, 1, H, W) where errors count."""
    import torch

    def t(a: np.ndarray) -> torch.Tensor:
        batch = a[idx]
        if flip is not None:
            batch[flip] = batch[flip][:, :, ::-1]
        return torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 3, 1, 2).float().div_(255.0)

    out = {k: t(getattr(ex, k)) for k in ("frame", "layer", "target", "thumb")}
    out["patch"] = out["frame"]  # the crop round the piece is the network's native patch (PATCH_PX)
    out["camera"] = torch.from_numpy(ex.camera[idx])
    out["region"] = t(ex.region()[..., None])
    return out


def region_mse(model: object, ex: data.Examples, n: int | None = None, batch: int = 256) -> tuple[float, float]:
    """(plain, network) mean squared error in the jewelry region, noise-free network output (torch path)."""
    import torch

    from tryon.compositor.net import composite_look

    m = len(ex) if n is None else min(n, len(ex))
    se_plain = se_net = count = 0.0
    with torch.inference_mode():
        for s in range(0, m, batch):
            b = _tensors(ex, np.arange(s, min(m, s + batch)))
            region = b["region"]
            plain = b["layer"][:, :3] + b["frame"] * (1.0 - b["layer"][:, 3:4])
            out = composite_look(b["frame"], b["layer"], model.look(b["thumb"], b["patch"])).clamp(0, 1)  # type: ignore[attr-defined]
            se_plain += float((((plain - b["target"]) ** 2) * region).sum())
            se_net += float((((out - b["target"]) ** 2) * region).sum())
            count += float(region.sum()) * 3
    return se_plain / count, se_net / count


def train(config: TrainConfig, out_path: Path, cache_dir: Path, say: Callable[[str], None] = print,
          log_held_out: bool = False) -> TrainReport:
    """Make the data (or take it from the cache), train, write the weights to out_path."""
    # OpenMP threads that sleep when idle: spinning ones slow everything down many times over when another
    # process wants the same cores (read when torch loads).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    from tryon.compositor.net import CompositorNet, composite_look

    t_start = time.perf_counter()
    deadline = t_start + 60.0 * config.minutes
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)  # the same seed gives the same weights
    torch.manual_seed(config.seed)
    train_ex, test_ex, train_photos, test_photos = build_data(config, cache_dir, say)
    data_s = time.perf_counter() - t_start
    model = CompositorNet(config.width, config.hidden, config.dropout)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    warmup = max(1, config.steps // 25)

    def lr_at(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1.0 + math.cos(math.pi * (step - warmup) / max(1, config.steps - warmup)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    # The weights written are an exponential moving average of the trained ones (Polyak averaging): the
    # held-out error of single snapshots swings by several per cent from step to step; the average's less.
    average = copy.deepcopy(model)
    average.requires_grad_(False)
    rng = np.random.default_rng(config.seed + 3)
    t_train = time.perf_counter()
    # Leave room for the last evaluation and saving inside the budget.
    stop_at = deadline - 30.0
    running = 0.0
    step = 0
    stopped_early = False
    for step in range(config.steps):
        if time.perf_counter() > stop_at:
            stopped_early = True
            say(f"time budget reached: stopping at step {step} of {config.steps}")
            break
        idx = rng.integers(0, len(train_ex), config.batch)
        b = _tensors(train_ex, idx, rng.random(config.batch) < 0.5)
        look = model.look(b["thumb"], b["patch"])
        out = composite_look(b["frame"], b["layer"], look)
        region = b["region"]
        pixel = (((out - b["target"]) ** 2) * region).sum() / (region.sum() * 3 + 1.0)
        cam = b["camera"]
        noise = (((look.read - cam[:, 1]) / 0.01) ** 2 + ((look.shot - cam[:, 2]) / 0.002) ** 2).mean()
        loss = pixel + config.noise_weight * noise
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        with torch.no_grad():
            decay = min(config.ema_decay, step / (step + 10.0))
            for pa, p in zip(average.parameters(), model.parameters(), strict=True):
                pa.mul_(decay).add_(p.detach(), alpha=1.0 - decay)
        running = 0.98 * running + 0.02 * pixel.item() if step else pixel.item()
        if (step + 1) % 500 == 0:
            elapsed = time.perf_counter() - t_train
            say(f"step {step + 1}/{config.steps}: region MSE {running:.5f} ({elapsed / (step + 1) * 1e3:.0f} ms/step)")
        if log_held_out and (step + 1) % 500 == 0:
            average.eval()
            say(f"  held-out (600, no noise, averaged weights): plain, network {region_mse(average, test_ex, 600)}")
    else:
        step = config.steps
    train_s = time.perf_counter() - t_train
    if step < config.steps // 2:
        raise TryOnError(f"the time budget ({config.minutes:g} min) left room for only {step} of {config.steps} "
                         f"training steps; nothing written (give more --minutes)")
    model = average.eval()
    mse_plain, mse_net = region_mse(model, test_ex)
    say(f"held-out photos: region MSE plain {mse_plain:.5f}, network (no noise) {mse_net:.5f}")
    meta = {"width": config.width, "hidden": config.hidden, "seed": config.seed, "steps": step,
            "config": str(asdict(config)), "train_s": round(train_s, 1), "data_s": round(data_s, 1),
            "test_mse_plain": mse_plain, "test_mse_net": mse_net,
            "train_photos": len(train_photos), "test_photos": len(test_photos), "torch": str(torch.__version__)}
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_suffix(".tmp")
    torch.save({"state_dict": model.state_dict(), "meta": meta}, tmp)
    tmp.replace(out_path)
    total_s = time.perf_counter() - t_start
    return TrainReport(str(out_path), step, stopped_early, round(data_s, 1), round(train_s, 1), round(total_s, 1),
                       len(train_ex), len(test_ex), len(train_photos), len(test_photos), mse_plain, mse_net,
                       out_path.stat().st_size)
