"""Every catalog item loads and renders on a real photo, at its own site: earrings and necklaces on the
astronaut (head and shoulders), rings, bracelets and watches on a real hand."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import load_rgb

from tryon.jewelry.catalog import Catalog
from tryon.pipeline import Pipeline, PipelineOptions
from tryon.types import Frame

CATALOG = Catalog.load()
PHOTO_OF = {"ears": "astronaut", "neck": "astronaut", "finger": "hands/back_of_hand_outdoor.jpg",
            "wrist": "hands/back_of_hand_outdoor.jpg"}


@pytest.fixture(scope="module")
def pipeline():
    with Pipeline(CATALOG, [], PipelineOptions(mode="image")) as p:
        yield p


@pytest.mark.parametrize("item_id", [i.id for i in CATALOG])
def test_every_item_renders_on_a_real_photo(pipeline, astronaut, item_id):
    item = CATALOG.get(item_id)
    where = PHOTO_OF[item.site]
    rgb = astronaut if where == "astronaut" else load_rgb(where)
    pipeline.set_items([item_id])
    result = pipeline.process(Frame(rgb))
    out = result.image
    drawn = np.abs(out.astype(int) - rgb.astype(int)).sum(axis=2) > 20
    assert drawn.sum() > 10, item_id  # something of it shows
    assert result.layer is not None and not result.layer.is_empty
