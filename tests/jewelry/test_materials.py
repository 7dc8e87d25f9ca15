"""Metal and gem PBR parameters, and the trimesh materials made from them."""

from __future__ import annotations

import numpy as np
import pytest
from trimesh.visual.material import PBRMaterial

from tryon.errors import InputError
from tryon.jewelry import materials

REQUIRED_METALS = ("yellow_gold", "rose_gold", "white_gold", "silver", "platinum", "stainless_steel")
REQUIRED_GEMS = ("diamond", "ruby", "sapphire", "emerald", "amethyst")


@pytest.mark.parametrize("name", REQUIRED_METALS)
def test_metals_are_metallic_with_physical_reflectance(name: str) -> None:
    spec = materials.metal(name)
    assert spec.metallic == 1.0
    assert all(0.3 <= c <= 1.0 for c in spec.base_color), "F0 of jewelry metals lies in 0.3..1"
    assert 0.05 <= spec.roughness <= 0.3, "polished jewelry"


@pytest.mark.parametrize("name", REQUIRED_GEMS)
def test_gems_are_dielectric(name: str) -> None:
    spec = materials.gem(name)
    assert spec.metallic == 0.0
    assert 1.5 < spec.ior < 2.5
    assert spec.roughness <= 0.05


def test_measured_values() -> None:
    # Hoffman 2015 linear F0: gold (1.000, 0.782, 0.344), silver (0.972, 0.960, 0.915).
    np.testing.assert_allclose(materials.metal("yellow_gold").base_color, (1.0, 0.782, 0.344))
    np.testing.assert_allclose(materials.metal("silver").base_color, (0.972, 0.960, 0.915))
    # ((2.417 - 1) / (2.417 + 1))^2: a diamond facet reflects about 17 % at normal incidence.
    assert materials.gem("diamond").f0 == pytest.approx(0.172, abs=1e-3)
    gold, rose = materials.metal("yellow_gold").base_color, materials.metal("rose_gold").base_color
    assert rose[2] / rose[1] > gold[2] / gold[1], "rose gold is redder (less yellow) than yellow gold"


def test_pbr_material_carries_the_spec() -> None:
    mat = materials.pbr_material("rose_gold")
    spec = materials.metal("rose_gold")
    assert isinstance(mat, PBRMaterial)
    assert mat.name == "rose_gold"
    assert mat.metallicFactor == 1.0
    assert mat.roughnessFactor == pytest.approx(spec.roughness)
    # trimesh keeps baseColorFactor as uint8 RGBA: quantised to 1/255.
    np.testing.assert_allclose(np.asarray(mat.baseColorFactor[:3]) / 255.0, spec.base_color, atol=1 / 255)
    assert mat.baseColorFactor[3] == 255


def test_names_are_normalised() -> None:
    assert materials.metal("Yellow-Gold") is materials.metal("yellow_gold")
    assert materials.pbr_material("white gold").name == "white_gold"
    assert materials.material_spec("Diamond").name == "diamond"


def test_unknown_metal_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="Unknown metal 'yelow_gold'.*'yellow_gold'.*Known: .*platinum"):
        materials.metal("yelow_gold")
    with pytest.raises(InputError, match="Unknown gem 'unobtainium'"):
        materials.gem("unobtainium")
    with pytest.raises(InputError, match="Unknown material"):
        materials.pbr_material("plutonium")


def test_all_materials_are_distinct() -> None:
    colours = {(m.base_color, m.roughness) for m in materials.METALS.values()}
    assert len(colours) == len(materials.METALS)


@pytest.mark.parametrize("name", ["brown_leather", "black_lacquer", "white_lacquer", "luminous_paint"])
def test_dielectrics_are_plain_non_metals_inside_the_pbr_albedo_range(name: str) -> None:
    spec = materials.dielectric(name)
    assert spec.metallic == 0.0 and not hasattr(spec, "ior"), "no gem shading"
    # Allegorithmic's PBR guide: non-metal albedo between about 30 sRGB (0.013 linear) and 240 (0.87).
    assert all(0.012 <= c <= 0.87 for c in spec.base_color)
    assert materials.material_spec(name) is spec
    mat = materials.pbr_material(name)
    assert mat.name == name and mat.metallicFactor == 0.0


def test_watch_materials() -> None:
    steel = materials.metal("stainless_steel")
    # 316L: close to the F0 of its iron and chromium (Hoffman 2015), neutral grey, darker than platinum.
    assert all(0.54 <= c <= 0.60 for c in steel.base_color)
    assert max(steel.base_color) - min(steel.base_color) < 0.02
    assert sum(steel.base_color) < sum(materials.metal("platinum").base_color)
    black, white = materials.dielectric("black_lacquer"), materials.dielectric("white_lacquer")
    assert max(black.base_color) < 0.05 < 0.7 < min(white.base_color)
    leather = materials.dielectric("brown_leather").base_color
    assert leather[0] > leather[1] > leather[2] and leather[0] < 0.3, "brown: red over green over blue, dark"
    assert materials.dielectric("brown_leather").roughness > 0.4, "leather is not polished"
    with pytest.raises(InputError, match="Unknown dielectric 'vinyl'"):
        materials.dielectric("vinyl")


def test_dielectric_round_trips_through_glb_into_render_parameters() -> None:
    import io

    import trimesh

    from tryon.render.scene import ItemModel

    box = trimesh.creation.box((0.01, 0.01, 0.01))
    box.visual = trimesh.visual.TextureVisuals(material=materials.pbr_material("brown_leather"))
    scene = trimesh.Scene()
    scene.add_geometry(box, node_name="band_strap", geom_name="band_strap")
    loaded = trimesh.load(io.BytesIO(scene.export(file_type="glb")), file_type="glb", force="scene")
    (part,) = ItemModel("strap", loaded).parts
    spec = materials.dielectric("brown_leather")
    assert part.material.base_color == spec.base_color  # our spec by name, not the 8-bit glTF factors
    assert (part.material.metallic, part.material.roughness, part.material.ior) == (0.0, spec.roughness, 0.0)


def test_check_names_accepts_a_metal_and_a_gem_and_names_what_is_unknown() -> None:
    materials.check_names("Rose Gold", "diamond")
    materials.check_names("platinum", None)
    with pytest.raises(InputError, match="Unknown metal 'gold'"):
        materials.check_names("gold", "diamond")
    with pytest.raises(InputError, match="Unknown gem 'glass'"):
        materials.check_names("silver", "glass")
