"""The face's shape (oval, round, square, heart, long) from the face mesh's proportions.

Stylists describe a face by four measures: its length (hairline to chin), its width at the cheekbones, at
the jaw and across the forehead. The mesh gives them as 3D distances (pixels, MediaPipe's z in the same
units), which a turn of the head changes far less than 2D ones:

  length   10 (top of the forehead) to 2 (below the nose): the upper two of the face's classic thirds. The
           lower third (nose to chin) moves with every word and smile; these two do not, and stand for the
           whole in proportion
  width    234 to 454 (the face's sides at the cheekbones, as `FaceLandmarks.face_width_px`)
  jaw      136 to 365 (the jaw's line below its angles)
  forehead 103 to 332 (the forehead's sides at the temples)

These were chosen on the shared videos for the largest spread between people (the development portraits)
against the spread within one person's video; the earlier full length (10 to 152, less the mouth's opening),
jaw angles (172 to 397) and temples (54 to 284) flickered more. The mesh is a fitted model: its proportions vary
less between people than real faces do, so the bands are narrow. They are quantiles of the development
portraits (../shared/media/people/faces): the longest 15 % long, the 15 % most tapered heart, the shortest
quarter round or (with a wide jaw) square, the rest oval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tryon.errors import InputError
from tryon.types import FaceLandmarks

SHAPES = ("oval", "round", "square", "heart", "long")
LONG_RATIO = 0.76  # length / width at least this: long
ROUND_RATIO = 0.68  # at most this: a short face, round or (with a wide jaw) square
SQUARE_JAW = 0.693  # jaw / width at least this: a wide, angular jaw
HEART_TAPER = 0.066  # (forehead - jaw) / width at least this: wider above than below
BAND = 0.02  # confidence: this far past a boundary is certain


@dataclass(frozen=True)
class FaceShape:
    """label: one of SHAPES; confidence 0..1 (distance from the nearest boundary); ratios: the measures over
    the face's width ("length", "jaw", "forehead")."""

    label: str
    confidence: float
    ratios: dict[str, float]


def face_ratios(face: FaceLandmarks) -> dict[str, float]:
    p = np.asarray(face.points_px, np.float64)

    def dist(a: int, b: int) -> float:
        return float(np.linalg.norm(p[a] - p[b]))

    width = dist(234, 454)
    if width <= 1e-6:
        raise InputError("the face has no width")
    return {"length": dist(10, 2) / width, "jaw": dist(136, 365) / width, "forehead": dist(103, 332) / width}


def face_shape(face: FaceLandmarks) -> FaceShape:
    """The face's shape of one frame's mesh (see `classify`)."""
    return classify(face_ratios(face))


def steady_face_shape(faces: Sequence[FaceLandmarks]) -> FaceShape:
    """The face's shape of several frames of one person: `classify` of the median of each ratio (a talking
    face's ratios move with the jaw and the head's turn; their median over a second or so does not)."""
    if not faces:
        raise InputError("no faces to measure")
    each = [face_ratios(f) for f in faces]
    return classify({k: float(np.median([r[k] for r in each])) for k in each[0]})


def classify(r: dict[str, float]) -> FaceShape:
    """The shape by the bands above, tested in order: long, heart, then the short faces (square with a wide
    jaw, else round), else oval."""
    length, jaw, taper = r["length"], r["jaw"], r["forehead"] - r["jaw"]
    if length >= LONG_RATIO:
        label, margin = "long", length - LONG_RATIO
    elif taper >= HEART_TAPER:
        label, margin = "heart", min(taper - HEART_TAPER, LONG_RATIO - length)
    elif length <= ROUND_RATIO:
        label = "square" if jaw >= SQUARE_JAW else "round"
        margin = min(ROUND_RATIO - length, abs(jaw - SQUARE_JAW), HEART_TAPER - taper)
    else:
        label, margin = "oval", min(length - ROUND_RATIO, LONG_RATIO - length, HEART_TAPER - taper)
    return FaceShape(label, round(min(1.0, margin / BAND), 3), {k: round(v, 4) for k, v in r.items()})
