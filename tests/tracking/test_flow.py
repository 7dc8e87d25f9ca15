"""Sparse flow on a region: a real photo moved by a known similarity gives that similarity back."""

from __future__ import annotations

import cv2
import numpy as np

from tryon.tracking.flow import RegionFlow


def _gray(rgb):
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def test_a_known_motion_is_recovered(astronaut):
    base = _gray(astronaut)
    move = cv2.getRotationMatrix2D((256.0, 256.0), 1.5, 1.02)
    move[:, 2] += (2.3, -1.4)
    moved = cv2.warpAffine(base, move, (512, 512), flags=cv2.INTER_LINEAR)
    flow = RegionFlow()
    box = (150, 250, 350, 420)  # the flight suit's chest
    assert flow.step(base, box) is None  # a first frame has nothing to compare with
    found = flow.step(moved, box)
    assert found is not None
    probe = np.array([[200.0, 300.0], [300.0, 380.0]])
    want = probe @ move[:, :2].T + move[:, 2]
    got = probe @ found[:, :2].T + found[:, 2]
    assert np.abs(got - want).max() < 0.15


def test_no_texture_no_answer():
    flat = np.full((240, 320), 128, np.uint8)
    flow = RegionFlow()
    flow.step(flat, (50, 50, 250, 200))
    assert flow.step(flat, (50, 50, 250, 200)) is None


def test_a_cut_to_another_picture_gives_no_answer(astronaut):
    flow = RegionFlow()
    flow.step(_gray(astronaut), (150, 250, 350, 420))
    other = np.ascontiguousarray(_gray(astronaut)[::-1])
    assert flow.step(other, (150, 250, 350, 420)) is None
