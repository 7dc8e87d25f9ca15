"""The retouch batch: inputs, bad photos, the manifest, resuming, and the `tryon retouch` command."""

from __future__ import annotations

import io
import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import media_path
from PIL import Image

from tryon.cli import main
from tryon.errors import InputError
from tryon.retouch.types import RetouchOptions
from tryon.studio.retouch_batch import MANIFEST, decode_photo, expand_inputs, run_batch

RING = "products/ring_sapphire_solitaire_side_view_light_grey_bg.jpg"
CHAIN = "products/necklace_gold_chain_dust_speck_grey_bg.png"


def small_copy(rel: str, dst: Path, side: int = 600) -> Path:
    """A copy of a shared product photo at most `side` px (the tests' speed), as PNG under dst."""
    with Image.open(media_path(rel)) as im:
        im = im.convert("RGB")
        im.thumbnail((side, side))
        out = dst / (Path(rel).stem + ".png")
        im.save(out)
    return out


def bomb_png(path: Path, width: int = 40_000, height: int = 40_000) -> Path:
    """A tiny PNG whose header claims width x height pixels (1.6 GP): a decompression bomb."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


@pytest.fixture()
def photos(tmp_path: Path) -> list[Path]:
    src = tmp_path / "in"
    src.mkdir()
    return [small_copy(RING, src), small_copy(CHAIN, src)]


def test_inputs_are_files_folders_and_globs_each_once(tmp_path: Path, photos: list[Path]) -> None:
    folder = photos[0].parent
    (folder / "notes.txt").write_text("not a photo")
    assert expand_inputs([str(folder)]) == sorted(p.resolve() for p in photos)
    assert expand_inputs([str(photos[1]), str(folder / "*.png")]) == [photos[1].resolve(), photos[0].resolve()]
    with pytest.raises(InputError, match="no such file or folder"):
        expand_inputs([str(tmp_path / "missing.jpg")])
    with pytest.raises(InputError, match="no file matches"):
        expand_inputs([str(tmp_path / "*.webp")])
    other = tmp_path / "other"
    other.mkdir()
    (other / photos[0].name).write_bytes(photos[0].read_bytes())
    with pytest.raises(InputError, match="would both write"):
        expand_inputs([str(folder), str(other)])


def test_bad_photos_get_clear_errors_and_cost_nothing_else(tmp_path: Path, photos: list[Path]) -> None:
    src = photos[0].parent
    (src / "text.jpg").write_text("this is a note, not a photo")
    (src / "cut.jpg").write_bytes(media_path(RING).read_bytes()[:3000])  # truncated
    bomb_png(src / "bomb.png")
    Image.fromarray(np.full((300, 400, 3), 128, np.uint8)).save(src / "plain_grey.png")  # nothing to cut out
    out = tmp_path / "out"
    manifest = run_batch(expand_inputs([str(src)]), out, RetouchOptions(), jobs=1)
    by_name = {Path(e["input"]).name: e for e in manifest["outputs"]}
    assert len(by_name) == 6
    assert "not a readable image" in by_name["text.jpg"]["error"]
    assert "not a readable image" in by_name["cut.jpg"]["error"]
    assert "too large" in by_name["bomb.png"]["error"]
    assert "nothing to cut out" in by_name["plain_grey.png"]["error"]
    for p in photos:
        e = by_name[p.name]
        assert e["error"] is None and Path(e["output"]).is_file(), e
        assert e["ok"], e["checks"]
        with Image.open(e["output"]) as im:
            assert im.format == "JPEG" and im.size[0] == im.size[1] == 2000
    assert json.loads((out / MANIFEST).read_text()) == manifest
    assert sorted(q.name for q in out.iterdir()) == sorted([MANIFEST] + [p.stem + ".jpg" for p in photos])


def test_a_batch_resumes_where_it_stopped(tmp_path: Path, photos: list[Path]) -> None:
    out = tmp_path / "out"
    first = run_batch(photos[:1], out, RetouchOptions(), jobs=1)
    made = Path(first["outputs"][0]["output"])
    stamp = made.stat().st_mtime_ns
    seen: list[str] = []
    second = run_batch(photos, out, RetouchOptions(), jobs=1, progress=lambda e: seen.append(Path(e.input).name))
    assert seen == [photos[1].name]  # the first was done: skipped
    assert made.stat().st_mtime_ns == stamp
    assert [Path(e["input"]).name for e in second["outputs"]] == [p.name for p in photos]
    seen.clear()
    run_batch(photos, out, RetouchOptions(), jobs=1, force=True, progress=lambda e: seen.append(Path(e.input).name))
    assert seen == [p.name for p in photos]  # --force remakes both
    seen.clear()
    run_batch(photos, out, RetouchOptions(shadow="none"), jobs=1, progress=lambda e: seen.append(Path(e.input).name))
    assert seen == [p.name for p in photos]  # other options: the old outputs are not what was asked for


def test_worker_processes_give_the_same_outputs(tmp_path: Path, photos: list[Path]) -> None:
    one = run_batch(photos, tmp_path / "one", RetouchOptions(frame="keep"), jobs=1)
    two = run_batch(photos, tmp_path / "two", RetouchOptions(frame="keep"), jobs=2)
    for a, b in zip(one["outputs"], two["outputs"], strict=True):
        with Image.open(a["output"]) as ia, Image.open(b["output"]) as ib:
            assert np.abs(np.asarray(ia, np.int16) - np.asarray(ib, np.int16)).max() <= 1


def test_exif_orientation_cmyk_and_16_bit_photos(tmp_path: Path, photos: list[Path]) -> None:
    upright = np.asarray(Image.open(photos[0]).convert("RGB"))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned: show rotated 90 degrees clockwise
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(np.rot90(upright, 1))).save(buf, "JPEG", quality=95, exif=exif.tobytes())
    np.testing.assert_allclose(decode_photo(buf.getvalue(), "turned.jpg").astype(float).mean(), upright.mean(), atol=2)
    assert decode_photo(buf.getvalue(), "turned.jpg").shape == upright.shape
    cmyk = Image.fromarray(upright).convert("CMYK")
    c = io.BytesIO()
    cmyk.save(c, "JPEG", quality=95)
    assert np.abs(decode_photo(c.getvalue(), "cmyk.jpg").astype(int) - upright).mean() < 6
    deep = (upright.astype(np.uint16) * 257)[..., ::-1]
    import cv2

    cv2.imwrite(str(tmp_path / "deep.png"), deep)
    np.testing.assert_array_equal(decode_photo((tmp_path / "deep.png").read_bytes(), "deep.png"), upright)


def test_the_command(tmp_path: Path, photos: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    bad = photos[0].parent / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 not really")
    code = main(["retouch", str(photos[0]), str(bad), "-o", str(out), "--background", "transparent",
                 "--frame", "keep", "--json", "--jobs", "1"])
    assert code == 1  # one photo failed
    captured = capsys.readouterr()
    manifest = json.loads(captured.out)
    assert [Path(e["input"]).name for e in manifest["outputs"]] == [photos[0].name, "broken.jpg"]
    assert "broken.jpg" in captured.err and "not a readable image" in captured.err
    with Image.open(out / (photos[0].stem + ".png")) as im:
        assert im.mode == "RGBA" and im.size == Image.open(photos[0]).size
        a = np.asarray(im)[..., 3]
        assert a[0, 0] == 0 and a.max() == 255  # the corner is background; the piece is there
    assert main(["retouch", str(photos[0]), "-o", str(out), "--background", "grey"]) == 2
    assert "#RRGGBB" in capsys.readouterr().err
    assert main(["retouch", str(tmp_path / "none.jpg"), "-o", str(out)]) == 2
    assert not os.path.exists(out / "none.jpg")


def piece_luma(path: str) -> float:
    """The median luma of an RGBA output's piece (alpha > 0.9)."""
    with Image.open(path) as im:
        rgba = np.asarray(im, np.float32) / 255.0
    inside = rgba[..., 3] > 0.9
    return float(np.median(rgba[..., :3][inside] @ np.array([0.2126, 0.7152, 0.0722], np.float32)))


def test_match_and_same_look_bring_a_dark_shot_to_the_batch(tmp_path: Path, photos: list[Path]) -> None:
    src = photos[0]
    dark = tmp_path / "in" / "dark.png"
    rgb = np.asarray(Image.open(src).convert("RGB"), np.float32)
    Image.fromarray(np.clip(255.0 * (rgb / 255.0) ** 1.6, 0, 255).astype(np.uint8)).save(dark)  # under-exposed
    opts = RetouchOptions(background="transparent", frame="keep", shadow="none")
    own = run_batch([src, dark], tmp_path / "own", opts, jobs=1)
    matched = run_batch([dark], tmp_path / "matched", opts, match=src, jobs=1)
    same = run_batch([src, dark], tmp_path / "same", opts, same_look=True, jobs=1)
    bright = piece_luma(own["outputs"][0]["output"])
    gap_own = bright - piece_luma(own["outputs"][1]["output"])
    assert gap_own > 0.05  # the dark shot stays dark on its own
    assert abs(bright - piece_luma(matched["outputs"][0]["output"])) < gap_own / 3
    same_gap = abs(piece_luma(same["outputs"][0]["output"]) - piece_luma(same["outputs"][1]["output"]))
    assert same_gap < gap_own / 3
    assert same["look"] is not None and own["look"] is None


def test_a_retouching_process_keeps_its_freed_memory() -> None:
    """glibc takes the setting (this machine's C library), so the CLI and the workers reuse their buffers."""
    import subprocess
    import sys

    code = "from tryon.retouch.pipeline import keep_freed_memory; print(keep_freed_memory())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"
