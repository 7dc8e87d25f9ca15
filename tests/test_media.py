"""tryon.media on real files: fixtures are made with the ffmpeg binary in tmp_path, then decoded with PyAV."""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import struct
import subprocess
import warnings
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import media_path
from PIL import Image, ImageCms

from tryon import media
from tryon.errors import InputError

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg makes the video fixtures")
REAL_VIDEO = Path(__file__).resolve().parents[2] / "shared/media/video/woman_hoop_earrings_head_motion.mp4"
RED = (255, 0, 0)
COLOUR_TOL = 12  # mean error per channel after lossy yuv420p encoding of a flat colour


def make_video(path: Path, size: str = "320x240", rate: str = "25", seconds: float = 2.0,
               vcodec: str = "libx264", acodec: str | None = "aac", extra: tuple[str, ...] = ()) -> Path:
    # libx264 refuses odd sizes in yuv420p, so odd fixtures are 4:4:4.
    w, h = (int(v) for v in size.split("x"))
    pix = "yuv420p" if w % 2 == 0 and h % 2 == 0 else "yuv444p"
    cmd = [FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}"]
    if acodec:
        cmd += ["-f", "lavfi", "-i", "sine=frequency=440", "-c:a", acodec]
    cmd += ["-t", str(seconds), "-c:v", vcodec, "-pix_fmt", pix, *extra, str(path)]
    subprocess.run(cmd, check=True)
    return path


def count_frames(path: Path) -> int:
    return sum(1 for _ in media.read_video(path))


def audio_of(path: Path) -> tuple[str, float]:
    """(codec name, seconds from the first audio packet's pts to the end of the last)."""
    c = av.open(str(path))
    try:
        stream = c.streams.audio[0]
        pts = [(p.pts, p.duration or 0) for p in c.demux(stream) if p.pts is not None]
        first, (last, dur) = min(p for p, _ in pts), max(pts)
        assert stream.time_base is not None
        return stream.codec_context.codec.canonical_name, float((last + dur - first) * stream.time_base)
    finally:
        c.close()


def video_rate(path: Path) -> Fraction:
    c = av.open(str(path))
    try:
        return Fraction(c.streams.video[0].average_rate or 0)
    finally:
        c.close()


def paint_red(frame: np.ndarray, timestamp_ms: int) -> np.ndarray:
    out = np.empty_like(frame)
    out[...] = RED
    return out


# --- formats ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, kind", [("a.jpg", "image"), ("b.JPEG", "image"), ("c.png", "image"),
                                        ("d.webp", "image"), ("e.mp4", "video"), ("f.webm", "video"),
                                        ("g.MOV", "video")])
def test_kind_of(name: str, kind: str) -> None:
    assert media.kind_of(name) == kind


def test_kind_of_unsupported() -> None:
    with pytest.raises(InputError, match=r"unsupported format '\.gif': use one of .*\.jpg.*\.mp4"):
        media.kind_of("x.gif")


# --- images -----------------------------------------------------------------------------------------------


def test_image_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    media.write_image(tmp_path / "x.png", rgb)
    np.testing.assert_array_equal(media.read_image(tmp_path / "x.png"), rgb)
    np.testing.assert_array_equal(media.decode_image(media.encode_image(rgb)), rgb)
    smooth = np.zeros((40, 60, 3), np.uint8)
    smooth[..., 0] = np.linspace(0, 255, 60, dtype=np.uint8)
    smooth[..., 2] = 90
    for ext in (".jpg", ".jpeg", ".webp"):
        media.write_image(tmp_path / f"y{ext}", smooth)
        back = media.read_image(tmp_path / f"y{ext}")
        assert back.shape == smooth.shape and back.dtype == np.uint8
        assert np.abs(back.astype(int) - smooth).mean() < 3, ext  # quality 95
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.png", "y.jpeg", "y.jpg", "y.webp"]  # no temps


def test_write_image_replaces_atomically(tmp_path: Path) -> None:
    dst = tmp_path / "x.png"
    media.write_image(dst, np.zeros((4, 4, 3), np.uint8))
    media.write_image(dst, np.full((4, 4, 3), 200, np.uint8))
    assert media.read_image(dst)[0, 0, 0] == 200
    with pytest.raises(InputError, match=r"\(H, W, 3\) uint8"):
        media.write_image(dst, np.zeros((4, 4), np.float32))
    assert media.read_image(dst)[0, 0, 0] == 200 and [p.name for p in tmp_path.iterdir()] == ["x.png"]


def test_grey_and_rgba_images_become_rgb() -> None:
    for mode in ("L", "RGBA", "P"):
        buf = io.BytesIO()
        Image.new(mode, (5, 3)).save(buf, "PNG")
        assert media.decode_image(buf.getvalue()).shape == (3, 5, 3)


def test_exif_rotated_jpeg_comes_out_upright(tmp_path: Path) -> None:
    # Stored 40 wide x 20 high, red left half, blue right half, with orientation 6 ("rotate 90 CW to view"):
    # upright it is 20 wide x 40 high with red on top.
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:, :20] = RED
    stored[:, 20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    Image.fromarray(stored).save(path, "JPEG", quality=95, exif=exif.tobytes())
    for rgb in (media.read_image(path), media.decode_image(path.read_bytes())):
        assert rgb.shape == (40, 20, 3)
        assert rgb[:15].mean(axis=(0, 1))[0] > 200 and rgb[:15].mean(axis=(0, 1))[2] < 50
        assert rgb[25:].mean(axis=(0, 1))[2] > 200 and rgb[25:].mean(axis=(0, 1))[0] < 50


def test_bad_images_raise_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="missing.png: no such file"):
        media.read_image(tmp_path / "missing.png")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(InputError, match="empty.jpg: empty file"):
        media.read_image(tmp_path / "empty.jpg")
    (tmp_path / "noise.png").write_bytes(np.random.default_rng(0).bytes(2000))
    with pytest.raises(InputError, match="noise.png: not a readable image"):
        media.read_image(tmp_path / "noise.png")
    good = media.encode_image(np.full((64, 64, 3), 128, np.uint8), ".jpg")
    (tmp_path / "cut.jpg").write_bytes(good[: len(good) // 2])
    with pytest.raises(InputError, match="cut.jpg"):
        media.read_image(tmp_path / "cut.jpg")
    with pytest.raises(InputError, match="uploaded image: empty"):
        media.decode_image(b"")
    with pytest.raises(InputError, match="uploaded image: not a readable image"):
        media.decode_image(b"GIF? no, just text")
    with pytest.raises(InputError, match="unsupported format"):
        media.read_image(tmp_path / "x.gif")
    with pytest.raises(InputError, match="unsupported image format"):
        media.encode_image(np.zeros((2, 2, 3), np.uint8), ".bmp")


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header says width x height (8-bit RGB), with a token of pixel data: enough to read its size."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(64))) + chunk(b"IEND", b""))


@pytest.mark.parametrize("width, height, message", [
    (16000, 9000, "too large: 16000 x 9000 pixels is 144.0 megapixels; the limit is 50 MP"),  # PIL only warns
    (10000, 5100, "too large: 10000 x 5100 pixels is 51.0 megapixels; the limit is 50 MP"),  # just over
    (20000, 10000, "too large: the image is 200.0 megapixels; the limit is 50 MP"),  # past PIL's own refusal
])
def test_images_over_the_pixel_limit_are_refused_from_the_header(tmp_path: Path, width: int, height: int,
                                                                 message: str) -> None:
    data = png_header(width, height)
    (tmp_path / "big.png").write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PIL's DecompressionBombWarning is not what the user gets
        with pytest.raises(InputError, match=re.escape(f"uploaded image: {message}")):
            media.decode_image(data)
        with pytest.raises(InputError, match=re.escape(f"{tmp_path / 'big.png'}: {message}")):
            media.read_image(tmp_path / "big.png")


def test_pixel_limit_is_a_parameter() -> None:
    data = media.encode_image(np.full((50, 100, 3), 7, np.uint8))
    assert media.MAX_PIXELS == 50_000_000
    assert media.decode_image(data, max_pixels=5000).shape == (50, 100, 3)  # exactly at the limit
    with pytest.raises(InputError, match=r"100 x 50 pixels is 0\.0 megapixels; the limit is 0\.004999 MP"):
        media.decode_image(data, max_pixels=4999)


def gradient16(width: int = 512) -> np.ndarray:
    """(4, width) uint16 running 0..65535 along each row."""
    return np.tile(np.linspace(0, 65535, width).round().astype(np.uint16), (4, 1))


def as_8bit(v16: np.ndarray) -> np.ndarray:
    return np.round(v16.astype(np.float64) / 257).astype(np.uint8)


def encoded(img: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


@pytest.mark.parametrize("mode, fmt", [("I;16", "PNG"), ("I;16B", "TIFF"), ("I", "TIFF")])
def test_16_bit_greyscale_is_scaled_not_clipped(mode: str, fmt: str) -> None:
    grey = gradient16()
    if mode == "I":
        img = Image.fromarray(grey.astype(np.int32))
    else:
        img = Image.frombytes(mode, grey.shape[::-1], grey.astype(">u2" if mode.endswith("B") else "<u2").tobytes())
    data = encoded(img, fmt)
    assert Image.open(io.BytesIO(data)).mode == mode
    rgb = media.decode_image(data)
    assert rgb.shape == (4, 512, 3) and rgb.dtype == np.uint8
    want = as_8bit(grey)
    for c in range(3):
        np.testing.assert_array_equal(rgb[..., c], want)  # a grey gradient 0..255, not white from 1/256 of the way
    assert rgb[0, 0, 0] == 0 and rgb[0, -1, 0] == 255 and rgb[0, 256, 0] in (127, 128)


def test_16_bit_png_from_a_file_keeps_its_exif_orientation(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to view
    path = tmp_path / "deep.png"
    path.write_bytes(encoded(Image.fromarray(gradient16()), exif=exif.tobytes()))
    rgb = media.read_image(path)
    assert rgb.shape == (512, 4, 3)  # upright: the gradient runs down
    np.testing.assert_array_equal(rgb[:, 0, 1], as_8bit(gradient16()[0]))


def test_48_and_64_bit_colour_pngs(tmp_path: Path) -> None:
    import cv2

    grey = gradient16()
    rgb16 = np.stack([grey, 65535 - grey, np.full_like(grey, 32896)], axis=2)  # 32896 = 128 * 257
    cv2.imwrite(str(tmp_path / "rgb48.png"), rgb16[..., ::-1])
    rgba16 = np.concatenate([rgb16, np.full_like(grey, 65535)[..., None]], axis=2)
    cv2.imwrite(str(tmp_path / "rgba64.png"), rgba16[..., [2, 1, 0, 3]])
    for name in ("rgb48.png", "rgba64.png"):
        rgb = media.read_image(tmp_path / name)
        assert np.abs(rgb.astype(int) - as_8bit(rgb16)).max() <= 1, name  # PIL keeps the high byte


@pytest.mark.parametrize("lo, hi, scale", [(0.0, 1.0, 255.0), (0.0, 255.0, 1.0)])
def test_float_images(lo: float, hi: float, scale: float) -> None:
    values = np.tile(np.linspace(lo, hi, 256, dtype=np.float32), (3, 1))
    rgb = media.decode_image(encoded(Image.fromarray(values, "F"), "TIFF"))
    np.testing.assert_array_equal(rgb[..., 0], np.clip(np.round(values * scale), 0, 255).astype(np.uint8))
    assert rgb[0, 0].tolist() == [0, 0, 0] and rgb[0, -1].tolist() == [255, 255, 255]


def test_cmyk_palette_and_alpha_images_keep_their_colours() -> None:
    cmyk = Image.new("CMYK", (16, 8), (0, 255, 255, 0))  # red, written as Adobe (inverted) CMYK by PIL
    assert np.abs(media.decode_image(encoded(cmyk, "JPEG", quality=95)).astype(int) - RED).max() < 8
    pal = Image.new("P", (4, 4), 1)
    pal.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    assert media.decode_image(encoded(pal))[0, 0].tolist() == [10, 200, 30]
    assert media.decode_image(encoded(Image.new("LA", (4, 4), (90, 30))))[0, 0].tolist() == [90, 90, 90]
    assert media.decode_image(encoded(Image.new("RGBA", (4, 4), (1, 2, 3, 0))))[0, 0].tolist() == [1, 2, 3]
    assert media.decode_image(encoded(Image.new("1", (4, 4), 1)))[0, 0].tolist() == [255, 255, 255]


def test_a_large_photo_is_copied_out_in_bands_exactly() -> None:
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (1500, 1001, 3), dtype=np.uint8)  # more rows than one band, an odd width
    back = media.decode_image(media.encode_image(rgb))
    np.testing.assert_array_equal(back, rgb)
    assert back.flags.writeable and back.flags.c_contiguous


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_written_files_get_the_usual_permissions(tmp_path: Path, umask: int, mode: int) -> None:
    old = os.umask(umask)
    try:
        media.write_image(tmp_path / "x.jpg", np.zeros((4, 4, 3), np.uint8))
        media.write_png_rgba(tmp_path / "layer.png", np.zeros((4, 4, 4), np.uint8))
    finally:
        os.umask(old)
    for name in ("x.jpg", "layer.png"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode, name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["layer.png", "x.jpg"]


# --- video reading ----------------------------------------------------------------------------------------


@needs_ffmpeg
@pytest.mark.parametrize("name, rate, fps, frames", [("a.mp4", "25", 25.0, 50),
                                                     ("b.mp4", "30000/1001", 30000 / 1001, 60)])
def test_probe_and_read(tmp_path: Path, name: str, rate: str, fps: float, frames: int) -> None:
    src = make_video(tmp_path / name, size="321x241", rate=rate)
    info = media.probe_video(src)
    assert (info.width, info.height, info.frame_count, info.has_audio) == (321, 241, frames, True)
    assert info.fps == pytest.approx(fps)
    assert info.duration_s == pytest.approx(frames / fps, abs=1 / fps)
    got = list(media.read_video(src))
    assert len(got) == frames
    assert all(f.shape == (241, 321, 3) and f.dtype == np.uint8 for f, _ in got)
    stamps = [t for _, t in got]
    assert stamps[0] == 0 and all(b > a for a, b in zip(stamps, stamps[1:], strict=False))
    assert stamps[-1] == pytest.approx((frames - 1) * 1000 / fps, abs=1)


@needs_ffmpeg
def test_probe_without_audio(tmp_path: Path) -> None:
    assert media.probe_video(make_video(tmp_path / "silent.mp4", acodec=None)).has_audio is False


@needs_ffmpeg
def test_corrupt_videos_raise_input_error(tmp_path: Path) -> None:
    (tmp_path / "noise.mp4").write_bytes(np.random.default_rng(0).bytes(50_000))
    (tmp_path / "empty.webm").write_bytes(b"")
    good = make_video(tmp_path / "good.mp4", seconds=4).read_bytes()  # moov atom at the end
    (tmp_path / "cut.mp4").write_bytes(good[: len(good) // 2])
    fast = make_video(tmp_path / "fast.mp4", seconds=4, extra=("-movflags", "+faststart")).read_bytes()
    (tmp_path / "cut_fast.mp4").write_bytes(fast[: len(fast) // 2])  # opens, then fails midway
    for name in ("noise.mp4", "empty.webm", "cut.mp4", "cut_fast.mp4", "missing.mov"):
        with pytest.raises(InputError, match=name):
            count_frames(tmp_path / name)
        with pytest.raises(InputError, match=name):
            media.transcode_video(tmp_path / name, tmp_path / "out.mp4", paint_red)
        assert not (tmp_path / "out.mp4").exists()
    with pytest.raises(InputError, match="unsupported format"):
        media.probe_video(tmp_path / "clip.avi")
    with pytest.raises(InputError, match="not a video"):
        media.probe_video(tmp_path / "x.png")


@needs_ffmpeg
def test_videos_over_the_pixel_limit_are_refused(tmp_path: Path) -> None:
    src = make_video(tmp_path / "a.mp4", acodec=None, seconds=0.5)
    message = r"a\.mp4: frames: too large: 320 x 240 pixels is 0\.1 megapixels; the limit is 0\.05 MP"
    with pytest.raises(InputError, match=message):
        next(media.read_video(src, max_pixels=50_000))
    with pytest.raises(InputError, match=message):
        media.transcode_video(src, tmp_path / "out.mp4", paint_red, max_pixels=50_000)
    assert [p.name for p in tmp_path.iterdir()] == ["a.mp4"]
    assert count_frames(src) > 0  # the default limit lets it through


def test_real_video_probe() -> None:
    if not REAL_VIDEO.exists():
        pytest.skip(f"shared media not present: {REAL_VIDEO}")
    info = media.probe_video(REAL_VIDEO)
    assert (info.width, info.height) == (512, 512)
    assert info.fps == pytest.approx(30, abs=0.05)
    frame, ts = next(media.read_video(REAL_VIDEO))
    assert frame.shape == (512, 512, 3) and ts == 0


# --- transcoding ------------------------------------------------------------------------------------------


@needs_ffmpeg
@pytest.mark.parametrize("src_name, vcodec, acodec, rate, dst_name, out_vcodec, out_acodec", [
    ("a.mp4", "libx264", "aac", "25", "out.mp4", "h264", "aac"),
    ("a.mp4", "libx264", "aac", "30000/1001", "out.mov", "h264", "aac"),
    ("a.webm", "libvpx-vp9", "libopus", "30000/1001", "out.webm", "vp9", "opus"),
    ("a.mov", "libx264", "libmp3lame", "25", "out.mov", "h264", "mp3"),
    ("a.mp4", "libx264", "aac", "25", "out.webm", "vp9", "opus"),  # aac cannot go in webm: re-encoded
    ("a.webm", "libvpx-vp9", "libopus", "25", "out.mp4", "h264", "aac"),  # opus is re-encoded for mp4
])
def test_transcode(tmp_path: Path, src_name: str, vcodec: str, acodec: str, rate: str, dst_name: str,
                   out_vcodec: str, out_acodec: str) -> None:
    src = make_video(tmp_path / src_name, rate=rate, vcodec=vcodec, acodec=acodec)
    dst = tmp_path / dst_name
    seen: list[int] = []
    calls: list[tuple[int, int]] = []

    def process(frame: np.ndarray, timestamp_ms: int) -> np.ndarray:
        seen.append(timestamp_ms)
        return paint_red(frame, timestamp_ms)

    info = media.transcode_video(src, dst, process, progress=lambda done, total: calls.append((done, total)))
    src_info = media.probe_video(src)
    n = count_frames(src)
    assert count_frames(dst) == n == len(seen) == len(calls)
    assert [d for d, _ in calls] == list(range(1, n + 1)) and all(t >= d for d, t in calls)
    assert all(b > a for a, b in zip(seen, seen[1:], strict=False))
    assert video_rate(dst) == Fraction(rate)
    assert info.fps == pytest.approx(float(Fraction(rate)))
    assert (info.width, info.height, info.has_audio) == (320, 240, True)
    frame_s = 1 / info.fps
    if dst.suffix != ".webm":  # matroska stores no per-stream duration; the container's includes audio
        assert info.duration_s == pytest.approx(src_info.duration_s, abs=frame_s)
    with av.open(str(dst)) as c:
        assert c.streams.video[0].codec_context.name == out_vcodec
    src_codec, src_audio_s = audio_of(src)
    codec, audio_s = audio_of(dst)
    assert codec == out_acodec
    assert audio_s == pytest.approx(src_audio_s, abs=0.05)
    for frame, _ in media.read_video(dst):
        assert np.abs(frame.reshape(-1, 3).mean(axis=0) - RED).max() < COLOUR_TOL
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([src_name, dst_name])


@needs_ffmpeg
def test_transcode_copies_audio_packets_unchanged(tmp_path: Path) -> None:
    src = make_video(tmp_path / "a.mp4")
    dst = tmp_path / "out.mp4"
    media.transcode_video(src, dst, paint_red)

    def packets(path: Path) -> list[bytes]:
        c = av.open(str(path))
        try:
            return [bytes(p) for p in c.demux(c.streams.audio[0]) if p.size]
        finally:
            c.close()

    assert packets(dst) == packets(src)


@needs_ffmpeg
@pytest.mark.parametrize("dst_name", ["odd.mp4", "odd.webm"])
def test_transcode_odd_size_pads_one_pixel(tmp_path: Path, dst_name: str) -> None:
    src = make_video(tmp_path / "odd.mov", size="321x241", acodec=None)

    def mark_edges(frame: np.ndarray, timestamp_ms: int) -> np.ndarray:
        out = np.empty_like(frame)
        out[...] = RED
        out[:, -2:] = (0, 255, 0)  # right edge green: the pad column must repeat it
        return out

    info = media.transcode_video(src, tmp_path / dst_name, mark_edges)
    assert (info.width, info.height, info.has_audio) == (322, 242, False)
    frames = [f for f, _ in media.read_video(tmp_path / dst_name)]
    assert len(frames) == 50
    last = frames[-1].astype(int)
    assert np.abs(last[:, -1].mean(axis=0) - (0, 255, 0)).max() < 3 * COLOUR_TOL
    assert np.abs(last[:, :300].reshape(-1, 3).mean(axis=0) - RED).max() < COLOUR_TOL
    assert np.abs(last[-1, :300].mean(axis=0) - RED).max() < 3 * COLOUR_TOL  # bottom pad row repeats red


@needs_ffmpeg
@pytest.mark.parametrize("error", [RuntimeError("tracker exploded"), KeyboardInterrupt()])
def test_transcode_failure_leaves_nothing_behind(tmp_path: Path, error: BaseException) -> None:
    src = make_video(tmp_path / "a.mp4")
    dst = tmp_path / "out.mp4"

    def process(frame: np.ndarray, timestamp_ms: int) -> np.ndarray:
        if timestamp_ms >= 400:
            raise error
        return frame

    with pytest.raises(type(error)):
        media.transcode_video(src, dst, process)
    assert [p.name for p in tmp_path.iterdir()] == ["a.mp4"]

    dst.write_bytes(b"previous result")  # an existing dst is left untouched too
    with pytest.raises(type(error)):
        media.transcode_video(src, dst, process)
    assert dst.read_bytes() == b"previous result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4", "out.mp4"]


@needs_ffmpeg
def test_transcode_rejects_wrong_frame_shape_and_extension(tmp_path: Path) -> None:
    src = make_video(tmp_path / "a.mp4", acodec=None)
    with pytest.raises(ValueError, match=r"\(240, 320, 3\) uint8 frame, got shape \(10, 10, 3\)"):
        media.transcode_video(src, tmp_path / "out.mp4", lambda f, t: np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(InputError, match="unsupported format '.avi'"):
        media.transcode_video(src, tmp_path / "out.avi", paint_red)
    assert [p.name for p in tmp_path.iterdir()] == ["a.mp4"]


def test_colour_profiles_are_converted_to_srgb() -> None:
    """A product photo in Adobe RGB reads as its sRGB colours (a saturated teal moves, grey stays); an sRGB
    profile changes nothing; a profile LittleCMS cannot read is ignored, not an error."""

    with Image.open(media_path("products/ring_turquoise_silver_white_bg_shadow.jpg")) as photo:
        adobe = photo.info["icc_profile"]
    patch = np.zeros((8, 16, 3), np.uint8)
    patch[:, :8] = (20, 160, 140)  # a turquoise: Adobe RGB's wider gamut makes it more saturated in sRGB
    patch[:, 8:] = (128, 128, 128)
    img = Image.fromarray(patch)
    tagged = media.decode_image(encoded(img, icc_profile=adobe))
    teal, grey = tagged[0, 0].astype(int), tagged[0, 12].astype(int)
    assert teal[1] - teal[0] > 160 - 20 + 10, teal  # green over red grows: more saturated
    assert np.abs(grey - 128).max() <= 3, grey  # the same white point: grey stays grey
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    np.testing.assert_array_equal(media.decode_image(encoded(img, icc_profile=srgb)), patch)
    np.testing.assert_array_equal(media.decode_image(encoded(img, icc_profile=b"not a profile")), patch)
