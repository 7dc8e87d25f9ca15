"""A random camera: what a real camera does to a scene, to make the compositor's training targets.

A `Camera` maps a scene image (display sRGB, 0..1, as the photo and the renderer's layer are) to what a
camera would record: exposure and white balance, saturation and a tone curve (gamma, S-curve, lifted blacks,
a lowered white), optical blur (Gaussian or a defocus disk), sensor noise (shot and read) and JPEG. The
compositor's training applies one camera to the whole composite (photo with the jewelry) to make the
target, and the same camera to the photo alone to make its input, so the network has to infer the camera
from the background. Everything is seeded numpy/OpenCV.

Noise is added in display units after the tone curve, with variance read**2 + shot * level: a simplification
of the sensor's (noise before the curve), chosen so that the compositor can model it exactly.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from tryon.errors import InputError

LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)  # Rec. 709 luminance of linear RGB


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    """Display sRGB 0..1 -> linear light, float32 (the exact piecewise curve)."""
    x = np.asarray(x, np.float32)
    return np.where(x <= 0.04045, x / 12.92, ((np.maximum(x, 0.04045) + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    """Linear light (clipped to 0..1) -> display sRGB 0..1, float32."""
    x = np.clip(np.asarray(x, np.float32), 0.0, 1.0)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * np.maximum(x, 0.0031308) ** (1 / 2.4) - 0.055).astype(np.float32)


@dataclass(frozen=True)
class Camera:
    """One camera's look. Gains multiply linear RGB; the tone curve acts on display values."""

    exposure_ev: float = 0.0
    wb_gains: tuple[float, float, float] = (1.0, 1.0, 1.0)
    saturation: float = 1.0
    gamma: float = 1.0  # linear ** gamma before encoding (> 1 darkens the mid-tones)
    contrast: float = 0.0  # S-curve y - c sin(2 pi y) / (2 pi): > 0 more contrast, < 0 flatter
    black: float = 0.0  # display level of black
    white: float = 1.0  # display level of white
    blur_sigma_px: float = 0.0  # Gaussian (lens softness, focus), display space
    defocus_px: float = 0.0  # radius of a disk kernel (out of focus); 0: none
    read_noise: float = 0.0  # standard deviation, display units
    shot_noise: float = 0.0  # variance per unit display level
    jpeg_quality: int = 0  # 0: no JPEG

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @property
    def blur_px(self) -> float:
        """One number for the blur: the Gaussian sigma with the same spread (a disk of radius r has r / 2)."""
        return math.hypot(self.blur_sigma_px, 0.5 * self.defocus_px)

    def noise_sd(self, level: np.ndarray | float) -> np.ndarray:
        """Noise standard deviation at these display levels."""
        return np.sqrt(self.read_noise**2 + self.shot_noise * np.clip(level, 0.0, 1.0))


NEUTRAL = Camera()


def random_camera(rng: np.random.Generator) -> Camera:
    """A camera drawn from the range of webcams and phones in ordinary rooms: mostly a little dark, warm or
    cool, soft, noisy and compressed; one in ten with a neutral look (noise and JPEG only)."""
    neutral = rng.random() < 0.1
    t, tint = rng.normal(0.0, 0.13), rng.normal(0.0, 0.04)
    blur = float(rng.uniform(0.3, 1.8)) if rng.random() < 0.65 else 0.0
    return Camera(
        exposure_ev=0.0 if neutral else float(np.clip(rng.normal(-0.2, 0.5), -1.5, 1.0)),
        wb_gains=(1.0, 1.0, 1.0) if neutral else (float(math.exp(t)), float(math.exp(tint)), float(math.exp(-t))),
        saturation=1.0 if neutral else float(rng.uniform(0.6, 1.3)),
        gamma=1.0 if neutral else float(math.exp(rng.normal(0.0, 0.12))),
        contrast=0.0 if neutral else float(rng.uniform(-0.2, 0.5)),
        black=float(rng.uniform(0.0, 0.06)) if not neutral and rng.random() < 0.5 else 0.0,
        white=float(rng.uniform(0.9, 1.0)) if not neutral and rng.random() < 0.3 else 1.0,
        blur_sigma_px=blur,
        defocus_px=float(rng.uniform(1.0, 2.5)) if rng.random() < 0.1 else 0.0,
        read_noise=float(rng.uniform(0.002, 0.025)),
        shot_noise=float(rng.uniform(0.0, 0.002)),
        jpeg_quality=int(rng.integers(40, 96)) if rng.random() < 0.7 else 0,
    )


def tone(camera: Camera, rgb: np.ndarray) -> np.ndarray:
    """(..., 3) display 0..1 -> (..., 3) float32 display 0..1: the camera's colour and tone, per pixel."""
    lin = srgb_to_linear(rgb)
    gains = np.float32(2.0**camera.exposure_ev) * np.asarray(camera.wb_gains, np.float32)
    lin = lin * gains
    if camera.saturation != 1.0:
        lum = lin @ LUMA
        lin = lum[..., None] + np.float32(camera.saturation) * (lin - lum[..., None])
    lin = np.clip(lin, 0.0, 1.0)  # the sensor saturates
    if camera.gamma != 1.0:
        lin = lin ** np.float32(camera.gamma)
    y = linear_to_srgb(lin)
    if camera.contrast:
        y = y - np.float32(camera.contrast / (2 * math.pi)) * np.sin(np.float32(2 * math.pi) * y)
    if camera.black or camera.white != 1.0:
        y = np.float32(camera.black) + np.float32(camera.white - camera.black) * y
    return np.clip(y, 0.0, 1.0).astype(np.float32)


def _disk(radius: float) -> np.ndarray:
    r = int(math.ceil(radius))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    # Anti-aliased edge: coverage falls from 1 to 0 over one pixel at the radius.
    k = np.clip(radius + 0.5 - np.hypot(xx, yy), 0.0, 1.0).astype(np.float32)
    return k / k.sum()


def blur(camera: Camera, rgb: np.ndarray) -> np.ndarray:
    """The camera's optical blur (edges reflected)."""
    out = rgb
    if camera.defocus_px > 0.0:
        out = cv2.filter2D(out, -1, _disk(camera.defocus_px), borderType=cv2.BORDER_REFLECT)
    if camera.blur_sigma_px > 0.0:
        out = cv2.GaussianBlur(out, (0, 0), camera.blur_sigma_px, borderType=cv2.BORDER_REFLECT)
    return out


def jpeg(rgb_u8: np.ndarray, quality: int) -> np.ndarray:
    """Through JPEG at this quality (4:2:0, as cameras and browsers send it) and back."""
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb_u8, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - OpenCV always encodes a valid uint8 image
        raise InputError("JPEG encoding failed")
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def capture(camera: Camera, scene: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """What the camera records of a scene.

    scene : (h, w, 3) float32 display 0..1 (or uint8). noise : (h, w, 3) float32 standard normal, the
    sensor's noise at these pixels: passing the same noise for two scenes that differ only in a region gives
    the same pixels outside it (blur's reach and JPEG's 16 px blocks aside: align crops to 16 px).
    Returns (h, w, 3) uint8.
    """
    if scene.ndim != 3 or scene.shape[2] != 3:
        raise InputError(f"scene must be (h, w, 3), got {scene.shape}")
    if noise.shape != scene.shape:
        raise InputError(f"noise must be {scene.shape}, got {noise.shape}")
    x = scene.astype(np.float32) * np.float32(1 / 255) if scene.dtype == np.uint8 else scene.astype(np.float32)
    y = blur(camera, tone(camera, x))
    y = y + camera.noise_sd(y).astype(np.float32) * noise
    out = np.clip(y * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return jpeg(out, camera.jpeg_quality) if camera.jpeg_quality else out
