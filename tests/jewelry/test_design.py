"""Design variations: distinct, valid, honouring what was fixed, reproducible from the seed."""

from __future__ import annotations

import pytest

from tryon.errors import InputError
from tryon.jewelry.design import uses, variations


@pytest.mark.parametrize("kind", ["ring", "earring", "pendant"])
def test_distinct_valid_designs(kind):
    designs = variations(kind, {}, 5, seed=3)
    ids = [item.id for item, _ in designs]
    assert len(set(ids)) == 5 and all(i.startswith(f"design-{kind}-") for i in ids)
    for _, build in designs[:2]:
        scene = build()
        assert scene.geometry  # the builder accepted the drawn parameters
    assert [i.id for i, _ in variations(kind, {}, 5, seed=3)] == ids  # same seed, same designs
    assert [i.id for i, _ in variations(kind, {}, 5, seed=4)] != ids


def test_fixed_parameters_are_kept():
    designs = variations("ring", {"band_width_mm": 3, "stone_mm": 6.5, "metal": "rose-gold"}, 4, seed=1)
    for item, _ in designs:
        assert item.metal == "rose_gold"
        assert item.dimensions_mm["band_width_mm"] == 3.0 and item.dimensions_mm["stone_mm"] == 6.5
        assert item.stone is not None  # a band has no stone: only styles with stones use stone_mm
    pendants = variations("pendant", {"style": "initial", "letter": "q"}, 3, seed=0)
    assert all("Q" in item.name and item.kind == "pendant" and item.site == "neck" for item, _ in pendants)


@pytest.mark.parametrize("fixed, count, message", [
    ({"stone_mm": 30}, 2, "within 4..8"),
    ({"colour": "red"}, 2, "no parameter colour"),
    ({"metal": "bronze"}, 2, "metal is one of"),
    ({"style": "band", "band_width_mm": 3, "metal": "silver"}, 2, "Only 1 distinct"),
    ({}, 0, "between 1 and 200"),
    ({"style": "halo", "band_width_mm": 5.0}, 1, "No ring can be made with these parameters: Band width 5"),
])
def test_impossible_requests_are_refused_clearly(fixed, count, message):
    with pytest.raises(InputError, match=message):
        variations("ring", fixed, count)


def test_what_each_style_uses():
    assert uses("ring", "band") == {"style", "metal", "band_width_mm"}
    assert uses("earring", "hoop") == {"style", "metal", "diameter_mm", "wire_mm"}
    assert "letter" in uses("pendant", "initial") and "stone" not in uses("pendant", "heart")
    with pytest.raises(InputError, match="style is one of"):
        uses("ring", "stud")
