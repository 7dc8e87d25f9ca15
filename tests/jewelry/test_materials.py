"""Metal and gem PBR parameters, and the trimesh materials made from them."""

from __future__ import annotations

import numpy as np
import pytest
from trimesh.visual.material import PBRMaterial

from tryon.errors import InputError
from tryon.jewelry import materials

REQUIRED_METALS = ("yellow_gold", "rose_gold", "white_gold", "silver", "platinum")
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
