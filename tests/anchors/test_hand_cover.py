"""A hand in front of a chain or at an ear hides the pixels of the piece it covers (tryon.anchors.hand_cover):
the flat silhouette of its capsules and palm, on real photos and on drawn geometry."""

from __future__ import annotations

import numpy as np
from conftest import load_rgb

from tryon.anchors.hair import cover_at
from tryon.anchors.hand_cover import Either, HandCover
from tryon.pipeline import Pipeline, PipelineOptions
from tryon.types import Capsule, Frame, HandLandmarks, Intrinsics

INTR = Intrinsics.from_hfov(640, 480, 60.0)


def _at(x: float, y: float, z: float) -> np.ndarray:
    """The camera point at depth z that projects to pixel (x, y)."""
    return np.array([(x - INTR.cx) * z / INTR.fx, (y - INTR.cy) * z / INTR.fy, z])


def test_a_capsule_covers_its_flat_silhouette_and_nothing_past_it():
    r_px, z = 8.0, 0.5
    r_m = r_px * z / INTR.fx * 0.9  # capsules sit inside the finger (OCCLUDER_INSET): the silhouette is r_px
    cover = HandCover([Capsule(_at(100, 200, z), _at(200, 200, z), r_m, r_m)], INTR)
    m = cover(80, 180, 140, 40)
    assert m is not None and m.shape == (40, 140)
    assert m[20, 70] == 1.0  # on the axis
    assert m[20 - 6, 70] == 1.0 and m[20 + 6, 70] == 1.0  # inside the radius on both sides
    assert m[20 - 11, 70] == 0.0 and m[20 + 11, 70] == 0.0  # beyond it
    assert m[20, 20 - 6] == 1.0 and m[20, 0] == 0.0  # the round end and past it
    assert cover(300, 300, 32, 32) is None  # a region the hand is nowhere near


def test_a_hand_with_broken_numbers_covers_nothing_and_raises_nothing():
    nan = np.array([np.nan, 0.0, 0.5])  # a NaN off the depth axis
    pts = np.full((21, 3), np.nan, np.float32)
    hand = HandLandmarks(pts, np.zeros((21, 3), np.float32), "left", 1.0, (640, 480), 0)
    cover = HandCover([Capsule(nan, _at(10, 10, 0.5), 0.01, 0.01), Capsule(_at(5, 5, -0.5), _at(9, 9, 0.5), 0.01, 0.01)],
                      INTR, [hand])
    assert cover(0, 0, 64, 64) is None


def test_the_slits_closing_does_not_spread_past_the_outline():
    """A thick capsule's outermost points lie near its box's edge: the closing must not fill from there out to
    the box's edge (found in review: pixels up to 7 px outside the outline were covered)."""
    z = 0.5
    m_per_px = z / INTR.fx * 0.9
    pa, pb, ra, rb = np.array([300.0, 240.0]), np.array([380.0, 160.0]), 30.0, 25.0
    cover = HandCover([Capsule(_at(*pa, z), _at(*pb, z), ra * m_per_px, rb * m_per_px)], INTR)
    m = cover(250, 100, 200, 200)
    assert m is not None
    ys, xs = np.nonzero(m > 0.5)
    p = np.column_stack([xs + 250.0, ys + 100.0])
    t = np.clip((p - pa) @ (pb - pa) / ((pb - pa) @ (pb - pa)), 0.0, 1.0)
    outside = np.linalg.norm(p - (pa + t[:, None] * (pb - pa)), axis=1) - (ra + t * (rb - ra))
    assert outside.max() < 2.0, outside.max()


def test_a_capsule_at_the_lens_is_drawn_within_the_frame_only():
    """A forearm a centimetre from the camera projects thousands of pixels wide: the silhouette stays the
    frame's size (it covers the whole frame), not a mask of that size."""
    near = HandCover([Capsule(_at(320, 240, 0.01), _at(320, 240, 0.01) + [0.3, 0.0, 0.0], 0.03, 0.03)], INTR)
    m = near(600, 440, 40, 40)
    assert m is not None and m.min() > 0.99
    assert near._silhouette()[2].shape == (480, 640)


def test_a_palm_outline_covers_the_web_of_the_thumb_between_the_capsules():
    pts = np.zeros((21, 3), np.float32)
    outline = {0: (100, 300), 1: (70, 270), 2: (60, 230), 5: (100, 200), 9: (130, 195), 13: (160, 200), 17: (185, 215)}
    for i, xy in outline.items():
        pts[i, :2] = xy
    hand = HandLandmarks(pts, np.zeros((21, 3), np.float32), "right", 1.0, (640, 480), 0)
    cover = HandCover([], INTR, [hand])
    m = cover(0, 0, 300, 400)
    assert m is not None
    assert m[240, 80] == 1.0  # between the thumb (1, 2) and the index knuckle (5): the web
    assert m[250, 130] == 1.0 and m[150, 130] == 0.0  # the palm's middle; above the knuckles


def test_either_cover_hides_what_one_of_them_hides():
    def left(x0, y0, w, h):
        m = np.zeros((h, w), np.float32)
        m[:, : w // 2] = 1.0
        return m

    def nothing(x0, y0, w, h):
        return None

    both = Either(left, lambda x0, y0, w, h: np.full((h, w), 0.25, np.float32))
    m = both(0, 0, 4, 2)
    assert m is not None and (m[:, :2] == 1.0).all() and (m[:, 2:] == 0.25).all()
    one = Either(nothing, left)(0, 0, 4, 2)
    assert one is not None and one[0, 0] == 1.0
    assert Either(nothing, nothing)(0, 0, 4, 2) is None


def test_the_chain_passes_behind_the_hand_at_her_chin(catalog):
    """Issue 21 (seen on the people's contact sheet): her chin rests on her hand and the cable chain's strand
    ran down across her fingers (alpha 75 in the box over the hand before this cover); the strand on her shirt
    stays."""
    rgb = load_rgb("people/faces/girl_hair_by_face_red_shirt.jpg")
    with Pipeline(catalog, ["necklace-cable-2.5mm-yellow-gold"], PipelineOptions(mode="image", use_compositor=False)) as p:
        result = p.process(Frame(rgb))
    alpha = result.layer.full_frame()[..., 3]
    assert alpha[360:445, 180:215].sum() < 10.0  # over her hand
    assert alpha[360:445, 250:290].sum() > 50.0  # on her shirt
    assert not any(a.site.endswith(("_ring", "_wrist")) for a in result.anchors.anchors)  # no hand piece: no anchors


def test_a_phone_held_to_the_ear_hides_its_earring(catalog):
    """The annotated ear behind a hand holding a phone (`hidden_other` in people.json): the hand covers the
    lobe, so a stud there is not seen; his other ear is hidden by the head's turn."""
    rgb = load_rgb("people/faces/older_man_cap_phone_street.jpg")
    with Pipeline(catalog, [], PipelineOptions(mode="image", render=False, track=frozenset({"face"}))) as p:
        anchors = p.track(Frame(rgb))
    ear = next(a for a in anchors.anchors if a.site == "left_ear")
    assert ear.visible == 1.0  # the head's turn does not hide it ...
    assert cover_at(anchors.covers.get("left_ear"), ear.xy_px, 0.02 * anchors.face_width_px, rgb.shape[:2]) > 0.9


def test_in_video_with_a_ring_worn_her_fingers_hide_the_pendant_behind_them(catalog):
    """`woman_hands_upper_body.mp4` (at 640 x 480, as `tryon bench` reads it): her hands are held in front of her
    chest, where the set's pendant hangs. Worn alone, the chains do not track the hands (that would cost 8-16 ms
    a frame) and are drawn on her fingers; with a ring worn the hands are tracked and the chains pass behind
    them (alpha on her hands' silhouette over 10 sampled frames: 329 alone, 0 with the ring)."""
    from conftest import media_path

    from tryon.anchors import neck
    from tryon.tools.bench import load_frames

    chains = ["necklace-cable-2.5mm-yellow-gold", "pendant-solitaire-diamond-6.5mm-yellow-gold"]  # the set's
    options = PipelineOptions(mode="video", use_compositor=False)
    on_hands = {"alone": 0.0, "with a ring": 0.0}
    elsewhere = 0.0
    with Pipeline(catalog, chains, options) as alone, \
            Pipeline(catalog, ["ring-band-4mm-yellow-gold@right_ring", *chains], options) as ringed:
        frames, _ = load_frames(media_path("video/woman_hands_upper_body.mp4"), 91)  # 640 x 480, as `tryon bench`
        for i, rgb in enumerate(frames):
            a, b = alone.process(Frame(rgb, 33 * i)), ringed.process(Frame(rgb, 33 * i))
            if i < 30 or i % 6:
                continue
            cover = b.anchors.covers.get(neck.SITE)  # hair and the hands: the hands' part
            cover = next((c for c in getattr(cover, "covers", (cover,)) if isinstance(c, HandCover)), None)
            h, w = rgb.shape[:2]
            hands = cover(0, 0, w, h) if cover is not None else None
            if hands is not None:
                rings = np.zeros((h, w), bool)  # the ring itself sits on her finger, in front of it
                for anchor in b.anchors.anchors:
                    if anchor.site.endswith("_ring"):
                        x, y = anchor.xy_px.round().astype(int)
                        rings[max(0, y - 25):y + 25, max(0, x - 25):x + 25] = True
                on = (hands > 0.99) & ~rings
                on_hands["alone"] += float(a.layer.full_frame()[..., 3][on].sum())
                on_hands["with a ring"] += float(b.layer.full_frame()[..., 3][on].sum())
                elsewhere += float(b.layer.full_frame()[..., 3][(hands == 0.0) & ~rings].sum())
    assert elsewhere > 100.0  # the chain and pendant are drawn where no hand is
    assert on_hands["alone"] > 100.0, on_hands  # drawn on her fingers when the hands are not tracked (329)
    assert on_hands["with a ring"] < 0.05 * on_hands["alone"], on_hands
