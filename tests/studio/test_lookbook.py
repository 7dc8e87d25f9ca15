"""`tryon lookbook`: pieces on real model photos through the real photo path (MediaPipe, renderer, compositor).

One set is made once for the module by the command itself (two worker processes): an earring, a pendant and a ring
on four shared photos (a man with both ears shown, a woman whose long hair covers her ears, a man pointing with both
hands on white, and an open palm with no face), plus a copy of the first photo with a blue cast and darker, to check
the set's look. The tests read what it made."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import media_path

from tryon import media
from tryon.cli import main
from tryon.errors import InputError, UnknownItemError
from tryon.jewelry.catalog import Catalog
from tryon.retouch.tone import gain_luts
from tryon.studio.lookbook import MAX_WHITE_GAIN, Look, correction, measure_look, set_look
from tryon.studio.lookbook_batch import CONTACT, MANIFEST, check_items, find_models, output_name
from tryon.studio.lookbook_sheet import HEADER_PX, LABEL_PX, cell_size

EARRING = "drop-diamond-pear-8mm-white-gold"
PENDANT = "pendant-heart-12mm-rose-gold"
RING = "ring-halo-diamond-6mm-white-gold"
ITEMS = [EARRING, PENDANT, RING]
SIZE = 512
EARS = "people/faces/man_frontal_dark_jacket.jpg"
HAIR = "people/body/woman_necklace_long_hair.jpg"
HANDS = "people/hands/man_pointing_both_hands_white_bg.jpg"
PALM = "people/hands/palm_open_fingers_spread_grey_wall.png"
CAST = (0.9, 1.0, 1.1)  # linear-light gains of the blue copy (within what a look corrects); then darker
DARKER = 1.4


def blue_copy(rgb: np.ndarray) -> np.ndarray:
    return cv2.LUT(rgb, gain_luts(CAST, DARKER))


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("models")
    for rel in (EARS, HAIR, HANDS):
        shutil.copy(media_path(rel), folder / Path(rel).name)
    (folder / "more").mkdir()
    shutil.copy(media_path(PALM), folder / "more" / Path(PALM).name)  # subfolders are searched too
    media.write_image(folder / "more" / "ears_blue.png", blue_copy(media.read_image(media_path(EARS))))
    return folder


@pytest.fixture(scope="module")
def made(models, tmp_path_factory):
    """(OUTDIR, manifest, exit status) of `tryon lookbook` over the set."""
    out = tmp_path_factory.mktemp("lookbook") / "out"
    rc = main(["lookbook", *ITEMS, "--models", str(models), "-o", str(out), "--size", str(SIZE), "--jobs", "2"])
    return out, json.loads((out / MANIFEST).read_text()), rc


def pair(manifest: dict, item: str, model: str) -> dict:
    return next(e for e in manifest["pairs"] if e["item"] == item and e["model"] == model)


def test_every_pair_is_listed_and_made_where_its_site_is_seen(made):
    out, manifest, rc = made
    assert rc == 0
    assert len(manifest["pairs"]) == len(ITEMS) * 5
    for e in manifest["pairs"]:
        assert e["status"] in ("done", "skipped"), e
        if e["status"] == "done":
            img = media.read_image(out / e["output"])
            assert img.shape == (SIZE, SIZE, 3)
            assert e["output"] == output_name(e["item"], e["model"])
        else:
            assert e["reason"] and e["output"] is None
    for item in (EARRING, PENDANT):
        assert pair(manifest, item, "man_frontal_dark_jacket.jpg")["status"] == "done"
    assert pair(manifest, RING, "man_pointing_both_hands_white_bg.jpg")["status"] == "done"


def test_a_photo_without_the_site_is_listed_with_the_reason_and_no_picture(made):
    out, manifest, _ = made
    palm = "more/palm_open_fingers_spread_grey_wall.png"
    e = pair(manifest, EARRING, palm)
    assert e["status"] == "skipped" and e["reason"] == "no face found"
    assert pair(manifest, PENDANT, palm)["status"] == "skipped" and pair(manifest, PENDANT, palm)["reason"]
    hidden = pair(manifest, EARRING, "woman_necklace_long_hair.jpg")  # her long hair covers both ears
    assert hidden["status"] == "skipped" and "hair" in hidden["reason"]
    assert pair(manifest, RING, "man_frontal_dark_jacket.jpg")["reason"] == "no hand found"
    assert not (out / output_name(EARRING, palm)).exists()
    assert not (out / output_name(RING, "man_frontal_dark_jacket.jpg")).exists()


def test_the_earring_is_drawn_at_the_ear_and_nowhere_else(made, models):
    """The picture against the same crop of the model photo with the same correction: the pixels that differ lie
    round the lobe the face mesh finds, and only there."""
    from tryon.config import Settings
    from tryon.pipeline import Pipeline, PipelineOptions
    from tryon.studio.lookbook import apply_correction, cut
    from tryon.types import Frame

    out, manifest, _ = made
    e = pair(manifest, EARRING, "man_frontal_dark_jacket.jpg")
    rgb = apply_correction(media.read_image(models / "man_frontal_dark_jacket.jpg"),
                           tuple(e["correction"]["gains"]), e["correction"]["power"])
    x0, y0, side = e["crop_px"]
    plain = cut(rgb, (x0, y0, side), SIZE).astype(np.int16)
    worn = media.read_image(out / e["output"]).astype(np.int16)
    changed = np.abs(worn - plain).max(axis=2) > 12  # JPEG moves 99 % of pixels by 4 or less
    with Pipeline(Catalog.load(), [EARRING], PipelineOptions(mode="image", hfov_deg=Settings().hfov_deg)) as pipe:
        lobe = pipe.track(Frame(rgb)).get(e["site"])
    assert lobe is not None
    lx, ly = (np.asarray(lobe.xy_px) - (x0, y0)) * SIZE / side
    assert 0 <= lx < SIZE and 0 <= ly < SIZE
    ys, xs = np.nonzero(changed)
    assert len(xs) > 40, "the earring is missing from the picture"
    dist = np.hypot(xs - lx, ys - ly)
    assert np.percentile(dist, 99) < 0.15 * SIZE, "pixels changed away from the ear"
    assert (dist < 0.15 * SIZE).mean() > 0.99


def test_the_set_is_brought_to_one_look(made, models):
    """The blue, darker copy of a photo comes out closer to the original's picture than it went in (the same framing
    of both): the difference in colour cast about halved, in brightness smaller."""
    out, manifest, _ = made
    a = pair(manifest, EARRING, "man_frontal_dark_jacket.jpg")
    b = pair(manifest, EARRING, "more/ears_blue.png")
    ga, gb = a["correction"]["gains"], b["correction"]["gains"]
    assert gb[2] / gb[0] < ga[2] / ga[0]  # the blue copy is warmed more than the original
    assert b["correction"]["power"] < a["correction"]["power"]  # and brightened more

    def cast_and_level(img: np.ndarray) -> tuple[np.ndarray, float]:
        m = img.reshape(-1, 3).astype(np.float64).mean(axis=0)
        return np.array([m[0] - m[1], m[2] - m[1]]), float(m.mean())

    from tryon.studio.lookbook import cut

    (ca, la) = cast_and_level(cut(media.read_image(models / "man_frontal_dark_jacket.jpg"), a["crop_px"], SIZE))
    (cb, lb) = cast_and_level(cut(media.read_image(models / "more" / "ears_blue.png"), b["crop_px"], SIZE))
    (oa, ma), (ob, mb) = cast_and_level(media.read_image(out / a["output"])), \
        cast_and_level(media.read_image(out / b["output"]))
    assert np.linalg.norm(ob - oa) < 0.6 * np.linalg.norm(cb - ca), (ca, cb, oa, ob)  # on the same framing
    assert abs(mb - ma) < abs(lb - la), (la, lb, ma, mb)
    assert set(manifest["look"]) == {"white", "key", "mono", "white_known"}


def test_the_contact_sheet_has_a_cell_for_every_pair(made):
    out, manifest, _ = made
    sheet = media.read_image(out / CONTACT)
    models_n = len({e["model"] for e in manifest["pairs"]})
    cell = cell_size(models_n, len(ITEMS))
    assert sheet.shape[0] == HEADER_PX + models_n * (cell + LABEL_PX)
    assert sheet.shape[1] == len(ITEMS) * cell + (len(ITEMS) + 1) * 4
    # the palm row (4th by name: models are sorted) is grey reason cells for the earring and the pendant
    row = sorted({e["model"] for e in manifest["pairs"]}).index("more/palm_open_fingers_spread_grey_wall.png")
    y = HEADER_PX + row * (cell + LABEL_PX)
    grey = sheet[y + 30:y + cell - 4, 8:cell - 4]
    assert np.median(grey) == pytest.approx(222, abs=3)


def test_a_second_run_skips_what_is_done_and_force_remakes_it(made, models):
    out, manifest, _ = made
    done = [out / e["output"] for e in manifest["pairs"] if e["status"] == "done"]
    stamps = {p: p.stat().st_mtime_ns for p in done}
    seen: list[dict] = []
    from tryon.studio.lookbook_batch import Setup, run_lookbook

    s = __import__("tryon.config", fromlist=["Settings"]).Settings()
    setup = Setup(str(s.assets_dir), str(s.user_catalog_dir), s.hfov_deg, s.use_compositor)
    again = run_lookbook(ITEMS, find_models(models), out, setup, size_px=SIZE, jobs=1, progress=seen.append)
    assert seen == []  # nothing made again
    assert {p: p.stat().st_mtime_ns for p in done} == stamps
    assert again["pairs"] == manifest["pairs"] and again["look"] == manifest["look"]
    one = find_models(models)[:1]
    run_lookbook([EARRING], one, out, setup, size_px=SIZE, force=True, jobs=1, progress=seen.append)
    assert [(e["item"], e["model"]) for e in seen] == [(EARRING, one[0].name)]
    redone = out / pair(manifest, EARRING, one[0].name)["output"]
    assert redone.stat().st_mtime_ns > stamps[redone]


def test_bad_input_is_refused_before_any_work(tmp_path, capsys, models):
    out = tmp_path / "out"
    assert main(["lookbook", "no-such-piece", "--models", str(models), "-o", str(out)]) == 2
    assert "no-such-piece" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a photo")
    assert main(["lookbook", EARRING, "--models", str(empty), "-o", str(out)]) == 2
    assert "no model photos" in capsys.readouterr().err
    assert main(["lookbook", EARRING, "--models", str(tmp_path / "nowhere"), "-o", str(out)]) == 2
    assert main(["lookbook", EARRING, "--models", str(models), "-o", str(out), "--size", "20"]) == 2
    assert not out.exists()  # nothing started, nothing half-written
    with pytest.raises(UnknownItemError):
        check_items(Catalog.load(), ["ring-band-2mm-yellow-gold", "hoop-round-25mm-yelow-gold"])
    with pytest.raises(InputError):
        find_models(empty)


def test_an_unreadable_photo_fails_alone_with_its_reason(tmp_path, capsys):
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(media_path(EARS), folder / "a.jpg")
    (folder / "b.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8)  # a cut-off JPEG
    out = tmp_path / "out"
    assert main(["lookbook", EARRING, "--models", str(folder), "-o", str(out), "--size", "256", "--jobs", "1"]) == 1
    assert "b.jpg" in capsys.readouterr().err
    manifest = json.loads((out / MANIFEST).read_text())
    bad = pair(manifest, EARRING, "b.jpg")
    assert bad["status"] == "failed" and "b.jpg" in bad["reason"] and bad["output"] is None
    assert pair(manifest, EARRING, "a.jpg")["status"] == "done"
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == ["a.jpg", CONTACT, MANIFEST]  # no part files


def test_look_numbers():
    """measure_look reads a cast; correction moves it back within its bounds; a black-and-white photo keeps its
    neutral white."""
    from skimage import data

    rgb = data.astronaut()
    plain, cast = measure_look(rgb), measure_look(blue_copy(rgb))
    assert cast.white[2] > plain.white[2] and cast.white[0] < plain.white[0]
    assert cast.key < plain.key
    gains, power = correction(cast, plain)
    assert gains[2] < 1.0 < gains[0] and max(gains) / min(gains) <= MAX_WHITE_GAIN ** 2 * 1.05
    assert power < 1.0
    grey = np.repeat(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    mono = measure_look(grey)
    assert mono.mono and correction(mono, plain)[0] == (1.0, 1.0, 1.0)
    target = set_look([plain, cast, mono])
    assert target.white == pytest.approx(tuple(np.median([plain.white, cast.white], axis=0) /
                                               np.mean(np.median([plain.white, cast.white], axis=0))))
    with pytest.raises(InputError):
        set_look([])
    assert isinstance(target, Look)


def test_a_photo_replaced_under_the_same_name_is_shot_again(tmp_path):
    from tryon.config import Settings
    from tryon.studio.lookbook_batch import Setup, run_lookbook

    s = Settings()
    setup = Setup(str(s.assets_dir), str(s.user_catalog_dir), s.hfov_deg, s.use_compositor)
    folder = tmp_path / "models"
    folder.mkdir()
    rgb = media.read_image(media_path(EARS))
    media.write_image(folder / "a.png", rgb)
    media.write_image(folder / "b.png", rgb[:, ::-1].copy())
    first = run_lookbook([EARRING], find_models(folder), tmp_path / "out", setup, size_px=256, jobs=1)
    media.write_image(folder / "b.png", blue_copy(rgb))
    seen: list[dict] = []
    second = run_lookbook([EARRING], find_models(folder), tmp_path / "out", setup, size_px=256, jobs=1,
                          progress=seen.append)
    assert [e["model"] for e in seen] == ["b.png"]
    assert second["look"] == first["look"]  # the set keeps the look its first pictures were given
    assert pair(second, EARRING, "b.png")["correction"] != pair(first, EARRING, "b.png")["correction"]


def test_framing_holds_the_drawn_piece_and_refuses_one_cut_by_the_photo():
    """fit_piece moves a box the least that holds the piece (with its margin); a piece touching the photo's border
    is at its edge."""
    from tryon.studio.lookbook import at_edge, fit_piece, piece_bounds
    from tryon.types import RenderLayer

    rgba = np.zeros((60, 60, 4), np.float32)
    rgba[40:50, 20:30, 3] = 1.0  # a piece at x 120..130, y 140..150 of a 200 x 300 (w x h) photo
    layer = RenderLayer(rgba, (100, 100), (200, 300))
    box = (60, 60, 80)  # the piece lies below it, within its grown window
    bounds = piece_bounds(layer, box, 0.5)
    assert bounds == (120, 140, 130, 150)
    x0, y0, side = fit_piece(box, bounds, (300, 200, 3))
    assert side == 80 and x0 <= 120 - 0.06 * 80 and y0 + side >= 150 + 0.06 * 80 - 1
    assert (x0, y0) == (60, 75)  # moved down only as far as needed
    assert piece_bounds(layer, (0, 0, 20), 0.5) is None  # nothing drawn near that box
    assert not at_edge(bounds, (300, 200, 3))
    assert at_edge((120, 140, 130, 300), (300, 200, 3)) and at_edge((0, 10, 5, 20), (300, 200, 3))


def test_worker_count():
    from tryon.studio.lookbook_batch import PHOTOS_PER_WORKER, worker_count

    assert worker_count(3, None) == 1  # a small set: start-up is not worth a second process
    assert worker_count(3, 2) == 2 and worker_count(1, 4) == 1  # --jobs holds, never more than photos
    assert 1 <= worker_count(100 * PHOTOS_PER_WORKER, None) <= (os.cpu_count() or 1)
