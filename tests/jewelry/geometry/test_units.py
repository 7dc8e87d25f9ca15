"""Units: MM is metres per millimetre; sizes outside their range are input errors naming the size."""

from __future__ import annotations

import pytest

from tryon.errors import InputError
from tryon.jewelry.geometry.units import MM, check_range


def test_mm_is_a_thousandth_of_a_metre() -> None:
    assert 25.0 * MM == pytest.approx(0.025, abs=1e-15)


def test_check_range_passes_the_range_inclusive_and_names_what_is_outside() -> None:
    for value in (1.5, 2.0, 10.0):
        check_range("Band width", value, 1.5, 10.0)
    with pytest.raises(InputError, match=r"Band width 12.0 mm is outside 1.5..10 mm"):
        check_range("Band width", 12.0, 1.5, 10.0)
    with pytest.raises(InputError, match="Band width nan mm"):
        check_range("Band width", float("nan"), 1.5, 10.0)
