import numpy as np
import pytest
from conftest import load_rgb

from tryon.errors import InputError, UnknownItemError
from tryon.pipeline import Pipeline, PipelineOptions


@pytest.fixture(scope="module")
def photo(catalog):
    with Pipeline(catalog, ["hoop-round-25mm-yellow-gold"], PipelineOptions(mode="image")) as p:
        yield p


def test_earrings_drawn_at_the_lobes(photo, astronaut):
    out = photo.process(astronaut)
    anchors = photo.track(astronaut)
    changed = np.abs(out.astype(int) - astronaut).sum(axis=2) > 30
    ys, xs = np.nonzero(changed)
    assert len(xs) > 20
    # Every changed pixel is near a shown lobe: within one hoop (25 mm ~ a fifth of a face) of it.
    shown = [a.xy_px for a in anchors.anchors if a.visible > 0]
    d = np.min([np.hypot(xs - x, ys - y) for x, y in shown], axis=0)
    assert d.max() < 0.35 * anchors.face_width_px


def test_nothing_drawn_without_a_face(photo):
    blank = np.full((240, 320, 3), 200, np.uint8)
    assert np.array_equal(photo.process(blank), blank)


def test_far_earring_not_drawn_on_a_turned_head(catalog):
    rgb = load_rgb("faces/man_3q_ear_visible.jpg")
    with Pipeline(catalog, ["stud-diamond-6mm-yellow-gold"], PipelineOptions(mode="image")) as p:
        out = p.process(rgb)
        a = p.track(rgb)
    far, near = a.get("right_ear"), a.get("left_ear")
    changed = np.abs(out.astype(int) - rgb).sum(axis=2) > 30
    ys, xs = np.nonzero(changed)
    assert len(xs) > 0
    assert np.all(np.hypot(xs - near.xy_px[0], ys - near.xy_px[1]) < np.hypot(xs - far.xy_px[0], ys - far.xy_px[1]))


def test_items_are_checked(catalog):
    with Pipeline(catalog, [], PipelineOptions(mode="image", render=False, track=frozenset({"face"}))) as p:
        with pytest.raises(UnknownItemError):
            p.set_items(["no-such-earring"])
        with pytest.raises(InputError, match="two items"):
            p.set_items(["hoop-round-25mm-yellow-gold", "stud-diamond-6mm-platinum"])
        assert p.worn == {}


def test_video_keeps_running_when_the_face_leaves(catalog, astronaut):
    blank = np.full_like(astronaut, 120)
    with Pipeline(catalog, ["hoop-round-25mm-yellow-gold"], PipelineOptions(mode="video")) as p:
        seen = []
        frames = [astronaut] * 10 + [blank] * 30 + [astronaut] * 10
        for i, f in enumerate(frames):
            a = p.track(f, i * 33)
            seen.append(max((x.visible for x in a.anchors), default=0.0))
            p.render(a)
    assert seen[9] > 0.9  # faded in
    assert seen[12] > 0.9  # held for a few frames after the face left
    assert seen[30] == 0.0  # then faded out and dropped
    assert seen[-1] > 0.5  # back, fading in again
