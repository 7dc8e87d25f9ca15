"""`tryon retouch`: many product photos in, catalog images and a manifest out, resumable.

Each output is OUTDIR/<input stem>.<ext>. The manifest (OUTDIR/manifest.json) lists every input with its output,
its checks and what each step did, or the clear reason it failed; it is rewritten (atomically) after each photo, so
a batch stopped at any moment resumes where it stopped: an input whose output exists and whose manifest entry says
it was made with the same options is skipped unless `force`. One bad photo costs nothing else in the batch.

Photos run in worker processes, one per core (each with one OpenCV and torch thread), so a batch uses the CPU.
"""

from __future__ import annotations

import glob
import io
import json
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tryon import media
from tryon.errors import InputError
from tryon.retouch.pipeline import batch_look, keep_freed_memory, photo_look, retouch
from tryon.retouch.types import Look, Retouched, RetouchOptions

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
MAX_PIXELS = 100_000_000  # a 100 MP medium-format frame is a real product photo; beyond that, a bomb
_PIL_FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}
_PIL_OPTIONS: dict[str, dict[str, Any]] = {"JPEG": {"quality": 95, "subsampling": 0}, "PNG": {"compress_level": 6},
                                           "WEBP": {"quality": 95, "method": 4}}


@dataclass(frozen=True)
class Entry:
    """One input's line in the manifest."""

    input: str
    output: str | None
    ok: bool  # made, and every marketplace check passed
    error: str | None = None
    metal: str | None = None
    checks: dict[str, Any] | None = None
    steps: dict[str, Any] | None = None
    seconds: float | None = None
    options: dict[str, Any] | None = None

    @property
    def made(self) -> bool:
        return self.error is None and self.output is not None


def expand_inputs(inputs: list[str]) -> list[Path]:
    """Files, folders (their images, sorted, not recursive) and globs, in the order given, each once.

    InputError when an input matches nothing, or when two inputs would write the same output name.
    """
    found: list[Path] = []
    for text in inputs:
        p = Path(text)
        if p.is_dir():
            found += sorted(q for q in p.iterdir() if q.is_file() and q.suffix.lower() in media.IMAGE_EXTS)
        elif p.is_file():
            found.append(p)
        elif glob.has_magic(text):
            hits = sorted(Path(q) for q in glob.glob(text) if Path(q).is_file())
            if not hits:
                raise InputError(f"{text}: no file matches")
            found += hits
        else:
            raise InputError(f"{text}: no such file or folder")
    unique = list(dict.fromkeys(q.resolve() for q in found))
    if not unique:
        raise InputError("no photos to retouch (folders are searched for " + ", ".join(media.IMAGE_EXTS) + ")")
    stems: dict[str, Path] = {}
    for q in unique:
        if q.stem in stems:
            raise InputError(f"two inputs would both write '{q.stem}': {stems[q.stem]} and {q}; rename one")
        stems[q.stem] = q
    return unique


def decode_photo(data: bytes, name: str) -> np.ndarray:
    """(H, W, 3) uint8 sRGB from a photo file's bytes: EXIF orientation, ICC profile to sRGB, 16-bit and CMYK
    brought to 8-bit RGB, a pixel limit checked from the header. InputError, naming the file, otherwise."""
    return media.decode_image(data, MAX_PIXELS, name=name)


def encode_result(result: Retouched, options: RetouchOptions) -> bytes:
    """The output file's bytes in options.ext (transparent results keep their alpha: PNG or WebP)."""
    img = result.image
    mode = "RGBA" if img.ndim == 3 and img.shape[2] == 4 else "RGB"
    fmt = _PIL_FORMATS[options.ext]
    buf = io.BytesIO()
    Image.fromarray(img, mode).save(buf, format=fmt, **_PIL_OPTIONS[fmt])
    return buf.getvalue()


def retouch_file(path: Path, outdir: Path, options: RetouchOptions, look: Look | None) -> Entry:
    """One photo from disk to OUTDIR, as a manifest entry; a bad photo gives an entry with its error."""
    out = outdir / f"{path.stem}.{options.ext}"
    t0 = time.perf_counter()
    try:
        rgb = decode_photo(_read(path), str(path))
        result = retouch(rgb, options, look)
        del rgb
        data = encode_result(result, options)
        media.write_bytes(out, data)
    except InputError as e:
        said = str(e)
        return Entry(str(path), None, False, error=said if str(path) in said else f"{path.name}: {said}",
                     options=asdict(options))
    except Exception as e:  # noqa: BLE001 - a defect of ours: say so in the entry, keep the batch going
        log.exception("retouching %s failed", path)
        return Entry(str(path), None, False, error=f"internal error: {type(e).__name__}: {e}", options=asdict(options))
    return Entry(str(path), str(out), result.passed, metal=result.metal, checks=result.checks, steps=result.steps,
                 seconds=round(time.perf_counter() - t0, 3), options=asdict(options))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None


def load_manifest(outdir: Path) -> dict[str, Any]:
    """The manifest already in OUTDIR, or an empty one (an unreadable manifest is set aside, not trusted)."""
    p = outdir / MANIFEST
    try:
        data = json.loads(p.read_text())
        if isinstance(data, dict) and data.get("version") == MANIFEST_VERSION and isinstance(data.get("outputs"), list):
            return data
        log.warning("%s is not a manifest of this version; starting a new one", p)
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as e:
        log.warning("%s is unreadable (%s); starting a new one", p, e)
    return {"version": MANIFEST_VERSION, "outputs": []}


def write_manifest(outdir: Path, manifest: dict[str, Any]) -> None:
    media.write_bytes(outdir / MANIFEST, json.dumps(manifest, indent=1).encode())


def _worker_init() -> None:
    """One thread each for OpenCV and torch in a worker: the batch's parallelism is the processes."""
    import cv2

    keep_freed_memory()

    cv2.setNumThreads(1)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass


def worker_count(n: int) -> int:
    """Worker processes for a batch of n photos: one per core, never more than photos."""
    return max(1, min(n, os.cpu_count() or 1))


def run_batch(paths: list[Path], outdir: Path, options: RetouchOptions, force: bool = False,
              match: Path | None = None, same_look: bool = False, jobs: int | None = None,
              progress: Callable[[Entry], None] | None = None) -> dict[str, Any]:
    """Retouch `paths` into `outdir` and return the manifest (also written to OUTDIR/manifest.json).

    match: a reference photo whose look (the piece's exposure and white point) every output takes.
    same_look: without `match`, give every output the batch's median look (a collection shot in one session); it
    is recorded in the manifest and reused when the batch resumes. Off by default: in a mixed batch a black
    pearl strand and a diamond ring should not share an exposure. Either way every photo's white balance comes
    from its own background, and framing and shadow follow the options, so a batch is alike in those.
    """
    outdir.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(outdir)
    opts = asdict(options)
    old = {e["input"]: e for e in manifest["outputs"] if isinstance(e, dict) and "input" in e}
    todo = [p for p in paths if force or not _done(old.get(str(p)), opts)]
    look = _look_for(paths, todo, manifest, match, same_look, opts, force)
    manifest.update(options=opts, look=None if look is None else json.loads(json.dumps(asdict(look))))
    entries: dict[str, Any] = {str(p): old[str(p)] for p in paths if str(p) in old and p not in todo}
    for e in _run(todo, outdir, options, look, jobs):
        entries[e.input] = asdict(e)
        manifest["outputs"] = [entries[str(p)] for p in paths if str(p) in entries]
        write_manifest(outdir, manifest)
        if progress is not None:
            progress(e)
    manifest["outputs"] = [entries[str(p)] for p in paths if str(p) in entries]
    write_manifest(outdir, manifest)
    return manifest


def _done(entry: dict[str, Any] | None, opts: dict[str, Any]) -> bool:
    return bool(entry and entry.get("error") is None and entry.get("output") and entry.get("options") == opts
                and Path(entry["output"]).is_file())


def _look_for(paths: list[Path], todo: list[Path], manifest: dict[str, Any], match: Path | None, same_look: bool,
              opts: dict[str, Any], force: bool) -> Look | None:
    if match is not None:
        return photo_look(decode_photo(_read(match), str(match)))
    if not same_look or len(paths) < 2 or not todo:
        return None
    kept = manifest.get("look")
    if not force and kept and manifest.get("options") == opts:  # a resumed batch keeps the look it started with
        return Look(kept["exposure"], tuple(kept["white_rgb"]), kept["fill_share"])  # type: ignore[arg-type]
    looks = []
    for p in paths:
        try:
            looks.append(photo_look(decode_photo(_read(p), str(p))))
        except InputError:
            continue  # the photo's own entry will say why
    return batch_look(looks) if looks else None


def _run(todo: list[Path], outdir: Path, options: RetouchOptions, look: Look | None,
         jobs: int | None) -> Iterator[Entry]:
    n = min(worker_count(jobs or os.cpu_count() or 1), len(todo))
    if n == 1 or len(todo) < 2:
        for p in todo:
            yield retouch_file(p, outdir, options, look)
        return
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(n, mp_context=ctx, initializer=_worker_init) as pool:
        futures = [pool.submit(retouch_file, p, outdir, options, look) for p in todo]
        for p, f in zip(todo, futures, strict=True):
            try:
                yield f.result()
            except Exception as e:  # noqa: BLE001 - a worker that died (out of memory, a crash): that photo fails
                yield Entry(str(p), None, False, error=f"internal error: {type(e).__name__}: {e}",
                            options=asdict(options))
