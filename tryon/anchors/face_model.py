"""The metric head model: a mean face shape in the canonical head frame, plus the calibrated ear lobes.

The MediaPipe wheel carries no canonical face geometry, so we derive one from real frontal photos: each
photo's 478 landmarks (x, y and MediaPipe's relative z, all in pixels) are scaled to metres by the iris
diameter (11.7 mm, the human average, varying about 5 % between adults), rigidly aligned, averaged and
made mirror-symmetric. `python -m tryon.anchors.face_model OUT.npz IMAGE...` rebuilds it.

Head frame: x toward the person's left, y up, z out of the face; origin midway between landmarks 234 and
454 (the face's edges in front of the ears).
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial import Delaunay

from tryon.errors import AssetError
from tryon.tracking import landmarks as lm

IRIS_DIAMETER_M = 0.0117
MODEL_PATH = Path(__file__).resolve().parents[2] / "assets" / "face_model.npz"


@dataclass(frozen=True, eq=False)
class FaceModel:
    """points_m : (478, 3) float64 head-frame metres. mirror : (478,) int, each point's mirror image.
    triangles : (t, 3) int32 over the 468 face points. lobe_left_m : (3,) the person's left ear lobe's
    piercing point; the right one is its mirror image. lobe_weights : (2 * len(LOBE_LANDMARKS),)
    float64, the landmark regression of the lobe's image position (see anchors/ears.py).
    """

    points_m: np.ndarray
    mirror: np.ndarray
    triangles: np.ndarray
    lobe_left_m: np.ndarray
    lobe_weights: np.ndarray

    @property
    def lobe_right_m(self) -> np.ndarray:
        return self.lobe_left_m * np.array([-1.0, 1.0, 1.0])


def iris_diameter_px(points_px: np.ndarray, iris: tuple[int, ...]) -> float:
    """One eye's iris diameter in pixels: the larger of its two contour diameters (the other may be
    foreshortened by a turned head).  points_px : (478, 2 or 3)."""
    p = points_px[list(iris), :2]
    return float(max(np.linalg.norm(p[1] - p[3]), np.linalg.norm(p[2] - p[4])))


def landmarks_to_head_shape(points_px: np.ndarray) -> np.ndarray:
    """(478, 3) pixel landmarks of an unmirrored photo -> (478, 3) metric shape in a head-like frame
    (x to the person's left, y up, z out of the face), centred, not yet aligned."""
    d = 0.5 * (iris_diameter_px(points_px, lm.IRIS_LEFT) + iris_diameter_px(points_px, lm.IRIS_RIGHT))
    shape = np.asarray(points_px, np.float64) * np.array([1.0, -1.0, -1.0]) * (IRIS_DIAMETER_M / d)
    return shape - shape.mean(axis=0)


def rigid_align(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Rotate and translate src (n, 3) onto dst (n, 3) in the least-squares sense (Kabsch)."""
    sc, dc = src.mean(axis=0), dst.mean(axis=0)
    u, _, vt = np.linalg.svd((src - sc).T @ (dst - dc))
    d = np.sign(np.linalg.det(u @ vt))
    r = u @ np.diag([1.0, 1.0, d]) @ vt
    return (src - sc) @ r + dc


def mirror_permutation(points: np.ndarray) -> np.ndarray:
    """For a roughly symmetric (n, 3) shape centred on x=0, each point's mirror partner."""
    mirrored = points * np.array([-1.0, 1.0, 1.0])
    cost = np.linalg.norm(points[:, None, :] - mirrored[None, :, :], axis=2)
    _, cols = linear_sum_assignment(cost)
    return cols.astype(np.int64)


def build_face_model(shapes_px: list[np.ndarray], lobe_left_m: np.ndarray) -> FaceModel:
    """Average several frontal landmark sets (each (478, 3) pixels) into a symmetric metric model."""
    shapes = [landmarks_to_head_shape(s) for s in shapes_px]
    mean = shapes[0]
    for _ in range(3):  # generalised Procrustes without scale: the iris fixed the scale already
        mean = np.mean([rigid_align(s, mean) for s in shapes], axis=0)
    # Symmetrise: put the symmetry plane at x=0 by aligning the shape with its own mirror image.
    mirror = mirror_permutation(mean - mean.mean(axis=0))
    flipped = (mean * np.array([-1.0, 1.0, 1.0]))[mirror]
    mean = 0.5 * (mean + rigid_align(flipped, mean))
    c = mean.mean(axis=0)
    mirror = mirror_permutation(mean - np.array([c[0], 0.0, 0.0]))
    # Axes: x from the right face edge to the left, y from the chin toward the forehead, made orthogonal.
    x = mean[lm.FACE_SIDE_IMAGE_RIGHT] - mean[lm.FACE_SIDE_IMAGE_LEFT]
    x /= np.linalg.norm(x)
    up = mean[10] - mean[152]
    y = up - x * (up @ x)
    y /= np.linalg.norm(y)
    rot = np.stack([x, y, np.cross(x, y)])
    origin = 0.5 * (mean[lm.FACE_SIDE_IMAGE_LEFT] + mean[lm.FACE_SIDE_IMAGE_RIGHT])
    pts = (mean - origin) @ rot.T
    pts = 0.5 * (pts + (pts * np.array([-1.0, 1.0, 1.0]))[mirror])  # exact symmetry
    for iris in (lm.IRIS_LEFT, lm.IRIS_RIGHT):  # the mirror pairing may mix centre and contour points
        pts[iris[0]] = pts[list(iris[1:])].mean(axis=0)
    tri = Delaunay(pts[:468, :2]).simplices.astype(np.int32)
    return FaceModel(pts, mirror, tri, np.asarray(lobe_left_m, np.float64), np.zeros((0, 2)))


def save_face_model(model: FaceModel, path: Path) -> None:
    np.savez_compressed(
        path, points_m=model.points_m, mirror=model.mirror, triangles=model.triangles,
        lobe_left_m=model.lobe_left_m, lobe_weights=model.lobe_weights,
    )


@functools.lru_cache(maxsize=4)
def load_face_model(path: Path = MODEL_PATH) -> FaceModel:
    try:
        with np.load(path) as z:
            model = FaceModel(z["points_m"], z["mirror"], z["triangles"], z["lobe_left_m"], z["lobe_weights"])
    except (OSError, KeyError, ValueError) as e:
        raise AssetError(f"cannot read the face model {path}: {e}") from e
    if model.points_m.shape != (478, 3):
        raise AssetError(f"face model {path} has points of shape {model.points_m.shape}, expected (478, 3)")
    return model


def _main(argv: list[str]) -> int:
    import cv2

    from tryon.tracking.face import FaceTracker

    if len(argv) < 2:
        print("usage: python -m tryon.anchors.face_model OUT.npz IMAGE [IMAGE ...]", file=sys.stderr)
        return 2
    out, paths = Path(argv[0]), argv[1:]
    shapes = []
    with FaceTracker("image") as tracker:
        for p in paths:
            bgr = cv2.imread(p)
            faces = tracker.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)) if bgr is not None else ()
            if faces:
                shapes.append(faces[0].points_px)
            print(f"{p}: {'ok' if faces else 'no face, skipped'}")
    lobe = load_face_model().lobe_left_m if MODEL_PATH.exists() else np.array([0.0, -0.03, -0.02])
    save_face_model(build_face_model(shapes, lobe), out)
    print(f"wrote {out} from {len(shapes)} faces")
    return 0


if __name__ == "__main__":
    from tryon.tracking.quiet import filter_stderr

    filter_stderr()  # MediaPipe's routine log lines kept from the user, as on `tryon` commands
    raise SystemExit(_main(sys.argv[1:]))
