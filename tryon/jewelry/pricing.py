"""A list price for each catalog item, from what it is made of (tryon.jewelry.facts) and a price table.

The built-in items are designs, not a shop's stock, so their prices are a model a shop would replace with its
own: metal by weight (the alloy's metal content at a round market price), stones by carat (dearer per carat as
stones grow), pearls each, a making charge per kind, then a retail mark-up. Amounts in US dollars, rounded to
whole dollars. Change PRICES (or build with your own) and `tryon catalog build` rewrites catalog.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tryon.jewelry.facts import ItemFacts
from tryon.jewelry.necklaces import PEARLS


@dataclass(frozen=True)
class PriceTable:
    # Per gram of the alloy: 18k golds are 75 % gold (at about $85 a gram of fine gold), Pt 950 is 95 %
    # platinum (about $32 a gram), sterling 92.5 % silver (about $1 a gram), steel costs next to nothing.
    metal_per_g: dict[str, float] = field(default_factory=lambda: {
        "yellow_gold": 64.0, "white_gold": 66.0, "rose_gold": 64.0, "platinum": 31.0, "silver": 1.0,
        "stainless_steel": 0.05})
    # Per carat for a one-carat stone; per carat it scales as carats ** stone_size_power (bigger is rarer).
    stone_per_ct: dict[str, float] = field(default_factory=lambda: {
        "diamond": 4500.0, "ruby": 1800.0, "sapphire": 1200.0, "emerald": 1000.0, "amethyst": 25.0,
        "topaz": 30.0, "aquamarine": 150.0, "garnet": 40.0})
    stone_size_power: float = 0.6
    pearl_each: float = 18.0
    making: dict[str, float] = field(default_factory=lambda: {
        "earring": 45.0, "ring": 120.0, "bracelet": 150.0, "watch": 350.0, "necklace": 60.0, "pendant": 90.0})
    markup: float = 2.2


PRICES = PriceTable()


def list_price(facts: ItemFacts, kind: str, table: PriceTable = PRICES) -> float:
    """The item's list price in CURRENCY (whole units): materials and making, times the mark-up. Earrings
    are sold in pairs (the catalog item, and its facts, are one earring)."""
    cost = facts.metal_weight_g * table.metal_per_g.get(facts.metal, 0.0) + table.making.get(kind, 100.0)
    for stone in facts.stones:
        if stone.name in PEARLS:
            cost += table.pearl_each * stone.count
        else:
            per_ct = table.stone_per_ct.get(stone.name, 50.0) * max(stone.carat_each, 0.01) ** table.stone_size_power
            cost += per_ct * stone.carat_total
    pieces = 2 if kind == "earring" else 1
    return float(round(pieces * cost * table.markup))
