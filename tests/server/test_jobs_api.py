"""POST /api/jobs on the real app: product videos, turntable stills and a catalog build as jobs, made by the server's
own worker process (the default, no broker) and followed to the end; their files and result.zip; cancel and retry;
bad requests; and `tryon jobs submit|status` from the command line. Jobs are waited for by their state, with
generous timeouts, never timed."""

from __future__ import annotations

import io
import json
import time
import zipfile

import av
import numpy as np
import pytest
from conftest import BASE
from fastapi.testclient import TestClient
from PIL import Image

from tryon.cli import main
from tryon.config import Settings
from tryon.jewelry.catalog import DEFAULT_ASSETS_DIR, Catalog
from tryon.server.app import create_app

TOKEN = "a-long-enough-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WAIT_S = 900.0  # a generous bound on a busy 2-core machine, not a speed requirement
PENDANT = "pendant-heart-12mm-rose-gold"
HOOP = "hoop-round-25mm-yellow-gold"
STUDS = ["stud-diamond-5mm-yellow-gold", "stud-diamond-4mm-yellow-gold", "stud-diamond-4mm-white-gold"]


def wait_for(client: TestClient, job_id: str) -> dict:
    deadline = time.monotonic() + WAIT_S
    while True:
        r = client.get(f"/api/jobs/{job_id}")
        assert r.status_code == 200, r.text
        j = r.json()
        if j["finished"] or j["state"] == "cancelled":
            return j
        if time.monotonic() > deadline:
            pytest.fail(f"job not finished within {WAIT_S:g} s: {j}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), admin_token=TOKEN)
    with TestClient(create_app(settings), base_url=BASE) as c:
        yield c


def test_cancel_then_retry_a_catalog_build(client):
    r = client.post("/api/jobs", headers=AUTH, json={"kind": "catalog-build", "items": STUDS})
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    assert r.json()["total"] == 3
    assert client.post(f"/api/jobs/{job_id}/cancel").status_code == 401  # the token, for cancel too
    cancelled = client.post(f"/api/jobs/{job_id}/cancel", headers=AUTH).json()
    assert cancelled["state"] == "cancelled"
    # The worker is still starting (seconds of imports): no unit can be done yet, and none will be.
    assert [u["status"] for u in cancelled["units"]] == ["cancelled"] * 3
    assert wait_for(client, job_id)["state"] == "cancelled"
    again = client.post(f"/api/jobs/{job_id}/retry", headers=AUTH, json={"index": [1]}).json()
    assert [u["status"] for u in again["units"]][1] in ("pending", "running", "done")
    j = wait_for(client, job_id)
    assert [u["status"] for u in j["units"]] == ["cancelled", "done", "cancelled"]
    assert j["finished"] and j["extra"] == [f"/api/jobs/{job_id}/files/out/catalog.json"]
    built = json.loads(client.get(j["extra"][0]).content)
    assert [i["id"] for i in built["items"]] == [STUDS[1]]
    assert client.delete(f"/api/jobs/{job_id}", headers=AUTH).status_code == 200


def test_a_catalog_build_job_builds_as_tryon_catalog_build_does(client):
    r = client.post("/api/jobs", headers=AUTH, json={"kind": "catalog-build", "items": [STUDS[0]]})
    assert r.status_code == 202, r.text
    j = wait_for(client, r.json()["id"])
    assert j["state"] == "finished" and j["done"] == 1, j
    built_in = Catalog.load(DEFAULT_ASSETS_DIR / "catalog.json")
    item = built_in.get(STUDS[0])
    unit = j["units"][0]
    assert unit["result"]["item"] == item.to_json()
    glb = client.get(unit["files"][0])
    assert glb.status_code == 200 and glb.content == built_in.path_of(item).read_bytes()
    z = zipfile.ZipFile(io.BytesIO(client.get(j["zip"]).content))
    assert sorted(z.namelist()) == sorted([item.file, f"thumbnails/{item.id}.png", "catalog.json", "manifest.json"])
    assert json.loads(z.read("catalog.json"))["items"] == [item.to_json()]
    assert json.loads(z.read("manifest.json"))["units"][0]["status"] == "done"


def test_product_videos_and_turntable_stills_as_jobs(client):
    r = client.post("/api/jobs", headers=AUTH, json={"kind": "product-video", "items": [PENDANT],
                                                     "options": {"seconds": 3, "fps": 10, "size": 128}})
    assert r.status_code == 202, r.text
    s = client.post("/api/jobs", headers=AUTH, json={"kind": "turntable", "items": [HOOP], "options": {
        "what": "stills", "size": 64, "metals": ["yellow_gold", "silver"], "views": ["front"]}})
    assert s.status_code == 202, s.text
    video = wait_for(client, r.json()["id"])
    assert video["state"] == "finished" and video["done"] == 1, video
    got = client.get(video["units"][0]["files"][0])
    assert got.status_code == 200 and got.headers["content-type"] == "video/mp4"
    with av.open(io.BytesIO(got.content)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(c.streams.video[0])]
    assert len(frames) == 30 and frames[0].shape == (128, 128, 3)
    z = zipfile.ZipFile(io.BytesIO(client.get(video["zip"]).content))
    assert sorted(z.namelist()) == sorted([f"{PENDANT}.mp4", "manifest.json"])
    stills = wait_for(client, s.json()["id"])
    assert stills["state"] == "finished" and stills["done"] == 1, stills
    pictures = [np.asarray(Image.open(io.BytesIO(client.get(u).content)).convert("RGB"))
                for u in stills["units"][0]["files"]]
    assert len(pictures) == 2 and all(p.shape == (64, 64, 3) for p in pictures)
    assert not np.array_equal(pictures[0], pictures[1])  # gold and silver


def test_a_unit_with_a_bad_input_fails_once_with_its_reason(client):
    """An item gone from the catalog between the job's check and its unit (here: a job recorded without the
    check): the unit fails at once with the reason, is not tried again, and a retry tries it once more."""
    from tryon.server.jobs import NewUnit

    jobs = client.app.state.tryon.jobs
    job_id = jobs.create("turntable", {"what": "stills", "size": 64, "metals": ["yellow_gold"], "views": ["front"]},
                         [NewUnit("gone", {"item": "no-such-piece"}), NewUnit(HOOP, {"item": HOOP})])
    j = wait_for(client, job_id)
    gone, hoop = j["units"]
    assert (gone["status"], gone["attempts"]) == ("failed", 1) and "no-such-piece" in gone["error"], gone
    assert hoop["status"] == "done" and j["failed"] == 1
    assert client.post(f"/api/jobs/{job_id}/retry", headers=AUTH).status_code == 200
    gone = wait_for(client, job_id)["units"][0]
    assert (gone["status"], gone["attempts"]) == ("failed", 1) and "no-such-piece" in gone["error"], gone


def test_bad_requests_get_clear_answers(client):
    def post(body, headers=AUTH):
        return client.post("/api/jobs", headers=headers, json=body)

    assert post({"kind": "turntable", "items": [HOOP]}, headers={}).status_code == 401
    for body, reason in (({"kind": "sculpture", "items": [HOOP]}, "unknown job kind"),
                         ({"kind": "lookbook", "items": [HOOP]}, "not made from catalog items"),
                         ({"kind": "turntable", "items": ["no-such-piece"]}, "no-such-piece"),
                         ({"kind": "turntable", "items": [HOOP], "options": {"seconds": 60}}, "2 to 6"),
                         ({"kind": "product-video", "items": [HOOP], "options": {"colour": 1}}, "unknown option"),
                         ({"kind": "product-video", "items": []}, "at least one")):
        r = post(body)
        assert r.status_code == 400 and reason in r.json()["detail"], (body, r.text)
    assert post({"kind": "turntable"} | {"items": "x"}).status_code == 422
    assert client.get("/api/jobs/not-a-job-id-at-all").status_code == 404
    assert client.post("/api/jobs/not-a-job-id-at-all/cancel", headers=AUTH).status_code == 404
    assert client.post("/api/jobs/not-a-job-id-at-all/retry", headers=AUTH).status_code == 404
    r = post({"kind": "catalog-build", "items": [STUDS[2]]})
    j = wait_for(client, r.json()["id"])
    for rel in ("in/x", "look.json", "out/../../jobs.sqlite3", "out/nothing.glb"):
        assert client.get(f"/api/jobs/{j['id']}/files/{rel}").status_code in (400, 404), rel


def test_no_admin_token_no_jobs(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path)), base_url=BASE) as c:
        r = c.post("/api/jobs", json={"kind": "turntable", "items": [HOOP]})
        assert r.status_code == 403 and "TRYON_ADMIN_TOKEN" in r.json()["detail"]


def test_cli_submits_a_job_and_reads_its_status(tmp_path, monkeypatch, capsys):
    """Without a broker `tryon jobs submit` makes the job in this machine's worker process and waits; -o copies
    what it made."""
    monkeypatch.setenv("TRYON_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "stills"
    assert main(["jobs", "submit", "turntable", HOOP, "--stills", "--size", "64", "--metals", "silver",
                 "--views", "front,top", "-o", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["state"] == "finished" and report["done"] == 1, report
    variant = next(iter(report["units"][0]["result"]["outputs"]))
    assert sorted(p.name for p in (out / HOOP).iterdir()) == [f"{variant}-front.png", f"{variant}-top.png"]
    assert main(["jobs", "status", report["id"]]) == 0
    assert f"{report['id']} turntable: finished, 1 of 1 done" in capsys.readouterr().out
    assert main(["jobs", "submit", "turntable", HOOP, "--style", "push"]) == 2
    assert "does not take --style" in capsys.readouterr().err
    assert main(["jobs", "status", "no-such-job-id"]) == 2
