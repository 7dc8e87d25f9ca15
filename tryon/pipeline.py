"""One frame's path: tracking -> filters -> anchors -> render -> compositing. No I/O here.

`Pipeline` keeps the per-stream state (MediaPipe trackers, filters, the renderer), so use one per video
or live session, from a single thread (the renderer's EGL context belongs to the thread that made it).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from tryon.anchors import fingers, neck, wrist
from tryon.anchors.ears import SITES as EAR_SITES
from tryon.anchors.ears import EarVisibility, ear_anchors, hair_cover, lobe_frames, lobe_in_head, skin_model
from tryon.anchors.face_model import FaceModel, load_face_model
from tryon.anchors.hair import HairCover
from tryon.anchors.head import solve_head_pose
from tryon.compositor.alpha import composite
from tryon.compositor.neural import Compositor
from tryon.errors import InputError
from tryon.filters import HeadPoseFilter, HoldAndFade, OneEuroFilter, OneEuroParams, RigidFilter
from tryon.jewelry.catalog import Catalog, Item
from tryon.physics import Pendulum
from tryon.render.drape import drape_for, pendant_rest
from tryon.render.environment import FrameLight
from tryon.render.occluder import head_occluder_mesh
from tryon.render.renderer import Renderer, Roi
from tryon.render.scene import ItemModel, hang_rotation, place
from tryon.tracking.face import FaceTracker, check_rgb
from tryon.tracking.flow import FlowCarrier
from tryon.tracking.hands import HandTracker
from tryon.tracking.pose import PoseTracker, arms, elbow_for
from tryon.tracking.segmentation import PersonSegmenter
from tryon.types import (
    AnchorPose,
    BodyLandmarks,
    Capsule,
    FaceLandmarks,
    FrameAnchors,
    HandLandmarks,
    HandSizes,
    HeadPose,
    Intrinsics,
    RenderLayer,
    Size,
)

log = logging.getLogger(__name__)


Mode = Literal["image", "video"]
HANDS = ("left", "right")
# Where an item can be worn ("item@where"): the anchor sites each choice covers. A catalog item's own site
# ("ears", "finger", "wrist", "neck") is its default: both ears; the ring finger of whichever hand is seen; both
# wrists; the neck.
PLACES: dict[str, dict[str, tuple[str, ...]]] = {
    "ears": {"ears": EAR_SITES},
    "finger": {
        "finger": tuple(f"{h}_ring" for h in HANDS),
        **{f: tuple(f"{h}_{f}" for h in HANDS) for f in fingers.FINGERS},
        **{f"{h}_{f}": (f"{h}_{f}",) for h in HANDS for f in fingers.FINGERS},
    },
    "wrist": {"wrist": tuple(f"{h}_wrist" for h in HANDS), **{f"{h}_wrist": (f"{h}_wrist",) for h in HANDS}},
    "neck": {"neck": (neck.SITE,)},
}
# Two rings stacked on a finger; a watch and a bracelet; two necklaces layered (each drapes by its length).
MAX_PER_SITE = {"ears": 1, "finger": 2, "wrist": 2, "neck": 2}
# Anchor positions (camera metres): smooth hard when still (1 Hz), open up with speed (beta per m/s;
# at a typical 5 cm/s head motion the cutoff is ~20 Hz, so the lag stays near 0.1 frame). Tuned on the
# synthetic-motion clip of tryon.quality.stability.
ANCHOR_FILTER = OneEuroParams(min_cutoff_hz=1.0, beta=400.0)


# Drop earrings: a damped pendulum at each lobe (tryon.physics), long enough for the hook's own turn.
DROP_MIN_LENGTH_M = 0.02
DROP_DAMPING = 0.35
DROP_DRIVE_HZ = 4.0  # the lobe's acceleration, low-passed (tracking noise differentiated twice is loud)
DROP_FRICTION_M_S2 = 0.25  # smaller accelerations (a tremor, tracking noise) do not move the drop
DROP_DEPTH_FILTER = OneEuroParams(min_cutoff_hz=1.0 / (2.0 * np.pi * 0.5), beta=0.0)  # a plain 0.5 s low-pass

# Hands: the hand's pose (rotation and position of each anchor) smoothed like the head's; sizes slowly.
HAND_FILTER = OneEuroParams(min_cutoff_hz=1.0, beta=300.0)
HAND_ROTATION_FILTER = OneEuroParams(min_cutoff_hz=1.5, beta=3.0)
SIZE_FILTER = OneEuroParams(min_cutoff_hz=0.2, beta=0.0)
# The torso (necklaces): MediaPipe pose already smooths its landmarks in video; this keeps the chain still
# when the body is, and follows at walking speeds.
TORSO_FILTER = OneEuroParams(min_cutoff_hz=1.0, beta=300.0)
TORSO_ROTATION_FILTER = OneEuroParams(min_cutoff_hz=0.3, beta=0.5)


@dataclass(frozen=True)
class PipelineOptions:
    mode: Mode = "video"
    hfov_deg: float = 60.0
    segment_every: int = 3  # video: run the person mask every n-th frame (hair moves slowly: 10 Hz at 30 fps)
    render: bool = True  # False: tracking and anchors only
    track: frozenset[str] = frozenset()  # what to track even with nothing worn: "face", "hands", "neck"
    mirrored: bool = False  # the frames are mirror images (a selfie camera that flips them)
    mirror_display: bool = False  # the output is shown mirrored: watch dials are drawn to read right there
    pose_every: int = 3  # video, wrist pieces: run the pose (forearm direction) every n-th frame
    neck_pose_every: int = 3  # video, necklaces: run the pose (shoulders) every n-th frame (the head carries it)
    shading: str = "photoreal"  # or "plain" (tryon.render.renderer.SHADINGS)
    light_every: int = 4  # video: take the room's light from the frame every n-th frame
    use_compositor: bool = True  # the neural compositor (tryon.compositor.neural); False: plain alpha compositing
    steady_face: bool = True  # video: the face mesh reads a face-steadied copy (tryon.tracking.crop)


@dataclass(frozen=True)
class Worn:
    """One worn item: where it was asked to go ("ears", "ring", "left_index", "wrist", ...) and the anchor
    sites that covers."""

    item: Item
    where: str
    sites: tuple[str, ...]

    @property
    def spec(self) -> str:
        """How to ask for it again: "id" or "id@where"."""
        return self.item.id if self.where == self.item.site else f"{self.item.id}@{self.where}"


def place_keys(placements: Sequence[Worn]) -> list[str]:
    """Each placement's key: where it was asked for, with "/2" for a second item at the same place."""
    keys: list[str] = []
    for w in placements:
        keys.append(w.where if w.where not in keys else f"{w.where}/2")
    return keys


def resolve_specs(catalog: Catalog, specs: Sequence[str]) -> list[Worn]:
    """The placements for item specs: "id" or "id@where" (where: a finger such as "index" or "left_ring", a
    wrist such as "left_wrist"). Unknown ids raise UnknownItemError, bad places and crowded sites InputError."""
    chosen: list[Worn] = []
    per_site: dict[str, list[str]] = {}
    for spec in specs:
        item_id, _, where = str(spec).partition("@")
        item = catalog.get(item_id.strip())
        places = PLACES.get(item.site)
        if places is None:
            raise InputError(f"item {item.id} is worn at '{item.site}', which this pipeline cannot track yet")
        where = where.strip() or item.site
        sites = places.get(where)
        if sites is None:
            raise InputError(f"{item.id} cannot be worn at {where!r}; choose one of: {', '.join(places)}")
        for site in sites:
            taken = per_site.setdefault(site, [])
            if len(taken) >= MAX_PER_SITE[item.site]:
                what = "two items for the ears" if item.site == "ears" else f"too many items at {site}"
                raise InputError(f"{what}: {', '.join(taken)} and {item.id}")
            taken.append(item.id)
        chosen.append(Worn(item, where, sites))
    return chosen


class Pipeline:
    """`process(rgb, timestamp_ms) -> rgb` with the worn items drawn; `track` alone gives the anchors.

    Only the trackers the worn items need run: the face mesh (and person mask) for earrings, MediaPipe hands
    for rings, bracelets and watches.
    """

    def __init__(
        self, catalog: Catalog, items: Sequence[str] = (), options: PipelineOptions | None = None,
        face_model: FaceModel | None = None,
    ) -> None:
        self.options = options or PipelineOptions()
        self.catalog = catalog
        self.face_model = face_model or load_face_model()
        self._tracker: FaceTracker | None = None
        self._segmenter: PersonSegmenter | None = None
        self._hand_tracker: HandTracker | None = None
        self._pose_tracker: PoseTracker | None = None
        self._arms: list[tuple[np.ndarray, np.ndarray]] = []
        self._neck = _NeckState()
        self._last_face: FaceLandmarks | None = None
        self._hair: HairCover | None = None
        self._renderer = (Renderer(head_occluder_mesh(self.face_model), shading=self.options.shading)
                          if self.options.render else None)
        self._light = FrameLight()
        self._light_index = 0
        self._filter = HeadPoseFilter()
        self._hold = HoldAndFade()
        self._visibility = EarVisibility()
        self._anchor_filters = {site: OneEuroFilter(ANCHOR_FILTER) for site in EAR_SITES}
        self._drops: dict[str, Pendulum] = {}  # per ear: a drop earring's swing (set_items makes them)
        self._drop_depth = {site: OneEuroFilter(DROP_DEPTH_FILTER) for site in EAR_SITES}  # per ear, metres
        self._hand_state: dict[str, _HandState] = {h: _HandState() for h in HANDS}
        self._last_anchors: tuple[AnchorPose, ...] = ()
        self.last_layer: RenderLayer | None = None
        self.last_anchors: FrameAnchors | None = None
        # The camera's look on the render (in video read every light_every frames, like the light); None:
        # plain alpha compositing. Missing weights: it composites plainly by itself, with one warning.
        self.compositor = (Compositor(look_every=self.options.light_every if self.options.mode == "video" else 1)
                           if self.options.use_compositor and self.options.render else None)
        self._last_raw: HeadPose | None = None
        self._last_vis: dict[str, float] = {}
        self._person: np.ndarray | None = None
        self._hair_cover: dict[str, float] = {}  # per ear, measured on the person mask's frame; {}: measure
        self._frame_index = 0
        self._models: dict[str, ItemModel] = {}
        self.placements: list[Worn] = []
        self.timings_ms: dict[str, float] = {}
        self.dial_time_s: float | None = None  # what watches show (seconds past 12:00); None: 10:10:30
        self.set_items(items)

    # -- items -----------------------------------------------------------------------------------------
    def set_items(self, specs: Sequence[str]) -> None:
        """Wear exactly these items: "id" or "id@where" (where: a finger such as "index" or "left_ring", a
        wrist such as "left_wrist"). Unknown ids raise UnknownItemError and bad places InputError; then
        nothing changes."""
        chosen = resolve_specs(self.catalog, specs)
        for w in chosen:
            if w.item.id not in self._models:
                self._models[w.item.id] = self.catalog.model(w.item)
                if self._renderer is not None:
                    self._renderer.upload(self._models[w.item.id])
        self.placements = chosen
        hang = max((self._models[w.item.id].hang_length_m for w in chosen if w.item.site == "ears"), default=0.0)
        if hang <= 0.0:
            self._drops = {}
        elif not self._drops or next(iter(self._drops.values())).length_m != max(hang, DROP_MIN_LENGTH_M):
            # A drop beside the jaw swings both ways. Its hook turns in the piercing too, which makes the
            # swinging length longer than the drop (DROP_MIN_LENGTH_M) and rubs (more damping than a pendant's).
            length = max(hang, DROP_MIN_LENGTH_M)
            self._drops = {s: Pendulum(length_m=length, damping=DROP_DAMPING, max_angle=0.4, out_only=False,
                                       drive_cutoff_hz=DROP_DRIVE_HZ, friction_m_s2=DROP_FRICTION_M_S2)
                           for s in EAR_SITES}

    @property
    def worn(self) -> dict[str, Item]:
        """What is worn, by where it was asked for (a second item at the same place gets "/2")."""
        return {key: w.item for key, w in zip(place_keys(self.placements), self.placements, strict=True)}

    def trackers(self) -> set[str]:
        """The trackers this frame's work runs: "face", "hands", "pose" (for wrist pieces and necklaces)."""
        kinds = {w.item.site for w in self.placements}
        need = set(self.options.track) - {"neck"}
        if "neck" in self.options.track:
            kinds.add("neck")
        if kinds & {"ears", "neck"}:
            need.add("face")  # necklaces: the head's depth, the chin in front, the hair's colour
        if kinds & {"finger", "wrist"}:
            need.add("hands")
        if kinds & {"wrist", "neck"}:
            need.add("pose")
        return need

    def _tracks_neck(self) -> bool:
        return "neck" in self.options.track or any(w.item.site == "neck" for w in self.placements)

    # -- stages ----------------------------------------------------------------------------------------
    def track(self, rgb: np.ndarray, timestamp_ms: int = 0) -> FrameAnchors:
        rgb = check_rgb(rgb)
        h, w = rgb.shape[:2]
        intr = Intrinsics.from_hfov(w, h, self.options.hfov_deg)
        video = self.options.mode == "video"
        need = self.trackers()
        self.timings_ms = {}
        face_part = FrameAnchors(int(timestamp_ms if video else 0), intr)
        if "face" in need:
            face_part = self._track_face(rgb, intr, timestamp_ms)
        necklace = self._tracks_neck()
        every = self.options.neck_pose_every if necklace else self.options.pose_every
        body: BodyLandmarks | None = None
        posed = "pose" in need and (not video or self._frame_index % max(1, every) == 0)
        if posed:
            t0 = time.perf_counter()
            if self._pose_tracker is None:
                self._pose_tracker = PoseTracker(self.options.mode)
            body = self._pose_tracker.process(rgb, timestamp_ms)
            self._arms = arms(body)
            self.timings_ms["pose"] = (time.perf_counter() - t0) * 1e3
        anchors: tuple[AnchorPose, ...] = face_part.anchors
        occluders: tuple[Capsule, ...] = ()
        sizes: tuple[HandSizes, ...] = ()
        # Grey levels, once: the chest's flow (necklaces, video) and the finger and wrist widths (hands).
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if (necklace and video) or "hands" in need else None
        if necklace:
            found = self._neck.update(body, posed, intr, face_part.head, timestamp_ms if video else None,
                                      self._last_face, gray if video else None)
            if found is not None:
                anchors += (found[0],)
                occluders += found[1]
        if "hands" in need:
            assert gray is not None
            hand_anchors, hand_occluders, sizes = self._track_hands(rgb, gray, intr, timestamp_ms if video else None)
            anchors += hand_anchors
            occluders += hand_occluders
        self._frame_index += 1
        return dataclasses.replace(face_part, anchors=anchors, occluders=occluders, hands=sizes)

    def _track_face(self, rgb: np.ndarray, intr: Intrinsics, timestamp_ms: int) -> FrameAnchors:
        video = self.options.mode == "video"
        if self._tracker is None:
            steady = None if self.options.steady_face else False
            self._tracker, self._segmenter = FaceTracker(self.options.mode, steady=steady), PersonSegmenter()
        t0 = time.perf_counter()
        faces = self._tracker.process(rgb, timestamp_ms)
        face = self._last_face = faces[0] if faces else None
        t1 = time.perf_counter()
        if face is not None and (not video or self._frame_index % max(1, self.options.segment_every) == 0
                                 or self._person is None):
            assert self._segmenter is not None
            self._person = self._segmenter.process(rgb)
            self._hair_cover = {}  # a new mask: measure the hair over the ears again
        necklace = self._tracks_neck()
        self._hair = None
        if necklace and face is not None and self._person is not None:
            self._hair = HairCover(rgb, self._person, face)
        t2 = time.perf_counter()
        anchors = self._anchors(face, rgb, intr, timestamp_ms if video else None)
        t3 = time.perf_counter()
        self.timings_ms.update(face_mesh=(t1 - t0) * 1e3, segmentation=(t2 - t1) * 1e3, anchors=(t3 - t2) * 1e3)
        return anchors

    def _track_hands(self, rgb: np.ndarray, gray_u8: np.ndarray, intr: Intrinsics, t_ms: int | None
                     ) -> tuple[tuple[AnchorPose, ...], tuple[Capsule, ...], tuple[HandSizes, ...]]:
        if self._hand_tracker is None:
            self._hand_tracker = HandTracker(self.options.mode, mirrored=self.options.mirrored)
        t0 = time.perf_counter()
        found = self._hand_tracker.process(rgb, t_ms or 0)
        t1 = time.perf_counter()
        gray = gray_u8.astype(np.float32)  # (cvtColor, not numpy's mean over channels: that cost 5 ms)
        by_side: dict[str, HandLandmarks] = {}
        for hand in found:  # largest first: with two left hands in view, the bigger one
            by_side.setdefault(hand.side, hand)
        anchors: list[AnchorPose] = []
        occluders: list[Capsule] = []
        sizes: list[HandSizes] = []
        for side in HANDS:
            hand = by_side.get(side)
            elbow = None
            if hand is not None and self._arms:
                size = float(np.ptp(hand.points_px[:, :2], axis=0).max())
                elbow = elbow_for(self._arms, hand.points_px[0, :2].astype(np.float64), size)
            result = self._hand_state[side].update(hand, gray, intr, t_ms, elbow)
            if result is not None:
                a, o, sz = result
                anchors += a
                occluders += o
                sizes.append(sz)
        self.timings_ms.update(hands=(t1 - t0) * 1e3, hand_anchors=(time.perf_counter() - t1) * 1e3)
        return tuple(anchors), tuple(occluders), tuple(sizes)

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
            for drop in self._drops.values():
                drop.reset()
            for depth_filter in self._drop_depth.values():
                depth_filter.reset()
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
        swing = (0.0, 0.0)
        drop = self._drops.get(raw.site)
        if drop is not None:  # driven by the filtered lobe's motion, in the frame where the drop hangs at rest
            # The lobe's depth (from the iris's size) jitters by millimetres on a still head, its pixel by a
            # fraction of one: the pendulum sees the pixel's ray at a slowly smoothed depth.
            depth = float(self._drop_depth[raw.site](m[2:3, 3], t_ms)[0])
            rest = m @ hang_rotation(m)
            swing = drop.swing(m[:3, 3] * (depth / m[2, 3]), rest[:3, :3], t_ms)
        return AnchorPose(raw.site, m, raw.visible, intr.project(m[:3, 3][None])[0], swing_rad=swing)

    def _ear_visibility(
        self, face: FaceLandmarks, anchors: tuple[AnchorPose, ...], rgb: np.ndarray, t_ms: float | None
    ) -> dict[str, float]:
        # Hair cover is measured on the frames whose person mask is new (every segment_every-th in video)
        # and held in between: the mask itself is held, and hair moves slowly.
        if self._person is not None and (t_ms is None or not self._hair_cover):
            skin = skin_model(rgb, face)
            self._hair_cover = {a.site: hair_cover(rgb, self._person, face, a.xy_px, a.site, skin) for a in anchors}
        return {a.site: self._visibility(face, a.site, self._hair_cover.get(a.site, 0.0), t_ms) for a in anchors}

    def render(self, anchors: FrameAnchors, rgb: np.ndarray | None = None) -> RenderLayer:
        """The worn items drawn for these anchors; rgb (the frame) lights them (the room's light is taken
        from it every `light_every` frames in video, from every photo)."""
        if self._renderer is None:
            raise InputError("this pipeline was made without a renderer")
        t0 = time.perf_counter()
        if rgb is not None and self.placements and self._renderer.shading == "photoreal":
            video = self.options.mode == "video"
            if not video or self._light_index % max(1, self.options.light_every) == 0:
                self._renderer.set_environment(self._light(rgb, video))
            self._light_index += 1
            self.timings_ms["light"] = (time.perf_counter() - t0) * 1e3
        worn: dict[str, list[ItemModel]] = {}
        for w in self.placements:
            for site in w.sites:
                worn.setdefault(site, []).append(self._models[w.item.id])
        placed = place(worn, anchors.anchors, self.dial_time_s, self.options.mirror_display)
        layer = self._renderer.render(anchors, placed, self._cover if self._hair is not None else None)
        self.timings_ms["render"] = (time.perf_counter() - t0) * 1e3
        return layer

    def _cover(self, site: str, roi: Roi) -> np.ndarray | None:
        """Hair in front of a necklace, in its region."""
        return self._hair(roi.x0, roi.y0, roi.w, roi.h) if site == neck.SITE and self._hair is not None else None

    def process(self, rgb: np.ndarray, timestamp_ms: int = 0) -> np.ndarray:
        """The frame with the worn items drawn on it, (H, W, 3) uint8."""
        anchors = self.track(rgb, timestamp_ms)
        layer = self.render(anchors, rgb)
        t0 = time.perf_counter()
        out = self.compositor(rgb, layer) if self.compositor is not None else composite(rgb, layer)
        self.timings_ms["composite"] = (time.perf_counter() - t0) * 1e3
        self.last_layer, self.last_anchors = layer, anchors
        return out

    def close(self) -> None:
        for part in (self._tracker, self._segmenter, self._hand_tracker, self._pose_tracker, self._renderer):
            if part is not None:
                part.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _NeckState:
    """The torso through time, for necklaces.

    MediaPipe's shoulder points are noisy (5 to 10 px spread on a photo moved by known amounts), the face
    mesh is precise (about 0.5 px). So with a face in view the notch is carried by the point where the head
    turns on the neck (NECK_PIVOT_HEAD_M: turning or nodding the head hardly moves it, moving the body
    does), plus the notch's offset from that point, in camera metres, through a filter (the neck's length
    and posture change slowly; the offset's own turn with the camera's roll is followed within a second).
    The torso's rotation and the body's scale come from the shoulders through One Euro filters. Without a
    face: the shoulders alone.

    Where the chest below the neck has texture (clothes, a neckline, jewellery already worn), sparse optical
    flow follows it from frame to frame (tryon.tracking.flow): the notch's pixel and the shoulder line's roll
    move with the picture there, to a fraction of a pixel, and the pose pulls them back a little on each
    run (FLOW_CORRECTION) so they cannot drift; the depth stays the head's. Bare skin or a plain shirt
    gives no flow, and the scheme above carries on alone. Hold-and-fade when the shoulders leave; the
    pendant's swing on top.
    """

    def __init__(self) -> None:
        self._hold = HoldAndFade()
        self._pendulum = Pendulum()
        self._reset()

    def _reset(self) -> None:
        self._pose = RigidFilter(TORSO_ROTATION_FILTER, TORSO_FILTER)
        self._scale_filter = OneEuroFilter(SIZE_FILTER)
        self._offset_filter = OneEuroFilter(NECK_OFFSET_FILTER)
        self._notch_filter = OneEuroFilter(NOTCH_HEIGHT_FILTER)
        self._pendulum.reset()
        self._torso: np.ndarray | None = None  # filtered cam_T_torso from the shoulders
        self._scale = 1.0
        self._offset: np.ndarray | None = None  # notch - neck pivot, camera metres, filtered
        self._opacity = 0.0
        self._flow = FlowCarrier(FLOW_CORRECTION)  # the notch's pixel and the shoulder line's image angle

    def update(self, body: BodyLandmarks | None, measured: bool, intr: Intrinsics, head: HeadPose | None,
               t_ms: int | None, face: FaceLandmarks | None = None, gray: np.ndarray | None = None
               ) -> tuple[AnchorPose, tuple[Capsule, ...]] | None:
        """measured: the pose ran this frame (else `body` is None and the last torso is carried on, by the
        head's neck pivot when the face is seen). head: this frame's smoothed head pose, if any; face: its
        landmarks. The notch's height is the mean of the shoulders' prior and the chin's cue; in video the
        chin's cue goes through a slow filter, so nodding does not move the necklace. gray: the frame in
        grey levels (float32 or uint8), for the flow."""
        t = None if t_ms is None else float(t_ms)
        notch_up = neck.NOTCH_UP
        cue = neck.notch_up_from_chin(body, face.points_px[152, :2], face.face_width_px) \
            if body is not None and face is not None else None
        if cue is not None:
            blend = np.array([0.5 * (neck.NOTCH_UP + cue)])
            notch_up = float((blend if t is None else self._notch_filter(blend, t))[0])
        elif self._notch_filter.value is not None:
            notch_up = float(self._notch_filter.value[0])
        frame = neck.torso_frame(body, intr, head, notch_up) if body is not None else None
        if t is None:  # a photo
            return None if frame is None else (neck.neck_anchor(*frame, intr), neck.neck_occluders(*frame))
        if measured:
            shown, self._opacity, reset = self._hold.update(frame, t)
            if reset:
                self._reset()
            if shown is None:
                self._torso = None
                return None
            if frame is not None:
                self._torso = self._pose(frame[0], t)
                self._scale = float(self._scale_filter(np.array([frame[1]]), t)[0])
                if head is not None:
                    self._offset = self._offset_filter(frame[0][:3, 3] - _neck_pivot(head), t)
        if self._torso is None:
            return None
        m = self._torso.copy()
        if head is not None and self._offset is not None:
            m[:3, 3] = _neck_pivot(head) + self._offset
        if gray is not None:
            m = self._follow_flow(m, frame[0] if measured and frame is not None else None, gray, intr)
        rest = m @ pendant_rest(drape_for(NOMINAL_PENDANT_CHAIN_M, 0.0, self._scale))
        swing = self._pendulum.swing(rest[:3, 3], rest[:3, :3], t)
        anchor = dataclasses.replace(neck.neck_anchor(m, self._scale, intr, self._opacity), swing_rad=swing)
        return anchor, neck.neck_occluders(m, self._scale)


    def _follow_flow(self, m: np.ndarray, measured: np.ndarray | None, gray: np.ndarray, intr: Intrinsics
                     ) -> np.ndarray:
        """m with its notch pixel and image roll taken from the flow where the chest's texture allows."""
        px = intr.project(m[:3, 3][None])[0]
        roll = _image_roll(m, intr)
        span = self._scale * neck.NOMINAL_SHOULDER_WIDTH_M * intr.fx / max(m[2, 3], 1e-3)
        box = (int(px[0] - 0.3 * span), int(px[1] + 0.03 * span), int(px[0] + 0.3 * span), int(px[1] + 0.4 * span))
        if measured is None:  # between pose runs: the flow alone
            carried = self._flow.step(gray, box, None)
        else:  # each pose run pulls the flow's answer a little toward the pose's
            carried = self._flow.step(gray, box, intr.project(measured[:3, 3][None])[0], _image_roll(measured, intr))
        if not carried or self._flow.px is None:
            self._flow.px, self._flow.angle = px, roll  # no texture to follow: the face and shoulders' answer
            return m
        out = m.copy()
        out[:3, 3] = _on_ray(self._flow.px, m[2, 3], intr)
        turn = self._flow.angle - roll
        c, s = np.cos(turn), np.sin(turn)
        out[:3, :3] = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]) @ m[:3, :3]
        return out


def _on_ray(px: np.ndarray, depth: float, intr: Intrinsics) -> np.ndarray:
    """The camera-frame point at this depth on the pixel's ray."""
    return np.array([(px[0] - intr.cx) / intr.fx, (px[1] - intr.cy) / intr.fy, 1.0]) * depth


def _image_roll(m: np.ndarray, intr: Intrinsics) -> float:
    """The angle of the frame's x axis (the shoulder line) in the image, radians."""
    a, b = intr.project(np.stack([m[:3, 3], m[:3, 3] + 0.1 * m[:3, 0]]))
    return float(np.arctan2(b[1] - a[1], b[0] - a[0]))


def _neck_pivot(head: HeadPose) -> np.ndarray:
    return head.to_camera(NECK_PIVOT_HEAD_M[None])[0]


# Where the head turns on the neck, in the head frame (metres before the person's scale): below and behind
# the face's sides in front of the ears, over the top of the spine.
NECK_PIVOT_HEAD_M = np.array([0.0, -0.035, -0.03])
NECK_OFFSET_FILTER = OneEuroParams(min_cutoff_hz=1.0, beta=0.0)
FLOW_CORRECTION = 0.02  # how far each pose run pulls the flow-carried notch toward the pose's own
NOTCH_HEIGHT_FILTER = OneEuroParams(min_cutoff_hz=0.03, beta=0.0)  # a body constant: learnt over seconds
NOMINAL_PENDANT_CHAIN_M = 0.45  # where the pendulum's pivot is taken to be: a princess chain's lowest point


class _HandState:
    """One hand's (the person's left or right) anchors through time: hold-and-fade when it leaves, snap
    when it returns, One Euro on each anchor's pose and a slow filter on the measured sizes."""

    def __init__(self) -> None:
        self._hold = HoldAndFade()
        self._poses: dict[str, RigidFilter] = {}
        self._sizes: dict[str, OneEuroFilter] = {}
        self._last: tuple[list[AnchorPose], list[Capsule], HandSizes] | None = None

    def update(self, hand: HandLandmarks | None, gray: np.ndarray, intr: Intrinsics, t_ms: int | None,
               elbow_px: np.ndarray | None = None) -> tuple[list[AnchorPose], list[Capsule], HandSizes] | None:
        pose = fingers.hand_pose(hand, intr) if hand is not None else None
        if t_ms is None:  # a photo
            return None if pose is None or hand is None else _hand_anchors(hand, pose, gray, intr, elbow_px)
        shown, opacity, reset = self._hold.update(pose, float(t_ms))
        if reset:
            self._poses.clear()
            self._sizes.clear()
        if shown is None:
            self._last = None
            return None
        if pose is not None and hand is not None:
            anchors, caps, sizes = _hand_anchors(hand, pose, gray, intr, elbow_px,
                                                 lambda key, size: self._smooth_size(key, size, t_ms))
            smoothed = []
            for a in anchors:
                m = self._poses.setdefault(a.site, RigidFilter(HAND_ROTATION_FILTER, HAND_FILTER))(
                    a.cam_T_anchor, float(t_ms))
                smoothed.append(dataclasses.replace(a, cam_T_anchor=m, xy_px=intr.project(m[:3, 3][None])[0]))
            self._last = (smoothed, caps, sizes)
        if self._last is None:
            return None
        anchors, caps, sizes = self._last
        return [dataclasses.replace(a, visible=opacity) for a in anchors], caps, sizes

    def _smooth_size(self, key: str, size: Size, t_ms: int) -> Size:
        f = self._sizes.setdefault(key, OneEuroFilter(SIZE_FILTER))
        v = f(np.array([size.value_mm, size.sigma_mm]), float(t_ms))
        return Size(round(float(v[0]), 2), round(float(v[1]), 2))


def _hand_anchors(hand: HandLandmarks, pose: fingers.HandPose, gray: np.ndarray, intr: Intrinsics,
                  elbow_px: np.ndarray | None = None, smooth: Callable[[str, Size], Size] = lambda key, size: size
                  ) -> tuple[list[AnchorPose], list[Capsule], HandSizes]:
    """One frame's ring anchors on every finger, the wrist anchor, their occluders and the sizes; `smooth`
    (key, measured size) -> size filters each measurement once, before anchors, fits and occluders use it."""
    sizes = {f: smooth(f, fingers.finger_size(gray, hand, pose, f, intr)) for f in fingers.FINGERS}
    anchors = [fingers.ring_anchor(pose, f, sizes[f], intr) for f in fingers.FINGERS]
    axis = wrist.forearm_axis(pose, elbow_px, hand, intr)
    frame = wrist.wrist_frame(pose, axis)
    width, circumference = wrist.wrist_size(gray, hand, frame, intr, pose.scale_sigma)
    width, circumference = smooth("wrist_width", width), smooth("wrist_circumference", circumference)
    anchors.append(wrist.wrist_anchor(pose, frame, width, intr))
    caps = fingers.hand_occluders(pose, sizes) + [wrist.forearm_occluder(frame, axis, width)]
    return anchors, caps, HandSizes(pose.side, sizes, circumference)
