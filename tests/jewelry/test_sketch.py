"""Design from a sketch (tryon.jewelry.sketch): drawings made here with OpenCV the way a phone sees a page (paper
grain, uneven light, a shadow, ruled and squared paper, pen and pencil, a slight turn, blur, JPEG) become
pendants and earrings: watertight plates of the drawn shape at the asked height, hung at the top, thick enough
to cast, priced in the user catalog, with thumbnails that show them; bad drawings are refused, saying why.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import trimesh
from numpy.typing import NDArray
from PIL import Image

from tryon.errors import InputError
from tryon.jewelry import earrings, necklaces
from tryon.jewelry.catalog import Catalog
from tryon.jewelry.facts import DEFAULT_MIN_WALL_MM, item_facts
from tryon.jewelry.geometry.plates import bevelled_plate, hang_point, polygon_area
from tryon.jewelry.sketch import MAX_GAP, load_sketch, plate_outline, read_sketch, sketch_design

PAGE = (900, 1200)  # (h, w) of a photographed page
SHOW = Path("/tmp/sketch")  # thumbnails and drawings are written here to look at

Loops = list[NDArray[np.float64]]  # closed polygons (n, 2), unit box, y down: the first the outline, then holes


# ---------------------------------------------------------------- drawings


def heart() -> Loops:
    t = np.linspace(0.0, 2.0 * math.pi, 200, endpoint=False)
    x = 16.0 * np.sin(t) ** 3
    y = -(13.0 * np.cos(t) - 5.0 * np.cos(2 * t) - 2.0 * np.cos(3 * t) - np.cos(4 * t))
    return [np.stack([x, y], axis=1)]


def leaf() -> Loops:
    t = np.linspace(-1.0, 1.0, 60)
    upper = np.stack([t, -0.45 * (1.0 - t ** 2) * (1.0 + 0.3 * t)], axis=1)
    lower = np.stack([t[::-1], 0.4 * (1.0 - t[::-1] ** 2)], axis=1)
    return [np.concatenate([upper, lower[1:-1]])]


def star() -> Loops:
    a = -math.pi / 2.0 + np.arange(10) * math.pi / 5.0
    r = np.where(np.arange(10) % 2 == 0, 1.0, 0.45)
    return [np.stack([r * np.cos(a), r * np.sin(a)], axis=1)]


def crescent() -> Loops:
    """A crescent (a disc less a disc up and to its right) with a round hole in its thick part."""
    img = np.zeros((500, 500), np.uint8)
    cv2.circle(img, (250, 250), 200, (255,), -1)
    cv2.circle(img, (360, 215), 165, (0,), -1)
    found, _ = cv2.findContours(img, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    t = np.linspace(0.0, 2.0 * math.pi, 60, endpoint=False)
    hole = np.stack([125.0 + 30.0 * np.cos(t), 290.0 + 30.0 * np.sin(t)], axis=1)
    return [found[0][:, 0, :].astype(np.float64)[::4], hole]


def letter(ch: str = "A") -> Loops:
    """A bold capital traced (Hershey, thick stroke): its outline, and its counters as holes."""
    img: NDArray[Any] = np.zeros((400, 400), np.uint8)
    cv2.putText(img, ch, (70, 340), cv2.FONT_HERSHEY_DUPLEX, 10.0, (255,), 36, cv2.LINE_AA)
    img = cv2.morphologyEx(img, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)))
    found, hier = cv2.findContours((img > 127).astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    outer = max((i for i in range(len(found)) if hier[0, i, 3] < 0), key=lambda i: cv2.contourArea(found[i]))
    loops = [found[outer][:, 0, :].astype(np.float64)]
    loops += [found[i][:, 0, :].astype(np.float64) for i in range(len(found)) if hier[0, i, 3] == outer]
    return loops


@dataclass
class Paper:
    """How the page looks and how the drawing is drawn on it."""

    tint: tuple[int, int, int] = (246, 243, 235)  # off-white, RGB
    grain: float = 4.0  # paper texture, grey levels
    gradient: float = 0.0  # light falling off across the page (fraction)
    shadow: float = 0.0  # a soft shadow band's darkening (fraction)
    ruled: str = ""  # "", "lines" or "squares"
    pen: str = "pen"  # "pen" (dark blue-black) or "pencil" (grey, grainy)
    colour: tuple[int, int, int] = (25, 30, 90)
    width: int = 4  # stroke px
    turn_deg: float = 0.0
    blur: float = 0.0
    jpeg: int = 0  # quality, 0: PNG
    seed: int = 0
    extra: list[Loops] = field(default_factory=list)  # further shapes elsewhere on the page


def draw(loops: Loops, paper: Paper, box: tuple[int, int, int, int] = (350, 220, 480, 480),
         gap: float = 0.0) -> tuple[bytes, NDArray[np.bool_]]:
    """The drawing as an image file's bytes, and the filled shape where it lies on the page (h, w) bool.

    box: (x, y, w, h) the shape is fitted into; gap: a piece of the outline left undrawn, as a fraction of
    the box's larger side.
    """
    rng = np.random.default_rng(paper.seed)
    h, w = PAGE
    allpts = np.concatenate(loops[:1])
    lo, hi = allpts.min(axis=0), allpts.max(axis=0)
    k = min(box[2] / (hi[0] - lo[0]), box[3] / (hi[1] - lo[1]))
    centre = np.array([box[0] + box[2] / 2.0, box[1] + box[3] / 2.0])

    def place(p: NDArray[np.float64]) -> NDArray[np.float64]:
        return (p - (lo + hi) / 2.0) * k + centre

    page: NDArray[Any] = np.empty((h, w, 3), np.float32)
    page[:] = paper.tint
    page += rng.normal(0.0, paper.grain, (h, w, 1)).astype(np.float32)
    page += cv2.GaussianBlur(rng.normal(0.0, paper.grain, (h, w)).astype(np.float32), (0, 0), 2)[..., None]
    if paper.ruled:
        for y in range(40, h, 34):
            cv2.line(page, (0, y), (w, y), (170, 200, 235), 2, cv2.LINE_AA)
        if paper.ruled == "squares":
            for x in range(30, w, 34):
                cv2.line(page, (x, 0), (x, h), (170, 200, 235), 2, cv2.LINE_AA)
    ink: NDArray[Any] = np.zeros((h, w), np.float32)
    truth = np.zeros((h, w), np.uint8)
    polys = [np.round(place(p) * 16).astype(np.int32) for p in loops]
    cv2.fillPoly(truth, polys[:1], (1,), cv2.LINE_AA, shift=4)
    for p in polys[1:]:
        cv2.fillPoly(truth, [p], (0,), cv2.LINE_AA, shift=4)
    strokes = [place(p) for p in loops]
    for other in paper.extra:
        o_lo, o_hi = other[0].min(axis=0), other[0].max(axis=0)
        strokes.append((other[0] - (o_lo + o_hi) / 2.0) * (220 / np.ptp(other[0], axis=0).max()) + [1000, 700])
    for i, s in enumerate(strokes):
        closed = True
        if i == 0 and gap > 0.0:
            ring = np.concatenate([s, s[:1]])
            along = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(ring, axis=0), axis=1))])
            at = np.arange(0.0, along[-1], 1.0)  # every pixel along the line, then the gap left out
            dense = np.stack([np.interp(at, along, ring[:, 0]), np.interp(at, along, ring[:, 1])], axis=1)
            start = 0.3 * along[-1]
            keep = (at < start) | (at > start + gap * max(box[2], box[3]))
            s = np.roll(dense, -int(np.flatnonzero(at > start + gap * max(box[2], box[3]))[0]), axis=0)
            s = s[np.roll(keep, -int(np.flatnonzero(at > start + gap * max(box[2], box[3]))[0]))]
            closed = False
        # A hand's line: a little wobble.
        s = s + rng.normal(0.0, 0.4, s.shape).cumsum(axis=0) * 0.05
        cv2.polylines(ink, [np.round(s * 16).astype(np.int32)], closed, (1.0,), paper.width, cv2.LINE_AA, shift=4)
    if paper.pen == "pencil":
        ink *= np.clip(rng.normal(0.75, 0.25, (h, w)), 0.0, 1.0).astype(np.float32)
        colour = np.array([120, 120, 125], np.float32)
    else:
        colour = np.array(paper.colour, np.float32)
    page = page * (1.0 - ink[..., None]) + colour * ink[..., None]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light: NDArray[Any] = 1.0 - paper.gradient * (xx / w)
    if paper.shadow:
        light *= 1.0 - paper.shadow * (1.0 / (1.0 + np.exp(-(xx - 0.55 * w) / 15.0))) * (yy > 0.5 * h)
    page *= light[..., None]
    truth_f: NDArray[Any] = truth.astype(np.float32)
    if paper.turn_deg:
        m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), paper.turn_deg, 1.0)
        page = cv2.warpAffine(page, m, (w, h), borderMode=cv2.BORDER_REFLECT)
        truth_f = cv2.warpAffine(truth_f, m, (w, h))
    if paper.blur:
        page = cv2.GaussianBlur(page, (0, 0), paper.blur)
    rgb = np.clip(page, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    if paper.jpeg:
        Image.fromarray(rgb).save(buf, "JPEG", quality=paper.jpeg)
    else:
        Image.fromarray(rgb).save(buf, "PNG")
    return buf.getvalue(), truth_f > 0.5


CASES = {
    "heart-pen": (heart, Paper(jpeg=85)),
    "leaf-pencil-gradient": (leaf, Paper(pen="pencil", width=3, gradient=0.35, seed=1)),
    "star-ruled-shadow": (star, Paper(ruled="lines", shadow=0.45, colour=(10, 10, 12), seed=2, jpeg=80)),
    "letter-squares-turned": (letter, Paper(ruled="squares", turn_deg=4.0, blur=1.2, seed=3)),
    "crescent-hole-blurred": (crescent, Paper(blur=1.5, gradient=0.2, jpeg=70, seed=4, width=5)),
    "star-pencil-squares-shadow": (star, Paper(pen="pencil", ruled="squares", shadow=0.5, width=3, seed=12, jpeg=75)),
    "leaf-dark-shadow-turned": (leaf, Paper(shadow=0.65, turn_deg=-6.0, blur=2.0, seed=13, jpeg=60)),
}


# ---------------------------------------------------------------- measures


def silhouette_iou(truth: NDArray[np.bool_], plate: trimesh.Trimesh, across: tuple[int, float]) -> float:
    """IoU of the plate's silhouette (its triangles seen from the front) with the drawn filled shape, laid on
    it at the scale where their areas agree and with their centroids together (the drawing's scale and place
    are not the plate's). across: the plate frame's axis that is the drawing's x, and its sign."""
    tri = plate.vertices[plate.faces]
    uv = np.stack([across[1] * tri[..., across[0]], -tri[..., 1]], axis=-1) * 1e3  # mm, y down like the page
    lo = uv.reshape(-1, 2).min(axis=0)
    fine = 20.0  # px per mm to measure the plate's own area and centroid
    span = np.ptp(uv.reshape(-1, 2), axis=0)
    mine = np.zeros((int(span[1] * fine) + 4, int(span[0] * fine) + 4), np.uint8)
    for triangle in np.round((uv - lo) * fine * 16).astype(np.int32):  # one at a time: fillPoly evens out overlaps
        cv2.fillConvexPoly(mine, triangle, (1,), cv2.LINE_8, shift=4)
    my_ys, my_xs = np.nonzero(mine)
    ys, xs = np.nonzero(truth)
    scale = math.sqrt(len(xs) / len(my_xs)) * fine  # truth px per mm
    centre_mm = np.array([my_xs.mean(), my_ys.mean()]) / fine + lo
    centre_px = np.array([xs.mean(), ys.mean()])
    laid = np.zeros(truth.shape, np.uint8)
    for triangle in np.round(((uv - centre_mm) * scale + centre_px) * 16).astype(np.int32):
        cv2.fillConvexPoly(laid, triangle, (1,), cv2.LINE_8, shift=4)
    return float((truth & (laid > 0)).sum() / (truth | (laid > 0)).sum())


def merged(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    out = trimesh.Trimesh(np.round(mesh.vertices, 10), mesh.faces, process=False)
    out.merge_vertices()
    return out


def plate_mesh(scene: trimesh.Scene, name: str) -> trimesh.Trimesh:
    transform, geom = scene.graph[name]
    mesh = scene.geometry[geom].copy()
    return mesh.apply_transform(transform)


# ---------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def drawings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, NDArray[np.bool_]]]:
    folder = tmp_path_factory.mktemp("drawings")
    out = {}
    for name, (shape, paper) in CASES.items():
        data, truth = draw(shape(), paper)
        path = folder / f"{name}.{'jpg' if paper.jpeg else 'png'}"
        path.write_bytes(data)
        out[name] = (path, truth)
    return out


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("kind", ["pendant", "earring"])
def test_a_drawing_becomes_a_plate_of_its_shape_at_its_size(drawings, name: str, kind: str) -> None:
    path, truth = drawings[name]
    size = 24.0 if kind == "pendant" else 16.0
    item, build, outline = sketch_design(path, kind, size, "rose-gold")
    scene = build()
    plate = plate_mesh(scene, "pendant_plate" if kind == "pendant" else "plate")
    closed = merged(plate)
    assert closed.is_watertight and closed.is_winding_consistent and closed.volume > 0.0
    axis = 0 if kind == "pendant" else 2  # the plate's across: x (pendant frame), -z (earring frame)
    height = float(np.ptp(plate.vertices[:, 1])) * 1e3
    assert height == pytest.approx(size, rel=0.02)
    assert outline.height_mm == pytest.approx(size, rel=1e-6)
    iou = silhouette_iou(truth, plate, (axis, 1.0 if kind == "pendant" else -1.0))
    assert iou >= 0.9, f"{name}: silhouette IoU {iou:.3f}"
    # Hung at the top: the bail (or the ear wire) is above the plate, over its middle.
    top = plate.vertices[:, 1].max()
    holder = np.asarray(plate_mesh(scene, "pendant_bail" if kind == "pendant" else "hook").vertices)
    ring = plate_mesh(scene, "pendant_ring" if kind == "pendant" else "plate_ring")
    if kind == "earring":  # the ear wire's front leg and eye (its tail hangs behind the ear)
        holder = holder[holder[:, 0] > 0.0]
    assert holder[:, 1].min() > top
    assert ring.vertices[:, 1].min() < top  # sunk into the plate's top edge
    assert ring.vertices[:, 1].max() > top
    for part in scene.graph.nodes_geometry:
        if str(part).startswith(("pendant", "plate", "hook")):
            assert merged(plate_mesh(scene, str(part))).is_watertight, part
    assert item.kind == kind and item.id.startswith(f"design-{kind}-")
    assert any(n.startswith("thinnest metal") for n in outline.notes), outline.notes


def test_the_holes_drawn_inside_are_kept(drawings) -> None:
    outline = plate_outline(load_sketch(drawings["crescent-hole-blurred"][0]), 20.0)
    assert len(outline.holes) == 1
    assert polygon_area(outline.outer) > 0 > polygon_area(outline.holes[0])
    letter_a = plate_outline(load_sketch(drawings["letter-squares-turned"][0]), 20.0)
    assert len(letter_a.holes) == 1  # the A's counter
    assert plate_outline(load_sketch(drawings["heart-pen"][0]), 20.0).holes == ()


def test_designs_go_into_the_user_catalog_priced_thick_enough_and_drawn(drawings, tmp_path) -> None:
    from tryon.jewelry.catalog import DEFAULT_ASSETS_DIR
    from tryon.studio.catalog_build import add_user_items

    built_in = Catalog.load(DEFAULT_ASSETS_DIR / "catalog.json")
    specs = []
    for name, kind in (("heart-pen", "pendant"), ("crescent-hole-blurred", "earring"),
                       ("star-ruled-shadow", "earring"), ("letter-squares-turned", "pendant"),
                       ("leaf-pencil-gradient", "pendant")):
        item, build, _ = sketch_design(drawings[name][0], kind, None, "yellow_gold")
        specs.append((item, build))
    written = add_user_items(specs, tmp_path, built_in)
    catalog = Catalog.load(tmp_path / "catalog.json")
    SHOW.mkdir(parents=True, exist_ok=True)
    for item in written:
        assert item.price is not None and item.price > 0 and catalog.get(item.id).price == item.price
        facts = item_facts(catalog, item)
        own = {k: v for k, v in facts.thickness_by_node.items() if not k.startswith("link")}
        assert own and min(own.values()) >= DEFAULT_MIN_WALL_MM, own
        assert facts.watertight
        if item.kind == "earring":
            assert facts.ok, facts.notes
        thumb = np.asarray(Image.open(catalog.thumbnail_of(item)))
        assert thumb.shape[2] == 4 and (thumb[..., 3] > 0).mean() > 0.05, "the thumbnail shows the piece"
        lit = thumb[thumb[..., 3] > 128, :3]
        assert lit.mean() > 40, "the metal is lit, not black"
        Image.fromarray(thumb).save(SHOW / f"{item.id}.png")
    dims = catalog.get(written[0].id).dimensions_mm
    assert dims["pendant_height"] > 20.0  # the plate and its ring and bail


def test_sizes_and_defaults(drawings) -> None:
    path = drawings["heart-pen"][0]
    pendant, _, outline = sketch_design(path, "pendant")
    assert outline.height_mm == pytest.approx(20.0) and pendant.metal == "yellow_gold"
    earring, _, outline = sketch_design(path, "earring", metal="platinum")
    assert outline.height_mm == pytest.approx(15.0) and earring.metal == "platinum"
    assert earring.id != sketch_design(path, "earring", 16.0, "platinum")[0].id
    assert earring.id == sketch_design(path, "earring", 15.0, "platinum")[0].id
    with pytest.raises(InputError, match="pendant or an earring"):
        sketch_design(path, "ring")
    with pytest.raises(InputError, match="outside"):
        sketch_design(path, "pendant", 300.0)
    with pytest.raises(InputError, match="metal"):
        sketch_design(path, "pendant", metal="tin")


def test_a_small_gap_is_closed_and_said(tmp_path) -> None:
    data, _ = draw(heart(), Paper(seed=5), gap=0.025)
    sketch = read_sketch(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    assert any("gap" in n for n in sketch.notes), sketch.notes


def test_an_open_outline_is_refused_saying_where(tmp_path) -> None:
    data, _ = draw(leaf(), Paper(seed=6), gap=0.25)
    with pytest.raises(InputError, match=r"does not close.*gap of \d+%.*between \(\d+, \d+\) and"):
        read_sketch(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    assert MAX_GAP < 0.25


def page(paper: Paper) -> NDArray[np.uint8]:
    rng = np.random.default_rng(paper.seed)
    h, w = PAGE
    img = np.empty((h, w, 3), np.float32)
    img[:] = paper.tint
    img += rng.normal(0.0, paper.grain, (h, w, 1))
    return np.clip(img, 0, 255).astype(np.uint8)


def test_blank_paper_noise_scribbles_and_photos_are_refused() -> None:
    with pytest.raises(InputError, match="nothing drawn"):
        read_sketch(page(Paper()))
    lined = page(Paper())
    for y in range(40, PAGE[0], 34):
        cv2.line(lined, (0, y), (PAGE[1], y), (170, 200, 235), 2, cv2.LINE_AA)
    with pytest.raises(InputError, match="nothing drawn|no drawing"):
        read_sketch(lined)
    rng = np.random.default_rng(7)
    specks = page(Paper())
    for _ in range(300):
        x, y = rng.integers(0, PAGE[1]), rng.integers(0, PAGE[0])
        cv2.circle(specks, (int(x), int(y)), int(rng.integers(1, 4)), (40, 40, 40), -1)
    with pytest.raises(InputError, match="specks|noise"):
        read_sketch(specks)
    scribble = page(Paper())
    pts = np.cumsum(rng.normal(0.0, 60.0, (60, 2)), axis=0) * 0.5 + [600, 450]
    pts = np.clip(pts, [350, 200], [850, 700])
    cv2.polylines(scribble, [pts.astype(np.int32)], False, (30, 30, 60), 4, cv2.LINE_AA)
    with pytest.raises(InputError, match="scribble|does not close"):
        read_sketch(scribble)
    from skimage import data as skdata

    with pytest.raises(InputError, match="photo|noise|scribble"):
        read_sketch(skdata.astronaut())
    with pytest.raises(InputError, match="8-bit image"):
        read_sketch(np.zeros((10, 10), np.float32))


def test_unreadable_files_are_refused(tmp_path) -> None:
    bad = tmp_path / "drawing.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(InputError, match="not a readable image"):
        load_sketch(bad)
    with pytest.raises(InputError, match="cannot read"):
        load_sketch(tmp_path / "missing.png")


def test_several_shapes_take_the_largest_and_say_so() -> None:
    data, _ = draw(heart(), Paper(seed=8, extra=[star()]), box=(150, 150, 600, 600))
    sketch = read_sketch(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    assert any("largest is used" in n for n in sketch.notes), sketch.notes


def test_thin_necks_are_thickened_and_spurs_cut() -> None:
    """Two discs joined by a thin bridge (a neck) with a thin tail (a spur), as a filled drawing."""
    img = np.full((600, 900, 3), 245, np.uint8)
    cv2.circle(img, (250, 300), 150, (20, 20, 20), -1)
    cv2.circle(img, (650, 300), 150, (20, 20, 20), -1)
    cv2.line(img, (250, 300), (650, 300), (20, 20, 20), 8)  # 8 px of 300: 0.5 mm at 20 mm tall
    cv2.line(img, (250, 160), (250, 60), (20, 20, 20), 6)  # a tail up
    outline = plate_outline(read_sketch(img), 20.0)
    assert any("thickened" in n for n in outline.notes), outline.notes
    assert any("cut off" in n for n in outline.notes), outline.notes
    plate = bevelled_plate(outline.outer * 1e-3, [h * 1e-3 for h in outline.holes], 0.0, 1.2e-3, 0.3e-3)
    mask = np.zeros((500, 800), np.uint8)
    pts = np.round((plate.vertices[plate.faces][..., :2] * 1e3 - outline.outer.min(axis=0)) * 20 * 16)
    for triangle in pts.astype(np.int32):
        cv2.fillConvexPoly(mask, triangle, (1,), cv2.LINE_8, shift=4)
    middle = mask[:, mask.shape[1] // 2 - 40: mask.shape[1] // 2 + 40]
    widths = middle.sum(axis=0) / 20.0  # mm across the neck, column by column near the middle
    assert widths.min() >= 0.95, widths.min()
    assert outline.height_mm == pytest.approx(20.0)
    far = np.full((600, 1000, 3), 245, np.uint8)  # two beads far apart on a thin thread
    cv2.circle(far, (150, 300), 60, (20, 20, 20), -1)
    cv2.circle(far, (850, 300), 60, (20, 20, 20), -1)
    cv2.line(far, (150, 300), (850, 300), (20, 20, 20), 6)
    with pytest.raises(InputError, match="necks as thin as .* mm.*thickening"):
        plate_outline(read_sketch(far), 8.0)


def test_bevelled_plate_is_closed_with_its_outline_as_silhouette() -> None:
    t = np.linspace(0.0, 2.0 * math.pi, 64, endpoint=False)
    outer = np.stack([5.0 * np.cos(t), 5.0 * np.sin(t)], axis=1)
    hole = np.stack([2.0 * np.cos(t), 2.0 * np.sin(t)], axis=1)[::-1]
    plate = bevelled_plate(outer, [hole], 0.0, 1.0, 0.3)
    closed = merged(plate)
    assert closed.is_watertight and closed.is_winding_consistent
    ring_area = polygon_area(outer) + polygon_area(hole)
    assert closed.volume == pytest.approx(ring_area * 1.0, rel=0.06)  # less the rounded edges
    assert closed.volume < ring_area
    assert np.ptp(plate.vertices[:, 0]) == pytest.approx(10.0, rel=1e-6)
    with pytest.raises(ValueError, match="bevel"):
        bevelled_plate(outer, [], 0.0, 0.5, 0.3)
    x, y, rise = hang_point(outer, [hole], 1.0)
    assert x == pytest.approx(0.0, abs=1e-9) and y == pytest.approx(5.0, abs=0.01) and rise == pytest.approx(0, abs=0.01)


def test_plate_builders_hang_the_plate_below_the_bail_and_the_ear_wire() -> None:
    h = heart()[0] * [1.0, -1.0]
    h = h / np.ptp(h[:, 1]) * 15.0
    h = h if polygon_area(h) > 0 else h[::-1]
    pendant = necklaces.plate_pendant(h, [], "silver")
    plate = plate_mesh(pendant, "pendant_plate")
    assert plate.vertices[:, 1].max() < plate_mesh(pendant, "pendant_bail").vertices[:, 1].min()
    assert plate.vertices[:, 2].min() == pytest.approx(-necklaces.BACK_MM * 1e-3)
    assert abs(plate.vertices[:, 0].mean()) < 1e-3  # hung over its middle
    earring = earrings.plate_earring(h, [], "silver")
    hook = plate_mesh(earring, "hook")
    plate = plate_mesh(earring, "plate")
    near = hook.vertices[np.abs(hook.vertices[:, 0]) < 0.5e-3]
    assert np.abs(near[:, 1]).min() < 0.6e-3, "the ear wire passes through the piercing point"
    assert plate.vertices[:, 0].min() > 0.0, "the plate hangs in front of the ear"
    assert np.ptp(plate.vertices[:, 0]) == pytest.approx(earrings.PLATE_MM * 1e-3, rel=1e-6)


def test_the_design_command_adds_the_sketch_to_the_user_catalog(drawings, tmp_path, monkeypatch, capsys) -> None:
    import json

    from tryon.cli import main

    monkeypatch.setenv("TRYON_DATA_DIR", str(tmp_path / "data"))
    path = drawings["crescent-hole-blurred"][0]
    assert main(["design", "--sketch", str(path), "--type", "earring", "--size-mm", "18", "--metal", "white-gold",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "earring" and out["metal"] == "white_gold" and out["price"]["amount"] > 0
    assert out["plate_mm"]["height"] == pytest.approx(18.0) and out["plate_mm"]["holes"] == 1
    assert any("hole" in n for n in out["notes"])
    catalog = Catalog.load(tmp_path / "data" / "catalog" / "catalog.json")
    assert catalog.get(out["id"]).family == "design-earring-sketch"
    assert main(["design", "pendant", "--sketch", str(drawings["heart-pen"][0])]) == 0
    assert "design-pendant-" in capsys.readouterr().out
    blank = tmp_path / "blank.png"
    Image.fromarray(page(Paper())).save(blank)
    assert main(["design", "--sketch", str(blank), "--type", "pendant"]) == 2
    assert "nothing drawn" in capsys.readouterr().err
    assert main(["design", "--sketch", str(blank)]) == 2
    assert "--type pendant|earring" in capsys.readouterr().err


def test_a_shape_coloured_in_is_read_as_its_edge() -> None:
    img = page(Paper(seed=9))
    outline = heart()[0]
    pts = np.round((outline - outline.min(axis=0)) / np.ptp(outline, axis=0).max() * 500 + [350, 200]).astype(np.int32)
    cv2.fillPoly(img, [pts], (30, 30, 80), cv2.LINE_AA)  # a felt pen, filled in
    truth = np.zeros(PAGE, np.uint8)
    cv2.fillPoly(truth, [pts], (1,))
    made = plate_outline(read_sketch(img), 20.0)
    plate = bevelled_plate(made.outer * 1e-3, [h * 1e-3 for h in made.holes], 0.0, 1.2e-3, 0.3e-3)
    assert made.holes == () and silhouette_iou(truth > 0, plate, (0, 1.0)) >= 0.95
