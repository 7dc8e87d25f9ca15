"""POST /api/items with a product photo: the admin token holds, the drop earring in the photo becomes a listed,
priced, thumbnailed item that is worn at once on a portrait; a bad photo is a 400 with the reason and adds
nothing."""

from __future__ import annotations

import io

import numpy as np
from conftest import BASE, load_rgb, media_path
from fastapi.testclient import TestClient
from PIL import Image

from tryon.config import Settings
from tryon.server.app import create_app

TOKEN = "a-long-enough-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
GARNET = "products/earrings_garnet_drop_rose_gold_two_panel_grey_bg.jpg"


def _png(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="PNG")
    return out.getvalue()


def test_a_photo_becomes_a_wearable_item_and_a_bad_one_adds_nothing(tmp_path):
    photo = media_path(GARNET).read_bytes()
    form = {"type": "earring", "size_mm": "30", "pair": "true", "name": "Garnet drop"}
    files = {"photo": ("garnet.jpg", photo, "image/jpeg")}
    settings = Settings(data_dir=tmp_path / "data", admin_token=TOKEN, max_upload_mb=5.0)
    with TestClient(create_app(settings), base_url=BASE) as admin:
        assert admin.post("/api/items", data=form, files=files).status_code == 401  # no token
        before = [i["id"] for i in admin.get("/api/items?site=ears").json()["items"]]
        # Bad photos: two pieces without --pair, a blank page, a model and a photo at once.
        two = admin.post("/api/items", data={**form, "pair": "false"}, files=files, headers=AUTH)
        assert two.status_code == 400 and "2 pieces" in two.json()["detail"]
        blank = admin.post("/api/items", data=form, headers=AUTH,
                           files={"photo": ("blank.png", _png(np.full((400, 600, 3), 128, np.uint8)), "image/png")})
        assert blank.status_code == 400 and "no piece" in blank.json()["detail"]
        both = admin.post("/api/items", data=form, headers=AUTH,
                          files={**files, "model": ("m.glb", b"glTF", "model/gltf-binary")})
        assert both.status_code == 400
        assert [i["id"] for i in admin.get("/api/items?site=ears").json()["items"]] == before  # nothing half-added

        r = admin.post("/api/items", data=form, files=files, headers=AUTH)
        assert r.status_code == 201, r.text
        item = r.json()
        assert item["id"].startswith("photo-earring-") and item["name"] == "Garnet drop"
        assert item["price"]["amount"] > 0
        assert item["id"] in [i["id"] for i in admin.get("/api/items?site=ears").json()["items"]]
        assert admin.get(item["thumbnail"]).status_code == 200 and admin.get(item["model"]).status_code == 200
        # Worn at once: a photo try-on with it changes the picture by the ears only.
        face = load_rgb("faces/woman_drop_earrings_hair_up_frontal.jpg")
        tried = admin.post("/api/tryon", data={"items": item["id"], "format": "png"},
                           files={"image": ("p.png", _png(face), "image/png")})
        assert tried.status_code == 200, tried.text
        out = np.asarray(Image.open(io.BytesIO(tried.content)).convert("RGB"))
        changed = np.abs(out.astype(int) - face.astype(int)).sum(axis=2) > 40
        ys, xs = np.nonzero(changed)
        assert changed.sum() > 50
        h, w = changed.shape
        # Both sides of the face, below the eyes, not on its middle.
        assert (xs < 0.4 * w).sum() > 10 and (xs > 0.6 * w).sum() > 10
        assert changed[:, int(0.42 * w):int(0.58 * w)].sum() < 0.05 * changed.sum()
