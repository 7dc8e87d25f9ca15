"""Ear anchors on real photos: where the lobe is (against hand-marked piercing points of real earrings),
which ear hides on turned heads, and hair over the ear."""

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import MEDIA, load_rgb, media_path

from tryon.anchors.ears import lobe_xy_px
from tryon.jewelry.catalog import Catalog
from tryon.media import read_video
from tryon.pipeline import Pipeline, PipelineOptions
from tryon.render.renderer import Renderer
from tryon.render.scene import item_model, place
from tryon.tools.calibrate import TRUTH_PATH, load_observations, regression_errors_fw
from tryon.types import Frame

FAR_EAR = {  # photo -> the site that must be hidden (the person's side turned away)
    "faces/man_3q_ear_visible.jpg": "right_ear",
    "faces/woman_east_asian_smile_3q.jpg": "right_ear",
    "faces/older_woman_glasses_near_profile.jpg": "right_ear",
    "faces/man_profile_ear_visible.jpg": "right_ear",
    "faces/woman_long_hair_3q_bw.jpg": "left_ear",
    "faces/woman_hand_over_eye_ring_occlusion.jpg": "right_ear",
}
FRONTAL_BARE_EARS = [
    "faces/obama_official_portrait_frontal.jpg",
    "faces/man_glasses_beard_frontal.jpg",
    "faces/woman_drop_earrings_hair_up_frontal.jpg",
    "faces/man_east_asian_glasses_frontal.jpg",
    "body/woman_one_shoulder_dress_earrings.jpg",
]


@pytest.fixture(scope="module")
def photo_pipeline():
    with Pipeline(Catalog.load(), [], PipelineOptions(mode="image", render=False, track=frozenset({"face"}))) as p:
        yield p


def _visible(pipe, rel):
    return {a.site: a.visible for a in pipe.track(Frame(load_rgb(rel))).anchors}


@pytest.fixture(scope="module")
def observations(face_model):
    if not MEDIA.exists():
        pytest.skip(f"test media not found: {MEDIA}")
    return load_observations(MEDIA, face_model)


def test_truth_file_is_complete(observations):
    truth = json.loads(Path(TRUTH_PATH).read_text())
    assert len(observations) == sum(len(e["ears"]) for e in truth["images"]) >= 15


def test_lobe_within_goal_of_real_piercings(observations, face_model):
    """Mean distance to the real piercing point <= 0.03 face widths (234-454), every ear within 0.12,
    and far better than the nearest single landmark (132/361). The worst ear (0.10) is on the
    three-quarter photo, where the mesh itself is least sure of the jaw line."""
    err = regression_errors_fw(face_model.lobe_weights, observations, face_model)
    nearest = np.array([
        np.linalg.norm(o.face.points_px[361 if o.site == "left_ear" else 132, :2] - o.xy_px) / o.face.face_width_px
        for o in observations
    ])
    assert err.mean() <= 0.03, err
    assert err.max() <= 0.12, err
    assert err.mean() < 0.5 * nearest.mean()


def test_pipeline_anchor_is_the_calibrated_point(photo_pipeline, observations, face_model):
    """What the pipeline reports (xy of the anchor) is the calibrated lobe, on the photos themselves."""
    obs = [o for o in observations if "#" not in o.source and "smile" not in o.source]
    for o in obs:
        a = photo_pipeline.track(Frame(load_rgb(o.source))).get(o.site)
        assert a is not None
        np.testing.assert_allclose(a.xy_px, lobe_xy_px(o.face, o.site, face_model), atol=0.5)


@pytest.mark.parametrize("rel,far", sorted(FAR_EAR.items()))
def test_far_ear_hidden_on_turned_heads(photo_pipeline, rel, far):
    vis = _visible(photo_pipeline, rel)
    near = "left_ear" if far == "right_ear" else "right_ear"
    assert vis[far] == 0.0 and vis[near] == 1.0, vis


@pytest.mark.parametrize("rel", FRONTAL_BARE_EARS)
def test_both_ears_shown_on_frontal_faces(photo_pipeline, rel):
    assert _visible(photo_pipeline, rel) == {"left_ear": 1.0, "right_ear": 1.0}


STUD = "stud-diamond-6mm-platinum"


def _drawn_share(result: Any, catalog: Catalog, item: str, below_fw: float = 0.0) -> dict[str, float]:
    """Per ear of a pipeline's result: how much of the earring is drawn, its alpha over what it would be with no
    hair in front (0: hidden, 1: all of it; 0 also for an ear that does not wear it), in a box round the lobe
    reaching `below_fw` face widths further down (a hoop hangs below its lobe)."""
    with Renderer() as renderer:
        bare = dataclasses.replace(result.anchors, covers={})
        piece = item_model(catalog, item)
        whole = renderer.render(bare, place({"left_ear": [piece], "right_ear": [piece]}, bare.anchors)).full_frame()[..., 3]
    alpha = result.layer.full_frame()[..., 3] if result.layer is not None else np.zeros_like(whole)
    out = {}
    fw = result.anchors.face_width_px
    for a in result.anchors.anchors:
        r = 0.04 * fw
        x, y = a.xy_px
        box = (slice(int(max(0, y - r)), int(y + r + below_fw * fw + 1)), slice(int(max(0, x - r)), int(x + r + 1)))
        out[a.site] = float(alpha[box].sum() / max(whole[box].sum(), 1e-6)) if a.visible >= 0.5 else 0.0
    return out


def _stud_alpha(rel: str) -> dict[str, float]:
    """Per ear of a photo: how much of a stud is drawn (see _drawn_share)."""
    catalog = Catalog.load()
    with Pipeline(catalog, [STUD], PipelineOptions(mode="image", use_compositor=False)) as pipe:
        return _drawn_share(pipe.process(Frame(load_rgb(rel))), catalog, STUD)


def test_hair_over_the_ears_hides_the_stud_pixel_by_pixel():
    """Hair in front of the lobe hides the stud there (the ear still wears it: it is the hair that hides it)."""
    covered = _stud_alpha("faces/woman_long_hair_surprised_frontal.jpg")
    assert covered["left_ear"] < 0.2 and covered["right_ear"] < 0.2, covered
    # Long hair over one ear (the person's left, image right); the other lobe wears a visible earring.
    one = _stud_alpha("faces/woman_long_dark_hair_necklace_earrings.jpg")
    assert one["left_ear"] < 0.2 and one["right_ear"] > 0.8, one


def test_ear_behind_strands_of_hair_still_wears_its_earring():
    """Issue 21, seen 1: the person's right ear is behind thin strands while her own hoop hangs in view; over
    the first 6 s both ears wear their earrings (before: the right one in 12 of 180 frames)."""
    shown = {"left_ear": 0, "right_ear": 0}
    opts = PipelineOptions(mode="video", render=False, track=frozenset({"face"}))
    with Pipeline(Catalog.load(), [], opts) as pipe:
        for i, (rgb, t_ms) in enumerate(read_video(media_path("video/woman_hoop_earrings_head_motion.mp4"))):
            if i >= 180:
                break
            for a in pipe.track(Frame(rgb, t_ms)).anchors:
                shown[a.site] += a.visible >= 0.5
    assert shown["left_ear"] >= 170 and shown["right_ear"] >= 170, shown


def test_hair_behind_a_visible_lobe_hides_none_of_its_hoop():
    """A girl's pigtails hang behind her ears. Where a lobe shows (her left, image right), the hoop hangs in front
    of the hair, whole; before, the hair behind it erased most of it. Hair over a lobe still hides (above)."""
    catalog = Catalog.load()
    hoop = "hoop-round-25mm-yellow-gold"
    shares = []
    with Pipeline(catalog, [hoop], PipelineOptions(mode="video", use_compositor=False)) as pipe:
        for i, (rgb, t_ms) in enumerate(read_video(media_path("people/video/girl_child_head_turns_green_bg.mp4"))):
            result = pipe.process(Frame(rgb, t_ms))
            if i in (30, 60, 90):
                shares.append(_drawn_share(result, catalog, hoop, below_fw=0.25)["left_ear"])
            if i >= 90:
                break
    assert min(shares) > 0.95, shares


def test_no_face_no_anchors(photo_pipeline):
    assert photo_pipeline.track(Frame(np.full((200, 300, 3), 90, np.uint8))).anchors == ()


def test_anchor_pose_is_metric_and_consistent(photo_pipeline, astronaut):
    a = photo_pipeline.track(Frame(astronaut))
    left, right = a.get("left_ear"), a.get("right_ear")
    for anchor in (left, right):
        r = anchor.cam_T_anchor[:3, :3]
        np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-9)
        np.testing.assert_allclose(a.intrinsics.project(anchor.cam_T_anchor[:3, 3][None])[0], anchor.xy_px, atol=1e-6)
    # Lobes of an adult head are 12-17 cm apart; the person's left ear is on the image's right.
    assert 0.12 < np.linalg.norm(left.cam_T_anchor[:3, 3] - right.cam_T_anchor[:3, 3]) < 0.17
    assert left.xy_px[0] > right.xy_px[0]


def test_blond_hair_over_the_ear_hides_the_stud():
    """Issue 21, seen 4: blond hair, close to the skin's colour, over the person's left ear (image right); before,
    the stud was drawn whole on the hair. (Over the other ear the hair in shade is the skin's hue: not yet.)"""
    assert _stud_alpha("body/woman_blonde_bare_shoulders.jpg")["left_ear"] < 0.5
