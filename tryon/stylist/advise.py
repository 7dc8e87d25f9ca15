"""The stylist: one photo in, what suits this person out, each suggestion with its reason and the catalog's
pieces that fit it.

Read from the photo: the skin's undertone under the frame's own white (tryon.anchors.skin, tryon.stylist.
white), the face's shape (tryon.anchors.face_shape), the face's width between the ear lobes, the neck's size
(the body scale that the necklace drape uses), and with a hand in view its ring sizes and wrist. The rules
(tryon.stylist.rules, assets/stylist_rules.json) turn these into suggestions; a necklace length is said where
it falls on this body (tryon.anchors.drape). Nothing about the person is kept: the photo and what was measured
live only in this call's values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np

from tryon.anchors.drape import drape_for
from tryon.anchors.face_shape import FaceShape, face_shape
from tryon.anchors.fingers import ring_sizes
from tryon.anchors.skin import Undertone, linear_to_lab, skin_mask, undertone
from tryon.body import BODY, ring_size_text
from tryon.compositor.camera import srgb_to_linear
from tryon.errors import InputError
from tryon.jewelry.catalog import Catalog, Item
from tryon.stylist.rules import Rule, Rules, load_rules
from tryon.stylist.white import scene_white
from tryon.tracking.face import FaceTracker, check_rgb
from tryon.types import FaceLandmarks, Frame, FrameAnchors

MAX_ITEMS = 6  # catalog pieces listed per suggestion
SKIN_HUE_DEG = (0.0, 110.0)  # a face mesh on something that is not skin (a logo) reads outside this, unbalanced
LENGTH_MATCH_CM = 3.0  # a chain within this of a suggested length fits it
RING_FINGER = "ring"
CHOKER_EASE_CM = 5.0  # a chain this much longer than the neck is round: the shortest that sits (choker charts)


@dataclass(frozen=True)
class Suggestion:
    """One suggestion: topic ("metal", "earrings", ...), the reason in plain words, the rule and its source,
    the catalog pieces that fit (ids), and what it suggests in numbers (`detail`)."""

    topic: str
    reason: str
    rule: str
    source: str
    items: tuple[str, ...]
    detail: Mapping[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Advice:
    undertone: Undertone | None
    face_shape: FaceShape | None
    sizes: Mapping[str, Any] = field(hash=False)
    suggestions: tuple[Suggestion, ...] = ()
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "undertone": None if self.undertone is None else {
                "label": self.undertone.label, "confidence": self.undertone.confidence,
                "hue_deg": self.undertone.hue_deg, "lab": [round(v, 2) for v in self.undertone.lab]},
            "face_shape": None if self.face_shape is None else asdict(self.face_shape),
            "sizes": dict(self.sizes),
            "suggestions": [{**asdict(s), "items": list(s.items), "detail": dict(s.detail)} for s in self.suggestions],
            "notes": list(self.notes),
        }


def read_undertone(rgb: np.ndarray, face: FaceLandmarks) -> Undertone:
    """The undertone of this face's skin in rgb (H, W, 3) uint8, under the frame's own white (read with the face
    left out). InputError when too little skin shows."""
    h, w = rgb.shape[:2]
    mask = skin_mask(face, (w, h))
    hull = np.zeros((h, w), np.uint8)
    cv2.fillPoly(hull, [cv2.convexHull(np.round(face.points_px[:, :2]).astype(np.int32))], (1,))
    white = scene_white(rgb, hull > 0)
    return undertone(srgb_to_linear(rgb[mask].astype(np.float32) / np.float32(255.0)), white)


def pick_face(rgb: np.ndarray, faces: Sequence[FaceLandmarks]) -> FaceLandmarks | None:
    """The largest face whose cheeks and forehead look like skin (a face mesh also fits faces in pictures and
    logos: a blue emblem is not a face to advise); None when there is none."""
    h, w = rgb.shape[:2]
    for face in faces:
        px = rgb[skin_mask(face, (w, h))]
        if len(px) == 0:
            continue
        lab = np.median(linear_to_lab(srgb_to_linear(px.astype(np.float32) / np.float32(255.0))), axis=0)
        hue = math.degrees(math.atan2(float(lab[2]), float(lab[1])))
        if math.hypot(float(lab[1]), float(lab[2])) < 4.0 or SKIN_HUE_DEG[0] <= hue <= SKIN_HUE_DEG[1]:
            return face
    return None


def _ellipse_perimeter(a: float, b: float) -> float:
    h = ((a - b) / (a + b)) ** 2
    return math.pi * (a + b) * (1 + 3 * h / (10 + math.sqrt(4 - 3 * h)))  # Ramanujan's second approximation


def measured_sizes(anchors: FrameAnchors) -> dict[str, Any]:
    """What the anchors say of the body: face width between the lobes (mm), the neck's base (its scale and
    circumference, mm), per hand the ring size of each finger and the wrist's circumference."""
    out: dict[str, Any] = {}
    by_site = {a.site: a for a in anchors.anchors}
    if "left_ear" in by_site and "right_ear" in by_site:
        gap = by_site["left_ear"].cam_T_anchor[:3, 3] - by_site["right_ear"].cam_T_anchor[:3, 3]
        out["face_width_mm"] = round(float(np.linalg.norm(gap)) * 1e3, 1)
    neck = by_site.get("neck")
    if neck is not None and neck.visible > 0.5:
        scale = float(neck.fit_m.get("scale", 1.0))
        b = BODY.scaled(scale)
        out["neck"] = {"scale": round(scale, 3),
                       "circumference_mm": round(_ellipse_perimeter(b.half_width, b.half_depth) * 1e3, 0)}
    hands = []
    for hand in anchors.hands:
        fingers = {}
        for name, size in hand.fingers.items():
            sizes = ring_sizes(size.value_mm)
            fingers[name] = {"inner_diameter_mm": round(size.value_mm, 2), "sigma_mm": round(size.sigma_mm, 2),
                             **sizes, "text": ring_size_text(sizes["us"], sizes["eu"])}
        wrist = hand.wrist_circumference
        hands.append({"side": hand.side, "fingers": fingers,
                      "wrist_circumference_mm": None if wrist is None else round(wrist.value_mm, 1)})
    if hands:
        out["hands"] = hands
    return out


class Stylist:
    """`advise(rgb) -> Advice` for photos. Holds a face mesh and a tracking pipeline (anchors only, no
    renderer): make one per worker thread, close it after."""

    def __init__(self, catalog: Catalog, rules: Rules | None = None, hfov_deg: float = 60.0) -> None:
        from tryon.pipeline import Pipeline, PipelineOptions  # the pipeline is below the apps, above the anchors

        self.catalog = catalog
        self.rules = rules or load_rules()
        self._faces = FaceTracker("image")
        self._pipe = Pipeline(catalog, (), PipelineOptions(mode="image", hfov_deg=hfov_deg, render=False,
                                                           track=frozenset({"face", "hands", "neck"})))

    def __enter__(self) -> Stylist:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._faces.close()
        self._pipe.close()

    def advise(self, rgb: np.ndarray) -> Advice:
        rgb = check_rgb(rgb)
        notes: list[str] = []
        face = pick_face(rgb, self._faces.process(rgb))
        tone: Undertone | None = None
        shape: FaceShape | None = None
        if face is None:
            notes.append("no face found: face the camera for undertone, face shape and earrings")
        else:
            shape = face_shape(face)
            try:
                tone = read_undertone(rgb, face)
            except InputError as e:
                notes.append(str(e))
        sizes = measured_sizes(self._pipe.track(Frame(rgb)))
        if "hands" not in sizes:
            notes.append("no hand in view: show a hand, back to the camera, for ring sizes and the wrist")
        return Advice(tone, shape, sizes, tuple(suggest(self.catalog, self.rules, tone, shape, sizes)), tuple(notes))


def _facts(tone: Undertone | None, shape: FaceShape | None, sizes: Mapping[str, Any]) -> dict[str, Any]:
    facts: dict[str, Any] = {"undertone": None if tone is None else tone.label,
                             "face_shape": None if shape is None else shape.label,
                             "face_width_mm": sizes.get("face_width_mm"),
                             "neck_mm": sizes.get("neck", {}).get("circumference_mm")}
    for hand in sizes.get("hands", []):
        ring = hand["fingers"].get(RING_FINGER)
        if ring is not None and facts.get("finger_us") is None:
            facts["finger_us"] = ring["us"]
        if hand["wrist_circumference_mm"] is not None and facts.get("wrist_mm") is None:
            facts["wrist_mm"] = hand["wrist_circumference_mm"]
    return facts


def _by_metal(items: Sequence[Item], metals: Sequence[str]) -> list[Item]:
    """items with a preferred metal first (in the metals' order), others after; catalog order within."""
    rank = {m: i for i, m in enumerate(metals)}
    return sorted(items, key=lambda it: rank.get(it.metal, len(rank)))


def suggest(catalog: Catalog, rules: Rules, tone: Undertone | None, shape: FaceShape | None,
            sizes: Mapping[str, Any]) -> list[Suggestion]:
    """The suggestions of every rule that applies, each with the catalog pieces that fit it (pieces in the
    suggested metals first)."""
    facts = _facts(tone, shape, sizes)
    out: list[Suggestion] = []
    metal_rules = rules.matching("metal", facts)
    metals: list[str] = list(metal_rules[0].suggest["metals"]) if metal_rules else []
    items = catalog.items

    def add(rule: Rule, chosen: Sequence[Item], detail: Mapping[str, Any], reason: str | None = None) -> None:
        ids = tuple(it.id for it in _by_metal(chosen, metals)[:MAX_ITEMS])
        out.append(Suggestion(rule.topic, reason or rule.reason_for(facts), rule.id, rules.sources[rule.source],
                              ids, detail))

    for rule in metal_rules:
        want = rule.suggest["metals"]
        picked: dict[str, Item] = {}
        for it in items:  # one piece per family, in a suggested metal
            if it.metal in want and it.family not in picked:
                picked[it.family] = it
        add(rule, list(picked.values()), {"metals": list(want)})

    earring_rules = rules.matching("earrings", facts)
    lo, hi = 0.0, math.inf
    for rule in earring_rules:
        if "size_mm" in rule.suggest:
            lo, hi = max(lo, rule.suggest["size_mm"][0]), min(hi, rule.suggest["size_mm"][1])
    shaped = {f for rule in earring_rules for f in rule.suggest.get("families", ())}
    for rule in earring_rules:
        fams = rule.suggest.get("families")
        chosen = [it for it in items if it.kind == "earring" and (it.family in (fams or shaped or {it.family}))
                  and (it.size_mm is None or lo <= it.size_mm <= hi)]
        if fams is None:  # a size rule: the largest pieces that suit the face's shape, the most it carries
            chosen.sort(key=lambda it: -(it.size_mm or 0.0))
        add(rule, chosen, {"families": list(fams or shaped), "size_mm": [lo, None if math.isinf(hi) else hi]})

    scale = float(sizes.get("neck", {}).get("scale", 1.0))
    where = "below your collarbone notch" if "neck" in sizes else "below the collarbone notch on an average build"
    # No chain shorter than the neck's circumference and CHOKER_EASE_CM: it would not close, or would choke.
    neck_mm = facts.get("neck_mm")
    shortest_cm = 0.0 if neck_mm is None else math.ceil(neck_mm / 10.0 + CHOKER_EASE_CM)
    for rule in rules.matching("necklace", facts):
        falls = []
        lengths = [cm for cm in rule.suggest["lengths_cm"] if cm >= shortest_cm] or [max(shortest_cm, 40.0)]
        for cm in lengths:
            drop_cm = float(drape_for(cm / 100.0, 0.0, scale).bottom[1]) * 100.0
            falls.append({"length_cm": cm, "below_notch_cm": round(drop_cm, 1)})
        said = "; ".join(f"a {f['length_cm']:g} cm chain sits {f['below_notch_cm']:.0f} cm {where}" for f in falls)
        chosen = [it for it in items if it.kind in ("necklace", "pendant") and any(
            abs(it.dimensions_mm.get("length", 0.0) / 10.0 - cm) <= LENGTH_MATCH_CM for cm in lengths)]
        add(rule, chosen, {"lengths": falls}, f"{rule.reason_for(facts)}: {said}")

    for rule in rules.matching("ring", facts):
        blo, bhi = rule.suggest["band_width_mm"]
        chosen = [it for it in items if it.kind == "ring" and blo <= it.dimensions_mm.get("band_width", -1.0) <= bhi]
        add(rule, chosen, {"band_width_mm": [blo, bhi], "us_size": facts["finger_us"]})

    for rule in rules.matching("wrist", facts):
        clo, chi = rule.suggest["watch_case_mm"]
        extra = rule.suggest["bracelet_extra_mm"]
        bracelet = float(facts["wrist_mm"]) + 0.5 * (extra[0] + extra[1])
        facts["bracelet_mm"] = bracelet
        chosen = [it for it in items if (it.kind == "watch" and clo <= it.dimensions_mm.get("case_diameter", -1) <= chi)
                  or it.kind == "bracelet"]
        add(rule, chosen, {"watch_case_mm": [clo, chi], "bracelet_length_mm": round(bracelet)})
    return out
