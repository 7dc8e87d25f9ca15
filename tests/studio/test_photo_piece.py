"""Product photos become wearable pieces (tryon.studio.photo_piece) from the shared product photos: a drop earring
hangs from its top and swings, a stud is worn at its middle, the front view's outline is the photo's, holes stay
open, stones are set in as gems; a bank card gives the size; bad photos are refused with the reason."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import load_rgb, media_path

from tryon.errors import InputError
from tryon.media import decode_image
from tryon.quality.photo_piece_eval import outline_iou, silhouette
from tryon.render.scene import ItemModel
from tryon.retouch.matte import cut_out
from tryon.studio.photo_piece import PhotoPiece, photo_piece
from tryon.studio.photo_scale import CARD_MM

GARNET = "products/earrings_garnet_drop_rose_gold_two_panel_grey_bg.jpg"
CLOVER = "products/earrings_clover_diamond_studs_yellow_gold_grey_reflective.jpg"
PENDANT = "products/pendant_blue_drop_scattered_beads_white_bg.jpg"
PENDANT_BAIL_PX = (700.0, 350.0)


def iou_with_photo(made: PhotoPiece, kind: str, rel: str) -> float:
    return outline_iou(made, kind, load_rgb(rel))


@pytest.fixture(scope="module")
def garnet() -> PhotoPiece:
    return photo_piece(media_path(GARNET), "earring", size_mm=30.0, pair=True)


def test_a_drop_earring_hangs_from_its_top_at_its_size_with_its_stone(garnet):
    nodes = list(garnet.piece.graph.nodes_geometry)
    assert nodes and all(n.startswith("drop_") for n in nodes)  # it hangs, so it swings
    lo, hi = garnet.piece.bounds
    assert hi[1] - lo[1] == pytest.approx(0.030, rel=0.05)  # 30 mm tall, as told
    assert hi[1] < 0.0015  # worn from its top: nothing much above the piercing
    assert lo[0] > 0.0  # in front of the lobe (the earring frame's +x is out of the ear)
    assert "drop_stones_ruby" in nodes  # the garnet kept as a red gem
    metal = garnet.piece.geometry["drop_metal"]
    assert metal.is_watertight and metal.visual.material.name == garnet.metal
    model = ItemModel(garnet.item.id, garnet.piece)
    assert model.hang_length_m > 0.01
    assert all(p.tint is not None for p in model.parts)  # the photo's detail rides on every part


def test_the_front_view_is_the_photos_outline_with_its_holes_open(garnet):
    assert iou_with_photo(garnet, "earring", GARNET) >= 0.97
    # The lever-back's loop: a hole in the photo's matte is a hole through the piece.
    rgb = load_rgb(GARNET)
    drawn = silhouette(garnet, "earring", rgb.shape[:2])
    filled = drawn.copy()
    contours, _ = cv2.findContours(drawn.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    filled = cv2.drawContours(filled.astype(np.uint8), contours, -1, (1,), -1).astype(bool)
    holes = filled & ~drawn
    assert holes.sum() > 0.1 * drawn.sum()  # the loop's opening, a tenth of the piece's area or more
    photo = cut_out(rgb).alpha[holes]
    assert np.median(photo) < 0.1  # and it is open in the photo too


def test_a_stud_is_worn_at_its_middle():
    made = photo_piece(media_path(CLOVER), "earring", size_mm=9.0, pair=True)
    nodes = list(made.piece.graph.nodes_geometry)
    assert not any(n.startswith("drop_") for n in nodes)  # a stud does not swing
    lo, hi = made.piece.bounds
    middle = (lo + hi) / 2.0
    assert abs(middle[1]) < 0.15 * (hi[1] - lo[1]) and abs(middle[2]) < 0.15 * (hi[2] - lo[2])
    assert any(n.startswith("photo_stones_diamond") for n in nodes)
    assert iou_with_photo(made, "earring", CLOVER) >= 0.97


def test_a_pendant_pointed_at_among_other_things_hangs_from_its_bail():
    made = photo_piece(media_path(PENDANT), "pendant", size_mm=14.0, anchor_px=PENDANT_BAIL_PX,
                       metal="yellow_gold")
    assert made.item.kind == "pendant" and made.item.site == "neck"
    assert all(n.startswith("pendant_") for n in made.piece.graph.nodes_geometry)
    scene = made.build()
    assert any(str(n).startswith("link") for n in scene.graph.nodes_geometry)  # on a chain
    lo, hi = made.piece.bounds
    assert lo[1] < -0.010 and hi[1] < 0.0035  # hangs below the bail (a stub of chain above it in the photo)
    assert iou_with_photo(made, "pendant", PENDANT) >= 0.97


def test_a_drop_hung_from_a_stud_is_worn_through_the_stud():
    """A photo of the built-in emerald drop (drawn by our renderer from the front on a grey card): the piece
    hangs from the middle of its top stone, as the post through the lobe holds it, not from the stone's rim."""
    from tryon.jewelry.catalog import Catalog
    from tryon.render.renderer import Renderer
    from tryon.render.scene import item_model
    from tryon.studio import turntable

    catalog = Catalog.load()
    item = catalog.get("drop-emerald-round-6mm-yellow-gold")
    with Renderer() as renderer:
        white = turntable.stills(renderer, item_model(catalog, item), item.kind, size_px=400,
                                 angles={"front": (0.0, 0.0)}, shadow=False)["front"].astype(np.float32)
    white = cv2.copyMakeBorder(white, 150, 150, 200, 200, cv2.BORDER_CONSTANT, value=(255, 255, 255))
    alpha = np.clip((255.0 - white.min(axis=2)) / 40.0, 0.0, 1.0)[..., None]
    photo = (alpha * white + (1.0 - alpha) * np.array([170.0, 168.0, 163.0])).astype(np.uint8)
    height = item.dimensions_mm["height"]
    made = photo_piece(media_path(CLOVER).with_name("emerald_drop.png"), "earring", size_mm=height,
                       data=_png(photo))
    assert all(n.startswith("drop_") for n in made.piece.graph.nodes_geometry)
    lo, hi = made.piece.bounds
    top_stone_mm = item.dimensions_mm["top_stone_diameter"]
    # The top stone's bezel round the 3 mm stone: its middle lies about 2 mm below the piece's top.
    assert 0.4 * top_stone_mm < hi[1] * 1e3 < 1.0 * top_stone_mm
    assert lo[1] * 1e3 == pytest.approx(-(height - hi[1] * 1e3), abs=0.3)
    assert any(n.startswith("drop_stones_emerald") for n in made.piece.graph.nodes_geometry)


def test_a_charm_hangs_on_a_chain_too_and_a_compact_pendant_still_hangs():
    made = photo_piece(media_path(CLOVER), "charm", size_mm=9.0, anchor_px=(250.0, 560.0))
    assert made.item.kind == "pendant" and made.item.family == "photo-charm"
    lo, hi = made.piece.bounds
    assert hi[1] < 0.002 and lo[1] < -0.006  # worn from its top although it is as wide as tall


def _stud_on_a_table(draw_scale) -> tuple[bytes, int]:
    """A PNG of the clover stud (its own pixels and matte from the shared photo) on a grey table beside a
    reference that ``draw_scale(canvas)`` draws, and the stud's height in pixels."""
    rgb = load_rgb(CLOVER)
    alpha = cut_out(rgb).alpha
    count, comp, stats, _ = cv2.connectedComponentsWithStats((alpha >= 0.5).astype(np.uint8))
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, w, h = stats[k, :4]
    stud, a = rgb[y:y + h, x:x + w], alpha[y:y + h, x:x + w, None] * (comp[y:y + h, x:x + w] == k)[..., None]
    canvas = np.full((900, 1400, 3), (205, 203, 200), np.uint8)
    draw_scale(canvas)
    canvas[300:300 + h, 150:150 + w] = (a * stud + (1 - a) * canvas[300:300 + h, 150:150 + w]).astype(np.uint8)
    return cv2.imencode(".png", cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))[1].tobytes(), int(h)


PX_PER_MM = 8.0


def _card(canvas: np.ndarray) -> None:
    cw, ch = round(CARD_MM[0] * PX_PER_MM), round(CARD_MM[1] * PX_PER_MM)
    cv2.rectangle(canvas, (700, 250), (700 + cw, 250 + ch), (40, 70, 150), -1)  # a blue card


def _ruler(canvas: np.ndarray) -> None:
    """A 15 cm steel-white ruler, tilted, with a tick every millimetre (longer every 5 and 10)."""
    strip = np.full((int(18 * PX_PER_MM), int(150 * PX_PER_MM), 3), 238, np.uint8)
    for mm in range(1, 150):
        x = round(mm * PX_PER_MM)
        length = int((7 if mm % 10 == 0 else 5 if mm % 5 == 0 else 3) * PX_PER_MM)
        cv2.line(strip, (x, 0), (x, length), (30, 30, 30), 2)
    turn = cv2.getRotationMatrix2D((strip.shape[1] / 2, strip.shape[0] / 2), 8.0, 1.0)
    turn[:, 2] += [50, 50]
    size = (strip.shape[1] + 100, strip.shape[0] + 300)
    tilted = cv2.warpAffine(strip, turn, size, borderValue=(0, 0, 0))
    cover = cv2.warpAffine(np.full(strip.shape[:2], 255, np.uint8), turn, size) > 128
    region = canvas[550:550 + size[1], 200:200 + size[0]]
    region[cover[: region.shape[0], : region.shape[1]]] = tilted[: region.shape[0], : region.shape[1]][
        cover[: region.shape[0], : region.shape[1]]]


@pytest.mark.parametrize("reference, said", [(_card, "bank card"), (_ruler, "ruler")])
def test_a_bank_card_or_a_ruler_in_the_photo_gives_the_size(reference, said):
    png, height_px = _stud_on_a_table(reference)
    made = photo_piece(media_path(CLOVER).with_name("stud_on_table.png"), "earring", data=png)
    assert made.item.size_mm == pytest.approx(height_px / PX_PER_MM, rel=0.04)
    assert any(said in n for n in made.notes)


def _png(rgb: np.ndarray) -> bytes:
    return cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))[1].tobytes()


@pytest.mark.parametrize("case", ["blank", "two pieces", "cut by the edge", "absurd size", "no size", "not an image",
                                  "ring"])
def test_bad_photos_are_refused_saying_why(case):
    rgb = load_rgb(GARNET)
    kind, kwargs, data = "earring", {"size_mm": 30.0}, _png(rgb)
    expect = {"blank": "no piece", "two pieces": "shows 2 pieces", "cut by the edge": "cut by the photo's",
              "absurd size": "outside", "no size": "--size-mm", "not an image": "", "ring": "not 'ring'"}[case]
    if case == "blank":
        data = _png(np.full((600, 800, 3), 128, np.uint8))
    elif case == "cut by the edge":
        data, kwargs = _png(np.ascontiguousarray(rgb[:900, : rgb.shape[1] // 2])), {"size_mm": 30.0}
    elif case == "absurd size":
        kwargs = {"size_mm": 500.0, "pair": True}
    elif case == "no size":
        kwargs = {"pair": True}
    elif case == "not an image":
        data = b"GIF89a not really"
    elif case == "ring":
        kind = "ring"
    with pytest.raises(InputError) as err:
        photo_piece(media_path(GARNET), kind, data=data, **kwargs)
    assert expect in str(err.value)


def test_the_same_photo_and_settings_give_the_same_piece(garnet):
    again = photo_piece(media_path(GARNET), "earring", size_mm=30.0, pair=True)
    assert again.item.id == garnet.item.id
    other = photo_piece(media_path(GARNET), "earring", size_mm=25.0, pair=True)
    assert other.item.id != garnet.item.id
    assert decode_image(media_path(GARNET).read_bytes()).shape[2] == 3
