"""What one unit of each catalog job kind does: the function the job engine (tryon.server.jobs) runs for every
unit, in the server's own worker process or in a `tryon worker` (Celery) on another machine.

The kinds and their units:
    retouch        one product photo -> its catalog image (what the retouch worker did per photo)
    lookbook       one model photo -> every piece of the job on it (the photo tracked once), as `tryon lookbook`
    product-video  one catalog item -> its product clip (out/ITEM.mp4), as `tryon product-video`
    turntable      one catalog item -> its turn (out/ITEM.mp4) or its stills in every metal (out/ITEM/*.png)
    catalog-build  one built-in item -> its model, thumbnail and catalog entry, as `tryon catalog build` per item

`run_unit(kind, options, spec, job_dir)` holds no server state: everything comes from its arguments and the
settings (where the catalog is: the worker's own environment unless given), so it runs in a spawned process or a
Celery worker alike. It writes its files whole under `job_dir` (a temporary file renamed; paths in its result are
relative to job_dir, '/'-separated) and returns a JSON-able dict. A redone unit (its worker died before its result
was recorded) writes the same files again, whole: a reader never sees half a file. InputError, with the reason,
for an input that cannot be used (the unit fails once, no retry); anything else is a defect or a crash.

What a job's units share is made once by `prepare_job` (in a worker, after the last upload, before the first
unit): a retouch job's one look, a lookbook's looks (each model photo's, and the set's median). Without it a
lookbook unit measures them itself and keeps them in job_dir/look.json (deterministic: two workers measuring at
once write the same file). `check_job` checks an item job before it is recorded (on the server); `finish_job`
makes the files a job has once all its units are settled (a lookbook's contact sheet and manifest, a catalog
build's catalog.json).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
from dataclasses import asdict
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from tryon import media
from tryon.errors import InputError, TryOnError

if TYPE_CHECKING:
    from tryon.config import Settings
    from tryon.jewelry.catalog import Catalog
    from tryon.render.renderer import Renderer
    from tryon.retouch.types import RetouchOptions

log = logging.getLogger(__name__)

KINDS = ("retouch", "lookbook", "product-video", "turntable", "catalog-build")
ITEM_KINDS = ("product-video", "turntable", "catalog-build")  # one unit per catalog item
LOOK_FILE = "look.json"
FINISH_KEY = "finish.key"
FINISH_FILES = {"lookbook": ["out/manifest.json", "out/contact.png"], "catalog-build": ["out/catalog.json"]}
OUT = "out"
MAX_ITEMS = 500  # units of one item job
_SAFE = re.compile(r"[^A-Za-z0-9._@-]+")

# Each kind's options and their defaults (the CLI's); anything else is refused by name.
DEFAULTS: dict[str, dict[str, Any]] = {
    "retouch": {"retouch": {}, "same_look": False, "look": None},
    "lookbook": {"items": [], "size": 1024, "models": [], "looks": None},
    "product-video": {"seconds": 5.0, "size": 720, "style": "turn", "fps": 30, "metal": None},
    "turntable": {"what": "turn", "seconds": 4.0, "size": 720, "fps": 30, "metals": "all", "views": None},
    "catalog-build": {},
}


def file_stem(item: str) -> str:
    """An item id as a file name, safe on every file system and in a URL."""
    return _SAFE.sub("_", item).strip("._") or "item"


def _rel(path: Path, job_dir: Path) -> str:
    return path.relative_to(job_dir).as_posix()


def _inside(job_dir: Path, rel: Any, what: str) -> Path:
    """job_dir/rel, refused (InputError) unless it is a relative path that stays inside job_dir."""
    if not isinstance(rel, str) or not rel:
        raise InputError(f"the unit's {what} must be a path inside the job's folder, got {rel!r}")
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts:
        raise InputError(f"the unit's {what} {rel!r} is not inside the job's folder")
    return job_dir / p


def options_for(kind: str, options: dict[str, Any] | None) -> dict[str, Any]:
    """The kind's options: its defaults with these over them. InputError for an unknown kind or option."""
    if kind not in DEFAULTS:
        raise InputError(f"unknown job kind {kind!r}: use one of {', '.join(KINDS)}")
    if options is not None and not isinstance(options, dict):
        raise InputError(f"a {kind} job's options are an object, got {type(options).__name__}")
    unknown = sorted(set(options or {}) - set(DEFAULTS[kind]))
    if unknown:
        raise InputError(f"unknown option {', '.join(map(repr, unknown))} for a {kind} job; it takes "
                         f"{', '.join(DEFAULTS[kind]) or 'none'}")
    return {**DEFAULTS[kind], **(options or {})}


# ------------------------------------------------------------------ the unit


def run_unit(kind: str, options: dict[str, Any], spec: dict[str, Any], job_dir: str | os.PathLike[str],
             settings: Settings | None = None) -> dict[str, Any]:
    """Do one unit of a `kind` job (see the module docstring for each kind's spec and result); its files under
    job_dir. settings: where the catalog is (None: Settings() from this process's environment)."""
    opts = options_for(kind, options)
    if not isinstance(spec, dict):
        raise InputError(f"a unit's spec is an object, got {type(spec).__name__}")
    folder = Path(job_dir)
    (folder / OUT).mkdir(parents=True, exist_ok=True)
    if kind == "retouch":
        return _retouch(opts, spec, folder)
    if settings is None:
        from tryon.config import Settings

        settings = Settings()
    if kind == "lookbook":
        return _lookbook(opts, spec, folder, settings)
    item = spec.get("item")
    if not isinstance(item, str) or not item:
        raise InputError(f"a {kind} unit names its catalog item: {{\"item\": ID}}, got {spec!r}")
    if kind == "catalog-build":
        return _catalog_build(item, folder)
    if kind == "product-video":
        return _product_video(opts, item, folder, settings)
    return _turntable(opts, item, folder, settings)


def retouch_options(fields: dict[str, Any]) -> RetouchOptions:
    """RetouchOptions from stored or submitted fields (InputError names a bad one; TypeError an unknown one)."""
    from tryon.retouch.types import RetouchOptions

    unknown = sorted(set(fields) - {f.name for f in dataclasses.fields(RetouchOptions)})
    if unknown:
        raise InputError(f"unknown retouch option {', '.join(map(repr, unknown))}")
    return RetouchOptions(**fields)


def jsonable(value: Any) -> Any:
    """Checks and steps may hold numpy scalars, arrays and tuples: plain JSON values."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if getattr(value, "ndim", 0) > 0 and hasattr(value, "tolist"):  # numpy arrays
        return value.tolist()
    if hasattr(value, "item") and callable(value.item):  # numpy scalars and 0-d arrays
        return value.item()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def retouch_bytes(data: bytes, name: str, options: RetouchOptions,
                  look: dict[str, Any] | None = None) -> tuple[bytes, dict[str, Any]]:
    """One photo's bytes -> the encoded result and {"checks", "passed", "metal", "steps"} (JSON values), brought
    to `look` (the retouch Look's fields) when given. InputError for a file that cannot be used (corrupt, not an
    image, too many pixels, nothing to cut out)."""
    from tryon.retouch.pipeline import retouch
    from tryon.retouch.types import Look
    from tryon.studio.retouch_batch import decode_photo, encode_result

    target = None if look is None else Look(float(look["exposure"]), tuple(look["white_rgb"]),  # type: ignore[arg-type]
                                            float(look["fill_share"]))
    result = retouch(decode_photo(data, name), options, target)
    meta = {"checks": jsonable(result.checks), "passed": bool(result.passed), "metal": str(result.metal),
            "steps": jsonable(result.steps)}
    return encode_result(result, options), meta


def shared_look(photos: list[tuple[str, str]]) -> dict[str, Any] | None:
    """The look a retouch job's photos share ((input path, name) each): the median of their looks, as the retouch
    Look's fields; None when no photo can be read (each one's own error comes when it is retouched)."""
    from tryon.retouch.pipeline import batch_look, photo_look
    from tryon.studio.retouch_batch import decode_photo

    looks = []
    for src, name in photos:
        try:
            looks.append(photo_look(decode_photo(Path(src).read_bytes(), name)))
        except (TryOnError, OSError, MemoryError):
            continue
    return asdict(batch_look(looks)) if looks else None


def _retouch(opts: dict[str, Any], spec: dict[str, Any], job_dir: Path) -> dict[str, Any]:
    """spec {"input": path, "name": the photo's name, "output": path (default out/STEM.EXT)} ->
    {"output", "checks", "passed", "metal", "steps"}; options {"retouch": RetouchOptions' fields, "look": a
    shared look's fields or None}."""
    src = _inside(job_dir, spec.get("input"), "input")
    name = str(spec.get("name") or src.name)
    options = retouch_options(dict(opts["retouch"] or {}))
    dst = _inside(job_dir, spec.get("output") or f"{OUT}/{Path(name).stem}.{options.ext}", "output")
    try:
        data = src.read_bytes()
    except OSError as e:
        raise InputError(f"{name}: cannot read the upload ({e.strerror or e})") from None
    try:
        encoded, meta = retouch_bytes(data, name, options, opts["look"])
    except TryOnError:
        raise
    except MemoryError:
        raise InputError("the photo needs more memory than this server has; send a smaller one") from None
    except Exception as e:  # a library choking on the file: one clear line, as the retouch worker says it
        log.exception("retouch unit %s failed", name)
        raise InputError(f"this photo could not be retouched ({type(e).__name__}: {e})") from None
    dst.parent.mkdir(parents=True, exist_ok=True)
    media.write_bytes(dst, encoded)
    return {"output": _rel(dst, job_dir), **meta}


# ------------------------------------------------------------------ lookbook


def _setup(settings: Settings) -> Any:
    from tryon.studio.lookbook_batch import Setup

    return Setup(str(settings.assets_dir), str(settings.user_catalog_dir), settings.hfov_deg, settings.use_compositor)


def job_look(job_dir: Path, models: list[str]) -> dict[str, Any]:
    """A lookbook job's looks: {"models": {name: that photo's look (or {} where it cannot be read)}, "look": the
    set's (their median), or None}. Measured once and kept in job_dir/look.json; deterministic, so units measuring
    it at the same time write the same file."""
    from tryon.studio.lookbook import Look, measure_look, set_look
    from tryon.studio.lookbook_batch import MAX_PIXELS

    def plain(look: Look) -> dict[str, Any]:  # as JSON has it (lists, not tuples): read back, it compares equal
        out: dict[str, Any] = json.loads(json.dumps(asdict(look)))
        return out

    path = job_dir / LOOK_FILE
    try:
        kept: dict[str, Any] = json.loads(path.read_text())
        if sorted(kept.get("models", {})) == sorted(models):
            return kept
    except (OSError, ValueError):
        pass
    looks: dict[str, Any] = {}
    measured = []
    for name in models:
        photo = _inside(job_dir, f"models/{name}", "model photo")
        try:
            look = measure_look(media.decode_image(photo.read_bytes(), MAX_PIXELS, name=name))
        except (InputError, OSError):
            looks[name] = {}  # its pairs fail with the reason when shot
            continue
        looks[name] = plain(look)
        measured.append(look)
    out = {"models": looks, "look": plain(set_look(measured)) if measured else None}
    media.write_bytes(path, json.dumps(out, indent=1).encode())
    return out


def _lookbook(opts: dict[str, Any], spec: dict[str, Any], job_dir: Path, settings: Settings) -> dict[str, Any]:
    """spec {"model": a model photo's name under job_dir/models} -> {"pairs": manifest entries, one per piece};
    options {"items": the pieces, "size": the pictures' side, "models": every model photo of the job}."""
    from tryon.studio.lookbook_batch import SIZE_RANGE, Model, shoot_file

    name = spec.get("model")
    models = [str(m) for m in opts["models"] or []]
    if not isinstance(name, str) or name not in models:
        raise InputError(f"a lookbook unit names one of the job's model photos, got {name!r}")
    size = opts["size"]
    if isinstance(size, bool) or not isinstance(size, int) or not SIZE_RANGE[0] <= size <= SIZE_RANGE[1]:
        raise InputError(f"size {size!r}: pictures are {SIZE_RANGE[0]} to {SIZE_RANGE[1]} px")
    items = [str(s) for s in opts["items"] or []]
    if not items:
        raise InputError("a lookbook job names at least one piece")
    looks = opts["looks"] or job_look(job_dir, models)
    model = Model(_inside(job_dir, f"models/{name}", "model photo"), name)
    pairs = shoot_file(_setup(settings), model, items, str(job_dir / OUT), size, looks["models"].get(name),
                       looks["look"])
    return {"pairs": pairs}


# ------------------------------------------------------------------ catalog items

_RENDERER: tuple[int, int, Renderer] | None = None  # (process, thread, renderer): one per worker, reused


def renderer() -> Renderer:
    """This worker's renderer, made on its first unit (its EGL context belongs to the thread that made it)."""
    global _RENDERER
    from tryon.render.renderer import Renderer

    key = (os.getpid(), threading.get_ident())
    if _RENDERER is None or _RENDERER[:2] != key:
        _RENDERER = (*key, Renderer())
    return _RENDERER[2]


def close_renderer() -> None:
    """Let this worker's renderer go (its EGL context)."""
    global _RENDERER
    if _RENDERER is not None and _RENDERER[:2] == (os.getpid(), threading.get_ident()):
        _RENDERER[2].close()
    _RENDERER = None


def _catalog(settings: Settings) -> Catalog:
    from tryon.jewelry.catalog import Catalog

    return Catalog.load_with_user(settings.assets_dir, settings.user_catalog_dir)


def _video_info(path: Path, job_dir: Path) -> dict[str, Any]:
    return {"output": _rel(path, job_dir), **asdict(media.probe_video(path))}


def _product_video(opts: dict[str, Any], item: str, job_dir: Path, settings: Settings) -> dict[str, Any]:
    """-> {"output": out/ITEM.mp4, and its VideoInfo}; options seconds, size, style, fps, metal."""
    from tryon.studio.product_video import write_product_video

    catalog = _catalog(settings)
    catalog.get(item)  # an id, never a path on the worker's disk
    out = job_dir / OUT / f"{file_stem(item)}.mp4"
    write_product_video(item, out, catalog, seconds=opts["seconds"], size_px=opts["size"], style=opts["style"],
                        metal=opts["metal"], fps=opts["fps"], renderer=renderer())
    return _video_info(out, job_dir)


def _turntable(opts: dict[str, Any], item: str, job_dir: Path, settings: Settings) -> dict[str, Any]:
    """what "turn" -> {"output": out/ITEM.mp4, and its VideoInfo}; what "stills" -> {"outputs": {variant id:
    {view: out/ITEM/VARIANT-VIEW.png}}}; options seconds, size, fps (turn), metals, views (stills)."""
    from tryon.studio.turntable import STILL_ANGLES, write_stills, write_turntable

    catalog = _catalog(settings)
    if opts["what"] == "turn":
        out = job_dir / OUT / f"{file_stem(item)}.mp4"
        write_turntable(catalog, item, out, opts["seconds"], opts["size"], opts["fps"], renderer=renderer())
        return _video_info(out, job_dir)
    if opts["what"] != "stills":
        raise InputError(f"a turntable job makes 'turn' (a video) or 'stills', got {opts['what']!r}")
    written = write_stills(catalog, item, job_dir / OUT / file_stem(item), opts["metals"], opts["size"],
                           opts["views"] or tuple(STILL_ANGLES), renderer=renderer())
    return {"outputs": {v: {name: _rel(p, job_dir) for name, p in views.items()} for v, views in written.items()}}


def build_specs() -> dict[str, Any]:
    """The built-in items' generator calls by id (tryon.studio.catalog_build.catalog_specs)."""
    from tryon.studio.catalog_build import catalog_specs

    return {item.id: (item, build) for item, build in catalog_specs()}


def _catalog_build(item_id: str, job_dir: Path) -> dict[str, Any]:
    """-> {"item": its catalog entry (measured, priced), "outputs": [its model, its thumbnail]}: built as
    `tryon catalog build` builds it, into a staging folder in job_dir, then each file renamed to job_dir/out."""
    from tryon.jewelry.catalog import THUMBNAILS_DIR
    from tryon.studio.catalog_build import write_items

    specs = build_specs()
    if item_id not in specs:
        raise InputError(f"{item_id!r} is not a built-in item (tryon catalog list shows them)")
    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=job_dir))
    try:
        (item,) = write_items([specs[item_id]], staging)
        outputs = []
        for rel in (PurePosixPath(item.file), PurePosixPath(THUMBNAILS_DIR) / f"{item.id}.png"):
            target = job_dir / OUT / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / rel, target)
            outputs.append(_rel(target, job_dir))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"item": item.to_json(), "outputs": outputs}


# ------------------------------------------------------------------ before and after the units


def prepare_job(kind: str, options: dict[str, Any], specs: list[dict[str, Any]], job_dir: str | os.PathLike[str],
                settings: Settings | None = None) -> dict[str, Any]:
    """The options every unit of a job gets, made once (in a worker) after its last upload and before its first
    unit: a retouch job asked for one look (same_look, more than one photo) gets the median of its photos' looks
    (as `tryon retouch --same-look`); a lookbook job gets its looks (each model photo's and the set's, see
    job_look). Other kinds: the options as they are."""
    opts = options_for(kind, options)
    folder = Path(job_dir)
    if kind == "retouch":
        photos = [(str(_inside(folder, s.get("input"), "input")), str(s.get("name") or s.get("input"))) for s in specs]
        return {**opts, "look": shared_look(photos) if opts["same_look"] and len(photos) > 1 else None}
    if kind == "lookbook":
        return {**opts, "looks": job_look(folder, [str(m) for m in opts["models"] or []])}
    return opts


def check_job(kind: str, options: dict[str, Any] | None, items: list[str], catalog: Catalog
              ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An item job (product-video, turntable, catalog-build) checked before it is recorded: its options (defaults
    filled in) and one unit spec per item, each once. InputError / UnknownItemError naming what is wrong. For
    catalog-build no items means every built-in item."""
    if kind not in ITEM_KINDS:
        raise InputError(f"{kind!r} jobs are not made from catalog items: use one of {', '.join(ITEM_KINDS)}"
                         if kind in KINDS else f"unknown job kind {kind!r}: use one of {', '.join(KINDS)}")
    opts = options_for(kind, options)
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise InputError("items: a list of catalog item ids")
    unique = list(dict.fromkeys(i.strip() for i in items if i.strip()))
    if kind == "catalog-build":
        built = build_specs()
        unique = unique or list(built)
        unknown = [i for i in unique if i not in built]
        if unknown:
            raise InputError(f"not built-in items: {', '.join(unknown)} (tryon catalog list shows them)")
    elif not unique:
        raise InputError("name at least one catalog item (tryon catalog list)")
    if len(unique) > MAX_ITEMS:
        raise InputError(f"a job takes at most {MAX_ITEMS} items ({len(unique)} sent)")
    if kind == "product-video":
        _check_product_video(opts, unique, catalog)
    elif kind == "turntable":
        _check_turntable(opts, unique, catalog)
    return opts, [{"item": i} for i in unique]


def _number(opts: dict[str, Any], name: str, kind: type, lo: float, hi: float, what: str) -> None:
    """opts[name] a number (kind float) or a whole number (kind int) in lo..hi; InputError saying `what`."""
    value = opts[name]
    if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int):
        raise InputError(f"option {name!r}: a {'number' if kind is float else 'whole number'}, got {value!r}")
    if not lo <= value <= hi:
        raise InputError(f"option {name!r}: {what} is {lo:g} to {hi:g}, got {value!r}")


def _check_size(opts: dict[str, Any], lo: int, hi: int, even: bool) -> None:
    _number(opts, "size", int, lo, hi, "a picture's side in pixels")
    if even and opts["size"] % 2:
        raise InputError(f"option 'size': a video's size must be an even number of pixels (H.264 in yuv420p), "
                         f"got {opts['size']}")


def _check_product_video(opts: dict[str, Any], items: list[str], catalog: Catalog) -> None:
    from tryon.studio import product_video as pv
    from tryon.studio.turntable import FPS_RANGE

    _number(opts, "seconds", float, *pv.SECONDS_RANGE, "a product video's length in seconds")
    _number(opts, "fps", int, *FPS_RANGE, "the frame rate")
    _check_size(opts, *pv.SIZE_RANGE_PX, even=True)
    if opts["style"] not in pv.STYLES:
        raise InputError(f"unknown style {opts['style']!r}: use one of {', '.join(pv.STYLES)}")
    for i in items:
        item = catalog.get(i)
        if opts["metal"] is not None:
            catalog.variant(item.id, metal=str(opts["metal"]).replace("-", "_"), stone=item.stone,
                            size_mm=item.size_mm)


def _check_turntable(opts: dict[str, Any], items: list[str], catalog: Catalog) -> None:
    from tryon.studio import turntable as tt

    if opts["what"] == "turn":
        _number(opts, "seconds", float, *tt.SECONDS_RANGE, "a turn's length in seconds")
        _number(opts, "fps", int, *tt.FPS_RANGE, "the frame rate")
        _check_size(opts, *tt.SIZE_RANGE_PX, even=True)
        for i in items:
            catalog.get(i)
        return
    if opts["what"] != "stills":
        raise InputError(f"a turntable job makes 'turn' (a video) or 'stills', got {opts['what']!r}")
    _check_size(opts, *tt.SIZE_RANGE_PX, even=False)
    views = opts["views"] if opts["views"] is not None else list(tt.STILL_ANGLES)
    if not isinstance(views, list) or not views or not all(isinstance(v, str) for v in views):
        raise InputError(f"option 'views': a list of {', '.join(tt.STILL_ANGLES)}, got {views!r}")
    unknown = [v for v in views if v not in tt.STILL_ANGLES]
    if unknown:
        raise InputError(f"unknown view {', '.join(map(repr, unknown))}: use {', '.join(tt.STILL_ANGLES)}")
    for i in items:
        tt.metal_variants(catalog, i, opts["metals"])


def finish_job(kind: str, options: dict[str, Any], results: list[tuple[dict[str, Any], dict[str, Any] | None]],
               job_dir: str | os.PathLike[str]) -> list[str]:
    """The files a job has once its units are settled, made from their (spec, result or None) in unit order and
    the options its units got (after prepare_job):
    lookbook: out/manifest.json and out/contact.png (as `tryon lookbook` writes them); catalog-build:
    out/catalog.json (the built items in catalog order). Written whole; the paths made (relative to job_dir).
    Cheap, and the same every time: it may run on the server."""
    folder = Path(job_dir)
    opts = options_for(kind, options)
    if kind == "lookbook":
        return _finish_lookbook(opts, results, folder)
    if kind == "catalog-build":
        from tryon.jewelry.catalog import CATALOG_FILE, CATALOG_VERSION, check_schema

        items = [r["item"] for _, r in results if r is not None and "item" in r]
        doc = {"version": CATALOG_VERSION, "items": items}
        path = folder / OUT / CATALOG_FILE
        check_schema(doc, str(path))
        media.write_bytes(path, (json.dumps(doc, indent=2) + "\n").encode())
        return [_rel(path, folder)]
    return []


def finished_files(kind: str, options: dict[str, Any],
                   results: list[tuple[dict[str, Any], dict[str, Any] | None]],
                   job_dir: str | os.PathLike[str]) -> list[str]:
    """finish_job's files, made only when they are missing or were made from other results (a unit retried since):
    the results they were made from are kept as a digest in job_dir/finish.key."""
    folder = Path(job_dir)
    key = hashlib.sha256(json.dumps([kind, options, results], sort_keys=True).encode()).hexdigest()
    names = FINISH_FILES.get(kind, [])
    try:
        same = (folder / FINISH_KEY).read_text() == key
    except OSError:
        same = False
    if same and all((folder / n).is_file() for n in names):
        return names
    made = finish_job(kind, options, results, folder)
    media.write_bytes(folder / FINISH_KEY, key.encode())
    return made


def _finish_lookbook(opts: dict[str, Any], results: list[tuple[dict[str, Any], dict[str, Any] | None]],
                     job_dir: Path) -> list[str]:
    from tryon.studio.lookbook_batch import CONTACT, MANIFEST, MANIFEST_VERSION, write_manifest
    from tryon.studio.lookbook_sheet import contact_sheet

    items, models = list(opts["items"]), list(opts["models"])
    entries: dict[tuple[str, str], dict[str, Any]] = {}
    for _, result in results:
        for e in (result or {}).get("pairs", []):
            entries[(e["item"], e["model"])] = e
    looks = opts["looks"]
    if not looks:
        try:
            looks = json.loads((job_dir / LOOK_FILE).read_text())
        except (OSError, ValueError):
            looks = {"models": {}, "look": None}
    manifest = {"version": MANIFEST_VERSION, "options": {"size": opts["size"]}, "look": looks["look"],
                "models": looks["models"], "contact_sheet": CONTACT,
                "pairs": [entries[(s, m)] for m in models for s in items if (s, m) in entries]}
    out = job_dir / OUT
    write_manifest(out, manifest)
    contact_sheet(out / CONTACT, items, models, entries, out)
    return [f"{OUT}/{MANIFEST}", f"{OUT}/{CONTACT}"]


def unit_files(result: dict[str, Any] | None) -> list[str]:
    """The files a unit's result names (relative to the job's folder), for a job's downloads and result.zip."""
    if not result:
        return []
    out = [result["output"]] if isinstance(result.get("output"), str) else []
    outputs = result.get("outputs")
    if isinstance(outputs, list):
        out += [str(p) for p in outputs]
    elif isinstance(outputs, dict):
        out += [str(p) for views in outputs.values() for p in views.values()]
    out += [f"{OUT}/{e['output']}" for e in result.get("pairs", []) if e.get("status") == "done" and e.get("output")]
    return out


__all__ = ["DEFAULTS", "FINISH_FILES", "ITEM_KINDS", "KINDS", "check_job", "close_renderer", "file_stem",
           "finish_job", "finished_files", "job_look", "jsonable", "options_for", "prepare_job", "renderer",
           "retouch_bytes", "retouch_options", "run_unit", "shared_look", "unit_files"]
