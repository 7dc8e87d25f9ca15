"""POST /api/advise: a photo in, the stylist's JSON out; bad photos refused; nothing about the person written."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from conftest import BASE, load_rgb
from fastapi.testclient import TestClient
from PIL import Image

from tryon.config import Settings
from tryon.server.app import create_app

TOPICS = {"metal", "earrings", "necklace", "ring", "wrist"}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def client(data_dir):
    with TestClient(create_app(Settings(data_dir=data_dir, max_upload_mb=4.0)), base_url=BASE) as c:
        yield c


def _jpg(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=92)
    return buf.getvalue()


def _files(root: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in root.rglob("*") if p.is_file()}


def test_advise_a_portrait(client, astronaut):
    r = client.post("/api/advise", files={"image": ("me.jpg", _jpg(astronaut), "image/jpeg")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["undertone"]["label"] in ("warm", "cool", "neutral")
    assert 0.0 <= body["undertone"]["confidence"] <= 1.0
    assert body["face_shape"]["label"] in ("oval", "round", "square", "heart", "long")
    topics = {s["topic"] for s in body["suggestions"]}
    assert {"metal", "earrings", "necklace"} <= topics <= TOPICS
    ids = {i["id"] for i in client.get("/api/items").json()["items"]}
    for s in body["suggestions"]:
        assert len(s["reason"]) > 20 and s["source"] and s["rule"]
        assert s["items"] and set(s["items"]) <= ids
    metal = next(s for s in body["suggestions"] if s["topic"] == "metal")
    assert metal["reason"].startswith(body["undertone"]["label"])
    necklace = next(s for s in body["suggestions"] if s["topic"] == "necklace")
    assert "cm chain sits" in necklace["reason"] and "below" in necklace["reason"]
    assert all(f["below_notch_cm"] > 0 for f in necklace["detail"]["lengths"])


def test_advise_with_a_hand_gives_ring_and_wrist(client):
    rgb = load_rgb("people/hands/man_pointing_both_hands_white_bg.jpg")
    body = client.post("/api/advise", files={"image": ("me.jpg", _jpg(rgb), "image/jpeg")}).json()
    assert body["sizes"]["hands"]
    ring = next(s for s in body["suggestions"] if s["topic"] == "ring")
    assert "US" in ring["reason"] and ring["detail"]["band_width_mm"][0] <= ring["detail"]["band_width_mm"][1]
    assert any(s["topic"] == "wrist" for s in body["suggestions"])


def test_no_face_is_said_not_guessed(client):
    grey = np.full((240, 320, 3), 128, np.uint8)
    body = client.post("/api/advise", files={"image": ("grey.jpg", _jpg(grey), "image/jpeg")}).json()
    assert body["undertone"] is None and body["face_shape"] is None
    assert any("no face" in n for n in body["notes"])
    assert not any(s["topic"] in ("metal", "earrings") for s in body["suggestions"])


@pytest.mark.parametrize("payload", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\0" * 64])
def test_bad_images_are_refused(client, payload):
    r = client.post("/api/advise", files={"image": ("x.jpg", payload, "image/jpeg")})
    assert r.status_code == 400, r.text
    assert r.json()["detail"]


def test_no_image_is_refused(client):
    assert client.post("/api/advise").status_code in (400, 422)


def test_nothing_about_the_person_is_written(client, data_dir, astronaut, tmp_path, monkeypatch):
    """Neither the data folder (links, media, the user catalog) nor a temporary folder gets a file."""
    import tempfile

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("TMPDIR", str(scratch))
    before = _files(data_dir)
    r = client.post("/api/advise", files={"image": ("me.jpg", _jpg(astronaut), "image/jpeg")})
    assert r.status_code == 200
    assert _files(data_dir) == before
    assert not list(scratch.iterdir())


def test_advise_is_documented(client):
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/api/advise"]["post"]
    assert op["tags"] == ["stylist"]
    ok = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/AdviceOut"}
    assert {"AdviceOut", "SuggestionOut"} <= set(spec["components"]["schemas"])
