"""A variant chip never changes what it does not say (issue 24): the choices Catalog.variant_choices offers per
piece, the member each gives (the same as set_variant's Catalog.variant), and what else that member changes."""

import pytest
from conftest import BASE
from fastapi.testclient import TestClient

from tryon.body import US_SIZES_SOLD, ring_size_text
from tryon.config import Settings
from tryon.jewelry.catalog import VARIANT_ATTRS
from tryon.server.app import create_app

PEAR = "drop-diamond-pear-8mm-white-gold"


def _family(catalog, item):
    return [i for i in catalog if i.family == item.family]


def test_the_pear_drops_silver_chip_says_it_brings_an_amethyst_and_10_mm(catalog):
    # Before: the page offered "Silver" from the family's metals, and choosing it gave the 10 mm amethyst drop
    # with nothing said (there is no silver diamond drop, nor an 8 mm silver one).
    choices = catalog.variant_choices(PEAR)
    silver = next(c for c in choices["metal"] if c.value == "silver")
    target = catalog.get(silver.item_id)
    assert (target.stone, target.size_mm) == ("diamond", 8.0) or dict(silver.also) == {
        "stone": target.stone, "size_mm": target.size_mm}
    assert dict(silver.also) == {"stone": "amethyst", "size_mm": 10.0}
    assert catalog.variant(PEAR, metal="silver").id == silver.item_id  # what the chip says is what it does
    # Its own values change nothing else.
    assert all(not c.also for attr, cs in choices.items() for c in cs if c.value == getattr(catalog.get(PEAR), attr))


def test_every_choice_changes_only_its_value_and_what_it_names(catalog):
    for item in catalog:
        for attr, choices in catalog.variant_choices(item).items():
            for choice in choices:
                target = catalog.get(choice.item_id)
                assert getattr(target, attr) == choice.value and target.family == item.family
                changed = {k: getattr(target, k) for k in VARIANT_ATTRS if k != attr
                           and getattr(target, k) != getattr(item, k)}
                assert changed == dict(choice.also), (item.id, attr, choice)
                assert catalog.variant(item.id, **{attr: choice.value}).id == choice.item_id
                # Where a member differs from the piece in this value alone, the chip gives that one.
                alone = [m for m in _family(catalog, item) if getattr(m, attr) == choice.value and all(
                    getattr(m, k) == getattr(item, k) for k in VARIANT_ATTRS if k != attr)]
                assert not alone or choice.item_id == alone[0].id


def test_40_mm_then_another_metal_stays_40_mm_where_the_family_has_it(catalog):
    # The knife-edge hoop comes in 40 mm yellow and white gold: 40 mm, then white gold, is the 40 mm white hoop.
    big = catalog.variant("hoop-knife-25mm-yellow-gold", size_mm=40.0)
    white = next(c for c in catalog.variant_choices(big)["metal"] if c.value == "white_gold")
    assert catalog.get(white.item_id).size_mm == 40.0 and not white.also
    # The round hoop's 40 mm is yellow gold only: its rose gold chip says it goes back to 25 mm (before: silently).
    big = catalog.variant("hoop-round-25mm-rose-gold", size_mm=40.0)
    rose = next(c for c in catalog.variant_choices(big)["metal"] if c.value == "rose_gold")
    assert dict(rose.also) == {"size_mm": 25.0}
    # Over the catalog: size, then metal, keeps the size wherever that size comes in that metal and stone.
    for item in catalog:
        choices = catalog.variant_choices(item)
        for size in choices.get("size_mm", ()):
            sized = catalog.get(size.item_id)
            for metal in catalog.variant_choices(sized).get("metal", ()):
                exists = any(m.metal == metal.value and m.size_mm == sized.size_mm and m.stone == sized.stone
                             for m in _family(catalog, item))
                assert not exists or catalog.get(metal.item_id).size_mm == sized.size_mm


def test_the_items_api_lists_each_pieces_choices(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path)), base_url=BASE) as client:
        items = {i["id"]: i for i in client.get("/api/items").json()["items"]}
        one = client.get(f"/api/items/{PEAR}").json()
    # Before: no "variants": the page made its chips from every value of the family.
    for body in (items[PEAR], one):
        silver = next(c for c in body["variants"]["metal"] if c["value"] == "silver")
        assert silver == {"value": "silver", "item": "drop-amethyst-pear-10mm-silver",
                          "also": {"stone": "amethyst", "size_mm": 10.0}}
        assert [c["value"] for c in body["variants"]["size_mm"]] == [8.0, 10.0]
    assert all(set(i["variants"]) <= set(VARIANT_ATTRS) and "metal" in i["variants"] for i in items.values())


@pytest.mark.parametrize(("us", "eu", "text"), [
    (0.25, 37.2, "below US 3 / EU 44"),  # before, `tryon anchors` printed "US 0.25, EU 37.2"
    (2.5, 43.0, "below US 3 / EU 44"),
    (2.75, 44.0, "US 3, EU 44"),
    (6.75, 53.8, "US 7, EU 54"),
    (5.25, 49.6, "US 5.5, EU 50"),
    (12.75, 68.7, "US 13, EU 69"),
    (13.25, 70.3, "above US 13 / EU 70"),
    (16.0, 77.4, "above US 13 / EU 70"),
])
def test_a_measured_ring_size_is_a_size_sold_or_says_it_is_outside(us, eu, text):
    assert US_SIZES_SOLD == (3.0, 13.0)  # web/format.js's US_SIZE_RANGE says the same
    assert ring_size_text(us, eu) == text
