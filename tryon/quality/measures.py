"""The measures of the evaluation over many people (tryon.quality.evaluate), one annotated case at a time, as
pure functions of a frame's anchors and its annotation: a `Case` per ear, hand or neck with its number and
whether it passed, and its contact-sheet crop; the statistics and the grouping per skin tone and head turn.

Matching an annotated ear (image-left / image-right) to our anchors (the person's left_ear / right_ear): the
head pose's +x axis (toward the person's left) projected into the image decides. It points to image-right
for any upright face turned less than 90 degrees, so right_ear is then the image-left ear. This does not
depend on where our anchors landed, so a badly placed anchor cannot be matched to the other ear and look
good; whether the nearer of our two anchors agrees is reported beside it ("side_check"). A mirrored photo
changes nothing: the face mesh reads any face as unmirrored, and both the annotation and this rule are in
image sides.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tryon.anchors.hair import cover_at
from tryon.quality.contact_sheet import BLUE, GREEN, RED, YELLOW, Mark, tile
from tryon.types import AnchorPose, FrameAnchors, HeadPose, Intrinsics

Point = Sequence[float] | np.ndarray  # (2,) pixels or (3,) a direction

SKIN_GROUPS = (("Monk 1-3", 1, 3), ("Monk 4-6", 4, 6), ("Monk 7-10", 7, 10))
TURNS = ("frontal", "three-quarter", "profile")
UNKNOWN = "unknown"
TOO_FEW = 5  # a cell with fewer cases than this says "too few"
LOBE_LIMIT = 0.05  # face widths: DESIGN's nearest single landmark is ~0.055 off, the goal under 0.03
GROSS = 0.5  # face widths: past this our ear is on another face (a spurious detection chosen) or lost
SHOWN_AT = 0.5  # an anchor at least this visible is drawn (Pipeline.not_placed)
LOBE_DISC = 0.02  # face widths: a stud's radius at the lobe (a 6 mm stud on a 14 cm face is 0.02)
COVERED_AT = 0.5  # a lobe this much under the frame's cover (hair) is hidden
SIDES = ("image-left", "image-right")
HIDDEN = ("hidden_hair", "hidden_turn", "hidden_other")
IDEAL_ANGLE_DEG = {"back": 0.0, "side": 90.0, "palm": 180.0}  # ring +z vs the way to the camera
WITHIN_DEG = (20.0, 45.0)  # a ring head on the back of the finger: within the first (the issue asks 20), or loosely
HAND_MATCH = 1.0  # an annotated hand_xy matches our hand within this many hand sizes of its centre
NECKLACE_INSIDE = 0.95  # the fraction of the necklace's alpha that must lie below the chin / between the shoulders
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
        return {"measure": self.measure, "file": self.subject.file, "person": self.subject.person,
                "skin_tone": self.subject.skin_tone, "head_turn": self.subject.head_turn, "where": self.where,
                "value": None if self.value is None else round(self.value, 4), "ok": self.ok,
                **{k: jsonable(v) for k, v in self.detail.items()}}


def jsonable(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return [round(float(x), 2) for x in v.reshape(-1)]
    if isinstance(v, (float, np.floating)):
        return round(float(v), 4)
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
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


def median_of(values: Iterable[float]) -> float | None:
    v = [float(x) for x in values]
    return float(np.median(v)) if v else None


def rate_stats(oks: Iterable[bool]) -> dict[str, Any]:
    """n, how many passed and the rate (None when n is 0)."""
    o = [bool(x) for x in oks]
    return {"n": len(o), "ok": sum(o), "rate": sum(o) / len(o) if o else None}


Summary = Callable[[Sequence[Case]], dict[str, Any]]


def errors_of(limit: float, gross: float | None = None, offsets: Sequence[str] = ()) -> Summary:
    """A summary of the cases' values (those measured) as error_stats; "missing" counts the unmeasured,
    "gross" those over `gross`; "<key>_median" the median of each signed offset in `offsets` (a detail key),
    gross cases left out (their direction means nothing)."""
    def summarise(cases: Sequence[Case]) -> dict[str, Any]:
        vals = [c.value for c in cases if c.value is not None]
        d = {**error_stats(vals, limit), "missing": sum(c.value is None for c in cases)}
        if gross is not None:
            d["gross"] = sum(v > gross for v in vals)
        for key in offsets:
            d[f"{key}_median"] = median_of(float(c.detail[key]) for c in cases if c.detail.get(key) is not None
                                         and c.value is not None and (gross is None or c.value <= gross))
        return d
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


def sides_from_head_axis(axis_px: Point) -> dict[str, str] | None:
    """Our ear site for each image side, from the image direction of the head's +x axis (toward the person's
    left): pointing right, the person's left ear is the image-right one. None when the axis is too short
    to tell (the head turned nearly 90 degrees)."""
    dx = float(axis_px[0])
    if abs(dx) < 1e-3 * max(1.0, float(np.hypot(axis_px[0], axis_px[1]))):
        return None
    return {"image-left": "right_ear", "image-right": "left_ear"} if dx > 0 else \
        {"image-left": "left_ear", "image-right": "right_ear"}


def sides_from_positions(xy_by_site: Mapping[str, Point]) -> dict[str, str]:
    """The fallback: the ear anchor further left in the image is the image-left one."""
    left, right = sorted(("left_ear", "right_ear"), key=lambda s: float(xy_by_site[s][0]))
    return {"image-left": left, "image-right": right}


def head_axis_px(head: HeadPose, intr: Intrinsics, axis: Point = (1.0, 0.0, 0.0)) -> np.ndarray:
    """(2,) the image direction of a head-frame axis (default +x, toward the person's left; 5 cm of it) at
    the head's origin, in pixels (not normalised: its length says how square to the camera it is)."""
    r, t = head.cam_T_head[:3, :3], head.cam_T_head[:3, 3]
    p = intr.project(np.stack([t, t + 0.05 * r @ np.asarray(axis, np.float64)]))
    return p[1] - p[0]


def lobe_offset(ours_xy: Point, truth_xy: Point, down_px: Point,
                out_px: Point, scale_px: float) -> tuple[float, float]:
    """(down, out): ours minus the truth along the head's image "down" and along "out" (away from the face's
    middle, past the ear), each a unit direction after normalising, over `scale_px`. Positive down: ours
    lower (toward the jaw and neck); positive out: ours further back (behind the ear)."""
    d = np.asarray(ours_xy, np.float64) - np.asarray(truth_xy, np.float64)

    def along(v: Point) -> float:
        u = np.asarray(v, np.float64)
        return float(d @ u) / max(float(np.linalg.norm(u)), 1e-12) / scale_px

    return along(down_px), along(out_px)


def nearest(points: Mapping[str, Point], xy: Point) -> str:
    """The key of the point nearest `xy`."""
    return min(points, key=lambda k: float(np.hypot(points[k][0] - xy[0], points[k][1] - xy[1])))


def distance(a: Point, b: Point) -> float:
    return float(np.hypot(float(a[0]) - float(b[0]), float(a[1]) - float(b[1])))


def relative_error(ours_xy: Point, truth_xy: Point, scale_px: float) -> float | None:
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


def match_hands(annotated_xy: Sequence[Point], hands: Sequence[OurHand],
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

# -- measuring ---------------------------------------------------------------------------------------------


def _label(subject: Subject, where: str, text: str) -> list[str]:
    """A tile's two lines: the file's name; where in it, and what was found."""
    return [Path(subject.file).name, f"{where}: {text}" if where else text]


def ear_cases(rgb: np.ndarray, anchors: FrameAnchors, subject: Subject, ears: Mapping[str, Any], where: str = "",
              truth_measure: str = "lobe_error") -> list[Case]:
    """The lobe-error cases (visible ears with a lobe point; `truth_measure` names them) and the shown/hidden
    cases (every ear with a state) of one frame. `ears`: image side -> the annotation (people.json's ears;
    earlobe truth entries have no state: they are visible lobes with `xy_px`)."""
    ours = {a.site: a for a in anchors.anchors if a.site in ("left_ear", "right_ear")}
    fw = anchors.face_width_px
    mapping: dict[str, str] | None = None
    how = "no face"
    x_px = down_px = None
    if anchors.head is not None:
        x_px = head_axis_px(anchors.head, anchors.intrinsics)
        down_px = head_axis_px(anchors.head, anchors.intrinsics, (0.0, -1.0, 0.0))
    if len(ours) == 2:
        if x_px is not None:
            mapping, how = sides_from_head_axis(x_px), "head axis"
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
            if a is not None and x_px is not None and down_px is not None and fw > 0:
                out_px = x_px if site == "left_ear" else -x_px
                d["down_fw"], d["out_fw"] = lobe_offset(a.xy_px, lobe, down_px, out_px, fw)
            c = Case(truth_measure, subject, at, err, None if err is None else err <= LOBE_LIMIT, d)
            c.tile = _ear_tile(rgb, c, lobe, a, ours, fw, f"{err:.3f} fw" if err is not None else "no face")
            cases.append(c)
        if "state" in ear:
            # Shown: the ear wears its earring and hair does not hide the lobe (a stud there would be seen).
            covered = 0.0 if a is None else cover_at(anchors.covers.get(a.site), a.xy_px, LOBE_DISC * fw,
                                                     (rgb.shape[0], rgb.shape[1]))
            shown = a is not None and a.visible >= SHOWN_AT and covered < COVERED_AT
            expect = True if state == "visible" else False if state in HIDDEN else None
            d = {**detail, "shown": shown, "truth_xy": lobe, "covered": covered}
            c = Case("ear_visibility", subject, at, None if a is None else float(a.visible),
                     None if expect is None else shown == expect, d)
            if c.ok is False or c.ok is None:
                what = ("hidden" if a is not None else "no face") if expect else "shown"
                c.tile = _ear_tile(rgb, c, lobe, a, ours, fw, f"{state} -> {what}"
                                   + (f" {a.visible:.2f}" if a is not None else ""), context=0.45)
            cases.append(c)
    return cases


def _ear_tile(rgb: np.ndarray, case: Case, truth: Point | None, a: AnchorPose | None,
              ours: Mapping[str, AnchorPose], fw: float, text: str, context: float = 0.22) -> np.ndarray:
    pts = [np.asarray(p, np.float64) for p in ((truth,) if truth is not None else ())]
    if a is not None:
        pts.append(a.xy_px)
    h, w = rgb.shape[:2]
    centre = np.mean(pts, axis=0) if pts else np.array([w / 2, h / 2])
    spread = distance(pts[0], pts[-1]) if len(pts) == 2 else 0.0
    half = max(context * fw, 0.75 * spread + 0.08 * fw, 20.0) if fw > 0 else max(0.15 * max(h, w), spread)
    marks = [Mark("dot", tuple(o.xy_px), BLUE) for o in ours.values() if o is not a]
    if truth is not None:
        marks.append(Mark("cross", (float(truth[0]), float(truth[1])), GREEN))
    if a is not None:
        marks.append(Mark("cross", (float(a.xy_px[0]), float(a.xy_px[1])), RED))
    return tile(rgb, centre, half, marks, _label(case.subject, case.where, text))


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
        finger = str(worn_finger) if worn_finger in mine.anchors else "ring"
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
               ring_xy: Point | None = None) -> np.ndarray:
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
    return tile(rgb, centre, max(half, 24.0), marks, _label(case.subject, case.where, text))


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
             else distance(neck.xy_px, notch) / view.face_width_px,
             # Image axes: the torso is taken upright (tryon.anchors.neck). Positive: ours lower / image-right.
             "down_sw": None if neck is None or not span else (float(neck.xy_px[1]) - float(notch[1])) / span,
             "right_sw": None if neck is None or not span else (float(neck.xy_px[0]) - float(notch[0])) / span}
        c = Case("neck_error", subject, "notch", err, None, d)
        text = f"{err:.3f} shoulder widths" if err is not None else "no neck anchor" if neck is None else "no shoulders"
        c.tile = tile(rgb, centre, half, marks, _label(subject, "notch", text), overlay)
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
                f"below chin {_pct(inside['below_chin'])}, in shoulders {_pct(inside['between_shoulders'])}")
        c.tile = tile(rgb, centre, half, marks, _label(subject, "", text), overlay)
        cases.append(c)
    return cases


def _pct(v: float | None) -> str:
    return "?" if v is None else f"{100 * v:.0f}%"

