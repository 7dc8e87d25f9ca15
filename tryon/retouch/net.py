"""The learned coarse matte: a small U-Net that reads a downscaled product photo and gives the piece's alpha.

`coarse_alpha(rgb_small)` is what the matting step calls: (h, w, 3) uint8 sRGB (320-512 px on the longer side
is plenty) in, (h, w) float32 alpha 0..1 at the same size out, or None when the weights file is absent or
unusable (the classical key is then the whole matte). The network reads the picture at NET_SIDE_PX on its
longer side: the alpha is coarse (soft edges a few pixels wide). It only says *where* the piece is: every
pixel of the output image still comes from the photo (the classical matte refines the edge and takes the
colours from the photo itself).

Input (`net_input`): the photo's RGB and one more channel, each pixel's distance from the median colour of
the picture's border (what a colour key reads). The key alone fails where polished metal mirrors the
backdrop or the backdrop is textured (wood, marble, sand); the network sees both the key and the shapes.

Network (`MatteNet`): a U-Net of plain 3x3 convolutions (batch norm, ReLU), six scales (1 .. 1/32, widths
WIDTHS), 0.59 M parameters; dilated convolutions at the coarsest scale widen what it sees (a whole ring is one
thing).
Trained by tryon.retouch.train on pictures made by tryon.retouch.synth (the project's own renders; see
assets/models/retouch_matte.md).

Weights: a PyTorch `state_dict` with a small `meta` dict, loaded with `torch.load(weights_only=True)`.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 (the usual name)

from tryon.config import REPO_ROOT
from tryon.errors import InputError

log = logging.getLogger(__name__)

DEFAULT_WEIGHTS = REPO_ROOT / "assets" / "models" / "retouch_matte.pt"
WIDTHS = (8, 16, 32, 48, 64, 96)  # channels at scales 1, 1/2, 1/4, 1/8, 1/16, 1/32
SCALE = 32  # inputs are padded to a multiple of this (the coarsest scale)
BORDER_FRACTION = 0.03  # the border strip whose median colour is the backdrop's, as a share of the shorter side
# The network reads pictures at most this long on their longer side (larger ones are shrunk, the alpha enlarged
# back): it was trained on 128 px pictures with the piece over half of them, and on the shared photos it did
# best at about this size (a piece far larger than any it was trained on loses its middle).
NET_SIDE_PX = 224
THREADS = 2  # inference: the photo is one image; more threads only contend with the rest of the pipeline
MIN_SIDE_PX = 16
MAX_SIDE_PX = 2048
_warned: set[str] = set()
_lock = threading.Lock()


def border_distance(rgb: np.ndarray) -> np.ndarray:
    """(H, W) float32: each pixel's Euclidean RGB distance (0..1 units, divided by sqrt(3): 0..1) from the
    median colour of the picture's border strip (BORDER_FRACTION of the shorter side, at least 2 px)."""
    h, w = rgb.shape[:2]
    b = max(2, int(round(BORDER_FRACTION * min(h, w))))
    strip = np.concatenate([rgb[:b].reshape(-1, 3), rgb[-b:].reshape(-1, 3), rgb[:, :b].reshape(-1, 3),
                            rgb[:, -b:].reshape(-1, 3)])
    median = np.median(strip, axis=0).astype(np.float32)
    diff = rgb.astype(np.float32) - median
    return (np.sqrt((diff * diff).sum(axis=2)) * np.float32(1.0 / (255.0 * np.sqrt(3.0)))).astype(np.float32)


def net_input(rgb: np.ndarray) -> np.ndarray:
    """(4, H, W) float32 network input of an (H, W, 3) uint8 picture: RGB centred on 0 (-0.5..0.5) and the
    border distance scaled to about the same range."""
    x = np.empty((4, *rgb.shape[:2]), np.float32)
    x[:3] = np.moveaxis(rgb, 2, 0).astype(np.float32) * np.float32(1.0 / 255.0) - np.float32(0.5)
    x[3] = border_distance(rgb) * np.float32(2.0) - np.float32(0.25)
    return x


def _conv(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class MatteNet(nn.Module):
    """(N, 4, H, W) input (H, W multiples of SCALE) -> (N, 1, H, W) logits of the piece's alpha."""

    def __init__(self, widths: tuple[int, ...] = WIDTHS) -> None:
        super().__init__()
        w = widths
        self.widths = tuple(widths)
        self.stem = _conv(4, w[0])
        # Each scale: a stride-2 convolution down, then one more at that scale.
        self.down = nn.ModuleList([nn.Sequential(_conv(w[i], w[i + 1], stride=2), _conv(w[i + 1], w[i + 1]))
                                   for i in range(len(w) - 1)])
        self.context = nn.Sequential(_conv(w[-1], w[-1], dilation=2), _conv(w[-1], w[-1], dilation=4))
        # Up: the coarser features upsampled, joined to the skip connection, mixed by one convolution.
        self.up = nn.ModuleList([_conv(w[i + 1] + w[i], w[i]) for i in range(len(w) - 1)])
        self.head = nn.Conv2d(w[0], 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.stem(x)]
        for block in self.down:
            skips.append(block(skips[-1]))
        y = self.context(skips[-1])
        for i in range(len(self.up) - 1, -1, -1):
            y = F.interpolate(y, size=skips[i].shape[-2:], mode="bilinear", align_corners=False)
            y = self.up[i](torch.cat([y, skips[i]], dim=1))
        out: torch.Tensor = self.head(y)
        return out


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def save_weights(model: MatteNet, path: Path, meta: dict[str, Any]) -> None:
    """Write the model's weights (float32 state_dict plus meta) atomically to path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    state = {k: v.detach().clone().float() if v.is_floating_point() else v.clone() for k, v in model.state_dict().items()}
    torch.save({"state_dict": state, "meta": {**meta, "widths": list(model.widths)}}, tmp)
    os.replace(tmp, path)


@functools.lru_cache(maxsize=4)
def _load(path: str, stamp: tuple[float, int]) -> MatteNet:
    """The model in this weights file (cached per file version)."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(saved, dict) or "state_dict" not in saved:
        raise ValueError("not a retouch matte weights file (no state_dict)")
    meta = saved.get("meta", {})
    model = MatteNet(tuple(int(c) for c in meta.get("widths", WIDTHS)))
    model.load_state_dict(saved["state_dict"])
    model.eval()
    for p in model.parameters():
        if not bool(torch.isfinite(p).all()):
            raise ValueError("the weights hold NaN or infinite values")
    return model


def load_model(weights: str | os.PathLike[str] = DEFAULT_WEIGHTS) -> MatteNet | None:
    """The matte network from a weights file, or None (one warning per file) when it is absent or unusable."""
    path = Path(weights)
    try:
        st = path.stat()
        return _load(str(path.resolve()), (st.st_mtime, st.st_size))
    except FileNotFoundError:
        message = "learned matte off: no weights at %s (make them with `tryon retouch train`)"
        detail = ""
    except Exception as e:  # corrupt or foreign files fail in many ways (zip, pickle, keys, shapes)
        message = "learned matte off: cannot load %s: %s"
        detail = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
    with _lock:
        if str(path) not in _warned:
            _warned.add(str(path))
            log.warning(message, path, *([detail] if detail else []))
    return None


def predict(model: MatteNet, rgb: np.ndarray) -> np.ndarray:
    """(H, W) float32 alpha of an (H, W, 3) uint8 picture (padded by edge replication to a multiple of SCALE)."""
    h, w = rgb.shape[:2]
    ph, pw = -h % SCALE, -w % SCALE
    x = net_input(rgb)
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, ph), (0, pw)), mode="edge")
    with torch.inference_mode():
        logits = model(torch.from_numpy(x)[None])
    return torch.sigmoid(logits[0, 0, :h, :w]).numpy().astype(np.float32)


def coarse_alpha(rgb_small: np.ndarray, weights: str | os.PathLike[str] = DEFAULT_WEIGHTS) -> np.ndarray | None:
    """(h, w) float32 alpha 0..1 of the piece in an (h, w, 3) uint8 sRGB picture (320-512 px on the longer side
    is plenty: the network reads it at NET_SIDE_PX), or None when there are no usable weights. InputError for
    anything that is not an RGB picture of MIN_SIDE_PX..MAX_SIDE_PX a side."""
    if not isinstance(rgb_small, np.ndarray) or rgb_small.ndim != 3 or rgb_small.shape[2] != 3 \
            or rgb_small.dtype != np.uint8:
        shape = getattr(rgb_small, "shape", None)
        raise InputError(f"coarse_alpha: expected an (h, w, 3) uint8 RGB picture, got {shape} "
                         f"{getattr(rgb_small, 'dtype', type(rgb_small).__name__)}")
    if min(rgb_small.shape[:2]) < MIN_SIDE_PX or max(rgb_small.shape[:2]) > MAX_SIDE_PX:
        raise InputError(f"coarse_alpha: the picture is {rgb_small.shape[1]}x{rgb_small.shape[0]}; give it "
                         f"{MIN_SIDE_PX}..{MAX_SIDE_PX} px a side (about 320-512 on the longer side)")
    model = load_model(weights)
    if model is None:
        return None
    if torch.get_num_threads() > THREADS:
        torch.set_num_threads(THREADS)
    h, w = rgb_small.shape[:2]
    scale = NET_SIDE_PX / max(h, w)
    if scale >= 1.0:
        return predict(model, np.ascontiguousarray(rgb_small))
    small = cv2.resize(rgb_small, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    alpha = cv2.resize(predict(model, small), (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(alpha, 0.0, 1.0).astype(np.float32)
