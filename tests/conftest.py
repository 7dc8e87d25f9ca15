"""Shared fixtures. Real photos come from ../shared/media (never copied here); tests that need them skip
with a clear reason where that folder is absent. skimage's astronaut photo ships with scikit-image."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

MEDIA = Path(os.environ.get("TRYON_MEDIA", Path(__file__).resolve().parents[2] / "shared" / "media"))


def media_path(rel: str) -> Path:
    p = MEDIA / rel
    if not p.exists():
        pytest.skip(f"test media not found: {p} (set TRYON_MEDIA to the shared media folder)")
    return p


def load_rgb(rel: str) -> np.ndarray:
    bgr = cv2.imread(str(media_path(rel)))
    assert bgr is not None, rel
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="session")
def catalog():
    from tryon.jewelry.catalog import Catalog

    return Catalog.load()


@pytest.fixture(scope="session")
def face_model():
    from tryon.anchors.face_model import load_face_model

    return load_face_model()
