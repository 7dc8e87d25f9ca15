"""Design from words: phrasings -> the parameters `tryon design` takes, refusals with their reasons, and a prompt
made into a priced piece that a photo can wear."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from tryon.errors import InputError
from tryon.jewelry.facts import round_brilliant_carat
from tryon.jewelry.prompt import carat_to_mm, parse, tokenize

UNDERSTOOD = [
    ("rose gold halo ring with a 7 mm sapphire, thin band",
     "ring", {"metal": "rose_gold", "style": "halo", "stone": "sapphire", "stone_mm": 7.0, "band_width_mm": 2.0}),
    ("rose gold halo ring with a 7 mm oval sapphire, thin band",
     "ring", {"metal": "rose_gold", "style": "halo", "stone": "sapphire", "stone_mm": 7.0, "band_width_mm": 2.0,
              "cut": "oval"}),
    ("oval cut diamond solitaire in platinum", "ring", {"cut": "oval", "stone": "diamond", "style": "solitaire",
                                                        "metal": "platinum"}),
    ("18k yellow gold solitaire ring with a 1 carat diamond",
     "ring", {"metal": "yellow_gold", "style": "solitaire", "stone": "diamond", "stone_mm": 6.5}),
    ("a thin platinum band", "ring", {"metal": "platinum", "style": "band", "band_width_mm": 2.2}),
    ("3mm wide white gold wedding band", "ring", {"metal": "white_gold", "style": "band", "band_width_mm": 3.0}),
    ("a chunky 5 mm silver band", "ring", {"metal": "silver", "style": "band", "band_width_mm": 5.0}),
    ("chunky halo ring", "ring", {"style": "halo", "band_width_mm": 3.6}),
    ("seven millimetre ruby solitaire ring in platinum",
     "ring", {"stone": "ruby", "metal": "platinum", "style": "solitaire", "stone_mm": 7.0}),
    ("a seven point five millimetre diamond solitaire ring",
     "ring", {"stone": "diamond", "style": "solitaire", "stone_mm": 7.5}),
    ("one and a half carat diamond ring", "ring", {"stone": "diamond", "stone_mm": 7.4}),
    ("1.5 ct sapphire halo ring", "ring", {"stone": "sapphire", "style": "halo", "stone_mm": 7.1}),
    ("a red stone solitaire ring", "ring", {"stone": "ruby", "style": "solitaire"}),
    ("blue sapphire halo ring", "ring", {"stone": "sapphire", "style": "halo"}),
    ("an emerald ring", "ring", {"stone": "emerald"}),
    ("18ct rose gold band", "ring", {"metal": "rose_gold", "style": "band"}),
    ("red gold band 4 mm wide", "ring", {"metal": "rose_gold", "style": "band", "band_width_mm": 4.0}),
    ("pink gold band", "ring", {"metal": "rose_gold", "style": "band"}),
    ("925 sterling silver band", "ring", {"metal": "silver", "style": "band"}),
    ("pt950 platinum solitaire", "ring", {"metal": "platinum", "style": "solitaire"}),
    ("plat solitaire ring", "ring", {"metal": "platinum", "style": "solitaire"}),
    ("rose gold and diamond halo ring", "ring", {"metal": "rose_gold", "stone": "diamond", "style": "halo"}),
    ("a dainty white gold ring with a small emerald",
     "ring", {"metal": "white_gold", "stone": "emerald", "band_width_mm": 2.0, "stone_mm": 4.75}),
    ("a platinum ring with a half carat diamond and a thin band",
     "ring", {"metal": "platinum", "stone": "diamond", "stone_mm": 5.2, "band_width_mm": 2.0}),
    ("Rose-Gold HALO ring, 6.5mm round brilliant diamond",
     "ring", {"metal": "rose_gold", "style": "halo", "stone": "diamond", "stone_mm": 6.5}),
    ("an engagement ring with a 0.7 cm sapphire", "ring", {"stone": "sapphire", "stone_mm": 7.0}),
    ("half carat diamond studs in white gold",
     "earring", {"stone": "diamond", "metal": "white_gold", "style": "stud", "stone_mm": 5.2}),
    ("small ruby studs", "earring", {"stone": "ruby", "style": "stud", "stone_mm": 3.75}),
    ("3/4 carat ruby studs", "earring", {"stone": "ruby", "style": "stud", "stone_mm": 5.6}),
    ("Diamond studs, 6 mm, platinum.", "earring", {"stone": "diamond", "metal": "platinum", "style": "stud",
                                                   "stone_mm": 6.0}),
    ("gold studs 5mm", "earring", {"metal": "yellow_gold", "style": "stud", "stone_mm": 5.0}),
    ("30 mm gold hoops", "earring", {"metal": "yellow_gold", "style": "hoop", "diameter_mm": 30.0}),
    ("large thin silver hoops", "earring", {"metal": "silver", "style": "hoop", "diameter_mm": 38.0,
                                            "wire_mm": 1.4}),
    ("hoops 25mm across with 2 mm wire", "earring", {"style": "hoop", "diameter_mm": 25.0, "wire_mm": 2.0}),
    ("thin hoops", "earring", {"style": "hoop", "wire_mm": 1.4}),
    ("huge hoops in platinum", "earring", {"metal": "platinum", "style": "hoop", "diameter_mm": 38.0}),
    ("gold huggies", "earring", {"metal": "yellow_gold", "style": "hoop"}),
    ("one inch white gold hoop earrings", "earring", {"metal": "white_gold", "style": "hoop", "diameter_mm": 25.4}),
    ("pear drop earrings with emeralds", "earring", {"stone": "emerald", "style": "drop"}),
    ("teardrop sapphire earrings in rose gold", "earring", {"stone": "sapphire", "metal": "rose_gold",
                                                           "style": "drop"}),
    ("dangly ruby earrings", "earring", {"stone": "ruby", "style": "drop"}),
    ("initial A pendant on a 16 inch box chain",
     "pendant", {"letter": "A", "chain": "box", "style": "initial", "length_mm": 406.4}),
    ("the letter k necklace in silver", "pendant", {"letter": "K", "metal": "silver", "style": "initial"}),
    ("an M initial pendant, 45 cm rope chain",
     "pendant", {"letter": "M", "chain": "rope", "style": "initial", "length_mm": 450.0}),
    ("initial pendant", "pendant", {"style": "initial"}),
    ("heart pendant 12 mm, rose gold, princess length",
     "pendant", {"metal": "rose_gold", "length_mm": 450.0, "style": "heart", "size_mm": 12.0}),
    ('coin pendant on an 18" cable chain', "pendant", {"chain": "cable", "style": "coin", "length_mm": 457.2}),
    ("a gold coin necklace, matinee length", "pendant", {"metal": "yellow_gold", "length_mm": 550.0,
                                                         "style": "coin"}),
    ("solitaire pendant with a 6mm emerald", "pendant", {"stone": "emerald", "style": "solitaire", "stone_mm": 6.0}),
    ("an 18-inch rose-gold rope chain with a small heart",
     "pendant", {"metal": "rose_gold", "chain": "rope", "style": "heart", "length_mm": 457.2, "size_mm": 11.0}),
    ("a long silver box chain with an initial B",
     "pendant", {"metal": "silver", "chain": "box", "letter": "B", "style": "initial", "length_mm": 560.0}),
    ("short cable chain necklace with a coin", "pendant", {"chain": "cable", "style": "coin", "length_mm": 400.0}),
    ("a delicate diamond solitaire necklace", "pendant", {"stone": "diamond", "style": "solitaire",
                                                          "stone_mm": 4.75}),
    ("a 1/2 ct diamond solitaire pendant on a 20 inch chain",
     "pendant", {"stone": "diamond", "style": "solitaire", "length_mm": 508.0, "stone_mm": 5.2}),
    ("a yellow gold heart shaped pendant", "pendant", {"metal": "yellow_gold", "style": "heart"}),
    ("50 cm chain with a 15mm coin", "pendant", {"style": "coin", "length_mm": 500.0, "size_mm": 15.0}),
    ("a sapphire pendant", "pendant", {"stone": "sapphire"}),
    ("a choker with a medallion", "pendant", {"style": "coin", "length_mm": 400.0}),
]

REFUSED = [
    ("oval sapphire stud earrings", "'oval' is made only as a ring's centre stone"),
    ("an oval diamond solitaire pendant", "'oval' is made only as a ring's centre stone"),
    ("princess cut diamond ring", "'princess cut' is not a cut"),
    ("emerald cut diamond ring", "'emerald cut' is not a cut"),
    ("a heart diamond ring", "'heart diamond' is not a cut"),
    ("a marquise ruby ring", "'marquise' is not a cut"),
    ("pear sapphire solitaire ring", "'pear' is made only as a drop earring"),
    ("drop earrings with round diamonds", "drop earrings hang pear-shaped"),
    ("gold and silver ring", "'gold and silver' gives the metal two values"),
    ("white and yellow gold ring", "'white and yellow gold' asks for two metals"),
    ("a ring with a 7 mm and 9 mm stone", "'7 mm and 9 mm' gives the stone two values"),
    ("ruby and sapphire ring", "'ruby and sapphire' gives the stone two values"),
    ("a ring and earrings", "asks for more than one piece"),
    ("stud and hoop earrings", "asks for two styles"),
    ("a ring with a 40 mm stone", "'40 mm' is out of range: a ring's stone is made from 4 to 8 mm"),
    ("two carat diamond solitaire", "'two carat' is out of range"),
    ("titanium ring", "'titanium' is not a metal"),
    ("a stainless steel band", "'stainless steel' is not a metal"),
    ("14k gold band", "'14k' gold is not made"),
    ("585 gold ring", "'585 gold' is not made"),
    ("a brooch with rubies", "'brooch' is not a piece"),
    ("a gold watch", "'watch' is not a piece"),
    ("a diamond tennis bracelet", "'tennis bracelet' is not a piece"),
    ("a pearl pendant", "'pearl' is not a stone"),
    ("an amethyst ring", "'amethyst' is not a stone"),
    ("pink sapphire ring", "'pink sapphire' is not made: sapphires are made blue"),
    ("a purple stone ring", "'purple stone' is not made"),
    ("curb chain necklace", "'curb' is not a chain"),
    ("diamond eternity ring", "'eternity' is not a style"),
    ("halo earrings", "'halo' does not go with earrings"),
    ("heart ring in gold", "'heart' does not go with a ring"),
    ("silver hoops with a diamond", "'hoops' with 'diamond' do not go together"),
    ("an initial pendant with a ruby", "'initial' with 'ruby' do not go together"),
    ("size 7 ring", "'size 7' is a ring size"),
    ("opera length necklace", "'opera length' is out of range"),
    ("14 inch chain with a heart", "'14 inch' is out of range"),
    ("a 2 mm box chain", "'2 mm' sizes a chain's links"),
    ("a 3 cm heart pendant", "'3 cm' is out of range: a pendant's size is made from 9 to 20 mm"),
    ("a rose gold piece", "say which piece"),
    ("a ring with a 7 sapphire", "'7' is a number without a unit"),
    ("", "Say what to design"),
]


@pytest.mark.parametrize("text, kind, expected", UNDERSTOOD, ids=[t for t, _, _ in UNDERSTOOD])
def test_phrasings_give_the_design_parameters(text, kind, expected):
    request = parse(text)
    assert request.kind == kind
    assert request.fixed == pytest.approx(expected) and set(request.fixed) == set(expected)
    assert set(request.said) == set(request.fixed)  # each parameter names the words it came from


@pytest.mark.parametrize("text, reason", REFUSED, ids=[t or "empty" for t, _ in REFUSED])
def test_what_cannot_be_made_is_refused_with_the_words_at_fault(text, reason):
    with pytest.raises(InputError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse(text)


def test_enough_phrasings_are_tested():
    assert len(UNDERSTOOD) + len(REFUSED) >= 60 and len(REFUSED) >= 20


def test_the_kind_given_fills_in_and_is_not_contradicted():
    assert parse("rose gold, 7 mm sapphire", kind="ring").fixed == {"metal": "rose_gold", "stone": "sapphire",
                                                                   "stone_mm": 7.0}
    with pytest.raises(InputError, match="'hoops' names another piece than the ring"):
        parse("gold hoops", kind="ring")


def test_filler_is_ignored_and_tokens_keep_units_apart():
    assert tokenize('18k rose-gold 7mm 16" ring') == ["18", "k", "rose", "gold", "7", "mm", "16", '"', "ring"]
    plain = parse("rose gold halo ring with a 7 mm sapphire")
    chatty = parse("hi! could you please make me a lovely rose gold halo ring with a 7 mm sapphire for my wife")
    assert chatty.fixed == plain.fixed
    assert parse("a blue ring with a sapphire").notes  # a colour of the piece: understood, not a parameter


def test_carats_follow_the_round_brilliant_chart_and_the_stones_density():
    assert carat_to_mm(1.0) == 6.5 and carat_to_mm(0.5) == 5.2 and carat_to_mm(2.0) == 8.2
    for ct in (0.3, 0.75, 1.0, 1.5):  # the facts' jeweller's formula (60 % depth) reads the weight back
        d = carat_to_mm(ct)
        assert round_brilliant_carat(d, 0.6 * d) == pytest.approx(ct, rel=0.12)
    assert carat_to_mm(1.0, "sapphire") < carat_to_mm(1.0) < carat_to_mm(1.0, "emerald")  # denser is smaller


TRYON = [sys.executable, "-m", "tryon.cli"]


def test_design_from_words_on_the_command_line_then_worn(tmp_path):
    from skimage import data

    env = {**os.environ, "TRYON_DATA_DIR": str(tmp_path / "data")}
    made = subprocess.run([*TRYON, "design", "--prompt", "a small rose gold heart pendant on a 45 cm box chain",
                           "--metal", "silver", "--json"], capture_output=True, text=True, env=env, timeout=300)
    assert made.returncode == 0, made.stderr
    out = json.loads(made.stdout)
    assert out["kind"] == "pendant" and out["parameters"] == {"metal": "silver", "chain": "box", "style": "heart",
                                                              "length_mm": 450.0, "size_mm": 11.0}
    assert out["said"]["metal"] == "--metal" and out["said"]["chain"] == "box"  # the flag overrides the words
    (item,) = out["items"]
    assert item["price"]["amount"] > 0 and item["metal"] == "silver" and item["dimensions_mm"]["length"] == 450.0
    assert (tmp_path / "data" / "catalog" / item["thumbnail"]).is_file()
    listed = subprocess.run([*TRYON, "catalog", "list"], capture_output=True, text=True, env=env, timeout=300)
    assert item["id"] in listed.stdout
    photo, rendered = tmp_path / "astronaut.png", tmp_path / "out.png"
    cv2.imwrite(str(photo), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    r = subprocess.run([*TRYON, "render", photo, "-o", rendered, "--item", item["id"]],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert np.abs(cv2.imread(str(rendered)).astype(int) - cv2.imread(str(photo)).astype(int)).sum() > 0  # worn
    refused = subprocess.run([*TRYON, "design", "--prompt", "a titanium ring"], capture_output=True, text=True,
                             env=env, timeout=300)
    assert refused.returncode != 0 and "'titanium' is not a metal" in refused.stderr
