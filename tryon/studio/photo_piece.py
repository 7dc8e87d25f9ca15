"""From a product photo to a piece that can be worn: `tryon catalog import-photo` and POST /api/items.

The photo is cut out with the retouch studio's matting (tryon.retouch.matte.cut_out). Then:

1. **which piece**: the matte's parts larger than PART_SHARE of the largest are the pieces. One is required;
   a pair of earrings (``pair``) gives the larger of the two. A pendant's or a charm's chain running out of
   the photo is not the piece: parts much thinner than the pendant that reach the photo's edge are dropped.
   A piece that the photo's edge cuts is refused;
2. **its size**: ``size_mm`` (the piece's height as it hangs) or, without it, a bank card or a millimetre
   ruler beside it in the photo (tryon.studio.photo_scale); else refused, saying so;
3. **where it is worn from**: ``anchor_px`` (x, y in the photo's pixels), or from the silhouette: a piece
   much taller than wide (a drop, a hoop on a hook, a pendant) hangs from its top, the top of its upper
   tenth's middle (the hook's bend, the bail), as every pendant and charm does, or through the middle of a
   stud on its top (an earring hung from a stone on a post); a compact earring (a stud) is worn at its
   middle. A hanging piece is turned so its centre hangs straight below that point, as gravity hangs it;
4. **the relief** (tryon.studio.photo_relief): domed where the photo shows a dome, holes open, the metal's
   PBR material with the photo's detail as tint, stones faceted;
5. **the item**: an earring hangs from the piercing (its node "drop_*": it swings) or, a stud, sits on the
   lobe; a pendant or a charm hangs from a 45 cm cable chain by its top. Its id is "photo-KIND-<8 hex>" of
   the photo and the parameters.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import trimesh

from tryon.errors import InputError
from tryon.jewelry import materials, necklaces
from tryon.jewelry.catalog import Item
from tryon.jewelry.geometry.units import MM, check_range
from tryon.media import decode_image
from tryon.retouch import matte as matting
from tryon.retouch.tone import detect_metal
from tryon.studio.photo_relief import not_metal, relief_layers, relief_meshes, stone_gems
from tryon.studio.photo_scale import find_scale

__all__ = ["KINDS", "PhotoPiece", "front_view", "parse_anchor", "photo_piece"]

KINDS = ("earring", "pendant", "charm")
SIZE_RANGE_MM = {"earring": (4.0, 90.0), "pendant": (5.0, 90.0), "charm": (5.0, 40.0)}
MAX_BYTES = 40 * 1024 * 1024
PART_SHARE = 0.15  # a part of the matte at least this share of the largest is a piece of its own
EDGE_PX = 2  # a piece within this many pixels of the photo's edge is cut by it ...
EDGE_SHARE = 0.01  # ... along this share of its larger side or more
CHAIN_SHARE = 0.05  # a pendant's chain: thinner than this share of the pendant's larger side
HANG_ASPECT = 1.3  # taller than wide by this: hangs from its top ...
TOP_BAND, STUD_SHARE = 0.25, 0.06  # ... or through a stud on its top (see _anchor)
EAR_GAP_MM = 0.6  # an earring's back this far in front of the lobe
# The earring frame: x out of the ear (the piece's front), y up, z toward the face's front.
_FRONT_TO_EAR = trimesh.transformations.rotation_matrix(math.pi / 2.0, [0.0, 1.0, 0.0])


@dataclass(frozen=True)
class PhotoPiece:
    """A piece made from a photo: its catalog entry, the builder of its catalog scene (a pendant on its chain),
    the piece alone in its kind's frame (metres, anchor at the origin), its metal, and what was done."""

    item: Item
    build: Callable[[], trimesh.Scene]
    piece: trimesh.Scene
    metal: str
    notes: tuple[str, ...]
    photo_T_front: np.ndarray  # (3, 3): the piece seen from the front (right, up; metres) -> photo pixels


def front_view(piece: trimesh.Scene, kind: str) -> np.ndarray:
    """(k, 3, 2) every triangle of the piece as seen from its front (right, up; metres): a pendant's or
    charm's front is +z (its x, y), an earring's is +x (the earring frame: right is -z)."""
    tris = []
    for node in piece.graph.nodes_geometry:
        transform, name = piece.graph[node]
        mesh = piece.geometry[name]
        v = trimesh.transform_points(mesh.vertices, np.asarray(transform, np.float64))[mesh.faces]
        tris.append(np.stack([-v[..., 2], v[..., 1]], axis=-1) if kind == "earring" else v[..., :2])
    return np.concatenate(tris)


def parse_anchor(text: str | None) -> tuple[float, float] | None:
    """An anchor given as "X,Y" (pixels of the photo), or None when not given; InputError when not two numbers."""
    if not text:
        return None
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"--anchor is X,Y (two numbers, pixels), not {text[:40]!r}") from None
    return x, y


def _read(path: Path, data: bytes | None) -> tuple[np.ndarray, bytes]:
    if data is None:
        try:
            if path.stat().st_size > MAX_BYTES:
                raise InputError(f"{path.name}: larger than {MAX_BYTES // (1024 * 1024)} MB")
            data = path.read_bytes()
        except OSError as e:
            raise InputError(f"cannot read the photo {path}: {e.strerror}") from None
    if len(data) > MAX_BYTES:
        raise InputError(f"{path.name}: larger than {MAX_BYTES // (1024 * 1024)} MB")
    return decode_image(data, name=path.name or "photo"), data


def _parts(mask: np.ndarray) -> list[np.ndarray]:
    """The matte's parts (bool masks), largest first, those under PART_SHARE of the largest left out."""
    count, comp, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return []
    order = sorted(range(1, count), key=lambda k: -stats[k, cv2.CC_STAT_AREA])
    top = stats[order[0], cv2.CC_STAT_AREA]
    return [comp == k for k in order if stats[k, cv2.CC_STAT_AREA] >= PART_SHARE * top]


def _without_chain(part: np.ndarray) -> tuple[np.ndarray, bool]:
    """The part less any thin strand (a chain) that runs out of the photo; whether one was taken off."""
    ys, xs = np.nonzero(part)
    size = max(np.ptp(ys), np.ptp(xs)) + 1
    r = max(1, round(CHAIN_SHARE * size / 2.0))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    body = cv2.morphologyEx(part.astype(np.uint8), cv2.MORPH_OPEN, disc).astype(bool)
    if not body.any():
        return part, False
    near = cv2.dilate(body.astype(np.uint8), disc).astype(bool)
    count, comp = cv2.connectedComponents((part & ~near).astype(np.uint8))
    out, dropped = part.copy(), False
    for k in range(1, count):
        strand = comp == k
        if _on_edge(strand) > 0.0:
            out &= ~strand
            dropped = True
    count, comp, stats, _ = cv2.connectedComponentsWithStats(out.astype(np.uint8))
    if count > 2:  # keep what still joins the body
        out = comp == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return out, dropped


def _on_edge(part: np.ndarray) -> float:
    """How far the part runs along the photo's edge, as a share of its larger side."""
    band = np.zeros_like(part)
    band[:EDGE_PX], band[-EDGE_PX:], band[:, :EDGE_PX], band[:, -EDGE_PX:] = True, True, True, True
    ys, xs = np.nonzero(part)
    return float((part & band).sum()) / EDGE_PX / max(float(np.ptp(ys) + 1), float(np.ptp(xs) + 1), 1.0)


def _box(part: np.ndarray) -> str:
    ys, xs = np.nonzero(part)
    return f"x {xs.min()}..{xs.max()}, y {ys.min()}..{ys.max()}"


def _which_side(part: np.ndarray) -> str:
    h, w = part.shape
    ys, xs = np.nonzero(part)
    sides = {"top": ys.min() < EDGE_PX, "bottom": ys.max() >= h - EDGE_PX, "left": xs.min() < EDGE_PX,
             "right": xs.max() >= w - EDGE_PX}
    return " and ".join(k for k, v in sides.items() if v) or "an"


def _anchor(part: np.ndarray, anchor_px: tuple[float, float] | None, kind: str) -> tuple[np.ndarray, bool]:
    """(x, y) pixels the piece is worn from, and whether it hangs from there (module docstring): a pendant
    or a charm always hangs."""
    ys, xs = np.nonzero(part)
    height, width = np.ptp(ys) + 1, np.ptp(xs) + 1
    hangs = kind != "earring" or height >= HANG_ASPECT * width
    if anchor_px is not None:
        x, y = float(anchor_px[0]), float(anchor_px[1])
        if not (0 <= x < part.shape[1] and 0 <= y < part.shape[0]):
            raise InputError(f"--anchor {x:g},{y:g} is outside the photo ({part.shape[1]} x {part.shape[0]} px)")
        dist = cv2.distanceTransform((~part).astype(np.uint8), cv2.DIST_L2, 5)
        if dist[int(y), int(x)] > 0.05 * max(height, width):
            raise InputError(f"--anchor {x:g},{y:g} is not on the piece (at {_box(part)})")
        return np.array([x, y]), kind != "earring" or bool(y - ys.min() < 0.35 * height)
    if not hangs:
        return np.array([xs.mean(), ys.mean()]), False
    # A stud on top (a drop hung from a stone on a post) is worn through its middle: the widest place in the
    # top TOP_BAND of the piece, where that is a solid (its inscribed radius at least STUD_SHARE of the height);
    # a hook or a lever-back's loop is thin there and hangs from its very top.
    band = part.copy()
    band[int(ys.min() + TOP_BAND * height):] = False
    inner = cv2.distanceTransform(np.pad(band, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    if kind == "earring" and inner.max() >= STUD_SHARE * height:
        row, col = np.unravel_index(int(np.argmax(inner)), inner.shape)
        return np.array([float(col), float(row)]), True
    top = ys < ys.min() + max(2, 0.1 * height)
    return np.array([float(np.median(xs[top])), float(ys.min())]), True


def photo_piece(path: Path, kind: str, *, size_mm: float | None = None, metal: str | None = None,
                name: str | None = None, pair: bool = False, anchor_px: tuple[float, float] | None = None,
                data: bytes | None = None) -> PhotoPiece:
    """The piece in the photo at ``path`` (``data``: its bytes) as a wearable catalog piece of ``kind``
    (earring, pendant, charm). Raises InputError, saying why, for a photo it cannot make a piece of."""
    if kind not in KINDS:
        raise InputError(f"a photo becomes an earring, a pendant or a charm, not {kind!r} (--type)")
    if pair and kind != "earring":
        raise InputError("--pair is for a pair of earrings")
    if size_mm is not None:
        check_range(f"A {kind}'s height", float(size_mm), *SIZE_RANGE_MM[kind])
    if metal is not None:
        metal = str(metal).strip().lower().replace("-", "_").replace(" ", "_")
        materials.check_names(metal, None)
    path = Path(path)
    rgb, data = _read(path, data)
    cut = matting.cut_out(rgb)
    notes: list[str] = []
    parts = _parts(cut.alpha >= 0.5)
    if not parts:
        raise InputError(f"{path.name}: no piece stands out from the backdrop")
    scale = find_scale(rgb, parts) if size_mm is None else None
    pieces = [p for i, p in enumerate(parts) if scale is None or i != scale.part]
    if not pieces:
        raise InputError(f"{path.name}: the photo shows a {scale.what if scale else 'scale'} and no piece")
    if anchor_px is not None and len(pieces) > 1:  # the piece pointed at
        x, y = int(anchor_px[0]), int(anchor_px[1])
        inside = [p for p in pieces if 0 <= y < p.shape[0] and 0 <= x < p.shape[1] and
                  cv2.distanceTransform((~p).astype(np.uint8), cv2.DIST_L2, 3)[y, x] <= 0.02 * max(p.shape)]
        if not inside:
            raise InputError(f"{path.name}: --anchor {anchor_px[0]:g},{anchor_px[1]:g} is on none of the "
                             f"{len(pieces)} pieces in the photo (at " + "; ".join(_box(p) for p in pieces) + ")")
        pieces = inside[:1]
    if len(pieces) > 1 and not (pair and len(pieces) == 2):
        raise InputError(f"{path.name}: the photo shows {len(pieces)} pieces; import a photo of one piece, or "
                         "point at it with --anchor X,Y"
                         + (" (or --pair for a pair of earrings)" if kind == "earring" and not pair else ""))
    if pair and len(pieces) == 1:
        notes.append("--pair, but the photo shows one piece: it is the pair's model")
    part = pieces[0]
    if kind != "earring":
        part, dropped = _without_chain(part)
        if dropped:
            notes.append("the chain running out of the photo is not part of the piece: left out")
    if _on_edge(part) > EDGE_SHARE:
        raise InputError(f"{path.name}: the piece is cut by the photo's {_which_side(part)} edge; "
                         "use a photo with the whole piece in it")
    ys, xs = np.nonzero(part)
    height_px = float(np.ptp(ys) + 1)
    if size_mm is not None:
        px_per_mm = height_px / float(size_mm)
    elif scale is not None:
        px_per_mm = scale.px_per_mm
        notes.append(f"size from the {scale.what} in the photo: {height_px / px_per_mm:.1f} mm tall")
    else:
        raise InputError(f"{path.name}: give the piece's height with --size-mm (no bank card or millimetre "
                         "ruler in the photo to measure it by)")
    height_mm = height_px / px_per_mm
    check_range(f"A {kind}'s height", round(height_mm, 2), *SIZE_RANGE_MM[kind])
    anchor, hangs = _anchor(part, anchor_px, kind)
    if metal is None:
        # Told by the metal's own pixels: a piece that is mostly a blue stone is not white metal for it.
        seen = part & ~not_metal(rgb)
        metal = detect_metal(rgb, np.where(seen if seen.sum() > 0.05 * part.sum() else part, cut.alpha, 0.0)
                             .astype(np.float32)).replace("-", "_")
        if metal not in materials.METALS:
            raise InputError(f"{path.name}: cannot tell the metal from the photo; give it with --metal "
                             f"({', '.join(sorted(materials.METALS))})")
        notes.append(f"metal: {metal.replace('_', ' ')} (from the photo)")
    pad = 3
    y0, y1 = max(0, ys.min() - pad), min(rgb.shape[0], ys.max() + pad + 1)
    x0, x1 = max(0, xs.min() - pad), min(rgb.shape[1], xs.max() + pad + 1)
    near = cv2.dilate(part.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    alpha = np.where(near, cut.alpha, 0.0)[y0:y1, x0:x1]
    layers = relief_layers(rgb[y0:y1, x0:x1], alpha, 1.0 / px_per_mm, metal)
    gems = stone_gems(layers)
    if gems:
        notes.append("stones: kept from the photo, faceted, shaded as "
                     + ", ".join(sorted({g.replace('_', ' ') for g in gems.values()})))
    gem = max(gems.values(), key=list(gems.values()).count) if gems else None
    # The anchor in the relief's frame: mm from the crop's centre, y up.
    origin = ((anchor[0] - (x0 + x1 - 1) / 2.0) / px_per_mm, ((y0 + y1 - 1) / 2.0 - anchor[1]) / px_per_mm)
    try:
        meshes = relief_meshes(layers, metal, gems, origin)
    except ValueError as e:
        raise InputError(f"{path.name}: the piece is too small in the photo to build ({e})") from None
    angle = _hang_straight(meshes) if hangs else 0.0
    # Front view (metres, after the turn) -> relief mm (before it) -> photo pixels.
    c, s_ = math.cos(angle), math.sin(angle)
    unturn = np.array([[c, -s_, 0.0], [s_, c, 0.0], [0.0, 0.0, 1.0]])
    to_px = np.array([[px_per_mm / MM, 0.0, (x0 + x1 - 1) / 2.0 + origin[0] * px_per_mm],
                      [0.0, -px_per_mm / MM, (y0 + y1 - 1) / 2.0 - origin[1] * px_per_mm], [0.0, 0.0, 1.0]])
    piece = _frame(meshes, kind, hangs)
    key = {"kind": kind, "photo": hashlib.sha256(data).hexdigest(), "size_mm": size_mm, "metal": metal,
           "pair": pair, "anchor": anchor_px}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:8]
    item = _item(f"photo-{kind}-{digest}", name or f"{path.stem[:40] or 'photo'} (from a photo)", kind, metal,
                 gem, round(height_mm, 2), round(float(np.ptp(xs) + 1) / px_per_mm, 2))
    notes.append(f"{height_mm:.1f} x {(np.ptp(xs) + 1) / px_per_mm:.1f} mm; "
                 + ("hangs from its top" if hangs else "worn at its middle"))

    def build() -> trimesh.Scene:
        if kind == "earring":
            return piece
        return necklaces.necklace(necklaces.cable_chain(link_mm=2.0, wire_mm=0.4, metal=metal), piece)

    return PhotoPiece(item, build, piece, metal, tuple(notes), to_px @ unturn)


def _hang_straight(meshes: list[tuple[str, trimesh.Trimesh]]) -> float:
    """Turn the meshes about the anchor (the origin) so their centre of area hangs straight below it; the turn
    (radians, counter-clockwise seen from the front) undone."""
    points = np.vstack([m.vertices for _, m in meshes])
    cx, cy = points[:, 0].mean(), points[:, 1].mean()
    angle = math.atan2(cx, -cy)  # from straight down (0, -1) to the centre
    turn = trimesh.transformations.rotation_matrix(-angle, [0.0, 0.0, 1.0])
    for _, m in meshes:
        m.apply_transform(turn)
    return angle


def _frame(meshes: list[tuple[str, trimesh.Trimesh]], kind: str, hangs: bool) -> trimesh.Scene:
    """The meshes in their kind's frame: an earring's front out of the ear (+x), its back EAR_GAP_MM in front
    of the lobe, nodes "drop_*" where it hangs; a pendant's back on z = -BACK_MM, nodes "pendant_*"."""
    z_min = min(float(m.vertices[:, 2].min()) for _, m in meshes)
    scene = trimesh.Scene()
    for name, mesh in meshes:
        if kind == "earring":
            mesh.apply_translation([0.0, 0.0, EAR_GAP_MM * MM - z_min])
            mesh.apply_transform(_FRONT_TO_EAR)
            node = f"drop_{name}" if hangs else f"photo_{name}"
        else:
            mesh.apply_translation([0.0, 0.0, -necklaces.BACK_MM * MM - z_min])
            node = f"{necklaces.PENDANT_PREFIX}_{name}"
        scene.add_geometry(mesh, node_name=node, geom_name=node)
    return scene


def _item(item_id: str, name: str, kind: str, metal: str, gem: str | None, height_mm: float,
          width_mm: float) -> Item:
    if kind == "earring":
        return Item(item_id, name, "earring", "ears", f"earrings/{item_id}.glb", metal, gem,
                    {"height": height_mm, "width": width_mm}, "photo-earring", height_mm)
    return Item(item_id, name, "pendant", "neck", f"necklaces/{item_id}.glb", metal, gem,
                {"length": necklaces.NECKLACE_LENGTH_MM, "size": height_mm, "width": width_mm},
                f"photo-{kind}", height_mm)
