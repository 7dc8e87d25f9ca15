"""The retouch studio's HTTP API on the real app: one photo in, a catalog image out; batch jobs whose bad photos
fail alone; the results and their zip; jobs that survive a restart; the admin token and the limits.

The photos: a gold ring drawn with OpenCV on a grey card (always there) and a real product photo from the shared
media (skipped where it is absent). Jobs are waited for by their state, with generous timeouts, never timed."""

from __future__ import annotations

import io
import json
import os
import struct
import time
import zipfile
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import BASE, media_path
from fastapi.testclient import TestClient
from PIL import Image

from tryon.config import Settings
from tryon.retouch.types import RetouchOptions
from tryon.server.app import create_app
from tryon.server.retouch_jobs import RetouchJobs

TOKEN = "a-long-enough-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WAIT_S = 900.0  # a generous bound on a busy 2-core machine, not a speed requirement
SMALL = {"size": "1000"}  # a 1000 px canvas: the smallest marketplaces take, and quicker to compose
REAL = "products/ring_sapphire_solitaire_side_view_light_grey_bg.jpg"


def gold_ring(seed: int = 0, size: tuple[int, int] = (720, 960)) -> np.ndarray:
    """(H, W, 3) uint8: a shaded gold ring with a white stone on a grey card with a slight gradient and noise."""
    rng = np.random.default_rng(seed)
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]
    card = (150 + 20 * (yy / h) - 10 * (xx / w)).astype(np.float32)
    rgb = np.clip(np.dstack([card, card * 0.99, card * 0.97]) + rng.normal(0, 1.5, (h, w, 3)), 0, 255).astype(np.uint8)
    c = (w // 2 + int(rng.integers(-40, 40)), h // 2 + 30)
    cv2.ellipse(rgb, c, (190, 120), 0, 0, 360, (150, 110, 30), 34, cv2.LINE_AA)
    cv2.ellipse(rgb, c, (190, 120), 0, 180, 360, (235, 195, 90), 22, cv2.LINE_AA)  # the lit back of the band
    cv2.ellipse(rgb, c, (190, 120), 0, 0, 180, (200, 155, 55), 22, cv2.LINE_AA)
    cv2.circle(rgb, (c[0], c[1] - 150), 42, (225, 185, 80), -1, cv2.LINE_AA)  # the setting
    cv2.circle(rgb, (c[0], c[1] - 150), 30, (245, 245, 250), -1, cv2.LINE_AA)  # the stone
    return rgb


def encoded(rgb: np.ndarray, fmt: str = "JPEG") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format=fmt)
    return buf.getvalue()


def corrupt_jpeg(seed: int = 0) -> bytes:
    """A JPEG's first bytes, then noise: what a cut-off or damaged upload looks like."""
    return b"\xff\xd8\xff\xe0" + np.random.default_rng(seed).integers(0, 256, 4000, dtype=np.uint8).tobytes()


def bomb_png(width: int = 20000, height: int = 20000) -> bytes:
    """A PNG whose header claims 400 MP over one row of data: a decompression bomb, refused from its header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(1 + width * 3), 9))
            + chunk(b"IEND", b""))


def decoded(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def wait_for(client: TestClient, job_id: str, done: str = "j['finished']", timeout_s: float = WAIT_S) -> dict:
    """The job's state once `done` (a Python expression of `j`) holds; fails with the last state at timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        r = client.get(f"/api/retouch/jobs/{job_id}")
        assert r.status_code == 200, r.text
        j = r.json()
        if eval(done, {}, {"j": j}):
            return j
        if time.monotonic() > deadline:
            pytest.fail(f"job not in state {done!r} within {timeout_s:g} s: {j}")
        time.sleep(0.2)


def settings_for(data_dir) -> Settings:
    return Settings(data_dir=data_dir, admin_token=TOKEN, max_upload_mb=6.0, max_retouch_files=4)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with TestClient(create_app(settings_for(tmp_path_factory.mktemp("data"))), base_url=BASE) as c:
        yield c


def assert_white_catalog_jpeg(r, side: int) -> dict:
    """A square JPEG of `side` px with a pure white border and a piece in it; returns the checks."""
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/jpeg"
    img = decoded(r.content)
    assert img.shape == (side, side, 3)
    border = np.concatenate([img[:8].reshape(-1, 3), img[-8:].reshape(-1, 3), img[:, :8].reshape(-1, 3)])
    assert (border >= 254).all()  # JPEG may move pure white by a step; the exact 255 is the checks' job
    assert (img.min(axis=2) < 200).mean() > 0.03  # the piece is there, not an empty white canvas
    checks = json.loads(r.headers["x-retouch-checks"])
    assert checks["background"]["ok"] and checks["fill"]["ok"] and checks["size"]["ok"], checks
    return checks


def test_one_synthetic_photo_comes_back_on_white(client):
    r = client.post("/api/retouch", files={"file": ("ring.jpg", encoded(gold_ring()), "image/jpeg")},
                    data=SMALL, headers=AUTH)
    assert_white_catalog_jpeg(r, 1000)
    assert r.headers["x-retouch-passed"] == "true" and r.headers["x-retouch-metal"]


def test_one_product_photo_comes_back_on_white(client):
    photo = media_path(REAL)
    r = client.post("/api/retouch", files={"file": (photo.name, photo.read_bytes(), "image/jpeg")}, headers=AUTH)
    assert_white_catalog_jpeg(r, 2000)  # fill's default canvas


def test_transparent_background_is_a_png_with_alpha(client):
    r = client.post("/api/retouch", files={"file": ("ring.png", encoded(gold_ring(2), "PNG"), "image/png")},
                    data={**SMALL, "background": "transparent"}, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    rgba = decoded(r.content)
    assert rgba.shape == (1000, 1000, 4) and (rgba[:8, :, 3] == 0).all() and (rgba[..., 3] == 255).mean() > 0.03


def test_bad_requests_get_clear_answers(client):
    photo = ("ring.jpg", encoded(gold_ring()), "image/jpeg")
    no_token = client.post("/api/retouch", files={"file": photo})
    assert no_token.status_code == 401 and "admin token" in no_token.json()["detail"]
    assert client.post("/api/retouch/jobs", files=[("files", photo)]).status_code == 401
    text = client.post("/api/retouch", files={"file": ("notes.jpg", b"shopping list: milk, eggs", "image/jpeg")},
                       headers=AUTH)
    assert text.status_code == 400 and "notes.jpg" in text.json()["detail"]
    for field, value, said in (("shadow", "neon", "shadow"), ("background", "blue", "#RRGGBB"),
                               ("size", "big", "size"), ("size", "20", "64 to 8000"), ("metal", "brass", "metal")):
        r = client.post("/api/retouch", files={"file": photo}, data={field: value}, headers=AUTH)
        assert r.status_code == 400 and said in r.json()["detail"], (field, r.text)
    five = client.post("/api/retouch/jobs", files=[("files", photo)] * 5, headers=AUTH)
    assert five.status_code == 400 and "at most 4 photos" in five.json()["detail"]
    big = client.post("/api/retouch", files={"file": ("big.jpg", b"\xff" * (7 * 1024 * 1024), "image/jpeg")},
                      headers=AUTH)
    assert big.status_code == 413 and "larger than 6 MB" in big.json()["detail"]
    assert client.get("/api/retouch/jobs/nope").status_code == 404
    assert client.get("/api/retouch/jobs/nope/result.zip").status_code == 404
    info = client.get("/api/retouch").json()
    assert info["max_files"] == 4 and info["max_upload_bytes"] == 6 * 1024 * 1024 and "transparent" in info["backgrounds"]


def test_a_job_with_a_corrupt_photo_finishes_the_others(client):
    files = [("files", ("ring-a.jpg", encoded(gold_ring(0)), "image/jpeg")),
             ("files", ("broken.jpg", corrupt_jpeg(), "image/jpeg")),
             ("files", ("sub/ring-b.png", encoded(gold_ring(1), "PNG"), "image/png"))]
    r = client.post("/api/retouch/jobs", files=files, data=SMALL, headers=AUTH)
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    assert r.json()["total"] == 3 and len(job_id) >= 20  # unguessable: the id is the key to the results
    job = wait_for(client, job_id)
    assert (job["total"], job["done"], job["failed"], job["current"]) == (3, 2, 1, None)
    by_name = {f["name"]: f for f in job["files"]}
    assert set(by_name) == {"ring-a.jpg", "broken.jpg", "ring-b.png"}  # no folder part kept
    bad = by_name["broken.jpg"]
    assert bad["ok"] is False and bad["url"] is None and "broken.jpg" in bad["error"]
    for name in ("ring-a.jpg", "ring-b.png"):
        f = by_name[name]
        assert f["ok"] is True and f["error"] is None and f["checks"]["background"]["ok"] and f["passed"] is True
        out = client.get(f["url"])
        assert out.status_code == 200 and out.headers["content-type"] == "image/jpeg"
        assert decoded(out.content).shape == (1000, 1000, 3)
    assert client.get(f"/api/retouch/jobs/{job_id}/files/broken.jpg").status_code == 404
    original = client.get(by_name["ring-b.png"]["original"])  # as uploaded, for the studio's before/after
    assert original.status_code == 200 and original.headers["content-type"] == "image/png"
    assert original.content == files[2][1][1]
    assert client.get(f"/api/retouch/jobs/{job_id}/inputs/3").status_code == 404

    z = client.get(job["zip"])
    assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(z.content)) as archive:
        assert set(archive.namelist()) == {"ring-a.jpg", "ring-b.jpg", "manifest.json"}
        manifest = json.loads(archive.read("manifest.json"))
        assert decoded(archive.read("ring-b.jpg")).shape == (1000, 1000, 3)
    assert manifest["finished"] and manifest["options"]["size_px"] == 1000
    entries = {e["name"]: e for e in manifest["files"]}
    assert entries["broken.jpg"]["ok"] is False and "broken.jpg" in entries["broken.jpg"]["error"]
    assert entries["ring-a.jpg"]["output"] == "ring-a.jpg" and entries["ring-a.jpg"]["checks"]["fill"]["ok"]

    # The photos ran in another process that lowered its priority below the server's (the live sessions'):
    # nice 19 and, on Linux, SCHED_IDLE (it runs on CPU time nothing else wants).
    pid = client.app.state.tryon.retouch.worker_pid
    assert pid is not None and pid != os.getpid()
    assert os.getpriority(os.PRIO_PROCESS, pid) == 19 > os.getpriority(os.PRIO_PROCESS, 0)
    if hasattr(os, "SCHED_IDLE"):
        assert os.sched_getscheduler(pid) == os.SCHED_IDLE


def test_each_bad_photo_in_a_job_says_what_is_wrong(client):
    """A decompression bomb, text named .jpg, a cut-off JPEG and a card with no piece on it: four clear reasons."""
    card = np.clip(150 + np.random.default_rng(0).normal(0, 2, (600, 800, 3)), 0, 255).astype(np.uint8)
    ring = encoded(gold_ring(5))
    files = [("files", ("bomb.png", bomb_png(), "image/png")),
             ("files", ("notes.jpg", b"shopping list: milk, eggs", "image/jpeg")),
             ("files", ("half.jpg", ring[: len(ring) // 2], "image/jpeg")),
             ("files", ("empty-card.jpg", encoded(card), "image/jpeg"))]
    r = client.post("/api/retouch/jobs", files=files, headers=AUTH)
    assert r.status_code == 202, r.text
    job = wait_for(client, r.json()["id"])
    assert (job["done"], job["failed"]) == (0, 4)
    errors = {f["name"]: f["error"] for f in job["files"]}
    assert "bomb.png" in errors["bomb.png"] and "megapixels" in errors["bomb.png"]
    assert "notes.jpg" in errors["notes.jpg"] and "not a readable image" in errors["notes.jpg"]
    assert "half.jpg" in errors["half.jpg"] and "truncated" in errors["half.jpg"]
    assert "nothing to cut out" in errors["empty-card.jpg"]


def test_a_batch_larger_than_one_request_goes_in_several(client):
    """`more=true` keeps the job open; `job=ID` adds to it; the last upload closes it. Corrupt files keep it quick."""
    first = client.post("/api/retouch/jobs", files=[("files", ("a.jpg", corrupt_jpeg(1), "image/jpeg"))],
                        data={"more": "true"}, headers=AUTH)
    assert first.status_code == 202, first.text
    job_id = first.json()["id"]
    assert client.get(f"/api/retouch/jobs/{job_id}").json()["open"] is True
    last = client.post("/api/retouch/jobs", files=[("files", ("a.jpg", corrupt_jpeg(2), "image/jpeg"))],
                       data={"job": job_id}, headers=AUTH)
    assert last.status_code == 202 and last.json() == {"id": job_id, "url": f"/api/retouch/jobs/{job_id}", "total": 2}
    job = wait_for(client, job_id)
    assert [f["output"] for f in job["files"]] == ["a.jpg", "a-2.jpg"]  # the same name twice: two outputs
    assert job["failed"] == 2 and not job["open"]
    closed = client.post("/api/retouch/jobs", files=[("files", ("c.jpg", corrupt_jpeg(3), "image/jpeg"))],
                         data={"job": job_id}, headers=AUTH)
    assert closed.status_code == 409 and "last upload" in closed.json()["detail"]
    unknown = client.post("/api/retouch/jobs", files=[("files", ("c.jpg", corrupt_jpeg(3), "image/jpeg"))],
                          data={"job": "nope"}, headers=AUTH)
    assert unknown.status_code == 404


def test_a_job_survives_a_restart(tmp_path):
    """Stopped after its first photo, the job goes on in the next server on the same data_dir; what was done is
    not done again."""
    settings = settings_for(tmp_path)
    files = [("files", (f"ring-{i}.jpg", encoded(gold_ring(10 + i)), "image/jpeg")) for i in range(3)]
    with TestClient(create_app(settings), base_url=BASE) as first:
        r = first.post("/api/retouch/jobs", files=files, data=SMALL, headers=AUTH)
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
        wait_for(first, job_id, "j['done'] + j['failed'] >= 1")
    # The server is down (its worker stopped with it). What it left on disk:
    out = tmp_path / "retouch" / job_id / "out"
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.suffix == ".jpg"}
    assert before, "the first server finished no photo"
    with TestClient(create_app(settings), base_url=BASE) as second:
        job = wait_for(second, job_id)
        assert (job["done"], job["failed"]) == (3, 0), job
        assert all(second.get(f["url"]).status_code == 200 for f in job["files"])
    assert {name: (out / name).stat().st_mtime_ns for name in before} == before  # not redone


def test_a_photo_past_its_cpu_time_fails_alone(tmp_path):
    """With a limit no photo can meet, each photo is stopped (the worker killed and started again for the next)
    and fails with the reason; the job still finishes."""
    jobs = RetouchJobs(tmp_path, photo_timeout_s=0.2)
    try:
        job_id = jobs.create([("a.jpg", encoded(gold_ring(20))), ("b.jpg", encoded(gold_ring(21)))],
                             RetouchOptions(size_px=1000))
        jobs.start()
        deadline = time.monotonic() + WAIT_S
        while not (job := jobs.get(job_id)).finished:  # type: ignore[union-attr]
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        assert [f.status for f in job.files] == ["failed", "failed"]
        assert all("more than 0.2 s of CPU time" in (f.error or "") for f in job.files), job.files
    finally:
        jobs.close()


def process_state(pid: int) -> str:
    """The process's state letter from /proc (R running, S sleeping, T stopped)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_the_worker_waits_while_live_sessions_run(tmp_path):
    """While `hold` says live sessions are connected, the worker is stopped where it stands and nothing is
    done; when they end, the job goes on."""
    live = [True]
    jobs = RetouchJobs(tmp_path, hold=lambda: live[0])
    try:
        job_id = jobs.create([("a.jpg", encoded(gold_ring(30)))], RetouchOptions(size_px=1000))
        jobs.start()
        deadline = time.monotonic() + 60
        while (pid := jobs.worker_pid) is None or process_state(pid) != "T":
            assert time.monotonic() < deadline, "the worker was not stopped"
            time.sleep(0.1)
        assert jobs.held and jobs.get(job_id).files[0].status == "pending"  # type: ignore[union-attr]
        # A single photo someone waits for is not held behind the batch: the held file gives way and waits on.
        single = jobs.retouch_one(encoded(gold_ring(31)), "single.jpg", RetouchOptions(size_px=1000))
        data, meta = single.result(timeout=WAIT_S)
        assert data[:2] == b"\xff\xd8" and meta["passed"], meta
        assert jobs.get(job_id).files[0].status == "pending"  # type: ignore[union-attr]
        live[0] = False
        deadline = time.monotonic() + WAIT_S
        while not (job := jobs.get(job_id)).finished:  # type: ignore[union-attr]
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        assert job.files[0].status == "done" and not jobs.held
    finally:
        jobs.close()


def test_a_job_shares_one_look_only_when_asked(tmp_path):
    """By default each photo keeps its own exposure (a mixed batch); with same_look the job's median look is
    measured once, kept with the job and given to every photo."""
    jobs = RetouchJobs(tmp_path)
    try:
        photos = [("a.jpg", encoded(gold_ring(30))), ("b.jpg", encoded(gold_ring(31)))]
        own = jobs.create(photos, RetouchOptions(size_px=1000))
        same = jobs.create(photos, RetouchOptions(size_px=1000), same_look=True)
        jobs.start()
        deadline = time.monotonic() + 2 * WAIT_S
        while not all(jobs.get(j).finished for j in (own, same)):  # type: ignore[union-attr]
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert jobs.get(own).look is None  # type: ignore[union-attr]
        look = jobs.get(same).look  # type: ignore[union-attr]
        assert look is not None and 0 < look["exposure"] < 1
        assert jobs.manifest(jobs.get(same))["look"] == look  # type: ignore[arg-type]
    finally:
        jobs.close()


def test_a_job_is_cancelled_and_retried_over_http(client):
    """Cancel (POST .../cancel, or DELETE) takes the photos not done yet off the queue; retry puts the failed and
    cancelled ones back. Both are staff actions. An open job (more uploads to come) keeps its photos waiting, so
    the cancel comes before any of them runs."""
    first = client.post("/api/retouch/jobs", files=[("files", ("a.jpg", corrupt_jpeg(4), "image/jpeg")),
                                                    ("files", ("b.jpg", corrupt_jpeg(5), "image/jpeg"))],
                        data={"more": "true"}, headers=AUTH)
    assert first.status_code == 202, first.text
    job_id = first.json()["id"]
    assert client.post(f"/api/retouch/jobs/{job_id}/cancel").status_code == 401
    assert client.delete(f"/api/retouch/jobs/{job_id}", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.post("/api/retouch/jobs/nope/cancel", headers=AUTH).status_code == 404
    r = client.post(f"/api/retouch/jobs/{job_id}/cancel", headers=AUTH)
    assert r.status_code == 200, r.text
    job = r.json()
    assert job["cancelled"] and job["finished"] and not job["open"] and job["workers"] == "local"
    assert [f["status"] for f in job["files"]] == ["cancelled", "cancelled"]
    assert client.delete(f"/api/retouch/jobs/{job_id}", headers=AUTH).json()["cancelled"]
    more = client.post("/api/retouch/jobs", files=[("files", ("c.jpg", corrupt_jpeg(6), "image/jpeg"))],
                       data={"job": job_id}, headers=AUTH)
    assert more.status_code == 409  # a cancelled job takes no more uploads

    assert client.post(f"/api/retouch/jobs/{job_id}/retry").status_code == 401
    r = client.post(f"/api/retouch/jobs/{job_id}/retry", data={"index": "1"}, headers=AUTH)
    assert r.status_code == 200 and not r.json()["cancelled"]
    job = wait_for(client, job_id, "j['files'][1]['status'] == 'failed'")
    assert job["files"][0]["status"] == "cancelled"  # only the one asked for
    assert "b.jpg" in job["files"][1]["error"] and job["files"][1]["attempts"] == 1
    client.post(f"/api/retouch/jobs/{job_id}/retry", headers=AUTH)
    job = wait_for(client, job_id)
    assert [f["status"] for f in job["files"]] == ["failed", "failed"] and job["failed"] == 2


@pytest.mark.skipif(not hasattr(os, "kill"), reason="kills the worker process")
def test_a_photo_whose_worker_is_killed_is_retouched_again(tmp_path):
    """The worker process killed (SIGKILL: what the kernel's out-of-memory killer does) while it has the photo: the
    photo is taken again by a new worker and comes out done, on its second attempt."""
    import signal

    jobs = RetouchJobs(tmp_path)
    try:
        job_id = jobs.create([("a.jpg", encoded(gold_ring(40)))], RetouchOptions(size_px=1000))
        jobs.start()
        deadline = time.monotonic() + 120
        while (pid := jobs.worker_pid) is None or jobs.get(job_id).current is None:  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the worker never took the photo"
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + WAIT_S
        while not (job := jobs.get(job_id)).finished:  # type: ignore[union-attr]
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        assert (job.files[0].status, job.files[0].attempts) == ("done", 2), job.files
        assert jobs.worker_pid != pid
    finally:
        jobs.close()


LEGACY_SCHEMA = (  # the retouch jobs' own SQLite before the job engine (data_dir/retouch/jobs.sqlite3)
    "CREATE TABLE jobs (id TEXT PRIMARY KEY, created REAL NOT NULL, updated REAL NOT NULL, options TEXT NOT NULL, "
    "open INTEGER NOT NULL, look TEXT)",
    "CREATE TABLE files (job TEXT NOT NULL, idx INTEGER NOT NULL, name TEXT NOT NULL, input TEXT NOT NULL, "
    "output TEXT NOT NULL, status TEXT NOT NULL, error TEXT, result TEXT, PRIMARY KEY (job, idx))")


def test_jobs_kept_before_the_job_engine_are_taken_in(tmp_path):
    """A data directory from before the engine: its retouch jobs (their own SQLite and files) are taken into the
    engine's database when the server starts, once; a done photo stays as it was, a pending one is retouched."""
    import sqlite3
    from dataclasses import asdict

    job_id = "legacyJob0123456789abcd"
    folder = tmp_path / "retouch" / job_id
    (folder / "in").mkdir(parents=True)
    (folder / "out").mkdir()
    (folder / "in" / "00000.jpg").write_bytes(encoded(gold_ring(50)))
    (folder / "in" / "00001.jpg").write_bytes(encoded(gold_ring(51)))
    (folder / "out" / "done.jpg").write_bytes(b"\xff\xd8 retouched before the upgrade")
    db = sqlite3.connect(str(tmp_path / "retouch" / "jobs.sqlite3"))
    for statement in LEGACY_SCHEMA:
        db.execute(statement)
    options = json.dumps(asdict(RetouchOptions(size_px=1000)))
    db.execute("INSERT INTO jobs VALUES (?, ?, ?, ?, 0, 'null')", (job_id, time.time(), time.time(), options))
    db.execute("INSERT INTO files VALUES (?, 0, 'done.jpg', '00000.jpg', 'done.jpg', 'done', NULL, ?)",
               (job_id, json.dumps({"checks": {}, "passed": True, "metal": "yellow-gold", "steps": {}})))
    db.execute("INSERT INTO files VALUES (?, 1, 'later.jpg', '00001.jpg', 'later.jpg', 'pending', NULL, NULL)",
               (job_id,))
    db.commit()
    db.close()
    with TestClient(create_app(settings_for(tmp_path)), base_url=BASE) as c:
        job = wait_for(c, job_id)
        assert [(f["name"], f["status"]) for f in job["files"]] == [("done.jpg", "done"), ("later.jpg", "done")]
        assert c.get(job["files"][0]["url"]).content == b"\xff\xd8 retouched before the upgrade"  # not redone
        assert decoded(c.get(job["files"][1]["url"]).content).shape == (1000, 1000, 3)
        assert job["options"]["size_px"] == 1000
    assert not (tmp_path / "retouch" / "jobs.sqlite3").exists()
    assert (tmp_path / "retouch" / "jobs.sqlite3.imported").exists()
