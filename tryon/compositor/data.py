"""Training and evaluation examples for the compositor, made by the project itself.

Backgrounds are real photos: ../shared/media (faces, bodies, hands, frames of its videos) and the photos
that ship inside scikit-image (astronaut, coffee, chelsea, rocket, motorcycle). They are split into train
and test by photo (a video's frames, and the two copies of the astronaut, count as one photo), so the test
photos are never seen in training. Jewelry is drawn by our own Renderer: catalog items at random
orientations and sizes.

One example: a camera frame is made from a photo (cropped, never enlarged, at most 640x480) and a random
camera (tryon.compositor.camera) is drawn. The input frame is what that camera records of the photo alone.
The input layer is a piece rendered as the live path renders it: lit by the light the renderer takes from
the camera frame (tryon.render.environment.FrameLight). The target is what the camera records of the photo
with the same piece composited on it (in display sRGB, as layers are drawn), lit by the photo's own light
(before the camera), with a soft contact shadow under it. Both recordings get the same sensor noise, so
they differ only round the piece. So the network has to infer from the background what the camera did
that the render's lighting has not already taken on. Stored per example: the frame crop, layer, target
(CROP_PX square, aligned to JPEG's 16 px blocks; the frame crop is also the network's native patch), the
frame's thumbnail, and the camera's blur and noise.
"""

from __future__ import annotations

import hashlib
import logging
import math
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from tryon.compositor.camera import capture, random_camera
from tryon.compositor.look import PATCH_PX, region_mask, thumbnail
from tryon.config import shared_media_dir
from tryon.errors import InputError
from tryon.render.scene import item_model

log = logging.getLogger(__name__)

MEDIA_DIR = shared_media_dir()
SKIMAGE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "stereo_motorcycle")
# Held out whatever the hash says: the README's before/after picture is made on the astronaut.
ALWAYS_TEST = frozenset({"astronaut", "coffee"})
TEST_FRACTION_MOD = 5  # a photo is held out when crc32(its group) % 5 == 0 (about a fifth)
FRAME_MAX = (640, 480)
VIDEO_FRAMES = 8  # frames taken from each video, evenly spaced
CROP_PX = PATCH_PX  # a training crop is also the network's native patch round the piece
JPEG_BLOCK_PX = 16
PER_FRAME = 4  # examples placed on each camera frame
SPRITE_PX = (14, 60)  # the square each sprite is rendered in; the piece inside is smaller
SPRITE_HFOV_DEG = 20.0
DATA_VERSION = 3


@dataclass(frozen=True)
class Photo:
    """One background picture. group: what the train/test split goes by (a video's frames share one)."""

    group: str
    name: str
    load: Callable[[], np.ndarray]


def _imread(path: Path) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise InputError(f"cannot read {path}")
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    return load


def _skimage(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from skimage import data

        rgb = getattr(data, name)()
        if isinstance(rgb, tuple):  # stereo_motorcycle: (left, right, disparity)
            rgb = rgb[0]
        return np.ascontiguousarray(rgb[..., :3] if rgb.ndim == 3 else np.dstack([rgb] * 3))

    return load


def _video_frame(path: Path, index: int) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        cap = cv2.VideoCapture(str(path))
        try:
            cap.set(cv2.CAP_PROP_POS_FRAMES, index)
            ok, bgr = cap.read()
        finally:
            cap.release()
        if not ok:
            raise InputError(f"cannot read frame {index} of {path}")
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    return load


def photos(media_dir: Path | None = MEDIA_DIR) -> list[Photo]:
    """Every background: scikit-image's photos, and the media folder's when it is there (None: none)."""
    out = [Photo(n, f"skimage:{n}", _skimage(n)) for n in SKIMAGE_PHOTOS]
    if media_dir is None:
        return out
    if not Path(media_dir).is_dir():
        log.warning("no media folder at %s: training on scikit-image's photos alone", media_dir)
        return out
    media_dir = Path(media_dir)
    for sub in ("faces", "body", "hands"):
        for p in sorted((media_dir / sub).glob("*")):
            if p.suffix.lower() in (".jpg", ".jpeg", ".png"):
                group = "astronaut" if p.stem.startswith("astronaut") else p.stem
                out.append(Photo(group, f"{sub}/{p.name}", _imread(p)))
    for p in sorted((media_dir / "video").glob("*.mp4")):
        cap = cv2.VideoCapture(str(p))
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        cap.release()
        for k in range(VIDEO_FRAMES if n > 0 else 0):
            i = int((k + 0.5) * n / VIDEO_FRAMES)
            out.append(Photo(p.stem, f"video/{p.name}#{i}", _video_frame(p, i)))
    return out


def is_test(group: str) -> bool:
    return group in ALWAYS_TEST or zlib.crc32(group.encode()) % TEST_FRACTION_MOD == 0


def split(all_photos: Sequence[Photo]) -> tuple[list[Photo], list[Photo]]:
    """(train, test), by photo group: no photo (no video) is on both sides."""
    return [p for p in all_photos if not is_test(p.group)], [p for p in all_photos if is_test(p.group)]


# --- jewelry: our own renders --------------------------------------------------------------------------------


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    q = rng.normal(size=4)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


@dataclass(frozen=True)
class _View:
    model: Any
    intr: Any
    cam_T: np.ndarray
    size_px: int


class Jewelry:
    """Catalog items drawn by our own Renderer at random orientations and sizes, lit by a given
    environment (tryon.render.environment): the live path lights them with the camera frame's light.
    Necklaces and pendants are draped and seen from the front (as their thumbnails are), rolled at random.
    Use from one thread (the renderer's EGL context); close() when done."""

    def __init__(self, item_ids: Iterable[str] | None = None, catalog: object | None = None) -> None:
        from tryon.jewelry.catalog import Catalog
        from tryon.render.renderer import Renderer

        cat = catalog if catalog is not None else Catalog.load()
        assert isinstance(cat, Catalog)
        items = [cat.get(i) for i in item_ids] if item_ids is not None else list(cat)
        self.items = [(item.kind, item_model(cat, item)) for item in items]
        self._renderer = Renderer()

    def close(self) -> None:
        self._renderer.close()

    def __enter__(self) -> Jewelry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def views(self, rng: np.random.Generator, n: int) -> list[_View]:
        """n random pieces: which, how turned, how big (the square it is drawn in, SPRITE_PX)."""
        from tryon.render.thumbnail import thumbnail_pose
        from tryon.types import Intrinsics

        out = []
        for _ in range(n):
            kind, model = self.items[int(rng.integers(len(self.items)))]
            size = int(rng.integers(SPRITE_PX[0], SPRITE_PX[1] + 1))
            if kind in ("necklace", "pendant"):
                intr, cam_T = thumbnail_pose(model, size, kind)
                roll = rng.uniform(-0.5, 0.5)
                c, s = math.cos(roll), math.sin(roll)
                cam_T = np.array([[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]) @ cam_T
            else:
                intr = Intrinsics.from_hfov(size, size, SPRITE_HFOV_DEG)
                cam_T = np.eye(4)
                cam_T[:3, :3] = _random_rotation(rng)
                corners = model.corners_cam(model.cam_T_parts(cam_T))
                centre = 0.5 * (corners.min(axis=0) + corners.max(axis=0))
                radius = float(np.max(np.linalg.norm(corners - centre, axis=1)))
                cam_T[:3, 3] = np.array([0.0, 0.0, radius / math.sin(math.radians(SPRITE_HFOV_DEG) / 2)]) - centre
            out.append(_View(model, intr, cam_T, size))
        return out

    def draw(self, views: Sequence[_View], environment: object | None = None) -> list[np.ndarray]:
        """Each view as (size, size, 4) uint8 premultiplied RGBA, lit by this environment (None: as the
        renderer is)."""
        from tryon.render.renderer import Roi

        if environment is not None:
            self._renderer.set_environment(environment)  # type: ignore[arg-type]
        out = []
        for v in views:
            rgba = self._renderer.draw(Roi(0, 0, v.size_px, v.size_px), v.intr, [(v.model, v.model.cam_T_parts(v.cam_T))])
            out.append(np.clip(rgba * 255.0 + 0.5, 0, 255).astype(np.uint8))
        return out


def _crop(live: np.ndarray, true: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Both renders of one view cut to the piece (the same geometry: the same alpha); None if too small."""
    ys, xs = np.nonzero(live[..., 3])
    if len(xs) < 12:
        return None
    cut = np.s_[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    return live[cut], true[cut]


# --- examples ----------------------------------------------------------------------------------------------------


def camera_frame(photo: np.ndarray, rng: np.random.Generator, max_size: tuple[int, int] = FRAME_MAX) -> np.ndarray:
    """A camera-sized frame from a photo: shrunk (never enlarged) to cover max_size at a random zoom,
    randomly cropped and mirrored. (h, w, 3) uint8, at most max_size (width, height)."""
    h, w = photo.shape[:2]
    cover = max(max_size[0] / w, max_size[1] / h)
    scale = min(1.0, cover * rng.uniform(1.0, 1.5))
    if scale < 1.0:
        photo = cv2.resize(photo, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        h, w = photo.shape[:2]
    fw, fh = min(w, max_size[0]), min(h, max_size[1])
    x0, y0 = int(rng.integers(0, w - fw + 1)), int(rng.integers(0, h - fh + 1))
    frame = photo[y0 : y0 + fh, x0 : x0 + fw]
    return np.ascontiguousarray(frame[:, ::-1] if rng.random() < 0.5 else frame)


@dataclass(frozen=True)
class Shadow:
    strength: float
    sigma_px: float
    dx_px: float
    dy_px: float


def random_shadow(rng: np.random.Generator) -> Shadow:
    """A contact shadow: none one time in four, else soft and a little below the piece (light from above)."""
    if rng.random() < 0.25:
        return Shadow(0.0, 1.0, 0.0, 0.0)
    return Shadow(float(rng.uniform(0.1, 0.6)), float(rng.uniform(1.0, 3.0)), float(rng.uniform(-1.5, 1.5)),
                  float(rng.uniform(0.0, 2.5)))


def shadow_map(alpha: np.ndarray, shadow: Shadow) -> np.ndarray:
    """(h, w) float32 multiplier 0..1 for the skin: the alpha moved by (dx, dy), blurred, scaled."""
    if shadow.strength <= 0.0:
        return np.ones(alpha.shape, np.float32)
    m = np.array([[1, 0, shadow.dx_px], [0, 1, shadow.dy_px]], np.float32)
    moved = cv2.warpAffine(alpha, m, (alpha.shape[1], alpha.shape[0]), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=(0.0,))
    soft = cv2.GaussianBlur(moved, (0, 0), shadow.sigma_px, borderType=cv2.BORDER_CONSTANT)
    return (1.0 - np.float32(shadow.strength) * soft).astype(np.float32)


def compose_scene(background: np.ndarray, layer_u8: np.ndarray, shadow: Shadow) -> np.ndarray:
    """What stands before the camera: background (h, w, 3) uint8 with the premultiplied layer (h, w, 4)
    uint8 over it and the shadow under it, float32 display 0..1."""
    bg = background.astype(np.float32) * np.float32(1 / 255)
    layer = layer_u8.astype(np.float32) * np.float32(1 / 255)
    a = layer[..., 3]
    return layer[..., :3] + bg * ((1.0 - a) * shadow_map(a, shadow))[..., None]


@dataclass
class Examples:
    """A set of examples (N of each): frame, target (N, CROP_PX, CROP_PX, 3) uint8; layer (N, CROP_PX,
    CROP_PX, 4) uint8 premultiplied; thumb (N, 32, 32, 3) uint8; camera (N, 3) float32 (blur px,
    read noise, shot noise); photo (N,) int32 index into names."""

    frame: np.ndarray
    layer: np.ndarray
    target: np.ndarray
    thumb: np.ndarray
    camera: np.ndarray
    photo: np.ndarray
    names: list[str]
    _region: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.frame)

    def region(self) -> np.ndarray:
        """(N, CROP_PX, CROP_PX) uint8, 255 where errors are counted (look.region_mask), made once."""
        if self._region is None:
            self._region = np.stack([region_mask(a) for a in self.layer[..., 3]]).astype(np.uint8) * 255
        return self._region

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, frame=self.frame, layer=self.layer, target=self.target, thumb=self.thumb, camera=self.camera,
                 photo=self.photo, names=np.array(self.names))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Examples:
        with np.load(path) as z:
            return cls(z["frame"], z["layer"], z["target"], z["thumb"], z["camera"], z["photo"],
                       [str(n) for n in z["names"]])


def _aligned(lo: int, hi: int, rng: np.random.Generator) -> int:
    """A random multiple of JPEG_BLOCK_PX in [lo, hi] (lo if there is none)."""
    a, b = -(-lo // JPEG_BLOCK_PX), hi // JPEG_BLOCK_PX
    return int(rng.integers(a, b + 1)) * JPEG_BLOCK_PX if b >= a else lo


def make_examples(sources: Sequence[Photo], jewelry: Jewelry, n: int, seed: int,
                  progress: Callable[[int, int], None] | None = None) -> Examples:
    """n examples on these photos with these pieces (see the module's docstring), seeded.

    The input layer is lit as the live path lights it: by the environment made from the camera frame
    (what the camera recorded); the piece in the target by the environment of the photo itself (the scene's
    own light, before the camera), and then recorded by the camera with the rest."""
    from tryon.render.environment import FrameLight

    if not sources or not jewelry.items:
        raise InputError("examples need at least one photo and one piece of jewelry")
    rng = np.random.default_rng(seed)
    light = FrameLight()
    loaded: dict[int, np.ndarray] = {}
    s, m = CROP_PX, JPEG_BLOCK_PX
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("frame", "layer", "target", "thumb", "camera", "photo")}
    while len(cols["frame"]) < n:
        k = int(rng.integers(len(sources)))
        if k not in loaded:
            loaded[k] = sources[k].load()
        bg = camera_frame(loaded[k], rng)
        h, w = bg.shape[:2]
        if h < s or w < s:
            continue
        camera = random_camera(rng)
        noise = rng.standard_normal(bg.shape, np.float32)
        shot = capture(camera, bg, noise)
        thumb = thumbnail(shot)
        views = jewelry.views(rng, min(PER_FRAME, n - len(cols["frame"])))
        lives = jewelry.draw(views, light(shot))
        trues = jewelry.draw(views, light(bg))
        for live, true in zip(lives, trues, strict=True):
            pair = _crop(live, true)
            if pair is None:
                continue
            live, true = pair
            if rng.random() < 0.5:
                live, true = live[:, ::-1], true[:, ::-1]
            sh, sw = live.shape[:2]
            bx, by = _aligned(0, w - s, rng), _aligned(0, h - s, rng)
            pad = 6
            ox = int(rng.integers(min(pad, s - sw), max(min(pad, s - sw), s - sw - pad) + 1)) if sw < s else 0
            oy = int(rng.integers(min(pad, s - sh), max(min(pad, s - sh), s - sh - pad) + 1)) if sh < s else 0
            live, true = live[: s - oy, : s - ox], true[: s - oy, : s - ox]
            # The camera sees a margin round the crop too (blur, JPEG blocks), cut off after.
            x0, y0 = max(0, bx - m), max(0, by - m)
            x1, y1 = min(w, bx + s + m), min(h, by + s + m)
            lx, ly = bx - x0 + ox, by - y0 + oy
            layers = []
            for sprite in (live, true):
                layer = np.zeros((y1 - y0, x1 - x0, 4), np.uint8)
                layer[ly : ly + sprite.shape[0], lx : lx + sprite.shape[1]] = sprite
                layers.append(layer)
            scene = compose_scene(bg[y0:y1, x0:x1], layers[1], random_shadow(rng))
            target = capture(camera, scene, noise[y0:y1, x0:x1])
            cut = np.s_[by - y0 : by - y0 + s, bx - x0 : bx - x0 + s]
            cols["frame"].append(shot[by : by + s, bx : bx + s])
            cols["layer"].append(layers[0][cut])
            cols["target"].append(target[cut])
            cols["thumb"].append(thumb)
            cols["camera"].append(np.array([camera.blur_px, camera.read_noise, camera.shot_noise], np.float32))
            cols["photo"].append(np.array(k, np.int32))
        if progress is not None:
            progress(len(cols["frame"]), n)
    return Examples(frame=np.stack(cols["frame"]), layer=np.stack(cols["layer"]), target=np.stack(cols["target"]),
                    thumb=np.stack(cols["thumb"]), camera=np.stack(cols["camera"]), photo=np.stack(cols["photo"]),
                    names=[p.name for p in sources])


def fingerprint(parts: Iterable[object]) -> str:
    """A short hash of what a data set depends on (the renderer's shaders, the catalog, the photos)."""
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, Path) and p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file():
                    h.update(f.name.encode())
                    h.update(f.read_bytes())
        elif isinstance(p, Path) and p.is_file():
            h.update(p.read_bytes())
        else:
            h.update(repr(p).encode())
    return h.hexdigest()[:16]


def dataset_key(sources: Sequence[Photo], seed: int, n: int) -> str:
    from tryon.jewelry.catalog import DEFAULT_ASSETS_DIR
    from tryon.render import renderer

    here = Path(__file__).resolve().parent
    return fingerprint([DATA_VERSION, seed, n, [p.name for p in sources], renderer.SHADERS_DIR,
                        Path(renderer.__file__), Path(renderer.__file__).parent / "environment.py",
                        DEFAULT_ASSETS_DIR / "catalog.json", here / "camera.py", here / "data.py"])
