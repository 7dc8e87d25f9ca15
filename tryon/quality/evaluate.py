"""Evaluation over many people: how right the current product is on annotated photos and videos of people it
was not tuned for (DESIGN.md, "How quality is measured"). It measures; it changes nothing.

`python -m tryon.quality.evaluate [--part test|fit|all] [--media DIR] [--out DIR] [--json]` (or `tryon evaluate`)
reads a folder laid out like shared/media/people (a `people.json` whose "about" block explains every field, files
beside it) and reports, on one part of it, overall and per skin tone (Monk 1-3, 4-6, 7-10) and head turn
(frontal, three-quarter, profile), with the number of cases and of distinct people in each cell ("too few" under
TOO_FEW):

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

The parts are split by person (people.json's person_key, through a hash, so the split is fixed before anything
is fitted and a person is never in both): "fit" is what the product's constants may be fitted and tuned on,
"test" is what nothing is fitted to and the only part whose numbers are reported as the product's quality.

The measures themselves, one case at a time, and the way an annotated ear (an image side) is matched to our
ear anchors (the person's sides) by the head's orientation, are in tryon.quality.measures.

Only the trackers each measure needs run, and only the necklace check renders. The contact sheets (one JPEG
per measure: the worst cases, annotated point green, ours red) and `report.json` go to --out.
`--earlobe-truth` adds the older hand-marked piercing points (assets/annotations/earlobe_truth.json, paths
relative to the shared media folder); the lobe regression was fitted to them, so they are reported apart.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from tryon.config import shared_media_dir
from tryon.quality.contact_sheet import sheet, tint
from tryon.quality.measures import (
    GROSS,
    HIDDEN,
    IDEAL_ANGLE_DEG,
    LOBE_LIMIT,
    NECKLACE_INSIDE,
    SHOWN_AT,
    SIDES,
    UNKNOWN,
    WITHIN_DEG,
    Case,
    NeckView,
    Subject,
    ear_cases,
    error_stats,
    errors_of,
    grouped,
    hand_cases,
    jsonable,
    median_of,
    neck_cases,
    rate_stats,
    rates,
)

log = logging.getLogger(__name__)


DEFAULT_MEDIA = shared_media_dir() / "people"
DEFAULT_OUT = Path("out/evaluate")

NECKLACE = "necklace-cable-2.5mm-yellow-gold"
SHEET_MAX = 36  # tiles per contact sheet (six rows)
SHOULDERS = (12, 11)  # pose landmarks: the person's right and left shoulder
CHIN = 152  # face mesh: the chin's lowest point


# -- reading the annotations -------------------------------------------------------------------------------


PARTS = ("test", "fit", "all")


def part_of(person_key: str) -> str:
    """"test" or "fit": which part a person belongs to (half of them each, on average, fixed by the key)."""
    return "test" if hashlib.sha256(person_key.encode()).digest()[0] % 2 == 0 else "fit"


def subject_of(entry: Mapping[str, Any]) -> Subject:
    return Subject(str(entry["file"]), str(entry.get("person_key") or entry["file"]), entry.get("skin_tone"),
                   entry.get("head_turn"))


def load_people(media: Path) -> list[dict[str, Any]]:
    """The file entries of `media/people.json`; FileNotFoundError, naming it, when it is missing."""
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
        cases += neck_cases(rgb, result.anchors, None if full is None else full[..., 3],
                            None if full is None else tint(full),
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
                     f"(234-454); over = above {LOBE_LIMIT}; gross = above {GROSS} (another face); missing = no "
                     f"face found; down_fw / out_fw = ours minus the truth along the head's down / away from "
                     f"the face (behind the ear), medians without the gross",
            "groups": grouped(of("lobe_error"), errors_of(LOBE_LIMIT, GROSS, ("down_fw", "out_fw")),
                              {"earring": lambda c: "earring worn" if c.detail.get("earring") else "bare lobe"}),
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
            "off_ideal_deg": {f: {**error_stats((c.detail["off_deg"] for c in of("ring_angle")
                                                 if c.detail["facing"] == f), WITHIN_DEG[0]),
                                  "angle_median": median_of(c.value for c in of("ring_angle")
                                                          if c.detail["facing"] == f and c.value is not None)}
                              for f in IDEAL_ANGLE_DEG},
            "within_loose": {f: rate_stats(c.detail["within_loose"] for c in of("ring_angle")
                                           if c.detail["facing"] == f) for f in IDEAL_ANGLE_DEG}},
        "ring_error": {"about": "worn rings: our seat on the ring's finger (nearest seat when the finger is not "
                               "annotated) to ring_xy, in hand sizes (largest distance between two of the "
                               "hand's six anchors)",
                       "groups": grouped(of("ring_error"), errors_of(0.1))},
        "hand_side": {"about": "our hand's side against the annotated person's side (mirror selfies left out)",
                      "groups": grouped(of("hand_side"), rates)},
        "neck_error": {"about": "the neck anchor to the sternal notch, in shoulder widths (pose 11-12); over = "
                               "above 0.1; down_sw / right_sw = ours minus the notch in image y / x",
                       "groups": grouped(of("neck_error"), errors_of(0.1, None, ("down_sw", "right_sw"))),
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
            "groups": {"overall": {**errors_of(LOBE_LIMIT, GROSS, ("down_fw", "out_fw"))(of("truth_lobe")),
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
        if not groups or not groups["overall"]["cases"]:
            continue
        lines += ["", title]
        first = groups["overall"]
        extra = "".join(f" {k.split('_')[0]:>6}" for k in first if k.endswith("_median"))
        lines.append(f"  {'group':<22}{'cases':>6}{'people':>7}  " +
                     (f"     n   mean median    p90    max  over{' gross' if 'gross' in first else ''}{extra}"
                      if kind == "errors" else "  ok/n    rate"))
        for part in ("overall", "skin_tone", "head_turn", "facing", "earring"):
            cells = {"overall": groups["overall"]} if part == "overall" else groups.get(part, {})
            for name, cell in cells.items():
                name = f"{name} ({part.split('_')[0]})" if name == UNKNOWN else name
                lines.append(f"  {name:<22}{cell['cases']:>6}{cell['people']:>7}  " + _cell(cell, kind)
                             + ("  too few" if cell["too_few"] else ""))
    conf = report.get("ear_visibility", {}).get("confusion", {})
    if conf:
        lines += ["", "Photos: ear state -> shown / hidden / no face"]
        lines += [f"  {s:<28}{r['shown']:>4}{r['hidden']:>4}{r['no_face']:>4}" for s, r in conf.items()]
    truth = report.get("truth_lobe")
    if truth:
        lines += ["", "Older earlobe truth set (fitted, not held out), face widths",
                  "       n   mean median    p90    max  over gross   down    out",
                  "  " + _cell(truth["groups"]["overall"], "errors")]
    return "\n".join(lines).lstrip("\n")


def _cell(cell: Mapping[str, Any], kind: str) -> str:
    def f(v: Any) -> str:
        return "     -" if v is None else f"{v:6.3f}"

    if kind == "errors":
        extra = "".join(f" {f(v)}" for k, v in cell.items() if k.endswith("_median"))
        gross = f" {cell['gross']:>5}" if "gross" in cell else ""
        return (f"{cell['n']:>6} {f(cell['mean'])} {f(cell['median'])} {f(cell['p90'])} {f(cell['max'])} "
                f"{cell['over']:>5}{gross}{extra}")
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
    path.write_text(json.dumps(full, indent=1, default=jsonable) + "\n")
    written.append(path)
    return written


def evaluate(media: Path, truth: Path | None = None, truth_media: Path | None = None, necklace: str = NECKLACE,
             files: Sequence[str] = (), part: str = "test") -> tuple[dict[str, Any], list[Case]]:
    """(report, cases) for one part ("test", "fit" or "all") of a people folder; `files` limits it to those
    entries (people.json's "file")."""
    if part not in PARTS:
        raise ValueError(f"part {part!r}: one of {', '.join(PARTS)}")
    t0 = time.perf_counter()
    entries = [e for e in load_people(media) if (not files or e["file"] in files)
               and (part == "all" or part_of(subject_of(e).person) == part)]
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
    report = {"media": str(media), "part": part, "files": len(entries),
              "people": len({subject_of(e).person for e in entries}),
              "photos": sum(not e.get("frames") for e in entries), "videos": sum(bool(e.get("frames")) for e in entries),
              "necklace": necklace, **summarise(cases), "seconds": round(time.perf_counter() - t0, 1)}
    return report, cases


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="tryon evaluate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=PARTS, default="test",
                    help="test: the people nothing is fitted to (the product's numbers); fit: those constants may be "
                         "tuned on; all: both")
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
        from tryon.tools.calibrate import TRUTH_PATH

        truth = (TRUTH_PATH if args.media.resolve() == DEFAULT_MEDIA.resolve() and not args.file
                 and args.part != "test" else None)
    elif args.earlobe_truth != "none":
        truth = Path(args.earlobe_truth)
    report, cases = evaluate(args.media, truth, args.truth_media or args.media.parent, args.necklace, args.file,
                             args.part)
    written = write_outputs(cases, report, args.out)
    if args.json:
        print(json.dumps(report, indent=1, default=jsonable))
    else:
        print(format_tables(report))
        print(f"\npart {report['part']}: {report['files']} files, {report['people']} people, {report['seconds']} s; "
              f"wrote {', '.join(str(p) for p in written)}")
    return 0


if __name__ == "__main__":
    from tryon.tracking.quiet import filter_stderr

    filter_stderr()  # MediaPipe's routine log lines kept from the user, as on `tryon` commands
    raise SystemExit(main(sys.argv[1:]))
