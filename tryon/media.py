"""Reading and writing image and video files: the only module that touches media on disk.

Images are (H, W, 3) uint8 RGB arrays, upright (EXIF orientation applied). Videos are read and written
with PyAV; timestamps are integer milliseconds since the first video frame, taken from the frames' pts.
Every writer is atomic: it writes a temp file beside the destination and renames it into place, so a
failure never leaves a half-written file behind; the file gets the usual permissions (0666 less the umask).

Size and memory: a photo or video frame may have at most MAX_PIXELS (50 MP) unless the caller passes another
limit; a larger one is refused from its header, before any pixel is decoded (a 144 MP PNG: refused with the
process at 73 MB, where decoding it had taken 2.5 GB). Decoding a photo needs about 7 bytes a pixel above what
was in use: PIL's decoded image (4 bytes a pixel) and the result (3), copied out a band of rows at a time, so
about 350 MB for a 50 MP photo (measured: 332 MB for a 48 MP JPEG, 830 MB before the band copy). The bound for
`tryon render` on a 48 MP photo is 1.5 GB; it peaked at 1.1 to 1.2 GB, --save-layer included (before: 1.36 GB,
and 3.2 GB with --save-layer), of which about 0.6 GB is the program and its models (a 512 x 512 photo's run).
"""

from __future__ import annotations

import io
import logging
import os
import re
import secrets
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
from av.audio.stream import AudioStream
from av.video.stream import VideoStream
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from tryon.errors import InputError

log = logging.getLogger(__name__)

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".webp")
VIDEO_EXTS = (".mp4", ".webm", ".mov")

_PIL_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP"}
_PIL_OPTIONS: dict[str, dict[str, int]] = {"JPEG": {"quality": 95}, "PNG": {}, "WEBP": {"quality": 95}}

# Audio codecs each container takes as they are, so their packets are copied, not re-encoded.
_AUDIO_COPY = {".mp4": {"aac", "mp3"}, ".mov": {"aac", "mp3"}, ".webm": {"opus", "vorbis"}}
_AUDIO_ENCODER = {".mp4": "aac", ".mov": "aac", ".webm": "libopus"}
_X264_OPTIONS = {"crf": "20", "preset": "veryfast"}
_VPX_OPTIONS = {"crf": "32", "b": "0", "deadline": "realtime", "cpu-used": "8", "row-mt": "1"}
_FALLBACK_FPS = Fraction(30)

MAX_PIXELS = 50_000_000
"""The most pixels a photo or video frame may have by default (50 MP, a 8660 x 5773 camera frame): more is
refused from the header. Callers pass their own limit as max_pixels (the server: max_image_megapixels)."""
# Decoded photos are copied out of PIL a band of rows at a time, so no second full-size copy is ever held.
_STRIP_PIXELS = 1 << 20

PathLike = str | os.PathLike[str]


def kind_of(path: PathLike) -> str:
    """'image' or 'video' from the file extension; InputError for anything else."""
    ext = Path(path).suffix.lower()
    if ext in IMAGE_EXTS:
        return "image"
    if ext in VIDEO_EXTS:
        return "video"
    choices = ", ".join(IMAGE_EXTS + VIDEO_EXTS)
    raise InputError(f"unsupported format '{ext or Path(path).name}': use one of {choices}")


# --- images -----------------------------------------------------------------------------------------------


def read_image(path: PathLike, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode an image file to (H, W, 3) uint8 RGB, rotated upright by its EXIF orientation.

    An image of more than max_pixels pixels raises InputError without being decoded.
    """
    p = Path(path)
    kind_of(p)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except OSError as e:
        raise InputError(f"{p}: cannot read ({e.strerror or e})") from None
    return _decode(data, str(p), max_pixels)


def decode_image(data: bytes, max_pixels: int = MAX_PIXELS, name: str = "uploaded image") -> np.ndarray:
    """Decode encoded image bytes (an HTTP upload) to (H, W, 3) uint8 RGB, upright.

    An image of more than max_pixels pixels raises InputError without being decoded; errors name it `name`.
    """
    return _decode(data, name, max_pixels)


def _decode(data: bytes, name: str, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """(H, W, 3) uint8 RGB from encoded bytes: size checked from the header, then decoded, turned upright
    and brought to 8-bit RGB (16-bit and float greyscale scaled, not clipped; CMYK, palette, alpha dropped)."""
    if not data:
        raise InputError(f"{name}: empty file")
    bad = (UnidentifiedImageError, OSError, ValueError, SyntaxError)
    try:
        # Image.open reads only the header. PIL warns from 89 MP and refuses from 179 MP by itself; our own
        # limit, checked next, is what the user should read about. (The warning filter is process-wide for
        # this moment: at worst another thread misses a DecompressionBombWarning meanwhile.)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as e:
        cap = max_pixels if Image.MAX_IMAGE_PIXELS is None else min(max_pixels, 2 * Image.MAX_IMAGE_PIXELS)
        raise InputError(_too_large(name, cap, pixels=_bomb_pixels(e))) from None
    except UnidentifiedImageError:  # PIL's text names its BytesIO object, not the file
        raise InputError(f"{name}: not a readable image (not an image format this reads, or damaged)") from None
    except bad as e:
        raise InputError(f"{name}: not a readable image ({e})") from None
    with img:
        w, h = img.size
        if w * h > max_pixels:
            raise InputError(_too_large(name, max_pixels, (w, h)))
        if w * h == 0:
            raise InputError(f"{name}: image has zero size")
        try:
            img.load()  # decode now, so truncated data fails here and not later
            # PIL rotates by EXIF explicitly; cv2.imdecode would too, but PIL also covers WebP and PNG eXIf.
            ImageOps.exif_transpose(img, in_place=True)
            return _to_rgb(_to_srgb(img, name))
        except (*bad, Image.DecompressionBombError) as e:
            raise InputError(f"{name}: not a readable image ({e})") from None


_SRGB = ImageCms.createProfile("sRGB")


def _to_srgb(img: Image.Image, name: str) -> Image.Image:
    """The image in sRGB when it carries an ICC profile of another space (Adobe RGB, Display P3, a printer's
    CMYK): a product's colour depends on it. Untagged images and sRGB ones are taken as they are; a profile
    LittleCMS cannot read is logged and ignored (the pixels are then taken as sRGB, as browsers do)."""
    icc = img.info.get("icc_profile")
    if not icc or img.mode not in ("RGB", "RGBA", "CMYK", "L", "LA"):
        return img
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if ImageCms.getProfileDescription(src).strip().startswith("sRGB"):
            return img
        mode = "RGB" if img.mode in ("RGB", "RGBA", "CMYK") else "L"
        out = ImageCms.profileToProfile(img.convert(mode) if img.mode in ("RGBA", "LA") else img, src, _SRGB,
                                        renderingIntent=ImageCms.Intent.PERCEPTUAL, outputMode="RGB")
        return img if out is None else out  # None only when asked to convert in place
    except (ImageCms.PyCMSError, OSError, ValueError) as e:
        log.warning("%s: ignoring its colour profile (%s)", name, e)
        return img


def _too_large(name: str, max_pixels: int, size: tuple[int, int] | None = None, pixels: int | None = None) -> str:
    """The one line for an image over the limit, naming its size (size (w, h), or else its pixel count)."""
    limit = f"the limit is {max_pixels / 1e6:g} MP"
    if size is not None:
        return f"{name}: too large: {size[0]} x {size[1]} pixels is {size[0] * size[1] / 1e6:.1f} megapixels; {limit}"
    if pixels is not None:
        return f"{name}: too large: the image is {pixels / 1e6:.1f} megapixels; {limit}"
    return f"{name}: too large: the image has more than {max_pixels / 1e6:g} megapixels; {limit}"


def _bomb_pixels(e: Exception) -> int | None:
    """The pixel count in PIL's DecompressionBombError message, which gives no size otherwise."""
    found = re.search(r"\((\d+) pixels\)", str(e))
    return int(found.group(1)) if found else None


def _to_rgb(img: Image.Image) -> np.ndarray:
    """(H, W, 3) uint8 RGB from a loaded image of any mode, filled a band of rows at a time.

    16-bit greyscale (I;16*, and I as PIL reads 16-bit PNGs) is scaled by 1/257, not clipped at 255; float (F)
    is taken as 0..1 when all of it lies there, else as 0..255. 48-bit RGB PNGs already come from PIL as 8-bit
    RGB (the high byte). Every other mode goes through PIL's convert("RGB"): palette, grey, alpha dropped,
    CMYK (Adobe's inverted CMYK JPEGs included).
    """
    w, h = img.size
    band: Callable[[Image.Image], np.ndarray]
    if img.mode.startswith("I;16") or img.mode == "I":
        def band(part: Image.Image) -> np.ndarray:
            grey = np.clip(np.asarray(part), 0, 65535).astype(np.uint32)
            return ((grey + 128) // 257).astype(np.uint8)[..., None]  # round(v / 257): 65535 -> 255
    elif img.mode == "F":
        lo, hi = cast(tuple[float, float], img.getextrema())  # one band: (min, max)
        scale = 255.0 if 0.0 <= lo and hi <= 1.0 else 1.0

        def band(part: Image.Image) -> np.ndarray:
            grey = np.nan_to_num(np.asarray(part, np.float32) * scale, nan=0.0)
            return np.clip(grey + 0.5, 0, 255).astype(np.uint8)[..., None]
    elif img.mode == "RGB":
        def band(part: Image.Image) -> np.ndarray:
            return np.asarray(part)
    elif img.mode == "P" and "transparency" in img.info:  # through RGBA, as PIL asks: the palette's alpha
        def band(part: Image.Image) -> np.ndarray:
            return np.asarray(part.convert("RGBA").convert("RGB"))
    else:
        def band(part: Image.Image) -> np.ndarray:
            return np.asarray(part.convert("RGB"))
    out = np.empty((h, w, 3), np.uint8)
    rows = max(1, _STRIP_PIXELS // w)
    for y in range(0, h, rows):
        out[y : y + rows] = band(img.crop((0, y, w, min(y + rows, h))))  # greyscale bands broadcast to RGB
    return out


def _check_rgb(rgb: np.ndarray) -> None:
    if not (isinstance(rgb, np.ndarray) and rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.dtype == np.uint8):
        shape = getattr(rgb, "shape", None)
        dtype = getattr(rgb, "dtype", type(rgb).__name__)
        raise InputError(f"expected an (H, W, 3) uint8 RGB array, got shape {shape} dtype {dtype}")
    if rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise InputError(f"expected a non-empty image, got shape {rgb.shape}")


def encode_image(rgb: np.ndarray, ext: str = ".png") -> bytes:
    """Encode an (H, W, 3) uint8 RGB array as PNG, JPEG (quality 95) or WebP (quality 95) bytes."""
    _check_rgb(rgb)
    ext = ext.lower() if ext.startswith(".") else "." + ext.lower()
    if ext not in _PIL_FORMATS:
        raise InputError(f"unsupported image format '{ext}': use one of {', '.join(IMAGE_EXTS)}")
    fmt = _PIL_FORMATS[ext]
    buf = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buf, format=fmt, **_PIL_OPTIONS[fmt])
    return buf.getvalue()


def write_image(path: PathLike, rgb: np.ndarray) -> None:
    """Write an (H, W, 3) uint8 RGB array atomically; the format comes from the extension."""
    p = Path(path)
    if kind_of(p) != "image":
        raise InputError(f"{p}: not an image extension: use one of {', '.join(IMAGE_EXTS)}")
    data = encode_image(rgb, p.suffix)
    with _atomic(p) as tmp:
        Path(tmp).write_bytes(data)


def write_bytes(path: PathLike, data: bytes) -> None:
    """Write an encoded file atomically: readers see the old file or the whole new one, never a part."""
    with _atomic(Path(path)) as tmp:
        Path(tmp).write_bytes(data)


def write_png_rgba(path: PathLike, rgba: np.ndarray) -> None:
    """Write an (H, W, 4) uint8 straight-alpha RGBA array as a PNG, atomically."""
    p = Path(path)
    if p.suffix.lower() != ".png" or rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        raise InputError(f"{p}: an RGBA layer is written as (H, W, 4) uint8 to a .png")
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG")
    with _atomic(p) as tmp:
        Path(tmp).write_bytes(buf.getvalue())


class _atomic:  # noqa: N801  (used like a function: `with _atomic(dst) as tmp`)
    """A temp path beside dst, renamed onto dst on success and removed on any error."""

    def __init__(self, dst: Path) -> None:
        self.dst = dst

    def __enter__(self) -> str:
        # Not tempfile.mkstemp: it makes the file 0600, and the rename would leave the result readable by its
        # owner only. Mode 0666 here lets the kernel apply the umask (or the folder's default ACL) as for
        # any file a program writes.
        for _ in range(100):
            self.tmp = str(self.dst.parent / f".{self.dst.stem}.{secrets.token_hex(4)}{self.dst.suffix}")
            try:
                fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
            except FileExistsError:
                continue
            except OSError as e:
                raise InputError(f"{self.dst}: cannot write ({e.strerror or e})") from None
            os.close(fd)
            return self.tmp
        raise InputError(f"{self.dst}: cannot write (no free temporary name beside it)")

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            os.replace(self.tmp, self.dst)
        else:
            try:
                os.unlink(self.tmp)
            except FileNotFoundError:
                pass


# --- video ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds. frame_count is an estimate where the container does not store it."""

    width: int
    height: int
    fps: float
    frame_count: int
    duration_s: float
    has_audio: bool


def _open_input(path: PathLike, max_pixels: int | None = None) -> av.container.InputContainer:
    """The opened container of a video file with a video stream; InputError for anything else, or for frames
    of more than max_pixels pixels (None: any size)."""
    p = Path(path)
    if kind_of(p) != "video":
        raise InputError(f"{p}: not a video extension: use one of {', '.join(VIDEO_EXTS)}")
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    if p.stat().st_size == 0:
        raise InputError(f"{p}: empty file")
    try:
        container = av.open(str(p), "r")
    except av.FFmpegError as e:
        raise InputError(f"{p}: not a readable video ({e})") from None
    if not container.streams.video or container.streams.video[0].codec_context.width <= 0:
        container.close()
        raise InputError(f"{p}: has no video stream")
    ctx = container.streams.video[0].codec_context
    if max_pixels is not None and ctx.width * ctx.height > max_pixels:
        container.close()
        raise InputError(_too_large(f"{p}: frames", max_pixels, (ctx.width, ctx.height)))
    return container


def _rate(stream: av.video.stream.VideoStream) -> Fraction:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return Fraction(rate) if rate else _FALLBACK_FPS


def _info(container: av.container.InputContainer) -> VideoInfo:
    v = container.streams.video[0]
    rate = _rate(v)
    if v.duration is not None and v.time_base is not None:
        duration = float(v.duration * v.time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
    else:
        duration = 0.0
    frames = v.frames or round(duration * rate)
    return VideoInfo(width=v.codec_context.width, height=v.codec_context.height, fps=float(rate),
                     frame_count=int(frames), duration_s=duration, has_audio=bool(container.streams.audio))


def probe_video(path: PathLike) -> VideoInfo:
    """Size, frame rate, frame count estimate, duration and audio presence of a video file."""
    container = _open_input(path)
    try:
        return _info(container)
    finally:
        container.close()


def read_video(path: PathLike, max_pixels: int = MAX_PIXELS) -> Iterator[tuple[np.ndarray, int]]:
    """Yield (frame (H, W, 3) uint8 RGB, timestamp_ms) per video frame; timestamps strictly increase.

    timestamp_ms counts from the first frame's pts. A file that fails to decode, at the start or midway,
    or whose frames have more than max_pixels pixels, raises InputError.
    """
    container = _open_input(path, max_pixels)
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stamps = _Stamps(stream)
        try:
            decoded = 0
            for frame in container.decode(stream):
                decoded += 1
                yield frame.to_ndarray(format="rgb24"), stamps.ms(stamps.pts(frame))
        except av.FFmpegError as e:
            raise InputError(f"{path}: video is corrupt or truncated ({e})") from None
        _check_complete(stream, decoded, path)


def _check_complete(stream: av.video.stream.VideoStream, decoded: int, path: PathLike) -> None:
    """InputError when far fewer frames decoded than the container lists: a file cut short.

    The demuxer ends quietly when an mp4 is truncated at a packet boundary. Edit lists may hide a few
    listed frames legitimately, hence the slack.
    """
    listed = stream.frames
    if listed and decoded < listed - max(2, listed // 100):
        raise InputError(f"{path}: video is truncated ({decoded} of {listed} frames decodable)")


class _Stamps:
    """Turns decoded frames' pts into strictly increasing pts and milliseconds since the first frame."""

    def __init__(self, stream: av.video.stream.VideoStream) -> None:
        self.time_base = stream.time_base or 1 / _rate(stream)
        self.step = max(1, round(1 / (_rate(stream) * self.time_base)))  # one frame, in time_base units
        self.first: int | None = None
        self.last: int | None = None
        self.last_ms: int | None = None

    def pts(self, frame: av.VideoFrame) -> int:
        pts = frame.pts
        if pts is None:
            pts = 0 if self.last is None else self.last + self.step
        elif self.last is not None and pts <= self.last:
            pts = self.last + 1  # duplicate or reordered stamp: keep the sequence strictly increasing
        if self.first is None:
            self.first = pts
        self.last = pts
        return pts

    def ms(self, pts: int) -> int:
        assert self.first is not None
        ms = round((pts - self.first) * self.time_base * 1000)
        if self.last_ms is not None and ms <= self.last_ms:
            ms = self.last_ms + 1  # two frames within one millisecond
        self.last_ms = ms
        return ms


def _video_encoder(ext: str) -> tuple[str, dict[str, str]]:
    if ext == ".webm":
        codec = "libvpx-vp9" if "libvpx-vp9" in av.codecs_available else "libvpx"
        return codec, dict(_VPX_OPTIONS)
    return "libx264", dict(_X264_OPTIONS)


def transcode_video(src: PathLike, dst: PathLike, process: Callable[[np.ndarray, int], np.ndarray],
                    progress: Callable[[int, int], None] | None = None,
                    max_pixels: int = MAX_PIXELS) -> VideoInfo:
    """Decode src, pass each frame through process(rgb, timestamp_ms), encode the results to dst.

    The output is encoded at the input's average frame rate, in time base 1/rate, and each frame's pts is
    its input time snapped to that grid (never earlier than the previous slot + 1), so a constant-rate
    input keeps its exact rate, frame count and duration, and a variable-rate one stays within half a
    frame of its audio. Audio packets are copied unchanged when dst's container takes the
    codec, and re-encoded (aac for mp4/mov, opus for webm) otherwise. process must return a frame of the
    input's size; odd sizes are padded by one replicated pixel on the right/bottom because yuv420p needs
    even sizes. dst is written atomically. progress(done, total) is called after each frame; total is the
    estimated frame count, raised to done if the estimate was short. Frames of more than max_pixels pixels
    raise InputError before any work. Returns the output's VideoInfo.
    """
    src, dst = Path(src), Path(dst)
    if kind_of(dst) != "video":
        raise InputError(f"{dst}: not a video extension: use one of {', '.join(VIDEO_EXTS)}")
    inp = _open_input(src, max_pixels)
    with inp, _atomic(dst) as tmp:
        try:
            done = _transcode(inp, tmp, dst.suffix.lower(), process, progress)
        except av.FFmpegError as e:
            raise InputError(f"{src} -> {dst}: transcoding failed ({e})") from None
        if done == 0:
            raise InputError(f"{src}: no video frames could be decoded")
    return probe_video(dst)


def _transcode(inp: av.container.InputContainer, tmp: str, ext: str,
               process: Callable[[np.ndarray, int], np.ndarray],
               progress: Callable[[int, int], None] | None) -> int:
    """The body of transcode_video, writing to tmp; returns the number of frames written."""
    total = _info(inp).frame_count
    in_v = inp.streams.video[0]
    in_v.thread_type = "AUTO"
    in_a = inp.streams.audio[0] if inp.streams.audio else None
    width, height = in_v.codec_context.width, in_v.codec_context.height
    out_w, out_h = width + width % 2, height + height % 2
    stamps = _Stamps(in_v)
    rate = _rate(in_v)
    out_tb = 1 / rate
    done, out_pts = 0, -1
    with av.open(tmp, "w") as out:
        codec, options = _video_encoder(ext)
        out_v = cast(VideoStream, out.add_stream(codec, rate=rate, options=options, time_base=out_tb))
        out_v.width, out_v.height, out_v.pix_fmt = out_w, out_h, "yuv420p"
        a_codec = in_a.codec_context.codec.canonical_name if in_a is not None else ""  # "mp3", not "mp3float"
        copy_audio = a_codec in _AUDIO_COPY[ext]
        out_a: AudioStream | None = None
        if in_a is not None and copy_audio:
            out_a = cast(AudioStream, out.add_stream_from_template(in_a))
        elif in_a is not None:
            sample_rate = 48000 if ext == ".webm" else (in_a.codec_context.sample_rate or 48000)  # opus: 48k
            out_a = cast(AudioStream, out.add_stream(_AUDIO_ENCODER[ext], rate=sample_rate))
            log.info("re-encoding %s audio to %s for %s", a_codec, out_a.name, ext)
        for packet in inp.demux([s for s in (in_v, in_a) if s is not None]):
            if packet.stream is in_a and out_a is not None:
                if not copy_audio:
                    for aframe in packet.decode():
                        if isinstance(aframe, av.AudioFrame):
                            out.mux(out_a.encode(aframe))
                elif packet.dts is not None:  # the demuxer's final flush packet has none
                    packet.stream = out_a
                    out.mux(packet)
                continue
            for frame in packet.decode():
                if not isinstance(frame, av.VideoFrame):
                    continue
                pts = stamps.pts(frame)
                rgb = process(frame.to_ndarray(format="rgb24"), stamps.ms(pts))
                _check_frame(rgb, width, height)
                if (out_w, out_h) != (width, height):
                    rgb = np.pad(rgb, ((0, out_h - height), (0, out_w - width), (0, 0)), mode="edge")
                vframe = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
                out_pts = max(out_pts + 1, round(pts * stamps.time_base * rate))
                vframe.pts, vframe.time_base = out_pts, out_tb
                out.mux(out_v.encode(vframe))
                done += 1
                if progress is not None:
                    progress(done, max(total, done))
        _check_complete(in_v, done, inp.name)
        out.mux(out_v.encode(None))
        if out_a is not None and not copy_audio:
            out.mux(out_a.encode(None))
    return done


def _check_frame(rgb: np.ndarray, width: int, height: int) -> None:
    if not (isinstance(rgb, np.ndarray) and rgb.shape == (height, width, 3) and rgb.dtype == np.uint8):
        raise ValueError(f"process must return a ({height}, {width}, 3) uint8 frame, got shape "
                         f"{getattr(rgb, 'shape', None)} dtype {getattr(rgb, 'dtype', type(rgb).__name__)}")
