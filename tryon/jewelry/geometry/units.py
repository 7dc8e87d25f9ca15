"""Units shared by every generator: ``MM`` (metres per millimetre) and checking a size given in mm.

Every public size argument of a generator is in millimetres and every coordinate in metres.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from tryon.errors import InputError

__all__ = ["MM", "FloatArray", "check_range"]

MM = 1e-3  # metres per millimetre: every public size argument is in mm, every coordinate in m

FloatArray = NDArray[np.float64]


def check_range(what: str, value: float, lo: float, hi: float) -> None:
    """Raise :class:`InputError` naming ``what`` unless ``lo <= value <= hi`` (all in mm; NaN fails)."""
    # `not lo <= v <= hi` also catches NaN.
    if not lo <= value <= hi:
        raise InputError(f"{what} {value} mm is outside {lo:g}..{hi:g} mm.")
