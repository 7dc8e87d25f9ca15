"""HTTP API without a browser: the catalog, photo try-on, offers that cannot work, share links; and a live
session's commands without WebRTC."""

import asyncio
import io
import json
from fractions import Fraction

import av
import numpy as np
import pytest
from conftest import BASE, load_rgb
from fastapi.testclient import TestClient
from PIL import Image

from tryon.config import Settings
from tryon.jewelry.places import place_keys
from tryon.server.app import create_app
from tryon.server.session import Session, dial_time_s
from tryon.server.store import MediaStore


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), max_upload_mb=2.0)
    with TestClient(create_app(settings), base_url=BASE) as c:
        yield c


def _ring(client) -> dict:
    rings = client.get("/api/items?site=finger").json()["items"]
    if not rings:
        pytest.skip("the catalog has no rings yet (items with site 'finger')")
    return rings[0]


def _png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def test_items_list_families_variants_and_engine_thumbnails(client):
    body = client.get("/api/items").json()
    items = {i["id"]: i for i in body["items"]}
    assert len(items) == len(list(client.app.state.tryon.catalog)) >= 56 and body["default"][0] in items
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


def test_items_say_where_hand_pieces_go(client):
    body = client.get("/api/items").json()
    ring = _ring(client)
    assert ring["kind"] == "ring" and ring["places"][0] == "finger"  # the first place is the default
    assert {"ring", "thumb", "little", "left_index", "right_ring"} <= set(ring["places"])
    wrist = [i for i in body["items"] if i["site"] == "wrist"]
    assert wrist and {i["kind"] for i in wrist} <= {"bracelet", "watch"}
    assert all(i["places"] == ["wrist", "left_wrist", "right_wrist"] for i in wrist)
    assert all(i["places"] == ["ears"] for i in body["items"] if i["site"] == "ears")
    sites = body["sites"]
    assert sites["finger"]["places"]["ring"] == ["left_ring", "right_ring"]
    assert sites["finger"]["places"]["left_index"] == ["left_index"]
    assert sites["finger"]["max_per_anchor"] == 2 and sites["ears"]["max_per_anchor"] == 1


def test_neck_lists_every_necklace_and_pendant_with_its_place(client, catalog):
    body = client.get("/api/items?site=neck").json()
    neck = {i["id"]: i for i in body["items"]}
    assert set(neck) == {i.id for i in catalog if i.site == "neck"} and len(neck) >= 11
    assert {i["kind"] for i in neck.values()} == {"necklace", "pendant"}
    assert all(i["site"] == "neck" and i["places"] == ["neck"] for i in neck.values())
    # What the page reads for each: the chain's length, a pendant's size, thumbnails that are there.
    assert all(350 <= i["dimensions_mm"]["length"] <= 900 for i in neck.values())
    assert all(i["dimensions_mm"]["pendant_height"] > 5 for i in neck.values() if i["kind"] == "pendant")
    assert all(client.get(i["thumbnail"]).status_code == 200 for i in neck.values())
    assert {i["id"] for i in client.get("/api/items?kind=pendant").json()["items"]} < set(neck)
    assert body["sites"]["neck"] == {"places": {"neck": ["neck"]}, "max_per_anchor": 2}


def test_photo_tryon_wears_a_ring_where_asked_and_refuses_a_bad_place(client):
    hand = load_rgb("hands/back_of_hand_outdoor.jpg")  # a right hand; its ring finger's base near (714, 618)
    ring = _ring(client)["id"]
    png = _png(hand)
    photo = {"image": ("h.png", png, "image/png")}
    r = client.post("/api/tryon", files=photo, data={"items": f"{ring}@right_ring", "format": "png"})
    assert r.status_code == 200, r.text
    out = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"))
    ys, xs = np.nonzero(np.abs(out.astype(int) - hand).sum(axis=2) > 30)
    assert len(xs) > 50 and np.hypot(np.median(xs) - 714, np.median(ys) - 618) < 50
    r = client.post("/api/tryon", files={"image": ("h.png", png, "image/png")},
                    data={"items": f"{ring}@left_ring"})  # the left hand is not in the photo: nothing drawn
    assert r.status_code == 200
    assert json.loads(r.headers["x-tryon-not-placed"]) == [{"item": ring, "where": "left_ring",
                                                             "reason": "no left hand found"}]
    r = client.post("/api/tryon", files={"image": ("h.png", png, "image/png")}, data={"items": f"{ring}@nose"})
    assert r.status_code == 400 and "cannot be worn at 'nose'" in r.json()["detail"]


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
    r = client.post("/api/offer", json={"sdp": "v=0\r\n", "type": "offer", "items": [f"{_ring(client)['id']}@left_ear"]})
    assert r.status_code == 400 and "cannot be worn at 'left_ear'" in r.json()["detail"]
    r = client.post("/api/offer", json={"sdp": "v=0\r\n", "type": "offer", "utc_offset_min": 100_000})
    assert r.status_code == 422
    assert client.get("/api/health").json()["sessions"] == 0


def test_unknown_share_link_is_404_and_docs_are_served(client):
    assert client.get("/api/media/abcdef.png").status_code == 404
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/api/offer" in spec["paths"]
    # One router per resource, each answer a model of its own in the schema.
    assert {"items", "live", "photos", "media", "health"} <= {t for p in spec["paths"].values() for op in p.values()
                                                              for t in op.get("tags", [])}
    assert {"ItemList", "ItemDetail", "Offer", "Answer", "Health", "Problem"} <= set(spec["components"]["schemas"])
    ok = spec["paths"]["/api/items"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/ItemList"}
    assert client.get("/").text.count('id="video"') == 1


def test_dial_time_is_the_wall_clock_past_twelve():
    assert dial_time_s(0, now=13 * 3600 + 5.5) == 3600 + 5.5
    assert dial_time_s(-90, now=3600) == 12 * 3600 - 1800  # 01:00 UTC is 23:30 the day before at UTC-1:30
    assert 0 <= dial_time_s() < 12 * 3600


def test_session_wears_pieces_at_their_places_and_a_variant_keeps_its_place(catalog, tmp_path):
    """The control commands against a real session and pipeline, without WebRTC."""
    ring = next(i for i in catalog if i.site == "finger")
    sibling = next((i for i in catalog if i.family == ring.family and i.metal != ring.metal), None)
    if sibling is None:
        pytest.skip(f"no other metal in the {ring.family} family")

    async def scenario() -> None:
        session = Session(catalog, MediaStore(tmp_path, 60), ["hoop-round-25mm-yellow-gold"], 60.0)
        await session._run(session._open_pipeline)
        n = iter(range(100))

        async def cmd(**msg):
            return await session.handle(json.dumps({"id": next(n), **msg}))

        try:
            assert session.stats()["tracking"] == ["face"] and session.stats()["hands"] == []
            specs = ["hoop-round-25mm-yellow-gold", f"{ring.id}@left_index", ring.id, f"{ring.id}@left_index"]
            r = await cmd(cmd="set_items", items=specs)
            assert r["ok"] and r["items"] == specs
            assert r["worn"] == {"ears": "hoop-round-25mm-yellow-gold", "left_index": ring.id, "finger": ring.id,
                                 "left_index/2": ring.id}
            stats = session.stats()
            assert stats["tracking"] == ["face", "hands"] and stats["hand_count"] == 0 and stats["hands"] == []
            # The second ring on the left index changes metal: it stays there, second; the others stay put.
            r = await cmd(cmd="set_variant", site="left_index/2", metal=sibling.metal)
            assert r["ok"], r
            changed = catalog.variant(ring.id, metal=sibling.metal).id
            assert r["item"] == changed and r["items"] == [*specs[:3], f"{changed}@left_index"]
            r = await cmd(cmd="set_variant", site="finger", metal=sibling.metal)
            assert r["items"] == [*specs[:2], changed, f"{changed}@left_index"]
            # Wrong places and too many rings: clear errors, nothing changes.
            bad = await asyncio.gather(
                cmd(cmd="set_items", items=[f"{ring.id}@left_ear"]),
                cmd(cmd="set_items", items=[f"{ring.id}@left_index"] * 3),
                cmd(cmd="set_items", items=["hoop-round-25mm-yellow-gold@left_index"]),
                cmd(cmd="set_items", items="ring"),
                cmd(cmd="set_variant", site="right_thumb", metal=sibling.metal))
            assert not any(b["ok"] for b in bad)
            assert "cannot be worn at 'left_ear'" in bad[0]["error"] and "left_ring" in bad[0]["error"]
            assert "too many items at left_index" in bad[1]["error"]
            assert "cannot be worn at 'left_index'" in bad[2]["error"]
            assert "list of item ids" in bad[3]["error"]
            assert "nothing is worn at 'right_thumb'" in bad[4]["error"] and "left_index/2" in bad[4]["error"]
            assert session.worn["left_index/2"] == changed
            # Sent back to back, set_items then set_variant naming a place it makes: done in that order.
            r1, r2 = await asyncio.gather(cmd(cmd="set_items", items=[f"{ring.id}@right_little"]),
                                          cmd(cmd="set_variant", site="right_little", metal=sibling.metal))
            assert r1["ok"] and r2["ok"] and r2["items"] == [f"{changed}@right_little"]
            assert session.stats()["tracking"] == ["hands"]
        finally:
            await session.close()

    asyncio.run(scenario())


def test_session_wears_two_necklaces_layered_and_tracks_the_neck(catalog, tmp_path):
    """Necklaces through the page's commands, on a real session and pipeline: one, two layered, a bad choice
    refused without change; a frame of the astronaut (head and shoulders) finds her neck."""
    neck = [i for i in catalog if i.site == "neck"]
    pendant = next(i for i in neck if i.kind == "pendant")
    chain = next(i for i in neck if i.kind == "necklace" and catalog.variant(i.id, metal="white_gold").id != i.id)
    white = catalog.variant(chain.id, metal="white_gold")
    choker = next(i for i in neck if "choker" in i.family)

    async def scenario() -> None:
        from skimage import data

        session = Session(catalog, MediaStore(tmp_path, 60), [], 60.0)
        await session._run(session._open_pipeline)
        n = iter(range(100))

        async def cmd(**msg):
            return await session.handle(json.dumps({"id": next(n), **msg}))

        try:
            assert session.stats()["tracking"] == [] and session.stats()["neck"] is False
            r = await cmd(cmd="set_items", items=[pendant.id])
            assert r["ok"] and r["items"] == [pendant.id] and r["worn"] == {"neck": pendant.id}
            assert session.stats()["tracking"] == ["face", "neck"]
            r = await cmd(cmd="set_items", items=["hoop-round-25mm-yellow-gold", pendant.id, f"{chain.id}@neck"])
            assert r["ok"] and r["items"] == ["hoop-round-25mm-yellow-gold", pendant.id, chain.id]
            assert r["worn"] == {"ears": "hoop-round-25mm-yellow-gold", "neck": pendant.id, "neck/2": chain.id}
            assert [w.item.id for w in session._pipeline.placements] == r["items"]
            # The second necklace changes metal and stays second.
            r = await cmd(cmd="set_variant", site="neck/2", metal="white_gold")
            assert r["ok"] and r["item"] == white.id and r["worn"]["neck/2"] == white.id
            layered = r["items"]
            # Three at the neck, a place a necklace cannot take, a necklace at the ears: refused, nothing changes.
            bad = [await cmd(cmd="set_items", items=[pendant.id, chain.id, choker.id]),
                   await cmd(cmd="set_items", items=[f"{pendant.id}@left_wrist"]),
                   await cmd(cmd="set_items", items=[f"{chain.id}@ears"]),
                   await cmd(cmd="set_items", items=["necklace-of-nope"])]
            assert not any(b["ok"] for b in bad)
            assert "too many items at neck" in bad[0]["error"] and choker.id in bad[0]["error"]
            assert "cannot be worn at 'left_wrist'" in bad[1]["error"] and "neck" in bad[1]["error"]
            assert "cannot be worn at 'ears'" in bad[2]["error"]
            assert "Unknown item 'necklace-of-nope'" in bad[3]["error"]
            assert [w.spec for w in session.placements] == layered and session.stats()["tracking"] == ["face", "neck"]

            # Frames of the astronaut (head and shoulders), the two necklaces alone: her neck is found and
            # they are drawn under her chin (her sternal notch is near (210, 205)), once faded in (wall time).
            r = await cmd(cmd="set_items", items=layered[1:])
            assert r["worn"] == {"neck": pendant.id, "neck/2": white.id}
            astronaut = data.astronaut()
            for k in range(40):
                frame = av.VideoFrame.from_ndarray(astronaut, format="rgb24")
                frame.pts, frame.time_base = k * 3000, Fraction(1, 90000)  # as a WebRTC camera frame
                out = (await session._run(session._process, frame)).to_ndarray(format="rgb24")
                ys, xs = np.nonzero(np.abs(out.astype(int) - astronaut).sum(axis=2) > 30)
                if len(xs) > 100:
                    break
                await asyncio.sleep(0.05)
            stats = session.stats()
            assert stats["neck"] is True and stats["face"] is True and stats["tracking"] == ["face", "neck"]
            assert len(xs) > 100 and abs(np.median(xs) - 210) < 40 and 195 < np.median(ys) < 280
            # Taken off: the neck is no longer tracked.
            r = await cmd(cmd="set_items", items=["hoop-round-25mm-yellow-gold"])
            assert r["worn"] == {"ears": "hoop-round-25mm-yellow-gold"}
            assert session.stats()["tracking"] == ["face"] and session.stats()["neck"] is False
        finally:
            await session.close()

    asyncio.run(scenario())


def test_place_keys_number_a_second_piece_at_the_same_place(catalog):
    from tryon.jewelry.places import Worn

    ring = next(i for i in catalog if i.site == "finger")
    placements = [Worn(ring, "ring", ()), Worn(ring, "left_ring", ()), Worn(ring, "ring", ())]
    assert place_keys(placements) == ["ring", "left_ring", "ring/2"]


def test_one_item_with_its_price_facts_and_model(client):
    body = client.get("/api/items/ring-band-4mm-yellow-gold").json()
    assert body["id"] == "ring-band-4mm-yellow-gold" and body["kind"] == "ring"
    assert body["price"]["currency"] == "USD" and body["price"]["amount"] > 100
    facts = body["facts"]
    assert 4.0 < facts["metal_weight_g"] < 7.0 and facts["ok"] is True and facts["stones"] == []
    solitaire = client.get("/api/items/ring-solitaire-diamond-6.5mm-platinum").json()["facts"]
    assert solitaire["stones"][0]["name"] == "diamond" and 0.9 < solitaire["stones"][0]["carat_total"] < 1.1
    glb = client.get(body["model"])
    assert glb.status_code == 200 and glb.headers["content-type"] == "model/gltf-binary"
    import trimesh

    scene = trimesh.load(io.BytesIO(glb.content), file_type="glb", force="scene")
    assert scene.geometry and 0.015 < float(scene.extents.max()) < 0.03  # metres: a ring about 20 mm across
    assert client.get(body["thumbnail"]).headers["content-type"] == "image/png"
    for url in ("/api/items/no-such-ring", "/api/items/no-such-ring/model.glb"):
        r = client.get(url)
        assert r.status_code == 404 and "Unknown item" in r.json()["detail"]
    listed = client.get("/api/items?kind=ring").json()["items"]
    assert all(i["price"]["amount"] > 0 for i in listed)


def test_importing_an_item_needs_the_admin_token_and_makes_it_wearable(tmp_path, client):
    from tryon.jewelry.catalog import DEFAULT_ASSETS_DIR

    glb = (DEFAULT_ASSETS_DIR / "earrings" / "hoop-round-25mm-silver.glb").read_bytes()
    form = {"type": "earring", "name": "Customer hoop", "metal": "rose-gold"}
    files = {"model": ("hoop.glb", glb, "model/gltf-binary")}
    # The shared client has no token: imports are off.
    assert client.post("/api/items", data=form, files=files).status_code == 403
    settings = Settings(data_dir=tmp_path / "data", admin_token="s3cret-token-0123456789")
    with TestClient(create_app(settings), base_url=BASE) as admin:
        assert admin.post("/api/items", data=form, files=files).status_code == 401
        wrong = {"Authorization": "Bearer not-the-token-0123456789"}
        assert admin.post("/api/items", data=form, files=files, headers=wrong).status_code == 401
        ok = {"Authorization": "Bearer s3cret-token-0123456789"}
        r = admin.post("/api/items", data=form, files=files, headers=ok)
        assert r.status_code == 201, r.text
        item = r.json()
        assert item["id"].startswith("import-customer-hoop-") and item["metal"] == "rose_gold"
        assert item["price"]["amount"] > 0
        listed = [i["id"] for i in admin.get("/api/items?site=ears").json()["items"]]
        assert item["id"] in listed
        assert admin.get(item["thumbnail"]).status_code == 200 and admin.get(item["model"]).status_code == 200
        assert admin.get(f"/api/items/{item['id']}").json()["facts"]["metal_weight_g"] > 0
        # Wearable at once: a photo try-on with it.
        png = _png(np.asarray(Image.fromarray(load_rgb("faces/obama_official_portrait_frontal.jpg"))))
        tried = admin.post("/api/tryon", data={"items": item["id"], "format": "png"},
                           files={"image": ("p.png", png, "image/png")})
        assert tried.status_code == 200, tried.text
        bad = admin.post("/api/items", data=form, files={"model": ("cut.glb", glb[:500], "model/gltf-binary")},
                         headers=ok)
        assert bad.status_code == 400 and "not a readable" in bad.json()["detail"]
        assert len(admin.get("/api/items?site=ears").json()["items"]) == len(listed)  # nothing half-added


def test_an_import_that_runs_past_its_time_is_stopped_and_leaves_nothing(tmp_path):
    from tryon.jewelry.catalog import DEFAULT_ASSETS_DIR

    glb = (DEFAULT_ASSETS_DIR / "earrings" / "hoop-round-25mm-silver.glb").read_bytes()
    form = {"type": "earring", "name": "Slow hoop"}
    # Starting the import's own process alone takes longer than this: the import is stopped, every time.
    settings = Settings(data_dir=tmp_path / "data", admin_token="s3cret-token-0123456789", max_import_s=0.2)
    with TestClient(create_app(settings), base_url=BASE) as admin:
        r = admin.post("/api/items", data=form, files={"model": ("hoop.glb", glb, "model/gltf-binary")},
                       headers={"Authorization": "Bearer s3cret-token-0123456789"})
        assert r.status_code == 400 and "took longer than 0.2 s and was stopped" in r.json()["detail"]
        assert admin.get("/api/health").json()["ok"]  # the server goes on
    user = settings.user_catalog_dir
    assert not user.exists() or not any(p.suffix == ".glb" for p in user.rglob("*"))

