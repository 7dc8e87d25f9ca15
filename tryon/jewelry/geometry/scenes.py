"""Parts assembled into a ``trimesh.Scene``: named nodes, each mesh with its PBR material, ready for GLB export.

Node names carry meaning for the renderer (each kind's frame and prefixes are in its generator's docstring);
every mesh's material is named after a metal, gem or dielectric of :mod:`tryon.jewelry.materials`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import trimesh

from tryon.jewelry import materials

__all__ = ["Builder", "finish", "scene"]

Builder = Callable[[], trimesh.Scene]  # a generator call that makes one item's scene (metres)

# Coordinates are rounded before export so the GLB's float32 values do not depend on the CPU's last-bit
# rounding of normals and transforms (1e-10 m is far below float32's resolution at jewelry sizes).
_POSITION_DECIMALS, _NORMAL_DECIMALS = 10, 9


def finish(mesh: trimesh.Trimesh, material: str) -> trimesh.Trimesh:
    """A copy of ``mesh`` with positions rounded to 1e-10 m and normals to 1e-9 (no negative zeros), and the
    named PBR material (:func:`tryon.jewelry.materials.pbr_material`)."""
    out = trimesh.Trimesh(
        np.round(mesh.vertices, _POSITION_DECIMALS) + 0.0,  # + 0.0: no negative zeros in the file
        mesh.faces,
        vertex_normals=np.round(mesh.vertex_normals, _NORMAL_DECIMALS) + 0.0,
        process=False,
    )
    out.visual = trimesh.visual.TextureVisuals(material=materials.pbr_material(material))
    return out


def scene(*parts: tuple[str, trimesh.Trimesh, str]) -> trimesh.Scene:
    """A scene of (node name, mesh, material name) parts, each :func:`finish`-ed, at identity transforms;
    each geometry is named like its node."""
    out = trimesh.Scene()
    for name, mesh, material in parts:
        out.add_geometry(finish(mesh, material), node_name=name, geom_name=name)
    return out
