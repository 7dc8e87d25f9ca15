"""List prices from materials: more metal, bigger stones, more expensive metals cost more; all items priced."""

from __future__ import annotations

import dataclasses

from tryon.jewelry.catalog import Catalog
from tryon.jewelry.facts import StoneFacts, item_facts
from tryon.jewelry.pricing import PRICES, list_price


def test_prices_follow_the_materials(catalog: Catalog) -> None:
    band = item_facts(catalog, "ring-band-4mm-yellow-gold")
    assert list_price(band, "ring") > list_price(item_facts(catalog, "ring-band-2mm-yellow-gold"), "ring")
    silver = dataclasses.replace(band, metal="silver")
    assert list_price(silver, "ring") < 0.5 * list_price(band, "ring")
    one = StoneFacts("diamond", 1, 6.5, 1.0, 1.0)
    half = StoneFacts("diamond", 1, 5.2, 0.5, 0.5)
    big, small = dataclasses.replace(band, stones=[one]), dataclasses.replace(band, stones=[half])
    # A one-carat stone costs more than twice a half-carat one: per carat, bigger is rarer.
    assert list_price(big, "ring") - list_price(band, "ring") > 2.0 * (list_price(small, "ring") - list_price(band, "ring"))
    # Earrings are sold in pairs.
    assert list_price(band, "earring") > 1.8 * (band.metal_weight_g * PRICES.metal_per_g["yellow_gold"]) * PRICES.markup


def test_every_built_in_item_has_a_price(catalog: Catalog) -> None:
    prices = {i.id: i.price for i in catalog}
    assert all(p is not None and p > 0 for p in prices.values())
    assert prices["ring-solitaire-diamond-6.5mm-platinum"] > prices["ring-band-4mm-platinum"]
    assert prices["hoop-round-25mm-yellow-gold"] > prices["hoop-round-25mm-silver"]
