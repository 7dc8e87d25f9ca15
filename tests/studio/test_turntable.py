"""Turntable videos and product stills: the item alone on white, turning once, framed the same at every angle;
real rendering (small pictures, to stay quick)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from tryon.errors import InputError, RenderError, UnknownItemError
from tryon.render.renderer import Renderer
from tryon.render.scene import item_model
from tryon.studio import turntable
from tryon.studio.turntable import (
    MARGIN,
    STILL_ANGLES,
    metal_variants,
    stills,
    turntable_frames,
    write_stills,
    write_turntable,
)

SIZE = 160
ONE_OF_EACH_KIND = {
    "earring": "drop-diamond-pear-8mm-white-gold",  # a hanging part: it must hang straight down the stage
    "ring": "ring-solitaire-diamond-6.5mm-platinum",
    "bracelet": "bracelet-tennis-diamond-2.75mm-white-gold",
    "watch": "watch-round-39mm-stainless-steel",
    "necklace": "necklace-cable-2.5mm-yellow-gold",
    "pendant": "pendant-heart-12mm-rose-gold",
}
HOOP = "hoop-round-25mm-yellow-gold"  # comes in yellow, rose and white gold and silver


@pytest.fixture(scope="module")
def renderer():
    with Renderer() as r:
        yield r


def _model(catalog, item_id):
    item = catalog.get(item_id)
    return item_model(catalog, item), item.kind


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of the two pictures seen at 20 x 20 (their shapes, not their sparkle)."""
    def small(x: np.ndarray) -> np.ndarray:
        return cv2.resize(x, (20, 20), interpolation=cv2.INTER_AREA).astype(np.float64)

    return float(np.abs(small(a) - small(b)).mean())


def _box(rgb: np.ndarray) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 (inclusive) of what is not pure white."""
    ys, xs = np.nonzero((rgb < 255).any(axis=2))
    assert len(xs), "something is drawn"
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


@pytest.mark.parametrize("kind", list(ONE_OF_EACH_KIND))
def test_one_full_turn_on_white(renderer, catalog, kind):
    model, item_kind = _model(catalog, ONE_OF_EACH_KIND[kind])
    assert item_kind == kind
    frames = list(turntable_frames(renderer, model, kind, SIZE, seconds=2.0, fps=24))
    assert len(frames) == 48, "seconds * fps frames"
    assert all(f.shape == (SIZE, SIZE, 3) and f.dtype == np.uint8 for f in frames)
    for f in frames:
        border = np.concatenate([f[:2].reshape(-1, 3), f[-2:].reshape(-1, 3), f[:, :2].reshape(-1, 3),
                                 f[:, -2:].reshape(-1, 3)])
        assert (border == 255).all(), "white studio background; neither the item nor its shadow reaches the border"
    steps = [_diff(frames[k], frames[k + 1]) for k in range(len(frames) - 1)]
    wrap = _diff(frames[-1], frames[0])
    assert wrap <= 1.5 * max(steps) and wrap <= 2.0 * float(np.median(steps)), \
        "first and last nearly equal: the video loops without a jump"
    # A quarter turn shows another side (half a turn can look alike: a ring or a hoop seen from behind).
    assert _diff(frames[0], frames[12]) > 2.5 * wrap, "it turns"
    if kind != "earring":
        return
    # Exactly one turn: the last frame is one step short of 360 degrees (as the frame at 352.5 degrees of a
    # turn twice as long: same framing, same angle).
    longer = list(turntable_frames(renderer, model, kind, SIZE, seconds=4.0, fps=24))
    assert len(longer) == 96
    assert np.array_equal(longer[0], frames[0]) and np.array_equal(longer[-2], frames[-1])
    assert np.array_equal(longer[48], frames[24])


@pytest.mark.parametrize("kind", list(ONE_OF_EACH_KIND))
def test_framed_once_for_the_whole_turn(renderer, catalog, kind):
    """Without the shadow the item alone is measured: it fills the picture at its widest over the turn,
    a sensible part of it at every angle, and never touches the border."""
    model, _ = _model(catalog, ONE_OF_EACH_KIND[kind])
    boxes = np.array([_box(f) for f in turntable_frames(renderer, model, kind, SIZE, 2.0, 12, shadow=False)])
    assert boxes[:, :2].min() >= 2 and boxes[:, 2:].max() <= SIZE - 3, "never touches the border"
    union = max(boxes[:, 2].max() - boxes[:, 0].min(), boxes[:, 3].max() - boxes[:, 1].min()) + 1
    assert union >= SIZE / MARGIN - 6, "fitted tight on the union of all the angles"
    spans = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) + 1
    assert spans.min() >= 0.3 * SIZE, "a sensible part of the picture at every angle"


def test_hanging_and_standing_the_right_way_up(renderer, catalog):
    drop, _ = _model(catalog, "drop-diamond-pear-8mm-white-gold")
    front = stills(renderer, drop, "earring", SIZE, {"level": (0.0, 0.0)}, shadow=False)["level"]
    x0, y0, x1, y1 = _box(front)
    assert y1 - y0 > 2.0 * (x1 - x0), "a drop earring hangs: tall and narrow from the front"
    ring, _ = _model(catalog, "ring-solitaire-diamond-6.5mm-platinum")
    front = stills(renderer, ring, "ring", SIZE, ["front"], shadow=False)["front"]
    x0, y0, x1, y1 = _box(front)
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2 + (y1 - y0) // 8
    assert (front[cy, cx] == 255).all(), "a ring stands: seen through its hole from the front"


def test_a_hoop_shows_its_circle_from_the_front(renderer, catalog):
    model, kind = _model(catalog, HOOP)
    shots = stills(renderer, model, kind, SIZE, ["front", "side"], shadow=False)
    fx0, _, fx1, _ = _box(shots["front"])
    sx0, _, sx1, _ = _box(shots["side"])
    assert fx1 - fx0 > 4 * (sx1 - sx0)


def test_seconds_and_sizes_are_checked_on_the_call(renderer, catalog):
    model, kind = _model(catalog, ONE_OF_EACH_KIND["ring"])
    for seconds in (1.0, 1.99, 6.01, 10.0, float("nan")):
        with pytest.raises(InputError, match="seconds"):
            turntable_frames(renderer, model, kind, SIZE, seconds=seconds)
    with pytest.raises(InputError, match="frame rate"):
        turntable_frames(renderer, model, kind, SIZE, fps=0)
    with pytest.raises(InputError, match="size"):
        turntable_frames(renderer, model, kind, 16)
    with pytest.raises(InputError, match="view"):
        stills(renderer, model, kind, SIZE, ["front", "underneath"])
    with pytest.raises(InputError, match="kind"):
        turntable_frames(renderer, model, "brooch", SIZE)


def test_a_soft_contact_shadow_under_the_piece(renderer, catalog):
    model, kind = _model(catalog, ONE_OF_EACH_KIND["ring"])
    stage = turntable._stage(model, kind)
    intr, t = turntable._fit(stage, [(40.0, 25.0)], SIZE)  # one framing for both pictures
    pose = turntable._pose(40.0, 25.0, t)
    shaded = turntable._picture(renderer, model, stage, intr, pose, None)
    bare = turntable._picture(renderer, model, dataclasses.replace(stage, floor=None), intr, pose, None)
    x0, y0, x1, y1 = _box(bare)
    below = shaded[y1 + 1:].astype(int)
    assert below.min() < 235, "the floor darkens just under the ring"
    assert below.min() > 100, "softly"
    assert (shaded[(bare < 255).any(axis=2)] == bare[(bare < 255).any(axis=2)]).mean() > 0.5, \
        "the shadow lies under the piece, not over it"


def _read_video(path: Path) -> tuple[list[np.ndarray], float]:
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened()
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames, fps


def test_write_turntable_mp4(renderer, catalog, tmp_path):
    out = tmp_path / "spin.mp4"
    seen = []
    info = write_turntable(catalog, ONE_OF_EACH_KIND["ring"], out, seconds=2.5, size_px=128, fps=12,
                           renderer=renderer, progress=lambda done, total: seen.append((done, total)))
    assert (info.width, info.height, info.frame_count) == (128, 128, 30) and info.fps == pytest.approx(12.0)
    frames, fps = _read_video(out)
    assert len(frames) == 30 and fps == pytest.approx(12.0)
    assert all(f.shape == (128, 128, 3) for f in frames)
    assert min(int(f[0, 0].min()) for f in frames) >= 250, "white after H.264"
    assert _diff(frames[0], frames[7]) > 2.5 * _diff(frames[0], frames[-1]), "it turns, and loops"
    assert seen[-1] == (30, 30)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spin.mp4"], "no temp file left"


def test_write_turntable_errors_leave_no_file(renderer, catalog, tmp_path):
    ring = ONE_OF_EACH_KIND["ring"]
    out = tmp_path / "spin.mp4"
    with pytest.raises(InputError, match="seconds"):
        write_turntable(catalog, ring, out, seconds=8, size_px=64, renderer=renderer)
    with pytest.raises(UnknownItemError, match="no-such-ring"):
        write_turntable(catalog, "no-such-ring", out, size_px=64, renderer=renderer)
    with pytest.raises(InputError, match=r"\.mp4"):
        write_turntable(catalog, ring, tmp_path / "spin.gif", size_px=64, renderer=renderer)
    with pytest.raises(InputError, match="no folder"):
        write_turntable(catalog, ring, tmp_path / "missing" / "spin.mp4", size_px=64, renderer=renderer)
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(InputError):
        write_turntable(catalog, ring, tmp_path / "a-file" / "spin.mp4", size_px=64, renderer=renderer)
    (tmp_path / "dir.mp4").mkdir()
    with pytest.raises(InputError, match="folder"):
        write_turntable(catalog, ring, tmp_path / "dir.mp4", size_px=64, renderer=renderer)
    with pytest.raises(InputError, match="even"):
        write_turntable(catalog, ring, out, size_px=65, renderer=renderer)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "dir.mp4"]


def test_a_failure_midway_leaves_no_file(renderer, catalog, tmp_path, monkeypatch):
    real, calls = turntable._picture, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) % 10 == 0:
            raise RenderError("rendering failed: the test's")
        return real(*args, **kwargs)

    monkeypatch.setattr(turntable, "_picture", failing)
    out = tmp_path / "spin.mp4"
    out_before = tmp_path / "keep.mp4"
    out_before.write_bytes(b"old")
    with pytest.raises(RenderError):
        write_turntable(catalog, ONE_OF_EACH_KIND["ring"], out, seconds=2, size_px=64, fps=10, renderer=renderer)
    with pytest.raises(RenderError):
        write_turntable(catalog, ONE_OF_EACH_KIND["ring"], out_before, seconds=2, size_px=64, fps=10,
                        renderer=renderer)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.mp4"], "no half-written video, no temp file"
    assert out_before.read_bytes() == b"old", "what was there stays"


def test_stills_for_every_metal(renderer, catalog, tmp_path):
    written = write_stills(catalog, HOOP, tmp_path / "stills", size_px=96, renderer=renderer)
    metals = {catalog.get(v).metal for v in written}
    assert metals == {"yellow_gold", "rose_gold", "white_gold", "silver"}
    assert all(list(views) == list(STILL_ANGLES) for views in written.values())
    files = sorted((tmp_path / "stills").iterdir())
    assert len(files) == 4 * len(STILL_ANGLES) and all(f.suffix == ".png" for f in files)
    assert {f.name for f in files} == {f"{v}-{a}.png" for v in written for a in STILL_ANGLES}
    colours = {}
    for vid, views in written.items():
        for path in views.values():
            bgr = cv2.imread(str(path))
            assert bgr.shape == (96, 96, 3) and (bgr[0, 0] == 255).all() and (bgr[-1, -1] == 255).all()
        front = cv2.imread(str(views["front"]))[..., ::-1]
        colours[catalog.get(vid).metal] = front[(front < 200).any(axis=2)].mean(axis=0)
    warm = colours["yellow_gold"][0] - colours["yellow_gold"][2]
    assert warm > colours["silver"][0] - colours["silver"][2] + 10, "each variant in its own metal"
    fronts = [cv2.imread(str(v["front"])) for v in written.values()]
    assert _diff(fronts[0], fronts[1]) > 1.0


def test_stills_of_a_family_in_one_metal_and_of_chosen_metals(renderer, catalog, tmp_path):
    assert [i.id for i in metal_variants(catalog, "necklace-box-1.5mm-silver")] == ["necklace-box-1.5mm-silver"]
    written = write_stills(catalog, "necklace-box-1.5mm-silver", tmp_path, size_px=64, angles=["front"],
                           renderer=renderer)
    assert list(written) == ["necklace-box-1.5mm-silver"] and len(list(tmp_path.iterdir())) == 1
    # Variants differ in metal only: a 5 mm diamond stud comes in yellow gold alone (no ruby in rose gold).
    assert [i.id for i in metal_variants(catalog, "stud-diamond-5mm-yellow-gold")] == ["stud-diamond-5mm-yellow-gold"]
    assert [i.metal for i in metal_variants(catalog, HOOP, ["silver", "rose_gold"])] == ["silver", "rose_gold"]
    with pytest.raises(InputError, match="platinum"):
        write_stills(catalog, HOOP, tmp_path / "none", metals="platinum", size_px=64, renderer=renderer)
    with pytest.raises(UnknownItemError):
        write_stills(catalog, "no-such-hoop", tmp_path / "none", size_px=64, renderer=renderer)
    assert not (tmp_path / "none").exists()
