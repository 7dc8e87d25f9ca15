"""One frame's path: tracking -> filters -> anchors -> render -> compositing. No I/O here.

`Pipeline` keeps the per-stream state (MediaPipe trackers, filters, the renderer), so use one per video
or live session, from a single thread (the renderer's EGL context belongs to the thread that made it).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from tryon.anchors.ears import SITES as EAR_SITES
from tryon.anchors.ears import EarVisibility, ear_anchors, hair_cover, lobe_frames, lobe_in_head, skin_model
from tryon.anchors.face_model import FaceModel, load_face_model
from tryon.anchors.head import solve_head_pose
from tryon.compositor.alpha import composite
from tryon.errors import InputError
from tryon.filters import HeadPoseFilter, HoldAndFade, OneEuroFilter, OneEuroParams
from tryon.jewelry.catalog import Catalog, Item
from tryon.render.occluder import head_occluder_mesh
from tryon.render.renderer import Renderer
from tryon.render.scene import ItemModel
from tryon.tracking.face import FaceTracker, check_rgb
from tryon.tracking.segmentation import PersonSegmenter
from tryon.types import AnchorPose, FaceLandmarks, FrameAnchors, HeadPose, Intrinsics, RenderLayer

log = logging.getLogger(__name__)


Mode = Literal["image", "video"]
SITE_GROUPS = {"ears": EAR_SITES}  # a catalog item's site -> the anchor sites it is worn at
# Anchor positions (camera metres): smooth hard when still (1 Hz), open up with speed (beta per m/s;
# at a typical 5 cm/s head motion the cutoff is ~20 Hz, so the lag stays near 0.1 frame). Tuned on the
# synthetic-motion clip of tryon.quality.stability.
ANCHOR_FILTER = OneEuroParams(min_cutoff_hz=1.0, beta=400.0)


@dataclass(frozen=True)
class PipelineOptions:
    mode: Mode = "video"
    hfov_deg: float = 60.0
    segment_every: int = 2  # video: run the person mask every n-th frame (hair moves slowly)
    render: bool = True  # False: tracking and anchors only


class Pipeline:
    """`process(rgb, timestamp_ms) -> rgb` with the worn items drawn; `track` alone gives the anchors."""

    def __init__(
        self, catalog: Catalog, items: Sequence[str] = (), options: PipelineOptions | None = None,
        face_model: FaceModel | None = None,
    ) -> None:
        self.options = options or PipelineOptions()
        self.catalog = catalog
        self.face_model = face_model or load_face_model()
        self._tracker = FaceTracker(self.options.mode)
        self._segmenter = PersonSegmenter()
        self._renderer = Renderer(head_occluder_mesh(self.face_model)) if self.options.render else None
        self._filter = HeadPoseFilter()
        self._hold = HoldAndFade()
        self._visibility = EarVisibility()
        self._anchor_filters = {site: OneEuroFilter(ANCHOR_FILTER) for site in EAR_SITES}
        self._last_anchors: tuple[AnchorPose, ...] = ()
        self.last_layer: RenderLayer | None = None
        self.last_anchors: FrameAnchors | None = None
        self._last_raw: HeadPose | None = None
        self._last_vis: dict[str, float] = {}
        self._person: np.ndarray | None = None
        self._frame_index = 0
        self._models: dict[str, ItemModel] = {}
        self.worn: dict[str, Item] = {}
        self.timings_ms: dict[str, float] = {}
        self.set_items(items)

    # -- items -----------------------------------------------------------------------------------------
    def set_items(self, item_ids: Sequence[str]) -> None:
        """Wear exactly these items (one per site); unknown ids raise UnknownItemError, nothing changes."""
        chosen: dict[str, Item] = {}
        for item_id in item_ids:
            item = self.catalog.get(item_id)
            if item.site not in SITE_GROUPS:
                raise InputError(f"item {item.id} is worn at '{item.site}', which this pipeline cannot track yet")
            if item.site in chosen:
                raise InputError(f"two items for the {item.site}: {chosen[item.site].id} and {item.id}")
            chosen[item.site] = item
        for item in chosen.values():
            if item.id not in self._models:
                self._models[item.id] = ItemModel(item.id, self.catalog.load_scene(item))
        self.worn = chosen
        if self._renderer is not None:
            for group, sites in SITE_GROUPS.items():
                model = self._models[chosen[group].id] if group in chosen else None
                for site in sites:
                    self._renderer.wear(site, model)

    # -- stages ----------------------------------------------------------------------------------------
    def track(self, rgb: np.ndarray, timestamp_ms: int = 0) -> FrameAnchors:
        rgb = check_rgb(rgb)
        h, w = rgb.shape[:2]
        intr = Intrinsics.from_hfov(w, h, self.options.hfov_deg)
        video = self.options.mode == "video"
        t0 = time.perf_counter()
        faces = self._tracker.process(rgb, timestamp_ms)
        face = faces[0] if faces else None
        t1 = time.perf_counter()
        if face is not None and (not video or self._frame_index % max(1, self.options.segment_every) == 0
                                 or self._person is None):
            self._person = self._segmenter.process(rgb)
        t2 = time.perf_counter()
        anchors = self._anchors(face, rgb, intr, timestamp_ms if video else None)
        t3 = time.perf_counter()
        self._frame_index += 1
        self.timings_ms.update(face_mesh=(t1 - t0) * 1e3, segmentation=(t2 - t1) * 1e3, anchors=(t3 - t2) * 1e3)
        return anchors

    def _anchors(
        self, face: FaceLandmarks | None, rgb: np.ndarray, intr: Intrinsics, t_ms: int | None
    ) -> FrameAnchors:
        ts = int(t_ms or 0)
        raw = None
        if face is not None:
            prior = self._last_raw if t_ms is not None else None
            raw = solve_head_pose(face, intr, self.face_model, prior)
            self._last_raw = raw
        if t_ms is None:  # a photo: no smoothing, no history
            if raw is None or face is None:
                return FrameAnchors(ts, intr)
            anchors = self._raw_ear_anchors(face, raw, intr)
            vis = self._ear_visibility(face, anchors, rgb, None)
            return FrameAnchors(ts, intr, face.face_width_px, raw,
                                tuple(dataclasses.replace(a, visible=vis[a.site]) for a in anchors))
        shown, opacity, reset = self._hold.update(raw, float(t_ms))
        if reset:  # back after a long gap: snap to the new pose rather than glide from the old one
            self._filter.reset()
            for f in self._anchor_filters.values():
                f.reset()
        if shown is None:
            self._last_raw = None
            return FrameAnchors(ts, intr)
        if raw is not None and face is not None:
            pose = self._filter(raw)
            raw_anchors = self._raw_ear_anchors(face, raw, intr)
            self._last_vis = self._ear_visibility(face, raw_anchors, rgb, float(t_ms))
            self._last_anchors = tuple(self._smooth(a, pose, intr, float(t_ms)) for a in raw_anchors)
        else:
            pose = shown  # held: the last smoothed pose and anchors
        anchors = tuple(dataclasses.replace(a, visible=self._last_vis.get(a.site, 0.0) * opacity)
                        for a in self._last_anchors)
        width = face.face_width_px if face is not None else 0.0
        return FrameAnchors(ts, intr, width, pose, anchors)

    def _raw_ear_anchors(self, face: FaceLandmarks, head: HeadPose, intr: Intrinsics) -> tuple[AnchorPose, ...]:
        """This frame's ear anchors, unsmoothed and fully visible."""
        lobes = {s: lobe_in_head(face, head, intr, s, self.face_model) for s in EAR_SITES}
        return ear_anchors(head, intr, self.face_model, {}, lobes)

    def _smooth(self, raw: AnchorPose, pose: HeadPose, intr: Intrinsics, t_ms: float) -> AnchorPose:
        """The anchor's position through its One Euro filter; its orientation from the smoothed head."""
        m = raw.cam_T_anchor.copy()
        m[:3, 3] = self._anchor_filters[raw.site](m[:3, 3], t_ms)
        m[:3, :3] = pose.cam_T_head[:3, :3] @ lobe_frames(self.face_model)[raw.site][:3, :3]
        return AnchorPose(raw.site, m, raw.visible, intr.project(m[:3, 3][None])[0])

    def _ear_visibility(
        self, face: FaceLandmarks, anchors: tuple[AnchorPose, ...], rgb: np.ndarray, t_ms: float | None
    ) -> dict[str, float]:
        skin = skin_model(rgb, face) if self._person is not None else None
        vis = {}
        for a in anchors:
            hair = hair_cover(rgb, self._person, face, a.xy_px, a.site, skin) if skin is not None else 0.0
            vis[a.site] = self._visibility(face, a.site, hair, t_ms)
        return vis

    def render(self, anchors: FrameAnchors) -> RenderLayer:
        if self._renderer is None:
            raise InputError("this pipeline was made without a renderer")
        t0 = time.perf_counter()
        layer = self._renderer.render(anchors)
        self.timings_ms["render"] = (time.perf_counter() - t0) * 1e3
        return layer

    def process(self, rgb: np.ndarray, timestamp_ms: int = 0) -> np.ndarray:
        """The frame with the worn items drawn on it, (H, W, 3) uint8."""
        anchors = self.track(rgb, timestamp_ms)
        layer = self.render(anchors)
        t0 = time.perf_counter()
        out = composite(rgb, layer)
        self.timings_ms["composite"] = (time.perf_counter() - t0) * 1e3
        self.last_layer, self.last_anchors = layer, anchors
        return out

    def close(self) -> None:
        self._tracker.close()
        self._segmenter.close()
        if self._renderer is not None:
            self._renderer.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
