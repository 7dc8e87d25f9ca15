"""Where pieces are worn: specs to placements, and what could not be placed with the reason."""

import numpy as np
import pytest

from tryon.errors import InputError, UnknownItemError
from tryon.jewelry.places import not_placed, place_keys, resolve_specs
from tryon.types import AnchorPose, FrameAnchors, Intrinsics

INTR = Intrinsics.from_hfov(640, 480)


def _anchor(site: str, visible: float) -> AnchorPose:
    return AnchorPose(site, np.eye(4), visible, np.zeros(2))


def test_specs_become_placements_and_bad_ones_are_refused(catalog):
    ring = next(i.id for i in catalog if i.site == "finger")
    worn = resolve_specs(catalog, ["hoop-round-25mm-yellow-gold", f"{ring}@left_index", ring])
    assert [w.sites for w in worn] == [("left_ear", "right_ear"), ("left_index",), ("left_ring", "right_ring")]
    assert place_keys(worn) == ["ears", "left_index", "finger"]
    with pytest.raises(UnknownItemError):
        resolve_specs(catalog, ["nope"])
    with pytest.raises(InputError, match="cannot be worn at 'neck'"):
        resolve_specs(catalog, [f"{ring}@neck"])


def test_what_was_not_placed_says_why(catalog):
    ring = next(i.id for i in catalog if i.site == "finger")
    worn = resolve_specs(catalog, ["hoop-round-25mm-yellow-gold", f"{ring}@left_index", "necklace-cable-2.5mm-yellow-gold"])
    nothing = FrameAnchors(0, INTR)
    assert [(n.where, n.reason) for n in not_placed(worn, nothing)] == [
        ("ears", "no face found"), ("left_index", "no left hand found"), ("neck", "no face or shoulders found")]
    hidden = FrameAnchors(0, INTR, anchors=(_anchor("left_ear", 0.0), _anchor("right_ear", 0.2),
                                            _anchor("left_index", 1.0)))
    assert [(n.where, n.reason) for n in not_placed(worn, hidden)] == [
        ("ears", "the ears are hidden (hair or the head's turn)"), ("neck", "no face or shoulders found")]
    one_ear = FrameAnchors(0, INTR, anchors=(_anchor("left_ear", 0.0), _anchor("right_ear", 0.9)))
    assert all(n.where != "ears" for n in not_placed(worn, one_ear))  # one ear shown: the pair is placed
