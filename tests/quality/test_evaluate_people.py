"""The evaluation over many people (tryon.quality.evaluate, tryon.quality.measures): its pure parts on small
synthetic inputs (matching ears to image sides, the error maths, grouping, the report's shape, the contact
sheet's marks), and one run on three real annotated photos that checks the report counts what it should (not
the product's numbers)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import media_path

from tryon.quality import evaluate as ev
from tryon.quality import measures as ms
from tryon.quality.contact_sheet import GREEN, RED, TILE_PX, Mark, sheet, tile
from tryon.types import AnchorPose, FrameAnchors, HeadPose, Intrinsics

INTR = Intrinsics.from_hfov(640, 480, 60.0)


def rot_y(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([[math.cos(a), 0.0, math.sin(a)], [0.0, 1.0, 0.0], [-math.sin(a), 0.0, math.cos(a)]])


def rot_z(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0], [0.0, 0.0, 1.0]])


def head(r: np.ndarray | None = None, t: tuple[float, float, float] = (0.0, 0.0, 0.5)) -> HeadPose:
    """A head pose: head-frame x (the person's left) along camera +x, y up (camera -y), z toward the camera."""
    base = np.diag([1.0, -1.0, -1.0])
    m = np.eye(4)
    m[:3, :3] = (r if r is not None else np.eye(3)) @ base
    m[:3, 3] = t
    return HeadPose(m, 1.0, 0)


def anchor(site: str, xy: tuple[float, float], visible: float = 1.0, z_axis: tuple[float, float, float] = (0, 0, -1),
           p: tuple[float, float, float] = (0.0, 0.0, 0.5), fit: dict[str, float] | None = None) -> AnchorPose:
    m = np.eye(4)
    z = np.asarray(z_axis, np.float64) / np.linalg.norm(z_axis)
    x = np.cross([0.0, 1.0, 0.0], z) if abs(z[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    x /= np.linalg.norm(x)
    m[:3, :3] = np.stack([x, np.cross(z, x), z], axis=1)
    m[:3, 3] = p
    return AnchorPose(site, m, visible, np.asarray(xy, np.float64), fit or {})


def case(measure: str = "lobe_error", value: float | None = 0.01, ok: bool | None = True, tone: int | None = 2,
         turn: str | None = "frontal", person: str = "p1", **detail: object) -> ms.Case:
    return ms.Case(measure, ms.Subject(f"{person}.jpg", person, tone, turn), "image-left", value, ok, dict(detail))


# -- grouping and statistics --------------------------------------------------------------------------------


@pytest.mark.parametrize(("tone", "group"), [(1, "Monk 1-3"), (3, "Monk 1-3"), (4, "Monk 4-6"), (6, "Monk 4-6"),
                                             (7, "Monk 7-10"), (10, "Monk 7-10"), (None, "unknown"), (0, "unknown")])
def test_skin_groups(tone, group):
    assert ms.skin_group(tone) == group


def test_turn_groups():
    assert [ms.turn_group(t) for t in ("frontal", "three-quarter", "profile", None, "odd")] == \
        ["frontal", "three-quarter", "profile", "unknown", "unknown"]


def test_error_stats_numbers():
    s = ms.error_stats([0.01, 0.02, 0.03, 0.10], limit=0.05)
    assert s["n"] == 4 and s["over"] == 1
    assert s["mean"] == pytest.approx(0.04) and s["median"] == pytest.approx(0.025) and s["max"] == pytest.approx(0.10)
    assert s["p90"] == pytest.approx(np.percentile([0.01, 0.02, 0.03, 0.10], 90))
    assert ms.error_stats([], 0.05) == {"n": 0, "mean": None, "median": None, "p90": None, "max": None, "over": 0}


def test_rate_stats():
    assert ms.rate_stats([True, False, True, True]) == {"n": 4, "ok": 3, "rate": 0.75}
    assert ms.rate_stats([])["rate"] is None


def test_errors_summary_counts_missing_gross_and_offsets():
    cases = [case(value=0.02, down_fw=0.01), case(value=0.04, down_fw=0.03), case(value=None), case(value=1.5, down_fw=1.4)]
    s = ms.errors_of(0.05, gross=0.5, offsets=("down_fw",))(cases)
    assert s["n"] == 3 and s["missing"] == 1 and s["gross"] == 1 and s["over"] == 1
    assert s["down_fw_median"] == pytest.approx(0.02)  # the gross case's direction is left out


def test_grouped_cells_people_and_too_few():
    cases = [case(tone=2, turn="frontal", person="a"), case(tone=2, turn="frontal", person="a"),
             case(tone=5, turn="profile", person="b"), case(tone=None, turn=None, person="c", ok=False)]
    g = ms.grouped(cases, ms.rates)
    assert g["overall"]["cases"] == 4 and g["overall"]["people"] == 3 and g["overall"]["too_few"]
    assert list(g["skin_tone"]) == ["Monk 1-3", "Monk 4-6", "Monk 7-10", "unknown"]
    assert g["skin_tone"]["Monk 1-3"]["cases"] == 2 and g["skin_tone"]["Monk 1-3"]["people"] == 1
    assert g["skin_tone"]["Monk 7-10"]["cases"] == 0 and g["skin_tone"]["Monk 7-10"]["rate"] is None
    assert g["head_turn"]["three-quarter"]["cases"] == 0 and g["head_turn"]["unknown"]["ok"] == 0
    many = [case(person=f"p{i}") for i in range(ms.TOO_FEW)]
    assert not ms.grouped(many, ms.rates)["overall"]["too_few"]
    assert "unknown" not in ms.grouped(many, ms.rates)["skin_tone"]


def test_grouped_extra_split():
    cases = [case(facing="back"), case(facing="palm"), case(facing="back", ok=False)]
    g = ms.grouped(cases, ms.rates, {"facing": lambda c: str(c.detail["facing"])})
    assert g["facing"]["back"]["n"] == 2 and g["facing"]["back"]["ok"] == 1 and g["facing"]["palm"]["rate"] == 1.0


# -- matching ears and hands ----------------------------------------------------------------------------------


def test_head_axis_sides_upright_turned_and_upside_down():
    upright = ms.sides_from_head_axis(ms.head_axis_px(head(), INTR))
    assert upright == {"image-left": "right_ear", "image-right": "left_ear"}
    # Turned 70 degrees either way (the far ear's anchor may land near the near one): still an upright face.
    for yaw in (-70.0, 70.0):
        assert ms.sides_from_head_axis(ms.head_axis_px(head(rot_y(yaw)), INTR)) == upright
    assert ms.sides_from_head_axis(ms.head_axis_px(head(rot_z(180.0)), INTR)) == \
        {"image-left": "left_ear", "image-right": "right_ear"}
    assert ms.sides_from_head_axis((0.0, 5.0)) is None


def test_sides_from_positions_and_nearest():
    assert ms.sides_from_positions({"left_ear": (400.0, 200.0), "right_ear": (100.0, 210.0)}) == \
        {"image-left": "right_ear", "image-right": "left_ear"}
    assert ms.nearest({"a": (0.0, 0.0), "b": (10.0, 0.0)}, (7.0, 1.0)) == "b"


def test_relative_error_and_offset_signs():
    assert ms.relative_error((3.0, 4.0), (0.0, 0.0), 50.0) == pytest.approx(0.1)
    assert ms.relative_error((3.0, 4.0), (0.0, 0.0), 0.0) is None
    # Upright head: down is image +y; "out" for the person's left ear (image right) is image +x.
    down, out = ms.lobe_offset((105.0, 210.0), (100.0, 200.0), (0.0, 3.0), (2.0, 0.0), 100.0)
    assert down == pytest.approx(0.10) and out == pytest.approx(0.05)


def ear_frame(left_xy=(420.0, 260.0), right_xy=(220.0, 262.0), vis=(1.0, 0.0), h: HeadPose | None = None):
    return FrameAnchors(0, INTR, 200.0, h or head(),
                        (anchor("left_ear", left_xy, vis[0]), anchor("right_ear", right_xy, vis[1])))


def test_ear_cases_match_by_head_axis_and_measure():
    rgb = np.zeros((480, 640, 3), np.uint8)
    ears = {"image-left": {"state": "visible", "earring": True, "lobe_xy": [224, 252]},
            "image-right": {"state": "hidden_hair", "earring": False, "lobe_xy": None}}
    cases = ms.ear_cases(rgb, ear_frame(), ms.Subject("x.jpg", "p"), ears)
    lobe = [c for c in cases if c.measure == "lobe_error"]
    vis = {c.where: c for c in cases if c.measure == "ear_visibility"}
    assert len(lobe) == 1 and lobe[0].detail["site"] == "right_ear" and lobe[0].detail["side_check"] is True
    assert lobe[0].value == pytest.approx(math.hypot(4, 10) / 200.0)
    assert lobe[0].detail["down_fw"] == pytest.approx(10 / 200.0) and lobe[0].detail["out_fw"] == pytest.approx(4 / 200.0)
    # image-left: visible but our right_ear anchor is hidden (vis 0); image-right: under hair but shown.
    assert vis["image-left"].ok is False and vis["image-right"].ok is False
    assert vis["image-right"].detail["site"] == "left_ear" and vis["image-right"].detail["shown"] is True
    assert lobe[0].tile is not None and lobe[0].tile.shape == (TILE_PX + 34, TILE_PX, 3)


def test_ear_cases_do_not_swap_a_misplaced_anchor():
    """Our right ear's anchor far off, past the left one: the head still says which ear is which, so the
    error is large (not the small distance to the other anchor) and the nearest-anchor check disagrees."""
    rgb = np.zeros((480, 640, 3), np.uint8)
    frame = ear_frame(left_xy=(420.0, 260.0), right_xy=(500.0, 300.0), vis=(1.0, 1.0))
    ears = {"image-right": {"state": "visible", "lobe_xy": [505, 298]}}
    (lobe,) = [c for c in ms.ear_cases(rgb, frame, ms.Subject("x.jpg", "p"), ears) if c.measure == "lobe_error"]
    assert lobe.detail["site"] == "left_ear" and lobe.detail["side_check"] is False
    assert lobe.value == pytest.approx(math.hypot(85, 38) / 200.0)


def test_ear_cases_without_a_face():
    rgb = np.zeros((120, 160, 3), np.uint8)
    ears = {"image-left": {"state": "visible", "lobe_xy": [30, 60]}, "image-right": {"state": "hidden_turn"}}
    cases = ms.ear_cases(rgb, FrameAnchors(0, INTR), ms.Subject("x.jpg", "p"), ears)
    (lobe,) = [c for c in cases if c.measure == "lobe_error"]
    assert lobe.value is None and lobe.detail["matched_by"] == "no face"
    vis = {c.where: c.ok for c in cases if c.measure == "ear_visibility"}
    assert vis == {"image-left": False, "image-right": True}  # nothing drawn: the hidden ear is right


def hand_frame(side: str, centre: tuple[float, float], z_axis=(0.0, 0.0, -1.0)) -> FrameAnchors:
    """Six anchors of one hand spread 40 px round `centre`, every ring seat's +z along `z_axis`."""
    offsets = {"thumb": (-40, 0), "index": (-20, -30), "middle": (0, -35), "ring": (20, -30), "little": (40, -20),
               "wrist": (0, 40)}
    return FrameAnchors(0, INTR, 0.0, None, tuple(
        anchor(f"{side}_{k}", (centre[0] + dx, centre[1] + dy), z_axis=z_axis,
               fit={"diameter": 0.018} if k != "wrist" else {}) for k, (dx, dy) in offsets.items()))


def test_our_hands_and_matching():
    frame = hand_frame("left", (200.0, 200.0))
    (h,) = ms.our_hands(frame)
    assert h.side == "left" and h.size_px == pytest.approx(math.hypot(80, 20))  # thumb to little finger
    assert h.centre_px == pytest.approx([200.0, 200.0 + (0 - 30 - 35 - 30 - 20 + 40) / 6])
    far = ms.OurHand("right", np.array([500.0, 100.0]), 60.0, {})
    assert ms.match_hands([(205.0, 190.0), (600.0, 400.0)], [h, far]) == [0, None]
    # Two annotated hands near one of ours: the nearer one gets it.
    assert ms.match_hands([(230.0, 190.0), (202.0, 188.0)], [h]) == [None, 0]


def test_angle_to_camera():
    assert ms.angle_to_camera_deg(anchor("x", (0, 0), z_axis=(0, 0, -1)).cam_T_anchor) == pytest.approx(0.0, abs=1e-6)
    assert ms.angle_to_camera_deg(anchor("x", (0, 0), z_axis=(0, 0, 1)).cam_T_anchor) == pytest.approx(180.0)
    assert ms.angle_to_camera_deg(anchor("x", (0, 0), z_axis=(1, 0, 0)).cam_T_anchor) == pytest.approx(90.0)


def test_hand_cases():
    rgb = np.zeros((480, 640, 3), np.uint8)
    hands = [{"hand_xy": [200, 190], "side": "left", "facing": "back", "ring_xy": [218, 172], "ring_finger": "ring"},
             {"hand_xy": [500, 400], "side": "right", "facing": "palm"}]
    cases = ms.hand_cases(rgb, hand_frame("left", (200.0, 200.0)), ms.Subject("h.jpg", "p"), hands)
    by = {(c.measure, c.where.split(" (")[0]): c for c in cases}
    assert by[("ring_found", "hand 1")].ok is True and by[("ring_found", "hand 2")].ok is False
    angle = by[("ring_angle", "hand 1")]
    assert angle.value == pytest.approx(0.0, abs=1e-6) and angle.ok is True and angle.detail["finger"] == "ring"
    err = by[("ring_error", "hand 1")]
    assert err.value == pytest.approx(math.hypot(2, 2) / math.hypot(80, 20))
    assert err.detail["finger_width_px"] == pytest.approx(0.018 * INTR.fx / 0.5)
    assert by[("hand_side", "hand 1")].ok is True
    assert not any(c.measure in ("ring_angle", "ring_error") for c in cases if c.where.startswith("hand 2"))


def test_alpha_inside():
    alpha = np.zeros((100, 100), np.float32)
    alpha[60:70, 20:80] = 1.0
    alpha[10:20, 0:10] = 1.0  # a stray blob above the chin and outside the shoulders: 100 of 700
    got = ms.alpha_inside(alpha, 50.0, (15.0, 85.0))
    assert got["below_chin"] == pytest.approx(600 / 700) and got["between_shoulders"] == pytest.approx(600 / 700)
    assert ms.alpha_inside(np.zeros((4, 4)), 1.0, (0.0, 3.0)) == {"below_chin": None, "between_shoulders": None}
    assert ms.alpha_inside(alpha, None, None) == {"below_chin": None, "between_shoulders": None}


def test_neck_cases():
    rgb = np.zeros((400, 400, 3), np.uint8)
    alpha = np.zeros((400, 400), np.float32)
    alpha[230:260, 150:250] = 1.0
    frame = FrameAnchors(0, INTR, 0.0, None, (anchor("neck", (200.0, 220.0)),))
    view = ms.NeckView(np.array([200.0, 150.0]), (np.array([100.0, 240.0]), np.array([300.0, 240.0])), 120.0)
    entry = {"sternal_notch_xy": [200, 240], "shoulders_visible": True, "hair_over_neck": False}
    cases = {c.measure: c for c in ms.neck_cases(rgb, frame, alpha, None, view, ms.Subject("b.jpg", "p"), entry)}
    assert cases["neck_error"].value == pytest.approx(20 / 200)
    assert cases["neck_error"].detail["down_sw"] == pytest.approx(-0.1)  # ours above the notch
    assert cases["neck_error"].detail["error_face_widths"] == pytest.approx(20 / 120)
    assert cases["necklace_alpha"].ok is True and cases["necklace_alpha"].value == pytest.approx(1.0)
    missing = ms.neck_cases(rgb, frame, None, None, view, ms.Subject("b.jpg", "p"), entry)
    assert [c.ok for c in missing if c.measure == "necklace_alpha"] == [False]


# -- the report and the sheets ---------------------------------------------------------------------------------


def test_summary_tables_and_outputs(tmp_path):
    rgb = np.zeros((480, 640, 3), np.uint8)
    ears = {"image-left": {"state": "visible", "earring": False, "lobe_xy": [224, 252]},
            "image-right": {"state": "hidden_turn", "earring": False, "lobe_xy": None}}
    cases = ms.ear_cases(rgb, ear_frame(vis=(1.0, 1.0)), ms.Subject("x.jpg", "p", 8, "frontal"), ears)
    cases += ms.hand_cases(rgb, hand_frame("left", (200.0, 200.0)), ms.Subject("h.jpg", "q", 2),
                           [{"hand_xy": [200, 190], "side": "left", "facing": "back"}])
    report = ev.summarise(cases)
    for key in ("lobe_error", "ear_visibility", "video_ears", "ring_found", "ring_angle", "ring_error", "hand_side",
                "neck_error", "necklace_alpha"):
        assert key in report and "about" in report[key]
    assert report["lobe_error"]["groups"]["skin_tone"]["Monk 7-10"]["n"] == 1
    assert report["lobe_error"]["groups"]["earring"]["bare lobe"]["n"] == 1
    assert report["ear_visibility"]["confusion"] == {"visible": {"shown": 1, "hidden": 0, "no_face": 0},
                                                     "hidden_turn": {"shown": 1, "hidden": 0, "no_face": 0}}
    assert report["ring_found"]["groups"]["facing"]["back"]["ok"] == 1
    assert "truth_lobe" not in report
    text = ev.format_tables(report)
    assert "Earlobe error" in text and "Monk 7-10" in text and "too few" in text
    written = ev.write_outputs(cases, report, tmp_path)
    assert {p.name for p in written} >= {"report.json", "lobe_error.jpg", "ear_visibility.jpg", "ring_angle.jpg"}
    data = json.loads((tmp_path / "report.json").read_text())
    assert len(data["cases"]) == len(cases) and {"measure", "file", "value", "ok"} <= set(data["cases"][0])


def test_worst_first():
    cases = [case(value=0.02), case(value=0.3), case(value=None), case(value=0.1)]
    for c in cases:
        c.tile = np.zeros((2, 2, 3), np.uint8)
    assert [c.value for c in ev.worst(cases, "lobe_error")] == [None, 0.3, 0.1, 0.02]
    vis = [case("ear_visibility", ok=True), case("ear_visibility", ok=False)]
    for c in vis:
        c.tile = np.zeros((2, 2, 3), np.uint8)
    assert [c.ok for c in ev.worst(vis, "ear_visibility")] == [False]


def test_tile_marks_land_on_their_points():
    rgb = np.full((200, 300, 3), 90, np.uint8)
    t = tile(rgb, (150.0, 100.0), 40.0, [Mark("cross", (150.0, 100.0), GREEN), Mark("cross", (170.0, 80.0), RED)],
             ["file.jpg", "where: 0.1"])
    assert t.shape == (TILE_PX + 34, TILE_PX, 3)
    scale = TILE_PX / 80.0  # the crop: x from 110, y from 60, 80 px a side

    def px(x: float, y: float) -> tuple[int, int]:
        return round((x - 110 + 0.5) * scale - 0.5), round((y - 60 + 0.5) * scale - 0.5)

    def near(xy: tuple[int, int], colour: tuple[int, int, int]) -> bool:  # antialiased: within a few levels
        return int(np.abs(t[xy[1], xy[0]].astype(int) - colour).max()) <= 8

    assert near(px(150, 100), GREEN) and near(px(170, 80), RED)
    assert not near(px(150, 80), GREEN) and not near(px(150, 80), RED)
    # Past the frame's edge: padded, not wrapped.
    edge = tile(rgb, (0.0, 0.0), 20.0, [], ["a"])
    assert int(edge[:TILE_PX // 2 - 2, :TILE_PX // 2 - 2].max()) < 90
    assert sheet([t, t, t], "title", columns=2).shape[0] > 2 * t.shape[0]


# -- on real photos ----------------------------------------------------------------------------------------------

REAL = ("faces/boy_dark_skin_smile.jpg", "body/woman_bob_bare_shoulders.jpg", "hands/woman_phone_ring_finger.png")


@pytest.fixture(scope="module")
def real_report():
    people = media_path("people/people.json").parent
    for f in REAL:
        media_path(f"people/{f}")
    return ev.evaluate(people, files=REAL, part="all")


def test_parts_split_people_not_files():
    people = media_path("people/people.json").parent
    entries = ev.load_people(people)
    parts: dict[str, set[str]] = {}
    for e in entries:
        person = ev.subject_of(e).person
        parts.setdefault(person, set()).add(ev.part_of(person))
    assert all(len(p) == 1 for p in parts.values())  # a person is in one part only
    tested = sum(p == {"test"} for p in parts.values())
    assert 0.3 < tested / len(parts) < 0.7
    with pytest.raises(ValueError, match="part"):
        ev.evaluate(people, part="held")


def test_real_photos_report_counts(real_report):
    report, cases = real_report
    assert report["files"] == 3 and report["photos"] == 3 and report["videos"] == 0 and report["people"] == 3
    lobe = report["lobe_error"]["groups"]
    # The boy's two bare lobes (Monk 8) and the bob's visible lobe (its hair-covered one has a point but no
    # visible lobe, so it counts for shown/hidden only).
    assert lobe["overall"]["cases"] == 3 and lobe["overall"]["missing"] == 0
    assert lobe["skin_tone"]["Monk 7-10"]["n"] == 2 and lobe["skin_tone"]["Monk 1-3"]["n"] == 1
    assert lobe["head_turn"]["frontal"]["n"] == 3 and lobe["overall"]["too_few"]
    vis = report["ear_visibility"]
    assert vis["visible_shown"]["overall"]["n"] == 3 and vis["hidden_hidden"]["overall"]["n"] == 1
    assert sum(sum(r.values()) for r in vis["confusion"].values()) == 4
    assert report["ring_found"]["groups"]["overall"]["n"] == 2  # the ring hand and the hand at her temple
    assert report["ring_error"]["groups"]["overall"]["cases"] == 1
    assert report["neck_error"]["groups"]["overall"]["cases"] == 1
    assert report["necklace_alpha"]["groups"]["overall"]["cases"] == 1
    assert report["video_ears"]["visible_shown"]["overall"]["cases"] == 0
    assert all(c.detail.get("matched_by") == "head axis" for c in cases if c.measure == "lobe_error")
    assert all(c.tile is not None for c in cases if c.measure == "lobe_error")


def test_real_photos_outputs(real_report, tmp_path):
    report, cases = real_report
    ev.write_outputs(cases, report, tmp_path)
    assert (tmp_path / "lobe_error.jpg").stat().st_size > 1000
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["media"].endswith("people") and len(data["cases"]) == len(cases)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="people.json"):
        ev.load_people(tmp_path)
    assert ev.main(["--media", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
