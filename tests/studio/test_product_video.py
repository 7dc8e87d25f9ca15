"""Product videos: a piece on white under a moving light, from a catalog item or a photo piece; real renders
and real H.264 files (small pictures and 3 s clips, to stay quick)."""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np
import pytest
import trimesh
from conftest import media_path

from tryon.cli import main
from tryon.errors import InputError, UnknownItemError
from tryon.render.renderer import Renderer
from tryon.render.scene import item_model
from tryon.studio import product_video as pv
from tryon.studio.turntable import turntable_frames

SIZE = 192
SECONDS = 3.0
N = round(SECONDS * pv.FPS)
PENDANT = "pendant-heart-12mm-rose-gold"


@pytest.fixture(scope="module")
def renderer():
    with Renderer() as r:
        yield r


@pytest.fixture(scope="module")
def heart(catalog) -> trimesh.Scene:
    """A piece alone in a pendant's frame (+y up, front +z, the bail at the origin), as photo_piece gives
    one: the catalog pendant's own parts without its chain."""
    scene = catalog.load_scene(catalog.get(PENDANT))
    out = trimesh.Scene()
    for node in scene.graph.nodes_geometry:
        if node.startswith("pendant"):
            transform, geom = scene.graph[node]
            out.add_geometry(scene.geometry[geom], node_name=node, geom_name=node, transform=transform)
    assert len(out.graph.nodes_geometry) >= 2
    return out


def _decode(path: Path) -> tuple[av.video.stream.VideoStream, list[np.ndarray]]:
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(stream)]
        return stream, frames


def _piece(rgb: np.ndarray) -> np.ndarray:
    """(H, W) bool: the piece's pixels. The background and its shadow are neutral grey (white darkened),
    exactly; the rose-gold piece is not."""
    c = rgb.astype(np.int16)
    return (c.max(axis=2) - c.min(axis=2)) > 0


def _highlights(rgb: np.ndarray) -> np.ndarray:
    """(H, W) bool: the brightest 3 % of the piece's pixels."""
    mask = _piece(rgb)
    lum = rgb.astype(np.float64) @ [0.2126, 0.7152, 0.0722]
    return mask & (lum >= np.quantile(lum[mask], 0.97))


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def _border_white(rgb: np.ndarray) -> bool:
    return bool((rgb[:2] == 255).all() and (rgb[-2:] == 255).all() and (rgb[:, :2] == 255).all()
                and (rgb[:, -2:] == 255).all())


def test_item_clip_is_an_h264_mp4_that_phones_play(catalog, tmp_path):
    out = tmp_path / "clip.mp4"
    done = []
    info = pv.write_product_video(PENDANT, out, catalog, seconds=SECONDS, size_px=SIZE, style="sweep",
                                  progress=lambda k, total: done.append((k, total)))
    assert done[-1] == (N, N) and len(done) == N, "progress after every frame"
    stream, frames = _decode(out)
    assert stream.codec_context.name == "h264"
    assert stream.codec_context.pix_fmt == "yuv420p"
    assert (stream.codec_context.width, stream.codec_context.height) == (SIZE, SIZE)
    assert stream.average_rate == pv.FPS
    assert len(frames) == N == info.frame_count, "seconds * fps frames"
    data = out.read_bytes()
    assert 0 <= data.find(b"moov") < data.find(b"mdat"), "faststart: the index first, so phones play it while it loads"
    assert oct(out.stat().st_mode & 0o777) == oct(0o644)
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"], "no temp file left beside it"
    # A pendant on white: the chain fades out, so the decoded corners are (near) white.
    corners = np.concatenate([f[:4, :4].reshape(-1, 3) for f in frames] + [f[-4:, -4:].reshape(-1, 3) for f in frames])
    assert corners.min() >= 250


def test_item_turn_is_the_turntable(catalog, renderer):
    item = catalog.get("drop-diamond-pear-8mm-white-gold")
    model = item_model(catalog, item)
    ours = list(pv.item_video_frames(renderer, model, item.kind, "turn", 128, SECONDS))
    theirs = list(turntable_frames(renderer, model, item.kind, 128, SECONDS, pv.FPS))
    assert len(ours) == len(theirs) == N
    assert all(np.array_equal(a, b) for a, b in zip(ours, theirs, strict=True))


@pytest.mark.parametrize("style", pv.STYLES)
def test_a_photo_piece_tilts_under_a_moving_light(renderer, heart, style):
    moving = list(pv.piece_video_frames(renderer, heart, "pendant", style, SIZE, SECONDS))
    fixed = list(pv.piece_video_frames(renderer, heart, "pendant", style, SIZE, SECONDS, light=False))
    assert len(moving) == len(fixed) == N
    assert all(f.shape == (SIZE, SIZE, 3) and f.dtype == np.uint8 for f in moving)
    assert all(_border_white(f) for f in moving), "on white; the piece and its shadow clear of the border"
    # Where the key light has swung furthest from the studio's (turn: at a quarter and three quarters of the
    # loop; sweep and push: at the start and the end), and the frame halfway to there.
    far = (N // 4, 3 * N // 4) if style == "turn" else (0, N - 1)
    mid = N // 4 if style == "turn" else N // 2
    for k in far:
        a, b = _piece(moving[k]), _piece(fixed[k])
        # Same pose, same framing, same shadow: only the light differs, so the outline is the same...
        assert (a ^ b).sum() <= 0.03 * a.sum()
        # ... and inside it the metal is lit differently (real light on the relief, not a filter on the picture).
        inside = a & b
        diff = np.abs(moving[k].astype(np.int16) - fixed[k].astype(np.int16)).max(axis=2)[inside]
        assert (diff > 24).mean() > 0.1, f"frame {k}: the moving key light changes the piece's shading"
        outside = ~(a | b)
        assert np.abs(moving[k].astype(np.int16) - fixed[k].astype(np.int16))[outside].max() <= 1, \
            "the background and the shadow do not change with the light"
    # The highlights travel across the piece between the first and the middle frame (turn: the quarter): the
    # brightest pixels of one are hardly any of the other's.
    moved = _iou(_highlights(moving[0]), _highlights(moving[mid]))
    assert moved < 0.3, moved
    if style == "sweep":  # the rocking piece is back where it started: under a fixed light its highlights stay
        assert _iou(_highlights(fixed[0]), _highlights(fixed[mid])) > 0.6
    # From frame to frame the light keeps moving (sweep and push ease in and out: their middle half; the turn
    # between its turning points).
    span = range(N // 4 + 3, 3 * N // 4 - 3, 5) if style == "turn" else range(N // 4, 3 * N // 4, 5)
    steps = [np.abs(moving[k + 1].astype(np.int16) - moving[k].astype(np.int16)).max(axis=2)[_piece(moving[k])].mean()
             for k in span]
    assert min(steps) > 0.5, steps


def test_the_push_moves_in_without_shifting(renderer, heart):
    frames = list(pv.piece_video_frames(renderer, heart, "pendant", "push", SIZE, SECONDS))
    first, last = _piece(frames[0]), _piece(frames[-1])
    ys0, xs0 = np.nonzero(first)
    ys1, xs1 = np.nonzero(last)
    grow = np.ptp(ys1) / np.ptp(ys0)
    assert abs(grow - 1.0 / pv.PUSH_START) < 0.12, grow
    heights = [np.ptp(np.nonzero(_piece(f))[0]) for f in frames[::5]]
    assert all(b >= a - 1 for a, b in zip(heights, heights[1:], strict=False)), "it only grows"
    assert abs(xs1.mean() - xs0.mean()) < 0.04 * SIZE, "centred all the way"
    assert np.ptp(ys1) < SIZE / 1.05


def test_the_renderer_is_left_with_the_studio_light(catalog, renderer, heart):
    item = catalog.get(PENDANT)
    model = item_model(catalog, item)
    before = list(pv.item_video_frames(renderer, model, item.kind, "turn", 128, SECONDS))[0]
    list(pv.piece_video_frames(renderer, heart, "pendant", "sweep", 128, SECONDS))
    after = list(pv.item_video_frames(renderer, model, item.kind, "turn", 128, SECONDS))[0]
    assert np.array_equal(before, after)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"seconds": 2.9}, "3 to 10 seconds"),
    ({"seconds": 10.5}, "3 to 10 seconds"),
    ({"size_px": 191}, "even number"),
    ({"size_px": 64}, "even number"),
    ({"style": "spin"}, "unknown style"),
    ({"kind": "pendant"}, "for a photo"),
    ({"size_mm": 12.0}, "for a photo"),
    ({"anchor_px": (10.0, 20.0)}, "for a photo"),
])
def test_bad_arguments(catalog, tmp_path, kwargs, message):
    out = tmp_path / "clip.mp4"
    with pytest.raises(InputError, match=message):
        pv.write_product_video(PENDANT, out, catalog, **{"seconds": SECONDS, "size_px": SIZE, **kwargs})
    assert not list(tmp_path.iterdir())


def test_bad_sources_and_outputs(catalog, tmp_path):
    with pytest.raises(UnknownItemError):
        pv.write_product_video("no-such-piece", tmp_path / "a.mp4", catalog, seconds=SECONDS, size_px=SIZE)
    with pytest.raises(InputError, match="no such photo"):
        pv.write_product_video(tmp_path / "missing.jpg", tmp_path / "a.mp4", catalog, kind="pendant")
    text = tmp_path / "notes.txt"
    text.write_text("a pendant")
    with pytest.raises(InputError, match="not a photo"):
        pv.write_product_video(text, tmp_path / "a.mp4", catalog, kind="pendant")
    photo = tmp_path / "piece.jpg"
    photo.write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(InputError, match="needs its type"):
        pv.write_product_video(photo, tmp_path / "a.mp4", catalog)
    with pytest.raises(InputError, match="needs its type"):
        pv.write_product_video(photo, tmp_path / "a.mp4", catalog, kind="ring")
    for bad in (tmp_path / "a.gif", tmp_path / "a.webm", tmp_path / "nowhere" / "a.mp4", tmp_path):
        with pytest.raises(InputError):
            pv.write_product_video(PENDANT, bad, catalog, seconds=SECONDS, size_px=SIZE)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "piece.jpg"]


def test_a_failure_leaves_no_file_and_keeps_the_old_one(catalog, tmp_path):
    out = tmp_path / "clip.mp4"

    def stop(done: int, total: int) -> None:
        if done == 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pv.write_product_video(PENDANT, out, catalog, seconds=SECONDS, size_px=SIZE, style="push", progress=stop)
    assert not list(tmp_path.iterdir()), "nothing half-written"
    out.write_bytes(b"the old clip")
    with pytest.raises(KeyboardInterrupt):
        pv.write_product_video(PENDANT, out, catalog, seconds=SECONDS, size_px=SIZE, progress=stop)
    assert out.read_bytes() == b"the old clip"
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


def test_an_item_in_another_metal(catalog, tmp_path):
    out = tmp_path / "clip.mp4"
    pv.write_product_video("hoop-round-25mm-yellow-gold", out, catalog, seconds=SECONDS, size_px=128,
                           style="push", metal="white-gold")
    _, frames = _decode(out)
    mid = frames[len(frames) // 2].astype(np.float64)
    drawn = (mid < 235).any(axis=2)
    r, b = mid[..., 0][drawn].mean(), mid[..., 2][drawn].mean()
    assert abs(r - b) < 12, "white gold reads neutral, not yellow"
    with pytest.raises(InputError, match="comes in"):
        pv.write_product_video("hoop-round-25mm-yellow-gold", out, catalog, seconds=SECONDS, size_px=128,
                               metal="platinum")
    assert os.path.exists(out)


def test_the_command(tmp_path, capsys):
    out = tmp_path / "clip.mp4"
    assert main(["product-video", PENDANT, "-o", str(out), "--seconds", "3", "--size", "128", "--style", "push"]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    _, frames = _decode(out)
    assert len(frames) == N
    out.unlink()
    assert main(["product-video", PENDANT, "-o", str(out), "--style", "spin"]) == 2
    assert "unknown style 'spin'" in capsys.readouterr().err
    assert main(["product-video", PENDANT, "-o", str(out), "--seconds", "12"]) == 2
    assert main(["product-video", PENDANT, "-o", str(out), "--type", "earring"]) == 2
    assert not list(tmp_path.iterdir())


# --- from a photo --------------------------------------------------------------------------------------------

EARRING_PHOTO = "products/earrings_garnet_drop_rose_gold_two_panel_grey_bg.jpg"  # a pair: the video shows one
PENDANT_PHOTO = "products/pendant_blue_drop_scattered_beads_white_bg.jpg"  # with loose beads: --anchor picks it
PENDANT_BAIL_PX = (700.0, 350.0)


def test_a_clip_from_a_product_photo(catalog, tmp_path):
    photo = media_path(EARRING_PHOTO)
    out = tmp_path / "garnet.mp4"
    info = pv.write_product_video(photo, out, catalog, seconds=SECONDS, size_px=SIZE, style="sweep",
                                  kind="earring", size_mm=30.0)
    assert (info.width, info.height) == (SIZE, SIZE)
    stream, frames = _decode(out)
    assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
    assert len(frames) == N
    first, mid = (f.astype(np.int16) for f in (frames[0], frames[N // 2]))
    drawn = (frames[0] < 240).any(axis=2)
    assert 0.02 < drawn.mean() < 0.5, "the piece fills a fair part of the picture"
    corners = np.concatenate([f[:6, :6].reshape(-1, 3) for f in frames] + [f[-6:, -6:].reshape(-1, 3) for f in frames])
    assert corners.min() >= 248, "on white"
    # The rocking piece is back where it started halfway through, the light is across it: the shading inside
    # the piece changes, the picture's outline hardly does.
    assert np.abs(first - mid).max(axis=2)[drawn].mean() > 6
    assert ((frames[N // 2] < 240).any(axis=2) ^ drawn).mean() < 0.01


def test_photo_errors_leave_nothing(catalog, tmp_path):
    photo = media_path(EARRING_PHOTO)
    out = tmp_path / "clip.mp4"
    with pytest.raises(InputError, match="size-mm"):  # no card in the photo to measure it by
        pv.write_product_video(photo, out, catalog, seconds=SECONDS, size_px=SIZE, kind="earring")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(InputError):
        pv.write_product_video(broken, out, catalog, seconds=SECONDS, size_px=SIZE, kind="pendant", size_mm=20.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.jpg"]


def test_the_command_from_a_pendant_photo(tmp_path):
    photo = media_path(PENDANT_PHOTO)
    out = tmp_path / "blue.mp4"
    args = ["product-video", str(photo), "-o", str(out), "--seconds", "3", "--size", str(SIZE), "--type", "pendant",
            "--size-mm", "14"]
    assert main(args) == 2, "the photo shows the pendant and loose beads: which one?"
    assert main([*args, "--anchor", "700,350"]) == 0
    _, frames = _decode(out)
    assert len(frames) == N
    # The pendant turns under the moving light: at a quarter of the loop it is lit otherwise than at the start.
    first, quarter = frames[0].astype(np.int16), frames[N // 4].astype(np.int16)
    drawn = (frames[0] < 240).any(axis=2) & (frames[N // 4] < 240).any(axis=2)
    assert drawn.mean() > 0.02
    assert np.abs(first - quarter).max(axis=2)[drawn].mean() > 6
    assert main([*args, "--anchor", "700;350"]) == 2
