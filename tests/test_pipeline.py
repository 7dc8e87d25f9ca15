import numpy as np
import pytest
from conftest import load_rgb

from tryon.errors import InputError, UnknownItemError
from tryon.pipeline import Pipeline, PipelineOptions
from tryon.types import Frame


@pytest.fixture(scope="module")
def photo(catalog):
    with Pipeline(catalog, ["hoop-round-25mm-yellow-gold"], PipelineOptions(mode="image")) as p:
        yield p


def test_earrings_drawn_at_the_lobes(photo, astronaut):
    out = photo.process(Frame(astronaut)).image
    anchors = photo.track(Frame(astronaut))
    changed = np.abs(out.astype(int) - astronaut).sum(axis=2) > 30
    ys, xs = np.nonzero(changed)
    assert len(xs) > 20
    # Every changed pixel is near a shown lobe: within one hoop (25 mm ~ a fifth of a face) of it.
    shown = [a.xy_px for a in anchors.anchors if a.visible > 0]
    d = np.min([np.hypot(xs - x, ys - y) for x, y in shown], axis=0)
    assert d.max() < 0.35 * anchors.face_width_px


def test_nothing_drawn_without_a_face(photo):
    blank = np.full((240, 320, 3), 200, np.uint8)
    result = photo.process(Frame(blank))
    assert np.array_equal(result.image, blank)
    # Said, not silent: the piece that could not be placed, and why.
    assert [(n.item_id, n.reason) for n in result.not_placed] == [("hoop-round-25mm-yellow-gold", "no face found")]


def test_the_result_is_a_value_with_the_frame_s_anchors_layer_and_timings(photo, astronaut):
    result = photo.process(Frame(astronaut))
    assert result.not_placed == () and result.layer is not None and not result.layer.is_empty
    assert {a.site for a in result.anchors.anchors} == {"left_ear", "right_ear"}
    assert {"face_mesh", "render", "composite"} <= set(result.timings_ms)
    again = photo.process(Frame(astronaut))  # a photo is a fresh stream: the same photo, the same answer
    assert np.array_equal(again.image, result.image)


def test_far_earring_not_drawn_on_a_turned_head(catalog):
    rgb = load_rgb("faces/man_3q_ear_visible.jpg")
    with Pipeline(catalog, ["stud-diamond-6mm-yellow-gold"], PipelineOptions(mode="image")) as p:
        out = p.process(Frame(rgb)).image
        a = p.track(Frame(rgb))
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
            a = p.track(Frame(f, i * 33))
            seen.append(max((x.visible for x in a.anchors), default=0.0))
            p.render(a, Frame(f, i * 33))
    assert seen[9] > 0.9  # faded in
    assert seen[12] > 0.9  # held for a few frames after the face left
    assert seen[30] == 0.0  # then faded out and dropped
    assert seen[-1] > 0.5  # back, fading in again


def test_hand_leaving_and_coming_back_does_not_glide(catalog):
    """A hand that leaves for a second and comes back elsewhere: hidden meanwhile, then drawn where it is now."""
    rgb = load_rgb("hands/back_of_hand_ring.jpg")
    shifted = np.ascontiguousarray(np.roll(rgb, 60, axis=1))
    blank = np.full_like(rgb, 235)
    opts = PipelineOptions(mode="video", render=False, track=frozenset({"hands"}))
    with Pipeline(catalog, [], opts) as p:
        seen = []
        for i, f in enumerate([rgb] * 8 + [blank] * 30 + [shifted] * 3):
            a = p.track(Frame(f, i * 33)).get("left_ring")
            seen.append(a)
    assert seen[7] is not None and seen[7].visible > 0.9
    assert seen[30] is None  # gone after hold (250 ms) and fade (250 ms)
    back = seen[-3]
    assert back is not None
    assert abs(back.xy_px[0] - seen[7].xy_px[0] - 60) < 3  # straight at the new place, not on the way from the old


def test_hand_items_need_a_place(catalog):
    ring = next(i.id for i in catalog if i.site == "finger")
    with Pipeline(catalog, [], PipelineOptions(mode="image", render=False)) as p:
        with pytest.raises(InputError, match="cannot be worn at 'left_ear'"):
            p.set_items([f"{ring}@left_ear"])
        with pytest.raises(InputError, match="too many items at left_ring"):
            p.set_items([f"{ring}@left_ring", f"{ring}@ring", f"{ring}@left_ring"])
        p.set_items([f"{ring}@left_ring", f"{ring}@ring", f"{ring}@index"])
        assert list(p.worn) == ["left_ring", "ring", "index"]
        assert [w.sites for w in p.placements][1] == ("left_ring", "right_ring")
        with pytest.raises(InputError):
            p.set_items(["hoop-round-25mm-yellow-gold@index"])


def test_ring_drawn_on_the_finger_and_nothing_without_a_hand(catalog):
    rgb = load_rgb("hands/back_of_hand_outdoor.jpg")
    ring = next(i.id for i in catalog if i.site == "finger")
    with Pipeline(catalog, [ring], PipelineOptions(mode="image")) as p:
        result = p.process(Frame(rgb))
        out = result.image
        seat = result.anchors.get("right_ring")
        assert seat is not None and result.timings_ms.get("face_mesh") is None  # a ring needs no face mesh
        blank = np.full((240, 320, 3), 200, np.uint8)
        assert np.array_equal(p.process(Frame(blank)).image, blank)
    changed = np.abs(out.astype(int) - rgb).sum(axis=2) > 30
    ys, xs = np.nonzero(changed)
    assert len(xs) > 50
    # Everything drawn is within a ring's size (~ a finger's width, about 90 px here) of the seat.
    assert np.hypot(xs - seat.xy_px[0], ys - seat.xy_px[1]).max() < 110
