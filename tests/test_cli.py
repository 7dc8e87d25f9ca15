"""The `tryon` command, run as a user runs it (a subprocess), on real files."""

import json
import os
import select
import signal
import socket
import stat
import subprocess
import sys
import urllib.request

import av
import cv2
import numpy as np
import pytest
from conftest import media_path

TRYON = [sys.executable, "-m", "tryon.cli"]
ITEM = "hoop-round-25mm-yellow-gold"


def run(*args, cwd=None, **options):
    return subprocess.run([*TRYON, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300, **options)


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    from skimage import data

    p = tmp_path_factory.mktemp("in") / "astronaut.png"
    cv2.imwrite(str(p), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    return p


def test_render_photo_and_layer(photo, tmp_path):
    out, layer = tmp_path / "out.jpg", tmp_path / "layer.png"
    r = run("render", photo, "-o", out, "--item", ITEM, "--save-layer", layer, umask=0o022)
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(out.stat().st_mode) == stat.S_IMODE(layer.stat().st_mode) == 0o644  # not 0600
    img = cv2.imread(str(out))
    rgba = cv2.imread(str(layer), cv2.IMREAD_UNCHANGED)
    assert img.shape == (512, 512, 3) and rgba.shape == (512, 512, 4)
    ys, xs = np.nonzero(rgba[..., 3] > 0)
    assert len(xs) > 20 and 100 < xs.mean() < 400 and 80 < ys.mean() < 260  # at the ears, not elsewhere


def test_a_photo_where_nothing_can_be_placed_says_so_and_exits_non_zero(tmp_path):
    hand = media_path("hands/ok_sign_white_bg.jpg")  # a hand, no face
    out = tmp_path / "out.jpg"
    r = run("render", hand, "-o", out, "--item", ITEM)
    assert r.returncode == 3 and out.is_file()  # the picture is written; the exit says nothing was placed
    assert f"tryon: warning: {ITEM} (ears) not placed: no face found" in r.stderr
    ring = "ring-solitaire-diamond-6.5mm-platinum"
    r = run("render", hand, "-o", out, "--item", ITEM, "--item", ring)  # the ring is placed, the earring not
    assert r.returncode == 0 and "not placed: no face found" in r.stderr and ring not in r.stderr


@pytest.mark.parametrize("args,message", [
    (["--item", "no-such-item"], "Unknown item"),
    (["--item", ITEM, "--save-layer", "layer.jpg"], "--save-layer"),
])
def test_bad_arguments_one_line_no_output(photo, tmp_path, args, message):
    out = tmp_path / "out.png"
    r = run("render", photo, "-o", out, *args)
    assert r.returncode == 2
    assert message in r.stderr and r.stderr.strip().count("tryon: error") == 1
    assert not out.exists()


def test_corrupt_and_unsupported_inputs(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 definitely not a jpeg")
    r = run("render", bad, "-o", tmp_path / "o.jpg", "--item", ITEM)
    assert r.returncode == 2 and "bad.jpg" in r.stderr and not (tmp_path / "o.jpg").exists()
    r = run("render", bad.with_suffix(".gif"), "-o", tmp_path / "o.gif", "--item", ITEM)
    assert r.returncode == 2 and "unsupported format" in r.stderr
    r = run("render", tmp_path / "missing.png", "-o", tmp_path / "o.png", "--item", ITEM)
    assert r.returncode == 2 and "no such file" in r.stderr
    corrupt = tmp_path / "bad.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(500))
    r = run("render", corrupt, "-o", tmp_path / "o.mp4", "--item", ITEM)
    assert r.returncode == 2 and not (tmp_path / "o.mp4").exists()
    assert not list(tmp_path.glob(".o.*"))  # no temp file left behind


def test_anchors_json(photo):
    r = run("anchors", photo, "--json")
    assert r.returncode == 0, r.stderr
    frame = json.loads(r.stdout.strip().splitlines()[0])
    assert frame["frame"] == 0 and 70 < frame["face_width_px"] < 120
    for site in ("left_ear", "right_ear"):
        a = frame["anchors"][site]
        assert 0.0 <= a["visible"] <= 1.0 and len(a["xy"]) == 2
        m = np.array(a["cam_T_anchor"])
        assert m.shape == (4, 4) and 0.3 < m[2, 3] < 1.5  # metres in front of the camera
    assert frame["hands"] == []


def test_render_video_keeps_rate_and_audio(tmp_path):
    src = media_path("video/woman_hoop_earrings_head_motion.mp4")
    clip = tmp_path / "clip.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(src), "-f", "lavfi", "-i", "sine=frequency=440",
                    "-t", "1.5", "-c:v", "libx264", "-c:a", "aac", "-shortest", str(clip)], check=True)
    out = tmp_path / "out.mp4"
    r = run("render", clip, "-o", out, "--item", ITEM)
    assert r.returncode == 0, r.stderr
    with av.open(str(clip)) as a, av.open(str(out)) as b:
        va, vb = a.streams.video[0], b.streams.video[0]
        assert vb.average_rate == va.average_rate
        assert len(b.streams.audio) == 1 and b.streams.audio[0].codec_context.name == "aac"
        frames_in = sum(1 for _ in a.decode(video=0))
        frames_out = [f.to_ndarray(format="rgb24") for f in b.decode(video=0)]
    assert len(frames_out) == frames_in
    with av.open(str(clip)) as a:
        first_in = next(a.decode(video=0)).to_ndarray(format="rgb24")
    # Jewelry was drawn: frames differ from the input near the ears only.
    diff = np.abs(frames_out[5].astype(int) - first_in.astype(int)).sum(axis=2)
    assert diff.max() > 60


def test_turntable_video_and_stills(tmp_path):
    out = tmp_path / "spin.mp4"
    r = run("turntable", "pendant-heart-12mm-rose-gold", "-o", out, "--seconds", "2", "--size", "128", "--fps", "12")
    assert r.returncode == 0, r.stderr
    cap = cv2.VideoCapture(str(out))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    assert len(frames) == 24 and frames[0].shape == (128, 128, 3)
    assert frames[0][:4, :4].min() > 245  # a white studio background
    r = run("turntable", "ring-band-4mm-yellow-gold", "--stills", tmp_path / "stills", "--size", "96")
    assert r.returncode == 0, r.stderr
    written = sorted(p.name for p in (tmp_path / "stills").glob("*.png"))
    assert "ring-band-4mm-platinum-front.png" in written and "ring-band-4mm-yellow-gold-top.png" in written


@pytest.mark.parametrize("args, message", [
    (["no-such-item", "-o", "x.mp4"], "Unknown item"),
    (["ring-band-4mm-yellow-gold", "-o", "x.gif"], "written as"),
    (["ring-band-4mm-yellow-gold", "-o", "x.mp4", "--seconds", "9"], "2"),
    (["ring-band-4mm-yellow-gold"], "either -o"),
])
def test_turntable_bad_requests_get_one_clear_line(tmp_path, args, message):
    r = run("turntable", *args, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.startswith("tryon: error:") and message in r.stderr
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_catalog_facts_and_prices():
    r = run("catalog", "facts", "--item", "ring-band-4mm-yellow-gold", "--json")
    assert r.returncode == 0, r.stderr
    (band,) = json.loads(r.stdout)
    assert 4.0 < band["metal_weight_g"] < 7.0 and band["ok"]
    r = run("catalog", "facts", "--item", "stud-diamond-5mm-yellow-gold")  # its basket rail is thinner than 0.8 mm
    assert r.returncode == 1 and "THINNER than 0.8 mm" in r.stdout and "diamond" in r.stdout
    r = run("catalog", "facts", "--item", "no-such-ring")
    assert r.returncode == 2 and "Unknown item" in r.stderr
    listed = run("catalog", "list")
    assert "$" in listed.stdout.splitlines()[0]


def test_design_then_try_on(tmp_path, photo):
    env = {**os.environ, "TRYON_DATA_DIR": str(tmp_path / "data")}
    made = subprocess.run([*TRYON, "design", "pendant", "--style", "coin", "--count", "2", "--seed", "5", "--json"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert made.returncode == 0, made.stderr
    designs = json.loads(made.stdout)
    assert len(designs) == 2 and all(d["price"]["amount"] > 0 for d in designs)
    thumb = tmp_path / "data" / "catalog" / designs[0]["thumbnail"]
    assert thumb.is_file()
    listed = subprocess.run([*TRYON, "catalog", "list"], capture_output=True, text=True, env=env, timeout=300)
    assert designs[0]["id"] in listed.stdout and "stud-diamond-5mm-yellow-gold" in listed.stdout
    out = tmp_path / "out.png"
    r = subprocess.run([*TRYON, "render", photo, "-o", out, "--item", designs[0]["id"]],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert np.abs(cv2.imread(str(out)).astype(int) - cv2.imread(str(photo)).astype(int)).sum() > 0  # drawn


def test_catalog_import_from_the_command_line(tmp_path):
    import trimesh

    from tryon.jewelry.catalog import DEFAULT_ASSETS_DIR

    env = {**os.environ, "TRYON_DATA_DIR": str(tmp_path / "data")}
    band = trimesh.load(DEFAULT_ASSETS_DIR / "rings" / "ring-band-4mm-yellow-gold.glb", force="scene").to_geometry()
    band.apply_scale(1000.0)
    stl = tmp_path / "band.stl"
    band.export(stl)
    r = subprocess.run([*TRYON, "catalog", "import", stl, "--type", "ring", "--name", "Shop band", "--metal", "platinum",
                        "--json"], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    item = json.loads(r.stdout)
    assert item["metal"] == "platinum" and abs(item["dimensions_mm"]["inner_diameter"] - 17.35) < 0.05
    listed = subprocess.run([*TRYON, "catalog", "list"], capture_output=True, text=True, env=env, timeout=300)
    assert item["id"] in listed.stdout
    (tmp_path / "bad.glb").write_bytes(b"glTF\x02\x00\x00\x00garbage")
    r = subprocess.run([*TRYON, "catalog", "import", tmp_path / "bad.glb", "--type", "ring", "--name", "x"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 2 and "not a readable GLB" in r.stderr


def test_layer_png_is_the_full_frame_layer_in_straight_alpha():
    from tryon.cli import _layer_rgba, _straight_rgba
    from tryon.types import RenderLayer

    rng = np.random.default_rng(3)
    rgba = rng.random((30, 40, 4), dtype=np.float32)
    rgba[..., :3] *= rgba[..., 3:]  # premultiplied
    rgba[:5, :5, 3] = 0.0
    layer = RenderLayer(rgba=rgba, origin_px=(17, 9), frame_size=(120, 80))
    np.testing.assert_array_equal(_layer_rgba(layer), _straight_rgba(layer.full_frame()))
    empty = RenderLayer(rgba=np.zeros((0, 0, 4), np.float32), origin_px=(0, 0), frame_size=(12, 8))
    np.testing.assert_array_equal(_layer_rgba(empty), np.zeros((8, 12, 4), np.uint8))


@pytest.mark.parametrize("command, port, message", [
    ("serve", "99999", "a port is 1 to 65535, not 99999"),
    ("serve", "-1", "a port is 1 to 65535, not -1"),
    ("kiosk", "0", "a port is 1 to 65535, not 0"),
    ("kiosk", "http", "not a port number: 'http'"),
])
def test_bad_ports_are_usage_errors(command, port, message):
    r = run(command, "--port", port, "--no-browser" if command == "kiosk" else "--host=127.0.0.1")
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == ""


def test_serve_on_a_taken_port_says_so_in_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = run("serve", "--host", "127.0.0.1", "--port", port)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"tryon: error: port {port} on 127.0.0.1 is taken: Address already in use "
                                             "(choose another with --port)"]
    assert "serving" not in r.stdout


def test_serve_prints_the_address_it_listens_on(tmp_path):
    with socket.socket() as probe:  # a port free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "TRYON_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen([*TRYON, "serve", "--host", "localhost", "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        line = proc.stdout.readline() if ready else ""
        assert line.strip() == f"tryon: serving the live try-on at http://127.0.0.1:{port} (API docs at /docs)", (
            line, proc.poll())
        # Listening once it says so: a request made at once is answered.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/items", timeout=60) as reply:
            assert reply.status == 200 and json.loads(reply.read())
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
