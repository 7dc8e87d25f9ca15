"""Light from the camera frame: the environment map, its prefiltered levels and its SH irradiance."""

import numpy as np
import pytest

from tryon.errors import InputError
from tryon.render.environment import (
    MAP_H,
    MAP_W,
    MIP_LEVELS,
    TINT_MAX,
    FrameLight,
    direction_to_uv,
    make_environment,
    map_directions,
    studio_environment,
)

UP, DOWN, FRONT, BACK = np.eye(3)[1] * -1, np.eye(3)[1], np.eye(3)[2] * -1, np.eye(3)[2]  # FRONT: toward the camera


def test_a_uniform_room_gives_pi_times_its_radiance_everywhere():
    """Irradiance from a constant radiance L over the sphere is pi L on every surface: the SH and the
    cosine-lobe gains are right."""
    env = make_environment(np.full((MAP_H, MAP_W, 3), (0.2, 0.5, 1.0), np.float32))
    normals = np.array([UP, DOWN, FRONT, BACK, [0.6, 0.0, 0.8]])
    np.testing.assert_allclose(env.irradiance(normals), np.pi * np.array([[0.2, 0.5, 1.0]] * 5), rtol=0.02)
    assert len(env.mips) == MIP_LEVELS and env.mips[-1].shape == (MAP_H >> 5, MAP_W >> 5, 3)


def test_map_directions_and_uv_agree():
    d = map_directions()
    u, v = direction_to_uv(d.reshape(-1, 3))
    np.testing.assert_allclose(u, np.tile((np.arange(MAP_W) + 0.5) / MAP_W, MAP_H), atol=1e-6)
    np.testing.assert_allclose(v, np.repeat((np.arange(MAP_H) + 0.5) / MAP_H, MAP_W), atol=1e-6)


def test_light_from_above_in_the_frame_lights_from_above():
    """A frame bright in its top half (a ceiling, windows) and dark below: surfaces facing up get more light
    than surfaces facing down, and the map is brighter above."""
    frame = np.full((240, 320, 3), 30, np.uint8)
    frame[:120] = 230
    env = FrameLight(frame_weight=1.0)(frame)
    up, down = env.irradiance(np.array([UP, DOWN])).mean(axis=1)
    assert up > 2.0 * down
    assert env.radiance(np.array([UP]))[0].mean() > 4 * env.radiance(np.array([DOWN]))[0].mean()


def test_the_room_colour_reaches_the_lights_and_the_map(astronaut):
    """A blue-lit and a warm-lit version of the same photo: the environment takes each one's colour, as a mild
    tint (at most TINT_MAX from white: a frame's colour is mostly the colour of what is in it, and the metal
    must keep its own; tests/render/test_metal_identity.py)."""
    blue = np.clip(astronaut * np.array([0.6, 0.85, 1.25]), 0, 255).astype(np.uint8)
    warm = np.clip(astronaut * np.array([1.25, 0.95, 0.6]), 0, 255).astype(np.uint8)
    light = FrameLight()
    b, w = light(blue), light(warm)
    most = ((1 + TINT_MAX) / (1 - TINT_MAX)) ** 2  # blue over red: each light as far as the tint goes
    assert most * 1.001 > (b.light[2] / b.light[0]) / (w.light[2] / w.light[0]) > 1.1
    assert b.light[2] > b.light[0] and w.light[2] < w.light[0]
    front = np.array([FRONT])
    assert (b.radiance(front)[0, 2] / b.radiance(front)[0, 0]) > (w.radiance(front)[0, 2] / w.radiance(front)[0, 0])


def test_clipped_whites_come_back_brighter_than_white():
    """Lamps and windows are clipped at 255 in the frame; the map gives them back more radiance than the
    brightest diffuse surface, so they read as highlights on metal."""
    frame = np.full((120, 160, 3), 128, np.uint8)
    frame[50:70, 70:90] = 255
    room = FrameLight().room(frame)
    assert room.max() > 2.0


def test_video_light_changes_smoothly():
    dark = np.full((120, 160, 3), 40, np.uint8)
    bright = np.full((120, 160, 3), 200, np.uint8)
    light = FrameLight()
    first = light(dark, video=True).sh[0, 0]
    after_one = light(bright, video=True).sh[0, 0]
    alone = FrameLight()(bright).sh[0, 0]
    assert first < after_one < alone  # moves toward the new light without jumping there
    for _ in range(20):
        settled = light(bright, video=True).sh[0, 0]
    assert settled == pytest.approx(alone, rel=0.01)


def test_bad_frames_are_clear_errors():
    with pytest.raises(InputError, match="uint8"):
        FrameLight()(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(InputError, match=r"\(H, W, 3\)"):
        FrameLight()(np.zeros((10, 10), np.uint8))


def test_studio_is_neutral_and_brightest_at_its_soft_boxes():
    env = studio_environment()
    np.testing.assert_allclose(env.light, env.light.mean(), rtol=0.03)
    box = np.array([[-0.8, -0.3, -0.5]]) / np.linalg.norm([-0.8, -0.3, -0.5])
    assert env.radiance(box)[0].mean() > 5 * env.radiance(np.array([DOWN]))[0].mean()
