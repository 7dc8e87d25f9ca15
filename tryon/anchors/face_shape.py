"""The face's shape (oval, round, square, heart, long) from the face mesh's proportions.

Stylists describe a face by four measures: its length (hairline to chin), its width at the cheekbones, at
the jaw's angles and across the forehead. The mesh gives them as 3D distances (pixels, MediaPipe's z in the
same units), which a turn of the head changes far less than 2D ones:

  length   10 (top of the forehead) to 152 (chin), less the mouth's opening (13 to 14): a scream is not a long
           face; the mesh's top is below the hairline, so the ratios are shorter than a tape measure's
  width    234 to 454 (the face's sides at the cheekbones, as `FaceLandmarks.face_width_px`)
  jaw      172 to 397 (the jaw's angles)
  forehead 54 to 284 (the temples at the forehead)

The mesh is a fitted model: its proportions vary less between people than real faces do, so the bands
below are narrow. They were set on the shared development portraits (../shared/media/people/faces): about a
fifth long, a fifth heart, a few square and round, the rest oval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tryon.errors import InputError
from tryon.types import FaceLandmarks

SHAPES = ("oval", "round", "square", "heart", "long")
LONG_RATIO = 1.25  # length / width at least this: long
ROUND_RATIO = 1.14  # at most this: a short face, round or (with a wide jaw) square
SQUARE_JAW = 0.81  # jaw / width at least this: a wide, angular jaw
HEART_TAPER = 0.11  # (forehead - jaw) / width at least this: wider above than below
BAND = 0.03  # confidence: this far past a boundary is certain


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
    length = dist(10, 152) - dist(13, 14)
    return {"length": length / width, "jaw": dist(172, 397) / width, "forehead": dist(54, 284) / width}


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
