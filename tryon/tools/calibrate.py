"""Fit the ear lobe's piercing point in the head frame to photos of people wearing real earrings.

Ground truth: assets/annotations/earlobe_truth.json (hand-marked piercing points in shared/media photos and
video frames). One point in the head frame (the left lobe; the right is its mirror image) is fitted by
least squares on the reprojection error in face widths, with a weak prior toward anatomy (below and
behind the face edge at the ear) so that depth, which frontal photos barely constrain, stays sensible.
`python -m tryon.tools.calibrate MEDIA_DIR` refits and writes it into assets/face_model.npz.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from scipy.optimize import least_squares

from tryon.anchors.ears import lobe_features
from tryon.anchors.face_model import MODEL_PATH, FaceModel, load_face_model, save_face_model
from tryon.anchors.head import solve_head_pose
from tryon.config import REPO_ROOT
from tryon.tracking import landmarks as lm
from tryon.tracking.face import FaceTracker
from tryon.types import FaceLandmarks, HeadPose, Intrinsics

TRUTH_PATH = REPO_ROOT / "assets" / "annotations" / "earlobe_truth.json"
# The prior's weight: a 1 cm move away from it costs as much as a 0.02 face-width reprojection error.
PRIOR_M, PRIOR_FW = 0.01, 0.02


@dataclass(frozen=True)
class LobeObservation:
    """One real piercing point: which ear (person's 'left_ear'/'right_ear'), where, in which face."""

    source: str
    site: str
    xy_px: np.ndarray
    face: FaceLandmarks
    head: HeadPose
    intrinsics: Intrinsics


def read_frame(media_dir: Path, file: str, frame: int | None) -> np.ndarray | None:
    bgr: np.ndarray | None
    if frame is None:
        bgr = cv2.imread(str(media_dir / file))
    else:
        cap = cv2.VideoCapture(str(media_dir / file))
        cap.set(cv2.CAP_PROP_POS_FRAMES, frame)
        ok, read = cap.read()
        cap.release()
        bgr = read if ok else None
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def load_observations(media_dir: Path, model: FaceModel, truth: Path = TRUTH_PATH,
                      hfov_deg: float = 60.0) -> list[LobeObservation]:
    data = json.loads(truth.read_text())
    out = []
    with FaceTracker("image") as tracker:
        for entry in data["images"]:
            rgb = read_frame(media_dir, entry["file"], entry["frame"])
            if rgb is None:
                continue
            faces = tracker.process(rgb)
            if not faces:
                continue
            intr = Intrinsics.from_hfov(rgb.shape[1], rgb.shape[0], hfov_deg)
            for ear in entry["ears"]:
                # The face this ear belongs to: the nearest one, in its own widths.
                xy = np.array(ear["xy_px"], float)
                face = min(faces, key=lambda f: np.linalg.norm(f.points_px[:, :2].mean(0) - xy) / f.face_width_px)
                head = solve_head_pose(face, intr, model)
                # An unmirrored photo shows the person's left ear on the image's right.
                site = "left_ear" if ear["side"] == "image_right" else "right_ear"
                src = f"{entry['file']}" + (f"#{entry['frame']}" if entry["frame"] is not None else "")
                out.append(LobeObservation(src, site, xy, face, head, intr))
    return out


def project_lobe(lobe_left_m: np.ndarray, obs: LobeObservation) -> np.ndarray:
    p = lobe_left_m * (np.array([1.0, 1.0, 1.0]) if obs.site == "left_ear" else np.array([-1.0, 1.0, 1.0]))
    return obs.intrinsics.project(obs.head.to_camera(p[None]))[0]


def errors_fw(lobe_left_m: np.ndarray, observations: list[LobeObservation]) -> np.ndarray:
    """Each observation's distance from the projected lobe to the true point, in face widths."""
    return np.array([np.linalg.norm(project_lobe(lobe_left_m, o) - o.xy_px) / o.face.face_width_px
                     for o in observations])


def anatomical_prior(model: FaceModel) -> np.ndarray:
    """About 3 cm below and 1 cm behind the face's edge at the ear, and a few mm outside it."""
    return model.points_m[lm.FACE_SIDE_IMAGE_RIGHT] + np.array([0.004, -0.030, -0.010])


def fit_lobe(observations: list[LobeObservation], model: FaceModel) -> np.ndarray:
    prior = anatomical_prior(model)

    def residuals(p: np.ndarray) -> np.ndarray:
        r = [(project_lobe(p, o) - o.xy_px) / o.face.face_width_px for o in observations]
        return np.concatenate([*r, (p - prior) / PRIOR_M * PRIOR_FW])

    return least_squares(residuals, prior).x


RIDGE = 0.01


def fit_lobe_weights(observations: list[LobeObservation], model: FaceModel) -> np.ndarray:
    """Ridge regression of the true piercing points on the landmark features, in face widths."""
    rows, targets = [], []
    for o in observations:
        p0, f = lobe_features(o.face.points_px, o.site, model.mirror)
        rows.append(f / o.face.face_width_px)
        targets.append((o.xy_px - p0) / o.face.face_width_px)
    a, b = np.concatenate(rows), np.concatenate(targets)
    return np.linalg.solve(a.T @ a + RIDGE * np.eye(a.shape[1]), a.T @ b).reshape(-1, 1)[:, 0]


def regression_errors_fw(weights: np.ndarray, observations: list[LobeObservation], model: FaceModel) -> np.ndarray:
    out = []
    for o in observations:
        p0, f = lobe_features(o.face.points_px, o.site, model.mirror)
        out.append(np.linalg.norm(p0 + f @ weights - o.xy_px) / o.face.face_width_px)
    return np.array(out)


def _main(argv: list[str]) -> int:
    media = Path(argv[0]) if argv else Path(__file__).resolve().parents[3] / "shared" / "media"
    model = load_face_model()
    obs = load_observations(media, model)
    lobe = fit_lobe(obs, model)
    for o, e in zip(obs, errors_fw(lobe, obs), strict=True):
        print(f"{o.source:60s} {o.site:9s} {e:.4f} fw")
    print("mean error", errors_fw(lobe, obs).mean(), "fw; lobe_left_m", lobe)
    # Leave-one-source-out: how well does a fit without a photo predict it?
    sources = sorted({o.source.split("#")[0] for o in obs})
    held: list[float] = []
    for s in sources:
        train = [o for o in obs if not o.source.startswith(s)]
        test = [o for o in obs if o.source.startswith(s)]
        held.extend(errors_fw(fit_lobe(train, model), test))
    print("leave-one-source-out mean error", float(np.mean(held)), "fw")
    weights = fit_lobe_weights(obs, model)
    print("regression: mean error", regression_errors_fw(weights, obs, model).mean(), "fw")
    held = []
    for s in sources:
        train = [o for o in obs if not o.source.startswith(s)]
        test = [o for o in obs if o.source.startswith(s)]
        held.extend(regression_errors_fw(fit_lobe_weights(train, model), test, model))
    print("regression: leave-one-source-out mean error", float(np.mean(held)), "fw")
    save_face_model(FaceModel(model.points_m, model.mirror, model.triangles, lobe, weights), MODEL_PATH)
    return 0


if __name__ == "__main__":
    from tryon.tracking.quiet import filter_stderr

    filter_stderr()  # MediaPipe's routine log lines kept from the user, as on `tryon` commands
    raise SystemExit(_main(sys.argv[1:]))
