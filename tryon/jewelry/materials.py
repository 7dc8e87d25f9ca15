"""PBR parameters of jewelry metals and gemstones, as glTF metallic-roughness materials.

Colours are LINEAR (not sRGB-encoded) RGB in 0..1, as glTF's ``baseColorFactor`` expects.

Metals: ``base_color`` is the normal-incidence reflectance F0 of the polished metal, which is what the
glTF metallic workflow reads ``baseColor`` as when ``metallic == 1``.

Gems: dielectrics (``metallic == 0``). ``base_color`` is the stone's body colour (what white light looks
like after a few millimetres through the stone), which a plain glTF viewer shows as the diffuse colour and
which the renderer's gem shading uses as the transmission tint. ``ior`` and ``dispersion`` are kept here for
that gem shading; glTF core cannot carry them, so renderers look them up by material name via :func:`gem`.

Dielectrics (watch dials, straps, hand paint): plain non-metals (``metallic == 0``, no ``ior``): ``base_color``
is the diffuse albedo; the specular part is the usual non-metal F0 of 0.04 (n about 1.5). They round-trip
through glTF's own factors, and :func:`dielectric` finds them by name like metals and gems.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np
from trimesh.visual.material import PBRMaterial

from tryon.errors import InputError

__all__ = [
    "DIELECTRICS",
    "GEMS",
    "METALS",
    "DielectricSpec",
    "GemSpec",
    "MetalSpec",
    "check_names",
    "dielectric",
    "gem",
    "metal",
    "pbr_material",
    "material_spec",
]


@dataclass(frozen=True)
class MetalSpec:
    """A polished jewelry metal.

    name: catalog name, lowercase with underscores (``"yellow_gold"``).
    base_color: (3,) linear RGB normal-incidence reflectance F0, 0..1.
    roughness: glTF perceptual roughness, 0..1 (polished jewelry: 0.1..0.25).
    source: where ``base_color`` comes from.
    """

    name: str
    base_color: tuple[float, float, float]
    roughness: float
    source: str
    metallic: float = 1.0


@dataclass(frozen=True)
class GemSpec:
    """A faceted gemstone.

    name: catalog name (``"diamond"``).
    base_color: (3,) linear RGB body colour, 0..1.
    ior: refractive index at the sodium D line (589 nm).
    dispersion: B-G interval (n(686.7 nm) - n(430.8 nm)); what makes "fire".
    roughness: glTF perceptual roughness of a polished facet.
    """

    name: str
    base_color: tuple[float, float, float]
    ior: float
    dispersion: float
    roughness: float = 0.02
    metallic: float = 0.0

    @property
    def f0(self) -> float:
        """Normal-incidence reflectance from the refractive index, ((n - 1) / (n + 1))^2."""
        return ((self.ior - 1.0) / (self.ior + 1.0)) ** 2


@dataclass(frozen=True)
class DielectricSpec:
    """A non-metal surface that is not a faceted gem (leather, lacquer, paint).

    name: catalog name (``"brown_leather"``).
    base_color: (3,) linear RGB diffuse albedo, 0..1.
    roughness: glTF perceptual roughness, 0..1.
    source: where ``base_color`` and ``roughness`` come from.
    """

    name: str
    base_color: tuple[float, float, float]
    roughness: float
    source: str
    metallic: float = 0.0


# F0 values of pure metals: N. Hoffman, "Physics and Math of Shading", SIGGRAPH 2015 course notes,
# linear sRGB computed from measured spectral optical constants. Alloys without such a table
# (rose gold, rhodium plate) are converted from their published CIELAB colour, which is a good proxy
# for F0 of a polished sample (specular-included measurement).
METALS: dict[str, MetalSpec] = {
    m.name: m
    for m in (
        # 24k gold; 18k yellow alloys are slightly paler but this keeps the one well-measured value.
        MetalSpec("yellow_gold", (1.000, 0.782, 0.344), 0.18, "Au optical constants (Hoffman 2015)"),
        # 18k red/rose gold (~75 Au, 22 Cu, 3 Ag), CIELAB about L*84 a*10 b*21 (Cretu & van der Lingen,
        # Gold Bulletin 1999) -> linear sRGB. Approximate: alloy colours vary by a few units of a*, b*.
        MetalSpec("rose_gold", (0.893, 0.589, 0.405), 0.18, "18k rose gold CIELAB L*84 a*10 b*21"),
        # Retail white gold is rhodium plated; rhodium reflects ~0.75-0.80 flat across the visible.
        MetalSpec("white_gold", (0.800, 0.780, 0.750), 0.12, "Rh plate, ~0.78 visible reflectance"),
        MetalSpec("silver", (0.972, 0.960, 0.915), 0.15, "Ag optical constants (Hoffman 2015)"),
        # Platinum is polished less mirror-like in practice (softer, scratches), hence higher roughness.
        MetalSpec("platinum", (0.673, 0.637, 0.585), 0.20, "Pt optical constants (Hoffman 2015)"),
        # Watch cases: 316L (Fe 68, Cr 18, Ni 14 wt %). No alloy table; the composition-weighted mean of
        # Hoffman's Fe (0.562, 0.565, 0.578), Cr (0.549, 0.556, 0.554) and Ni (0.660, 0.609, 0.526), which
        # agrees with the 0.55..0.6 normal reflectance of polished stainless steel. Cases mix brushed and
        # polished surfaces, hence the roughness.
        MetalSpec("stainless_steel", (0.573, 0.570, 0.566), 0.22, "316L: Fe/Cr/Ni F0 (Hoffman 2015) by weight"),
    )
}

# ior / dispersion: GIA gem reference values (D-line index, B-G dispersion).
# Body colours are representative linear RGB of a fine stone of each kind (not measured spectra).
GEMS: dict[str, GemSpec] = {
    g.name: g
    for g in (
        GemSpec("diamond", (0.980, 0.980, 0.980), 2.417, 0.044, roughness=0.0),
        GemSpec("ruby", (0.620, 0.020, 0.060), 1.770, 0.018),
        GemSpec("sapphire", (0.030, 0.080, 0.500), 1.770, 0.018),
        GemSpec("emerald", (0.020, 0.380, 0.120), 1.580, 0.014),
        GemSpec("amethyst", (0.330, 0.080, 0.500), 1.544, 0.013),
        GemSpec("aquamarine", (0.350, 0.700, 0.800), 1.577, 0.014),
        GemSpec("citrine", (0.850, 0.450, 0.050), 1.544, 0.013),
        GemSpec("cubic_zirconia", (0.980, 0.980, 0.980), 2.160, 0.060, roughness=0.01),
    )
}


# Albedos: Allegorithmic (Adobe Substance) PBR Guide vol. 2 keeps non-metal base colours between about
# 30..50 sRGB (the darkest paints, charcoal) and 240 sRGB (fresh snow); values here are representative
# colours inside that range converted to linear RGB (not measured spectra). Roughness: glossy lacquer on
# dials, semi-matte finished leather, matte luminous compound.
DIELECTRICS: dict[str, DielectricSpec] = {
    d.name: d
    for d in (
        DielectricSpec("brown_leather", (0.117, 0.045, 0.019), 0.55, "calf leather, sRGB (96, 60, 38)"),
        DielectricSpec("black_lacquer", (0.015, 0.015, 0.015), 0.08, "gloss black dial, sRGB 32 (PBR Guide floor)"),
        DielectricSpec("white_lacquer", (0.807, 0.807, 0.776), 0.15, "white enamel dial, sRGB (232, 232, 228)"),
        # Strontium aluminate (Super-LumiNova) in a binder: off-white with a green cast by daylight.
        DielectricSpec("luminous_paint", (0.791, 0.839, 0.672), 0.50, "lume in daylight, sRGB (230, 236, 214)"),
        # Pearls: nacre is a non-metal whose lustre is a sharp, fairly strong reflection on a smooth skin,
        # hence roughness 0.2 (not a gem: no facets, no transmission). Colours follow GIA's pearl bodycolour
        # names (white with rose overtone for Akoya, cream, black for Tahitian); sRGB values are
        # representative, not measured.
        DielectricSpec("pearl", (0.855, 0.823, 0.761), 0.20, "white Akoya, GIA bodycolour white, sRGB (238, 234, 226)"),
        DielectricSpec("cream_pearl", (0.855, 0.761, 0.578), 0.20, "GIA bodycolour cream, sRGB (238, 226, 200)"),
        DielectricSpec("black_pearl", (0.048, 0.054, 0.054), 0.20, "Tahitian, GIA bodycolour black, sRGB (62, 66, 66)"),
        # The knotted thread of a pearl strand: white silk cord, a soft sheen.
        DielectricSpec("silk", (0.839, 0.807, 0.730), 0.60, "white silk cord, sRGB (236, 232, 222)"),
    )
}


def _normalise(name: str) -> str:
    # Accept "Yellow Gold", "yellow-gold", "yellow_gold" alike: ids use hyphens, specs use underscores.
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def _unknown(kind: str, name: str, known: dict[str, object]) -> InputError:
    close = difflib.get_close_matches(_normalise(name), list(known), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return InputError(f"Unknown {kind} {name!r}.{hint} Known: {', '.join(sorted(known))}.")


def metal(name: str) -> MetalSpec:
    """The metal called ``name``; raises :class:`InputError` naming the known metals otherwise."""
    spec = METALS.get(_normalise(name))
    if spec is None:
        raise _unknown("metal", name, dict(METALS))
    return spec


def gem(name: str) -> GemSpec:
    """The gemstone called ``name``; raises :class:`InputError` naming the known gems otherwise."""
    spec = GEMS.get(_normalise(name))
    if spec is None:
        raise _unknown("gem", name, dict(GEMS))
    return spec


def check_names(metal_name: str, stone_name: str | None) -> None:
    """Raise :class:`InputError` (listing the known names) unless ``metal_name`` is a metal and
    ``stone_name``, if given, a gem: a generator calls this before it builds anything."""
    metal(metal_name)
    if stone_name is not None:
        gem(stone_name)


def dielectric(name: str) -> DielectricSpec:
    """The plain non-metal called ``name``; raises :class:`InputError` naming the known ones otherwise."""
    spec = DIELECTRICS.get(_normalise(name))
    if spec is None:
        raise _unknown("dielectric", name, dict(DIELECTRICS))
    return spec


def material_spec(name: str) -> MetalSpec | GemSpec | DielectricSpec:
    """The metal, gem or dielectric called ``name`` (they share one namespace)."""
    key = _normalise(name)
    if key in METALS:
        return METALS[key]
    if key in GEMS:
        return GEMS[key]
    if key in DIELECTRICS:
        return DIELECTRICS[key]
    raise _unknown("material", name, {**METALS, **GEMS, **DIELECTRICS})


def pbr_material(name: str) -> PBRMaterial:
    """A trimesh glTF material for the metal, gem or dielectric ``name``.

    The material's ``name`` is the normalised spec name, so a renderer reading the GLB back can find the
    :class:`GemSpec` (ior, dispersion) with :func:`gem`. Note that trimesh stores ``baseColorFactor`` as
    (4,) uint8, i.e. quantised to 1/255; that quantised value is what goes into the GLB.
    """
    spec = material_spec(name)
    rgba = np.array([*spec.base_color, 1.0], dtype=np.float64)
    return PBRMaterial(
        name=spec.name,
        baseColorFactor=rgba,
        metallicFactor=float(spec.metallic),
        roughnessFactor=float(spec.roughness),
        alphaMode="OPAQUE",
        doubleSided=False,
    )
