"""Depth-only occluder geometry: what of the person can hide jewelry.

The head occluder is the face model's surface (in front) closed by an ellipsoid skull and a neck
cylinder, all in the head frame (metres, before the per-person scale). The ears' lobes lie outside it,
so an earring at the lobe is never hidden by its own ear's anchor, but the far side of a hoop passes
behind the jaw and neck, and a turned head's far ear goes behind the head.
"""

from __future__ import annotations

import numpy as np
import trimesh

from tryon.anchors.face_model import FaceModel
from tryon.tracking import landmarks as lm


def head_occluder_mesh(model: FaceModel) -> trimesh.Trimesh:
    """(head frame, metres) face surface + skull + neck, as one mesh (not watertight; depth only)."""
    pts = model.points_m
    face = trimesh.Trimesh(pts[:468], model.triangles, process=False)
    # Skull: an ellipsoid whose sides stay a little inside the face's edges at the ears (so the lobes,
    # which hang below and behind those points, are outside it) and that reaches back about 19 cm.
    half_width = 0.5 * abs(pts[lm.FACE_SIDE_IMAGE_RIGHT, 0] - pts[lm.FACE_SIDE_IMAGE_LEFT, 0]) - 0.008
    top_y = pts[10, 1] + 0.03
    chin_y = pts[152, 1]
    skull = trimesh.creation.icosphere(subdivisions=3, radius=1.0)
    radii = np.array([half_width, 0.5 * (top_y - chin_y) * 0.95, 0.095])
    centre = np.array([0.0, 0.5 * (top_y + chin_y) + 0.01, pts[10, 2] - radii[2] - 0.005])
    skull.apply_transform(np.diag([*radii, 1.0]))
    skull.apply_translation(centre)
    # Neck: a vertical cylinder under the back half of the skull, from the jaw down to 4.5 cm below the chin
    # (past a 40 mm hoop's reach). Lower down the neck turns with the torso, not the head, and a necklace
    # lies there: tryon.anchors.neck has that part.
    neck_r = 0.055
    neck = trimesh.creation.cylinder(radius=neck_r, height=0.085, sections=24)
    neck.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
    neck.apply_translation([0.0, chin_y - 0.0025, -0.035])
    return trimesh.util.concatenate([face, skull, neck])
