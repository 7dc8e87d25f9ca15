"""`tryon bench --retouch`: the studio's speed per photo (1 MP and 12 MP) and a batch's throughput.

The photos are real product photos from the shared media (a ring on grey, a pendant chain on grey), resized to
exactly 1 MP and 12 MP (a 12 MP phone or camera frame is 4000 x 3000). Each size is timed `repeats` times after a
warm-up at that size, which is timed on its own: a process's first photo at a size pays one-time costs, OpenCV's
first calls and the heap's growth (17,000 to 21,000 page faults at 1 MP, and on this VM a fault costs tens of
microseconds, a few on bare metal), so it takes up to a second more than every later one. The batch runs
`batch` photos through `run_batch` with one worker per core, as `tryon retouch` does.

CPU time is counted beside the wall-clock time (this process's for single photos, its reaped worker processes'
for the batch): CPU seconds per photo is what a core-hour of retouching rests on, and it stays about the same on a
machine that other work slows down, where wall-clock times do not.
"""

from __future__ import annotations

import resource
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from tryon import media
from tryon.config import shared_media_dir
from tryon.errors import InputError
from tryon.retouch.pipeline import keep_freed_memory, retouch
from tryon.retouch.types import RetouchOptions
from tryon.studio.retouch_batch import run_batch, worker_count

PHOTOS = ("ring_sapphire_solitaire_side_view_light_grey_bg.jpg", "necklace_gold_chain_dust_speck_grey_bg.png",
          "earrings_garnet_drop_rose_gold_two_panel_grey_bg.jpg")
SIZES_MP = (1.0, 12.0)


@dataclass(frozen=True)
class RetouchBench:
    photos: list[str]
    seconds: dict[str, dict[str, float]] = field(default_factory=dict)  # "1 MP" -> median / max over photos, runs
    first_seconds: dict[str, float] = field(default_factory=dict)  # "1 MP" -> the warm-up: a process's first photo
    batch_photos: int = 0
    batch_workers: int = 0
    batch_seconds: float = 0.0
    photos_per_minute: float = 0.0
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # "1 MP" -> median CPU s per photo, this process
    batch_cpu_s_per_photo: float = 0.0  # the batch's worker processes' CPU time over its photos
    photos_per_core_hour: float = 0.0  # 3600 / batch_cpu_s_per_photo


def at_megapixels(rgb: np.ndarray, mp: float) -> np.ndarray:
    """rgb resized, aspect kept, to `mp` megapixels."""
    s = (mp * 1e6 / (rgb.shape[0] * rgb.shape[1])) ** 0.5
    size = (round(rgb.shape[1] * s), round(rgb.shape[0] * s))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC if s > 1 else cv2.INTER_AREA)


def _photos() -> list[Path]:
    folder = shared_media_dir() / "products"
    found = [folder / name for name in PHOTOS if (folder / name).is_file()]
    if not found:
        raise InputError(f"the retouch bench needs the shared product photos in {folder} (set TRYON_MEDIA)")
    return found


def run_retouch_bench(repeats: int = 3, batch: int = 8) -> RetouchBench:
    photos = _photos()
    keep_freed_memory()  # as `tryon retouch` and the workers do
    options = RetouchOptions()
    images = [media.read_image(p) for p in photos]
    seconds: dict[str, dict[str, float]] = {}
    first_seconds: dict[str, float] = {}
    cpu_seconds: dict[str, float] = {}
    for mp in SIZES_MP:
        runs, cpu_runs = [], []
        sized = [at_megapixels(rgb, mp) for rgb in images]
        t0 = time.perf_counter()
        retouch(max(sized, key=lambda a: a.shape[0] * a.shape[1]), options)  # warm-up: the heap's growth
        first_seconds[f"{mp:g} MP"] = round(time.perf_counter() - t0, 3)
        for big in sized:
            for _ in range(repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                retouch(big, options)
                runs.append(time.perf_counter() - t0)
                cpu_runs.append(time.process_time() - c0)
        seconds[f"{mp:g} MP"] = {"median": round(statistics.median(runs), 3), "max": round(max(runs), 3)}
        cpu_seconds[f"{mp:g} MP"] = round(statistics.median(cpu_runs), 3)
    with tempfile.TemporaryDirectory() as tmp:
        inputs = []
        for i in range(batch):
            p = Path(tmp) / "in" / f"photo{i:02d}.png"
            p.parent.mkdir(exist_ok=True)
            media.write_image(p, at_megapixels(images[i % len(images)], 1.0))
            inputs.append(p)
        t0, c0 = time.perf_counter(), _children_cpu_s()
        manifest = run_batch(inputs, Path(tmp) / "out", options)
        took = time.perf_counter() - t0
        cpu_per_photo = (_children_cpu_s() - c0) / batch  # the pool's processes are joined: their time is in
    return RetouchBench([p.name for p in photos], seconds, first_seconds, len(manifest["outputs"]), worker_count(batch),
                        round(took, 2), round(60.0 * batch / took, 1), cpu_seconds, round(cpu_per_photo, 3),
                        round(3600.0 / cpu_per_photo) if cpu_per_photo > 0 else 0.0)


def _children_cpu_s() -> float:
    """CPU seconds (user and system) of this process's child processes that have ended and been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def format_retouch_bench(r: RetouchBench) -> str:
    lines = [f"retouch, whole pipeline (--frame fill, white, contact shadow), photos: {', '.join(r.photos)}"]
    for size, s in r.seconds.items():
        lines.append(f"  {size:>6}: {s['median']:.2f} s median, {s['max']:.2f} s worst; "
                     f"{r.cpu_seconds.get(size, float('nan')):.2f} CPU s median; a process's first photo at this "
                     f"size {r.first_seconds.get(size, float('nan')):.2f} s (one-time costs)")
    lines.append(f"  batch: {r.batch_photos} photos of 1 MP with {r.batch_workers} workers in {r.batch_seconds:.1f} s "
                 f"({r.photos_per_minute:.0f} photos a minute); {r.batch_cpu_s_per_photo:.2f} CPU s a photo in the workers, "
                 f"{r.photos_per_core_hour:.0f} photos per core-hour")
    return "\n".join(lines)
