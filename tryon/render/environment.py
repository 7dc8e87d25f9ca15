"""Image-based light for the jewelry: an environment map made from the live camera frame.

Polished metal is a mirror, so what makes a ring look real is that it reflects the room the person is in.
The camera sees only part of that room (the person and what is behind them), so the frame is wrapped
round the whole sphere of directions, twice. The hemisphere into the scene (z > 0) is an equidistant fisheye
of the whole frame, centre straight ahead, the frame's border at 90 degrees. The hemisphere back toward the
camera (z < 0) is the room behind the camera, which the frame does not show: the frame's outer part (walls,
windows, lamps at the sides; not the person, who fills the middle) is stretched over it, the same border at
90 degrees, so both agree at z = 0 and the map has no seam. Up in the map is up in the frame: light from
the ceiling and windows above lands above, a dark floor below, the room's colour everywhere.

A camera frame is low dynamic range: light sources are clipped at 255. Their radiance is put back by an
inverse tone curve that lifts near-white pixels (up to HIGHLIGHT_GAIN times), so reflections of lamps and
windows are bright enough to read as highlights on metal.

The map is blended with a studio (soft boxes, a ceiling, a floor; `studio`) tinted by the room's colour:
jewelry photographs are lit that way, and the studio's bright, sharp shapes give polished metal and
faceted stones their contrast where the camera's own view is flat. FRAME_WEIGHT says how much is room.

Metal keeps its identity in every room. A white-balanced frame's colours are mostly the colours of things (a
blue backdrop, a red wall, skin filling a close-up), not of the light, which comes from lamps, windows and the
sky and is near white. Multiplied into gold's reflectance, a blue room made gold olive and a red one copper,
and white metals took the wall's colour. So the light's colour is the frame's mean colour held to a mild tint
(TINT_MAX), and each texel of the reflected room keeps colour only in proportion to its own luminance
(ROOM_CHROMA): a saturated wall, which is never bright, darkens the reflections without repainting the metal.
And the light's strength is read off the frame's bright part (KEY_FRACTION) as well as its mean: a person
lit in front of a black backdrop is lit, and the jewelry they wear shows its highlights.

`Environment` holds what the shader reads:
  - `mips`: the equirectangular map prefiltered for glossy reflection, one mip level per roughness step
    (level k is blurred to about 2^k texels); linear RGB radiance, float32, (H >> k, W >> k, 3);
  - `sh`: (9, 3) irradiance spherical harmonics (Ramamoorthi and Hanrahan 2001), for diffuse light;
  - `light`: (3,) the colour and strength of the direct lights, relative to the studio's mean luminance
    (`room_light`; the studio's own is about (1, 1, 1));
  - `exposure`: the camera's: a mirror shows the frame's own pixel values at 1 (a room map); the studio is
    shown at 0.85.

Map convention (camera frame, x right, y down, z forward): u = atan2(x, z) / 2pi + 0.5, v = acos(-y) / pi,
so v = 0 is straight up and u = 0.5 straight ahead.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from tryon.errors import InputError

MAP_W, MAP_H = 128, 64
MIP_LEVELS = 6  # 128x64 .. 4x2
SAMPLE_W = 160  # the frame is shrunk to this width first: the map is blurry by design
FRAME_WEIGHT = 0.55
# A map's mean colour is its light's colour times the colours of what is in view; a map given without its
# light (make_environment) lights the direct lights with this much of its saturation.
LIGHT_SATURATION = 0.5
# A frame's light (see the module docstring): its mean colour at most TINT_MAX from white in any channel,
# relative to its luminance (a blue backdrop cools the light a little and no more; a camera's white balance,
# which colours everything, shows at this strength too). Before, the light kept half the mean's saturation
# and the room 60 % of its own: a blue backdrop turned a yellow gold hoop olive (CIELAB hue 115 and chroma 8;
# gold's own are 91 and 38) and white gold blue (chroma 20); tryon.tools.metal_identity measures it.
TINT_MAX = 0.05
# The reflected room: each texel's colour at most this fraction of its luminance in any channel.
ROOM_CHROMA = 0.06
# The light's strength: the mean luminance of the room, or KEY_SHARE of the mean of its brightest KEY_FRACTION
# (the lit face and clothes, lamps, windows) if that is more (a dark backdrop drags the mean down, not the light).
KEY_FRACTION = 0.2
KEY_SHARE = 0.5
HIGHLIGHT_GAIN = 5.0  # clipped whites come back this many times brighter
HIGHLIGHT_KNEE = 0.75  # sRGB level where the lift starts
BACK_RING = 0.6  # the camera's side of the sphere shows the frame's outer 40 % (see FrameLight)
SMOOTHING = 0.35  # video: the new map's weight against the running one (no flicker when light changes)
# A frame's pixels are what its surfaces reflect, not the light falling on them: a room of mean albedo
# about 0.5 looks half as bright as its light. Diffuse light from the frame is scaled back up by this;
# mirror reflections see the pixels as they are.
ALBEDO_GAIN = 2.0


@dataclass(frozen=True)
class Environment:
    mips: tuple[np.ndarray, ...]  # level k: (MAP_H >> k, MAP_W >> k, 3) float32 linear radiance
    sh: np.ndarray  # (9, 3) float32 irradiance coefficients
    light: np.ndarray  # (3,) float32
    exposure: float

    def radiance(self, d: np.ndarray, level: int = 0) -> np.ndarray:
        """(n, 3) radiance seen along camera-frame directions d (n, 3) at a mip level (nearest texel)."""
        m = self.mips[level]
        u, v = direction_to_uv(np.asarray(d, np.float64))
        x = np.clip((u * m.shape[1]).astype(int), 0, m.shape[1] - 1)
        y = np.clip((v * m.shape[0]).astype(int), 0, m.shape[0] - 1)
        return m[y, x]

    def irradiance(self, n: np.ndarray) -> np.ndarray:
        """(k, 3) irradiance on surfaces facing unit normals n (k, 3), from the SH (what the shader does)."""
        return sh_basis(np.asarray(n, np.float64)) @ self.sh


def direction_to_uv(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = d / np.linalg.norm(d, axis=-1, keepdims=True)
    u = np.arctan2(d[..., 0], d[..., 2]) / (2.0 * np.pi) + 0.5
    v = np.arccos(np.clip(-d[..., 1], -1.0, 1.0)) / np.pi
    return u, v


def map_directions(w: int = MAP_W, h: int = MAP_H) -> np.ndarray:
    """(h, w, 3) unit direction of each map texel's centre, camera frame."""
    u = (np.arange(w) + 0.5) / w
    v = (np.arange(h) + 0.5) / h
    phi = (u - 0.5) * 2.0 * np.pi
    theta = v * np.pi
    st = np.sin(theta)[:, None]
    return np.stack([st * np.sin(phi)[None, :], np.broadcast_to(-np.cos(theta)[:, None], (h, w)),
                     st * np.cos(phi)[None, :]], axis=-1)


def _solid_angles(h: int, w: int) -> np.ndarray:
    """(h, 1) solid angle of each texel in a row of an equirectangular map (steradians)."""
    theta = (np.arange(h) + 0.5) / h * np.pi
    return (np.sin(theta) * (np.pi / h) * (2.0 * np.pi / w))[:, None]


def sh_basis(n: np.ndarray) -> np.ndarray:
    """(k, 9) the first nine real spherical harmonics at unit directions n (k, 3)."""
    x, y, z = n[..., 0], n[..., 1], n[..., 2]
    return np.stack([
        np.full_like(x, 0.282095),
        0.488603 * y, 0.488603 * z, 0.488603 * x,
        1.092548 * x * y, 1.092548 * y * z, 0.315392 * (3.0 * z * z - 1.0), 1.092548 * x * z,
        0.546274 * (x * x - y * y),
    ], axis=-1)


# Cosine-lobe convolution per band: radiance coefficients -> irradiance coefficients.
_BAND_GAIN = np.array([np.pi] + [2.0 * np.pi / 3.0] * 3 + [np.pi / 4.0] * 5)


_SH_WEIGHTS: dict[tuple[int, int], np.ndarray] = {}


def irradiance_sh(radiance: np.ndarray) -> np.ndarray:
    """(9, 3) irradiance coefficients of an equirectangular radiance map (h, w, 3)."""
    h, w = radiance.shape[:2]
    weights = _SH_WEIGHTS.get((h, w))
    if weights is None:  # (9, h * w): basis x solid angle x the cosine lobe's gain per band
        basis = sh_basis(map_directions(w, h)) * _solid_angles(h, w)[..., None]
        weights = _SH_WEIGHTS[(h, w)] = (basis.reshape(-1, 9) * _BAND_GAIN).T.astype(np.float32)
    return weights @ radiance.reshape(-1, 3).astype(np.float32)


def _blur_wrapped(img: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur that wraps round in u (the map's seam) and clamps at the poles."""
    pad = max(1, int(math.ceil(3 * sigma)))
    padded = np.concatenate([img[:, -pad:], img, img[:, :pad]], axis=1)
    out = cv2.GaussianBlur(padded, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    return out[:, pad:-pad]


def _mips(level0: np.ndarray) -> tuple[np.ndarray, ...]:
    """Prefiltered levels: each half the size of the last and blurred by about a texel more."""
    out = [level0.astype(np.float32)]
    for _ in range(1, MIP_LEVELS):
        prev = out[-1]
        small = cv2.resize(prev, (prev.shape[1] // 2, prev.shape[0] // 2), interpolation=cv2.INTER_AREA)
        out.append(_blur_wrapped(small, 0.8).astype(np.float32))
    return tuple(out)


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.2126, 0.7152, 0.0722], rgb.dtype)


def make_environment(radiance: np.ndarray, exposure: float = 1.0, diffuse_gain: float = 1.0,
                     light: np.ndarray | None = None) -> Environment:
    """The Environment of an equirectangular linear radiance map (MAP_H, MAP_W, 3). diffuse_gain scales the
    diffuse light (the SH) against the reflections. light: (3,) the direct lights' radiance, relative to the
    studio's (None: the map's mean, desaturated)."""
    radiance = np.ascontiguousarray(radiance, np.float32)
    mips = _mips(radiance)
    sh = irradiance_sh(mips[2]) * np.float32(diffuse_gain)  # a 32x16 map is plenty for nine coefficients
    if light is None:
        light = _desaturated(_mean(mips[2])) / _studio_level()
    return Environment(mips, sh, np.asarray(light, np.float32), float(exposure))


def _desaturated(rgb: np.ndarray, keep: float = LIGHT_SATURATION) -> np.ndarray:
    lum = _luminance(rgb)[..., None]
    return lum + keep * (rgb - lum)


def _chroma_limited(rgb: np.ndarray, limit: float) -> np.ndarray:
    """(..., 3) linear RGB with each colour's departure from grey at most `limit` times its luminance in any
    channel (luminance kept)."""
    lum = _luminance(rgb)[..., None]
    off = rgb - lum
    most = np.abs(off).max(axis=-1, keepdims=True)
    return lum + off * np.minimum(1.0, limit * lum / np.maximum(most, 1e-12))


def _key_level(room: np.ndarray) -> float:
    """The light's luminance in a room map (MAP_H, MAP_W, 3): its mean, or KEY_SHARE of its brightest
    KEY_FRACTION's mean if that is more."""
    lum = _luminance(room).ravel()
    top = np.partition(lum, int(lum.size * (1.0 - KEY_FRACTION)))[int(lum.size * (1.0 - KEY_FRACTION)):]
    return max(float(_luminance(_mean(room))), KEY_SHARE * float(top.mean()))


def room_light(room: np.ndarray) -> np.ndarray:
    """(3,) the colour and strength of a room map's light (MAP_H, MAP_W, 3), relative to the studio's mean
    luminance: the map's mean colour held to a mild tint (TINT_MAX), at its key level."""
    tint = _chroma_limited(_mean(room), TINT_MAX)
    return (tint / max(float(_luminance(tint)), 1e-12) * (_key_level(room) / _studio_level())).astype(np.float32)


def _mean(radiance: np.ndarray) -> np.ndarray:
    """(3,) the map's mean radiance over the sphere."""
    return (radiance * _solid_angles(*radiance.shape[:2])[..., None]).sum(axis=(0, 1)) / (4.0 * np.pi)



def studio(w: int = MAP_W, h: int = MAP_H) -> np.ndarray:
    """(h, w, 3) linear radiance of a soft studio fixed to the camera: a bright ceiling, two soft boxes left
    and right, one above the camera, a light strip, a dim floor (what jewelry is photographed in)."""
    d = map_directions(w, h)
    up = -d[..., 1]

    def box(toward: tuple[float, float, float], size: float) -> np.ndarray:
        t = np.asarray(toward) / np.linalg.norm(toward)
        return np.exp(-(np.linalg.norm(d - t, axis=-1) / size) ** 2)[..., None]

    def smooth(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
        t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
        return (t * t * (3.0 - 2.0 * t))[..., None]

    ceiling = np.array([0.95, 0.93, 0.90]) * smooth(0.15, 0.85, up)
    floor = np.array([0.05, 0.045, 0.04]) * smooth(0.1, -0.6, up)
    strip = np.exp(-((d[..., 0] + 0.35) / 0.06) ** 2)[..., None] * smooth(-0.2, 0.4, -d[..., 2])
    out = (0.12 + 0.8 * ceiling + floor + 3.0 * box((-0.8, -0.3, -0.5), 0.25) + 2.2 * box((0.9, -0.2, -0.4), 0.22)
           + 1.4 * box((0.1, -0.5, -1.0), 0.30) + 1.5 * strip)
    return out.astype(np.float32)


STUDIO_EXPOSURE = 0.85


@functools.cache
def _studio_level() -> float:
    return float(_luminance(_mean(studio())))


@functools.cache
def studio_environment() -> Environment:
    """The studio alone: thumbnails, turntables, and frames before the first camera light is known."""
    return make_environment(studio(), STUDIO_EXPOSURE)


_SRGB_TO_LINEAR = np.array([c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
                            for c in np.arange(256) / 255.0], np.float32)


class FrameLight:
    """Camera frames -> Environment. Keeps the remap tables for one frame size and, in video, a running
    average of the maps so the light follows the room without flicker."""

    def __init__(self, frame_weight: float = FRAME_WEIGHT) -> None:
        self.frame_weight = frame_weight
        self._maps: tuple[tuple[int, int], np.ndarray, np.ndarray] | None = None
        self._room: np.ndarray | None = None  # running frame part of the map (MAP_H, MAP_W, 3)
        self._studio = studio()

    def reset(self) -> None:
        self._room = None

    def _remap_tables(self, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
        """Where each map texel samples a (w, h) frame: the two-hemisphere fisheye of the module docstring."""
        if self._maps is None or self._maps[0] != (w, h):
            d = map_directions()
            alpha = np.arccos(np.clip(np.abs(d[..., 2]), 0.0, 1.0))  # from the nearer of +z, -z
            side = np.hypot(d[..., 0], d[..., 1])
            side = np.where(side < 1e-9, 1.0, side)
            # Into the scene: the whole frame, its centre straight ahead. Back toward the camera: the room
            # behind it is unseen; its outer part (walls, not the person's own face) stands in for it.
            front = alpha / (np.pi / 2.0)
            fraction = np.where(d[..., 2] >= 0.0, front, BACK_RING + (1.0 - BACK_RING) * front)
            reach = fraction * math.hypot(w, h) / 2.0  # 90 degrees: the frame's corners
            x = (w - 1) / 2.0 + reach * d[..., 0] / side
            y = (h - 1) / 2.0 + reach * d[..., 1] / side
            self._maps = ((w, h), np.clip(x, 0, w - 1).astype(np.float32), np.clip(y, 0, h - 1).astype(np.float32))
        return self._maps[1], self._maps[2]

    def room(self, rgb: np.ndarray) -> np.ndarray:
        """(MAP_H, MAP_W, 3) linear radiance of this frame wrapped round the sphere (no averaging)."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8 or min(rgb.shape[:2]) < 2:
            raise InputError(f"expected an (H, W, 3) uint8 RGB frame, got {rgb.shape} {rgb.dtype}")
        h, w = rgb.shape[:2]
        small_w = min(SAMPLE_W, w)
        small_h = max(2, round(h * small_w / w))
        small = cv2.resize(rgb, (small_w, small_h), interpolation=cv2.INTER_AREA)
        mx, my = self._remap_tables(small_w, small_h)
        texels = cv2.remap(small, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        linear = _SRGB_TO_LINEAR[texels]
        level = texels.max(axis=-1, keepdims=True).astype(np.float32) / 255.0
        lift = np.clip((level - HIGHLIGHT_KNEE) / (1.0 - HIGHLIGHT_KNEE), 0.0, 1.0) ** 2
        return _blur_wrapped(linear * (1.0 + (HIGHLIGHT_GAIN - 1.0) * lift), 1.0)

    def __call__(self, rgb: np.ndarray, video: bool = False) -> Environment:
        """The light of this frame (in video, averaged with the frames before it)."""
        room = self.room(rgb)
        if video and self._room is not None:
            room = self._room + SMOOTHING * (room - self._room)
        self._room = room if video else None
        # The studio's shapes in the light's colour, at its strength; the room's reflection with its colours
        # held to its brightness.
        light = room_light(room)
        reflected = _chroma_limited(room, ROOM_CHROMA)
        return make_environment(self.frame_weight * reflected + (1.0 - self.frame_weight) * self._studio * light,
                                diffuse_gain=ALBEDO_GAIN, light=light)
