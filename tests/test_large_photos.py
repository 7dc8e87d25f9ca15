"""Large photos: over the pixel limit they are refused from the header, unread; under it they decode within a
stated memory bound (tryon.media's docstring). Memory is the peak RSS of a fresh subprocess (getrusage), so
nothing this test process holds counts; no timings are asserted."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import pytest

MB = 1 << 20
ITEM = "hoop-round-25mm-yellow-gold"

# Runs in the subprocess: decode one file, report the peak RSS before and after, and the result or the error.
# The peak is VmHWM, this program's own: getrusage's ru_maxrss would start from the parent's RSS at the fork.
_DECODE = r"""
import json, sys
from tryon import media
from tryon.errors import InputError

def peak():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))

before = peak()
try:
    shape, error = list(media.read_image(sys.argv[1]).shape), None
except InputError as e:
    shape, error = None, str(e)
print(json.dumps({"before": before, "peak": peak(), "shape": shape, "error": error}))
"""
needs_proc = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak RSS is read from /proc")


def flat_png(path: Path, width: int, height: int) -> Path:
    """A real, complete black 8-bit RGB PNG of width x height, written a row at a time (a 144 MP one is 2 MB)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    z = zlib.compressobj(1)
    row = bytes(1 + 3 * width)  # filter byte 0, then black pixels
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


def decode_in_subprocess(path: Path) -> tuple[dict, str]:
    r = subprocess.run([sys.executable, "-c", _DECODE, str(path)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1]), r.stderr


@pytest.fixture(scope="module")
def png_144mp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return flat_png(tmp_path_factory.mktemp("big") / "flat144.png", 16000, 9000)


@needs_proc
def test_a_144_megapixel_png_is_refused_unread(png_144mp: Path) -> None:
    got, stderr = decode_in_subprocess(png_144mp)
    assert got["shape"] is None
    assert got["error"] == f"{png_144mp}: too large: 16000 x 9000 pixels is 144.0 megapixels; the limit is 50 MP"
    assert "DecompressionBomb" not in stderr  # PIL's warning is not shown
    # Decoding it took 3.3 GB; the refusal reads the header only.
    assert got["peak"] < 300 * MB, f"peak RSS {got['peak'] / MB:.0f} MB"


def test_tryon_render_refuses_it_in_one_line(png_144mp: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.png"
    r = subprocess.run([sys.executable, "-m", "tryon.cli", "render", png_144mp, "-o", out, "--item", ITEM],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2
    assert r.stderr.strip() == (f"tryon: error: {png_144mp}: too large: 16000 x 9000 pixels is 144.0 megapixels; "
                                "the limit is 50 MP")
    assert not out.exists()


@needs_proc
def test_a_24_megapixel_photo_decodes_within_7_bytes_a_pixel(tmp_path: Path) -> None:
    from skimage import data

    path = tmp_path / "big.jpg"
    width, height = 6000, 4000
    big = cv2.resize(data.astronaut(), (width, height), interpolation=cv2.INTER_LINEAR)
    cv2.imwrite(str(path), cv2.cvtColor(big, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    del big
    got, _ = decode_in_subprocess(path)
    assert got["error"] is None and got["shape"] == [height, width, 3]
    # PIL's decoded image (4 bytes a pixel) and the result (3), plus a few bands of rows and the decoder's own
    # buffers; one whole-frame copy more would be 3 or 4 bytes a pixel more (before: 18 bytes a pixel).
    used = got["peak"] - got["before"]
    assert used < 7 * width * height + 32 * MB, f"{used / MB:.0f} MB, {used / (width * height):.1f} bytes a pixel"
