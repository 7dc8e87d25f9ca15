"""POST /api/lookbook on the real app: a job of pieces on uploaded model photos, made in the worker process, followed
to the end; its pictures, contact sheet and manifest; bad requests; a job cut off by a restart resumes. Jobs are
waited for by their state, with generous timeouts, never timed."""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pytest
from conftest import BASE, media_path
from fastapi.testclient import TestClient
from PIL import Image

from tryon.config import Settings
from tryon.server.app import create_app
from tryon.server.jobs import Jobs
from tryon.server.lookbook_jobs import LookbookJobs

TOKEN = "a-long-enough-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WAIT_S = 900.0  # a generous bound on a busy 2-core machine, not a speed requirement
EARRING = "drop-diamond-pear-8mm-white-gold"
PENDANT = "pendant-heart-12mm-rose-gold"
FACE = "people/faces/man_frontal_dark_jacket.jpg"
PALM = "people/hands/palm_open_fingers_spread_grey_wall.png"


def settings_for(data_dir) -> Settings:
    return Settings(data_dir=data_dir, admin_token=TOKEN, max_upload_mb=6.0, max_retouch_files=3)


def photo(rel: str) -> tuple[str, bytes, str]:
    path = media_path(rel)
    return (path.name, path.read_bytes(), "image/png" if path.suffix == ".png" else "image/jpeg")


def wait_for(client: TestClient, job_id: str, done: str = "j['state'] in ('finished', 'failed')") -> dict:
    deadline = time.monotonic() + WAIT_S
    while True:
        r = client.get(f"/api/lookbook/{job_id}")
        assert r.status_code == 200, r.text
        j = r.json()
        if eval(done, {}, {"j": j}):
            return j
        if time.monotonic() > deadline:
            pytest.fail(f"job not in state {done!r} within {WAIT_S:g} s: {j}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with TestClient(create_app(settings_for(tmp_path_factory.mktemp("data"))), base_url=BASE) as c:
        yield c


def test_a_job_runs_end_to_end(client):
    r = client.post("/api/lookbook", headers=AUTH, data={"items": f"{EARRING}, {PENDANT}", "size": "384"},
                    files=[("files", photo(FACE)), ("files", photo(PALM))])
    assert r.status_code == 202, r.text
    created = r.json()
    assert created["total"] == 4
    j = wait_for(client, created["id"])
    assert j["state"] == "finished", j
    assert (j["total"], j["done"], j["skipped"], j["failed"]) == (4, 2, 2, 0)
    pairs = {(p["item"], p["model"]): p for p in j["pairs"]}
    face, palm = "man_frontal_dark_jacket.jpg", "palm_open_fingers_spread_grey_wall.png"
    assert pairs[(EARRING, palm)]["reason"] == "no face found" and pairs[(EARRING, palm)]["url"] is None
    for item in (EARRING, PENDANT):
        got = client.get(pairs[(item, face)]["url"])
        assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
        assert np.asarray(Image.open(io.BytesIO(got.content))).shape == (384, 384, 3)
    sheet = client.get(j["contact_sheet"])
    assert sheet.status_code == 200 and sheet.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(sheet.content)).size[0] > 2 * 96
    manifest = client.get(j["manifest"]).json()
    assert {(e["item"], e["model"], e["status"]) for e in manifest["pairs"]} == {
        (EARRING, face, "done"), (PENDANT, face, "done"), (EARRING, palm, "skipped"), (PENDANT, palm, "skipped")}
    assert manifest["options"] == {"size": 384} and manifest["look"]
    assert client.get(f"/api/lookbook/{created['id']}/files/{EARRING}/nothing.jpg").status_code == 404
    assert client.get(f"/api/lookbook/{created['id']}/files/..%2F..%2Fjob.json/x").status_code in (400, 404)


def test_bad_requests_get_clear_answers(client):
    files = [("files", photo(FACE))]
    assert client.post("/api/lookbook", data={"items": EARRING}, files=files).status_code == 401
    assert client.post("/api/lookbook", headers={"Authorization": "Bearer wrong-token-wrong"},
                       data={"items": EARRING}, files=files).status_code == 401
    r = client.post("/api/lookbook", headers=AUTH, data={"items": "no-such-piece"}, files=files)
    assert r.status_code == 400 and "no-such-piece" in r.json()["detail"]
    r = client.post("/api/lookbook", headers=AUTH, data={"items": EARRING},
                    files=[("files", ("broken.jpg", b"\xff\xd8\xff\xe0" + bytes(300), "image/jpeg"))])
    assert r.status_code == 400 and "broken.jpg" in r.json()["detail"]
    r = client.post("/api/lookbook", headers=AUTH, data={"items": EARRING, "size": "10"}, files=files)
    assert r.status_code == 400 and "size" in r.json()["detail"]
    r = client.post("/api/lookbook", headers=AUTH, data={"items": EARRING}, files=files * 4)
    assert r.status_code == 400 and "at most 3" in r.json()["detail"]
    assert client.get("/api/lookbook/not-a-job-id-at-all").status_code == 404
    assert client.get("/api/lookbook/..").status_code == 404


def test_a_job_cut_off_by_a_restart_resumes(tmp_path):
    """A job recorded but not run (no server's worker took it: it stopped at once) is made by the next server on
    the same data."""
    settings = settings_for(tmp_path)
    jobs = Jobs.open(settings)  # the store alone: nothing runs its units
    try:
        name, data, _ = photo(FACE)
        job_id = LookbookJobs(jobs, max_files=3).create([EARRING], [(name, data)], 256)
        assert LookbookJobs(jobs).get(job_id)["state"] == "queued"
    finally:
        jobs.close()
    with TestClient(create_app(settings), base_url=BASE) as second:
        j = wait_for(second, job_id)
        assert j["state"] == "finished" and j["done"] == 1, j
        manifest = json.loads((tmp_path / "lookbook" / job_id / "out" / "manifest.json").read_text())
        assert manifest["pairs"][0]["status"] == "done"
