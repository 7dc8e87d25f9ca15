"""Rendering, without tracking: hand-made anchors, real GL (moderngl on EGL), our shaders."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from tryon.errors import RenderError
from tryon.render.occluder import head_occluder_mesh
from tryon.render.renderer import Renderer
from tryon.render.scene import ItemModel, place
from tryon.types import AnchorPose, FrameAnchors, HeadPose, Intrinsics

GOLDEN = Path(__file__).parent / "golden"
FAILURES = Path(__file__).parent / "failures"
RMS_TOLERANCE = 3.0  # grey levels (0..255) over the golden image's pixels
INTR = Intrinsics.from_hfov(320, 240, 60.0)
# An ear anchor facing the camera: +x to the image's right, +y up (camera -y), z toward the camera.
FACING = np.array([[1.0, 0, 0], [0, -1.0, 0], [0, 0, -1.0]])


def _anchors(z_m=0.3, visible=1.0, head=None, xy=(0.0, 0.0)):
    m = np.eye(4)
    m[:3, :3], m[:3, 3] = FACING, [xy[0], xy[1], z_m]
    a = AnchorPose("left_ear", m, visible, INTR.project(m[:3, 3][None])[0])
    return FrameAnchors(0, INTR, 100.0, head, (a,))


@pytest.fixture(scope="module")
def renderer(face_model):
    with Renderer(head_occluder_mesh(face_model)) as r:
        yield r


def _placed(model, anchors):
    return place({"left_ear": [model]}, anchors.anchors)


def _render(renderer, catalog, item_id, anchors):
    model = ItemModel(item_id, catalog.load_scene(item_id))
    return renderer.render(anchors, _placed(model, anchors)).full_frame()


def _check_golden(name: str, rgba: np.ndarray) -> None:
    img = np.clip(rgba * 255 + 0.5, 0, 255).astype(np.uint8)
    path = GOLDEN / f"{name}.png"
    if not path.exists():  # first run on a new look: write it, then look at it before committing
        GOLDEN.mkdir(exist_ok=True)
        cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGBA2BGRA))
        pytest.fail(f"wrote new golden {path}; look at it and run again")
    golden = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGRA2RGBA)
    rms = float(np.sqrt(np.mean((img.astype(np.float32) - golden) ** 2)))
    if rms > RMS_TOLERANCE:
        FAILURES.mkdir(exist_ok=True)
        diff = np.clip(np.abs(img.astype(np.int16) - golden) * 4, 0, 255).astype(np.uint8)
        cv2.imwrite(str(FAILURES / f"{name}.diff.png"), cv2.cvtColor(diff, cv2.COLOR_RGBA2BGRA))
        cv2.imwrite(str(FAILURES / f"{name}.png"), cv2.cvtColor(img, cv2.COLOR_RGBA2BGRA))
    assert rms <= RMS_TOLERANCE, f"{name}: RMS {rms:.2f} > {RMS_TOLERANCE}; see {FAILURES}"


@pytest.mark.parametrize("item_id", ["hoop-round-25mm-yellow-gold", "stud-diamond-6mm-platinum",
                                     "drop-emerald-round-6mm-yellow-gold"])
def test_golden_images(renderer, catalog, item_id):
    _check_golden(item_id, _render(renderer, catalog, item_id, _anchors(z_m=0.12)))


def test_hoop_lands_where_projected_at_true_size(renderer, catalog):
    """A 25 mm hoop hangs from the anchor: its drawn box is its real size projected, within a pixel, and
    its coverage is symmetric about the anchor's column (pixel centres agree with Intrinsics.project)."""
    rgba = _render(renderer, catalog, "hoop-round-25mm-yellow-gold", _anchors(z_m=0.2))
    alpha = rgba[..., 3]
    ys, xs = np.nonzero(alpha > 0.5)
    item = catalog.get("hoop-round-25mm-yellow-gold")
    outer_mm = item.dimensions_mm["height"]
    expected_px = INTR.fx * outer_mm / 1000.0 / 0.2
    anchor_xy = INTR.project(np.array([[0.0, 0.0, 0.2]]))[0]
    assert abs((ys.max() - ys.min() + 1) - expected_px) <= 1.5
    assert abs(ys.min() - anchor_xy[1]) <= 2.0  # the top of the hoop is at the piercing point
    cx = (alpha * np.arange(alpha.shape[1])[None, :]).sum() / alpha.sum()
    assert abs(cx - anchor_xy[0]) < 0.25
    assert rgba[..., :3].max() <= alpha.max() + 1e-6  # premultiplied


def test_visibility_scales_the_layer(renderer, catalog):
    full = _render(renderer, catalog, "stud-diamond-6mm-platinum", _anchors(visible=1.0))
    half = _render(renderer, catalog, "stud-diamond-6mm-platinum", _anchors(visible=0.5))
    none = _render(renderer, catalog, "stud-diamond-6mm-platinum", _anchors(visible=0.0))
    assert half[..., 3].sum() == pytest.approx(0.5 * full[..., 3].sum(), rel=1e-3)
    assert none[..., 3].sum() == 0.0


def test_head_occluder_hides_what_is_behind_the_face(renderer, catalog):
    # A head facing the camera 0.5 m away: its face surface is about 6-10 cm in front of its origin.
    m = np.eye(4)
    m[:3, :3], m[:3, 3] = np.diag([1.0, -1.0, -1.0]), [0.0, 0.0, 0.5]
    head = HeadPose(m, 1.0, 0)
    behind = _render(renderer, catalog, "stud-diamond-6mm-platinum", _anchors(z_m=0.47, head=head))
    in_front = _render(renderer, catalog, "stud-diamond-6mm-platinum", _anchors(z_m=0.36, head=head))
    no_head = _render(renderer, catalog, "stud-diamond-6mm-platinum", _anchors(z_m=0.47))
    assert behind[..., 3].sum() == 0.0
    assert in_front[..., 3].sum() > 3 and no_head[..., 3].sum() > 3
    # The occluder itself never shows: a stud in front of the face draws exactly as with no head at all.
    alone = _render(renderer, catalog, "stud-diamond-6mm-platinum", _anchors(z_m=0.36))
    np.testing.assert_array_equal(in_front, alone)


def test_only_the_jewelry_region_is_rendered(renderer, catalog):
    layer = _render(renderer, catalog, "stud-diamond-6mm-platinum", _anchors(z_m=0.3))
    model = ItemModel("stud-diamond-6mm-platinum", catalog.load_scene("stud-diamond-6mm-platinum"))
    region = renderer.render(_anchors(z_m=0.3), _placed(model, _anchors(z_m=0.3)))
    assert region.rgba.shape[0] * region.rgba.shape[1] <= 64 * 64
    assert layer.shape == (240, 320, 4)


def test_nothing_to_draw_gives_an_empty_layer(renderer):
    empty = FrameAnchors(0, INTR)
    layer = renderer.render(empty, [])
    assert layer.is_empty and layer.rgba.shape == (0, 0, 4)


def test_missing_shaders_is_a_render_error(face_model, tmp_path):
    with pytest.raises(RenderError, match="shaders"):
        Renderer(face_model, shaders_dir=tmp_path)


def test_closing_one_renderer_leaves_others_working(face_model, catalog):
    a, b = Renderer(head_occluder_mesh(face_model)), Renderer(head_occluder_mesh(face_model))
    b.close()
    model = ItemModel("stud-diamond-6mm-platinum", catalog.load_scene("stud-diamond-6mm-platinum"))
    assert a.render(_anchors(), _placed(model, _anchors())).rgba[..., 3].sum() > 0
    a.close()
    a.close()  # twice is harmless
