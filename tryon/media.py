"""Reading and writing image and video files: the only module that touches media on disk.

Images are (H, W, 3) uint8 RGB arrays, upright (EXIF orientation applied). Videos are read and written
with PyAV; timestamps are integer milliseconds since the first video frame, taken from the frames' pts.
Every writer is atomic: it writes a temp file beside the destination and renames it into place, so a
failure never leaves a half-written file behind.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
from av.audio.stream import AudioStream
from av.video.stream import VideoStream
from PIL import Image, ImageOps, UnidentifiedImageError

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


def read_image(path: PathLike) -> np.ndarray:
    """Decode an image file to (H, W, 3) uint8 RGB, rotated upright by its EXIF orientation."""
    p = Path(path)
    kind_of(p)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except OSError as e:
        raise InputError(f"{p}: cannot read ({e.strerror or e})") from None
    return _decode(data, str(p))


def decode_image(data: bytes) -> np.ndarray:
    """Decode encoded image bytes (an HTTP upload) to (H, W, 3) uint8 RGB, upright."""
    return _decode(data, "uploaded image")


def _decode(data: bytes, name: str) -> np.ndarray:
    if not data:
        raise InputError(f"{name}: empty file")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()  # decode now, so truncated data fails here and not later
            # PIL rotates by EXIF explicitly; cv2.imdecode would too, but PIL also covers WebP and PNG eXIf.
            upright = ImageOps.exif_transpose(img)
            rgb = np.asarray(upright.convert("RGB"))  # alpha, palette and greyscale all become plain RGB
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise InputError(f"{name}: not a readable image ({e})") from None
    if rgb.size == 0:
        raise InputError(f"{name}: image has zero size")
    return np.ascontiguousarray(rgb, dtype=np.uint8)


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
        try:
            fd, self.tmp = tempfile.mkstemp(prefix=f".{self.dst.stem}.", suffix=self.dst.suffix,
                                            dir=self.dst.parent)
        except OSError as e:
            raise InputError(f"{self.dst}: cannot write ({e.strerror or e})") from None
        os.close(fd)
        return self.tmp

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


def _open_input(path: PathLike) -> av.container.InputContainer:
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


def read_video(path: PathLike) -> Iterator[tuple[np.ndarray, int]]:
    """Yield (frame (H, W, 3) uint8 RGB, timestamp_ms) per video frame; timestamps strictly increase.

    timestamp_ms counts from the first frame's pts. A file that fails to decode, at the start or midway,
    raises InputError.
    """
    container = _open_input(path)
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
                    progress: Callable[[int, int], None] | None = None) -> VideoInfo:
    """Decode src, pass each frame through process(rgb, timestamp_ms), encode the results to dst.

    The output is encoded at the input's average frame rate, in time base 1/rate, and each frame's pts is
    its input time snapped to that grid (never earlier than the previous slot + 1), so a constant-rate
    input keeps its exact rate, frame count and duration, and a variable-rate one stays within half a
    frame of its audio. Audio packets are copied unchanged when dst's container takes the
    codec, and re-encoded (aac for mp4/mov, opus for webm) otherwise. process must return a frame of the
    input's size; odd sizes are padded by one replicated pixel on the right/bottom because yuv420p needs
    even sizes. dst is written atomically. progress(done, total) is called after each frame; total is the
    estimated frame count, raised to done if the estimate was short. Returns the output's VideoInfo.
    """
    src, dst = Path(src), Path(dst)
    if kind_of(dst) != "video":
        raise InputError(f"{dst}: not a video extension: use one of {', '.join(VIDEO_EXTS)}")
    inp = _open_input(src)
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
