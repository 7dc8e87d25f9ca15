"""Photo pieces measured on the shared media (issue 23, item 4). It measures; it changes nothing.

`python -m tryon.quality.photo_piece_eval [--media DIR] [--out DIR] [--json]`

1. **Import**: every earring and pendant photo among the shared product photos (PHOTOS: each with the height a
   shop would give for it) is made into a piece, timed; a photo it refuses is listed with the reason.
2. **Outline**: the IoU of each piece's front view (its triangles drawn back onto the photo, 4 x 4 samples a
   pixel) with the photo's matte part that it covers. A sticker (the cut-out pasted flat) is the matte itself.
3. **The room**: the pieces are worn on every shared portrait where the pipeline places them (faces/ and
   people/faces/); each portrait's room is told from its frame (ROOMS: dark, warm, cool or neutral, from the
   frame's mean CIELAB). On each, the piece's mean colour (CIELAB, the output's pixels where the rendered
   layer covers SOLID or more) is measured, and for an earring the same for the sticker: the cut-out pasted
   flat over the same box (a pendant's layer holds its chain: it has no such box). Reported: the CIEDE2000
   between the piece's mean colour in each pair of rooms, ours and the sticker's, and the hue angle of a gold
   piece's mean colour in each room (gold is about 60 to 100 degrees).
4. **A sheet** (--out): each piece's cut-out, then worn in a warm, a cool and a dark room; below, the sticker.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from tryon.config import shared_media_dir
from tryon.errors import TryOnError
from tryon.jewelry.catalog import DEFAULT_ASSETS_DIR, Catalog
from tryon.media import decode_image
from tryon.retouch.matte import cut_out, foreground_colours
from tryon.studio.photo_piece import PhotoPiece, front_view, photo_piece

__all__ = ["PHOTOS", "ROOMS", "outline_iou", "room_of", "silhouette"]

# The heights a shop would give (mm), read off each photo's scale (a lobe, a card, the chain's links).
PHOTOS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("earrings_garnet_drop_rose_gold_two_panel_grey_bg.jpg", "earring", {"size_mm": 30.0, "pair": True}),
    ("earrings_clover_diamond_studs_yellow_gold_grey_reflective.jpg", "earring", {"size_mm": 9.0, "pair": True}),
    ("earrings_letter_diamond_studs_rose_gold_pink_grey_bg.jpg", "earring", {"size_mm": 12.0, "pair": True}),
    ("earrings_bronze_wire_coil_hanging_grey_wall.jpg", "earring", {"size_mm": 35.0, "pair": True}),
    ("earrings_glass_bead_leaf_drop_red_bg.jpg", "earring", {"size_mm": 55.0, "pair": True}),
    ("earrings_gold_leaf_on_wood_grain.jpg", "earring", {"size_mm": 40.0, "pair": True, "metal": "yellow_gold"}),
    ("earrings_flower_studs_on_cards_quilted_fabric.jpg", "earring", {"size_mm": 12.0, "pair": True}),
    ("earrings_pink_rose_in_plastic_bag_in_hand.jpg", "earring", {"size_mm": 15.0, "pair": True}),
    ("pendant_blue_drop_scattered_beads_white_bg.jpg", "pendant",
     {"size_mm": 14.0, "anchor_px": (700.0, 350.0), "metal": "yellow_gold"}),
    ("necklace_floral_enamel_gemstone_grey_bg.jpg", "pendant", {"size_mm": 40.0}),
    ("necklace_on_model_green_stone_pendant.jpg", "pendant", {"size_mm": 20.0}),
)
ROOMS = ("neutral", "warm", "cool", "dark")
SOLID = 0.9  # a piece's colour is measured where it covers the frame this much (its edge mixes the room in)
DARK_L, WARM_B, COOL_B = 38.0, 9.0, 2.0  # a frame's mean L* under DARK_L is dark; b* over WARM_B warm, under COOL_B cool
SHEET_ROWS = ("earrings_garnet_drop_rose_gold_two_panel_grey_bg.jpg",
              "earrings_clover_diamond_studs_yellow_gold_grey_reflective.jpg",
              "earrings_gold_leaf_on_wood_grain.jpg", "pendant_blue_drop_scattered_beads_white_bg.jpg")


def silhouette(made: PhotoPiece, kind: str, shape: tuple[int, int]) -> np.ndarray:
    """(h, w) bool: the piece's front view drawn back onto the photo's pixels (4 x 4 samples a pixel, a pixel
    in where half of it is covered)."""
    tris = front_view(made.piece, kind)
    px = np.einsum("ij,klj->kli", made.photo_T_front[:2, :2], tris) + made.photo_T_front[:2, 2]
    out = np.zeros((shape[0] * 4, shape[1] * 4), np.uint8)
    for tri in np.round((px * 4 + 1.5) * 16).astype(np.int32):  # one at a time: fillPoly's even-odd rule
        cv2.fillConvexPoly(out, tri, (255,), cv2.LINE_8, shift=4)  # cancels overlaps
    return cv2.resize(out, (shape[1], shape[0]), interpolation=cv2.INTER_AREA) >= 128


def outline_iou(made: PhotoPiece, kind: str, rgb: np.ndarray) -> float:
    """IoU of the piece's front view with the photo's matte part that it covers."""
    mask = cut_out(rgb).alpha >= 0.5
    drawn = silhouette(made, kind, (mask.shape[0], mask.shape[1]))
    count, comp = cv2.connectedComponents(mask.astype(np.uint8))
    k = int(np.bincount(comp[drawn], minlength=count)[1:].argmax()) + 1
    part = comp == k
    return float((drawn & part).sum() / max((drawn | part).sum(), 1))


def _lab(rgb: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    return np.asarray(lab, np.float64)


def room_of(rgb: np.ndarray) -> str:
    """The frame's room (module docstring) from its mean CIELAB."""
    lab = _lab(cv2.resize(rgb, (64, 64), interpolation=cv2.INTER_AREA)).reshape(-1, 3).mean(axis=0)
    if lab[0] < DARK_L:
        return "dark"
    return "warm" if lab[2] > WARM_B else "cool" if lab[2] < COOL_B else "neutral"


def ciede2000(a: np.ndarray, b: np.ndarray) -> float:
    """CIEDE2000 between two CIELAB colours (Sharma, Wu and Dalal 2005)."""
    from skimage.color import deltaE_ciede2000

    return float(deltaE_ciede2000(np.asarray(a, np.float64)[None], np.asarray(b, np.float64)[None])[0])


def _sticker(cut: tuple[np.ndarray, np.ndarray], frame: np.ndarray,
             box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The frame with the cut-out (colours (h, w, 3) float 0..1, alpha (h, w)) pasted flat, upright, filling
    ``box`` (x0, y0, x1, y1), and where it covers the frame (alpha >= SOLID)."""
    colours, alpha = cut
    x0, y0, x1, y1 = box
    size = (max(1, x1 - x0), max(1, y1 - y0))
    a = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)[..., None]
    c = cv2.resize(colours, size, interpolation=cv2.INTER_AREA).astype(np.float32) * 255.0
    out = frame.copy()
    region = out[y0:y1, x0:x1].astype(np.float32)
    out[y0:y1, x0:x1] = np.clip(a * c + (1.0 - a) * region, 0, 255).astype(np.uint8)
    solid = np.zeros(frame.shape[:2], bool)
    solid[y0:y1, x0:x1] = a[..., 0] >= SOLID
    return out, solid


def cut_of(made: PhotoPiece, kind: str, photo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sticker's cut-out: the piece's own part of the photo's matte (colours 0..1 and alpha), cropped."""
    alpha = cut_out(photo).alpha
    count, comp = cv2.connectedComponents((alpha >= 0.5).astype(np.uint8))
    drawn = silhouette(made, kind, (alpha.shape[0], alpha.shape[1]))
    k = int(np.bincount(comp[drawn], minlength=count)[1:].argmax()) + 1
    near = cv2.dilate((comp == k).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    alpha = np.where(near, alpha, 0.0).astype(np.float32)
    ys, xs = np.nonzero(alpha >= 0.5)
    crop = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    return foreground_colours(photo, alpha)[crop], alpha[crop]


def _portraits(media: Path) -> Iterator[Path]:
    for folder in (media / "faces", media / "people" / "faces"):
        yield from sorted(p for p in folder.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


def evaluate(media: Path, out_dir: Path | None) -> dict[str, Any]:
    """Every measure of the module docstring, as one JSON-ready dict."""
    from tryon.pipeline import Pipeline, PipelineOptions
    from tryon.studio.catalog_build import add_user_items
    from tryon.types import Frame

    products = media / "products"
    report: dict[str, Any] = {"pieces": [], "refused": []}
    made: dict[str, tuple[PhotoPiece, str, np.ndarray]] = {}
    for name, kind, options in PHOTOS:
        path = products / name
        if not path.is_file():
            continue
        rgb = decode_image(path.read_bytes(), name=name)
        start = time.perf_counter()
        try:
            piece = photo_piece(path, kind, **options)
        except TryOnError as e:
            report["refused"].append({"photo": name, "reason": str(e)})
            continue
        seconds = time.perf_counter() - start
        made[name] = (piece, kind, rgb)
        report["pieces"].append({"photo": name, "item": piece.item.id, "kind": kind, "seconds": round(seconds, 2),
                                 "outline_iou": round(outline_iou(piece, kind, rgb), 4),
                                 "triangles": sum(len(g.faces) for g in piece.piece.geometry.values()),
                                 "notes": list(piece.notes)})
    with tempfile.TemporaryDirectory() as tmp:
        user = Path(tmp) / "catalog"
        add_user_items([(p.item, p.build) for p, _, _ in made.values()], user, Catalog.load())
        catalog = Catalog.load_with_user(DEFAULT_ASSETS_DIR, user)
        worn = _wear(catalog, made, media, Pipeline, PipelineOptions, Frame)
    report["rooms"] = _room_summary(worn, made)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        report["sheet"] = str(_sheet(made, worn, out_dir / "photo_pieces.jpg"))
    return report


Worn = dict[str, list[dict[str, Any]]]


def _wear(catalog: Catalog, made: dict[str, tuple[PhotoPiece, str, np.ndarray]], media: Path, pipeline_cls: Any,
          options_cls: Any, frame_cls: Any) -> Worn:
    """Each piece on each portrait where it is placed: its room, our output and the sticker's, and the piece's
    mean CIELAB in each."""
    worn: Worn = {name: [] for name in made}
    portraits = [(p, decode_image(p.read_bytes(), name=p.name)) for p in _portraits(media)]
    with pipeline_cls(catalog, [], options_cls(mode="image")) as pipe:
        for name, (piece, kind, photo) in made.items():
            pipe.set_items([piece.item.id])
            cut = cut_of(piece, kind, photo)
            for path, rgb in portraits:
                if min(rgb.shape[:2]) < 300:
                    continue
                result = pipe.process(frame_cls(rgb))
                if result.layer is None or result.layer.is_empty:
                    continue
                alpha = result.layer.full_frame()[..., 3]
                if (alpha >= SOLID).sum() < 30:
                    continue
                count, comp, stats, _ = cv2.connectedComponentsWithStats((alpha > 0.5).astype(np.uint8))
                k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))  # one earring of the pair: the larger
                x, y, w, h = stats[k, :4]
                sticker, stuck = _sticker(cut, rgb, (x, y, x + w, y + h))
                if kind != "earring":  # the layer holds the chain too: no box to paste the pendant's cut-out in
                    sticker, stuck = rgb, np.zeros(rgb.shape[:2], bool)
                one = (comp == k) & (alpha >= SOLID)
                worn[name].append({"portrait": path.name, "room": room_of(rgb), "output": result.image,
                                   "sticker": sticker, "box": (int(x), int(y), int(w), int(h)),
                                   "ours_lab": _lab(result.image)[one].mean(axis=0) if one.any() else None,
                                   "sticker_lab": _lab(sticker)[stuck].mean(axis=0) if stuck.any() else None})
    return worn


def _room_summary(worn: Worn, made: dict[str, tuple[PhotoPiece, str, np.ndarray]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, rows in worn.items():
        by_room: dict[str, dict[str, list[np.ndarray]]] = {}
        for r in rows:
            by_room.setdefault(r["room"], {"ours": [], "sticker": []})
            if r["ours_lab"] is not None:
                by_room[r["room"]]["ours"].append(r["ours_lab"])
            if r["sticker_lab"] is not None:
                by_room[r["room"]]["sticker"].append(r["sticker_lab"])
        means = {room: {k: np.mean(v, axis=0) for k, v in d.items() if v} for room, d in by_room.items()}
        pairs = [(a, b) for i, a in enumerate(ROOMS) for b in ROOMS[i + 1:] if a in means and b in means]
        entry: dict[str, Any] = {"portraits": {room: len(d["ours"]) for room, d in by_room.items()}, "pairs": {}}
        for a, b in pairs:
            entry["pairs"][f"{a}-{b}"] = {
                "ours_de00": round(ciede2000(means[a]["ours"], means[b]["ours"]), 2),
                "sticker_de00": round(ciede2000(means[a]["sticker"], means[b]["sticker"]), 2)
                if "sticker" in means[a] and "sticker" in means[b] else None}
        if "gold" in made[name][0].metal:
            entry["gold_hue_deg"] = {room: round(float(np.degrees(np.arctan2(m["ours"][2], m["ours"][1]))), 1)
                                     for room, m in means.items()}
        out[name] = entry
    return out


def _sheet(made: dict[str, tuple[PhotoPiece, str, np.ndarray]], worn: Worn, path: Path) -> Path:
    """Two rows a piece: its photo, then worn in a warm, a cool and a dark room (close crops round the ear or
    the pendant); below, the same with the sticker."""
    tile = 240
    rows = []
    for name in SHEET_ROWS:
        if name not in made:
            continue
        piece, kind, photo = made[name]
        colours, alpha = cut_of(piece, kind, photo)
        on_white = (colours * alpha[..., None] + (1.0 - alpha[..., None])) * 255.0
        ours = [_pad(_fit(on_white.astype(np.uint8), tile), tile)]
        stuck = [_pad(np.full((8, 8, 3), 255, np.uint8), tile)]
        for room in ("warm", "cool", "dark"):
            pick = [r for r in worn[name] if r["room"] == room]
            if not pick:
                ours.append(_pad(np.full((8, 8, 3), 255, np.uint8), tile))
                stuck.append(ours[-1])
                continue
            r = max(pick, key=lambda r: r["box"][2] * r["box"][3])
            x, y, w, h = r["box"]
            side = int(max(w, h) * 1.6)
            y0, x0 = max(0, y + h // 2 - side // 2), max(0, x + w // 2 - side // 2)
            for images, key in ((ours, "output"), (stuck, "sticker")):
                images.append(_pad(_fit(r[key][y0:y0 + side, x0:x0 + side], tile), tile))
        rows += [np.hstack(ours), np.hstack(stuck)]
    sheet = np.vstack(rows) if rows else np.full((tile, tile, 3), 255, np.uint8)
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])
    return path


def _fit(img: np.ndarray, size: int) -> np.ndarray:
    s = size / max(img.shape[:2])
    return cv2.resize(img, (max(1, round(img.shape[1] * s)), max(1, round(img.shape[0] * s))),
                      interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)


def _pad(img: np.ndarray, size: int) -> np.ndarray:
    out = np.full((size, size, 3), 255, np.uint8)
    h, w = img.shape[:2]
    out[(size - h) // 2:(size - h) // 2 + h, (size - w) // 2:(size - w) // 2 + w] = img
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tryon.quality.photo_piece_eval", description=__doc__.split("\n")[0])
    p.add_argument("--media", type=Path, default=shared_media_dir())
    p.add_argument("--out", type=Path, help="write the sheet here")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    report = evaluate(args.media, args.out)
    text = json.dumps(report, indent=2, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))
    print(text if args.json else _table(report))
    return 0


def _table(report: dict[str, Any]) -> str:
    lines = ["photo                                              IoU    s   triangles"]
    for p in report["pieces"]:
        lines.append(f"{p['photo'][:50]:50s} {p['outline_iou']:.3f} {p['seconds']:4.1f} {p['triangles']:8d}")
    lines += [f"refused {r['photo']}: {r['reason']}" for r in report["refused"]]
    for name, entry in report["rooms"].items():
        lines.append(f"{name[:50]}: portraits {entry['portraits']}")
        for pair, d in entry["pairs"].items():
            lines.append(f"  {pair:14s} ours dE00 {d['ours_de00']:5.2f}   sticker {d['sticker_de00']}")
        if "gold_hue_deg" in entry:
            lines.append(f"  gold hue by room: {entry['gold_hue_deg']}")
    return "\n".join(lines)


if __name__ == "__main__":
    from tryon.tracking.quiet import filter_stderr

    filter_stderr()  # MediaPipe's routine log lines kept from the user, as on `tryon` commands
    sys.exit(main())
