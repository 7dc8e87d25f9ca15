"""HTTP API without a browser: the catalog, photo try-on, offers that cannot work, share links."""

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tryon.config import Settings
from tryon.server.app import create_app


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), max_upload_mb=2.0)
    with TestClient(create_app(settings)) as c:
        yield c


def _png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def test_items_list_families_variants_and_engine_thumbnails(client):
    body = client.get("/api/items").json()
    items = {i["id"]: i for i in body["items"]}
    assert len(items) == 45 and body["default"][0] in items
    hoops = [i for i in items.values() if i["family"] == "hoop-round"]
    assert {i["metal"] for i in hoops} >= {"yellow_gold", "rose_gold", "white_gold", "silver"}
    assert {i["size_mm"] for i in hoops} == {15.0, 25.0, 40.0}
    for item in items.values():
        r = client.get(item["thumbnail"])
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        rgba = np.asarray(Image.open(io.BytesIO(r.content)))
        assert rgba.shape[2] == 4 and 0.02 < (rgba[..., 3] > 0).mean() < 0.9  # a piece, on transparency
    rings = client.get("/api/items?kind=ring").json()["items"]
    assert rings and all(i["kind"] == "ring" and i["site"] == "finger" for i in rings)
    assert client.get("/api/items?kind=tiara").json()["items"] == []
    assert client.get("/api/items/nope/thumbnail.png").status_code == 404


def test_photo_tryon_draws_near_the_ear(client, astronaut):
    r = client.post("/api/tryon", files={"image": ("a.png", _png(astronaut), "image/png")},
                    data={"items": "hoop-round-40mm-yellow-gold", "format": "png"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    out = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"))
    diff = np.abs(out.astype(int) - astronaut).sum(axis=2) > 30
    ys, xs = np.nonzero(diff)
    assert 100 < len(ys) < 5000
    # The astronaut's visible (right) ear is left of her face, around x 175, y 125 (docs/images).
    assert 150 < np.median(xs) < 200 and 120 < np.median(ys) < 190


@pytest.mark.parametrize(("files", "data", "status", "message"), [
    ({"image": ("a.jpg", b"not an image", "image/jpeg")}, {"items": "hoop-round-25mm-yellow-gold"}, 400, "image"),
    ({"image": ("a.png", b"x" * (3 * 1024 * 1024), "image/png")}, {"items": "hoop-round-25mm-yellow-gold"}, 413,
     "larger than 2 MB"),
    (None, {"items": "no-such-item"}, 404, "Unknown item"),
])
def test_photo_tryon_bad_input_gets_a_clear_error(client, astronaut, files, data, status, message):
    files = files or {"image": ("a.png", _png(astronaut), "image/png")}
    r = client.post("/api/tryon", files=files, data=data)
    assert r.status_code == status and message in r.json()["detail"]


def test_offers_that_cannot_work_get_an_error_and_leave_nothing_behind(client):
    assert client.post("/api/offer", json={"sdp": "v=0", "type": "answer"}).status_code == 422
    r = client.post("/api/offer", json={"sdp": "v=0\r\n", "type": "offer", "items": ["nope"]})
    assert r.status_code == 400 and "Unknown item" in r.json()["detail"]
    r = client.post("/api/offer", json={"sdp": "garbage", "type": "offer", "items": []})
    assert r.status_code == 400
    assert client.get("/api/health").json()["sessions"] == 0


def test_unknown_share_link_is_404_and_docs_are_served(client):
    assert client.get("/api/media/abcdef.png").status_code == 404
    assert client.get("/docs").status_code == 200
    assert "/api/offer" in client.get("/openapi.json").json()["paths"]
    assert client.get("/").text.count('id="video"') == 1
