"""pyrender as the independent reference: the same posed items drawn by pyrender and by our renderer land on
the same pixels (silhouettes, and where each anchor projects). pyrender builds its own projection from the
intrinsics and its own model matrices from the poses, so this guards our camera and pose maths."""

import numpy as np
import pytest
import trimesh

from tryon.anchors import neck
from tryon.errors import InputError, RenderError
from tryon.jewelry.materials import pbr_material
from tryon.render import renderer as module
from tryon.render.occluder import head_occluder_mesh
from tryon.render.reference import ReferenceRenderer, renderer_for
from tryon.render.renderer import Renderer, Roi
from tryon.render.scene import ItemModel, item_model, place
from tryon.types import AnchorPose, Capsule, FrameAnchors, Intrinsics

INTR = Intrinsics.from_hfov(640, 480, 60.0)
MIN_IOU = 0.97  # alpha > 0.5 masks: they differ only at edges (our 2x2 samples, pyrender's 4x MSAA on 2x2)
ANCHOR_PX = 1.0  # both renderers put an anchor's marker here, apart
MARKER_PX = 0.25  # and each within this of Intrinsics.project (alpha-weighted centroid of a ball)


def _ear() -> FrameAnchors:
    """An ear anchor 8 cm away, a little off-centre, facing the camera (+x right, +y up, +z toward it)."""
    m = np.eye(4)
    m[:3, :3], m[:3, 3] = np.diag([1.0, -1.0, -1.0]), [0.004, -0.01, 0.08]
    return FrameAnchors(0, INTR, 100.0, None, (AnchorPose("left_ear", m, 1.0, INTR.project(m[:3, 3][None])[0]),))


def _finger() -> FrameAnchors:
    """A ring finger 8 cm away pointing right and tilted 50 degrees away, the back of the hand toward the
    camera, with its capsule occluder (which hides the band's back half)."""
    t = np.radians(50.0)
    y = np.array([np.cos(t), 0.0, np.sin(t)])
    z = np.array([np.sin(t), 0.0, -np.cos(t)])
    m = np.eye(4)
    m[:3, :3], m[:3, 3] = np.stack([np.cross(y, z), y, z], axis=1), [0.01, 0.005, 0.08]
    a = AnchorPose("left_ring", m, 1.0, INTR.project(m[:3, 3][None])[0], {"diameter": 0.017})
    o = m[:3, 3]
    return FrameAnchors(0, INTR, anchors=(a,), occluders=(Capsule(o - 0.03 * y, o + 0.03 * y, 0.0077, 0.0077),))


def _torso() -> FrameAnchors:
    m = np.eye(4)  # a torso facing the camera 20 cm away: +x image right, +y down, +z away
    m[:3, 3] = (0.0, -0.03, 0.2)
    return FrameAnchors(0, INTR, 0.0, None, (neck.neck_anchor(m, 1.0, INTR),), neck.neck_occluders(m, 1.0))


CASES = {
    "earring": ("drop-emerald-round-6mm-yellow-gold", _ear),  # its drop hangs along gravity
    "ring": ("ring-solitaire-diamond-6.5mm-platinum", _finger),
    "necklace": ("necklace-strand-pearl-7mm-silver", _torso),  # pearls drawn instanced along the chain
}


@pytest.fixture(scope="module")
def renderers(face_model):
    occluder = head_occluder_mesh(face_model)
    with Renderer(occluder) as ours, ReferenceRenderer(occluder) as reference:
        yield ours, reference


@pytest.fixture
def full_detail(monkeypatch):
    """Our renderer draws small repeat units from simplified meshes; pyrender draws them whole: compare
    the same geometry."""
    monkeypatch.setattr(module, "LOD_BELOW_PX", 0.0)
    monkeypatch.setattr(module, "FAR_BELOW_PX", 0.0)


def _marker() -> ItemModel:
    """A 3 mm ball centred on its origin: where the anchor projects is the centroid of its coverage."""
    scene = trimesh.Scene()
    ball = trimesh.creation.icosphere(4, radius=0.0015)
    ball.visual = trimesh.visual.TextureVisuals(material=pbr_material("white_gold"))
    scene.add_geometry(ball, node_name="ball", geom_name="ball")
    return ItemModel("marker", scene)


def _centroid(alpha: np.ndarray) -> np.ndarray:
    ys, xs = np.mgrid[: alpha.shape[0], : alpha.shape[1]]
    return np.array([(alpha * xs).sum(), (alpha * ys).sum()]) / alpha.sum()


@pytest.mark.parametrize("case", list(CASES))
def test_silhouettes_agree(renderers, catalog, full_detail, case):
    item_id, make = CASES[case]
    anchors = make()
    placed = place({anchors.anchors[0].site: [item_model(catalog, catalog.get(item_id))]}, anchors.anchors)
    ours, reference = (r.render(anchors, placed).full_frame()[..., 3] for r in renderers)
    a, b = ours > 0.5, reference > 0.5
    assert a.sum() > 1000  # large enough that edges are a small share
    iou = (a & b).sum() / (a | b).sum()
    assert iou >= MIN_IOU, f"{case}: IoU {iou:.4f}"
    assert reference.sum() == pytest.approx(ours.sum(), rel=0.01)  # the same coverage, edges included
    np.testing.assert_allclose(_centroid(reference), _centroid(ours), atol=0.25)


@pytest.mark.parametrize("case", list(CASES))
def test_the_anchor_lands_on_the_same_pixel(renderers, case):
    """A ball at the anchor's origin: both renderers centre it where Intrinsics.project puts the origin."""
    anchors = CASES[case][1]()
    anchor = anchors.anchors[0]
    bare = FrameAnchors(0, INTR, anchors=anchors.anchors)  # no occluders: the ball sits inside the finger
    placed = place({anchor.site: [_marker()]}, bare.anchors)
    expected = INTR.project(anchor.cam_T_anchor[:3, 3][None])[0]
    ours, reference = (_centroid(r.render(bare, placed).full_frame()[..., 3]) for r in renderers)
    assert np.abs(ours - reference).max() <= ANCHOR_PX
    assert np.abs(ours - expected).max() <= MARKER_PX
    assert np.abs(reference - expected).max() <= MARKER_PX


def test_the_head_hides_what_is_behind_it(renderers, catalog):
    """The head occluder (depth only) hides a stud behind the face and never shows itself."""
    from tryon.types import HeadPose

    m = np.eye(4)
    m[:3, :3], m[:3, 3] = np.diag([1.0, -1.0, -1.0]), [0.0, 0.0, 0.5]
    model = item_model(catalog, catalog.get("stud-diamond-6mm-platinum"))
    _, reference = renderers
    layers = {}
    for name, z, head in (("behind", 0.47, HeadPose(m, 1.0, 0)), ("front", 0.36, HeadPose(m, 1.0, 0)),
                          ("alone", 0.36, None)):
        a = np.eye(4)
        a[:3, :3], a[:3, 3] = np.diag([1.0, -1.0, -1.0]), [0.0, 0.0, z]
        anchors = FrameAnchors(0, INTR, 100.0, head, (AnchorPose("left_ear", a, 1.0, np.zeros(2)),))
        layers[name] = reference.render(anchors, place({"left_ear": [model]}, anchors.anchors)).full_frame()
    assert layers["behind"][..., 3].sum() == 0.0
    assert layers["front"][..., 3].sum() > 3
    np.testing.assert_array_equal(layers["front"], layers["alone"])


def test_smoke_and_conventions(renderers, catalog):
    """Premultiplied RGBA over the same region as ours, scaled by visibility; nothing placed: empty."""
    ours, reference = renderers
    assert (ours.shading, reference.shading) == ("photoreal", "plain")
    anchors = _ear()
    model = item_model(catalog, catalog.get("hoop-round-25mm-yellow-gold"))
    reference.upload(model)
    placed = place({"left_ear": [model]}, anchors.anchors)
    layer = reference.render(anchors, placed)
    assert layer.origin_px == ours.render(anchors, placed).origin_px and layer.frame_size == (640, 480)
    assert layer.rgba.dtype == np.float32 and (layer.rgba[..., :3] <= layer.rgba[..., 3:] + 1e-6).all()
    gold = layer.rgba[layer.rgba[..., 3] > 0.99][:, :3].mean(axis=0)
    assert gold[0] > gold[1] > 1.3 * gold[2]  # yellow gold under pyrender's lights
    half = place({"left_ear": [model]}, (AnchorPose("left_ear", anchors.anchors[0].cam_T_anchor, 0.5, np.zeros(2)),))
    assert reference.render(anchors, half).rgba[..., 3].sum() == pytest.approx(0.5 * layer.rgba[..., 3].sum(), rel=1e-3)
    assert reference.render(FrameAnchors(0, INTR), []).is_empty


def test_bad_input(renderers, catalog):
    _, reference = renderers
    with pytest.raises(InputError, match="shading"):
        renderer_for("toon")
    model = item_model(catalog, catalog.get("stud-diamond-6mm-platinum"))
    with pytest.raises(InputError, match=r"\(4, 4\).*\(3, 4\)"):
        reference.draw(Roi(0, 0, 32, 32), INTR, [(model, [np.eye(4)[:3]] * len(model.parts))])
    closed = ReferenceRenderer()
    closed.close()
    closed.close()  # twice is harmless
    with pytest.raises(RenderError, match="closed"):
        closed.draw(Roi(0, 0, 32, 32), INTR, [])


def test_closing_it_leaves_our_renderers_working(face_model, catalog):
    """pyrender's own teardown terminates the EGL display that moderngl's contexts share; ours must not."""
    model = item_model(catalog, catalog.get("stud-diamond-6mm-platinum"))
    anchors = _ear()
    placed = place({"left_ear": [model]}, anchors.anchors)
    with Renderer() as ours:
        before = ours.render(anchors, placed).full_frame()
        chosen = renderer_for("plain")
        assert isinstance(chosen, ReferenceRenderer)
        assert chosen.render(anchors, placed).rgba[..., 3].sum() > 0
        chosen.close()
        np.testing.assert_array_equal(ours.render(anchors, placed).full_frame(), before)
        with Renderer() as again:  # and a new context still starts
            np.testing.assert_array_equal(again.render(anchors, placed).full_frame(), before)
