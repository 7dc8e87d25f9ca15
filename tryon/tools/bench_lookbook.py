"""`tryon bench --lookbook`: on-model pictures per second on 1-megapixel model photos.

The model photos are real portraits from the shared media (people/faces and people/body), resized to exactly 1 MP.
Three pieces (an earring, a pendant, a ring) go on each. Two numbers: one process making the set after a warm-up
(its pictures per second: per core), and the whole `run_lookbook` (the survey of the set's look, one worker process
per core started, pictures written, the contact sheet) from the CLI's entry point, wall clock.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tryon import media
from tryon.config import Settings, shared_media_dir
from tryon.errors import InputError
from tryon.studio.lookbook import measure_look, shoot_photo
from tryon.studio.lookbook_batch import (
    Setup,
    close_pipeline,
    find_models,
    pipeline_for,
    run_lookbook,
    worker_count,
    worker_init,
)
from tryon.tools.bench_retouch import at_megapixels

PHOTOS = ("people/faces/man_frontal_dark_jacket.jpg", "people/body/woman_necklace_long_hair.jpg",
          "people/faces/boy_dark_skin_smile.jpg", "people/faces/man_slicked_hair_grey_suit.jpg",
          "people/hands/man_pointing_both_hands_white_bg.jpg", "faces/woman_east_asian_smile_3q.jpg",
          "people/body/woman_blonde_gold_top.jpg", "faces/obama_official_portrait_frontal.jpg")
ITEMS = ("drop-diamond-pear-8mm-white-gold", "pendant-heart-12mm-rose-gold", "ring-halo-diamond-6mm-white-gold")


@dataclass(frozen=True)
class LookbookBench:
    photos: int
    items: list[str]
    megapixels: float
    size_px: int
    pairs: int = 0
    pictures: int = 0  # pairs whose site was seen (the others are listed, not drawn)
    one_process_s_per_photo: dict[str, float] = field(default_factory=dict)  # median / max, all pieces of a photo
    one_process_pictures_per_s: float = 0.0
    batch_workers: int = 0
    batch_seconds: float = 0.0
    batch_pictures_per_s: float = 0.0
    batch_pictures_per_s_per_core: float = 0.0
    cores: int = 0
    batch_first_photo_s: float = 0.0  # start-up: until the first model photo's pictures are written
    batch_photos_per_s_after: float = 0.0  # model photos a second after the first one, all workers together


def _inputs(folder: Path, mp: float) -> None:
    base = shared_media_dir()
    found = [base / p for p in PHOTOS if (base / p).is_file()]
    if not found:
        raise InputError(f"the lookbook bench needs the shared portraits in {base} (set TRYON_MEDIA)")
    folder.mkdir(parents=True, exist_ok=True)
    for p in found:  # each photo and its mirror image: a set of 16, enough to spread worker start-up over
        rgb = at_megapixels(media.read_image(p), mp)
        media.write_image(folder / f"{p.stem}.png", rgb)
        media.write_image(folder / f"{p.stem}_mirrored.png", np.ascontiguousarray(rgb[:, ::-1]))


def run_lookbook_bench(mp: float = 1.0, size_px: int = 1024) -> LookbookBench:
    s = Settings()
    setup = Setup(str(s.assets_dir), str(s.user_catalog_dir), s.hfov_deg, s.use_compositor)
    items = list(ITEMS)
    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp) / "models"
        _inputs(models, mp)
        found = find_models(models)
        worker_init()  # one OpenCV and torch thread, as in a worker: the number is per core
        # One process: decode, the photo's look, track once, every piece rendered, composited, cut and encoded.
        pipe = pipeline_for(setup)
        shoot_photo(pipe, media.read_image(found[0].path), items, size_px)  # warm-up: models uploaded, first calls
        runs, made = [], 0
        for m in found:
            t0 = time.perf_counter()
            rgb = media.read_image(m.path)
            measure_look(rgb)
            shots = shoot_photo(pipe, rgb, items, size_px)
            for shot in shots:
                if shot.image is not None:
                    media.encode_image(shot.image, ".jpg")
            runs.append(time.perf_counter() - t0)
            made += sum(shot.image is not None for shot in shots)
        close_pipeline()
        stamps: list[float] = []
        t0 = time.perf_counter()
        manifest = run_lookbook(items, found, Path(tmp) / "out", setup, size_px=size_px,
                                progress=lambda e: stamps.append(time.perf_counter() - t0))
        took = time.perf_counter() - t0
    pictures = sum(e["status"] == "done" for e in manifest["pairs"])
    workers = worker_count(len(found), None)
    cores = os.cpu_count() or 1
    return LookbookBench(
        len(found), items, mp, size_px, len(manifest["pairs"]), pictures,
        {"median": round(statistics.median(runs), 3), "max": round(max(runs), 3)},
        round(made / sum(runs), 2), workers, round(took, 2), round(pictures / took, 2),
        round(pictures / took / min(workers, cores), 2), cores, round(stamps[len(items) - 1], 2),
        round(len(found) / max(1e-3, stamps[-1] - stamps[0]) * (len(found) - 1) / len(found), 2))


def format_lookbook_bench(r: LookbookBench) -> str:
    return "\n".join([
        f"lookbook: {r.photos} model photos of {r.megapixels:g} MP x {len(r.items)} pieces ({', '.join(r.items)}), "
        f"{r.size_px} px pictures; {r.pictures} of {r.pairs} pairs drawn (the rest not made, each with its reason)",
        f"  one process: {r.one_process_s_per_photo['median']:.2f} s per model photo median "
        f"({r.one_process_s_per_photo['max']:.2f} worst), all its pieces: {r.one_process_pictures_per_s:.1f} "
        "pictures/s on one core",
        f"  tryon lookbook end to end ({r.batch_workers} workers, {r.cores} cores, process start-up and the "
        f"set's look included): {r.batch_seconds:.1f} s, {r.batch_pictures_per_s:.1f} pictures/s, "
        f"{r.batch_pictures_per_s_per_core:.1f} per core; the first photo's pictures after {r.batch_first_photo_s:.1f} s "
        f"(worker start-up), then {r.batch_photos_per_s_after:.1f} model photos/s"])
