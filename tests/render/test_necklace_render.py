"""Necklaces drawn on a hand-made torso anchor: golden images, the neck hides the chain's back, the
pendant hangs at the chain's lowest point at true size, hair in front hides the chain."""

import dataclasses

import numpy as np
import pytest
from test_renderer import _check_golden

from tryon.anchors import neck
from tryon.anchors.drape import drape_for
from tryon.render.renderer import Renderer
from tryon.render.scene import Placement, item_model, place
from tryon.types import FrameAnchors, Intrinsics

INTR = Intrinsics.from_hfov(320, 240, 60.0)


def _torso(z_m: float = 0.45, y_m: float = -0.03) -> FrameAnchors:
    m = np.eye(4)  # a torso facing the camera: +x image right, +y down, +z away
    m[:3, 3] = (0.0, y_m, z_m)
    a = neck.neck_anchor(m, 1.0, INTR)
    return FrameAnchors(0, INTR, 0.0, None, (a,), neck.neck_occluders(m, 1.0))


@pytest.fixture(scope="module")
def renderer():
    with Renderer() as r:
        yield r


@pytest.mark.parametrize("item_id", ["pendant-solitaire-diamond-6.5mm-white-gold", "necklace-strand-pearl-7mm-silver",
                                     "necklace-choker-4mm-yellow-gold", "necklace-rope-2.5mm-yellow-gold"])
def test_golden_images(renderer, catalog, item_id):
    anchors = _torso()
    layer = renderer.render(anchors, place({"neck": [item_model(catalog, item_id)]}, anchors.anchors))
    _check_golden(f"neck-{item_id}", layer.full_frame())


def test_the_neck_hides_the_back_of_the_chain(renderer, catalog):
    """Drawn whole (every unit round the loop) behind the neck's occluder, the chain looks as it does with
    its back left out; without the occluder the back shows through."""
    model = item_model(catalog, "necklace-cable-2.5mm-yellow-gold")
    anchors = _torso(y_m=-0.06)
    a = anchors.anchors[0]
    whole = Placement("neck", ((model, model.necklace_parts(a.cam_T_anchor, whole_loop=True)),), 1.0)
    front = place({"neck": [model]}, anchors.anchors)
    occluded = renderer.render(anchors, [whole]).full_frame()[..., 3]
    culled = renderer.render(anchors, front).full_frame()[..., 3]
    bare = renderer.render(FrameAnchors(0, INTR, 0.0, None, anchors.anchors), [whole]).full_frame()[..., 3]
    assert culled.sum() > 50
    # (What differs: slivers where the chain goes back over the shoulders just beside the neck.)
    assert np.abs(occluded - culled).sum() < 0.06 * culled.sum()
    assert bare.sum() > 1.3 * culled.sum()  # the back is there to hide


def test_the_pendant_hangs_below_the_notch_at_true_size(renderer, catalog):
    item = catalog.get("pendant-coin-18mm-yellow-gold")
    model = item_model(catalog, item)
    anchors = _torso(z_m=0.35)
    placed = place({"neck": [model]}, anchors.anchors)
    coin = [m for p, m in zip(model.parts, placed[0].items[0][1], strict=True) if p.role == "pendant"]
    layer = renderer.render(anchors, placed).full_frame()[..., 3]
    notch = anchors.anchors[0].xy_px
    bottom = drape_for(item.dimensions_mm["length"] * 1e-3, model.pendant_m, 1.0).bottom
    torso = anchors.anchors[0].cam_T_anchor
    pivot = INTR.project((torso[:3, :3] @ bottom + torso[:3, 3])[None])[0]
    assert pivot[1] > notch[1] + 10  # well below the notch
    ys, xs = np.nonzero(layer > 0.5)
    low = ys > pivot[1] + 2  # the pendant below its bail
    height_px = ys[low].max() - pivot[1]
    expected = INTR.fy * (item.dimensions_mm["pendant_height"] - 2.35) * 1e-3 / coin[0][2, 3]
    assert height_px == pytest.approx(expected, abs=2.5)
    assert abs(xs[low].mean() - notch[0]) < 1.0  # centred under the notch


def _covered(anchors, amount: float):
    """The anchors with hair over the neck covering `amount` of every pixel there."""
    return dataclasses.replace(anchors, covers={"neck": lambda x0, y0, w, h: np.full((h, w), amount, np.float32)})


def test_hair_in_front_hides_the_necklace_only(renderer, catalog):
    anchors = _torso()
    placed = place({"neck": [item_model(catalog, "necklace-rope-2.5mm-yellow-gold")]}, anchors.anchors)
    shown = renderer.render(anchors, placed)
    assert not shown.is_empty
    covered = renderer.render(_covered(anchors, 1.0), placed)
    assert covered.is_empty
    half = renderer.render(_covered(anchors, 0.5), placed)
    assert half.rgba[..., 3].sum() == pytest.approx(0.5 * shown.rgba[..., 3].sum(), rel=1e-4)


@pytest.mark.parametrize("far", [False, True])
@pytest.mark.parametrize("item_id", ["necklace-cable-2.5mm-yellow-gold", "necklace-rope-2.5mm-yellow-gold",
                                     "necklace-box-1.5mm-silver"])
def test_small_links_drawn_simplified_look_the_same(renderer, catalog, item_id, far, monkeypatch):
    """At arm's length a link is a few pixels: its simplified mesh (far fewer triangles) draws the chain
    with the same coverage and nearly the same colours as the full one."""
    from tryon.render import renderer as module

    model = item_model(catalog, item_id)
    link = next(p for p in model.parts if p.role == "link")
    assert len(module.simplified(link.vertices)) < 0.75 * len(link.vertices)
    anchors = _torso(z_m=0.6)
    placed = place({"neck": [model]}, anchors.anchors)
    monkeypatch.setattr(module, "LOD_BELOW_PX", 0.0)
    monkeypatch.setattr(module, "FAR_BELOW_PX", 0.0)
    full = renderer.render(anchors, placed).full_frame()
    monkeypatch.setattr(module, "LOD_BELOW_PX", 1e9)
    if far:  # the box that stands in for a unit of a couple of pixels
        monkeypatch.setattr(module, "FAR_BELOW_PX", 1e9)
    lod = renderer.render(anchors, placed).full_frame()
    assert full[..., 3].sum() > 50
    assert lod[..., 3].sum() == pytest.approx(full[..., 3].sum(), rel=0.12)
    covered = full[..., 3] > 0.5
    # Pixel by pixel the glints of a polished link fall a little differently; the chain's colour is the same.
    assert np.abs(lod[..., :3] - full[..., :3])[covered].mean() < 0.15
    np.testing.assert_allclose(lod[..., :3][covered].mean(axis=0), full[..., :3][covered].mean(axis=0), atol=0.04)
