"""`tryon retouch train`: remake the learned matte's weights (assets/models/retouch_matte.pt) on this CPU.

From the seed alone: the synthetic photos (tryon.retouch.synth: the project's own pieces, rendered, on
procedural backdrops) are made afresh, then the U-Net (tryon.retouch.net) is trained on them with AdamW
(warm-up, cosine decay), on batches of pictures shrunk or cut to 128 px, turned and mirrored at random; the
weights kept are an exponential moving average of the trained ones. Loss: binary cross-entropy on the alpha plus a soft Dice
term per picture (a thin chain is a few pixels: Dice keeps it from being drowned by the backdrop). One thread,
deterministic algorithms: the same command gives the same weights on the same machine.

A held-out set made from another seed (seed + 1) measures the intersection over union of alpha > 0.5 against
the exact alpha > 0.5; it goes into the weights' meta with the settings and the times.

`main(argv)` is the command; `train(...)` and `train_steps(...)` are its parts (the test runs a few steps).
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.nn import functional as F  # noqa: N812 (the usual name)

from tryon.retouch.net import DEFAULT_WEIGHTS, MatteNet, net_input, parameter_count, predict, save_weights
from tryon.retouch.synth import make_dataset

# One thread: on this 2-core CPU shared with other work, one thread did about twice the steps a second that two
# did (two threads wait on each other whenever either is descheduled).
THREADS = 1
HELD_OUT = 200  # held-out pictures (made from seed + 1)
EMA_DECAY = 0.995


@dataclass(frozen=True)
class Settings:
    seed: int = 0
    samples: int = 3600
    epochs: int = 3
    size_px: int = 160
    crop_px: int = 128  # what the network is trained on (see _batch)
    batch: int = 8
    lr: float = 3e-3
    weight_decay: float = 1e-4


def loss_fn(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy plus soft Dice (per picture, averaged): logits and target (N, 1, H, W)."""
    bce = F.binary_cross_entropy_with_logits(logits, target)
    p = torch.sigmoid(logits)
    inter = (p * target).sum(dim=(1, 2, 3))
    dice = 1.0 - (2.0 * inter + 1.0) / (p.sum(dim=(1, 2, 3)) + target.sum(dim=(1, 2, 3)) + 1.0)
    return bce + dice.mean()


def _batch(rgb: np.ndarray, alpha: np.ndarray, index: np.ndarray, rng: np.random.Generator, crop_px: int
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (N, 4, C, C) and targets (N, 1, C, C) of these pictures (C = crop_px): each either shrunk to C
    (the piece smaller) or cut to a random C x C window (the piece larger, sometimes cut by the border), then
    turned by a random quarter turn and mirrored at random (a photo has no preferred side)."""
    xs, ys = [], []
    s = rgb.shape[1]
    for i in index:
        im, al = rgb[i], alpha[i]
        if crop_px < s:
            if rng.random() < 0.5:
                im = cv2.resize(im, (crop_px, crop_px), interpolation=cv2.INTER_AREA)
                al = cv2.resize(al, (crop_px, crop_px), interpolation=cv2.INTER_AREA)
            else:
                y0, x0 = (int(v) for v in rng.integers(0, s - crop_px + 1, 2))
                im, al = im[y0 : y0 + crop_px, x0 : x0 + crop_px], al[y0 : y0 + crop_px, x0 : x0 + crop_px]
        turns, flip = int(rng.integers(0, 4)), bool(rng.integers(0, 2))
        im, al = np.rot90(im, turns), np.rot90(al, turns)
        if flip:
            im, al = im[:, ::-1], al[:, ::-1]
        xs.append(net_input(np.ascontiguousarray(im)))
        ys.append(al.astype(np.float32)[None] / np.float32(255.0))
    return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))


def train_steps(model: MatteNet, rgb: np.ndarray, alpha: np.ndarray, steps: int, settings: Settings,
                log_every: int = 0) -> tuple[MatteNet, list[float]]:
    """Train `model` for `steps` batches on (n, S, S, 3) uint8 pictures and (n, S, S) uint8 alphas; returns the
    moving average of its weights and each step's loss."""
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    warm = max(1, min(100, steps // 10))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: min(1.0, (k + 1) / warm) * 0.5 * (1.0 + math.cos(math.pi * min(1.0, k / max(1, steps)))))
    ema = copy.deepcopy(model)
    n = len(rgb)
    order = rng.permutation(n)
    at = 0
    losses: list[float] = []
    model.train()
    start = time.time()
    for step in range(steps):
        if at + settings.batch > n:
            order, at = rng.permutation(n), 0
        index = order[at : at + settings.batch]
        at += settings.batch
        x, y = _batch(rgb, alpha, index, rng, settings.crop_px)
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        decay = min(EMA_DECAY, (step + 1) / (step + 10))
        with torch.no_grad():
            for e, p in zip(ema.state_dict().values(), model.state_dict().values(), strict=True):
                if e.is_floating_point():
                    e.mul_(decay).add_(p.detach(), alpha=1.0 - decay)
                else:
                    e.copy_(p)
        if log_every and (step + 1) % log_every == 0:
            recent = float(np.mean(losses[-log_every:]))
            print(f"step {step + 1}/{steps}  loss {recent:.4f}  {time.time() - start:.0f} s", file=sys.stderr, flush=True)
    ema.eval()
    return ema, losses


def iou(model: MatteNet, rgb: np.ndarray, alpha: np.ndarray) -> float:
    """Mean over pictures of the IoU of predicted alpha > 0.5 against alpha > 127 (pictures with a piece)."""
    scores = []
    for im, al in zip(rgb, alpha, strict=True):
        truth = al > 127
        if not truth.any():
            continue
        pred = predict(model, im) > 0.5
        scores.append(float((pred & truth).sum()) / float((pred | truth).sum()))
    return float(np.mean(scores)) if scores else float("nan")


def _dataset(count: int, size_px: int, seed: int, cache: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic pictures from the seed; with `cache`, read from (or written to) that .npz first."""
    if cache is not None and cache.is_file():
        with np.load(cache) as data:
            return data["rgb"], data["alpha"]

    def progress(i: int, total: int) -> None:
        if i % 500 == 0 or i == total:
            print(f"  made {i}/{total} pictures", file=sys.stderr, flush=True)

    rgb, alpha, _ = make_dataset(count, size_px, seed, progress)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, rgb=rgb, alpha=alpha)
    return rgb, alpha


def train(settings: Settings, out: Path, cache_dir: Path | None = None) -> dict[str, float]:
    """Make the data, train, measure on the held-out set, write the weights; returns the measures."""
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    t0 = time.time()
    tag = f"seed{settings.seed}_n{settings.samples}_s{settings.size_px}"
    rgb, alpha = _dataset(settings.samples, settings.size_px, settings.seed,
                          None if cache_dir is None else cache_dir / f"train_{tag}.npz")
    val_rgb, val_alpha = _dataset(HELD_OUT, settings.size_px, settings.seed + 1,
                                  None if cache_dir is None else cache_dir / f"val_{tag}.npz")
    t_data = time.time() - t0
    print(f"data: {len(rgb)} training and {len(val_rgb)} held-out pictures in {t_data:.0f} s", file=sys.stderr)
    torch.manual_seed(settings.seed)
    model = MatteNet()
    steps = settings.epochs * (len(rgb) // settings.batch)
    print(f"training {parameter_count(model):,} parameters for {steps} steps", file=sys.stderr)
    t1 = time.time()
    ema, losses = train_steps(model, rgb, alpha, steps, settings, log_every=100)
    t_train = time.time() - t1
    score = iou(ema, val_rgb, val_alpha)
    meta = {"seed": settings.seed, "samples": settings.samples, "epochs": settings.epochs, "size_px": settings.size_px,
            "crop_px": settings.crop_px, "batch": settings.batch, "steps": steps, "lr": settings.lr,
            "held_out_iou": round(score, 4),
            "final_loss": round(float(np.mean(losses[-100:])), 4), "data_s": round(t_data), "train_s": round(t_train)}
    save_weights(ema, out, meta)
    print(f"held-out IoU {score:.4f}; data {t_data:.0f} s, training {t_train:.0f} s; wrote {out}", file=sys.stderr)
    return {"held_out_iou": score, "data_s": t_data, "train_s": t_train}


def main(argv: list[str] | None = None) -> int:
    """`tryon retouch train [--seed N] [--out PATH] [--samples N] [--epochs N]`: remake the matte's weights."""
    p = argparse.ArgumentParser(prog="tryon retouch train", description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--seed", type=int, default=Settings.seed, help="everything is drawn from it (default 0)")
    p.add_argument("--out", "-o", type=Path, default=DEFAULT_WEIGHTS, help=f"the weights (default {DEFAULT_WEIGHTS})")
    p.add_argument("--samples", type=int, default=Settings.samples, help="synthetic training pictures")
    p.add_argument("--epochs", type=int, default=Settings.epochs, help="passes over them")
    p.add_argument("--size", type=int, default=Settings.size_px, help="the pictures' side in px")
    p.add_argument("--cache", type=Path, default=None,
                   help="a folder to keep the synthetic pictures in between runs (default: made afresh each time)")
    args = p.parse_args(argv)
    if args.samples < 1 or args.epochs < 1 or not 96 <= args.size <= 512:
        p.error("--samples and --epochs must be at least 1 and --size 96..512")
    crop = min(Settings.crop_px, args.size)
    train(Settings(seed=args.seed, samples=args.samples, epochs=args.epochs, size_px=args.size, crop_px=crop), args.out,
          args.cache)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
