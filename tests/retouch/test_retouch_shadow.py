"""shadow.make_shadow: each kind below the piece, subtle, exactly zero far away and at the canvas's edge."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tryon.errors import InputError
from tryon.retouch.shadow import make_shadow, piece_box


def ring(h: int = 1000, w: int = 1000, centre: tuple[int, int] = (500, 480), outer: int = 300,
         inner: int = 250) -> np.ndarray:
    """(h, w) float32: a ring seen from the front (an annulus; its hole is background)."""
    a = np.zeros((h, w), np.float32)
    cv2.circle(a, centre, outer, 1.0, -1, lineType=cv2.LINE_AA)
    cv2.circle(a, centre, inner, 0.0, -1, lineType=cv2.LINE_AA)
    return a


@pytest.mark.parametrize("kind", ["contact", "drop", "reflection"])
def test_shadow_lies_below_the_piece_and_is_zero_far_away(kind: str) -> None:
    a = ring()
    d = make_shadow(a, kind)
    assert d.shape == a.shape and d.dtype == np.float32
    x0, y0, x1, y1 = piece_box(a)
    L = max(x1 - x0, y1 - y0)
    visible = d * (1 - a)  # the piece is laid over its shadow
    assert 0.15 <= visible.max() <= 0.5  # subtle: never black, never a grey box
    assert (d[: (y0 + y1) // 2] == 0).all()  # nothing above the piece's middle
    ys, xs = np.nonzero(visible > 0.02)
    assert ys.min() >= y1 - 0.15 * L  # what shows is under the piece's bottom, or beside its rounded foot
    rows = np.arange(a.shape[0])
    assert (visible.sum(axis=1) * rows).sum() / visible.sum() >= y1 - 0.02 * L
    far = np.ones_like(a, bool)
    far[max(0, y0 - L // 3): y1 + L // 3, max(0, x0 - L // 3): x1 + L // 3] = False
    assert (d[far] == 0).all()
    assert (d[-1] == 0).all() and (d[:, 0] == 0).all() and (d[:, -1] == 0).all()


def test_contact_is_a_line_under_the_bottom_not_in_the_hole() -> None:
    a = ring()
    d = make_shadow(a, "contact")
    # the hole's top edge is the upper band's underside, high above the ground: no contact under it
    assert d[480 - 250:480, 400:600].max() < 0.01
    # anisotropic: much wider than tall
    strong = d * (1 - a) > 0.5 * (d * (1 - a)).max()
    ys, xs = np.nonzero(strong)
    assert xs.max() - xs.min() > 3 * (ys.max() - ys.min() + 1)


def test_each_part_gets_its_own_contact() -> None:
    # two studs at different heights (a pair of earrings): each stands on its own ground
    a = np.zeros((800, 1000), np.float32)
    cv2.circle(a, (300, 300), 100, 1.0, -1, lineType=cv2.LINE_AA)
    cv2.circle(a, (700, 450), 100, 1.0, -1, lineType=cv2.LINE_AA)
    d = make_shadow(a, "contact") * (1 - a)
    assert d[400:440, 250:350].max() > 0.15
    assert d[550:590, 650:750].max() > 0.15


def test_drop_grounds_each_part_and_not_a_raised_one() -> None:
    # two rings side by side, the left one standing further back (higher in the photo): each gets a shadow
    # under itself, the left one is not left floating above a shadow at the pair's lowest row
    a = ring(1000, 1200, centre=(350, 420), outer=180, inner=150)
    a = np.maximum(a, ring(1000, 1200, centre=(800, 520), outer=180, inner=150))
    d = make_shadow(a, "drop") * (1 - a)
    assert d[600:640, 300:400].max() > 0.1  # under the left ring's bottom (row 600)
    assert d[700:740, 750:850].max() > 0.1  # under the right ring's (row 700)
    # a watch: a wide case lifted on a narrow strap casts onto the strap's ground, not under its own sides
    w = np.zeros((1000, 1000), np.float32)
    w[200:500, 300:700] = 1.0  # the case
    w[500:800, 420:580] = 1.0  # the strap, standing on the ground at row 800
    d = make_shadow(w, "drop") * (1 - w)
    assert d[500:560, 300:400].max() < 0.02 and d[500:560, 600:700].max() < 0.02
    assert d[800:840, 420:580].max() > 0.15


def test_reflection_mirrors_the_piece_in_its_colour() -> None:
    a = np.zeros((600, 600), np.float32)
    a[200:400, 250:350] = 1.0
    a[380:400, 350:450] = 1.0  # an L lying down: its foot's reflection is right under it
    fg = np.zeros((600, 600, 3), np.float32)
    fg[...] = (0.9, 0.2, 0.2)  # red
    op = make_shadow(a, "reflection")
    dark = make_shadow(a, "reflection", fg)
    assert op.ndim == 2 and dark.shape == (600, 600, 3)
    assert op[400:410, 360:440].mean() > 0.1  # the foot, mirrored
    assert op[401, 300] > op[410, 300] > 0  # fading away from the piece
    assert op[401, 200:245].max() == 0 and op[401, 455:500].max() == 0  # only under the piece
    assert op[440:].max() == 0  # a short fade, not a second piece
    below = op > 0.05
    assert (dark[below][:, 0] < dark[below][:, 1]).all()  # red: it takes less red than green from the white
    assert (dark.max(axis=2) <= op + 1e-6).all()


def test_reflection_of_each_part_starts_where_it_stands() -> None:
    a = np.zeros((800, 1000), np.float32)
    a[200:400, 200:350] = 1.0  # standing further back: its bottom is higher in the photo
    a[300:500, 600:750] = 1.0
    op = make_shadow(a, "reflection")
    assert op[400:405, 220:330].min() > 0.15 and op[500:505, 620:730].min() > 0.15
    assert op[380:400, 220:330].max() == 0  # nothing between the first part and its own ground


def test_shadow_stays_inside_the_canvas() -> None:
    a = ring(h=700, w=700, centre=(350, 420), outer=260, inner=220)  # its bottom 20 px from the edge
    for kind in ("contact", "drop", "reflection"):
        d = make_shadow(a, kind)
        assert (d[-1] == 0).all(), kind
        assert (d[-3:] <= d[-10:-3].max() + 1e-6).all()


def test_a_tall_piece_framed_to_fill_keeps_its_whole_shadow() -> None:
    # fill leaves 7.5 % of the canvas under the piece: the shadows fit there, fading out before the edge
    a = np.zeros((1000, 1000), np.float32)
    a[75:925, 400:600] = 1.0
    for kind in ("contact", "drop", "reflection"):
        d = make_shadow(a, kind)
        assert d[925:].max() > 0.1, kind
        assert d[-25:].max() < 0.02, kind


def test_none_and_no_piece() -> None:
    assert not make_shadow(ring(), "none").any()
    assert not make_shadow(np.zeros((50, 50), np.float32), "contact").any()


@pytest.mark.parametrize("alpha,kind", [
    (np.zeros((10, 10), np.float32), "long"),
    (np.zeros((10, 10, 1), np.float32), "contact"),
    (np.zeros((10, 10), np.uint8), "contact"),
    (np.zeros((0, 10), np.float32), "drop"),
])
def test_bad_input(alpha: np.ndarray, kind: str) -> None:
    with pytest.raises(InputError):
        make_shadow(alpha, kind)


def test_bad_reflection_colour() -> None:
    with pytest.raises(InputError):
        make_shadow(ring(), "reflection", np.zeros((10, 10, 3), np.float32))
