"""Catalog thumbnails: each kind seen from its three-quarter view, filling the square, the right way up."""

import numpy as np
import pytest

from tryon.render.renderer import Renderer
from tryon.render.scene import ItemModel
from tryon.render.thumbnail import THUMB_MARGIN, render_thumbnail, thumbnail_pose

SIZE = 96


@pytest.fixture(scope="module")
def renderer():
    with Renderer() as r:
        yield r


def _project(model: ItemModel, kind: str, point_item: np.ndarray) -> np.ndarray:
    """Pixel (x, y) of an item-frame point in the thumbnail."""
    intr, cam_T_item = thumbnail_pose(model, SIZE, kind)
    return intr.project((cam_T_item[:3, :3] @ point_item + cam_T_item[:3, 3])[None])[0]


@pytest.mark.parametrize("item_id", ["ring-solitaire-diamond-6.5mm-platinum", "ring-band-6mm-white-gold",
                                     "bracelet-tennis-diamond-2.75mm-white-gold", "bracelet-bangle-3.5mm-silver",
                                     "watch-round-39mm-stainless-steel"])
def test_hand_items_fill_the_square_centred(renderer, catalog, item_id):
    item = catalog.get(item_id)
    model = ItemModel(item.id, catalog.load_scene(item))
    rgba = render_thumbnail(renderer, model, SIZE, item.kind)
    assert rgba.shape == (SIZE, SIZE, 4) and rgba.dtype == np.uint8
    ys, xs = np.nonzero(rgba[..., 3] > 128)
    w, h = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    assert max(w, h) >= SIZE / THUMB_MARGIN - 8, "framed tight on the item (perspective: one side reaches the margin)"
    assert max(w, h) <= SIZE, "nothing cut off"
    assert abs((xs.min() + xs.max()) / 2 - SIZE / 2) < 4 and abs((ys.min() + ys.max()) / 2 - SIZE / 2) < 4
    assert rgba[..., :3][rgba[..., 3] > 128].mean() > 40, "lit, not a black silhouette"


def test_ring_stands_stone_up_with_its_hole_open(renderer, catalog):
    model = ItemModel("r", catalog.load_scene("ring-solitaire-diamond-6.5mm-platinum"))
    stone = _project(model, "ring", np.array([0.0, 0.0, 0.0125]))
    axis = _project(model, "ring", np.zeros(3))
    assert stone[1] < 0.35 * SIZE, "the stone at the top"
    rgba = render_thumbnail(renderer, model, SIZE, "ring")
    x, y = np.round(axis).astype(int)
    assert rgba[y, x, 3] == 0, "seen through the band's hole"


def test_watch_reads_twelve_up_crown_right(catalog):
    model = ItemModel("w", catalog.load_scene("watch-round-39mm-yellow-gold"))
    centre = _project(model, "watch", np.array([0.0, 0.0, 0.026]))
    twelve = _project(model, "watch", np.array([-0.015, 0.0, 0.026]))
    three = _project(model, "watch", np.array([0.0, 0.015, 0.026]))
    assert twelve[1] < centre[1] - 10 and abs(twelve[0] - centre[0]) < 5, "12 o'clock at the top"
    assert three[0] > centre[0] + 10 and abs(three[1] - centre[1]) < 5, "3 o'clock and the crown on the right"
