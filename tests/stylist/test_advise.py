"""The stylist's suggestions from given measures: every topic, the reasons in words, pieces that fit."""

from __future__ import annotations

from tryon.anchors.face_shape import FaceShape
from tryon.anchors.skin import Undertone
from tryon.jewelry.catalog import Catalog
from tryon.stylist.advise import suggest
from tryon.stylist.rules import load_rules

WARM = Undertone("warm", 0.9, 66.0, (65.0, 12.0, 28.0), 500)
COOL = Undertone("cool", 0.9, 44.0, (65.0, 18.0, 17.0), 500)
ROUND = FaceShape("round", 0.8, {"length": 1.08, "jaw": 0.78, "forehead": 0.85})
HANDS = {"hands": [{"side": "left", "fingers": {"ring": {"us": 9.5}}, "wrist_circumference_mm": 172.0}],
         "face_width_mm": 150.0}


def _by_topic(out):
    return {s.topic: s for s in out if s.topic != "earrings"} | {"earrings": [s for s in out if s.topic == "earrings"]}


def test_every_topic_with_reasons_and_fitting_pieces():
    cat = Catalog.load()
    got = _by_topic(suggest(cat, load_rules(), WARM, ROUND, HANDS))
    assert set(got) == {"metal", "earrings", "necklace", "ring", "wrist"}
    assert got["metal"].reason.startswith("warm undertone: yellow and rose gold")
    assert all(cat.get(i).metal in ("yellow_gold", "rose_gold") for i in got["metal"].items)
    assert got["ring"].reason.startswith("broad fingers (US 9.5)")
    assert all(4.0 <= cat.get(i).dimensions_mm["band_width"] <= 8.0 for i in got["ring"].items)
    assert "172 mm round" in got["wrist"].reason and "192 mm long" in got["wrist"].reason
    necklace = got["necklace"]
    assert "a 50 cm chain sits" in necklace.reason and "on an average build" in necklace.reason  # no neck measured
    drops = [f["below_notch_cm"] for f in necklace.detail["lengths"]]
    assert drops == sorted(drops) and drops[0] > 0  # a longer chain falls lower
    shaped = next(s for s in got["earrings"] if s.rule == "earrings-round")
    assert all(cat.get(i).family in ("drop-pear", "drop-round", "hoop-knife") for i in shaped.items)
    assert cat.get(shaped.items[0]).metal in ("yellow_gold", "rose_gold")  # the suggested metals first


def test_cool_skin_gets_white_metals_and_no_hand_no_ring():
    got = _by_topic(suggest(Catalog.load(), load_rules(), COOL, None, {}))
    assert set(got["metal"].detail["metals"]) == {"white_gold", "platinum", "silver"}
    assert "ring" not in got and "wrist" not in got and "necklace" not in got
    assert got["earrings"] == []


def test_a_wider_neck_moves_the_chain_up():
    cat, rules = Catalog.load(), load_rules()
    small = _by_topic(suggest(cat, rules, WARM, ROUND, {"neck": {"scale": 0.9}}))["necklace"]
    large = _by_topic(suggest(cat, rules, WARM, ROUND, {"neck": {"scale": 1.2}}))["necklace"]
    assert "below your collarbone notch" in small.reason
    assert large.detail["lengths"][0]["below_notch_cm"] < small.detail["lengths"][0]["below_notch_cm"]


def test_the_neck_sets_lengths_and_no_chain_is_shorter_than_it_can_close():
    cat, rules = Catalog.load(), load_rules()
    long_face = FaceShape("long", 1.0, {})
    slender = [s for s in suggest(cat, rules, WARM, long_face, {"neck": {"scale": 0.9, "circumference_mm": 320.0}})
               if s.topic == "necklace"]
    assert any(s.rule == "necklace-neck-slender" and "320 mm round" in s.reason for s in slender)
    broad = [s for s in suggest(cat, rules, WARM, long_face, {"neck": {"scale": 1.2, "circumference_mm": 400.0}})
             if s.topic == "necklace"]
    assert any(s.rule == "necklace-neck-broad" for s in broad)
    for s in broad:  # 40 cm round: nothing under 45 cm
        assert all(f["length_cm"] >= 45 for f in s.detail["lengths"])
        assert all(cat.get(i).dimensions_mm["length"] >= 420 for i in s.items)
