"""The neural compositor's model: a tiny encoder that reads the camera's look, and the look applied to the layer.

Design (fast on a CPU; nothing runs at full resolution in the network):
- `LookEncoder` reads a 32x32 thumbnail of the whole camera frame (exposure, white balance, contrast: global)
  and a native-resolution 64x64 patch of the frame at the jewelry (its noise and blur, which a thumbnail
  averages away), each through three small convolutions plus a few image statistics, and predicts the
  camera's look as `N_PARAMS` numbers.
- `decode_look` turns them into a `Look`: a 3x3 colour matrix on linear RGB (exposure, white balance,
  saturation), a monotone tone curve of `CURVE_KNOTS` knots on display values with per-channel black
  levels, a Gaussian blur, a noise level (read and shot) and a soft contact shadow (strength, spread and
  offset of the blurred alpha darkening the skin under the piece).
- `composite_look` applies a Look at full resolution: the layer's colour through the matrix and the curve,
  colour and alpha blurred together, over the camera frame darkened by the shadow, plus noise where the
  piece is. Each parameter means something, so the network cannot paint anything but a camera's look:
  what it may get wrong is how strong each effect is, never the jewelry's shape.

The output layer starts at zero with biases that give the identity look (plain compositing), so training
starts from the fallback and can only move away from it where the data says so. `composite_look` is the
function and `CompositeLook` its module; `tryon.compositor.neural` carries the same arithmetic in numpy
for the live path (tests check that all three agree).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 - the usual name
from torch import Tensor, nn

from tryon.compositor.look import (
    ALPHA_MIN,
    BLUR_MAX_PX,
    BLUR_RADIUS_PX,
    CURVE_KNOTS,
    MIN_SIGMA_PX,
    PATCH_PX,
    READ_NOISE_MAX,
    REGION_DILATE_PX,
    SHADOW_MAX,
    SHADOW_OFFSET_MAX_PX,
    SHADOW_RADIUS_PX,
    SHADOW_SIGMA_PX,
    SHOT_NOISE_MAX,
    THUMB_PX,
    LookParams,
)
from tryon.errors import InputError

N_STATS = 19  # image statistics fed next to the convolutions' features

# Where each parameter sits in the encoder's output.
_GAINS = slice(0, 3)
_OFFDIAG = slice(3, 9)
_CURVE = slice(9, 9 + CURVE_KNOTS - 1)
_BLACK = slice(_CURVE.stop, _CURVE.stop + 3)
_BLUR = _BLACK.stop
_READ, _SHOT = _BLUR + 1, _BLUR + 2
_SHADOW = slice(_SHOT + 1, _SHOT + 5)  # strength, sigma, dx, dy
N_PARAMS = _SHADOW.stop
_SOFTPLUS_ONE = math.log(math.e - 1.0)  # softplus(this) == 1: identity curve steps
_OFF_ROWS, _OFF_COLS = (0, 0, 1, 1, 2, 2), (1, 2, 0, 2, 0, 1)


@dataclass(frozen=True)
class Look:
    """A batch of camera looks, B of each. matrix: (B, 3, 3) on linear RGB; curve: (B, CURVE_KNOTS) display
    levels at 0, 1/(K-1), ..., 1; black: (B, 3) added after the curve; blur_px, read, shot: (B,);
    shadow: (B, 4) strength 0..1, sigma px, dx px, dy px (the shadow's offset from the piece, y down)."""

    matrix: Tensor
    curve: Tensor
    black: Tensor
    blur_px: Tensor
    read: Tensor
    shot: Tensor
    shadow: Tensor

    def params(self, i: int) -> LookParams:
        """Image i's look as numpy (tryon.compositor.look.composite_look_np takes it)."""
        def arr(t: Tensor) -> np.ndarray:
            return t[i].detach().to(torch.float32).numpy()

        return LookParams(arr(self.matrix), arr(self.curve), arr(self.black), float(self.blur_px[i]),
                          float(self.read[i]), float(self.shot[i]), arr(self.shadow))


def decode_look(raw: Tensor) -> Look:
    """(B, N_PARAMS) encoder outputs -> the Look they stand for (all zeros: near the identity, no shadow)."""
    _check(raw, "raw", (None, N_PARAMS))
    b = raw.shape[0]
    gains = torch.exp(raw[:, _GAINS])
    off = 0.5 * torch.tanh(raw[:, _OFFDIAG])
    eye = torch.eye(3, dtype=raw.dtype, device=raw.device).expand(b, 3, 3)
    matrix = eye.clone()
    matrix[:, _OFF_ROWS, _OFF_COLS] = off
    matrix = gains[:, :, None] * matrix
    steps = F.softplus(raw[:, _CURVE] + _SOFTPLUS_ONE) / (CURVE_KNOTS - 1)
    curve = torch.cat([torch.zeros_like(steps[:, :1]), torch.cumsum(steps, dim=1)], dim=1)
    black = 0.1 * torch.tanh(raw[:, _BLACK])
    # Never below the taps' floor (MIN_SIGMA_PX): a clamped sigma would get no gradient.
    blur_px = MIN_SIGMA_PX + (BLUR_MAX_PX - MIN_SIGMA_PX) * torch.sigmoid(raw[:, _BLUR] - 3.0)
    read = READ_NOISE_MAX * torch.sigmoid(raw[:, _READ] - 2.0)
    shot = SHOT_NOISE_MAX * torch.sigmoid(raw[:, _SHOT] - 2.0)
    s = raw[:, _SHADOW]
    shadow = torch.stack([SHADOW_MAX * torch.sigmoid(s[:, 0] - 4.0),
                          SHADOW_SIGMA_PX[0] + (SHADOW_SIGMA_PX[1] - SHADOW_SIGMA_PX[0]) * torch.sigmoid(s[:, 1]),
                          SHADOW_OFFSET_MAX_PX * torch.tanh(s[:, 2]), SHADOW_OFFSET_MAX_PX * torch.tanh(s[:, 3])], dim=1)
    return Look(matrix, curve, black, blur_px, read, shot, shadow)


# --- the look, applied ------------------------------------------------------------------------------------


def srgb_to_linear(x: Tensor) -> Tensor:
    return torch.where(x <= 0.04045, x / 12.92, ((x.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x: Tensor) -> Tensor:
    x = x.clamp(0.0, 1.0)
    return torch.where(x <= 0.0031308, x * 12.92, 1.055 * x.clamp(min=0.0031308) ** (1 / 2.4) - 0.055)


def gaussian_taps(sigma_px: Tensor, radius: int, offset_px: Tensor | None = None) -> Tensor:
    """(B,) sigmas (and offsets) -> (B, 2 * radius + 1) normalised 1-D taps for correlation:
    out(x) = sum_u taps(u) in(x + u), which shifts the picture by +offset."""
    u = torch.arange(-radius, radius + 1, dtype=sigma_px.dtype, device=sigma_px.device)[None, :]
    centre = u + (0.0 if offset_px is None else offset_px[:, None])
    w = torch.exp(-0.5 * (centre / sigma_px[:, None].clamp(min=MIN_SIGMA_PX)) ** 2)
    return w / w.sum(dim=1, keepdim=True)


def _band(taps: Tensor, n: int) -> Tensor:
    """(B, k) taps -> (B, n, n) matrices M with M[i, j] = taps[j - i] (zero beyond the taps): M @ v is the
    correlation of v with the taps, zeros outside."""
    r = taps.shape[1] // 2
    d = torch.arange(n, device=taps.device)[None, :] - torch.arange(n, device=taps.device)[:, None]
    inside = d.abs() <= r
    idx = (d.clamp(-r, r) + r).reshape(-1)
    return taps[:, idx].reshape(-1, n, n) * inside


def separable(x: Tensor, taps_x: Tensor, taps_y: Tensor) -> Tensor:
    """(B, C, H, W) correlated with per-image taps (B, k) along x then y; zeros outside. As two batched
    matrix products with banded matrices: on a CPU faster to train than grouped convolutions with
    per-image kernels, and much faster than summing shifted copies."""
    b, c, h, w = x.shape
    out = torch.bmm(x.reshape(b, c * h, w), _band(taps_x, w).transpose(1, 2))
    out = out.reshape(b, c, h, w).transpose(1, 2).reshape(b, h, c * w)
    return torch.bmm(_band(taps_y, h), out).reshape(b, h, c, w).transpose(1, 2)


def look_colour(rgb: Tensor, look: Look, image: Tensor) -> Tensor:
    """(n, 3) straight display colours, each of image `image[k]` of the batch -> (n, 3) in that image's
    camera colour and tone."""
    lin = srgb_to_linear(rgb.clamp(0.0, 1.0))
    lin = torch.einsum("nij,nj->ni", look.matrix[image], lin)
    z = linear_to_srgb(lin)
    curve = look.curve[image]
    k = curve.shape[1]
    pos = z * (k - 1)
    seg = pos.detach().floor().clamp(max=k - 2)
    t = pos - seg
    seg = seg.long()
    lo, hi = torch.gather(curve, 1, seg), torch.gather(curve, 1, seg + 1)
    return (lo + t * (hi - lo) + look.black[image]).clamp(0.0, 1.0)


def composite_look(frame: Tensor, layer: Tensor, look: Look, noise: Tensor | None = None) -> Tensor:
    """The layer drawn over the camera frame in the camera's look.

    frame : (B, 3, H, W) the camera's pixels, 0..1. layer : (B, 4, H, W) premultiplied RGBA, 0..1.
    noise : (B, 3, H, W) standard normal or None (no noise: what training's pixel loss sees).
    Returns (B, 3, H, W), not clipped (callers clip or quantise).
    """
    _check(frame, "frame", (None, 3, None, None))
    _check(layer, "layer", (frame.shape[0], 4, frame.shape[2], frame.shape[3]))
    alpha = layer[:, 3:4]
    # The colour is worked out where the piece is only (a few per cent of a region's pixels).
    b, y, x = torch.nonzero(alpha[:, 0] > 0, as_tuple=True)
    a = alpha[b, 0, y, x][:, None]
    colour = look_colour(layer[b, :3, y, x] / a.clamp(min=1.0 / 255.0), look, b) * a
    n, _, h, w = frame.shape
    paint = frame.new_zeros(n, h, w, 3).index_put((b, y, x), colour).permute(0, 3, 1, 2)
    blur = gaussian_taps(look.blur_px, BLUR_RADIUS_PX)
    both = separable(torch.cat([paint, alpha], dim=1), blur, blur)
    paint_b, alpha_b = both[:, :3], both[:, 3:4]
    s = look.shadow
    sx = gaussian_taps(s[:, 1], SHADOW_RADIUS_PX, s[:, 2])
    sy = gaussian_taps(s[:, 1], SHADOW_RADIUS_PX, s[:, 3])
    # The shadow falls on what shows of the skin: the frame's part outside the (blurred) piece.
    shade = 1.0 - s[:, 0, None, None, None] * separable(alpha, sx, sy)
    out = paint_b + frame * (1.0 - alpha_b) * shade
    if noise is not None:
        _check(noise, "noise", tuple(frame.shape))
        level = out.clamp(0.0, 1.0)
        sd = torch.sqrt(look.read[:, None, None, None] ** 2 + look.shot[:, None, None, None] * level)
        out = out + sd * noise * alpha_b  # the frame is noisy already: only the piece gets noise
    return out


class CompositeLook(nn.Module):
    """Module form of :func:`composite_look` (no weights)."""

    def forward(self, frame: Tensor, layer: Tensor, look: Look, noise: Tensor | None = None) -> Tensor:
        return composite_look(frame, layer, look, noise)


# --- the encoder -------------------------------------------------------------------------------------------


def image_stats(thumb: Tensor, patch: Tensor) -> Tensor:
    """(B, N_STATS): what a photographer reads off a frame: per channel the thumbnail's mean, spread and
    brightest (linear mean too), its log mean luminance; the patch's mean absolute neighbour difference
    per channel (noise and sharpness) and, in its grey levels, the steepest edge and how much of the
    variation is fine detail (second differences against first: a soft lens has little)."""
    lin = srgb_to_linear(thumb)
    flat = thumb.flatten(2)
    lum = (0.2126 * lin[:, 0] + 0.7152 * lin[:, 1] + 0.0722 * lin[:, 2]).flatten(1)
    dx = (patch[:, :, :, 1:] - patch[:, :, :, :-1]).abs().mean(dim=(2, 3))
    dy = (patch[:, :, 1:, :] - patch[:, :, :-1, :]).abs().mean(dim=(2, 3))
    grey = 0.299 * patch[:, 0] + 0.587 * patch[:, 1] + 0.114 * patch[:, 2]
    g = (grey[:, :, 1:] - grey[:, :, :-1]).abs()
    g2 = (grey[:, :, 2:] - 2.0 * grey[:, :, 1:-1] + grey[:, :, :-2]).abs().mean(dim=(1, 2))
    steepest = torch.maximum(g.amax(dim=(1, 2)), (grey[:, 1:] - grey[:, :-1]).abs().amax(dim=(1, 2)))
    fine = g2 / (g.mean(dim=(1, 2)) + 1e-3)
    return torch.cat([flat.mean(2), flat.std(2), flat.amax(2), lin.flatten(2).mean(2),
                      torch.log(lum.mean(1, keepdim=True) + 1e-3), 10.0 * (dx + dy) / 2.0,
                      torch.stack([10.0 * g2, steepest, fine], dim=1)], dim=1)


class LookEncoder(nn.Module):
    """(thumb (B, 3, THUMB_PX, THUMB_PX), patch (B, 3, PATCH_PX, PATCH_PX)), 0..1 -> (B, N_PARAMS) raw
    look parameters."""

    def __init__(self, width: int = 24, hidden: int = 64, dropout: float = 0.0) -> None:
        super().__init__()
        self.dropout = dropout  # on the features, in training only (keeps it from memorising photos)
        w = width
        self.thumb = nn.Sequential(nn.Conv2d(3, w, 3, 2, 1), nn.ReLU(), nn.Conv2d(w, 2 * w, 3, 2, 1), nn.ReLU(),
                                   nn.Conv2d(2 * w, 2 * w, 3, 2, 1), nn.ReLU())
        # Stride 2 from the start: the statistics read the patch's finest detail at full resolution.
        self.patch = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, 16, 3, 2, 1), nn.ReLU(),
                                   nn.Conv2d(16, w, 3, 2, 1), nn.ReLU())
        last = nn.Linear(hidden, N_PARAMS)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.head = nn.Sequential(nn.Linear(3 * w + N_STATS, hidden), nn.ReLU(), last)

    def forward(self, thumb: Tensor, patch: Tensor) -> Tensor:
        _check(thumb, "thumb", (None, 3, THUMB_PX, THUMB_PX))
        _check(patch, "patch", (thumb.shape[0], 3, PATCH_PX, PATCH_PX))
        features = torch.cat([self.thumb(thumb).mean(dim=(2, 3)), self.patch(patch).mean(dim=(2, 3)),
                              image_stats(thumb, patch)], dim=1)
        return self.head(F.dropout(features, self.dropout, self.training))


class CompositorNet(nn.Module):
    """The whole model: encoder, look, composite. forward(thumb, patch, frame, layer, noise) -> pixels."""

    def __init__(self, width: int = 24, hidden: int = 64, dropout: float = 0.0) -> None:
        super().__init__()
        self.encoder = LookEncoder(width, hidden, dropout)
        self.apply_look = CompositeLook()

    def look(self, thumb: Tensor, patch: Tensor) -> Look:
        return decode_look(self.encoder(thumb, patch))

    def forward(self, thumb: Tensor, patch: Tensor, frame: Tensor, layer: Tensor,
                noise: Tensor | None = None) -> Tensor:
        return self.apply_look(frame, layer, self.look(thumb, patch), noise)


def region_mask(alpha: Tensor) -> Tensor:
    """(B, 1, H, W) alpha -> (B, 1, H, W) 1 where errors are counted: the piece grown by REGION_DILATE_PX."""
    k = 2 * REGION_DILATE_PX + 1
    return F.max_pool2d((alpha > ALPHA_MIN).to(alpha.dtype), k, 1, REGION_DILATE_PX)


def _check(x: Tensor, name: str, shape: tuple[int | None, ...]) -> None:
    """InputError naming the expected and the actual shape (None: any size there)."""
    if not isinstance(x, Tensor):
        raise InputError(f"{name} must be a torch tensor, got {type(x).__name__}")
    if x.ndim != len(shape) or any(s is not None and s != d for s, d in zip(shape, x.shape, strict=True)):
        want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise InputError(f"{name} must have shape {want}, got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise InputError(f"{name} must be floating point, got {x.dtype}")
