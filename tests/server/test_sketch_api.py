"""POST /api/design/sketch on the real server: a heart drawn on off-white paper becomes a priced pendant that is
listed at once, with the notes on what was done to the drawing; bad drawings (a blank page, an open outline, a
scribble, a photo, not an image) are refused with the reason; the admin token and the upload limit hold."""

from __future__ import annotations

import io
import math

import cv2
import httpx
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from tryon.config import Settings
from tryon.server.app import serve_in_background

TOKEN = "a-long-enough-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PATH = "/api/design/sketch"
PAPER = (246, 243, 236)  # off-white, as a phone sees a page
INK = (32, 30, 38)
UPLOAD_MB = 3.0  # the server's limit here: over the 1 MB every other request gets, under what the big page sends


def page(size: tuple[int, int] = (600, 800)) -> NDArray[np.uint8]:
    """(h, w, 3) RGB paper with a little grain (seeded)."""
    grain = np.random.default_rng(7).normal(0.0, 2.0, (*size, 1))
    return np.clip(np.array(PAPER, np.float64) + grain, 0, 255).astype(np.uint8)


def heart_points(centre: tuple[float, float], scale: float, closed: float = 1.0) -> NDArray[np.int32]:
    """(n, 2) pixel points of a heart's outline (y down); `closed` < 1 leaves the rest of the line undrawn."""
    t = np.linspace(0.0, 2.0 * math.pi * closed, 200, endpoint=False)
    x = 16.0 * np.sin(t) ** 3
    y = -(13.0 * np.cos(t) - 5.0 * np.cos(2 * t) - 2.0 * np.cos(3 * t) - np.cos(4 * t))
    return np.stack([centre[0] + scale * x, centre[1] + scale * y], axis=1).astype(np.int32)


def png(img: NDArray[np.uint8], compress: int = 6) -> bytes:
    out = io.BytesIO()
    Image.fromarray(img).save(out, format="PNG", compress_level=compress)
    return out.getvalue()


def heart_png(size: tuple[int, int] = (600, 800), compress: int = 6) -> bytes:
    img = page(size)
    h, w = size
    cv2.polylines(img, [heart_points((w / 2, h / 2), min(h, w) / 50)], True, INK, 5, cv2.LINE_AA)
    return png(img, compress)


def open_arc_png() -> bytes:
    img = page()
    cv2.polylines(img, [heart_points((400, 300), 12, closed=0.6)], False, INK, 5, cv2.LINE_AA)
    return png(img)


def scribble_png() -> bytes:
    img = page()
    rng = np.random.default_rng(3)
    points = rng.uniform((250, 150), (550, 450), (40, 2)).astype(np.int32)
    cv2.polylines(img, [points], False, INK, 3, cv2.LINE_AA)
    return png(img)


def photo_png() -> bytes:
    """A photo (scikit-image's astronaut), not a drawing on paper."""
    from skimage import data

    return png(data.astronaut())


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), admin_token=TOKEN, max_upload_mb=UPLOAD_MB)
    with serve_in_background(settings) as url:
        yield url


def send(http: httpx.Client, data: bytes, kind: str = "pendant", headers: dict[str, str] | None = None,
         **fields: str) -> httpx.Response:
    return http.post(PATH, files={"file": ("drawing.png", data, "image/png")}, data={"type": kind, **fields},
                     headers=AUTH if headers is None else headers)


def test_a_drawn_heart_becomes_a_priced_listed_pendant(base):
    with httpx.Client(base_url=base, timeout=300) as http:
        r = send(http, heart_png(), size_mm="22", metal="rose-gold")
        assert r.status_code == 201, r.text
        made = r.json()
        (item,) = made["items"]
        assert made["kind"] == "pendant" and item["kind"] == "pendant" and item["site"] == "neck"
        assert item["metal"] == "rose_gold" and item["size_mm"] == 22.0
        assert item["price"]["amount"] > 0 and item["id"].startswith("design-pendant-")
        assert "drawing" in item["name"]  # named after the uploaded file
        assert made["plate_mm"]["height"] == pytest.approx(22.0, abs=0.01)
        assert 0.8 < made["plate_mm"]["width"] / made["plate_mm"]["height"] < 1.4  # a heart's proportions
        assert any("thinnest metal" in n for n in made["notes"]), made["notes"]
        listed = {i["id"]: i for i in http.get("/api/items").json()["items"]}
        assert item["id"] in listed and listed[item["id"]]["price"]["amount"] == item["price"]["amount"]
        thumb = http.get(item["thumbnail"])
        assert thumb.status_code == 200 and thumb.content.startswith(b"\x89PNG")
        assert http.get(item["model"]).status_code == 200


def test_an_earring_at_the_default_size(base):
    with httpx.Client(base_url=base, timeout=300) as http:
        r = send(http, heart_png((500, 500)), kind="earring", size_mm="")  # an empty field: the default
        assert r.status_code == 201, r.text
        (item,) = r.json()["items"]
        assert item["kind"] == "earring" and item["site"] == "ears" and item["size_mm"] == 15.0


@pytest.mark.parametrize(("drawing", "reason"), [
    (png(page()), "nothing drawn: the page is blank"),
    (open_arc_png(), "the outline does not close"),
    (scribble_png(), "scribble"),
    (photo_png(), "not a drawing"),
    (b"not an image at all", "is not a readable image"),
], ids=["blank", "open", "scribble", "photo", "not-an-image"])
def test_bad_drawings_are_refused_with_the_reason(base, drawing, reason):
    with httpx.Client(base_url=base, timeout=300) as http:
        r = send(http, drawing)
        assert r.status_code == 400 and reason in r.json()["detail"], r.text


def test_bad_parameters_are_refused(base):
    with httpx.Client(base_url=base, timeout=300) as http:
        assert send(http, heart_png(), kind="ring").status_code == 422  # a sketch is a pendant or an earring
        r = send(http, heart_png(), size_mm="200")
        assert r.status_code == 400 and "height" in r.json()["detail"], r.text
        r = send(http, heart_png(), metal="titanium")
        assert r.status_code == 400 and "titanium" in r.json()["detail"], r.text


def test_token_and_upload_limit(base):
    with httpx.Client(base_url=base, timeout=300) as http:
        before = {i["id"] for i in http.get("/api/items").json()["items"]}
        assert send(http, heart_png(), headers={}).status_code == 401
        assert send(http, heart_png(), headers={"Authorization": "Bearer wrong-token-wrong-token"}).status_code == 401
        # A page over the 1 MB other requests get is taken (the path is an upload), one over the limit is not.
        big = heart_png((800, 1000), compress=0)
        assert 1024**2 < len(big) < UPLOAD_MB * 1024**2
        assert send(http, big).status_code == 201
        huge = png(page((1200, 1400)), compress=0) + b"\0" * 1024**2
        assert len(huge) > UPLOAD_MB * 1024**2
        r = send(http, huge)
        assert r.status_code == 413 and "larger than" in r.json()["detail"]
        after = {i["id"] for i in http.get("/api/items").json()["items"]}
        assert len(after - before) == 1  # only the big page made a piece


def test_sketches_are_off_without_an_admin_token(tmp_path):
    with serve_in_background(Settings(data_dir=tmp_path)) as url, httpx.Client(base_url=url, timeout=60) as http:
        r = send(http, heart_png())
        assert r.status_code == 403 and "TRYON_ADMIN_TOKEN" in r.json()["detail"]
