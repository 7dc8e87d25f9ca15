"""One frame's path: tracking -> anchors -> filters -> render -> compositing. No I/O here.

`Pipeline.process(Frame) -> FrameResult`: every result is a returned value. The pipeline keeps only the
per-stream state (MediaPipe trackers, the per-site filters of tryon.filters, the renderer), so use one per
video or live session, from a single thread (the renderer's EGL context belongs to the thread that made it).
A photo is a fresh stream and one frame: in "image" mode every frame starts with `reset()`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from tryon.anchors import fingers, neck
from tryon.anchors.ears import SITES as EAR_SITES
from tryon.anchors.ears import ear_anchors, hair_cover, lobe_in_head, skin_model
from tryon.anchors.face_model import FaceModel, load_face_model
from tryon.anchors.hair import HairCover
from tryon.anchors.head import solve_head_pose
from tryon.compositor.alpha import composite
from tryon.compositor.neural import Compositor
from tryon.errors import InputError
from tryon.filters.ears import EarFilter
from tryon.filters.hands import HandFilter
from tryon.filters.neck import NeckFilter
from tryon.jewelry.catalog import Catalog, Item
from tryon.render.environment import FrameLight
from tryon.render.occluder import head_occluder_mesh
from tryon.render.reference import renderer_for
from tryon.render.scene import ItemModel, item_model, place
from tryon.tracking.face import FaceTracker, check_rgb
from tryon.tracking.hands import HandTracker
from tryon.tracking.pose import PoseTracker, arms, elbow_for
from tryon.tracking.segmentation import PersonSegmenter
from tryon.types import (
    AnchorPose,
    BodyLandmarks,
    Capsule,
    FaceLandmarks,
    Frame,
    FrameAnchors,
    FrameResult,
    HandLandmarks,
    HandSizes,
    Intrinsics,
    NotPlaced,
    RenderLayer,
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


@dataclass(frozen=True)
class Tracking:
    """What the trackers found in one frame. `person`: the person mask (H, W) 0..1, held between its runs in
    video; `body`: the pose, when it ran this frame (`posed`); `gray`: the frame in grey levels, when a stage
    needs it (the hands' widths, the chest's flow)."""

    face: FaceLandmarks | None = None
    person: np.ndarray | None = None
    person_new: bool = False
    body: BodyLandmarks | None = None
    posed: bool = False
    hands: tuple[HandLandmarks, ...] = ()
    gray: np.ndarray | None = None


class Pipeline:
    """`process(Frame) -> FrameResult` with the worn items drawn; `track(Frame) -> FrameAnchors` alone gives
    the anchors.

    Only the trackers the worn items need run: the face mesh (and person mask) for earrings, MediaPipe hands
    for rings, bracelets and watches, the pose for wrist pieces and necklaces.
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
        self._renderer = (renderer_for(self.options.shading, head_occluder_mesh(self.face_model))
                          if self.options.render else None)
        self._light = FrameLight()
        self._ears = EarFilter(self.face_model)
        self._neck = NeckFilter()
        self._hands = {h: HandFilter() for h in HANDS}
        # The camera's look on the render (in video read every light_every frames, like the light); None:
        # plain alpha compositing. Missing weights: it composites plainly by itself, with one warning.
        self.compositor = (Compositor(look_every=self.options.light_every if self.options.mode == "video" else 1)
                           if self.options.use_compositor and self.options.render else None)
        self._models: dict[str, ItemModel] = {}
        self.placements: list[Worn] = []
        self.reset()
        self.set_items(items)

    def reset(self) -> None:
        """A new stream (a cut in a video; every photo): every filter empty, nothing held."""
        self._ears.reset()
        self._neck.reset()
        for hand in self._hands.values():
            hand.reset()
        self._light.reset()
        if self.compositor is not None:
            self.compositor.reset()
        self._frame_index = 0
        self._light_index = 0
        self._person: np.ndarray | None = None  # video: the last person mask (it runs every segment_every)
        self._hair_cover: dict[str, float] = {}  # per ear, measured on the person mask's frame; {}: measure
        self._arms: list[tuple[np.ndarray, np.ndarray]] = []  # the last pose's forearms, for the wrists

    # -- items -----------------------------------------------------------------------------------------
    def set_items(self, specs: Sequence[str]) -> None:
        """Wear exactly these items: "id" or "id@where" (where: a finger such as "index" or "left_ring", a
        wrist such as "left_wrist"). Unknown ids raise UnknownItemError and bad places InputError; then
        nothing changes."""
        chosen = resolve_specs(self.catalog, specs)
        for w in chosen:
            if w.item.id not in self._models:
                self._models[w.item.id] = item_model(self.catalog, w.item)
                if self._renderer is not None:
                    self._renderer.upload(self._models[w.item.id])
        self.placements = chosen
        self._ears.set_drop(max((self._models[w.item.id].hang_length_m for w in chosen if w.item.site == "ears"),
                                default=0.0))

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
    def process(self, frame: Frame) -> FrameResult:
        """The frame with the worn items drawn on it, and everything learnt on the way."""
        timings: dict[str, float] = {}
        anchors = self._track(frame, timings)
        layer = self._render(anchors, frame, timings)
        t0 = time.perf_counter()
        out = self.compositor(frame.rgb, layer) if self.compositor is not None else composite(frame.rgb, layer)
        timings["composite"] = (time.perf_counter() - t0) * 1e3
        return FrameResult(out, anchors, layer, timings, self.not_placed(anchors))

    def track(self, frame: Frame) -> FrameAnchors:
        """This frame's anchors (tracking, anchors and filters, no rendering)."""
        return self._track(frame, {})

    def _track(self, frame: Frame, timings: dict[str, float]) -> FrameAnchors:
        rgb = check_rgb(frame.rgb)
        if self.options.mode == "image":
            self.reset()
        h, w = rgb.shape[:2]
        intr = Intrinsics.from_hfov(w, h, self.options.hfov_deg)
        t_ms = frame.timestamp_ms if self.options.mode == "video" else 0
        tracking = self._run_trackers(rgb, t_ms, timings)
        t0 = time.perf_counter()
        face_part = self._ear_part(tracking, rgb, intr, t_ms) if "face" in self.trackers() else FrameAnchors(t_ms, intr)
        anchors, occluders, covers = face_part.anchors, face_part.occluders, dict(face_part.covers)
        if self._tracks_neck():
            video_gray = tracking.gray if self.options.mode == "video" else None
            found = self._neck.update(tracking.body, tracking.posed, intr, face_part.head, t_ms, tracking.face,
                                      video_gray)
            if found is not None:
                anchors += (found[0],)
                occluders += found[1]
                if tracking.face is not None and tracking.person is not None:
                    covers[neck.SITE] = HairCover(rgb, tracking.person, tracking.face)
        sizes: tuple[HandSizes, ...] = ()
        if "hands" in self.trackers():
            hand_anchors, hand_occluders, sizes = self._hand_part(tracking, intr, t_ms)
            anchors += hand_anchors
            occluders += hand_occluders
        timings["anchors"] = (time.perf_counter() - t0) * 1e3
        self._frame_index += 1
        return dataclasses.replace(face_part, anchors=anchors, occluders=occluders, hands=sizes, covers=covers)

    def _run_trackers(self, rgb: np.ndarray, t_ms: int, timings: dict[str, float]) -> Tracking:
        """Each tracker the worn items need, at its own rate in video."""
        video = self.options.mode == "video"
        need = self.trackers()
        face, person_new = None, False
        if "face" in need:
            if self._tracker is None:
                steady = None if self.options.steady_face else False
                self._tracker, self._segmenter = FaceTracker(self.options.mode, steady=steady), PersonSegmenter()
            t0 = time.perf_counter()
            faces = self._tracker.process(rgb, t_ms)
            face = faces[0] if faces else None
            t1 = time.perf_counter()
            if face is not None and (not video or self._frame_index % max(1, self.options.segment_every) == 0
                                     or self._person is None):
                assert self._segmenter is not None
                self._person, person_new = self._segmenter.process(rgb), True
            timings.update(face_mesh=(t1 - t0) * 1e3, segmentation=(time.perf_counter() - t1) * 1e3)
        every = self.options.neck_pose_every if self._tracks_neck() else self.options.pose_every
        body: BodyLandmarks | None = None
        posed = "pose" in need and (not video or self._frame_index % max(1, every) == 0)
        if posed:
            t0 = time.perf_counter()
            if self._pose_tracker is None:
                self._pose_tracker = PoseTracker(self.options.mode)
            body = self._pose_tracker.process(rgb, t_ms)
            self._arms = arms(body)
            timings["pose"] = (time.perf_counter() - t0) * 1e3
        hands: tuple[HandLandmarks, ...] = ()
        if "hands" in need:
            if self._hand_tracker is None:
                self._hand_tracker = HandTracker(self.options.mode, mirrored=self.options.mirrored)
            t0 = time.perf_counter()
            hands = self._hand_tracker.process(rgb, t_ms)
            timings["hands"] = (time.perf_counter() - t0) * 1e3
        # Grey levels, once: the chest's flow (necklaces, video) and the finger and wrist widths (hands).
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if (self._tracks_neck() and video) or "hands" in need else None
        return Tracking(face, self._person if face is not None else None, person_new, body, posed, hands, gray)

    def _ear_part(self, tracking: Tracking, rgb: np.ndarray, intr: Intrinsics, t_ms: int) -> FrameAnchors:
        """The head pose and the ear anchors, through the ears' filter."""
        face, raw, raw_anchors = tracking.face, None, ()
        if face is not None:
            raw = solve_head_pose(face, intr, self.face_model, self._ears.prior)
            lobes = {s: lobe_in_head(face, raw, intr, s, self.face_model) for s in EAR_SITES}
            raw_anchors = ear_anchors(raw, intr, self.face_model, {}, lobes)
            # Hair cover is measured on the frames whose person mask is new (every segment_every-th in
            # video) and held in between: the mask itself is held, and hair moves slowly.
            if tracking.person is not None and (tracking.person_new or not self._hair_cover):
                skin = skin_model(rgb, face)
                self._hair_cover = {a.site: hair_cover(rgb, tracking.person, face, a.xy_px, a.site, skin)
                                    for a in raw_anchors}
        ears = self._ears.update(face, raw, raw_anchors, self._hair_cover, intr, float(t_ms))
        if ears.head is None:
            return FrameAnchors(t_ms, intr)
        width = face.face_width_px if face is not None else 0.0
        return FrameAnchors(t_ms, intr, width, ears.head, ears.anchors)

    def _hand_part(self, tracking: Tracking, intr: Intrinsics, t_ms: int
                   ) -> tuple[tuple[AnchorPose, ...], tuple[Capsule, ...], tuple[HandSizes, ...]]:
        by_side: dict[str, HandLandmarks] = {}
        for hand in tracking.hands:  # largest first: with two left hands in view, the bigger one
            by_side.setdefault(hand.side, hand)
        assert tracking.gray is not None
        gray = tracking.gray.astype(np.float32)  # (cvtColor, not numpy's mean over channels: that cost 5 ms)
        anchors: list[AnchorPose] = []
        occluders: list[Capsule] = []
        sizes: list[HandSizes] = []
        for side in HANDS:
            hand = by_side.get(side)
            elbow = None
            if hand is not None and self._arms:
                size = float(np.ptp(hand.points_px[:, :2], axis=0).max())
                elbow = elbow_for(self._arms, hand.points_px[0, :2].astype(np.float64), size)
            result = self._hands[side].update(hand, gray, intr, t_ms, elbow)
            if result is not None:
                a, o, sz = result
                anchors += a
                occluders += o
                sizes.append(sz)
        return tuple(anchors), tuple(occluders), tuple(sizes)

    def not_placed(self, anchors: FrameAnchors) -> tuple[NotPlaced, ...]:
        """The worn pieces with no visible anchor in this frame, each with the reason."""
        missing = []
        for w in self.placements:
            shown = [a for s in w.sites if (a := anchors.get(s)) is not None and a.visible >= 0.5]
            if shown:
                continue
            found = [a for s in w.sites if anchors.get(s) is not None]
            missing.append(NotPlaced(w.item.id, w.where, _reason(w.item.site, w.where, bool(found),
                                                                  anchors.head is not None)))
        return tuple(missing)

    def render(self, anchors: FrameAnchors, frame: Frame) -> RenderLayer:
        """The worn items drawn for these anchors; the frame lights them (the room's light is taken from it
        every `light_every` frames in video, from every photo)."""
        return self._render(anchors, frame, {})

    def _render(self, anchors: FrameAnchors, frame: Frame, timings: dict[str, float]) -> RenderLayer:
        if self._renderer is None:
            raise InputError("this pipeline was made without a renderer")
        t0 = time.perf_counter()
        if self.placements and self._renderer.shading == "photoreal":
            video = self.options.mode == "video"
            if not video or self._light_index % max(1, self.options.light_every) == 0:
                self._renderer.set_environment(self._light(frame.rgb, video))
            self._light_index += 1
            timings["light"] = (time.perf_counter() - t0) * 1e3
        worn: dict[str, list[ItemModel]] = {}
        for w in self.placements:
            for site in w.sites:
                worn.setdefault(site, []).append(self._models[w.item.id])
        placed = place(worn, anchors.anchors, frame.dial_time_s, self.options.mirror_display)
        layer = self._renderer.render(anchors, placed)
        timings["render"] = (time.perf_counter() - t0) * 1e3
        return layer

    def close(self) -> None:
        for part in (self._tracker, self._segmenter, self._hand_tracker, self._pose_tracker, self._renderer):
            if part is not None:
                part.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _reason(site: str, where: str, found: bool, face: bool) -> str:
    """Why a piece at `site` was not drawn: its anchor was found but hidden, or not found at all."""
    if site == "ears":
        return "the ears are hidden (hair or the head's turn)" if found else "no face found"
    if site == "neck":
        return "the neck is hidden" if found else "no shoulders found" if face else "no face or shoulders found"
    hand = "left hand" if where.startswith("left") else "right hand" if where.startswith("right") else "hand"
    return f"the {hand} is hidden" if found else f"no {hand} found"
