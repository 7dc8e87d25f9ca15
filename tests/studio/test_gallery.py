"""`tryon gallery`: plain PBR beside photo-real, cropped round each piece."""

import subprocess
import sys

import cv2
import numpy as np
import pytest

from tryon.errors import InputError
from tryon.studio.gallery import TILE_PX, crop_square, gallery, jewelry_box
from tryon.types import RenderLayer


def test_the_box_is_round_the_largest_piece():
    rgba = np.zeros((100, 200, 4), np.float32)
    rgba[10:20, 10:20, 3] = 1.0  # a small far earring
    rgba[40:80, 150:170, 3] = 1.0  # the near one
    cx, cy, half = jewelry_box(RenderLayer(rgba, (5, 7), (640, 480)))
    assert (cx, cy) == (5 + 159, 7 + 59) and half >= 20
    assert jewelry_box(RenderLayer(np.zeros((10, 10, 4), np.float32), (0, 0), (640, 480))) is None


def test_crops_leaving_the_frame_repeat_its_edge():
    rgb = np.zeros((50, 50, 3), np.uint8)
    rgb[:, :, 0] = np.arange(50)[None, :] * 5
    tile = crop_square(rgb, (2, 25, 20), 40)
    assert tile.shape == (40, 40, 3) and tile[:, 0, 0].max() == 0


def test_a_sheet_on_the_astronaut(astronaut, catalog):
    sheet = gallery(astronaut, catalog, ["stud-diamond-6mm-yellow-gold", "necklace-strand-pearl-7mm-silver"], columns=1)
    assert sheet.shape[1] == 2 * TILE_PX and sheet.shape[0] > 2 * TILE_PX
    half = sheet.shape[0] // 2
    plain, real = sheet[:half, :TILE_PX], sheet[:half, TILE_PX:]
    assert np.abs(plain.astype(int) - real).mean() > 0.5  # the two shadings differ
    with pytest.raises(InputError, match="at least one"):
        gallery(astronaut, catalog, [])


def test_the_cli_writes_a_sheet_and_refuses_videos(tmp_path, astronaut):
    photo = tmp_path / "a.png"
    cv2.imwrite(str(photo), cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR))
    env = {**__import__("os").environ, "TRYON_DATA_DIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "-m", "tryon.cli", "gallery", str(photo), "-o", str(tmp_path / "s.jpg"),
                          "--item", "hoop-round-25mm-yellow-gold"], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    assert cv2.imread(str(tmp_path / "s.jpg")).shape[1] == 2 * TILE_PX
    bad = subprocess.run([sys.executable, "-m", "tryon.cli", "gallery", str(photo), "-o", str(tmp_path / "s.mp4"),
                          "--item", "hoop-round-25mm-yellow-gold"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "photo" in bad.stderr
