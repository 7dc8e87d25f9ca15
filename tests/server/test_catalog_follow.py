"""A running server follows the user catalog on disk: a piece designed by another process (`tryon design`, or
another server sharing TRYON_MEDIA_DIR) is listed and wearable at once, without a restart."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import httpx
import numpy as np
from PIL import Image

from tryon.config import Settings
from tryon.server.app import serve_in_background


def _png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def test_a_piece_designed_by_another_process_is_wearable_without_a_restart(tmp_path, astronaut):
    shared = tmp_path / "shared"
    settings = Settings(data_dir=tmp_path / "data", media_dir=shared)
    with serve_in_background(settings) as url, httpx.Client(base_url=url, timeout=120) as http:
        before = {i["id"] for i in http.get("/api/items").json()["items"]}
        env = {**os.environ, "TRYON_DATA_DIR": str(tmp_path / "other-data"), "TRYON_MEDIA_DIR": str(shared)}
        made = subprocess.run([sys.executable, "-m", "tryon.cli", "design", "earring", "--style", "hoop",
                               "--count", "1", "--seed", "4"], env=env, capture_output=True, text=True, timeout=300)
        assert made.returncode == 0, made.stderr
        assert (shared / "catalog" / "catalog.json").is_file()  # in the shared files directory
        added = {i["id"] for i in http.get("/api/items").json()["items"]} - before
        assert len(added) == 1, added
        (item,) = added
        assert http.get(f"/api/items/{item}").status_code == 200
        r = http.post("/api/tryon", files={"image": ("a.png", _png(astronaut), "image/png")},
                      data={"items": item, "format": "png"})
        assert r.status_code == 200, r.text
        out = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"))
        ys, xs = np.nonzero(np.abs(out.astype(int) - astronaut).sum(axis=2) > 30)
        assert len(xs) > 50 and 130 < np.median(xs) < 220  # drawn at her visible ear
