"""The neural compositor on the live path: `Compositor()(frame_rgb, layer) -> frame_rgb`, like
`tryon.compositor.alpha.composite`, with the render taking on the camera's look.

Per frame: the layer is split into one region per piece (two earrings: two small regions, not the face
between them); the network reads the frame's 32x32 thumbnail and a native 64x64 patch at each piece
(one small batch, about 1.5 ms on one core; in video every few frames, see `look_every`) and gives each
region a camera look, which numpy and OpenCV apply to the layer at full resolution (tryon.compositor.look).
Noise comes from a fixed, seeded tile at an offset taken from the frame's own pixels: the same input gives
the same output, and the grain still changes from frame to frame as a camera's does.

Missing or unreadable weights, or no torch: plain alpha compositing, with one warning per weights file
(per process), never an error. Bad inputs raise InputError as alpha compositing does.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tryon.compositor.alpha import composite
from tryon.compositor.look import (
    MARGIN_PX,
    LookParams,
    blend_looks,
    composite_look_np,
    held_colour,
    patch_at,
    regions,
    thumbnail,
)
from tryon.config import REPO_ROOT
from tryon.errors import InputError
from tryon.types import RenderLayer

if TYPE_CHECKING:
    from tryon.compositor.net import CompositorNet

log = logging.getLogger(__name__)

DEFAULT_WEIGHTS = REPO_ROOT / "assets" / "models" / "compositor.pt"
NOISE_TILE_PX = 256
NOISE_SEED = 20261202
LOOK_BLEND = 0.25  # video: each new reading of the look moves it this fraction of the way (~0.5 s at 30 fps)
_warned: set[str] = set()
_warn_lock = threading.Lock()


def _warn_once(key: str, message: str, *args: object) -> None:
    with _warn_lock:
        if key in _warned:
            return
        _warned.add(key)
    log.warning(message, *args)


@functools.lru_cache(maxsize=4)
def _load(path: str, stamp: tuple[float, int]) -> CompositorNet:
    """The model in this weights file (cached per file version; shared by every Compositor: forward
    passes in inference mode do not change it)."""
    import torch

    from tryon.compositor.net import CompositorNet

    # One thread: the network is tiny (more threads only spin, taking the core the trackers and the
    # renderer need), and the server runs one session per core.
    torch.set_num_threads(1)
    saved = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(saved, dict) or "state_dict" not in saved:
        raise ValueError("not a compositor weights file (no state_dict)")
    meta = saved.get("meta", {})
    model = CompositorNet(int(meta.get("width", 24)), int(meta.get("hidden", 64)))
    model.load_state_dict(saved["state_dict"])
    model.eval()
    for p in model.parameters():
        if not bool(torch.isfinite(p).all()):
            raise ValueError("the weights hold NaN or infinite values")
    return model


def load_model(weights: str | os.PathLike[str] = DEFAULT_WEIGHTS) -> CompositorNet | None:
    """The compositor network from a weights file, or None (with one warning) when it cannot be used."""
    path = Path(weights)
    try:
        st = path.stat()
        return _load(str(path.resolve()), (st.st_mtime, st.st_size))
    except ImportError as e:
        _warn_once("torch", "neural compositor off, plain compositing instead: torch is not available (%s)", e)
    except FileNotFoundError:
        _warn_once(str(path), "neural compositor off, plain compositing instead: no weights at %s "
                   "(make them with `tryon compositor train`)", path)
    except Exception as e:  # corrupt or foreign files fail in many ways (zip, pickle, keys, shapes)
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        _warn_once(str(path), "neural compositor off, plain compositing instead: cannot load %s: %s", path, first)
    return None


class Compositor:
    """`compositor(frame_rgb, layer) -> frame_rgb`: the layer drawn in the camera's look.

    weights: the network's file (default assets/models/compositor.pt); None: plain compositing. `active`
    says whether the network runs. look_every: in video, read the camera's look off every n-th frame and
    keep it in between (a camera's look changes slowly; the network is most of the cost), as long as the
    number of pieces stays the same, and move LOOK_BLEND of the way to each new reading (read raw, the
    colour of a gold piece jumped by up to 13 grey levels from one reading to the next on a real video);
    1: every call on its own (photos). Use one per stream: with look_every > 1 it keeps the last look.
    """

    def __init__(self, weights: str | os.PathLike[str] | None = DEFAULT_WEIGHTS, noise: bool = True,
                 look_every: int = 1) -> None:
        self.model = load_model(weights) if weights is not None else None
        self.noise = noise
        self.look_every = max(1, int(look_every))
        self._held: list[LookParams] = []
        self._age = 0
        rng = np.random.default_rng(NOISE_SEED)
        self._tile = rng.standard_normal((NOISE_TILE_PX, NOISE_TILE_PX, 3), np.float32)

    def reset(self) -> None:
        """A new stream: forget the held look."""
        self._held, self._age = [], 0

    @property
    def active(self) -> bool:
        return self.model is not None

    def __call__(self, frame_rgb: np.ndarray, layer: RenderLayer) -> np.ndarray:
        """frame_rgb : (H, W, 3) uint8 -> a new (H, W, 3) uint8 with the layer drawn over it; only the
        pieces' regions (and a MARGIN_PX round them, for blur and shadow) change."""
        w, h = layer.frame_size
        if not isinstance(frame_rgb, np.ndarray) or frame_rgb.shape != (h, w, 3) or frame_rgb.dtype != np.uint8:
            got = frame_rgb.shape if isinstance(frame_rgb, np.ndarray) else type(frame_rgb).__name__
            raise InputError(f"frame must be a ({h}, {w}, 3) uint8 image (the layer's frame), got {got}")
        if self.model is None or layer.rgba.size == 0:
            return composite(frame_rgb, layer)
        try:
            return self._composite(frame_rgb, layer)
        except Exception:  # the live path must go on: plain compositing from now on
            log.exception("neural compositor failed; plain compositing from now on")
            self.model = None
            return composite(frame_rgb, layer)

    def looks(self, thumbs: np.ndarray, patches: np.ndarray) -> list[LookParams]:
        """(n, 32, 32, 3) uint8 thumbnails and (n, 64, 64, 3) uint8 patches (THUMB_PX, PATCH_PX) -> the n camera
        looks the network reads off them, their colour held to a mild setting (look.held_colour: a wall's
        colour is not the camera's)."""
        import torch

        if self.model is None:
            raise InputError("the compositor has no network (plain compositing)")
        with torch.inference_mode():
            t = torch.from_numpy(np.require(thumbs, requirements=["C", "W"])).permute(0, 3, 1, 2).float().div_(255.0)
            p = torch.from_numpy(np.require(patches, requirements=["C", "W"])).permute(0, 3, 1, 2).float().div_(255.0)
            look = self.model.look(t, p)
            return [held_colour(look.params(i)) for i in range(len(thumbs))]

    def noise_at(self, x0: int, y0: int, w: int, h: int, key: int = 0) -> np.ndarray | None:
        """(h, w, 3) float32 standard normal noise for this region of a frame (None: noise off); key moves
        the tile (frames with different keys get different grain)."""
        if not self.noise:
            return None
        k = (key * 2654435761) & 0xFFFFFFFF
        ys = (np.arange(y0, y0 + h) + (k >> 8)) % NOISE_TILE_PX
        xs = (np.arange(x0, x0 + w) + (k >> 20)) % NOISE_TILE_PX
        return self._tile[ys[:, None], xs[None, :]]

    def _composite(self, frame_rgb: np.ndarray, layer: RenderLayer) -> np.ndarray:
        fh, fw = frame_rgb.shape[:2]
        lx, ly = layer.origin_px
        lh, lw = layer.rgba.shape[:2]
        alpha = layer.rgba[..., 3]
        boxes = []
        for bx0, by0, bx1, by1 in regions(alpha):
            x0, y0 = max(0, lx + bx0 - MARGIN_PX), max(0, ly + by0 - MARGIN_PX)
            x1, y1 = min(fw, lx + bx1 + MARGIN_PX), min(fh, ly + by1 + MARGIN_PX)
            boxes.append((x0, y0, x1, y1, lx + 0.5 * (bx0 + bx1), ly + 0.5 * (by0 + by1)))
        out = frame_rgb.copy()
        if not boxes:
            return out
        if len(self._held) == len(boxes) and self._age < self.look_every:
            looks = self._held
            self._age += 1
        else:
            thumb = thumbnail(frame_rgb)
            patches = np.stack([patch_at(frame_rgb, cx, cy) for *_, cx, cy in boxes])
            looks = self.looks(np.broadcast_to(thumb, (len(patches),) + thumb.shape), patches)
            if self.look_every > 1 and len(self._held) == len(looks):  # video: ease into the new look
                looks = [blend_looks(old, new, LOOK_BLEND) for old, new in zip(self._held, looks, strict=True)]
            self._held, self._age = (looks, 1) if self.look_every > 1 else ([], 0)
        key = int(frame_rgb[::53, ::59].sum(dtype=np.int64))
        for (x0, y0, x1, y1, _, _), look in zip(boxes, looks, strict=True):
            region = np.zeros((y1 - y0, x1 - x0, 4), np.float32)
            # The layer's part inside this region (the region may reach past the layer's rectangle).
            sx0, sy0 = max(x0, lx), max(y0, ly)
            sx1, sy1 = min(x1, lx + lw), min(y1, ly + lh)
            region[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = layer.rgba[sy0 - ly : sy1 - ly, sx0 - lx : sx1 - lx]
            background = frame_rgb[y0:y1, x0:x1].astype(np.float32) * np.float32(1 / 255)
            res = composite_look_np(background, region, look, self.noise_at(x0, y0, x1 - x0, y1 - y0, key))
            out[y0:y1, x0:x1] = np.clip(res * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return out


def describe(compositor: Any) -> str:
    """"neural" or "plain": which compositing a pipeline's compositor does."""
    return "neural" if getattr(compositor, "active", False) else "plain"
