"""compose.place and compose.compose: framing, no halo, pure white that survives JPEG, the three backgrounds."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import load_rgb, media_path
from scipy import ndimage

from tryon.compositor.camera import linear_to_srgb, srgb_to_linear
from tryon.errors import InputError
from tryon.media import decode_image, encode_image
from tryon.retouch.compose import compose, place
from tryon.retouch.shadow import make_shadow
from tryon.retouch.types import FILL_SHARE, FILL_SIZE_PX, RetouchOptions

GOLD = (0.85, 0.65, 0.25)


def disc(h: int = 400, w: int = 500, centre: tuple[float, float] = (260.0, 180.0), radius: float = 90.0,
         squash: float = 1.0) -> np.ndarray:
    """(h, w) float32 exact coverage of an (optionally squashed) disc, from 8x supersampling."""
    s = 8
    yy, xx = np.mgrid[:h * s, :w * s].astype(np.float32)
    inside = ((xx + 0.5) / s - centre[0]) ** 2 + (((yy + 0.5) / s - centre[1]) / squash) ** 2 <= radius ** 2
    return cv2.resize(inside.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)


def gold_on_grey(alpha: np.ndarray) -> np.ndarray:
    """fg: gold on the piece, the old grey backdrop elsewhere (what a careless fg would carry into the edge)."""
    fg = np.full(alpha.shape + (3,), 0.45, np.float32)
    fg[alpha > 0] = GOLD
    return fg


@pytest.mark.parametrize("frame,size", [("keep", None), ("fill", 1000), ("fill", 2000)])
def test_no_grey_halo(frame: str, size: int | None) -> None:
    a = disc()
    opts = RetouchOptions(shadow="none", frame=frame, size_px=size)
    image, alpha_out = compose(gold_on_grey(a), a, opts)
    edge = (alpha_out > 0) & (alpha_out < 1)
    assert edge.sum() > 100
    # the composite of the piece's colour over white at the output's coverage: an edge pixel is never darker
    # (one level for rounding); a grey from the old backdrop would make it darker
    blend = 255 * (np.float32(GOLD) * alpha_out[..., None] + (1 - alpha_out[..., None]))
    assert (image[edge].astype(np.float32) >= np.floor(blend[edge]) - 1).all()
    assert (image[alpha_out == 0] == 255).all()


def test_on_its_own_backdrop_the_photo_comes_back() -> None:
    # a photo made the way a camera makes one (and foreground_colours reads one): the piece's colour F and the
    # backdrop B summed in linear light by coverage. Composed on B again, its edge pixels come back as they were.
    a = disc()
    rng = np.random.default_rng(7)
    f = np.clip(np.float32(GOLD) + rng.normal(0, 0.05, a.shape + (3,)).astype(np.float32), 0, 1)
    backdrop = np.float32([0xC8, 0xC0, 0xB8]) / 255
    photo = linear_to_srgb(srgb_to_linear(f) * a[..., None] + srgb_to_linear(backdrop) * (1 - a[..., None]))
    image, alpha_out = compose(f, a, RetouchOptions(frame="keep", shadow="none", background="#C8C0B8"))
    expected = (photo * 255 + 0.5).astype(np.uint8)
    edge = (a > 0.02) & (a < 0.98)
    assert np.abs(image.astype(int) - expected).max() <= 1
    # an sRGB blend would draw those edges darker: by several levels where the piece covers half a pixel
    srgb_blend = 255 * (f * a[..., None] + backdrop * (1 - a[..., None]))
    half = (a > 0.4) & (a < 0.6)
    assert (image[half].astype(np.float32) - srgb_blend[half]).mean() > 3
    assert edge.sum() > 100


def test_white_is_exactly_255_even_after_jpeg() -> None:
    a = disc()
    opts = RetouchOptions(shadow="contact", size_px=1000)
    image, alpha_out = compose(gold_on_grey(a), a, opts)
    dark = make_shadow(alpha_out, "contact")
    free = (alpha_out == 0) & (dark == 0)
    assert (image[free] == 255).all()  # no 254s from resampling or a shadow's tail
    back = decode_image(encode_image(image, ".jpg"))
    # JPEG (quality 95, 4:2:0 chroma) disturbs only the 16-pixel blocks the piece and its shadow touch and
    # their neighbours' chroma: everything farther away comes back as 255 exactly
    marked = (image < 255).any(axis=2)
    far = ndimage.distance_transform_edt(~marked) > 24
    assert far.mean() > 0.2
    assert (back[far] == 255).all()


def test_fill_spans_its_share_and_centres() -> None:
    a = disc(h=600, w=900, centre=(300.0, 420.0), radius=120.0, squash=0.5)  # wide, off-centre
    image, alpha_out = compose(gold_on_grey(a), a, RetouchOptions(shadow="drop"))
    assert image.shape == (FILL_SIZE_PX, FILL_SIZE_PX, 3)
    ys, xs = np.nonzero(alpha_out > 0.5)
    span_x, span_y = xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()
    assert max(span_x, span_y) / FILL_SIZE_PX == pytest.approx(FILL_SHARE, abs=0.01)
    assert span_x > span_y
    assert (xs.min() + xs.max() + 1) / 2 == pytest.approx(FILL_SIZE_PX / 2, abs=0.01 * FILL_SIZE_PX)
    assert (ys.min() + ys.max() + 1) / 2 == pytest.approx(FILL_SIZE_PX / 2, abs=0.01 * FILL_SIZE_PX)


def test_fill_at_the_canvas_scale_copies_pixels_without_resampling() -> None:
    # the pipeline hands compose a work frame already at the canvas's scale: the piece is copied, not softened
    rng = np.random.default_rng(3)
    a = np.zeros((1000, 1000), np.float32)
    a[80:932, 100:901] = 1.0  # 852 px: 0.2 % off 850 = 0.85 * 1000; an odd width: its centre is half a pixel
    fg = rng.uniform(0.2, 0.8, (1000, 1000, 3)).astype(np.float32)
    placed_fg, placed_a = place(fg, a, RetouchOptions(size_px=1000))
    ys, xs = np.nonzero(placed_a > 0.5)
    assert (ys.max() + 1 - ys.min(), xs.max() + 1 - xs.min()) == (852, 801)
    np.testing.assert_allclose(placed_fg[ys.min():ys.max() + 1, xs.min():xs.max() + 1], fg[80:932, 100:901], atol=1e-6)


def test_fill_upscales_a_small_photo_without_ringing() -> None:
    a = disc(h=120, w=100, centre=(50.0, 60.0), radius=30.0)
    fg, alpha = place(gold_on_grey(a), a, RetouchOptions(size_px=1500))
    assert alpha.shape == (1500, 1500) and fg.shape == (1500, 1500, 3)
    assert alpha.min() >= 0 and alpha.max() <= 1
    assert fg.min() >= 0 and fg.max() <= 1
    # cubic overshoot would ring: alpha rising again outside the edge, dipping inside it. From the centre
    # outwards it only falls, and the colour of the solid piece stays the piece's colour
    profile = alpha[750, 750:]
    assert (np.diff(profile) <= 1e-4).all()
    assert profile[0] == 1 and profile[-1] == 0
    np.testing.assert_allclose(fg[alpha > 0.5], np.broadcast_to(np.float32(GOLD), fg[alpha > 0.5].shape), atol=2e-3)


def test_keep_keeps_size_and_framing() -> None:
    a = disc()
    fg = gold_on_grey(a)
    image, alpha_out = compose(fg, a, RetouchOptions(frame="keep", shadow="contact"))
    assert image.shape == (400, 500, 3)
    np.testing.assert_allclose(alpha_out[a >= 1 / 255], a[a >= 1 / 255], atol=1e-6)
    small, alpha_small = compose(fg, a, RetouchOptions(frame="keep", size_px=250))
    assert small.shape == (200, 250, 3) and alpha_small.max() == pytest.approx(1.0)
    image2, alpha2 = compose(fg, a, RetouchOptions(frame="keep", size_px=1000))
    assert image2.shape == (800, 1000, 3)
    ys, xs = np.nonzero(alpha2 > 0.5)
    assert (xs.min() + xs.max() + 1) / 2 == pytest.approx(520, abs=3)  # the disc's centre, x2
    assert (ys.min() + ys.max() + 1) / 2 == pytest.approx(360, abs=3)


def test_transparent_gives_rgba_with_the_piece_alpha() -> None:
    a = disc()
    fg = gold_on_grey(a)
    image, alpha_out = compose(fg, a, RetouchOptions(background="transparent", shadow="none", size_px=1000))
    assert image.shape == (1000, 1000, 4) and image.dtype == np.uint8
    np.testing.assert_array_equal(image[..., 3], (alpha_out * 255 + 0.5).astype(np.uint8))
    solid = alpha_out > 0.99
    assert np.abs(image[solid][:, :3] - 255 * np.float32(GOLD)).max() <= 1.0
    # with a shadow: semi-transparent black below the piece, nothing elsewhere
    image, alpha_out = compose(fg, a, RetouchOptions(background="transparent", shadow="contact", size_px=1000))
    shadow_px = (alpha_out == 0) & (image[..., 3] > 0)
    ys = np.nonzero(alpha_out > 0.5)[0]
    assert shadow_px.sum() > 100
    assert np.nonzero(shadow_px)[0].min() > (ys.min() + ys.max()) / 2
    assert image[shadow_px][:, :3].max() <= 1  # black
    assert image[..., 3].max() == 255 and (image[:5, :, 3] == 0).all()


def test_transparent_reflection_lays_on_white_like_the_white_composite() -> None:
    a = disc()
    fg = gold_on_grey(a)
    white, _ = compose(fg, a, RetouchOptions(shadow="reflection", size_px=1000))
    rgba, alpha_out = compose(fg, a, RetouchOptions(background="transparent", shadow="reflection", size_px=1000))
    t = rgba[..., 3:].astype(np.float32) / 255
    over_white = rgba[..., :3].astype(np.float32) * t + 255 * (1 - t)
    below = (alpha_out == 0) & (rgba[..., 3] > 0)
    assert below.sum() > 100
    assert np.abs(over_white[below] - white[below].astype(np.float32)).max() <= 2.0


def test_colour_background() -> None:
    a = disc()
    image, alpha_out = compose(gold_on_grey(a), a, RetouchOptions(background="#F5E6D3", shadow="drop", size_px=1000))
    dark = make_shadow(alpha_out, "drop")
    free = (alpha_out == 0) & (dark == 0)
    assert (image[free] == (0xF5, 0xE6, 0xD3)).all()
    shaded = (alpha_out == 0) & (dark > 0.1)
    assert shaded.any() and (image[shaded].astype(int) < (0xF5, 0xE6, 0xD3)).any(axis=1).all()


def test_real_photo_with_its_professional_mask() -> None:
    name = "products/ring_sapphire_solitaire_side_view_light_grey_bg"
    rgb = load_rgb(name + ".jpg")
    mask = cv2.imread(str(media_path(name + ".mask.png")), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
    image, alpha_out = compose(rgb.astype(np.float32) / 255, mask, RetouchOptions(size_px=1200))
    assert image.shape == (1200, 1200, 3)
    ys, xs = np.nonzero(alpha_out > 0.5)
    assert max(xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()) == pytest.approx(0.85 * 1200, abs=12)
    # the piece's own pixels come from the photo: the stone stays blue
    solid = alpha_out > 0.99
    blue = image[solid][:, 2].astype(int) - image[solid][:, 0]
    assert (blue > 40).mean() > 0.05
    assert (image[:, :20] == 255).all() and (image[-20:] == 255).all()


@pytest.mark.parametrize("case", ["uint8 fg", "shape", "0..255", "empty matte", "a speck", "nan", "options", "alpha 3d"])
def test_bad_input(case: str) -> None:
    a = disc()
    fg = gold_on_grey(a)
    opts: object = RetouchOptions()
    if case == "uint8 fg":
        fg = (fg * 255).astype(np.uint8)
    elif case == "shape":
        fg = fg[:-1]
    elif case == "0..255":
        fg = fg * 255
    elif case == "empty matte":
        a = np.zeros_like(a)
    elif case == "a speck":
        a = np.zeros_like(a)
        a[100:105, 100:108] = 1.0
    elif case == "nan":
        a = a.copy()
        a[0, 0] = np.nan
    elif case == "options":
        opts = {"frame": "fill"}
    elif case == "alpha 3d":
        a = a[..., None]
    with pytest.raises(InputError):
        compose(fg, a, opts)  # type: ignore[arg-type]
