"""POST /api/design on the real server: the admin token, words refused with their reason, and a designed piece
that is priced, listed and wearable at once."""

from __future__ import annotations

import httpx
import pytest

from tryon.config import Settings
from tryon.server.app import serve_in_background

TOKEN = "a-long-enough-admin-token"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), admin_token=TOKEN)
    with serve_in_background(settings) as url:
        yield url


def test_design_from_words_over_http(base):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    body = {"prompt": "rose gold halo ring with a 7 mm sapphire, thin band", "seed": 2}
    with httpx.Client(base_url=base, timeout=120) as http:
        assert http.post("/api/design", json=body).status_code == 401  # no token, no new pieces
        refused = http.post("/api/design", json={"prompt": "a titanium watch"}, headers=auth)
        assert refused.status_code == 400 and "'titanium' is not a metal" in refused.json()["detail"]
        assert http.post("/api/design", json={"prompt": "x" * 501}, headers=auth).status_code == 422
        r = http.post("/api/design", json=body, headers=auth)
        assert r.status_code == 201, r.text
        made = r.json()
        assert made["kind"] == "ring" and made["parameters"] == {
            "metal": "rose_gold", "style": "halo", "stone": "sapphire", "stone_mm": 7.0, "band_width_mm": 2.0}
        assert made["said"]["stone_mm"] == "7 mm"
        (item,) = made["items"]
        assert item["metal"] == "rose_gold" and item["stone"] == "sapphire" and item["price"]["amount"] > 0
        listed = {i["id"] for i in http.get("/api/items?site=finger").json()["items"]}
        assert item["id"] in listed and "finger" in item["places"]  # in the catalog and wearable on a finger
        assert http.get(item["model"]).status_code == 200 and http.get(item["thumbnail"]).status_code == 200
        over = http.post("/api/design", json={**body, "parameters": {"metal": "platinum"}}, headers=auth).json()
        assert over["parameters"]["metal"] == "platinum" and over["items"][0]["metal"] == "platinum"
