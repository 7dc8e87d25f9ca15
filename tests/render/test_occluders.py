"""Capsule occluders and band fitting, without tracking: a ring round a finger-shaped capsule."""

import numpy as np
import pytest
import trimesh

from tryon.jewelry.materials import pbr_material
from tryon.render.renderer import Renderer, capsule_triangles
from tryon.render.scene import ItemModel, place
from tryon.types import AnchorPose, Capsule, FrameAnchors, Intrinsics

INTR = Intrinsics.from_hfov(320, 240, 60.0)
R_IN = 0.0085  # the test ring's nominal inner radius


def _ring() -> ItemModel:
    """A 2 mm gold band round the y axis (nominal inner diameter 17 mm) and a 3 mm ball on top (+z)."""
    scene = trimesh.Scene()
    band = trimesh.creation.torus(major_radius=R_IN + 0.001, minor_radius=0.001, major_sections=48, minor_sections=12)
    band.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
    band.visual = trimesh.visual.TextureVisuals(material=pbr_material("yellow_gold"))
    scene.add_geometry(band, node_name="band", geom_name="band")
    ball = trimesh.creation.icosphere(2, radius=0.0015)
    ball.apply_translation([0.0, 0.0, R_IN + 0.0035])
    ball.visual = trimesh.visual.TextureVisuals(material=pbr_material("white_gold"))
    scene.add_geometry(ball, node_name="head_ball", geom_name="head_ball")
    return ItemModel("test-ring", trimesh.load(trimesh.util.wrap_as_stream(scene.export(file_type="glb")),
                                               file_type="glb", force="scene"), {"inner_diameter": 2000 * R_IN})


def _finger_anchor(dorsal_to_camera: bool = True, diameter_m: float = 2 * R_IN, tilt_deg: float = 50.0
                   ) -> AnchorPose:
    """A finger 15 cm away pointing to the image's right and tilted `tilt_deg` away from the camera, so
    the band shows as an ellipse; its back (+z of the ring frame) toward or away from the camera."""
    t = np.radians(tilt_deg)
    y = np.array([np.cos(t), 0.0, np.sin(t)])
    z = np.array([-np.sin(t), 0.0, np.cos(t)]) * (-1.0 if dorsal_to_camera else 1.0)
    m = np.eye(4)
    m[:3, :3] = np.stack([np.cross(y, z), y, z], axis=1)
    m[:3, 3] = [0.0, 0.0, 0.15]
    return AnchorPose("left_ring", m, 1.0, INTR.project(m[:3, 3][None])[0], {"diameter": diameter_m})


@pytest.fixture(scope="module")
def renderer():
    with Renderer() as r:
        yield r


def _draw(renderer, anchor, capsules=(), models=None):
    anchors = FrameAnchors(0, INTR, anchors=(anchor,), occluders=tuple(capsules))
    return renderer.render(anchors, place({anchor.site: models or [_ring()]}, anchors.anchors)).full_frame()


def _stone_px(rgba, anchor):
    """Pixels of the white-gold ball (its blue is near its red; yellow gold's blue is a third of its red)
    within a few pixels of where the ball projects."""
    c = anchor.cam_T_anchor
    x, y = INTR.project((c[:3, 3] + (R_IN + 0.0035) * c[:3, 2])[None])[0].round().astype(int)
    patch = rgba[y - 4 : y + 5, x - 4 : x + 5]
    a = patch[..., 3]
    return int(((a > 0.5) & (patch[..., 2] > 0.6 * patch[..., 0])).sum())


def _finger(anchor, radius=0.9 * R_IN):
    o, y = anchor.cam_T_anchor[:3, 3], anchor.cam_T_anchor[:3, 1]
    return Capsule(o - 0.03 * y, o + 0.03 * y, radius, radius)


def test_the_finger_hides_the_back_of_the_band(renderer):
    a = _finger_anchor()
    bare = _draw(renderer, a)[..., 3]
    worn = _draw(renderer, a, [_finger(a)])[..., 3]
    # Seen from the back of the hand the front half of the band and the stone show, the back half does not.
    assert 0.35 * bare.sum() < worn.sum() < 0.8 * bare.sum()
    assert _stone_px(_draw(renderer, a, [_finger(a)]), a) > 5  # the stone, on top of the finger, facing us


def test_palm_side_view_hides_the_stone(renderer):
    a = _finger_anchor(dorsal_to_camera=False)
    worn = _draw(renderer, a, [_finger(a)])
    assert _stone_px(_draw(renderer, a), a) > 5  # drawn alone, the stone would show here
    assert _stone_px(worn, a) == 0  # the stone is behind the finger
    assert worn[..., 3].sum() > 0  # the band's front half still shows


def test_a_finger_in_front_hides_the_ring(renderer):
    a = _finger_anchor()
    front = Capsule(np.array([0.0, -0.05, 0.1]), np.array([0.0, 0.05, 0.1]), 0.02, 0.02)  # across, 5 cm nearer
    assert _draw(renderer, a, [_finger(a), front])[..., 3].sum() < 0.05 * _draw(renderer, a)[..., 3].sum()


def test_band_fits_the_measured_finger(renderer):
    small = _draw(renderer, _finger_anchor(diameter_m=0.015, tilt_deg=0.0))[..., 3]
    large = _draw(renderer, _finger_anchor(diameter_m=0.021, tilt_deg=0.0))[..., 3]
    height = [np.ptp(np.nonzero(x.max(axis=1) > 0.5)[0]) for x in (small, large)]
    # Seen along the band's plane's normal its height is the outer diameter plus the stone.
    assert 1.2 < height[1] / height[0] < 1.45


def test_two_rings_stack_along_the_finger(renderer):
    a = _finger_anchor(tilt_deg=0.0)
    one = _draw(renderer, a)[..., 3]
    two = _draw(renderer, a, models=[_ring(), _ring()])[..., 3]
    cols = [np.nonzero(x.max(axis=0) > 0.5)[0] for x in (one, two)]
    assert np.ptp(cols[1]) > 1.6 * np.ptp(cols[0])  # side by side along the finger, not on top of each other


def test_capsule_mesh():
    tris = capsule_triangles([Capsule(np.zeros(3), np.array([0.0, 0.0, 0.1]), 0.01, 0.005)])
    assert tris.shape[1] == 3 and len(tris) % 3 == 0
    assert tris[:, 2].min() == pytest.approx(-0.01, abs=1e-3) and tris[:, 2].max() == pytest.approx(0.105, abs=1e-3)
    assert capsule_triangles([]).shape == (0, 3)


@pytest.mark.parametrize("item_id", ["ring-solitaire-diamond-6.5mm-platinum", "ring-halo-diamond-6mm-rose-gold",
                                     "ring-band-4mm-yellow-gold", "watch-round-39mm-stainless-steel"])
def test_hand_golden_images(renderer, catalog, item_id):
    """Catalog pieces on a finger (or wrist) 15 cm away, seen from the back of the hand, their occluder on."""
    from test_renderer import _check_golden

    item = catalog.get(item_id)
    nominal = {k: v for k, v in item.dimensions_mm.items() if k.startswith("inner_")}
    model = ItemModel(item_id, catalog.load_scene(item), nominal)
    if item.site == "wrist":
        a = _finger_anchor(tilt_deg=20.0)
        a = AnchorPose("left_wrist", a.cam_T_anchor @ np.diag([1.0, 1.0, 1.0, 1.0]), 1.0, a.xy_px,
                       {"width": 0.058, "thickness": 0.042})
        a.cam_T_anchor[2, 3] = 0.35
        occluder = Capsule(a.cam_T_anchor[:3, 3] - 0.1 * a.cam_T_anchor[:3, 1],
                           a.cam_T_anchor[:3, 3] + 0.05 * a.cam_T_anchor[:3, 1], 0.019, 0.019)
    else:
        a = _finger_anchor(tilt_deg=35.0, diameter_m=0.0175)
        occluder = _finger(a)
    rgba = _draw(renderer, a, [occluder], models=[model])
    assert rgba[..., 3].sum() > 20  # something is drawn, where the piece is
    ys, xs = np.nonzero(rgba[..., 3] > 0.5)
    assert abs(np.median(xs) - a.xy_px[0]) < 30 and abs(np.median(ys) - a.xy_px[1]) < 30
    _check_golden(f"hand-{item_id}", rgba)


def test_watch_hands_show_the_time_and_read_right_in_a_mirror(catalog):
    """At 3:00 the hour hand points to 3 o'clock (+y: the dial has 12 at -x and 3 at +y, seen from +z); drawn for
    a mirrored display it points to 9, so that the mirror shows it at 3."""
    item = catalog.get("watch-round-39mm-stainless-steel")
    model = ItemModel(item.id, catalog.load_scene(item))
    hour = next(i for i, p in enumerate(model.parts) if p.role == "hand_hour")
    tip_local = model.parts[hour].vertices[np.argmin(model.parts[hour].vertices[:, 0]), :3]  # the tip, toward -x

    def tip(mirror):
        m = model.cam_T_parts(np.eye(4), dial_time_s=3 * 3600, mirror_dial=mirror)[hour]
        return (m @ np.append(tip_local, 1.0))[:3] - m[:3, 3]

    assert tip(False)[1] > 0.005 and abs(tip(False)[0]) < 0.001
    assert tip(True)[1] < -0.005
    twelve = model.cam_T_parts(np.eye(4), dial_time_s=0.0)[hour]
    assert ((twelve @ np.append(tip_local, 1.0))[:3] - twelve[:3, 3])[0] < -0.005
