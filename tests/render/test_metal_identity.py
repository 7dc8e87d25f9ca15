"""Metal keeps its identity in every room (issue 21): yellow, rose and white gold, silver and platinum worn on real
portraits in front of blue, green, red, purple, black and white walls keep their metal's CIELAB hue and chroma
within the bounds of tryon.tools.metal_identity, and still follow the room's brightness and tint. Everything
goes through the product's pipeline (the compositor included), as `tryon render` does."""

import numpy as np
import pytest
from conftest import load_rgb

from tryon.pipeline import Pipeline, PipelineOptions
from tryon.tools import metal_identity as mi
from tryon.types import Frame

ROOM_PORTRAITS = mi.PORTRAITS[:2]  # the room's light is read off two of them (each room costs a pipeline run)


@pytest.fixture(scope="module")
def pipe():
    with mi.catalog() as cat, Pipeline(cat, (), PipelineOptions(mode="image")) as p:
        yield p


@pytest.fixture(scope="module")
def portraits():
    return {rel: mi.fit_width(load_rgb(rel)) for rel in mi.PORTRAITS}


@pytest.fixture(scope="module")
def on_walls(pipe, portraits):
    samples, _ = mi.measure(pipe, {rel: mi.walls_of(rgb) for rel, rgb in portraits.items()})
    return samples


@pytest.fixture(scope="module")
def in_rooms(pipe, portraits):
    grey = {"grey": mi.WALLS["grey"]}
    samples, _ = mi.measure(pipe, {rel: mi.rooms_of(mi.walls_of(portraits[rel], grey)["grey"])
                                   for rel in ROOM_PORTRAITS})
    return samples


def test_every_metal_keeps_its_identity_on_every_wall(on_walls):
    """Before: yellow gold on the blue wall came out at hue 18 (from 87 on grey) and a sixth of its chroma,
    rose gold on red at three times its chroma, white gold on red at chroma up to 38 (84 of 140 pictures out)."""
    assert {(s.metal, s.wall) for s in on_walls} == {(m, w) for m in mi.METALS for w in mi.WALLS}
    failures = mi.identity_failures(on_walls)
    assert not failures, "\n".join(failures)


def test_the_render_layer_keeps_it_too(on_walls):
    """The renderer's own part (before the compositor): the light it takes from the frame."""
    failures = mi.identity_failures(on_walls, layer=True)
    assert not failures, "\n".join(failures)


def test_the_metal_follows_the_rooms_light(in_rooms):
    """A dark room makes every metal clearly darker, and a warm room yellower than a cool one (b*), with a*
    following the same way."""
    failures = mi.room_failures(in_rooms)
    assert not failures, "\n".join(failures)
    for metal in mi.METALS:
        warm = mi.mean_colour([s.colour for s in in_rooms if s.metal == metal and s.wall == "warm"])
        cool = mi.mean_colour([s.colour for s in in_rooms if s.metal == metal and s.wall == "cool"])
        assert warm.a > cool.a, metal


def test_the_issues_photo_keeps_its_gold(catalog):
    """The issue's case, at the photo's own size: `tryon render faces/man_glasses_beard_frontal.jpg --item
    hoop-round-40mm-yellow-gold`, in front of the photo's own blue backdrop and of a grey wall. Before: hue 115
    (olive), chroma 8."""
    photo = load_rgb("faces/man_glasses_beard_frontal.jpg")
    frames = {"blue": photo, "grey": mi.walls_of(photo, {"grey": mi.WALLS["grey"]})["grey"]}
    samples = []
    with Pipeline(catalog, ["hoop-round-40mm-yellow-gold"], PipelineOptions(mode="image")) as pipe:
        for wall, rgb in frames.items():
            out, own, _ = mi.colour_of(pipe.process(Frame(rgb)))
            samples.append(mi.Sample("faces/man_glasses_beard_frontal.jpg", wall, "yellow_gold", out, own))
    assert np.mean(photo[:100, :100], axis=(0, 1))[2] > 90  # the backdrop is blue indeed
    failures = mi.identity_failures(samples)
    assert not failures, "\n".join(failures)
