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

import numpy as np

from tryon.anchors import neck
from tryon.anchors.ears import SITES as EAR_SITES
from tryon.anchors.ears import ear_anchors, lobe_in_head
from tryon.anchors.face_model import FaceModel, load_face_model
from tryon.anchors.hair import HairColours, HairCover, ear_covers, hair_colours
from tryon.anchors.hand_cover import Either, HandCover
from tryon.anchors.head import solve_head_pose
from tryon.compositor.alpha import composite
from tryon.compositor.neural import Compositor
from tryon.errors import InputError
from tryon.filters.ears import EarFilter
from tryon.filters.hands import HandFilter
from tryon.filters.neck import NeckFilter
from tryon.jewelry.catalog import Catalog, Item
from tryon.jewelry.places import HANDS, Worn, not_placed, place_keys, resolve_specs
from tryon.render.environment import FrameLight
from tryon.render.occluder import head_occluder_mesh
from tryon.render.reference import renderer_for
from tryon.render.scene import ItemModel, item_model, place
from tryon.tracking.face import check_rgb
from tryon.tracking.pose import elbow_for
from tryon.tracking.trackers import Trackers, Tracking
from tryon.types import (
    AnchorPose,
    Capsule,
    Cover,
    Frame,
    FrameAnchors,
    FrameResult,
    HandLandmarks,
    HandSizes,
    HeadPose,
    Intrinsics,
    RenderLayer,
)

log = logging.getLogger(__name__)


Mode = Literal["image", "video"]
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
        self._trackers = Trackers(self.options.mode, self.options.mirrored, self.options.steady_face,
                                  self.options.segment_every)
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
        self._trackers.reset()
        self._light_index = 0
        self._hair_colours: HairColours | None = None

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
        if self._hands_asked():
            need.add("hands")
        if kinds & {"wrist", "neck"}:
            need.add("pose")
        if "face" in need and self.options.mode == "image":
            need.add("hands")  # a photo's hands hide the earrings and the chain they cover (HandCover)
        return need

    def _hands_asked(self) -> bool:
        """Whether the hands' own anchors are wanted (a ring or a wrist piece worn, or hands asked to be tracked),
        not only their cover over the earrings and the chain."""
        return "hands" in self.options.track or any(w.item.site in ("finger", "wrist") for w in self.placements)

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
        return FrameResult(out, anchors, layer, timings, not_placed(self.placements, anchors))

    def track(self, frame: Frame) -> FrameAnchors:
        """This frame's anchors (tracking, anchors and filters, no rendering)."""
        return self._track(frame, {})

    def _track(self, frame: Frame, timings: dict[str, float]) -> FrameAnchors:
        rgb = check_rgb(frame.rgb)
        if self.options.mode == "image":
            self.reset()
        h, w = rgb.shape[:2]
        intr = Intrinsics.from_hfov(w, h, self.options.hfov_deg)
        video = self.options.mode == "video"
        t_ms = frame.timestamp_ms if video else 0
        need, necklace = self.trackers(), self._tracks_neck()
        pose_every = self.options.neck_pose_every if necklace else self.options.pose_every
        # Grey levels for the chest's flow (necklaces, video); the trackers make them for hands too.
        tracking = self._trackers.run(rgb, t_ms, need, timings, pose_every, necklace and video)
        t0 = time.perf_counter()
        face_part = self._ear_part(tracking, intr, t_ms) if "face" in need else FrameAnchors(t_ms, intr)
        anchors, occluders = face_part.anchors, face_part.occluders
        covers: dict[str, Cover] = {}
        if tracking.face is not None and tracking.person is not None:
            # Hair in front of the ears and the neck hides the pixels of the pieces that it covers. Its colours
            # are measured with each new person mask (every few frames in video) and held in between.
            if tracking.person_new or self._hair_colours is None:
                self._hair_colours = hair_colours(rgb, tracking.person, tracking.face)
            hair = HairCover(rgb, tracking.person, self._hair_colours)
            ears = [a for a in anchors if a.site in EAR_SITES]
            covers = {neck.SITE: hair, **ear_covers(hair, ears, face_part.face_width_px, intr, (h, w))}
        if necklace:
            found = self._neck.update(tracking.body, tracking.posed, intr, face_part.head, t_ms, tracking.face,
                                      tracking.gray if video else None)
            if found is not None:
                anchors += (found[0],)
                occluders += found[1]
        sizes: tuple[HandSizes, ...] = ()
        if "hands" in need:
            hand_anchors, hand_occluders, hand_sizes, in_view = self._hand_part(tracking, intr, t_ms)
            if self._hands_asked():
                anchors += hand_anchors
                occluders += hand_occluders
                sizes = hand_sizes
            if in_view:  # a hand in front of the chain or at an ear hides what it covers there
                hand = HandCover(in_view, intr, tracking.hands)
                for site in (neck.SITE, *EAR_SITES):
                    covers[site] = Either(covers[site], hand) if site in covers else hand
        timings["anchors"] = (time.perf_counter() - t0) * 1e3
        return dataclasses.replace(face_part, anchors=anchors, occluders=occluders, hands=sizes, covers=covers)

    def _ear_part(self, tracking: Tracking, intr: Intrinsics, t_ms: int) -> FrameAnchors:
        """The head pose and the ear anchors, through the ears' filter."""
        face = tracking.face
        raw: HeadPose | None = None
        raw_anchors: tuple[AnchorPose, ...] = ()
        if face is not None:
            raw = solve_head_pose(face, intr, self.face_model, self._ears.prior)
            lobes = {s: lobe_in_head(face, raw, intr, s, self.face_model) for s in EAR_SITES}
            raw_anchors = ear_anchors(raw, intr, self.face_model, {}, lobes)
        ears = self._ears.update(face, raw, raw_anchors, intr, float(t_ms))
        if ears.head is None:
            return FrameAnchors(t_ms, intr)
        width = face.face_width_px if face is not None else 0.0
        return FrameAnchors(t_ms, intr, width, ears.head, ears.anchors)

    def _hand_part(self, tracking: Tracking, intr: Intrinsics, t_ms: int
                   ) -> tuple[tuple[AnchorPose, ...], tuple[Capsule, ...], tuple[HandSizes, ...], tuple[Capsule, ...]]:
        """The hands' anchors, occluders and sizes (held a moment when a hand is lost), and the occluders of the
        hands seen in this frame that hide what lies behind them in the picture (the hand cover): a held hand
        is no longer where it was, and a forearm is left out where no elbow gives its direction."""
        by_side: dict[str, HandLandmarks] = {}
        for hand in tracking.hands:  # largest first: with two left hands in view, the bigger one
            by_side.setdefault(hand.side, hand)
        for hand in tracking.hands:  # then a second hand of one side on the other side's free sites
            free = [s for s in HANDS if s not in by_side]
            if free and all(hand is not h for h in by_side.values()):
                by_side[free[0]] = hand
        assert tracking.gray is not None
        gray = tracking.gray.astype(np.float32)  # (cvtColor, not numpy's mean over channels: that cost 5 ms)
        anchors: list[AnchorPose] = []
        occluders: list[Capsule] = []
        sizes: list[HandSizes] = []
        seen_occluders: list[Capsule] = []
        for side in HANDS:
            seen = by_side.get(side)
            elbow = None
            if seen is not None and tracking.arms:
                size = float(np.ptp(seen.points_px[:, :2], axis=0).max())
                elbow = elbow_for(list(tracking.arms), seen.points_px[0, :2].astype(np.float64), size)
            result = self._hands[side].update(seen, gray, intr, t_ms, elbow, side)
            if result is not None:
                a, o, sz = result
                anchors += a
                occluders += o
                sizes.append(sz)
                if seen is not None:  # the forearm is the hand's last occluder (tryon.anchors.hands)
                    seen_occluders += o if elbow is not None else o[:-1]
        return tuple(anchors), tuple(occluders), tuple(sizes), tuple(seen_occluders)

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
        self._trackers.close()
        if self._renderer is not None:
            self._renderer.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
