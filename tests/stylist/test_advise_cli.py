"""`tryon advise PHOTO [--json]`: the stylist from the command line."""

from __future__ import annotations

import json

from PIL import Image

from tryon.cli import main


def test_advise_json_and_text(astronaut, tmp_path, capsys):
    photo = tmp_path / "me.png"
    Image.fromarray(astronaut).save(photo)
    assert main(["advise", str(photo), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["undertone"]["label"] in ("warm", "cool", "neutral")
    assert {s["topic"] for s in body["suggestions"]} >= {"metal", "earrings", "necklace"}
    assert main(["advise", str(photo)]) == 0
    text = capsys.readouterr().out
    assert "undertone:" in text and "cm chain sits" in text and "try:" in text


def test_advise_a_missing_photo_is_an_input_error(tmp_path, capsys):
    assert main(["advise", str(tmp_path / "none.jpg")]) == 2
    assert "error" in capsys.readouterr().err
