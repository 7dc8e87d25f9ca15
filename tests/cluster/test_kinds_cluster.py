"""Every catalog job kind besides retouch on a real cluster (PostgreSQL, Redis, two `tryon serve` behind nginx, two
`tryon worker`s): a product video, turntable stills, a catalog build and a lookbook made by the workers, sent through
one server and followed and downloaded through the other; and `tryon jobs submit` sending a job to the cluster from
the command line. Small units (one item, few frames, small pictures); jobs are waited for by their state, with
generous bounds for a loaded 2-core machine, never timed."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile

import httpx
import numpy as np
import pytest
from conftest import media_path
from PIL import Image
from services import ADMIN_TOKEN, REPO

from tryon.jewelry.catalog import DEFAULT_ASSETS_DIR, Catalog

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
WAIT_S = 900.0  # a generous bound on a busy machine, not a speed requirement
PENDANT = "pendant-heart-12mm-rose-gold"
HOOP = "hoop-round-25mm-yellow-gold"
EARRING = "drop-diamond-pear-8mm-white-gold"
STUD = "stud-ruby-5mm-rose-gold"
FACE = "people/faces/man_frontal_dark_jacket.jpg"


def wait_for(url: str) -> dict:
    deadline = time.monotonic() + WAIT_S
    while True:
        r = httpx.get(url, timeout=60)
        assert r.status_code == 200, r.text
        j = dict(r.json())
        if j["state"] in ("finished", "cancelled"):
            return j
        if time.monotonic() > deadline:
            pytest.fail(f"job not finished within {WAIT_S:g} s: {j}")
        time.sleep(0.5)


def test_item_kinds_run_on_the_workers_and_read_from_either_server(cluster, cluster_workers):
    first, second = cluster.servers[0].url, cluster.servers[1].url
    bodies = {"product-video": {"items": [PENDANT], "options": {"seconds": 3, "fps": 10, "size": 128}},
              "turntable": {"items": [HOOP], "options": {"what": "stills", "size": 64, "metals": ["yellow_gold",
                                                                                                  "silver"],
                                                        "views": ["front"]}},
              "catalog-build": {"items": [STUD]}}
    ids = {}
    for kind, body in bodies.items():
        r = httpx.post(f"{first}/api/jobs", json={"kind": kind, **body}, headers=AUTH, timeout=60)
        assert r.status_code == 202, r.text
        ids[kind] = r.json()["id"]
    jobs = {kind: wait_for(f"{second}/api/jobs/{job_id}") for kind, job_id in ids.items()}
    for kind, j in jobs.items():
        assert j["state"] == "finished" and j["done"] == 1, j
        assert j["units"][0]["worker"].startswith("celery:"), (kind, j["units"][0])  # a `tryon worker` made it
    video = httpx.get(second + jobs["product-video"]["units"][0]["files"][0], timeout=60)
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4" and len(video.content) > 1000
    assert jobs["product-video"]["units"][0]["result"]["frame_count"] == 30
    stills = [np.asarray(Image.open(io.BytesIO(httpx.get(cluster.url + u, timeout=60).content)).convert("RGB"))
              for u in jobs["turntable"]["units"][0]["files"]]
    assert len(stills) == 2 and not np.array_equal(stills[0], stills[1])  # through the balancer: gold, silver
    built_in = Catalog.load(DEFAULT_ASSETS_DIR / "catalog.json")
    z = zipfile.ZipFile(io.BytesIO(httpx.get(second + jobs["catalog-build"]["zip"], timeout=60).content))
    item = built_in.get(STUD)
    assert z.read(item.file) == built_in.path_of(item).read_bytes()  # built on a worker as `catalog build` does
    assert json.loads(z.read("catalog.json"))["items"] == [item.to_json()]


def test_a_lookbook_runs_on_the_workers(cluster, cluster_workers):
    face = media_path(FACE)
    r = httpx.post(f"{cluster.servers[0].url}/api/lookbook", headers=AUTH, data={"items": EARRING, "size": "256"},
                   files=[("files", (face.name, face.read_bytes(), "image/jpeg"))], timeout=120)
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    second = cluster.servers[1].url
    j = wait_for(f"{second}/api/lookbook/{job_id}")
    assert j["state"] == "finished" and j["done"] == 1, j
    assert httpx.get(f"{second}/api/jobs/{job_id}", timeout=60).json()["units"][0]["worker"].startswith("celery:")
    picture = httpx.get(second + j["pairs"][0]["url"], timeout=60)
    assert picture.status_code == 200
    assert np.asarray(Image.open(io.BytesIO(picture.content))).shape == (256, 256, 3)
    assert httpx.get(second + j["contact_sheet"], timeout=60).status_code == 200
    manifest = httpx.get(cluster.servers[0].url + j["manifest"], timeout=60).json()
    assert manifest["look"] and [e["status"] for e in manifest["pairs"]] == ["done"]


def test_the_cli_sends_a_job_to_the_cluster(cluster, cluster_workers, tmp_path):
    """`tryon jobs submit` with the cluster's settings records the job; the workers make it; -o copies it here."""
    env = {**os.environ, **cluster.env, "TRYON_DATA_DIR": str(tmp_path / "cli-data")}
    out = tmp_path / "stills"
    done = subprocess.run([sys.executable, "-m", "tryon.cli", "jobs", "submit", "turntable", HOOP, "--stills",
                           "--size", "64", "--metals", "rose-gold", "--views", "front", "--wait", "-o", str(out),
                           "--json"], env=env, cwd=REPO, capture_output=True, text=True, timeout=WAIT_S)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["state"] == "finished" and report["units"][0]["status"] == "done", report
    assert [p.name for p in (out / HOOP).iterdir()] == [f"{HOOP.replace('yellow-gold', 'rose-gold')}-front.png"]
    j = httpx.get(f"{cluster.url}/api/jobs/{report['id']}", timeout=60).json()  # the servers see it too
    assert j["units"][0]["worker"].startswith("celery:")
    status = subprocess.run([sys.executable, "-m", "tryon.cli", "jobs", "status", report["id"]], env=env, cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert status.returncode == 0 and "finished, 1 of 1 done" in status.stdout, status.stderr
