"""Render the worn jewelry for one frame, only in the small screen regions that it covers.

Each ear is rendered in its own region of interest (ROI): a camera whose principal point is shifted so
that the offscreen viewport is exactly that crop of the frame. The head occluder is drawn in the same pass
with our own fragment shader (shaders/mesh.frag, loaded through pyrender's shader cache): it writes depth
but no colour, so jewelry behind it fails the depth test and the occluder itself stays invisible.
pyrender's offscreen framebuffer is multisampled, so edges come anti-aliased with coverage in alpha.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyrender
import trimesh
from pyrender.shader_program import ShaderProgramCache

from tryon.anchors.face_model import FaceModel
from tryon.errors import RenderError
from tryon.render.occluder import head_occluder_mesh
from tryon.render.scene import CV_TO_GL, ItemModel, JewelryScene
from tryon.types import FrameAnchors, Intrinsics, RenderLayer

ROI_STEP_PX = 32  # ROI sizes are rounded up to this, so framebuffers are reused from frame to frame
ROI_PAD_PX = 4
SHADERS_DIR = Path(__file__).resolve().parents[2] / "shaders"




def occluder_mesh(mesh: trimesh.Trimesh) -> pyrender.Mesh:
    """A depth-only pyrender mesh: our mesh.frag draws primitives that have vertex colours as depth only."""
    mesh = mesh.copy()
    # Opaque colours: pyrender would draw translucent ones in a later blended pass, too late to occlude.
    colors = np.tile(np.array([0, 0, 0, 255], np.uint8), (len(mesh.vertices), 1))
    mesh.visual = trimesh.visual.ColorVisuals(mesh, vertex_colors=colors)
    return pyrender.Mesh.from_trimesh(mesh, smooth=False)


@dataclass(frozen=True)
class Roi:
    x0: int
    y0: int
    w: int
    h: int


def anchor_roi(centre_m: np.ndarray, radius_m: float, intr: Intrinsics) -> Roi | None:
    """The frame region covering a sphere (camera metres) or None when it is off-screen or behind."""
    z = float(centre_m[2])
    if z <= radius_m + 0.01:
        return None
    xy = intr.project(centre_m[None])[0]
    r_px = intr.fx * radius_m / math.sqrt(max(z * z - radius_m * radius_m, 1e-9)) + ROI_PAD_PX
    x0, y0 = max(0, math.floor(xy[0] - r_px)), max(0, math.floor(xy[1] - r_px))
    x1, y1 = min(intr.width_px, math.ceil(xy[0] + r_px) + 1), min(intr.height_px, math.ceil(xy[1] + r_px) + 1)
    if x1 <= x0 or y1 <= y0:
        return None
    w = min(intr.width_px, -(-(x1 - x0) // ROI_STEP_PX) * ROI_STEP_PX)
    h = min(intr.height_px, -(-(y1 - y0) // ROI_STEP_PX) * ROI_STEP_PX)
    return Roi(min(x0, intr.width_px - w), min(y0, intr.height_px - h), w, h)


class Renderer:
    """Owns one EGL context: create it and call it from one thread only."""

    def __init__(self, face_model: FaceModel, shaders_dir: Path = SHADERS_DIR) -> None:
        if not (shaders_dir / "mesh.frag").is_file():
            raise RenderError(f"shaders not found in {shaders_dir}")
        try:
            self._gl = pyrender.OffscreenRenderer(ROI_STEP_PX, ROI_STEP_PX)
        except Exception as e:  # EGL/driver failures come as many types
            raise RenderError(f"cannot start the offscreen renderer (EGL): {e}") from e
        self._gl._renderer._program_cache = ShaderProgramCache(shader_dir=str(shaders_dir))
        self.jewelry = JewelryScene()
        self._occ_node = self.jewelry.scene.add(occluder_mesh(head_occluder_mesh(face_model)))
        self._cam = pyrender.IntrinsicsCamera(1.0, 1.0, 0.0, 0.0, znear=0.02, zfar=5.0)
        self.jewelry.scene.add(self._cam, pose=CV_TO_GL)

    def close(self) -> None:
        """Free this renderer's GL objects and its own EGL context only. (pyrender's delete() calls
        eglTerminate, which would kill every other renderer's context in the process too.)"""
        gl, platform = self._gl, self._gl._platform
        if not hasattr(platform, "_egl_context"):
            gl.delete()
            return
        if platform._egl_context is None:
            return
        from OpenGL import EGL

        platform.make_current()
        gl._renderer.delete()
        EGL.eglMakeCurrent(platform._egl_display, EGL.EGL_NO_SURFACE, EGL.EGL_NO_SURFACE, EGL.EGL_NO_CONTEXT)
        EGL.eglDestroyContext(platform._egl_display, platform._egl_context)
        # Disarm pyrender's __del__ methods, which would otherwise eglTerminate the shared display later.
        platform._egl_context = platform._egl_display = None
        gl._renderer = None

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wear(self, site: str, model: ItemModel | None) -> None:
        self.jewelry.wear(site, model)

    def render(self, anchors: FrameAnchors) -> RenderLayer:
        """Premultiplied RGBA of everything worn, over the union of the drawn regions."""
        intr = anchors.intrinsics
        patches: list[tuple[Roi, np.ndarray]] = []
        self._occ_node.mesh.is_visible = anchors.head is not None
        if anchors.head is not None:
            s = anchors.head.scale
            self.jewelry.scene.set_pose(self._occ_node, anchors.head.cam_T_head @ np.diag([s, s, s, 1.0]))
        for a in anchors.anchors:
            model = self.jewelry.worn(a.site)
            if model is None or a.visible <= 0.004:
                continue
            roi = anchor_roi(a.cam_T_anchor[:3, 3], model.radius_m, intr)
            if roi is None:
                continue
            self.jewelry.pose(a.site, a.cam_T_anchor)
            self.jewelry.show_only(a.site)
            rgba = self._render_roi(roi, intr)
            patches.append((roi, rgba * np.float32(a.visible)))
        return _union(patches, (intr.width_px, intr.height_px))

    def _render_roi(self, roi: Roi, intr: Intrinsics) -> np.ndarray:
        gl = self._gl
        gl.viewport_width, gl.viewport_height = roi.w, roi.h
        # pyrender's window coordinates put pixel centres at +0.5; ours are at integers.
        self._cam.fx, self._cam.fy = intr.fx, intr.fy
        self._cam.cx, self._cam.cy = intr.cx - roi.x0 + 0.5, intr.cy - roi.y0 + 0.5
        try:
            color, _ = gl.render(self.jewelry.scene, flags=pyrender.RenderFlags.RGBA)
        except Exception as e:
            raise RenderError(f"rendering failed: {e}") from e
        return color.astype(np.float32) * np.float32(1.0 / 255.0)


def _union(patches: list[tuple[Roi, np.ndarray]], frame_size: tuple[int, int]) -> RenderLayer:
    if not patches:
        return RenderLayer(np.zeros((0, 0, 4), np.float32), (0, 0), frame_size)
    x0 = min(r.x0 for r, _ in patches)
    y0 = min(r.y0 for r, _ in patches)
    x1 = max(r.x0 + r.w for r, _ in patches)
    y1 = max(r.y0 + r.h for r, _ in patches)
    out = np.zeros((y1 - y0, x1 - x0, 4), np.float32)
    for r, rgba in patches:
        dst = out[r.y0 - y0 : r.y0 - y0 + r.h, r.x0 - x0 : r.x0 - x0 + r.w]
        dst += rgba * (1.0 - dst[..., 3:4])  # "over" for premultiplied colour; later patches go under
    return RenderLayer(out, (x0, y0), frame_size)
