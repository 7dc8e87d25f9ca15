"""Render the worn jewelry for one frame, only in the small screen regions that it covers.

moderngl on an EGL context (headless; Mesa's llvmpipe on a CPU), with our own GLSL from shaders/.
pyrender was the first backend; its per-draw Python work (uniforms through PyOpenGL, light binding, a
depth read-back on every call) cost about 7 ms per region on this 2-core CPU, above the whole render budget.
moderngl does the same GL calls from C: a region now costs about a millisecond.

Each anchor gets its own region of interest (ROI): the projection maps exactly that crop of the frame onto
a small framebuffer. Head occluders draw first into depth only, so jewelry behind them fails the depth test.
Anti-aliasing is 2x2 supersampling: the ROI is drawn at twice its size and box-filtered down, which gives
coverage in alpha and, over a transparent black background, premultiplied colour. (llvmpipe's multisample
path costs three times as much as this for the same 4 samples per pixel.)
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import moderngl
import numpy as np
import trimesh

from tryon.errors import RenderError
from tryon.render.environment import Environment, studio_environment
from tryon.render.scene import ItemModel, Material, Part, Placement
from tryon.types import Capsule, FrameAnchors, Intrinsics, RenderLayer

CAPSULE_SIDES = 12
ROI_STEP_PX = 16  # ROI sizes are rounded up to this, so framebuffers are reused from frame to frame
ROI_PAD_PX = 4
SUPERSAMPLE = 2  # each ROI is drawn at 2x2 its size and box-filtered: 4 samples per pixel
# A necklace's repeat units (links, beads) smaller than this on screen are drawn from a simplified mesh
# (`simplified`): a 2.5 mm link is 2 to 3 pixels at arm's length, where its 170 triangles cost llvmpipe
# milliseconds across a chain and show nothing a dozen would not.
LOD_BELOW_PX = 6.0
LOD_CELLS = 4  # the simplified mesh keeps one vertex per cell of a grid over the unit, at least 4 x 4 x 4
LOD_AREA = 0.92  # and at least this share of its surface
# Below this a unit is a couple of pixels: a box with the unit's principal axes and surface area (12
# triangles; Cauchy: a convex body's mean shadow is a quarter of its surface, so the chain covers as much).
FAR_BELOW_PX = 3.5
Z_NEAR_M, Z_FAR_M = 0.02, 5.0
SHADERS_DIR = Path(__file__).resolve().parents[2] / "shaders"

# Studio key, fill, rim and a low bounce, fixed to the camera: (direction of travel, OpenCV frame; radiance).
LIGHTS = (
    ((-0.6, 0.8, 1.0), (3.0, 2.95, 2.85)),
    ((1.0, 0.2, 0.6), (1.4, 1.4, 1.45)),
    ((-0.2, 0.6, -1.0), (1.8, 1.8, 1.8)),
    ((0.3, -1.0, 0.3), (0.5, 0.48, 0.45)),
)
# photoreal: this renderer; plain: pyrender's stock PBR, for comparisons (tryon.render.reference.renderer_for)
SHADINGS = ("photoreal", "plain")


def load_shader(path: Path, defines: dict[str, object] | None = None) -> str:
    """GLSL source with `#define NAME VALUE` lines inserted right after its `#version` line."""
    source = path.read_text()
    lines = "".join(f"#define {k} {v}\n" for k, v in (defines or {}).items())
    version = re.match(r"\s*#version[^\n]*\n", source)
    if version is None:
        raise RenderError(f"{path.name} does not start with #version")
    return source[: version.end()] + lines + source[version.end():]


@dataclass(frozen=True)
class Roi:
    x0: int
    y0: int
    w: int
    h: int


def box_roi(corners_cam: np.ndarray, intr: Intrinsics) -> Roi | None:
    """The frame region covering these camera-frame points (an item's posed bounding box), or None when
    it is off-screen or reaches behind the near plane."""
    if float(corners_cam[:, 2].min()) <= Z_NEAR_M:
        return None
    xy = intr.project(corners_cam)
    x0 = max(0, math.floor(xy[:, 0].min()) - ROI_PAD_PX)
    y0 = max(0, math.floor(xy[:, 1].min()) - ROI_PAD_PX)
    x1 = min(intr.width_px, math.ceil(xy[:, 0].max()) + ROI_PAD_PX + 1)
    y1 = min(intr.height_px, math.ceil(xy[:, 1].max()) + ROI_PAD_PX + 1)
    if x1 <= x0 or y1 <= y0:
        return None
    w = min(intr.width_px, -(-(x1 - x0) // ROI_STEP_PX) * ROI_STEP_PX)
    h = min(intr.height_px, -(-(y1 - y0) // ROI_STEP_PX) * ROI_STEP_PX)
    return Roi(min(x0, intr.width_px - w), min(y0, intr.height_px - h), w, h)


def roi_projection(intr: Intrinsics, roi: Roi) -> np.ndarray:
    """(4, 4) OpenCV camera frame (x right, y down, z forward) -> clip space of the ROI's viewport.

    Our pixel centres sit at integer coordinates, GL's at +0.5; the mapping holds at any framebuffer resolution
    (a supersampled ROI just has more samples in it). y is not flipped, so row 0 of the read-back
    is the ROI's top row (GL's "bottom-left origin" then simply means image order).
    """
    n, f = Z_NEAR_M, Z_FAR_M
    p = np.zeros((4, 4))
    p[0, 0] = 2.0 * intr.fx / roi.w
    p[0, 2] = 2.0 * (intr.cx - roi.x0 + 0.5) / roi.w - 1.0
    p[1, 1] = 2.0 * intr.fy / roi.h
    p[1, 2] = 2.0 * (intr.cy - roi.y0 + 0.5) / roi.h - 1.0
    p[2, 2] = (f + n) / (f - n)
    p[2, 3] = -2.0 * f * n / (f - n)
    p[3, 2] = 1.0
    return p


_Instanced = tuple[moderngl.VertexArray, ...]  # a repeat unit's instanced VAOs: (full mesh, simplified)


def _mat4(m: np.ndarray) -> bytes:
    return np.asarray(m, np.float32).T.tobytes()  # GLSL matrices are column-major


class Renderer:
    """Owns one EGL context: create it and call it from one thread only.

    The "photoreal" shading: light from the environment (`set_environment`; the studio until one is given),
    gem optics, pearl nacre. (The "plain" one is pyrender's: tryon.render.reference.ReferenceRenderer.)"""

    shading = "photoreal"

    def __init__(self, occluder: trimesh.Trimesh | None = None, shaders_dir: Path = SHADERS_DIR) -> None:
        try:
            # (moderngl's stubs type every keyword setting as a dict; backend is a string.)
            context = moderngl.create_standalone_context(backend="egl")  # type: ignore[arg-type]
        except Exception as e:  # EGL/driver failures come as many types
            raise RenderError(f"cannot start the offscreen renderer (EGL): {e}") from e
        self._context: moderngl.Context | None = context
        try:
            with self._ctx:
                # One program per material kind (and instanced or not): llvmpipe runs a shader holding all
                # three kinds' code at about twice the cost of one holding only the kind drawn.
                self._programs: dict[tuple[str, bool], moderngl.Program] = {}
                self._tinted: dict[str, moderngl.Program] = {}
                for kind, number in MATERIAL_KINDS.items():
                    defines: dict[str, object] = {"N_LIGHTS": len(LIGHTS), "MATERIAL": number}
                    frag = load_shader(shaders_dir / "jewel.frag", defines)
                    for many in (False, True):  # instanced: a necklace's links, a pose per instance
                        vert = load_shader(shaders_dir / "jewel.vert", {"INSTANCED": 1} if many else {})
                        self._programs[(kind, many)] = self._ctx.program(vertex_shader=vert,
                                                                           fragment_shader=frag)
                    # A photo piece's parts: the base colour tinted per vertex (Part.tint); never instanced.
                    tinted = {**defines, "TINTED": 1}
                    self._tinted[kind] = self._ctx.program(
                        vertex_shader=load_shader(shaders_dir / "jewel.vert", {"TINTED": 1}),
                        fragment_shader=load_shader(shaders_dir / "jewel.frag", tinted))
                self._depth = self._ctx.program(vertex_shader=load_shader(shaders_dir / "depth.vert"),
                                                fragment_shader=load_shader(shaders_dir / "depth.frag"))
                self._occluder = None if occluder is None else self._vao(self._depth, occluder.vertices[occluder.faces])
                self._occluder_corners = (None if occluder is None else
                                          np.hstack([trimesh.bounds.corners(occluder.bounds), np.ones((8, 1))]))
                self._instances = self._ctx.buffer(reserve=64 * 256, dynamic=True)  # mat4 poses of instances
        except (OSError, moderngl.Error) as e:
            context.release()
            raise RenderError(f"cannot build the shaders in {shaders_dir}: {e}") from e
        # One VAO per part; a necklace's link parts also get two reading poses from the instance buffer (full
        # and simplified).
        self._models: dict[int, tuple[ItemModel, list[moderngl.VertexArray], list[_Instanced | None]]] = {}
        self._capsule_vbo: moderngl.Buffer | None = None
        self._capsule_vao: moderngl.VertexArray | None = None
        self._targets: dict[tuple[int, int], moderngl.Framebuffer] = {}
        self._env_texture: moderngl.Texture | None = None
        self.environment: Environment | None = None
        self.set_environment(studio_environment())
        self.set_lights()

    # -- light ---------------------------------------------------------------------------------------------
    def set_environment(self, env: Environment) -> None:
        """Light the jewelry with this environment from now on."""
        with self._ctx:
            if self._env_texture is None:
                h, w = env.mips[0].shape[:2]
                tex = self._env_texture = self._ctx.texture((w, h), 3, dtype="f4")
                tex.build_mipmaps(0, len(env.mips) - 1)
                tex.filter = (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR)
                tex.repeat_x, tex.repeat_y = True, False
            for level, m in enumerate(env.mips):
                self._env_texture.write(np.ascontiguousarray(m, np.float32).tobytes(), level=level)
            self._env_texture.use(location=0)
            for program in self._all_programs:
                _uniform(program, "u_env").value = 0
                _uniform(program, "u_env_lods").value = float(len(env.mips) - 1)
                _uniform(program, "u_sh").write(np.ascontiguousarray(env.sh, np.float32).tobytes())
                _uniform(program, "u_light_tint").value = tuple(float(c) for c in env.light)
                _uniform(program, "u_exposure").value = env.exposure
        self.environment = env

    def set_lights(self, lights: Sequence[tuple[Sequence[float], Sequence[float]]] = LIGHTS) -> None:
        """Light the jewelry with these lights from now on: (direction of travel in the camera frame,
        linear radiance) each, as many as LIGHTS (the studio's key, fill, rim and bounce, the default).
        A product video moves them from frame to frame."""
        if len(lights) != len(LIGHTS):
            raise RenderError(f"the renderer takes {len(LIGHTS)} lights, got {len(lights)}")
        dirs = np.array([d for d, _ in lights], np.float32)
        colours = np.array([c for _, c in lights], np.float32)
        if dirs.shape != (len(LIGHTS), 3) or colours.shape != (len(LIGHTS), 3) or not np.isfinite(dirs).all() \
                or not np.isfinite(colours).all() or (np.linalg.norm(dirs, axis=1) < 1e-6).any():
            raise RenderError("each light needs a non-zero finite direction (3) and a finite radiance (3)")
        with self._ctx:
            for program in self._all_programs:
                _uniform(program, "u_light_dir").write(dirs.tobytes())
                _uniform(program, "u_light_color").write(colours.tobytes())

    @property
    def _all_programs(self) -> list[moderngl.Program]:
        return [*self._programs.values(), *self._tinted.values()]

    # -- lifetime ------------------------------------------------------------------------------------------
    @property
    def _ctx(self) -> moderngl.Context:
        """This renderer's EGL context, while it is open."""
        if self._context is None:
            raise RenderError("the renderer is closed")
        return self._context

    def close(self) -> None:
        """Free every GL object and this renderer's own EGL context (other renderers keep theirs)."""
        if self._context is not None:
            self._context.release()
            self._context = None

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- geometry on this context ------------------------------------------------------------------------
    def upload(self, model: ItemModel) -> None:
        """Put the model's geometry on this context now (else it goes up on its first draw)."""
        with self._ctx:
            self._upload(model)

    def _upload(self, model: ItemModel
                ) -> tuple[list[moderngl.VertexArray], list[_Instanced | None]]:
        """The model's vertex arrays on this context, single and instanced (uploaded on first use; the
        context must be current). (Contexts do not nest: leaving an inner `with self._ctx` would leave no
        context current.)"""
        entry = self._models.get(id(model))
        if entry is None:  # keyed by id(), so the entry keeps the model alive (its id is never reused)
            single: list[moderngl.VertexArray] = []
            many: list[_Instanced | None] = []
            for p in model.parts:
                kind = material_kind(p.material)
                if p.tint is not None and p.role != "link":  # (a chain's links are drawn instanced, untinted)
                    vbo, ibo = self._indexed(np.hstack([p.vertices, p.tint]))
                    single.append(self._ctx.vertex_array(
                        self._tinted[kind], [(vbo, "3f 3f 3f", "in_position", "in_normal", "in_tint")], ibo))
                else:
                    vbo, ibo = self._indexed(p.vertices)
                    single.append(self._ctx.vertex_array(self._programs[(kind, False)],
                                                         [(vbo, "3f 3f", "in_position", "in_normal")], ibo))
                if p.role != "link":
                    many.append(None)
                    continue
                coarse = self._indexed(simplified(p.vertices))
                box = box_proxy(p.vertices)
                levels = [(vbo, ibo), coarse, coarse if box is None else self._indexed(box)]
                many.append(tuple(self._ctx.vertex_array(
                    self._programs[(kind, True)], [(b, "3f 3f", "in_position", "in_normal"),
                                                   (self._instances, "16f/i", "in_cam_T_part")], i)
                    for b, i in levels))
            entry = self._models[id(model)] = (model, single, many)
        return entry[1], entry[2]

    def _indexed(self, vertices: np.ndarray) -> tuple[moderngl.Buffer, moderngl.Buffer]:
        """Vertex and index buffers: a vertex shared by several triangles (same position and normal) is
        stored and shaded once."""
        unique, index = np.unique(np.ascontiguousarray(vertices, np.float32), axis=0, return_inverse=True)
        return self._ctx.buffer(unique.tobytes()), self._ctx.buffer(index.astype(np.int32).ravel().tobytes())

    def _vao(self, program: moderngl.Program, data: np.ndarray) -> moderngl.VertexArray:
        vbo = self._ctx.buffer(np.ascontiguousarray(data, np.float32).tobytes())
        return self._ctx.vertex_array(program, [(vbo, "3f", "in_position")])

    def _draw_many(self, vao: moderngl.VertexArray, cam_T_units: np.ndarray) -> None:
        """Draw one part at every pose in cam_T_units (k, 4, 4) (column-major mat4 per instance)."""
        data = np.ascontiguousarray(np.swapaxes(cam_T_units, 1, 2), np.float32).tobytes()
        if len(data) > self._instances.size:
            self._instances.orphan(len(data))
        self._instances.write(data)
        vao.render(moderngl.TRIANGLES, instances=len(cam_T_units))

    # -- drawing ---------------------------------------------------------------------------------------------
    def render(self, anchors: FrameAnchors, placements: list[Placement]) -> RenderLayer:
        """Premultiplied RGBA of the placed items (one region per site), over the union of the regions.
        The head (when tracked) and the frame's capsule occluders (fingers, palms, forearms, neck) hide
        what is behind them; `anchors.covers[site]` what of the frame lies in front of that site's items
        (hair over a necklace), read for each drawn region only."""
        intr = anchors.intrinsics
        head_T = None
        if anchors.head is not None:
            s = anchors.head.scale
            head_T = anchors.head.cam_T_head @ np.diag([s, s, s, 1.0])
        boxes = None
        if anchors.occluders and placements:
            self._upload_capsules(anchors.occluders)
            boxes = capsule_boxes(anchors.occluders, intr)
        patches: list[tuple[Roi, np.ndarray]] = []
        for placed in placements:
            roi = box_roi(np.vstack([m.corners_cam(parts) for m, parts in placed.items]), intr)
            if roi is None:
                continue
            near = None
            if boxes is not None:  # only the capsules in this region (the other hand's fingers are elsewhere)
                near = np.flatnonzero((boxes[:, 0] < roi.x0 + roi.w) & (boxes[:, 2] > roi.x0)
                                      & (boxes[:, 1] < roi.y0 + roi.h) & (boxes[:, 3] > roi.y0))
            head = head_T if head_T is not None and self._reaches(head_T, roi, intr) else None
            rgba = self.draw(roi, intr, list(placed.items), head, near) * np.float32(placed.visible)
            patches.append((roi, covered(rgba, anchors, placed.site, roi)))
        return union_layer(patches, (intr.width_px, intr.height_px))

    def _reaches(self, cam_T_occluder: np.ndarray, roi: Roi, intr: Intrinsics) -> bool:
        """Whether the head occluder's box, posed, can cover any of the region (a ring held away from the
        face: no need to draw the head's 2,000 triangles there)."""
        if self._occluder_corners is None:
            return False
        corners = (self._occluder_corners @ cam_T_occluder.T)[:, :3]
        if corners[:, 2].min() <= Z_NEAR_M:
            return True
        xy = intr.project(corners)
        return bool(xy[:, 0].min() < roi.x0 + roi.w and xy[:, 0].max() > roi.x0
                    and xy[:, 1].min() < roi.y0 + roi.h and xy[:, 1].max() > roi.y0)

    def _upload_capsules(self, capsules: tuple[Capsule, ...]) -> None:
        """This frame's capsules as one depth-only mesh in camera coordinates (rebuilt every frame)."""
        tris = capsule_triangles(capsules)
        with self._ctx:
            data = np.ascontiguousarray(tris, np.float32).tobytes()
            if self._capsule_vbo is None or self._capsule_vbo.size < len(data):
                if self._capsule_vao is not None:
                    self._capsule_vao.release()
                if self._capsule_vbo is not None:
                    self._capsule_vbo.release()
                self._capsule_vbo = self._ctx.buffer(reserve=max(len(data), 1 << 16), dynamic=True)
                self._capsule_vao = self._ctx.vertex_array(self._depth, [(self._capsule_vbo, "3f", "in_position")])
            self._capsule_vbo.write(data)

    def draw(self, roi: Roi, intr: Intrinsics, items: list[tuple[ItemModel, list[np.ndarray]]],
             cam_T_occluder: np.ndarray | None = None, capsules: np.ndarray | None = None) -> np.ndarray:
        """(h, w, 4) float32 premultiplied RGBA, 0..1, of the items in one region; each item comes with its
        parts' camera poses (ItemModel.cam_T_parts). cam_T_occluder: where the head occluder is (None: no
        head); capsules: which of this frame's capsule occluders (`_upload_capsules`) to draw, by index."""
        if capsules is not None and not len(capsules):
            capsules = None
        try:
            with self._ctx:
                fbo = self._target(roi.w * SUPERSAMPLE, roi.h * SUPERSAMPLE)
                fbo.use()
                fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
                self._ctx.enable(moderngl.DEPTH_TEST)
                proj = _mat4(roi_projection(intr, roi))
                if (cam_T_occluder is not None and self._occluder is not None) or capsules is not None:
                    fbo.color_mask = (False, False, False, False)
                    _uniform(self._depth, "u_proj").write(proj)
                    if cam_T_occluder is not None and self._occluder is not None:
                        _uniform(self._depth, "u_cam_T_part").write(_mat4(cam_T_occluder))
                        self._occluder.render(moderngl.TRIANGLES)
                    if capsules is not None and self._capsule_vao is not None:
                        _uniform(self._depth, "u_cam_T_part").write(_mat4(np.eye(4)))
                        k = capsule_vertex_count()
                        for first, count in _runs(capsules):
                            self._capsule_vao.render(moderngl.TRIANGLES, vertices=count * k, first=first * k)
                    fbo.color_mask = (True, True, True, True)
                for program in self._all_programs:
                    _uniform(program, "u_proj").write(proj)
                for model, cam_T_parts in items:
                    single, many = self._upload(model)
                    for part, vao, vao_many, cam_T_part in zip(model.parts, single, many, cam_T_parts, strict=True):
                        kind = material_kind(part.material)
                        if cam_T_part.ndim == 3:
                            if vao_many is not None and len(cam_T_part):
                                _set_material(self._programs[(kind, True)], part.material)
                                size = _size_px(part, cam_T_part, intr)
                                level = 2 if size < FAR_BELOW_PX else 1 if size < LOD_BELOW_PX else 0
                                self._draw_many(vao_many[level], cam_T_part)
                            continue
                        program = self._tinted[kind] if part.tint is not None and part.role != "link" \
                            else self._programs[(kind, False)]
                        _uniform(program, "u_cam_T_part").write(_mat4(cam_T_part))
                        _set_material(program, part.material)
                        vao.render(moderngl.TRIANGLES)
                data = fbo.read(components=4, alignment=1)
        except moderngl.Error as e:
            raise RenderError(f"rendering failed: {e}") from e
        samples = np.frombuffer(data, np.uint8).reshape(roi.h * SUPERSAMPLE, roi.w * SUPERSAMPLE, 4)
        box = cv2.resize(samples, (roi.w, roi.h), interpolation=cv2.INTER_AREA)  # exact 2x2 mean
        return box.astype(np.float32) * np.float32(1.0 / 255.0)

    def _target(self, w: int, h: int) -> moderngl.Framebuffer:
        target = self._targets.get((w, h))
        if target is None:
            ctx = self._ctx
            target = self._targets[(w, h)] = ctx.framebuffer(ctx.renderbuffer((w, h), 4),
                                                             ctx.depth_renderbuffer((w, h)))
        return target


MATERIAL_KINDS = {"metal": 0, "gem": 1, "pearl": 2}  # shaders/jewel.frag's MATERIAL define


def material_kind(m: Material) -> str:
    """Which shader variant draws this material: "gem" (faceted, ior > 0), "pearl", or "metal" (metals
    and plain dielectrics: GGX with F0 from metallic)."""
    return "gem" if m.ior > 0 else "pearl" if m.pearl else "metal"


def _set_material(program: moderngl.Program, m: Material) -> None:
    """The material's uniforms that this variant uses (each variant keeps only its own)."""
    for name, value in (("u_base_color", m.base_color), ("u_metallic", m.metallic), ("u_roughness", m.roughness),
                        ("u_ior", m.ior), ("u_dispersion", m.dispersion)):
        if name in program:
            _uniform(program, name).value = value


def _uniform(program: moderngl.Program, name: str) -> moderngl.Uniform:
    """The program's uniform `name` (moderngl's lookup by name also finds blocks, attributes and varyings)."""
    member = program[name]
    if not isinstance(member, moderngl.Uniform):
        raise RenderError(f"{name} is not a uniform of this shader program")
    return member


def _runs(indices: np.ndarray) -> list[tuple[int, int]]:
    """Sorted indices as (first, count) runs of consecutive ones: [2, 3, 4, 7] -> [(2, 3), (7, 1)]."""
    if not len(indices):
        return []
    breaks = np.flatnonzero(np.diff(indices) != 1) + 1
    starts = np.concatenate([[0], breaks])
    ends = np.concatenate([breaks, [len(indices)]])
    return [(int(indices[a]), int(b - a)) for a, b in zip(starts, ends, strict=True)]


def _size_px(part: Part, cam_T_units: np.ndarray, intr: Intrinsics) -> float:
    """About how many pixels a repeat unit spans: its largest extent at the units' nearest depth."""
    depth = max(float(cam_T_units[:, 2, 3].min()), Z_NEAR_M)
    return part.extent_m * intr.fx / depth


def _area(soup: np.ndarray) -> float:
    t = soup[:, :3].reshape(-1, 3, 3).astype(np.float64)
    return 0.5 * float(np.linalg.norm(np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]), axis=1).sum())


def simplified(vertices: np.ndarray) -> np.ndarray:
    """A small part's simplified mesh (`clustered`): the coarsest grid from LOD_CELLS up that keeps LOD_AREA of
    its surface (a thin wire needs a finer grid than a bead); the part itself when none saves much."""
    area = _area(vertices)
    for cells in range(LOD_CELLS, 2 * LOD_CELLS + 1):
        coarse = clustered(vertices, cells)
        if len(coarse) > 0.75 * len(vertices):
            break
        if _area(coarse) >= LOD_AREA * area:
            return coarse
    return np.asarray(vertices, np.float32)


_BOX_CORNERS = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], np.float64)
_BOX_FACES = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                       [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]])


def box_proxy(vertices: np.ndarray) -> np.ndarray | None:
    """(36, 6) a box standing in for a tiny part: on its principal axes, centred on its vertices, its
    extents in their proportions scaled to the part's surface area; flat normals. None for a part with
    more surface than its convex hull (Cauchy's mean-shadow formula, which the sizing relies on, holds
    for convex bodies; an open link's wire is close enough, a rope's nested wires are not)."""
    pos = vertices[:, :3].astype(np.float64)
    centre = pos.mean(axis=0)
    _, axes = np.linalg.eigh(np.cov((pos - centre).T))
    local = (pos - centre) @ axes
    half = np.maximum(np.abs(local).max(axis=0), 1e-9)
    box_area = 8.0 * (half[0] * half[1] + half[1] * half[2] + half[0] * half[2])
    area = _area(vertices)
    if area > float(trimesh.convex.convex_hull(pos).area):
        # More surface than its hull: intricate, self-hiding (a rope's twisted wires, which also nest
        # into their neighbours), whose shadow no box of either area matches: keep the simplified mesh.
        return None
    half *= np.sqrt(area / box_area)
    corners = (_BOX_CORNERS * half) @ axes.T + centre
    tris = corners[_BOX_FACES]
    normal = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    outward = np.einsum("ij,ij->i", normal, tris.mean(axis=1) - centre) < 0.0
    normal[outward] *= -1.0
    tris[outward] = tris[outward][:, ::-1]
    return np.hstack([tris.reshape(-1, 3), np.repeat(normal, 3, axis=0)]).astype(np.float32)


def clustered(vertices: np.ndarray, cells: int) -> np.ndarray:
    """(m, 6) a coarse version of a small part's (n, 6) triangle soup (position, normal; 3 rows per
    triangle): vertices clustered on a cells^3 grid over its box, each cluster at its mean position moved
    out to its outermost vertex, triangles that collapse dropped (vertex clustering, Rossignac and Borrel
    1993), flat shaded."""
    pos = vertices[:, :3].astype(np.float64)
    lo = pos.min(axis=0)
    cell = max(float(np.ptp(pos, axis=0).max()) / cells, 1e-9)
    keys = np.minimum(np.floor((pos - lo) / cell).astype(np.int64), cells - 1)
    _, cluster = np.unique(keys, axis=0, return_inverse=True)
    cluster = cluster.ravel()
    count = np.bincount(cluster).astype(np.float64)[:, None]
    centre = np.stack([np.bincount(cluster, pos[:, k]) for k in range(3)], axis=1) / count
    # (numpy's stubs type bincount as integer, which it is only without weights)
    normal: np.ndarray = np.stack([np.bincount(cluster, vertices[:, 3 + k]) for k in range(3)], axis=1)
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
    # A cluster's mean lies inside a curved surface: put it back out on the outermost of its vertices (else
    # a thin wire's links come out thinner than they are).
    out = np.full(len(count), -np.inf)
    np.maximum.at(out, cluster, np.einsum("ij,ij->i", pos - centre[cluster], normal[cluster]))
    centre += normal * np.maximum(out, 0.0)[:, None]
    tris = cluster.reshape(-1, 3)
    keep = (tris[:, 0] != tris[:, 1]) & (tris[:, 1] != tris[:, 2]) & (tris[:, 0] != tris[:, 2])
    tris = tris[keep]
    _, first = np.unique(np.sort(tris, axis=1), axis=0, return_index=True)  # one of each doubled triangle
    tris = tris[np.sort(first)]
    # Flat shaded: each new triangle's own normal, turned to agree with its corners' (averaging a thin
    # wire's normals within a cluster cancels them out).
    corners = centre[tris]
    face = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    face /= np.maximum(np.linalg.norm(face, axis=1, keepdims=True), 1e-18)
    face *= np.where(np.einsum("ij,ij->i", face, normal[tris].sum(axis=1)) < 0.0, -1.0, 1.0)[:, None]
    return np.hstack([corners.reshape(-1, 3), np.repeat(face, 3, axis=0)]).astype(np.float32)


def covered(rgba: np.ndarray, anchors: FrameAnchors, site: str, roi: Roi) -> np.ndarray:
    """(h, w, 4) premultiplied `rgba` of a site's region with what lies in front of it there (hair over a
    necklace, `anchors.covers`) taken away."""
    cover = anchors.covers.get(site)
    front = cover(roi.x0, roi.y0, roi.w, roi.h) if cover is not None else None
    return rgba if front is None else rgba * (1.0 - front[..., None])


def union_layer(patches: list[tuple[Roi, np.ndarray]], frame_size: tuple[int, int]) -> RenderLayer:
    """One layer over the union of the regions' (h, w, 4) premultiplied patches (a later patch goes under an
    earlier one where they overlap)."""
    if not patches:
        return RenderLayer(np.zeros((0, 0, 4), np.float32), (0, 0), frame_size)
    if len(patches) == 1:
        r, rgba = patches[0]
        return RenderLayer(rgba, (r.x0, r.y0), frame_size)
    x0 = min(r.x0 for r, _ in patches)
    y0 = min(r.y0 for r, _ in patches)
    x1 = max(r.x0 + r.w for r, _ in patches)
    y1 = max(r.y0 + r.h for r, _ in patches)
    out = np.zeros((y1 - y0, x1 - x0, 4), np.float32)
    for r, rgba in patches:
        dst = out[r.y0 - y0 : r.y0 - y0 + r.h, r.x0 - x0 : r.x0 - x0 + r.w]
        dst += rgba * (1.0 - dst[..., 3:4])  # "over" for premultiplied colour; later patches go under
    return RenderLayer(out, (x0, y0), frame_size)


def capsule_triangles(capsules: tuple[Capsule, ...] | list[Capsule], sides: int = CAPSULE_SIDES) -> np.ndarray:
    """(n, 3) float32 triangle vertices (3 per triangle) of every capsule: a cone frustum between two
    spheres, each part closed; camera metres. Built for all capsules at once (dozens per frame with two
    hands in view); capsule i's vertices are rows [i * k, (i + 1) * k) with k = capsule_vertex_count()."""
    if not capsules:
        return np.zeros((0, 3), np.float32)
    a = np.array([c.a_m for c in capsules], np.float64)
    b = np.array([c.b_m for c in capsules], np.float64)
    ra = np.array([c.radius_a_m for c in capsules])[:, None, None]
    rb = np.array([c.radius_b_m for c in capsules])[:, None, None]
    sphere = _unit_sphere()[None]
    axis = b - a
    length = np.linalg.norm(axis, axis=1, keepdims=True)
    axis = np.where(length >= 1e-6, axis / np.maximum(length, 1e-12), [[0.0, 0.0, 1.0]])  # a ball: any axis
    helper = np.where(np.abs(axis[:, :1]) < 0.9, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]])
    u = np.cross(axis, helper)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    v = np.cross(axis, u)
    ang = np.linspace(0.0, 2.0 * np.pi, sides, endpoint=False)
    dirs = np.cos(ang)[None, :, None] * u[:, None] + np.sin(ang)[None, :, None] * v[:, None]  # (k, sides, 3)
    ring_a = a[:, None] + ra * dirs
    ring_b = b[:, None] + rb * dirs
    nxt = np.roll(np.arange(sides), -1)
    quads = np.stack([ring_a, ring_b, ring_b[:, nxt], ring_a, ring_b[:, nxt], ring_a[:, nxt]], axis=2)
    parts = [sphere * ra + a[:, None], sphere * rb + b[:, None], quads.reshape(len(capsules), -1, 3)]
    return np.concatenate(parts, axis=1).reshape(-1, 3).astype(np.float32)


def capsule_vertex_count(sides: int = CAPSULE_SIDES) -> int:
    return 2 * len(_unit_sphere()) + 6 * sides


def capsule_boxes(capsules: tuple[Capsule, ...] | list[Capsule], intr: Intrinsics) -> np.ndarray:
    """(k, 4) each capsule's screen box (x0, y0, x1, y1) in pixels; a capsule reaching behind the near
    plane gets the whole screen."""
    ends = np.array([[c.a_m, c.b_m] for c in capsules], np.float64)  # (k, 2, 3)
    radii = np.array([[c.radius_a_m, c.radius_b_m] for c in capsules], np.float64)
    z = ends[..., 2]
    near = (z - radii).min(axis=1) <= Z_NEAR_M
    z = np.maximum(z - radii, Z_NEAR_M)  # the near side: the largest the sphere can look
    xy = np.stack([intr.fx * ends[..., 0] / z + intr.cx, intr.fy * ends[..., 1] / z + intr.cy], axis=-1)
    r = radii * max(intr.fx, intr.fy) / z
    box = np.concatenate([(xy - r[..., None]).min(axis=1), (xy + r[..., None]).max(axis=1)], axis=1)
    box[near] = (-np.inf, -np.inf, np.inf, np.inf)
    return box


_SPHERE: list[np.ndarray] = []


def _unit_sphere() -> np.ndarray:
    if not _SPHERE:
        s = trimesh.creation.icosphere(subdivisions=1, radius=1.0)
        _SPHERE.append(s.vertices[s.faces].reshape(-1, 3))
    return _SPHERE[0]
