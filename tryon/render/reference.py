"""The reference renderer: pyrender's stock PBR, drawing the same posed parts through the same camera as ours.

Two roles, neither on the live path (pyrender's per-draw Python work costs about 7 ms a region; ours,
tryon.render.renderer, about one):
- the "plain" shading: what a stock glTF metallic-roughness viewer shows (pyrender's own shaders and lights,
  no light from the frame, gems as coloured plastic), which `tryon gallery` sets beside our photo-real one;
- an independent check of our camera and pose maths: pyrender builds its own projection from the intrinsics
  and its own model matrices from the poses, so the two renderers agreeing on silhouettes and on where an
  anchor lands (tests/render/test_reference.py) says both are right.

The drawing interface is `Renderer`'s (`upload`, `render(anchors, placements) -> RenderLayer`, `draw`,
`set_environment`, `shading`, `close`), with the same regions, 2x2 supersampling and premultiplied RGBA.
Frames: our camera frame is OpenCV's (x right, y down, z forward); it is pyrender's world here, and the
pyrender camera (looking down its -z, y up) sits at the origin turned by diag(1, -1, -1).

Depth-only occluders (the head, `anchors.occluders`' capsules): pyrender has no colour mask, so they are
drawn in a second, depth-only pass, and an item sample is dropped where an occluder is nearer than it: the
same outcome as a depth test, sample by sample, since each sample keeps the nearest item surface.

Headless: PyOpenGL takes its platform from PYOPENGL_PLATFORM when it is first imported, so pyrender is
imported lazily, after setting it to "egl" (Mesa here, the same EGL display as moderngl's). pyrender's own
teardown calls eglTerminate on that shared display, which would kill every moderngl context in the process:
`close` destroys only this renderer's context. Like `Renderer`, one per thread.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import cv2
import numpy as np
import trimesh

from tryon.errors import InputError, RenderError
from tryon.render.environment import Environment
from tryon.render.renderer import (
    LIGHTS,
    SHADINGS,
    SUPERSAMPLE,
    Z_FAR_M,
    Z_NEAR_M,
    Renderer,
    Roi,
    box_roi,
    capsule_triangles,
    covered,
    union_layer,
)
from tryon.render.scene import ItemModel, Material, Placement
from tryon.types import FrameAnchors, Intrinsics, RenderLayer

GL_FROM_CV = np.diag([1.0, -1.0, -1.0, 1.0])  # pyrender's camera (y up, looking down -z) in the OpenCV frame
AMBIENT = (0.15, 0.15, 0.15)  # pyrender adds base colour x this everywhere: a stock viewer's flat fill
LIGHT_SCALE = 0.85  # on our studio lights' radiance (tryon.render.renderer.LIGHTS), the same key, fill and rim


def renderer_for(shading: str, occluder: trimesh.Trimesh | None = None) -> Renderer | ReferenceRenderer:
    """The renderer that draws this shading: "photoreal" ours (`Renderer`), "plain" pyrender's stock PBR."""
    if shading not in SHADINGS:
        raise InputError(f"unknown shading {shading!r}; one of {', '.join(SHADINGS)}")
    return Renderer(occluder) if shading == "photoreal" else ReferenceRenderer(occluder)


def _pyrender() -> ModuleType:
    """pyrender, imported with PyOpenGL on EGL (the platform is fixed at PyOpenGL's first import)."""
    if "OpenGL" not in sys.modules:
        os.environ["PYOPENGL_PLATFORM"] = "egl"
    import OpenGL.platform
    import pyrender

    platform = type(OpenGL.platform.PLATFORM).__name__
    if platform != "EGLPlatform":
        raise RenderError(f"PyOpenGL was already loaded for {platform}; the reference renderer needs EGL "
                          "(set PYOPENGL_PLATFORM=egl)")
    return pyrender


def _material(pr: ModuleType, m: Material) -> Any:
    """glTF metallic-roughness as a stock viewer takes it: gems and pearls are plain dielectrics. Double-sided,
    as our renderer draws every face (thin and open parts)."""
    return pr.MetallicRoughnessMaterial(baseColorFactor=(*m.base_color, 1.0), metallicFactor=m.metallic,
                                        roughnessFactor=m.roughness, doubleSided=True)


def _facing(direction: np.ndarray) -> np.ndarray:
    """(4, 4) a pose whose -z points along `direction` (a pyrender directional light shines down its -z)."""
    back = -np.asarray(direction, np.float64) / np.linalg.norm(direction)
    helper = np.array([0.0, 1.0, 0.0]) if abs(back[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    x = np.cross(helper, back)
    x /= np.linalg.norm(x)
    pose = np.eye(4)
    pose[:3, :3] = np.stack([x, np.cross(back, x), back], axis=1)
    return pose


def _check_pose(pose: np.ndarray) -> None:
    if pose.shape[-2:] != (4, 4) or pose.ndim not in (2, 3):
        raise InputError(f"a part's camera pose must be (4, 4) or (k, 4, 4), got {pose.shape}")


def _hidden(item_m: np.ndarray, occluder_m: np.ndarray) -> np.ndarray:
    """(h, w) bool: the samples where an occluder is nearer than the item, from (h, w) depths in metres (0:
    nothing there). A sample at an item's anti-aliased edge has colour but may have missed the item in its
    depth: it takes the nearest item depth round it (the band's front edge over a finger stays, the edge of
    the band's hidden back goes)."""
    far = np.where(item_m > 0.0, item_m, np.inf).astype(np.float32)
    item = np.where(item_m > 0.0, far, cv2.erode(far, np.ones((3, 3), np.uint8)))
    return (occluder_m > 0.0) & (occluder_m < item)


class ReferenceRenderer:
    """pyrender's stock PBR behind `Renderer`'s drawing interface. occluder: the head occluder mesh (canonical
    head frame, metres), posed by `anchors.head` and drawn depth-only."""

    shading = "plain"

    def __init__(self, occluder: trimesh.Trimesh | None = None) -> None:
        pr = self._pr = _pyrender()
        from pyrender.platforms.egl import EGLPlatform

        self._platform: Any = None
        platform = EGLPlatform(SUPERSAMPLE, SUPERSAMPLE)  # only sizes: the context comes in init_context
        try:
            with self._keeping_current():
                platform.init_context()  # makes its context current
                self._platform = platform
                self._gl = pr.Renderer(SUPERSAMPLE, SUPERSAMPLE)
        except Exception as e:  # EGL/driver failures come as many types
            self._destroy_context(platform)
            raise RenderError(f"cannot start the reference renderer (pyrender on EGL): {e}") from e
        scene = self._scene = pr.Scene(bg_color=(0.0, 0.0, 0.0, 0.0), ambient_light=AMBIENT)
        self._camera = pr.IntrinsicsCamera(1.0, 1.0, 0.0, 0.0, znear=Z_NEAR_M, zfar=Z_FAR_M)
        scene.add(self._camera, pose=GL_FROM_CV)
        for direction, radiance in LIGHTS:  # fixed to the camera, as our studio lights are
            peak = max(radiance)
            scene.add(pr.DirectionalLight(color=np.array(radiance) / peak, intensity=LIGHT_SCALE * peak),
                      pose=_facing(np.array(direction)))
        self._head = None
        if occluder is not None:
            head = pr.Mesh([pr.Primitive(positions=np.asarray(occluder.vertices, np.float32),
                                         indices=np.asarray(occluder.faces, np.uint32), mode=pr.constants.GLTF.TRIANGLES)])
            head.is_visible = False
            self._head = scene.add(head)
        # Each uploaded model's parts: one node each (a single pose), kept in the scene and shown per draw.
        self._models: dict[int, tuple[ItemModel, list[Any]]] = {}
        self.environment: Environment | None = None

    # -- light ---------------------------------------------------------------------------------------------
    def set_environment(self, env: Environment) -> None:
        """Kept for the interface: the stock look has pyrender's own lights, not the frame's."""
        self.environment = env

    # -- lifetime ------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Free this renderer's GL objects and its EGL context (never the shared display: see the module)."""
        if self._platform is None:
            return
        with self._keeping_current():
            self._platform.make_current()
            self._gl.delete()
        self._destroy_context(self._platform)
        self._platform = None

    def __enter__(self) -> ReferenceRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _destroy_context(platform: Any) -> None:
        from OpenGL import EGL

        if getattr(platform, "_egl_context", None) is not None:
            EGL.eglDestroyContext(platform._egl_display, platform._egl_context)
            platform._egl_context = None
        platform._egl_display = None  # so pyrender's delete_context never terminates the shared display

    @contextmanager
    def _keeping_current(self) -> Iterator[None]:
        """Leave whichever EGL context was current (another renderer's, or none) current again afterwards."""
        from OpenGL import EGL

        before = (EGL.eglGetCurrentDisplay(), EGL.eglGetCurrentSurface(EGL.EGL_DRAW),
                  EGL.eglGetCurrentSurface(EGL.EGL_READ), EGL.eglGetCurrentContext())
        try:
            yield
        finally:
            if before[3]:
                EGL.eglMakeCurrent(*before)
            elif self._platform is not None:
                EGL.eglMakeCurrent(self._platform._egl_display, EGL.EGL_NO_SURFACE, EGL.EGL_NO_SURFACE,
                                   EGL.EGL_NO_CONTEXT)

    # -- geometry ----------------------------------------------------------------------------------------
    def upload(self, model: ItemModel) -> None:
        """Make the model's pyrender meshes now (they go on the GPU on their first draw)."""
        self._nodes(model)

    def _nodes(self, model: ItemModel) -> list[Any]:
        entry = self._models.get(id(model))
        if entry is None:  # keyed by id(), so the entry keeps the model alive (its id is never reused)
            nodes = []
            for part in model.parts:
                mesh = self._mesh(part.vertices, part.material)
                mesh.is_visible = False
                nodes.append(self._scene.add(mesh))
            entry = self._models[id(model)] = (model, nodes)
        return entry[1]

    def _mesh(self, vertices: np.ndarray, material: Material, poses: np.ndarray | None = None) -> Any:
        """A part's (n, 6) triangle soup (position, normal) as a pyrender mesh; poses (k, 4, 4): instanced."""
        pr = self._pr
        return pr.Mesh([pr.Primitive(positions=np.ascontiguousarray(vertices[:, :3], np.float32),
                                     normals=np.ascontiguousarray(vertices[:, 3:6], np.float32),
                                     material=_material(pr, material), mode=pr.constants.GLTF.TRIANGLES,
                                     poses=poses)])

    # -- drawing ---------------------------------------------------------------------------------------------
    def render(self, anchors: FrameAnchors, placements: list[Placement]) -> RenderLayer:
        """Premultiplied RGBA of the placed items over the union of their regions, as `Renderer.render`: the
        same regions (one per site), occluders, visibility and `anchors.covers`."""
        intr = anchors.intrinsics
        head_T = None
        if anchors.head is not None:
            s = anchors.head.scale
            head_T = anchors.head.cam_T_head @ np.diag([s, s, s, 1.0])
        capsules = capsule_triangles(anchors.occluders) if anchors.occluders else None
        patches: list[tuple[Roi, np.ndarray]] = []
        for placed in placements:
            roi = box_roi(np.vstack([m.corners_cam(parts) for m, parts in placed.items]), intr)
            if roi is None:
                continue
            rgba = self.draw(roi, intr, list(placed.items), head_T, capsules) * np.float32(placed.visible)
            patches.append((roi, covered(rgba, anchors, placed.site, roi)))
        return union_layer(patches, (intr.width_px, intr.height_px))

    def draw(self, roi: Roi, intr: Intrinsics, items: list[tuple[ItemModel, list[np.ndarray]]],
             cam_T_occluder: np.ndarray | None = None, capsules: np.ndarray | None = None) -> np.ndarray:
        """(h, w, 4) float32 premultiplied RGBA, 0..1, of the items in one region; each item comes with its
        parts' camera poses (ItemModel.cam_T_parts). cam_T_occluder: where the head occluder is (None: no
        head); capsules: (n, 3) triangle vertices in camera metres (`capsule_triangles`), depth-only."""
        if self._platform is None:
            raise RenderError("the reference renderer is closed")
        pr = self._pr
        w, h = roi.w * SUPERSAMPLE, roi.h * SUPERSAMPLE
        # Our pixel centres sit at integer coordinates, GL's at +0.5; each ROI pixel is SUPERSAMPLE samples wide.
        cam = self._camera
        cam.fx, cam.fy = intr.fx * SUPERSAMPLE, intr.fy * SUPERSAMPLE
        cam.cx = (intr.cx - roi.x0 + 0.5) * SUPERSAMPLE
        cam.cy = (intr.cy - roi.y0 + 0.5) * SUPERSAMPLE
        shown: list[Any] = []  # the uploaded parts' nodes drawn this time
        added: list[Any] = []  # nodes for this draw only: instanced parts, a model's second copy, capsules
        seen: set[int] = set()
        try:
            for model, cam_T_parts in items:
                nodes = self._nodes(model) if id(model) not in seen else [None] * len(model.parts)
                seen.add(id(model))
                for part, node, pose in zip(model.parts, nodes, cam_T_parts, strict=True):
                    pose = np.asarray(pose, np.float64)
                    _check_pose(pose)
                    if pose.ndim == 3:  # a necklace's links: one instance per unit
                        if len(pose):
                            added.append(self._scene.add(self._mesh(part.vertices, part.material, pose)))
                    elif node is None:
                        added.append(self._scene.add(self._mesh(part.vertices, part.material), pose=pose))
                    else:
                        self._scene.set_pose(node, pose)
                        node.mesh.is_visible = True
                        shown.append(node)
            occluders = []
            if cam_T_occluder is not None and self._head is not None:
                self._scene.set_pose(self._head, cam_T_occluder)
                occluders.append(self._head)
            if capsules is not None and len(capsules):
                caps = pr.Mesh([pr.Primitive(positions=np.ascontiguousarray(capsules, np.float32),
                                             mode=pr.constants.GLTF.TRIANGLES)])
                caps.is_visible = False
                occluders.append(self._scene.add(caps))
                added.append(occluders[-1])
            with self._keeping_current():
                self._platform.make_current()
                self._gl.viewport_width, self._gl.viewport_height = w, h
                color, depth = self._gl.render(self._scene, pr.RenderFlags.RGBA | pr.RenderFlags.OFFSCREEN)
                if occluders:
                    for node in self._scene.mesh_nodes:
                        node.mesh.is_visible = node in occluders
                    near = self._gl.render(self._scene, pr.RenderFlags.DEPTH_ONLY | pr.RenderFlags.OFFSCREEN)
        except InputError:
            raise
        except Exception as e:  # PyOpenGL raises its own GLError and ctypes errors
            raise RenderError(f"reference rendering failed: {e}") from e
        finally:
            for node in self._scene.mesh_nodes:
                node.mesh.is_visible = False
            for node in added:
                self._scene.remove_node(node)
        samples = np.array(color, np.uint8)
        if occluders:
            samples[_hidden(depth, near)] = 0
        box = cv2.resize(samples, (roi.w, roi.h), interpolation=cv2.INTER_AREA)  # exact 2x2 mean
        return box.astype(np.float32) * np.float32(1.0 / 255.0)

