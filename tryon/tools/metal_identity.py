"""Does gold read as gold in every room? Real portraits with their background replaced by flat walls (blue,
green, red, purple, black, white and a mid grey), each metal worn as a round hoop through the product's
own pipeline (`Pipeline.process`, as `tryon render` does), and the metal's colour in CIELAB read off the output
where the render layer is nearly opaque.

A metal keeps its identity when its hue and chroma stay near those it has in front of the grey wall (gold stays
yellow, rose gold pink-orange) and the white metals stay near neutral, whatever the wall; it still follows the
room when a dark room makes it darker and a warm or cool room shifts it that way (`room_failures`). The bounds
are the named constants below.

`python -m tryon.tools.metal_identity [--sheet PNG]` prints the table and writes a contact sheet (metals down,
walls across).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from tryon.config import shared_media_dir
from tryon.jewelry import earrings
from tryon.jewelry.catalog import Catalog
from tryon.media import read_image
from tryon.pipeline import Pipeline, PipelineOptions
from tryon.tracking.segmentation import PersonSegmenter
from tryon.types import Frame, FrameResult

MEDIA = shared_media_dir()
# Frontal portraits with both ears in view, of different skin tones and lighting (../shared/media), close
# enough that the measuring hoop's wire is several pixels wide (see INTERIOR_PX).
PORTRAITS = (
    "faces/man_glasses_beard_frontal.jpg",
    "people/faces/man_frontal_short_hair_closeup.jpg",
    "people/faces/boy_dark_skin_smile.jpg",
    "people/faces/man_open_mouth_frontal.jpg",
)
# Flat painted walls, sRGB: saturated paints, a near-black and a white room, and the neutral reference.
WALLS: dict[str, tuple[int, int, int]] = {
    "grey": (128, 128, 128),
    "blue": (35, 70, 175),
    "green": (40, 135, 60),
    "red": (175, 35, 35),
    "purple": (105, 40, 135),
    "black": (12, 12, 12),
    "white": (238, 238, 238),
}
METALS = ("yellow_gold", "rose_gold", "white_gold", "silver", "platinum")
HOOP_MM, WIRE_MM = 30.0, 4.0  # the measuring hoops (`catalog`)
WHITE_METALS = frozenset({"white_gold", "silver", "platinum"})
WIDTH_PX = 720  # portraits are scaled to this width (the earrings' wire is still several pixels thick)
OPAQUE = 0.9  # the metal's pixels: render layer alpha above this (no background mixed in)
# ... and all their neighbours too: the compositor blurs the piece as the camera blurred the photo, which
# mixes the wall into a thin wire's edge pixels; that is the camera's sharpness, not the metal's colour.
INTERIOR_PX = 2
MIN_PIXELS = 12

# Identity, per portrait and wall. Golds: hue within HUE_TOLERANCE_DEG of the same portrait's grey wall (yellow
# and rose gold are about 26 degrees apart: each stays well within half of that of itself) and within
# REFERENCE_HUE_TOLERANCE_DEG of the metal's own colour (its F0 as sRGB), chroma within CHROMA_RATIO of the grey
# wall's (a dark wall darkens the piece, and CIELAB chroma falls with lightness). White metals: chroma at most
# WHITE_CHROMA_ABOVE_OWN above their own colour's (white gold's own is 2.3, platinum's 4.6; a wall's colour
# reached 20 to 30 before).
HUE_TOLERANCE_DEG = 12.0
REFERENCE_HUE_TOLERANCE_DEG = 15.0
CHROMA_RATIO = (0.7, 1.4)
WHITE_CHROMA_ABOVE_OWN = 5.0

# Following the room: the grey-wall portrait as a whole lit differently (linear light gains on the frame):
# a dark room, and a warm and a cool one (tungsten-like and shade-like white balance errors).
ROOMS: dict[str, tuple[float, float, float]] = {
    "grey": (1.0, 1.0, 1.0),
    "dark": (0.25, 0.25, 0.25),
    "warm": (1.25, 1.0, 0.7),
    "cool": (0.75, 0.95, 1.3),
}
DARK_L_DROP = 10.0  # the dark room's metal is at least this much lower in L*
TINT_B_SHIFT = 3.0  # the warm room's metal is at least this much higher in b* than the cool room's


@dataclass(frozen=True)
class MetalColour:
    """The mean CIELAB (D65) colour of one metal's opaque pixels in one picture: L* 0..100, a*, b*; chroma
    and hue angle (degrees, 0..360) of the mean (a*, b*)."""

    L: float
    a: float
    b: float
    pixels: int

    @property
    def chroma(self) -> float:
        return math.hypot(self.a, self.b)

    @property
    def hue_deg(self) -> float:
        return math.degrees(math.atan2(self.b, self.a)) % 360.0


@dataclass(frozen=True)
class Sample:
    portrait: str
    wall: str
    metal: str
    colour: MetalColour  # the output picture (what the user sees)
    layer: MetalColour  # the render layer alone (before compositing)


def hue_difference_deg(h1: float, h2: float) -> float:
    """|h1 - h2| on the circle, degrees 0..180."""
    d = abs(h1 - h2) % 360.0
    return min(d, 360.0 - d)


def lab(rgb: np.ndarray) -> np.ndarray:
    """(n, 3) sRGB 0..1 -> (n, 3) CIELAB (D65)."""
    rgb = np.clip(np.asarray(rgb, np.float32), 0.0, 1.0).reshape(-1, 1, 3)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab).reshape(-1, 3)


def metal_reference(metal: str) -> MetalColour:
    """The metal's own colour: its F0 (linear) shown as sRGB, in CIELAB."""
    from tryon.compositor.camera import linear_to_srgb
    from tryon.jewelry.materials import metal as spec

    srgb = linear_to_srgb(np.asarray(spec(metal).base_color, np.float32))
    L, a, b = lab(srgb[None])[0]
    return MetalColour(float(L), float(a), float(b), 1)


def colour_of(result: FrameResult) -> tuple[MetalColour, MetalColour, tuple[int, int]]:
    """The metal's colour in the output picture and in the render layer, over the layer's opaque interior,
    and where the piece with the most of it is (its mean pixel, x y)."""
    layer = result.layer
    if layer is None or layer.is_empty:
        raise ValueError("nothing was rendered")
    rgba = layer.full_frame()
    side = 2 * INTERIOR_PX + 1
    on = cv2.erode((rgba[..., 3] > OPAQUE).astype(np.uint8), np.ones((side, side), np.uint8)).astype(bool)
    n = int(on.sum())
    if n < MIN_PIXELS:
        raise ValueError(f"only {n} opaque pixels of metal")
    out = lab(result.image[on].astype(np.float32) / 255.0).mean(axis=0)
    own = lab(rgba[on][:, :3] / rgba[on][:, 3:4]).mean(axis=0)
    _, _, stats, centres = cv2.connectedComponentsWithStats(on.astype(np.uint8))
    x, y = centres[1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))]
    return (MetalColour(float(out[0]), float(out[1]), float(out[2]), n),
            MetalColour(float(own[0]), float(own[1]), float(own[2]), n), (int(x), int(y)))


def on_wall(rgb: np.ndarray, person: np.ndarray, wall: Sequence[int]) -> np.ndarray:
    """(H, W, 3) uint8: the person (probability `person`, (H, W)) in front of a flat wall of sRGB `wall`."""
    p = person[..., None].astype(np.float32)
    return np.clip(rgb * p + np.asarray(wall, np.float32) * (1.0 - p) + 0.5, 0, 255).astype(np.uint8)


def lit(rgb: np.ndarray, gains: Sequence[float]) -> np.ndarray:
    """(H, W, 3) uint8: the picture with its linear light multiplied by `gains` (3,) (a darker or tinted room)."""
    from tryon.compositor.camera import linear_to_srgb, srgb_to_linear

    linear = srgb_to_linear(rgb.astype(np.float32) / 255.0) * np.asarray(gains, np.float32)
    return np.clip(linear_to_srgb(linear) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def fit_width(rgb: np.ndarray, width_px: int = WIDTH_PX) -> np.ndarray:
    """(H, W, 3) uint8 scaled down to width_px wide (if wider)."""
    h, w = rgb.shape[:2]
    if w <= width_px:
        return rgb
    return cv2.resize(rgb, (width_px, round(h * width_px / w)), interpolation=cv2.INTER_AREA)


def read_portrait(rel: str) -> np.ndarray:
    """A portrait of ../shared/media as (H, W, 3) uint8 RGB, WIDTH_PX wide at most."""
    return fit_width(read_image(MEDIA / rel))


def walls_of(rgb: np.ndarray, walls: dict[str, tuple[int, int, int]] = WALLS) -> dict[str, np.ndarray]:
    """The portrait in front of each wall (the person found by MediaPipe's selfie segmentation)."""
    with PersonSegmenter(model=0) as seg:
        person = seg.process(rgb)
    return {name: on_wall(rgb, person, colour) for name, colour in walls.items()}


def rooms_of(rgb: np.ndarray, rooms: dict[str, tuple[float, float, float]] = ROOMS) -> dict[str, np.ndarray]:
    """The picture in each room of `rooms` (`lit`)."""
    return {name: lit(rgb, gains) for name, gains in rooms.items()}


@contextmanager
def catalog() -> Iterator[Catalog]:
    """The built-in catalog plus one measuring hoop per metal (`hoop_id`): round, HOOP_MM across, its wire
    WIRE_MM thick, so that its opaque interior is many pixels on a portrait (the catalog's 2 mm wires are a
    few pixels, nearly all edge; platinum has no hoop there)."""
    built_in = Catalog.load()
    like = built_in.get("hoop-round-25mm-yellow-gold")
    with tempfile.TemporaryDirectory() as folder:
        items = []
        for metal in METALS:
            item = dataclasses.replace(like, id=hoop_id(metal), metal=metal, family="metal-identity-hoop",
                                       name=f"Round hoop, {HOOP_MM:g} mm, {WIRE_MM:g} mm wire, {metal}",
                                       file=f"{hoop_id(metal)}.glb", size_mm=HOOP_MM,
                                       dimensions_mm={"diameter": HOOP_MM, "wire": WIRE_MM})
            scene = earrings.hoop(HOOP_MM, WIRE_MM, "round", metal)
            (Path(folder) / item.file).write_bytes(scene.export(file_type="glb"))
            items.append(item)
        yield Catalog(built_in.items + tuple(items), built_in.assets_dir, {i.id: Path(folder) for i in items})


def hoop_id(metal: str) -> str:
    return f"metal-identity-hoop-{metal.replace('_', '-')}"


Pictures = dict[tuple[str, str, str], tuple[np.ndarray, tuple[int, int]]]


def measure(pipe: Pipeline, photos: dict[str, dict[str, np.ndarray]], metals: Sequence[str] = METALS
            ) -> tuple[list[Sample], Pictures]:
    """Every metal on every picture: photos maps a portrait's name to its pictures by wall (or room), as
    `walls_of` and `rooms_of` make them. Returns the samples, and the output pictures with where the piece
    is, by (portrait, wall, metal)."""
    samples, pictures = [], {}
    for metal in metals:
        pipe.set_items([hoop_id(metal)])
        for name, frames in photos.items():
            for wall, rgb in frames.items():
                result = pipe.process(Frame(rgb))
                out, own, xy = colour_of(result)
                samples.append(Sample(name, wall, metal, out, own))
                pictures[(name, wall, metal)] = (result.image, xy)
    return samples, pictures


def _of(samples: Sequence[Sample], metal: str, wall: str, portrait: str) -> Sample:
    return next(s for s in samples if s.metal == metal and s.wall == wall and s.portrait == portrait)


def identity_failures(samples: Sequence[Sample], layer: bool = False) -> list[str]:
    """One line for each sample (of the output picture, or of the render layer) outside the identity bounds,
    saying where and why; [] when all keep their metal's identity. Needs each portrait and metal in front of
    the grey wall."""
    out = []
    for s in samples:
        c = s.layer if layer else s.colour
        own = metal_reference(s.metal)
        why = []
        if s.metal in WHITE_METALS:
            if c.chroma > own.chroma + WHITE_CHROMA_ABOVE_OWN:
                why.append(f"chroma above {own.chroma + WHITE_CHROMA_ABOVE_OWN:.1f}")
        else:
            grey = _of(samples, s.metal, "grey", s.portrait)
            g = grey.layer if layer else grey.colour
            off_grey, off_own = hue_difference_deg(c.hue_deg, g.hue_deg), hue_difference_deg(c.hue_deg, own.hue_deg)
            if off_grey > HUE_TOLERANCE_DEG:
                why.append(f"hue {off_grey:.1f} deg from the grey wall's {g.hue_deg:.1f}")
            if off_own > REFERENCE_HUE_TOLERANCE_DEG:
                why.append(f"hue {off_own:.1f} deg from the metal's own {own.hue_deg:.1f}")
            ratio = c.chroma / max(g.chroma, 1e-6)
            if not CHROMA_RATIO[0] <= ratio <= CHROMA_RATIO[1]:
                why.append(f"chroma {ratio:.2f} times the grey wall's {g.chroma:.1f}")
        if why:
            out.append(f"{s.metal} on {s.wall} ({Path(s.portrait).name}): L* {c.L:.1f} C* {c.chroma:.1f} "
                       f"hue {c.hue_deg:.1f}: " + "; ".join(why))
    return out


def room_failures(samples: Sequence[Sample]) -> list[str]:
    """Every metal that does not follow the room (ROOMS; means over the portraits), described: [] when all do."""
    out = []
    for metal in dict.fromkeys(s.metal for s in samples):
        c = {room: mean_colour([s.colour for s in samples if s.metal == metal and s.wall == room]) for room in ROOMS}
        if c["grey"].L - c["dark"].L < DARK_L_DROP:
            out.append(f"{metal}: L* {c['grey'].L:.1f} in the grey room, {c['dark'].L:.1f} in the dark one")
        if c["warm"].b - c["cool"].b < TINT_B_SHIFT:
            out.append(f"{metal}: b* {c['warm'].b:.1f} in the warm room, {c['cool'].b:.1f} in the cool one")
    return out


def table(samples: Sequence[Sample]) -> str:
    """Per metal and wall, means over the portraits: L*, C*, hue of the output (and the render layer's C*, hue);
    and the worst portrait: for golds its hue's distance from its grey wall's and its chroma ratio to it, for
    white metals its chroma."""
    lines = [f"{'metal':12s} {'wall':7s} {'L*':>5s} {'C*':>5s} {'hue':>6s} | {'layer C*':>8s} {'hue':>6s} | worst: "
             "golds dhue, C/C_grey; white metals C*"]
    portraits = list(dict.fromkeys(s.portrait for s in samples))
    for metal in dict.fromkeys(s.metal for s in samples):
        for wall in dict.fromkeys(s.wall for s in samples):
            group = [_of(samples, metal, wall, p) for p in portraits]
            greys = [_of(samples, metal, "grey", p) for p in portraits]
            c = mean_colour([s.colour for s in group])
            o = mean_colour([s.layer for s in group])
            if metal in WHITE_METALS:
                worst = f"{max(s.colour.chroma for s in group):5.1f}"
            else:
                dh = max(hue_difference_deg(s.colour.hue_deg, g.colour.hue_deg) for s, g in zip(group, greys, strict=True))
                ratios = [s.colour.chroma / max(g.colour.chroma, 1e-6) for s, g in zip(group, greys, strict=True)]
                worst = f"{dh:5.1f} {min(ratios):4.2f}-{max(ratios):4.2f}"
            lines.append(f"{metal:12s} {wall:7s} {c.L:5.1f} {c.chroma:5.1f} {c.hue_deg:6.1f} | {o.chroma:8.1f} "
                         f"{o.hue_deg:6.1f} | {worst}")
    return "\n".join(lines)


def mean_colour(colours: Sequence[MetalColour]) -> MetalColour:
    return MetalColour(float(np.mean([c.L for c in colours])), float(np.mean([c.a for c in colours])),
                       float(np.mean([c.b for c in colours])), sum(c.pixels for c in colours))


def contact_sheet(pictures: Pictures, portrait: str, walls: Sequence[str], metals: Sequence[str],
                  half_px: int = 70, tile_px: int = 150) -> np.ndarray:
    """(len(metals) * tile_px, len(walls) * tile_px, 3) uint8: crops round the more visible earring, metals
    down, walls across."""
    rows = []
    for metal in metals:
        row = []
        for wall in walls:
            img, (x, y) = pictures[(portrait, wall, metal)]
            h, w = img.shape[:2]
            side = min(2 * half_px, h, w)
            x0, y0 = int(np.clip(x - side // 2, 0, w - side)), int(np.clip(y - side // 2, 0, h - side))
            crop = cv2.resize(img[y0 : y0 + side, x0 : x0 + side], (tile_px, tile_px), interpolation=cv2.INTER_AREA)
            cv2.putText(crop, f"{metal} / {wall}", (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (255, 255, 255), 1,
                        cv2.LINE_AA)
            row.append(crop)
        rows.append(np.hstack(row))
    return np.vstack(rows)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tryon.tools.metal_identity")
    parser.add_argument("--sheet", type=Path, default=Path("/tmp/metal_identity.png"))
    parser.add_argument("--no-compositor", action="store_true")
    args = parser.parse_args(argv)
    portraits = {rel: read_portrait(rel) for rel in PORTRAITS}
    options = PipelineOptions(mode="image", use_compositor=not args.no_compositor)
    with catalog() as cat, Pipeline(cat, (), options) as pipe:
        samples, pictures = measure(pipe, {rel: walls_of(rgb) for rel, rgb in portraits.items()})
        rooms, _ = measure(pipe, {rel: rooms_of(walls_of(rgb, {"grey": WALLS["grey"]})["grey"])
                                  for rel, rgb in portraits.items()})
    print(table(samples))
    for metal in METALS:
        r = metal_reference(metal)
        print(f"own colour {metal:12s} L* {r.L:5.1f} C* {r.chroma:5.1f} hue {r.hue_deg:5.1f}")
    failures = identity_failures(samples)
    print(f"identity: {len(failures)} of {len(samples)} pictures outside the bounds")
    print("\n".join(f"  {f}" for f in failures))
    print(table(rooms))
    print("rooms: " + ("followed" if not room_failures(rooms) else "; ".join(room_failures(rooms))))
    sheets = [contact_sheet(pictures, rel, list(WALLS), METALS) for rel in PORTRAITS]
    args.sheet.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.sheet), cv2.cvtColor(np.vstack(sheets), cv2.COLOR_RGB2BGR))
    print(f"wrote {args.sheet}")


if __name__ == "__main__":
    from tryon.tracking.quiet import filter_stderr

    filter_stderr()  # MediaPipe's routine log lines kept from the user, as on `tryon` commands
    main()
