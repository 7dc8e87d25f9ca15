"""One unit of each catalog job kind, run as the job engine runs it (tryon.server.job_kinds.run_unit): real
retouching, real on-model pictures, real renders and H.264 files, a real catalog build (small pictures and few
frames, to stay quick); bad inputs fail with their reason; a unit runs in a spawned process with no server."""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import media_path
from PIL import Image

from tryon.config import Settings
from tryon.errors import InputError, UnknownItemError
from tryon.jewelry.catalog import DEFAULT_ASSETS_DIR, Catalog
from tryon.server import job_kinds
from tryon.server.job_kinds import check_job, finish_job, prepare_job, run_unit, unit_files

PENDANT = "pendant-heart-12mm-rose-gold"
EARRING = "drop-diamond-pear-8mm-white-gold"
HOOP = "hoop-round-25mm-yellow-gold"  # comes in several metals
STUD = "stud-diamond-4mm-yellow-gold"
PRODUCT = "products/ring_sapphire_solitaire_side_view_light_grey_bg.jpg"
PRODUCT2 = "products/bracelet_diamond_bangle_yellow_gold_grey_black_bg.jpg"
FACE = "people/faces/man_frontal_dark_jacket.jpg"
PALM = "people/hands/palm_open_fingers_spread_grey_wall.png"


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module", autouse=True)
def _renderer_closed():
    yield
    job_kinds.close_renderer()


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(c.streams.video[0])]


def _not_white(rgb: np.ndarray) -> float:
    return float((rgb < 250).any(axis=2).mean())


def test_retouch_unit_writes_the_catalog_image(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "00001.jpg").write_bytes(media_path(PRODUCT).read_bytes())
    result = run_unit("retouch", {"retouch": {"size_px": 512}}, {"input": "in/00001.jpg", "name": "ring.jpg"},
                      tmp_path)
    assert result["output"] == "out/ring.jpg"
    img = np.asarray(Image.open(tmp_path / result["output"]))
    assert max(img.shape[:2]) == 512
    assert (img[:3, :3] > 245).all()  # the piece on white
    assert result["checks"] and isinstance(result["passed"], bool) and result["metal"]
    json.dumps(result)  # JSON values only
    assert unit_files(result) == ["out/ring.jpg"]
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no temporary file left


def test_retouch_unit_refuses_bad_inputs_with_the_reason(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(300))
    with pytest.raises(InputError, match="broken.jpg"):
        run_unit("retouch", {}, {"input": "in/broken.jpg", "name": "broken.jpg"}, tmp_path)
    with pytest.raises(InputError, match="not inside"):
        run_unit("retouch", {}, {"input": "../../etc/passwd"}, tmp_path)
    with pytest.raises(InputError, match="cannot read"):
        run_unit("retouch", {}, {"input": "in/missing.jpg"}, tmp_path)
    with pytest.raises(InputError, match="--shadow"):
        run_unit("retouch", {"retouch": {"shadow": "purple"}}, {"input": "in/broken.jpg"}, tmp_path)
    assert not list((tmp_path / "out").iterdir())  # nothing written for a failed unit


def test_retouch_prepare_measures_one_look_for_the_job(tmp_path):
    (tmp_path / "in").mkdir()
    specs = []
    for i, rel in enumerate((PRODUCT, PRODUCT2)):
        (tmp_path / "in" / f"{i:05d}.jpg").write_bytes(media_path(rel).read_bytes())
        specs.append({"input": f"in/{i:05d}.jpg", "name": Path(rel).name})
    opts = prepare_job("retouch", {"same_look": True}, specs, tmp_path)
    assert set(opts["look"]) == {"exposure", "white_rgb", "fill_share"}
    assert prepare_job("retouch", {"same_look": True}, specs[:1], tmp_path)["look"] is None  # one photo: its own
    assert prepare_job("retouch", {"same_look": False}, specs, tmp_path)["look"] is None
    looked = run_unit("retouch", opts, specs[1], tmp_path)
    own = run_unit("retouch", {}, {**specs[1], "output": "out/own.jpg"}, tmp_path)
    a, b = (np.asarray(Image.open(tmp_path / r["output"])) for r in (looked, own))
    assert a.shape == b.shape and not np.array_equal(a, b)  # brought to the job's look, not its own


def test_lookbook_units_and_the_jobs_sheet_and_manifest(tmp_path, settings):
    models = tmp_path / "models"
    models.mkdir()
    for rel in (FACE, PALM):
        (models / Path(rel).name).write_bytes(media_path(rel).read_bytes())
    names = [Path(FACE).name, Path(PALM).name]
    base = {"items": [EARRING, PENDANT], "size": 256, "models": names}
    opts = prepare_job("lookbook", base, [{"model": n} for n in names], tmp_path, settings)
    assert set(opts["looks"]["models"]) == set(names) and opts["looks"]["look"]["key"] > 0
    face = run_unit("lookbook", opts, {"model": names[0]}, tmp_path, settings)
    statuses = {e["item"]: e["status"] for e in face["pairs"]}
    assert statuses == {EARRING: "done", PENDANT: "done"}, face
    for e in face["pairs"]:
        assert np.asarray(Image.open(tmp_path / "out" / e["output"])).shape == (256, 256, 3)
    looks = json.loads((tmp_path / "look.json").read_text())
    assert set(looks["models"]) == set(names) and looks["look"]["key"] > 0  # the set's look, over both photos
    palm = run_unit("lookbook", base, {"model": names[1]}, tmp_path, settings)  # unprepared: reads look.json
    assert {e["item"]: (e["status"], e["reason"]) for e in palm["pairs"]}[EARRING] == ("skipped", "no face found")
    assert sorted(unit_files(face)) == sorted(f"out/{e['output']}" for e in face["pairs"])
    made = finish_job("lookbook", opts, [({"model": names[0]}, face), ({"model": names[1]}, palm)], tmp_path)
    assert made == ["out/manifest.json", "out/contact.png"]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["options"] == {"size": 256} and manifest["look"] == looks["look"] == opts["looks"]["look"]
    assert [(e["item"], e["model"]) for e in manifest["pairs"]] == [(s, m) for m in names for s in opts["items"]]
    assert Image.open(tmp_path / "out" / "contact.png").size[0] > 2 * 96
    with pytest.raises(InputError, match="model photos"):
        run_unit("lookbook", opts, {"model": "other.jpg"}, tmp_path, settings)
    with pytest.raises(InputError, match="size"):
        run_unit("lookbook", {**opts, "size": 10}, {"model": names[0]}, tmp_path, settings)


def test_product_video_unit_writes_one_clip(tmp_path, settings):
    opts = {"seconds": 3.0, "fps": 10, "size": 128, "style": "sweep"}
    result = run_unit("product-video", opts, {"item": PENDANT}, tmp_path, settings)
    assert result["output"] == f"out/{PENDANT}.mp4"
    assert (result["width"], result["height"], result["frame_count"]) == (128, 128, 30)
    frames = _frames(tmp_path / result["output"])
    assert len(frames) == 30 and all(0.01 < _not_white(f) < 0.9 for f in frames)  # the piece is in every frame
    assert not np.array_equal(frames[0], frames[15])  # it moves
    with pytest.raises(UnknownItemError):
        run_unit("product-video", opts, {"item": "no-such-piece"}, tmp_path, settings)
    with pytest.raises(InputError, match="item"):
        run_unit("product-video", opts, {"item": "/etc/passwd.jpg"}, tmp_path, settings)
    with pytest.raises(InputError, match="style"):
        run_unit("product-video", {**opts, "style": "spin"}, {"item": PENDANT}, tmp_path, settings)
    with pytest.raises(InputError, match="unknown option 'colour'"):
        run_unit("product-video", {"colour": "red"}, {"item": PENDANT}, tmp_path, settings)


def test_turntable_units_write_a_turn_and_stills(tmp_path, settings):
    turn = run_unit("turntable", {"seconds": 2.0, "fps": 10, "size": 96}, {"item": EARRING}, tmp_path, settings)
    assert turn["output"] == f"out/{EARRING}.mp4" and turn["frame_count"] == 20
    frames = _frames(tmp_path / turn["output"])
    assert len(frames) == 20 and all(_not_white(f) > 0.005 for f in frames)
    stills = run_unit("turntable", {"what": "stills", "size": 64, "metals": ["yellow_gold", "silver"],
                                    "views": ["front"]}, {"item": HOOP}, tmp_path, settings)
    files = unit_files(stills)
    assert len(files) == 2 and all(f.startswith(f"out/{HOOP}/") and f.endswith("-front.png") for f in files)
    colours = [np.asarray(Image.open(tmp_path / f).convert("RGB")).reshape(-1, 3) for f in files]
    assert all(_not_white(c[None]) > 0.01 for c in colours)
    assert not np.array_equal(colours[0], colours[1])  # gold and silver differ
    with pytest.raises(InputError, match="'turn'"):
        run_unit("turntable", {"what": "spin"}, {"item": EARRING}, tmp_path, settings)


def test_catalog_build_unit_builds_the_item_as_tryon_catalog_build_does(tmp_path):
    result = run_unit("catalog-build", {}, {"item": STUD}, tmp_path)
    built_in = Catalog.load(DEFAULT_ASSETS_DIR / "catalog.json")
    item = built_in.get(STUD)
    assert result["item"] == item.to_json()  # measured and priced alike
    assert result["outputs"] == [f"out/{item.file}", f"out/thumbnails/{STUD}.png"]
    assert (tmp_path / "out" / item.file).read_bytes() == built_in.path_of(item).read_bytes()  # byte-identical
    assert Image.open(tmp_path / "out" / "thumbnails" / f"{STUD}.png").mode == "RGBA"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".build-")]  # its staging folder is gone
    assert finish_job("catalog-build", {}, [({"item": STUD}, result), ({"item": "x"}, None)], tmp_path) == \
        ["out/catalog.json"]
    built = Catalog.load(tmp_path / "out" / "catalog.json")
    assert [i.id for i in built.items] == [STUD] and built.path_of(STUD).is_file()
    with pytest.raises(InputError, match="not a built-in item"):
        run_unit("catalog-build", {}, {"item": "no-such-piece"}, tmp_path)


def test_check_job_checks_items_and_options_before_any_work(catalog):
    opts, specs = check_job("product-video", {"seconds": 3, "fps": 10, "size": 128}, [PENDANT, PENDANT, " "], catalog)
    assert specs == [{"item": PENDANT}] and opts["style"] == "turn"
    _, specs = check_job("catalog-build", {}, [], catalog)
    assert len(specs) == len(Catalog.load(DEFAULT_ASSETS_DIR / "catalog.json"))  # no items: every built-in one
    bad = [("product-video", {"seconds": 30}, [PENDANT], "length in seconds is 3 to 10"),
           ("product-video", {"size": 128.0}, [PENDANT], "whole number"),
           ("product-video", {"size": 127}, [PENDANT], "128 to 2048"),
           ("product-video", {"size": 129}, [PENDANT], "even number"),
           ("product-video", {"seconds": "long"}, [PENDANT], "number"),
           ("product-video", {"style": "spin"}, [PENDANT], "style"),
           ("product-video", {"metal": "tin"}, [PENDANT], "tin"),
           ("product-video", {}, [], "at least one"),
           ("turntable", {"fps": 5}, [PENDANT], "frame rate"),
           ("turntable", {"what": "stills", "views": ["under"]}, [PENDANT], "under"),
           ("turntable", {"what": "stills", "views": "front"}, [PENDANT], "a list of"),
           ("turntable", {"what": "stills", "size": 32}, [PENDANT], "64 to 4096"),
           ("turntable", {"what": "stills", "metals": ["tin"]}, [HOOP], "tin"),
           ("catalog-build", {}, ["no-such-piece"], "no-such-piece"),
           ("lookbook", {}, [PENDANT], "not made from catalog items"),
           ("sculpture", {}, [PENDANT], "unknown job kind")]
    for kind, options, items, reason in bad:
        with pytest.raises(InputError, match=reason):
            check_job(kind, options, items, catalog)
    with pytest.raises(UnknownItemError):
        check_job("turntable", {}, ["no-such-piece"], catalog)


def test_a_unit_runs_in_a_spawned_process_with_no_server(tmp_path, settings):
    """What the engine's local worker and a Celery worker do: import the module fresh, run the unit, get JSON."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        result = pool.submit(run_unit, "turntable", {"what": "stills", "size": 64, "metals": ["yellow_gold"],
                                                     "views": ["front", "top"]}, {"item": HOOP}, str(tmp_path),
                             settings).result(timeout=600)
        with pytest.raises(UnknownItemError):
            pool.submit(run_unit, "turntable", {}, {"item": "no-such-piece"}, str(tmp_path), settings).result(600)
    assert json.loads(json.dumps(result)) == result
    assert sorted(unit_files(result)) == [f"out/{HOOP}/{HOOP}-front.png", f"out/{HOOP}/{HOOP}-top.png"]
    assert all((tmp_path / f).is_file() for f in unit_files(result))
