"""MediaPipe selfie segmentation: which pixels belong to a person (hair and clothes included)."""

from __future__ import annotations

import mediapipe as mp
import numpy as np

from tryon.tracking.face import check_rgb
from tryon.tracking.quiet import QuietStart, native_quiet


class PersonSegmenter:
    """`process(rgb) -> (H, W) float32` person probability in 0..1.

    model 1 ("landscape", 144x256 input) is the faster one; model 0 (256x256) is finer.
    """

    def __init__(self, model: int = 1) -> None:
        with native_quiet():
            self._seg = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=model)
        self._quiet = QuietStart()

    def __enter__(self) -> PersonSegmenter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._seg.close()

    def process(self, rgb: np.ndarray) -> np.ndarray:
        with self._quiet():
            result = self._seg.process(check_rgb(rgb))
        return np.asarray(result.segmentation_mask, np.float32)
