"""Evaluation over many people: how right the current product is on annotated photos and videos of people it
was not tuned for (DESIGN.md, "How quality is measured"). It measures; it changes nothing.

`python -m tryon.tools.evaluate [--media DIR] [--out DIR] [--json] [--earlobe-truth FILE|none]` reads a folder
laid out like shared/media/people (a `people.json` whose "about" block explains every field, files beside it)
and reports, overall and per skin tone (Monk 1-3, 4-6, 7-10) and head turn (frontal, three-quarter, profile),
with the number of cases and of distinct people in each cell ("too few" under TOO_FEW):

1. earlobe error: for each ear annotated "visible" with a lobe point, the distance from our ear anchor's pixel
   to it, in face widths (our face_width_px: landmarks 234 to 454): mean, median, p90, max, count over 0.05;
2. ear shown / hidden: visible lobes shown (anchor visible >= 0.5), hidden lobes (hair, turn, other) hidden,
   with the confusion table per annotated state;
3. videos: per annotated frame (every 15th), each visible ear shown, each hidden ear hidden;
4. rings: whether the pipeline gives ring anchors for each annotated hand (matched by hand_xy), the angle
   between the ring anchor's +z (out of the back of the finger: where a ring's head sits, see
   tryon.anchors.fingers) and the direction to the camera, against the hand's annotated facing (back: 0,
   side: 90, palm: 180 degrees), and for worn rings the distance from our anchor to ring_xy in hand sizes;
5. necklace: the neck anchor's distance to the annotated sternal notch in shoulder widths (and face widths),
   and whether a rendered necklace's alpha lies below the chin and between the shoulders.

Matching an annotated ear (image-left / image-right) to our anchors (the person's left_ear / right_ear): the
head pose's +x axis (toward the person's left) projected into the image decides. It points to image-right
for any upright face turned less than 90 degrees, so right_ear is then the image-left ear. This does not
depend on where our anchors landed, so a badly placed anchor cannot be matched to the other ear and look
good; whether the nearer of our two anchors agrees is reported beside it ("side_check"). A mirrored photo
changes nothing: the face mesh reads any face as unmirrored, and both the annotation and this rule are in
image sides.

Only the trackers each measure needs run, and only the necklace check renders. The contact sheets (one JPEG
per measure: the worst cases, annotated point green, ours red) and `report.json` go to --out.
`--earlobe-truth` adds the older hand-marked piercing points (assets/annotations/earlobe_truth.json, paths
relative to the shared media folder); the lobe regression was fitted to them, so they are reported apart.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from tryon.tools.contact_sheet import BLUE, GREEN, RED, YELLOW, Mark, sheet, tile
from tryon.types import AnchorPose, FrameAnchors, HeadPose, Intrinsics

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MEDIA = Path(os.environ.get("TRYON_MEDIA", REPO.parent / "shared" / "media")) / "people"
DEFAULT_OUT = Path("out/evaluate")
TRUTH_FILES = (REPO / "assets" / "annotations" / "earlobe_truth.json", REPO / "tests" / "anchors" / "earlobe_truth.json")

SKIN_GROUPS = (("Monk 1-3", 1, 3), ("Monk 4-6", 4, 6), ("Monk 7-10", 7, 10))
TURNS = ("frontal", "three-quarter", "profile")
UNKNOWN = "unknown"
TOO_FEW = 5  # a cell with fewer cases than this says "too few"
LOBE_LIMIT = 0.05  # face widths: DESIGN's nearest single landmark is ~0.055 off, the goal under 0.03
SHOWN_AT = 0.5  # an anchor at least this visible is drawn (Pipeline.not_placed)
SIDES = ("image-left", "image-right")
HIDDEN = ("hidden_hair", "hidden_turn", "hidden_other")
IDEAL_ANGLE_DEG = {"back": 0.0, "side": 90.0, "palm": 180.0}  # ring +z vs the way to the camera
WITHIN_DEG = (20.0, 45.0)  # the ring's head on the back of the finger: within the first (the brief), or loosely
HAND_MATCH = 1.0  # an annotated hand_xy matches our hand within this many hand sizes of its centre
NECKLACE_INSIDE = 0.95  # the fraction of the necklace's alpha that must lie below the chin / between the shoulders
NECKLACE = "necklace-cable-2.5mm-yellow-gold"
SHEET_MAX = 30  # tiles per contact sheet
SHOULDERS = (12, 11)  # pose landmarks: the person's right and left shoulder
CHIN = 152  # face mesh: the chin's lowest point
FINGERS = ("thumb", "index", "middle", "ring", "little")


# -- what a case is ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """Who a case shows: the file (and frame), the person key, skin tone (Monk 1-10) and head turn."""

    file: str
    person: str
    skin_tone: int | None = None
    head_turn: str | None = None


@dataclass
class Case:
    """One measured thing: an ear, a hand, a neck. value: the number (an error, an angle) or None where it
    could not be measured; ok: whether it passed, None where that does not apply. tile: its contact-sheet
    crop (not in the JSON)."""

    measure: str
    subject: Subject
    where: str
    value: float | None = None
    ok: bool | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    tile: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {"measure": self.measure, "file": self.subject.file, "person": self.subject.person, "skin_tone": self.subject.skin_tone,
                "head_turn": self.subject.head_turn, "where": self.where,
                "value": None if self.value is None else round(self.value, 4), "ok": self.ok,
                **{k: _jsonable(v) for k, v in self.detail.items()}}


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return [round(float(x), 2) for x in v.reshape(-1)]
    if isinstance(v, (float, np.floating)):
        return round(float(v), 4)
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    return v


# -- grouping and statistics (pure) ------------------------------------------------------------------------


def skin_group(tone: int | None) -> str:
    """"Monk 1-3", "Monk 4-6", "Monk 7-10" or "unknown"."""
    for name, lo, hi in SKIN_GROUPS:
        if tone is not None and lo <= tone <= hi:
            return name
    return UNKNOWN


def turn_group(turn: str | None) -> str:
    return turn if turn in TURNS else UNKNOWN


def error_stats(values: Iterable[float], limit: float = LOBE_LIMIT) -> dict[str, Any]:
    """n, mean, median, p90, max and the count over `limit` of some errors (None each when there are none)."""
    v = np.asarray([float(x) for x in values], np.float64)
    if v.size == 0:
        return {"n": 0, "mean": None, "median": None, "p90": None, "max": None, "over": 0}
    return {"n": int(v.size), "mean": float(v.mean()), "median": float(np.median(v)),
            "p90": float(np.percentile(v, 90)), "max": float(v.max()), "over": int((v > limit).sum())}


def rate_stats(oks: Iterable[bool]) -> dict[str, Any]:
    """n, how many passed and the rate (None when n is 0)."""
    o = [bool(x) for x in oks]
    return {"n": len(o), "ok": sum(o), "rate": sum(o) / len(o) if o else None}


Summary = Callable[[Sequence[Case]], dict[str, Any]]


def errors_of(limit: float) -> Summary:
    """A summary of the cases' values (those measured) as error_stats; "missing" counts the unmeasured."""
    def summarise(cases: Sequence[Case]) -> dict[str, Any]:
        return {**error_stats((c.value for c in cases if c.value is not None), limit),
                "missing": sum(c.value is None for c in cases)}
    return summarise


def rates(cases: Sequence[Case]) -> dict[str, Any]:
    return rate_stats(c.ok for c in cases if c.ok is not None)


def grouped(cases: Sequence[Case], summarise: Summary,
            extra: Mapping[str, Callable[[Case], str]] | None = None) -> dict[str, Any]:
    """summarise() overall, per skin-tone group and per head turn (every standard group, empty ones too, so
    thin data shows; "unknown" only when some case has it) and per any `extra` key. Each cell also gets
    "cases", "people" (distinct person keys) and "too_few" (fewer than TOO_FEW measured)."""
    def cell(sub: Sequence[Case]) -> dict[str, Any]:
        d = summarise(sub)
        n = d.get("n", len(sub))
        return {**d, "cases": len(sub), "people": len({c.subject.person for c in sub}), "too_few": n < TOO_FEW}

    def split(key: Callable[[Case], str], names: Sequence[str]) -> dict[str, Any]:
        seen = [k for k in dict.fromkeys(key(c) for c in cases) if k not in names]
        return {g: cell([c for c in cases if key(c) == g]) for g in (*names, *sorted(seen))}

    out = {"overall": cell(cases),
           "skin_tone": split(lambda c: skin_group(c.subject.skin_tone), [g[0] for g in SKIN_GROUPS]),
           "head_turn": split(lambda c: turn_group(c.subject.head_turn), TURNS)}
    for name, key in (extra or {}).items():
        out[name] = split(key, [])
    return out


# -- matching (pure) ---------------------------------------------------------------------------------------


def sides_from_head_axis(axis_px: Sequence[float]) -> dict[str, str] | None:
    """Our ear site for each image side, from the image direction of the head's +x axis (toward the person's
    left): pointing right, the person's left ear is the image-right one. None when the axis is too short
    to tell (the head turned nearly 90 degrees)."""
    dx = float(axis_px[0])
    if abs(dx) < 1e-3 * max(1.0, float(np.hypot(axis_px[0], axis_px[1]))):
        return None
    return {"image-left": "right_ear", "image-right": "left_ear"} if dx > 0 else \
        {"image-left": "left_ear", "image-right": "right_ear"}


def sides_from_positions(xy_by_site: Mapping[str, Sequence[float]]) -> dict[str, str]:
    """The fallback: the ear anchor further left in the image is the image-left one."""
    left, right = sorted(("left_ear", "right_ear"), key=lambda s: float(xy_by_site[s][0]))
    return {"image-left": left, "image-right": right}


def head_axis_px(head: HeadPose, intr: Intrinsics) -> np.ndarray:
    """(2,) the image direction of the head's +x axis (5 cm of it) at the head's origin."""
    r, t = head.cam_T_head[:3, :3], head.cam_T_head[:3, 3]
    p = intr.project(np.stack([t, t + 0.05 * r[:, 0]]))
    return p[1] - p[0]


def nearest(points: Mapping[str, Sequence[float]], xy: Sequence[float]) -> str:
    """The key of the point nearest `xy`."""
    return min(points, key=lambda k: float(np.hypot(points[k][0] - xy[0], points[k][1] - xy[1])))


def distance(a: Sequence[float], b: Sequence[float]) -> float:
    return float(np.hypot(float(a[0]) - float(b[0]), float(a[1]) - float(b[1])))


def relative_error(ours_xy: Sequence[float], truth_xy: Sequence[float], scale_px: float) -> float | None:
    """Pixel distance over a size (face width, shoulder width, hand size); None without a size."""
    return distance(ours_xy, truth_xy) / scale_px if scale_px > 1e-6 else None


@dataclass(frozen=True)
class OurHand:
    """One hand as the pipeline gave it: side, centre and size in pixels (from its six anchors: the wrist
    and five ring seats), and its anchors by finger ("wrist" too)."""

    side: str
    centre_px: np.ndarray
    size_px: float
    anchors: Mapping[str, AnchorPose]


def our_hands(anchors: FrameAnchors) -> list[OurHand]:
    """The hands in a frame's anchors. Size: the largest distance between two of the six anchors (about the
    palm's length, wrist to a knuckle; it shrinks less than either as the hand turns)."""
    out = []
    for side in ("left", "right"):
        mine = {k: a for k in (*FINGERS, "wrist") if (a := anchors.get(f"{side}_{k}")) is not None}
        if len(mine) < 2:
            continue
        pts = np.array([a.xy_px for a in mine.values()], np.float64)
        size = float(max(np.hypot(*(p - q)) for p in pts for q in pts))
        out.append(OurHand(side, pts.mean(axis=0), size, mine))
    return out


def match_hands(annotated_xy: Sequence[Sequence[float]], hands: Sequence[OurHand],
                within: float = HAND_MATCH) -> list[int | None]:
    """For each annotated hand centre, the index of our hand matched to it (each of ours at most once,
    nearest pairs first, within `within` of that hand's size), else None."""
    pairs = sorted((distance(a, h.centre_px) / max(h.size_px, 1.0), i, j)
                   for i, a in enumerate(annotated_xy) for j, h in enumerate(hands))
    out: list[int | None] = [None] * len(annotated_xy)
    used: set[int] = set()
    for d, i, j in pairs:
        if d <= within and out[i] is None and j not in used:
            out[i], used = j, used | {j}
    return out


def angle_to_camera_deg(cam_T_anchor: np.ndarray) -> float:
    """Degrees between the anchor's +z axis and the direction from its origin to the camera (0: +z faces
    the camera; 180: it faces away)."""
    p = np.asarray(cam_T_anchor, np.float64)[:3, 3]
    z = np.asarray(cam_T_anchor, np.float64)[:3, 2]
    to_cam = -p / max(float(np.linalg.norm(p)), 1e-12)
    cos = float(z @ to_cam) / max(float(np.linalg.norm(z)), 1e-12)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def finger_width_px(anchor: AnchorPose, intr: Intrinsics) -> float | None:
    """The ring seat's inner diameter in pixels at its depth (about the finger's width), if measured."""
    d = anchor.fit_m.get("diameter")
    z = float(anchor.cam_T_anchor[2, 3])
    return d * intr.fx / z if d and z > 1e-6 else None


def alpha_inside(alpha: np.ndarray, chin_y: float | None, x_range: tuple[float, float] | None
                 ) -> dict[str, float | None]:
    """The fractions of a layer's alpha (H, W) below the chin's row and between two columns (None where
    that line is unknown or nothing is drawn)."""
    total = float(alpha.sum())
    if total <= 0:
        return {"below_chin": None, "between_shoulders": None}
    ys = np.arange(alpha.shape[0], dtype=np.float64)
    xs = np.arange(alpha.shape[1], dtype=np.float64)
    rows, cols = alpha.sum(axis=1), alpha.sum(axis=0)
    below = None if chin_y is None else float(rows[ys > chin_y].sum() / total)
    between = None if x_range is None else float(cols[(xs >= min(x_range)) & (xs <= max(x_range))].sum() / total)
    return {"below_chin": below, "between_shoulders": between}


# -- reading the annotations -------------------------------------------------------------------------------


def subject_of(entry: Mapping[str, Any]) -> Subject:
    return Subject(str(entry["file"]), str(entry.get("person_key") or entry["file"]), entry.get("skin_tone"),
                   entry.get("head_turn"))


def load_people(media: Path) -> list[dict[str, Any]]:
    """The file entries of `media/people.json` (InputError-like SystemExit when it is missing)."""
    path = media / "people.json"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no people.json (a folder laid out like shared/media/people)")
    files = json.loads(path.read_text())["files"]
    return list(files.values()) if isinstance(files, dict) else list(files)


def truth_images(path: Path) -> list[dict[str, Any]]:
    """earlobe_truth.json's images, sides spelt as in people.json ("image-left")."""
    out = []
    for im in json.loads(path.read_text())["images"]:
        ears = {str(e["side"]).replace("_", "-"): e for e in im["ears"]}
        out.append({"file": im["file"], "frame": im.get("frame"), "ears": ears})
    return out


# -- measuring ---------------------------------------------------------------------------------------------


def _label(subject: Subject, where: str) -> str:
    return f"{Path(subject.file).name} {where}"


def ear_cases(rgb: np.ndarray, anchors: FrameAnchors, subject: Subject, ears: Mapping[str, Any], where: str = "",
              truth_measure: str = "lobe_error") -> list[Case]:
    """The lobe-error cases (visible ears with a lobe point; `truth_measure` names them) and the shown/hidden
    cases (every ear with a state) of one frame. `ears`: image side -> the annotation (people.json's ears;
    earlobe truth entries have no state: they are visible lobes with `xy_px`)."""
    ours = {a.site: a for a in anchors.anchors if a.site in ("left_ear", "right_ear")}
    fw = anchors.face_width_px
    mapping: dict[str, str] | None = None
    how = "no face"
    if len(ours) == 2:
        if anchors.head is not None:
            mapping, how = sides_from_head_axis(head_axis_px(anchors.head, anchors.intrinsics)), "head axis"
        if mapping is None:
            mapping, how = sides_from_positions({s: a.xy_px for s, a in ours.items()}), "anchor positions"
    cases = []
    for side in SIDES:
        ear = ears.get(side)
        if ear is None:
            continue
        state = ear.get("state", "visible")
        lobe = ear.get("lobe_xy", ear.get("xy_px"))
        site = mapping[side] if mapping else None
        a = ours.get(site) if site else None
        at = f"{where} {side}".strip()
        detail: dict[str, Any] = {"state": state, "earring": ear.get("earring"), "site": site, "matched_by": how,
                                  "face_width_px": fw}
        if a is not None:
            detail.update(ours_xy=a.xy_px, visible=a.visible)
        if state == "visible" and lobe is not None:
            err = relative_error(a.xy_px, lobe, fw) if a is not None else None
            check = nearest({s: o.xy_px for s, o in ours.items()}, lobe) if ours else None
            d = {**detail, "truth_xy": list(lobe), "error_px": distance(a.xy_px, lobe) if a is not None else None,
                 "side_check": None if check is None else check == site}
            c = Case(truth_measure, subject, at, err, None if err is None else err <= LOBE_LIMIT, d)
            c.tile = _ear_tile(rgb, c, lobe, a, ours, fw, f"{err:.3f} fw" if err is not None else "no face")
            cases.append(c)
        if "state" in ear:
            shown = a is not None and a.visible >= SHOWN_AT
            expect = True if state == "visible" else False if state in HIDDEN else None
            d = {**detail, "shown": shown, "truth_xy": lobe}
            c = Case("ear_visibility", subject, at, None if a is None else float(a.visible),
                     None if expect is None else shown == expect, d)
            if c.ok is False or c.ok is None:
                what = ("hidden" if a is not None else "no face") if expect else "shown"
                c.tile = _ear_tile(rgb, c, lobe, a, ours, fw, f"{state}: {what}"
                                   + (f" (vis {a.visible:.2f})" if a is not None else ""))
            cases.append(c)
    return cases


def _ear_tile(rgb: np.ndarray, case: Case, truth: Sequence[float] | None, a: AnchorPose | None,
              ours: Mapping[str, AnchorPose], fw: float, text: str) -> np.ndarray:
    pts = [np.asarray(p, np.float64) for p in ((truth,) if truth is not None else ())]
    if a is not None:
        pts.append(a.xy_px)
    h, w = rgb.shape[:2]
    centre = np.mean(pts, axis=0) if pts else np.array([w / 2, h / 2])
    spread = distance(pts[0], pts[-1]) if len(pts) == 2 else 0.0
    half = max(0.22 * fw, 0.75 * spread + 0.08 * fw, 20.0) if fw > 0 else max(0.15 * max(h, w), spread)
    marks = [Mark("dot", tuple(o.xy_px), BLUE) for o in ours.values() if o is not a]
    if truth is not None:
        marks.append(Mark("cross", (float(truth[0]), float(truth[1])), GREEN))
    if a is not None:
        marks.append(Mark("cross", (float(a.xy_px[0]), float(a.xy_px[1])), RED))
    return tile(rgb, centre, half, marks, [_label(case.subject, case.where), text])


def hand_cases(rgb: np.ndarray, anchors: FrameAnchors, subject: Subject, hands: Sequence[Mapping[str, Any]]
               ) -> list[Case]:
    """Per annotated hand: "ring_found" (our anchors matched by hand_xy), "ring_angle" (the ring finger's
    anchor, or the worn ring's finger: +z against the way to the camera, vs the annotated facing),
    "ring_error" (worn rings: our anchor on that finger, or the nearest seat when the finger is not known,
    to ring_xy, in hand sizes) and "hand_side" (our side against the annotated one, mirror selfies apart)."""
    ours = our_hands(anchors)
    matched = match_hands([h["hand_xy"] for h in hands], ours)
    intr = anchors.intrinsics
    cases = []
    for k, (hand, j) in enumerate(zip(hands, matched, strict=True)):
        facing = hand.get("facing")
        mine = ours[j] if j is not None else None
        at = f"hand {k + 1} ({facing})"
        base = {"facing": facing, "side": hand.get("side"), "hand_xy": hand["hand_xy"],
                "ring_fingers_visible": hand.get("ring_fingers_visible")}
        if mine is not None:
            base.update(our_side=mine.side, our_centre_xy=mine.centre_px, hand_size_px=mine.size_px)
        found = Case("ring_found", subject, at, None, mine is not None, base)
        found.tile = _hand_tile(rgb, found, hand, mine, None, intr, "found" if mine else "no ring anchor")
        cases.append(found)
        if mine is None:
            continue
        rings = hand.get("rings") or ([{"ring_xy": hand["ring_xy"], "ring_finger": hand.get("ring_finger")}]
                                      if hand.get("ring_xy") is not None else [])
        worn_finger = next((r.get("ring_finger") for r in rings if r.get("ring_finger")), None)
        finger = worn_finger if worn_finger in mine.anchors else "ring"
        seat = mine.anchors.get(finger)
        if seat is not None and facing in IDEAL_ANGLE_DEG:
            angle = angle_to_camera_deg(seat.cam_T_anchor)
            off = abs(angle - IDEAL_ANGLE_DEG[facing])
            c = Case("ring_angle", subject, f"{at} {finger}", angle, off <= WITHIN_DEG[0],
                     {**base, "finger": finger, "off_deg": off, "within_loose": off <= WITHIN_DEG[1]})
            c.tile = _hand_tile(rgb, c, hand, mine, seat, intr, f"{finger}: +z {angle:.0f} deg from camera")
            cases.append(c)
        for r in rings:
            fing = r.get("ring_finger")
            seats = {f: a.xy_px for f, a in mine.anchors.items() if f in FINGERS}
            use = fing if fing in seats else nearest(seats, r["ring_xy"])
            s = mine.anchors[use]
            err = relative_error(s.xy_px, r["ring_xy"], mine.size_px)
            fw = finger_width_px(s, intr)
            d = {**base, "finger": use, "finger_known": fing is not None, "ring_xy": r["ring_xy"],
                 "ours_xy": s.xy_px, "error_px": distance(s.xy_px, r["ring_xy"]), "finger_width_px": fw,
                 "error_finger_widths": None if not fw else distance(s.xy_px, r["ring_xy"]) / fw}
            c = Case("ring_error", subject, f"{at} {use}", err, None, d)
            c.tile = _hand_tile(rgb, c, hand, mine, s, intr, f"{use}: {err:.3f} hand sizes" if err is not None
                                else use, ring_xy=r["ring_xy"])
            cases.append(c)
        said = hand.get("side")
        if said in ("left", "right") and "mirror" not in str(hand.get("note", "")):
            cases.append(Case("hand_side", subject, at, None, mine.side == said, dict(base)))
    return cases


def _hand_tile(rgb: np.ndarray, case: Case, hand: Mapping[str, Any], mine: OurHand | None,
               seat: AnchorPose | None, intr: Intrinsics, text: str,
               ring_xy: Sequence[float] | None = None) -> np.ndarray:
    centre = np.asarray(hand["hand_xy"], np.float64)
    half = 0.8 * mine.size_px if mine is not None else 0.12 * max(rgb.shape[:2])
    marks = [Mark("ring", (float(centre[0]), float(centre[1])), GREEN)]
    if mine is not None:
        marks += [Mark("dot", (float(a.xy_px[0]), float(a.xy_px[1])), BLUE) for a in mine.anchors.values()]
    if ring_xy is not None:
        marks.append(Mark("cross", (float(ring_xy[0]), float(ring_xy[1])), GREEN))
    if seat is not None:
        # The ring's head direction: +z, 1.5 cm of it, drawn from the seat (yellow) and the seat itself (red).
        o = seat.cam_T_anchor[:3, 3]
        tip = intr.project((o + 0.015 * seat.cam_T_anchor[:3, 2])[None])[0]
        marks += [Mark("line", (float(seat.xy_px[0]), float(seat.xy_px[1])), YELLOW, (float(tip[0]), float(tip[1]))),
                  Mark("cross", (float(seat.xy_px[0]), float(seat.xy_px[1])), RED)]
    return tile(rgb, centre, max(half, 24.0), marks, [_label(case.subject, case.where), text])


@dataclass(frozen=True)
class NeckView:
    """What the neck check reads beside the pipeline: the chin (face mesh 152) and the shoulder points
    (pose 12 and 11, the person's right and left), each None when not found."""

    chin_px: np.ndarray | None
    shoulders_px: tuple[np.ndarray, np.ndarray] | None
    face_width_px: float


def neck_cases(rgb: np.ndarray, anchors: FrameAnchors, alpha: np.ndarray | None, overlay: np.ndarray | None,
               view: NeckView, subject: Subject, entry: Mapping[str, Any]) -> list[Case]:
    """"neck_error" (the neck anchor to the annotated notch, in shoulder widths; face widths in the detail)
    and "necklace_alpha" (the rendered necklace below the chin and between the shoulders)."""
    neck = anchors.get("neck")
    notch = entry.get("sternal_notch_xy")
    sh = view.shoulders_px
    span = distance(*sh) if sh is not None else 0.0
    cases = []
    h, w = rgb.shape[:2]
    centre = (np.asarray(notch, np.float64) if notch is not None else neck.xy_px if neck is not None
              else np.mean(sh, axis=0) if sh is not None else np.array([w / 2, h / 2]))
    half = 0.75 * span if span > 0 else 0.6 * view.face_width_px if view.face_width_px > 0 else 0.2 * max(h, w)
    marks = []
    if view.chin_px is not None:
        marks.append(Mark("hline", (0.0, float(view.chin_px[1])), BLUE))
    if sh is not None:
        marks += [Mark("vline", (float(p[0]), 0.0), BLUE) for p in sh]
    if notch is not None:
        marks.append(Mark("cross", (float(notch[0]), float(notch[1])), GREEN))
    if neck is not None:
        marks.append(Mark("cross", (float(neck.xy_px[0]), float(neck.xy_px[1])), RED))
    base = {"hair_over_neck": entry.get("hair_over_neck"), "necklace_worn": entry.get("necklace_worn"),
            "shoulder_width_px": span or None, "face_width_px": view.face_width_px or None,
            "ours_xy": None if neck is None else neck.xy_px, "visible": None if neck is None else neck.visible}
    if notch is not None:
        err = relative_error(neck.xy_px, notch, span) if neck is not None and span > 0 else None
        d = {**base, "truth_xy": notch, "note": entry.get("sternal_notch_note"),
             "error_px": None if neck is None else distance(neck.xy_px, notch),
             "error_face_widths": None if neck is None or not view.face_width_px
             else distance(neck.xy_px, notch) / view.face_width_px}
        c = Case("neck_error", subject, "notch", err, None, d)
        text = f"{err:.3f} shoulder widths" if err is not None else "no neck anchor" if neck is None else "no shoulders"
        c.tile = tile(rgb, centre, half, marks, [_label(subject, "notch"), text], overlay)
        cases.append(c)
    if entry.get("shoulders_visible"):
        inside = alpha_inside(alpha, None if view.chin_px is None else float(view.chin_px[1]),
                              None if sh is None else (float(sh[0][0]), float(sh[1][0]))) \
            if alpha is not None else {"below_chin": None, "between_shoulders": None}
        drawn = alpha is not None and bool((alpha > 0.05).any())
        vals = [v for v in inside.values() if v is not None]
        ok = None if drawn and len(vals) < 2 else drawn and min(vals) >= NECKLACE_INSIDE
        c = Case("necklace_alpha", subject, "necklace", min(vals) if vals else None, ok,
                 {**base, "drawn": drawn, **inside})
        text = ("not drawn" if not drawn else
                "below chin " + _pct(inside["below_chin"]) + ", between shoulders " + _pct(inside["between_shoulders"]))
        c.tile = tile(rgb, centre, half, marks, [_label(subject, "necklace"), text], overlay)
        cases.append(c)
    return cases


def _pct(v: float | None) -> str:
    return "?" if v is None else f"{100 * v:.0f}%"


# -- running the product ----------------------------------------------------------------------------------


class Runner:
    """The product's public pipeline, one per need: ears (face mesh and person mask, no render), hands (no
    render), video ears (video mode), and the necklace (rendered, plain compositing), plus the face mesh
    and pose trackers the necklace check reads the chin and shoulders from."""

    def __init__(self, necklace: str = NECKLACE) -> None:
        from tryon.jewelry.catalog import Catalog
        from tryon.pipeline import Pipeline, PipelineOptions

        self.catalog = Catalog.load()
        self._make = Pipeline
        self._options = PipelineOptions
        self.necklace = necklace
        self._pipes: dict[str, Any] = {}
        self._face: Any = None
        self._pose: Any = None

    def pipe(self, kind: str) -> Any:
        if kind not in self._pipes:
            o = self._options
            options = {"ears": o(mode="image", render=False, track=frozenset({"face"})),
                       "video": o(mode="video", render=False, track=frozenset({"face"})),
                       "hands": o(mode="image", render=False, track=frozenset({"hands"})),
                       "neck": o(mode="image", use_compositor=False)}[kind]
            self._pipes[kind] = self._make(self.catalog, [self.necklace] if kind == "neck" else [], options)
        return self._pipes[kind]

    def neck_view(self, rgb: np.ndarray) -> NeckView:
        from tryon.tracking.face import FaceTracker
        from tryon.tracking.pose import PoseTracker

        if self._face is None:
            self._face, self._pose = FaceTracker("image"), PoseTracker("image")
        faces = self._face.process(rgb)
        body = self._pose.process(rgb)
        sh = None
        if body is not None and body.seen(*SHOULDERS):
            sh = (body.points_px[SHOULDERS[0]].copy(), body.points_px[SHOULDERS[1]].copy())
        chin = faces[0].points_px[CHIN, :2].astype(np.float64) if faces else None
        return NeckView(chin, sh, faces[0].face_width_px if faces else 0.0)

    def close(self) -> None:
        for p in self._pipes.values():
            p.close()
        for t in (self._face, self._pose):
            if t is not None:
                t.close()


def evaluate_file(runner: Runner, media: Path, entry: Mapping[str, Any]) -> list[Case]:
    """Every measure one people.json entry has annotations for."""
    from tryon.media import read_image, read_video
    from tryon.types import Frame

    subject = subject_of(entry)
    path = media / entry["file"]
    if entry.get("frames"):  # a video: every frame through the video pipeline, the annotated ones measured
        pipe = runner.pipe("video")
        pipe.reset()
        wanted = {int(f["frame"]): f for f in entry["frames"]}
        cases = []
        for i, (rgb, t_ms) in enumerate(read_video(path)):
            anchors = pipe.track(Frame(rgb, t_ms))
            if i in wanted:
                ears = {s: {"state": wanted[i][s]} for s in SIDES if s in wanted[i]}
                for c in ear_cases(rgb, anchors, subject, ears, f"frame {i}"):
                    c.measure = "video_ears"
                    cases.append(c)
        return cases
    rgb = read_image(path)
    cases = []
    if entry.get("ears"):
        cases += ear_cases(rgb, runner.pipe("ears").track(Frame(rgb)), subject, entry["ears"])
    if entry.get("hands"):
        cases += hand_cases(rgb, runner.pipe("hands").track(Frame(rgb)), subject, entry["hands"])
    if "sternal_notch_xy" in entry:
        result = runner.pipe("neck").process(Frame(rgb))
        full = result.layer.full_frame() if result.layer is not None else None
        cases += neck_cases(rgb, result.anchors, None if full is None else full[..., 3], full,
                            runner.neck_view(rgb), subject, entry)
    return cases


def evaluate_truth(runner: Runner, truth: Path, media_root: Path) -> list[Case]:
    """The older hand-marked piercing points (fitted: reported apart) as "truth_lobe" cases."""
    from tryon.media import read_image, read_video
    from tryon.types import Frame

    images = truth_images(truth)
    cases: list[Case] = []
    videos: dict[str, dict[int, dict[str, Any]]] = {}
    for im in images:
        if im["frame"] is not None:
            videos.setdefault(im["file"], {})[int(im["frame"])] = im
            continue
        path = media_root / im["file"]
        if not path.exists():
            log.warning("earlobe truth: %s not found", path)
            continue
        rgb = read_image(path)
        subject = Subject(im["file"], im["file"])
        cases += [c for c in ear_cases(rgb, runner.pipe("ears").track(Frame(rgb)), subject, im["ears"],
                                       truth_measure="truth_lobe") if c.measure == "truth_lobe"]
    for file, frames in videos.items():
        path = media_root / file
        if not path.exists():
            log.warning("earlobe truth: %s not found", path)
            continue
        pipe = runner.pipe("video")
        pipe.reset()
        for i, (rgb, t_ms) in enumerate(read_video(path)):
            anchors = pipe.track(Frame(rgb, t_ms))
            if i in frames:
                cases += [c for c in ear_cases(rgb, anchors, Subject(file, file), frames[i]["ears"], f"frame {i}",
                                               truth_measure="truth_lobe") if c.measure == "truth_lobe"]
            if i >= max(frames):
                break
    return cases


# -- the report ---------------------------------------------------------------------------------------------


def confusion(cases: Sequence[Case]) -> dict[str, dict[str, int]]:
    """Per annotated state (hidden_hair split by whether an earring shows below the hair): how many ears we
    showed, hid, or had no face for."""
    out: dict[str, dict[str, int]] = {}
    for c in cases:
        state = c.detail["state"]
        if state == "hidden_hair" and c.detail.get("earring"):
            state = "hidden_hair (earring seen)"
        row = out.setdefault(state, {"shown": 0, "hidden": 0, "no_face": 0})
        row["no_face" if c.value is None else "shown" if c.detail["shown"] else "hidden"] += 1
    return out


def summarise(cases: Sequence[Case]) -> dict[str, Any]:
    """The report's numbers from all cases (no tiles)."""
    by: dict[str, list[Case]] = {}
    for c in cases:
        by.setdefault(c.measure, []).append(c)

    def of(measure: str, pred: Callable[[Case], bool] = lambda c: True) -> list[Case]:
        return [c for c in by.get(measure, []) if pred(c)]

    def state(*names: str) -> Callable[[Case], bool]:
        return lambda c: c.detail.get("state") in names

    facing = {"facing": lambda c: str(c.detail.get("facing"))}
    vis, vid = of("ear_visibility"), of("video_ears")
    sides = [c for c in of("lobe_error") + of("truth_lobe") if c.detail.get("side_check") is not None]
    report: dict[str, Any] = {
        "lobe_error": {
            "about": f"visible ears with a lobe point: our ear anchor's distance to it in face widths "
                     f"(234-454); over = above {LOBE_LIMIT}; missing = no face found",
            "groups": grouped(of("lobe_error"), errors_of(LOBE_LIMIT)),
            "side_check": {"n": len(sides), "nearest_agrees": sum(bool(c.detail["side_check"]) for c in sides)}},
        "ear_visibility": {
            "about": f"photos: an ear is shown when its anchor's visible >= {SHOWN_AT}; no face counts as hidden",
            "visible_shown": grouped(of("ear_visibility", state("visible")), rates),
            "hidden_hidden": grouped(of("ear_visibility", state(*HIDDEN)), rates),
            "per_hidden_state": {s: rates(of("ear_visibility", state(s))) for s in HIDDEN},
            "confusion": confusion(vis)},
        "video_ears": {
            "about": "every 15th frame of each video, through the video pipeline (filters and hysteresis on)",
            "visible_shown": grouped([c for c in vid if c.detail["state"] == "visible"], rates),
            "hidden_hidden": grouped([c for c in vid if c.detail["state"] in HIDDEN], rates),
            "per_video": {f: {"visible_shown": rates([c for c in vid if c.subject.file == f
                                                      and c.detail["state"] == "visible"]),
                              "hidden_hidden": rates([c for c in vid if c.subject.file == f
                                                      and c.detail["state"] in HIDDEN])}
                          for f in dict.fromkeys(c.subject.file for c in vid)},
            "confusion": confusion(vid)},
        "ring_found": {"about": "annotated hands with our ring anchors matched by hand_xy",
                       "groups": grouped(of("ring_found"), rates, facing)},
        "ring_angle": {
            "about": f"matched hands: angle between the ring anchor's +z (the ring's head) and the way to the "
                     f"camera; ideal {IDEAL_ANGLE_DEG}; ok within {WITHIN_DEG[0]} deg of the ideal",
            "groups": grouped(of("ring_angle"), rates, facing),
            "angles": {f: error_stats((c.value for c in of("ring_angle") if c.detail["facing"] == f
                                       and c.value is not None), WITHIN_DEG[1]) for f in IDEAL_ANGLE_DEG},
            "within_loose": {f: rate_stats(c.detail["within_loose"] for c in of("ring_angle")
                                           if c.detail["facing"] == f) for f in IDEAL_ANGLE_DEG}},
        "ring_error": {"about": "worn rings: our seat on the ring's finger (nearest seat when the finger is not "
                               "annotated) to ring_xy, in hand sizes (largest distance between two of the "
                               "hand's six anchors)",
                       "groups": grouped(of("ring_error"), errors_of(0.1))},
        "hand_side": {"about": "our hand's side against the annotated person's side (mirror selfies left out)",
                      "groups": grouped(of("hand_side"), rates)},
        "neck_error": {"about": "the neck anchor to the sternal notch, in shoulder widths (pose 11-12)",
                       "groups": grouped(of("neck_error"), errors_of(0.1)),
                       "face_widths": error_stats(c.detail["error_face_widths"] for c in of("neck_error")
                                                  if c.detail.get("error_face_widths") is not None)},
        "necklace_alpha": {"about": f"a rendered {NECKLACE}: ok when at least {NECKLACE_INSIDE:.0%} of its alpha "
                                    f"lies below the chin (face mesh 152) and between the shoulder points",
                           "groups": grouped(of("necklace_alpha"), rates)},
    }
    if by.get("truth_lobe"):
        report["truth_lobe"] = {
            "about": "older hand-marked piercing points (earlobe_truth.json): the lobe regression was fitted "
                     "to these, so they are not held out",
            "groups": {"overall": {**error_stats(c.value for c in of("truth_lobe") if c.value is not None),
                                   "cases": len(of("truth_lobe"))}}}
    return report


TABLES = (
    ("lobe_error", "groups", "Earlobe error, face widths (visible ears with a lobe point)", "errors"),
    ("ear_visibility", "visible_shown", "Photos: visible ears shown", "rate"),
    ("ear_visibility", "hidden_hidden", "Photos: hidden ears hidden (hair, turn, other)", "rate"),
    ("video_ears", "visible_shown", "Videos: visible ears shown (every 15th frame)", "rate"),
    ("video_ears", "hidden_hidden", "Videos: hidden ears hidden", "rate"),
    ("ring_found", "groups", "Rings: annotated hands with ring anchors", "rate"),
    ("ring_angle", "groups", f"Rings: head within {WITHIN_DEG[0]:.0f} deg of the facing's ideal", "rate"),
    ("ring_error", "groups", "Rings: worn ring to our seat, hand sizes", "errors"),
    ("hand_side", "groups", "Hands: our side = annotated side", "rate"),
    ("neck_error", "groups", "Neck anchor to sternal notch, shoulder widths", "errors"),
    ("necklace_alpha", "groups", "Necklace alpha below chin and between shoulders", "rate"),
)


def format_tables(report: Mapping[str, Any]) -> str:
    """The report's numbers as plain-text tables: overall, per skin tone, per head turn (and per facing)."""
    lines = []
    for measure, key, title, kind in TABLES:
        groups = report.get(measure, {}).get(key)
        if not groups:
            continue
        lines += ["", title]
        lines.append(f"  {'group':<22}{'cases':>6}{'people':>7}  " +
                     ("     n   mean  median    p90    max  over" if kind == "errors" else "  ok/n    rate"))
        for part in ("overall", "skin_tone", "head_turn", "facing"):
            cells = {"overall": groups["overall"]} if part == "overall" else groups.get(part, {})
            for name, cell in cells.items():
                lines.append(f"  {name:<22}{cell['cases']:>6}{cell['people']:>7}  " + _cell(cell, kind)
                             + ("  too few" if cell["too_few"] else ""))
    conf = report.get("ear_visibility", {}).get("confusion", {})
    if conf:
        lines += ["", "Photos: ear state -> shown / hidden / no face"]
        lines += [f"  {s:<28}{r['shown']:>4}{r['hidden']:>4}{r['no_face']:>4}" for s, r in conf.items()]
    truth = report.get("truth_lobe")
    if truth:
        lines += ["", "Older earlobe truth set (fitted, not held out), face widths",
                  "  " + _cell(truth["groups"]["overall"], "errors")]
    return "\n".join(lines).lstrip("\n")


def _cell(cell: Mapping[str, Any], kind: str) -> str:
    def f(v: Any) -> str:
        return "     -" if v is None else f"{v:6.3f}"

    if kind == "errors":
        return f"{cell['n']:>6} {f(cell['mean'])} {f(cell['median'])} {f(cell['p90'])} {f(cell['max'])} {cell['over']:>5}"
    rate = "     -" if cell["rate"] is None else f"{100 * cell['rate']:5.0f}%"
    return f"{cell['ok']:>3}/{cell['n']:<3} {rate}"


SHEETS = (
    ("lobe_error", "Earlobe error: worst first (green: annotated lobe, red: our anchor, blue: our other ear)"),
    ("ear_visibility", "Ears shown/hidden wrongly (green: annotated lobe, red: our anchor)"),
    ("video_ears", "Video frames with an ear shown/hidden wrongly"),
    ("ring_found", "Hands with no ring anchor (green ring: annotated hand centre)"),
    ("ring_angle", "Ring head direction, worst first (yellow: +z from the seat; blue: our other anchors)"),
    ("ring_error", "Worn rings (green: annotated ring, red: our seat)"),
    ("neck_error", "Neck anchor vs sternal notch, worst first (blue: chin line, shoulder points)"),
    ("necklace_alpha", "Rendered necklace: alpha outside chin/shoulders first"),
    ("truth_lobe", "Older earlobe truth set (fitted): worst first"),
)


def worst(cases: Sequence[Case], measure: str) -> list[Case]:
    """The cases a contact sheet shows, worst first: failures (ok False, or not measurable), then by value
    (errors and angles off their ideal descending; a necklace's inside fraction ascending)."""
    mine = [c for c in cases if c.measure == measure and c.tile is not None]
    if measure in ("ear_visibility", "video_ears", "ring_found"):
        return [c for c in mine if c.ok is not True]

    def key(c: Case) -> tuple[int, float]:
        if measure == "ring_angle":
            return (0 if c.ok is False else 1, -float(c.detail.get("off_deg", 0.0)))
        if measure == "necklace_alpha":
            return (0 if c.ok is False else 1, c.value if c.value is not None else -1.0)
        return (0 if c.value is None else 1, -(c.value or 0.0))
    return sorted(mine, key=key)


def write_outputs(cases: Sequence[Case], report: Mapping[str, Any], out: Path) -> list[Path]:
    """report.json (numbers and every case) and one contact-sheet JPEG per measure into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for measure, title in SHEETS:
        picked = worst(cases, measure)[:SHEET_MAX]
        if not any(c.measure == measure for c in cases):
            continue
        img = sheet([c.tile for c in picked if c.tile is not None], title)
        path = out / f"{measure}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])
        written.append(path)
    full = {**report, "cases": [c.to_json() for c in cases]}
    path = out / "report.json"
    path.write_text(json.dumps(full, indent=1, default=_jsonable) + "\n")
    written.append(path)
    return written


def evaluate(media: Path, truth: Path | None = None, truth_media: Path | None = None, necklace: str = NECKLACE,
             files: Sequence[str] = ()) -> tuple[dict[str, Any], list[Case]]:
    """(report, cases) for a people folder; `files` limits it to those entries (people.json's "file")."""
    t0 = time.perf_counter()
    entries = [e for e in load_people(media) if not files or e["file"] in files]
    runner = Runner(necklace)
    cases: list[Case] = []
    try:
        for e in entries:
            t = time.perf_counter()
            cases += evaluate_file(runner, media, e)
            log.info("%s: %.1f s", e["file"], time.perf_counter() - t)
        if truth is not None and truth_media is not None:
            cases += evaluate_truth(runner, truth, truth_media)
    finally:
        runner.close()
    report = {"media": str(media), "files": len(entries),
              "people": len({subject_of(e).person for e in entries}),
              "photos": sum(not e.get("frames") for e in entries), "videos": sum(bool(e.get("frames")) for e in entries),
              "necklace": necklace, **summarise(cases), "seconds": round(time.perf_counter() - t0, 1)}
    return report, cases


def _default_truth() -> Path | None:
    return next((p for p in TRUTH_FILES if p.exists()), None)


def _main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m tryon.tools.evaluate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--media", type=Path, default=DEFAULT_MEDIA, help="a folder laid out like shared/media/people")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the contact sheets and report.json go")
    ap.add_argument("--json", action="store_true", help="print the report (numbers, no cases) as JSON")
    ap.add_argument("--earlobe-truth", default="auto",
                    help="earlobe_truth.json to add (fitted; reported apart), 'none' to skip; auto: the repository's "
                         "when --media is the default")
    ap.add_argument("--truth-media", type=Path, default=None,
                    help="the folder the earlobe truth's paths are relative to (default: --media's parent)")
    ap.add_argument("--necklace", default=NECKLACE, help="the catalog necklace rendered for the necklace check")
    ap.add_argument("--file", action="append", default=[], help="only this people.json file (repeatable)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    if not (args.media / "people.json").exists():
        print(f"{args.media}: no people.json here (a folder laid out like shared/media/people)", file=sys.stderr)
        return 2
    truth: Path | None = None
    if args.earlobe_truth == "auto":
        truth = _default_truth() if args.media.resolve() == DEFAULT_MEDIA.resolve() and not args.file else None
    elif args.earlobe_truth != "none":
        truth = Path(args.earlobe_truth)
    report, cases = evaluate(args.media, truth, args.truth_media or args.media.parent, args.necklace, args.file)
    written = write_outputs(cases, report, args.out)
    if args.json:
        print(json.dumps(report, indent=1, default=_jsonable))
    else:
        print(format_tables(report))
        print(f"\n{report['files']} files, {report['people']} people, {report['seconds']} s; "
              f"wrote {', '.join(str(p) for p in written)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
