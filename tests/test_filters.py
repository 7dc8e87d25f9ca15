import numpy as np
import pytest

from tryon.filters.hold import HoldAndFade, HoldFadeParams, Hysteresis
from tryon.filters.one_euro import OneEuroFilter, OneEuroParams
from tryon.types import HeadPose


def test_one_euro_removes_jitter_when_still():
    rng = np.random.default_rng(0)
    f = OneEuroFilter(OneEuroParams(min_cutoff_hz=1.0, beta=0.0))
    noisy = 5.0 + rng.normal(0, 0.5, 300)
    out = np.array([f(np.array([x]), i * 33.3)[0] for i, x in enumerate(noisy)])
    assert out[50:].std() < 0.4 * noisy[50:].std()
    assert abs(out[50:].mean() - 5.0) < 0.05


def test_one_euro_follows_fast_motion_with_little_lag():
    f = OneEuroFilter(OneEuroParams(min_cutoff_hz=1.0, beta=5.0))
    xs = np.arange(100) * 2.0  # a ramp of 2 units per frame
    out = np.array([f(np.array([x]), i * 33.3)[0] for i, x in enumerate(xs)])
    lag_frames = (xs[60:] - out[60:]).mean() / 2.0
    assert 0 <= lag_frames < 0.5


def test_one_euro_same_timestamp_twice_is_stable():
    f = OneEuroFilter(OneEuroParams(1.0, 0.0))
    f(np.array([1.0]), 0.0)
    a = f(np.array([2.0]), 33.0)
    assert f(np.array([9.0]), 33.0)[0] == a[0]


def _pose(t_ms):
    return HeadPose(np.eye(4), 1.0, t_ms)


def test_hold_then_fade_then_drop():
    h = HoldAndFade(HoldFadeParams(hold_ms=100, fade_ms=100, fade_in_ms=0))
    assert h.update(_pose(0), 0)[1] == 1.0
    assert h.update(None, 50) == (h._last, 1.0, False)  # held
    _, opacity, _ = h.update(None, 150)
    assert opacity == pytest.approx(0.5)
    assert h.update(None, 250) == (None, 0.0, False)
    # Back after the gap: the caller is told to reset its smoothing (snap, don't glide).
    assert h.update(_pose(300), 300)[2] is True


def test_fade_in_on_acquire():
    h = HoldAndFade(HoldFadeParams(fade_in_ms=100))
    assert h.update(_pose(0), 0)[1] == 0.0
    assert h.update(_pose(50), 50)[1] == pytest.approx(0.5)
    assert h.update(_pose(100), 100)[1] == 1.0


def test_hysteresis_does_not_flicker():
    h = Hysteresis(hide_at=0.4, show_at=0.3, ease_ms=0)
    values = [0.0, 0.35, 0.41, 0.35, 0.39, 0.31, 0.29, 0.35]
    out = [h(v, i * 33.0) for i, v in enumerate(values)]
    assert out == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0]
    assert Hysteresis(0.4, 0.3)(0.36, 0.0) == 0.0  # a photo (a fresh one) decides at the midpoint


def test_at_once_shows_a_fresh_stream_s_first_value_fully_then_fades_in_as_usual():
    h = HoldAndFade(HoldFadeParams(fade_in_ms=100), at_once=True)
    assert h.fresh and h.update(_pose(0), 0)[1] == 1.0 and not h.fresh  # a photo: shown fully
    h.reset()
    assert h.update(None, 0)[1] == 0.0  # the stream starts with nothing found...
    assert h.update(_pose(33), 33)[1] == 0.0  # ...so a value found later fades in
