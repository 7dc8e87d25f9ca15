"""The stylist's rules file: valid, sourced, every topic covered, and bad files refused with the reason."""

from __future__ import annotations

import copy
import json

import pytest

from tryon.errors import AssetError
from tryon.stylist.rules import RULES_FILE, TOPICS, load_rules, rules_from


@pytest.fixture(scope="module")
def data():
    return json.loads(RULES_FILE.read_text(encoding="utf-8"))


def test_shipped_rules_load_and_cover_every_topic():
    rules = load_rules()
    assert {r.topic for r in rules.rules} == set(TOPICS)
    for r in rules.rules:
        assert r.source in rules.sources and len(rules.sources[r.source]) > 40


@pytest.mark.parametrize("undertone", ["warm", "cool", "neutral"])
def test_each_undertone_has_one_metal_rule(undertone):
    found = load_rules().matching("metal", {"undertone": undertone})
    assert len(found) == 1
    assert undertone in found[0].reason_for({"undertone": undertone})


@pytest.mark.parametrize("shape", ["oval", "round", "square", "heart", "long"])
def test_each_face_shape_has_earring_and_necklace_rules(shape):
    rules = load_rules()
    assert rules.matching("earrings", {"face_shape": shape})
    assert rules.matching("necklace", {"face_shape": shape})


def test_ranges_pick_one_rule_and_missing_facts_pick_none():
    rules = load_rules()
    for us in (4.0, 5.75, 7.0, 8.75, 11.0):
        assert len(rules.matching("ring", {"finger_us": us})) == 1
    assert rules.matching("ring", {}) == ()
    text = rules.matching("wrist", {"wrist_mm": 170})[0].reason_for({"wrist_mm": 170, "bracelet_mm": 190})
    assert "170 mm" in text and "190 mm" in text


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["rules"][0].update(source="nowhere"), "unknown source"),
    (lambda d: d["rules"].append(copy.deepcopy(d["rules"][0])), "listed twice"),
    (lambda d: d["rules"][0].update(topic="hats"), "hats"),
    (lambda d: d["rules"][0].update(reason="your {shoe_size} is lovely"), "shoe_size"),
    (lambda d: d["rules"][14]["when"].update(finger_us=[9, 3]), "backwards"),
    (lambda d: d["rules"][0].pop("reason"), "reason"),
])
def test_bad_rules_are_refused_with_the_reason(data, change, message):
    bad = copy.deepcopy(data)
    change(bad)
    with pytest.raises(AssetError, match=message):
        rules_from(bad)
