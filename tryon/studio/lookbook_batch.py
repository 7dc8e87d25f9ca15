"""`tryon lookbook`: every piece on every model photo of a folder, framed and retouched alike, with a contact sheet
and a manifest; resumable.

What a run writes in OUTDIR:
    ITEM/MODEL.jpg        one picture per piece and model photo whose site is seen (MODEL: the photo's path in the
                          models folder, folders joined with "__")
    contact.png           every pair of the set: the pictures, and the pairs that could not be made with the reason
    manifest.json         the options, the set's look, each model photo's look, and per pair: item, model, output,
                          status (done | skipped | failed), reason, the site and crop it was framed on

The set's look (tryon.studio.lookbook.set_look) is measured over every model photo before the first picture is
made and kept in the manifest, so pictures made by a later run (a resumed one, or one with more pieces) match the
earlier ones; `force` measures it again and remakes everything. The manifest is rewritten (atomically) after each
model photo, and each picture is written whole (a temporary file renamed), so a run stopped at any moment resumes
where it stopped: a pair already done (its picture on disk) or skipped with the same options is not made again.
A photo that cannot be read fails its pairs alone, with the reason; the rest of the set goes on.

Model photos run in worker processes (`jobs`, default one per core), each with one image-mode Pipeline reused
photo after photo, each photo tracked once for all the pieces.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tryon import media
from tryon.errors import InputError
from tryon.studio.lookbook import Look, correction, measure_look, set_look, shoot_photo
from tryon.studio.lookbook_sheet import contact_sheet

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
CONTACT = "contact.png"
MANIFEST_VERSION = 1
MAX_PIXELS = 50_000_000
SIZE_RANGE = (256, 4096)
PHOTOS_PER_WORKER = 8  # see worker_count
SETTLED = ("done", "skipped")  # a resumed run does not make these pairs again
_SAFE = re.compile(r"[^A-Za-z0-9._@-]+")


@dataclass(frozen=True)
class Model:
    """A model photo: its file and its name (its path inside the models folder, '/'-separated)."""

    path: Path
    name: str


@dataclass(frozen=True)
class Setup:
    """What a worker needs to build its pipeline (picklable)."""

    assets_dir: str
    user_catalog_dir: str
    hfov_deg: float = 60.0
    use_compositor: bool = True


def find_models(folder: Path, skip: Path | None = None) -> list[Model]:
    """The model photos in `folder` and its subfolders (jpg, jpeg, png, webp), by name; hidden files and anything
    under `skip` (the output folder) left out. InputError when the folder is missing or holds none."""
    if not folder.is_dir():
        raise InputError(f"--models {folder}: no such folder")
    skip_r = skip.resolve() if skip is not None else None
    found = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if not p.is_file() or p.suffix.lower() not in media.IMAGE_EXTS or any(s.startswith(".") for s in rel.parts):
            continue
        if skip_r is not None and p.resolve().is_relative_to(skip_r):
            continue
        found.append(Model(p, rel.as_posix()))
    if not found:
        raise InputError(f"--models {folder}: no model photos in it (looked for {', '.join(media.IMAGE_EXTS)}, "
                         "in subfolders too)")
    return found


def check_items(catalog: Any, specs: list[str]) -> list[str]:
    """The item specs ("id" or "id@where"), each once, checked against the catalog before any work (InputError /
    UnknownItemError naming the bad one)."""
    from tryon.jewelry.places import resolve_specs

    if not specs:
        raise InputError("name at least one catalog item (tryon catalog list)")
    unique = list(dict.fromkeys(s.strip() for s in specs))
    for spec in unique:
        resolve_specs(catalog, [spec])
    return unique


def output_name(spec: str, model: str) -> str:
    """ITEM/MODEL.jpg, safe on every file system and in a URL."""
    stem = model.rsplit(".", 1)[0].replace("/", "__")
    return f"{_SAFE.sub('_', spec).strip('._') or 'item'}/{_SAFE.sub('_', stem).strip('._') or 'photo'}.jpg"


def load_manifest(outdir: Path) -> dict[str, Any]:
    """The manifest already in OUTDIR, or an empty one (an unreadable one is not trusted)."""
    try:
        data = json.loads((outdir / MANIFEST).read_text())
        if isinstance(data, dict) and data.get("version") == MANIFEST_VERSION and isinstance(data.get("pairs"), list):
            return data
        log.warning("%s is not a lookbook manifest of this version; starting a new one", outdir / MANIFEST)
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as e:
        log.warning("%s is unreadable (%s); starting a new one", outdir / MANIFEST, e)
    return {"version": MANIFEST_VERSION, "pairs": []}


def write_manifest(outdir: Path, manifest: dict[str, Any]) -> None:
    media.write_bytes(outdir / MANIFEST, json.dumps(manifest, indent=1).encode())


# ------------------------------------------------------------------ one model photo (in a worker)

_SHOOTER: Any = None  # the worker's (Setup, Pipeline), made on its first photo


def pipeline_for(setup: Setup) -> Any:
    global _SHOOTER
    if _SHOOTER is None or _SHOOTER[0] != setup:
        from tryon.jewelry.catalog import Catalog
        from tryon.pipeline import Pipeline, PipelineOptions

        if _SHOOTER is not None:
            _SHOOTER[1].close()
        catalog = Catalog.load_with_user(Path(setup.assets_dir), Path(setup.user_catalog_dir))
        opts = PipelineOptions(mode="image", hfov_deg=setup.hfov_deg, use_compositor=setup.use_compositor)
        _SHOOTER = (setup, Pipeline(catalog, [], opts))
    return _SHOOTER[1]


def close_pipeline() -> None:
    """Let this process's pipeline go (its renderer's EGL context, MediaPipe's graphs)."""
    global _SHOOTER
    if _SHOOTER is not None:
        _SHOOTER[1].close()
        _SHOOTER = None


def _decode(path: Path) -> Any:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path.name}: cannot read ({e.strerror or e})") from None
    return media.decode_image(data, MAX_PIXELS, name=path.name)


def shoot_file(setup: Setup, model: Model, specs: list[str], outdir: str, size_px: int,
               look: dict[str, Any] | None, target: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One model photo's pairs as manifest entries, their pictures written to OUTDIR; a photo that cannot be read
    (or a defect of ours) fails its pairs with the reason."""
    t0 = time.perf_counter()
    base: dict[str, Any] = {"model": model.name}
    try:
        rgb = _decode(model.path)
        gains, power = (1.0, 1.0, 1.0), 1.0
        if look is not None and "key" in look and target is not None:
            gains, power = correction(_look(look), _look(target))
        shots = shoot_photo(pipeline_for(setup), rgb, specs, size_px, gains, power)
    except InputError as e:
        return [{**base, "item": s, "output": None, "status": "failed", "reason": str(e)} for s in specs]
    except Exception as e:  # noqa: BLE001 - a defect of ours: said in the entries, the set goes on
        log.exception("lookbook: %s failed", model.path)
        return [{**base, "item": s, "output": None, "status": "failed",
                 "reason": f"internal error: {type(e).__name__}: {e}"} for s in specs]
    entries = []
    each = round((time.perf_counter() - t0) / max(1, len(specs)), 3)
    for shot in shots:
        if shot.image is None:
            entries.append({**base, "item": shot.spec, "output": None, "status": "skipped", "reason": shot.reason})
            continue
        name = output_name(shot.spec, model.name)
        try:
            (Path(outdir) / name).parent.mkdir(parents=True, exist_ok=True)
            media.write_image(Path(outdir) / name, shot.image)
        except (OSError, InputError) as e:  # a full disk, a folder made read-only meanwhile
            entries.append({**base, "item": shot.spec, "output": None, "status": "failed",
                            "reason": f"cannot write {name}: {e}"})
            continue
        entries.append({**base, "item": shot.spec, "output": name, "status": "done", "reason": None,
                        "site": shot.site, "crop_px": list(shot.crop_px or ()), "scale": shot.scale,
                        "correction": {"gains": [round(g, 4) for g in gains], "power": round(power, 4)},
                        "seconds": each})
    return entries


def _plain(value: dict[str, Any]) -> dict[str, Any]:
    """As JSON has it (lists, not tuples): what a resumed run reads back compares equal."""
    out: dict[str, Any] = json.loads(json.dumps(value))
    return out


def _stamp(path: Path) -> list[int]:
    """The photo's size and modification time: a photo replaced under the same name is shot again."""
    try:
        st = path.stat()
        return [st.st_size, st.st_mtime_ns]
    except OSError:
        return [-1, -1]


def _look(fields: dict[str, Any]) -> Look:
    return Look(tuple(fields["white"]), float(fields["key"]), bool(fields.get("mono", False)),  # type: ignore[arg-type]
                bool(fields.get("white_known", True)))


def worker_init(setup: Setup | None = None) -> None:
    """One OpenCV and torch thread per worker (the set's parallelism is the processes); with `setup`, its pipeline
    made now."""
    import cv2

    cv2.setNumThreads(1)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    if setup is not None:
        try:
            pipeline_for(setup)
        except Exception:  # noqa: BLE001 - the first photo makes it again and fails with the reason
            log.exception("lookbook: the worker's pipeline could not be made")


# ------------------------------------------------------------------ the set


def run_lookbook(specs: list[str], models: list[Model], outdir: Path, setup: Setup, size_px: int = 1024,
                 force: bool = False, jobs: int | None = None,
                 progress: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Every spec on every model photo into OUTDIR; returns the manifest (also OUTDIR/manifest.json). specs must
    have passed check_items, models find_models. progress: called with each pair's entry as it is settled."""
    if not SIZE_RANGE[0] <= size_px <= SIZE_RANGE[1]:
        raise InputError(f"--size {size_px}: pictures are {SIZE_RANGE[0]} to {SIZE_RANGE[1]} px")
    if outdir.exists() and not outdir.is_dir():
        raise InputError(f"{outdir} is a file; -o takes a folder")
    outdir.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(outdir)
    options = {"size": size_px}
    same = manifest.get("options") == options and not force
    stamps = {m.name: _stamp(m.path) for m in models}
    kept = manifest.get("models") or {}
    unchanged = {n for n in stamps if isinstance(kept.get(n), dict) and kept[n].get("stamp") == stamps[n]}
    old = {(e["item"], e["model"]): e for e in manifest["pairs"] if isinstance(e, dict) and same
           and e.get("model") in unchanged and e.get("status") in SETTLED
           and (e["status"] != "done" or (outdir / str(e.get("output"))).is_file())}
    todo = {m.name: [s for s in specs if (s, m.name) not in old] for m in models}
    todo = {k: v for k, v in todo.items() if v}
    with contextlib.ExitStack() as stack:
        n = worker_count(len(todo), jobs)
        pool = None
        if n > 1 and len(todo) > 1:  # started now: their imports and pipelines are made while the set is measured
            pool = stack.enter_context(ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"),
                                                           initializer=worker_init, initargs=(setup,)))
            for _ in range(n):
                pool.submit(int)
        return _run(specs, models, outdir, setup, size_px, manifest, options, same, old, todo, pool, progress, stamps)


def _run(specs: list[str], models: list[Model], outdir: Path, setup: Setup, size_px: int, manifest: dict[str, Any],
         options: dict[str, Any], same: bool, old: dict[tuple[str, str], dict[str, Any]], todo: dict[str, list[str]],
         pool: ProcessPoolExecutor | None, progress: Callable[[dict[str, Any]], None] | None,
         stamps: dict[str, list[int]]) -> dict[str, Any]:
    looks: dict[str, Any] = {n: v for n, v in (manifest.get("models") or {}).items()
                             if same and isinstance(v, dict) and v.get("stamp") == stamps.get(n)}
    target = manifest.get("look") if same else None
    if todo:
        for m in models:  # each photo's own look; all of them the first time (the set's look is their median)
            if m.name not in looks and (target is None or m.name in todo):
                try:
                    looks[m.name] = _plain({**asdict(measure_look(_decode(m.path))), "stamp": stamps[m.name]})
                except InputError:
                    looks[m.name] = {"stamp": stamps[m.name]}  # its pairs fail with the reason when shot
        if target is None:
            measured = [_look(v) for v in looks.values() if "key" in v]
            target = _plain(asdict(set_look(measured))) if measured else None
    manifest.update(options=options, look=target, models=looks, contact_sheet=CONTACT)
    entries: dict[tuple[str, str], dict[str, Any]] = dict(old)

    def record(new: list[dict[str, Any]]) -> None:
        for e in new:
            entries[(e["item"], e["model"])] = e
        manifest["pairs"] = [entries[(s, m.name)] for m in models for s in specs if (s, m.name) in entries]
        write_manifest(outdir, manifest)
        for e in new:
            if progress is not None:
                progress(e)

    record([])
    by_name = {m.name: m for m in models}
    for new in _shoot_all(setup, [(by_name[n], s) for n, s in todo.items()], outdir, size_px, looks, target, pool):
        record(new)
    done = [(entries[(s, m.name)], m.name) for m in models for s in specs
            if entries.get((s, m.name), {}).get("status") == "done"]
    contact_sheet(outdir / CONTACT, specs, [m.name for m in models], entries, outdir)
    log.info("lookbook: %d pictures of %d pairs in %s", len(done), len(specs) * len(models), outdir)
    return manifest


def worker_count(photos: int, jobs: int | None) -> int:
    """Worker processes for `photos` model photos: `jobs` if given, else one per core but no more than one per
    PHOTOS_PER_WORKER (a worker's start-up, about 5 s of imports, pipeline and first photo, is worth it only for
    that many; fewer run in this process); never more than photos. 1: in this process."""
    if jobs is not None:
        return max(1, min(photos, jobs))
    return max(1, min(photos, os.cpu_count() or 1, photos // PHOTOS_PER_WORKER))


def _shoot_all(setup: Setup, work: list[tuple[Model, list[str]]], outdir: Path, size_px: int,
               looks: dict[str, Any], target: dict[str, Any] | None,
               pool: ProcessPoolExecutor | None) -> Iterator[list[dict[str, Any]]]:
    if pool is None:
        for m, specs in work:
            yield shoot_file(setup, m, specs, str(outdir), size_px, looks.get(m.name), target)
        return
    futures = {pool.submit(shoot_file, setup, m, specs, str(outdir), size_px, looks.get(m.name), target): (m, specs)
               for m, specs in work}
    for f in as_completed(futures):
        m, specs = futures[f]
        try:
            yield f.result()
        except Exception as e:  # noqa: BLE001 - a worker that died (out of memory, a crash): its photo fails
            yield [{"model": m.name, "item": s, "output": None, "status": "failed",
                    "reason": f"internal error: {type(e).__name__}: {e}"} for s in specs]

