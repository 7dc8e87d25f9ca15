"""The HTTP API's request and response bodies (they are what /docs shows)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tryon.jewelry.catalog import Catalog, Item
from tryon.jewelry.places import MAX_PER_SITE, PLACES

MAX_ITEMS = 16  # pieces asked for at once
MAX_SPEC_CHARS = 200  # one "id@where"
ItemSpec = Annotated[str, Field(max_length=MAX_SPEC_CHARS)]


class Price(BaseModel):
    amount: float
    currency: str


class VariantChoice(BaseModel):
    """One chip of a piece's variants: `set_variant` with this value gives `item`; `also` is what else that
    changes, with the new values (empty where only this value changes)."""

    value: str | float
    item: str
    also: dict[str, str | float | None] = Field(default_factory=dict)


class ItemSummary(BaseModel):
    """One catalog item as the catalog lists it. `places`: where it can be asked for ("id@where"), its site
    first (the default). `variants`: per attribute its family varies in ("metal", "stone", "size_mm"), the
    values a chip offers from this piece and the member each gives."""

    id: str
    name: str
    kind: str
    site: str
    family: str
    family_name: str
    metal: str | None = None
    stone: str | None = None
    size_mm: float | None = None
    dimensions_mm: dict[str, float] = Field(default_factory=dict)
    places: list[str]
    price: Price | None = None
    thumbnail: str
    model: str
    variants: dict[str, list[VariantChoice]] = Field(default_factory=dict)


class ItemDetail(ItemSummary):
    """An item with everything the catalog holds about it and `facts`: metal volume and weight in grams for
    its alloy, stones with their carat weight, the thinnest metal against the minimum wall."""

    model_config = ConfigDict(extra="allow")
    facts: dict[str, Any] | None = None


class Site(BaseModel):
    places: dict[str, list[str]]
    max_per_anchor: int


class ItemList(BaseModel):
    """`default`: the items worn at first. `sites`: per site, the anchor points each place covers and how many
    items one of them holds."""

    items: list[ItemSummary]
    default: list[str]
    sites: dict[str, Site]


def item_summary(item: Item, catalog: Catalog | None = None) -> ItemSummary:
    """The one place an item's JSON for the API is made; its variants where the catalog holding it is given."""
    data = item.to_json()
    variants = {} if catalog is None else {
        attr: [VariantChoice(value=c.value, item=c.item_id, also=dict(c.also)) for c in choices]
        for attr, choices in catalog.variant_choices(item).items()}
    return ItemSummary(id=item.id, name=item.name, kind=item.kind, site=item.site, family=item.family,
                       family_name=item.family_name, metal=item.metal, stone=item.stone, size_mm=item.size_mm,
                       dimensions_mm=dict(item.dimensions_mm), places=list(PLACES.get(item.site, {})),
                       price=data.get("price"), thumbnail=f"/api/items/{item.id}/thumbnail.png",
                       model=f"/api/items/{item.id}/model.glb", variants=variants)


def item_detail(item: Item, facts: dict[str, Any] | None, catalog: Catalog | None = None) -> ItemDetail:
    extra = {k: v for k, v in item.to_json().items() if k not in ItemSummary.model_fields}
    return ItemDetail(**item_summary(item, catalog).model_dump(), **extra, facts=facts)


def site_table() -> dict[str, Site]:
    return {s: Site(places={w: list(anchors) for w, anchors in places.items()},
                    max_per_anchor=MAX_PER_SITE.get(s, 1)) for s, places in PLACES.items()}


class Offer(BaseModel):
    sdp: str = Field(max_length=200_000, description="the browser's offer SDP")
    type: Literal["offer"]
    items: list[ItemSpec] = Field(default_factory=list, max_length=MAX_ITEMS,
                                  description="what to wear at first: item ids, each optionally with a place, "
                                              "'id@where' (rings: 'ring', 'index', 'left_ring', ...; wrist "
                                              "pieces: 'wrist', 'left_wrist', 'right_wrist'; necklaces and "
                                              "pendants: 'neck', two of them layered)")
    utc_offset_min: int | None = Field(None, ge=-16 * 60, le=16 * 60,
                                       description="the shopper's UTC offset in minutes, so watches show their "
                                                   "time (default: the server's)")
    kiosk: bool = Field(False, description="an in-store kiosk mirror: its snapshot and clip links live the kiosk's "
                                           "link TTL, the face tracker always runs (is anyone there?), and links "
                                           "no phone opened are deleted when the session ends")


class Answer(BaseModel):
    sdp: str
    type: Literal["answer"] = "answer"
    session: str


class Health(BaseModel):
    """`sessions`: every session, connected or still connecting; `seats`: those holding a live seat;
    `pending`: offers answered but not yet connected."""

    ok: bool
    sessions: int
    seats: int
    pending: int
    max_sessions: int


class Problem(BaseModel):
    """Every error: one line for the user."""

    detail: str
