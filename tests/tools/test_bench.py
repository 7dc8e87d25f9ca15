"""`tryon bench`'s measurement itself (not its speed): every stage reported, the bare tracker compared."""

import json

from tryon.cli import main
from tryon.tools.bench import run_bench


def test_bench_reports_every_stage_and_the_bare_tracker():
    r = run_bench(None, frames=12, warmup=3)  # no video: the astronaut moved by a known motion
    assert r.frames == 12 and r.tracker == "face mesh" and "astronaut" in r.source
    for stage in ("face_mesh", "segmentation", "anchors", "render", "composite", "total"):
        assert set(r.stages_ms[stage]) == {"median", "p90", "mean"}, stage
    assert r.stages_ms["total"]["median"] >= r.stages_ms["face_mesh"]["median"] > 0
    assert r.tracker_only_ms > 0 and r.pipeline_fps > 0
    assert abs(r.ratio_to_tracker - r.stages_ms["total"]["median"] / r.tracker_only_ms) < 0.01


def test_bench_json_from_the_command_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TRYON_DATA_DIR", str(tmp_path))
    assert main(["bench", "--json", "--frames", "10", "--item", "stud-diamond-5mm-yellow-gold"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1 and rows[0]["tracker"] == "face mesh" and rows[0]["frames"] == 10
    assert rows[0]["item"] == "stud-diamond-5mm-yellow-gold" and rows[0]["ratio_to_tracker"] > 0


def test_bench_bad_arguments_get_one_clear_line(capsys, tmp_path):
    assert main(["bench", "--frames", "5"]) == 2
    assert main(["bench", "--video", str(tmp_path / "missing.mp4")]) == 2
    err = capsys.readouterr().err
    assert "--frames must be at least 10" in err and "no such video" in err


def test_bench_times_several_items_worn_at_once(capsys, tmp_path, monkeypatch):
    # Issue 24: a set is timed as one pipeline, each tracker it needs reported, on the clip with face and hands.
    monkeypatch.setenv("TRYON_DATA_DIR", str(tmp_path))
    assert main(["bench", "--json", "--frames", "10", "--item", "hoop-round-25mm-yellow-gold",
                 "--item", "ring-band-4mm-yellow-gold@left_ring"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1 and rows[0]["item"] == "hoop-round-25mm-yellow-gold + ring-band-4mm-yellow-gold@left_ring"
    assert {"face_mesh", "hands", "tracking", "anchors", "render", "composite", "total"} <= rows[0]["stages_ms"].keys()
    assert rows[0]["source"].endswith("woman_hands_upper_body.mp4") or "astronaut" in rows[0]["source"]
    assert rows[0]["stages_ms"]["total"]["median"] >= rows[0]["stages_ms"]["tracking"]["median"] > 0
