"""`tryon retouch eval`: the retouch studio measured on the shared product photos, against two baselines run in
the same command (issue 22, item 6). It measures; it changes nothing.

`tryon retouch eval [--media DIR] [--only NAME]... [--json] [--sheet PNG] [--seed N] [--no-dust]`

Every photo in --media (default: the shared media's products/; NAME.jpg|png, beside NAME.retouched.* and
NAME.mask.png) is retouched with the default options (--frame fill, white, contact shadow) and its marketplace
checks counted. The baselines are tryon.retouch.baselines' colour_key (a key against the border's colour) and
colour_key_cfm (that key plus closed-form matting), each composited with the same compose step, no cleaning.

1. Matte, on photos with a professional mask: IoU (alpha > 0.5 vs mask > 127) and boundary F-measure (tolerance
   3 px per 1000 px of the longer side) of cut_out and of each baseline. EXACT masks (the retoucher's own cut-out)
   carry the goal, IoU >= 0.95 on every one; COARSE ones (hand-drawn, ring holes filled) are reported apart.
2. Colour, on pairs whose professional result is pixel-aligned (ALIGNED, from the media's SOURCES.md, or the
   same size and measured within 2 px by phase correlation; whole-pixel offsets undone): mean CIEDE2000 to the
   professional result over the whole image and on the piece (the mask, or the cut-out PNG's alpha > 127, or
   where the professional JPEG is not white), with the output made with --frame keep on white (the cut-out PNGs
   are composited on white; the JPEGs are on white).
3. Marketplace checks on every output (tryon.retouch.checks.marketplace_checks): passes n/N.
4. Dust: the clean photos (CLEAN) and the professional results, with seeded synthetic specks on the piece and
   the background: the share of specks tryon.retouch.dust.remove_dust removed, and the SSIM of the piece away
   from the specks (goal >= 0.99). The baselines do no cleaning, so they remove none.

Parts not yet in the package are reported as missing and their measures skipped, so the command always runs.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np
from tqdm import tqdm

from tryon.config import shared_media_dir
from tryon.quality import retouch_measures as rm
from tryon.quality.contact_sheet import sheet, tile
from tryon.quality.retouch_measures import METHODS, problems, summarise, worst_rows
from tryon.retouch.types import RetouchOptions

log = logging.getLogger(__name__)

DEFAULT_MEDIA = shared_media_dir() / "products"
EXACT = ("earrings_garnet_drop_rose_gold_two_panel_grey_bg", "ring_sapphire_halo_split_shank_marble_bg",
         "ring_sapphire_solitaire_side_view_light_grey_bg", "watch_gold_pave_dial_on_sand")
COARSE = ("rings_eternity_pair_white_gold_white_bg", "rings_wedding_bands_yellow_gold_white_bg")
# SOURCES.md says these professional results have the input's size and framing. Other pairs of the same size count
# when phase correlation finds them within ALIGN_MAX_PX (three slide halves are, to 0.1 px); a colour distance to a
# shifted image would measure the shift. A measured offset is undone to the whole pixel.
ALIGNED = EXACT + ("earrings_clover_diamond_studs_yellow_gold_grey_reflective",
                   "bracelet_diamond_bangle_yellow_gold_grey_black_bg",
                   "ring_halo_pave_side_view_in_clear_holder_grey_bg",
                   "earrings_letter_diamond_studs_rose_gold_pink_grey_bg",
                   "ring_three_stone_channel_white_gold_dust_grey_bg")  # "about 1 px offset": kept
CLEAN = ("ring_emerald_pave_rose_gold_white_bg", "ring_tanzanite_sapphire_cocktail_white_bg",
         "rings_eternity_pair_white_gold_white_bg", "rings_wedding_bands_yellow_gold_white_bg",
         "ring_peridot_eternity_yellow_gold_grey_gradient")  # SOURCES.md's state "clean"
SHEET_ROWS = 10
VIEW_PX = 480  # the contact sheet's copies of each image are kept at most this size
PHOTO_EXTS = (".jpg", ".jpeg", ".png", ".webp")


# -- the parts under test ---------------------------------------------------------------------------------


@dataclass
class Parts:
    """The studio's functions, each None where its module is not there (yet); `missing` says why."""

    retouch: Callable[..., Any] | None = None
    cut_out: Callable[..., Any] | None = None
    compose: Callable[..., Any] | None = None
    checks: Callable[..., Any] | None = None
    remove_dust: Callable[..., Any] | None = None
    colour_key: Callable[..., Any] | None = None
    colour_key_cfm: Callable[..., Any] | None = None
    missing: dict[str, str] = field(default_factory=dict)

    def baseline(self, method: str) -> Callable[..., Any] | None:
        return self.colour_key if method == "colour_key" else self.colour_key_cfm


def load_parts() -> Parts:
    parts = Parts()
    for attr, module, name in (("retouch", "tryon.retouch.pipeline", "retouch"),
                               ("cut_out", "tryon.retouch.matte", "cut_out"),
                               ("compose", "tryon.retouch.compose", "compose"),
                               ("checks", "tryon.retouch.checks", "marketplace_checks"),
                               ("remove_dust", "tryon.retouch.dust", "remove_dust"),
                               ("colour_key", "tryon.retouch.baselines", "colour_key"),
                               ("colour_key_cfm", "tryon.retouch.baselines", "colour_key_cfm")):
        try:
            setattr(parts, attr, getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError) as e:
            parts.missing[f"{module}.{name}"] = str(e)
    return parts


# -- the photos ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Photo:
    name: str
    path: Path
    retouched: Path | None
    mask: Path | None


def find_photos(media: Path, only: Sequence[str] = ()) -> list[Photo]:
    """The inputs in `media` (not NAME.retouched.* nor NAME.mask.png) with their companions, by name; `only`
    keeps those names (file stems). FileNotFoundError when the folder has none."""
    photos = []
    for p in sorted(media.iterdir()) if media.is_dir() else []:
        if p.suffix.lower() not in PHOTO_EXTS or ".retouched." in p.name or ".mask." in p.name:
            continue
        if only and p.stem not in only:
            continue
        ret = next((q for q in sorted(media.glob(f"{p.stem}.retouched.*"))), None)
        mask = media / f"{p.stem}.mask.png"
        photos.append(Photo(p.stem, p, ret, mask if mask.exists() else None))
    if not photos:
        raise FileNotFoundError(f"{media}: no product photos here{' named ' + ', '.join(only) if only else ''}")
    return photos


def read_photo(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 sRGB, as the studio reads it (EXIF orientation, ICC to sRGB)."""
    from tryon.media import read_image

    return read_image(path)


def read_professional(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """The professional result on white ((H, W, 3) uint8) and its alpha ((H, W) uint8) when it is a cut-out."""
    from PIL import Image

    with Image.open(path) as im:
        has_alpha = im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
        arr = np.asarray(im.convert("RGBA" if has_alpha else "RGB"))
    if arr.shape[2] == 4:
        return rm.on_white(arr), arr[..., 3].copy()
    return arr, None


@dataclass
class Views:
    """Small copies (at most VIEW_PX) of one photo's images for the contact sheet, by column. `framed`: the columns
    in the input's frame, which the sheet crops to `focus` (the piece's box, (x0, y0, x1, y1) as fractions of the
    frame); the others (a --frame fill output) are shown whole."""

    images: dict[str, np.ndarray] = field(default_factory=dict)
    framed: set[str] = field(default_factory=set)
    labels: dict[str, str] = field(default_factory=dict)
    focus: tuple[float, float, float, float] | None = None

    def put(self, column: str, img: np.ndarray, framed: bool, label: str = "") -> None:
        self.images[column] = _small(img)
        (self.framed.add if framed else self.framed.discard)(column)
        if label:
            self.labels[column] = label

    def aim(self, piece: np.ndarray) -> None:
        """Focus on the piece ((H, W) bool), unless already aimed."""
        ys, xs = np.nonzero(piece)
        if self.focus is None and len(xs):
            h, w = piece.shape
            self.focus = (xs.min() / w, ys.min() / h, (xs.max() + 1) / w, (ys.max() + 1) / h)


def _small(img: np.ndarray) -> np.ndarray:
    s = VIEW_PX / max(img.shape[:2])
    img = img[..., :3] if img.ndim == 3 else np.repeat(img[..., None], 3, axis=2)
    if s >= 1:
        return np.ascontiguousarray(img)
    return cv2.resize(img, (max(1, round(img.shape[1] * s)), max(1, round(img.shape[0] * s))),
                      interpolation=cv2.INTER_AREA)


# -- one photo ----------------------------------------------------------------------------------------------


LABELS = {"product": "product", "colour_key": "baseline key", "colour_key_cfm": "baseline key+cfm"}
T = TypeVar("T")


def _attempt(errors: dict[str, str], key: str, fn: Callable[[], T]) -> T | None:
    """fn(), or None with its failure noted under `key`: an evaluation reports a failing part and goes on."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001
        errors[key] = f"{type(e).__name__}: {e}"
        return None


def _output(parts: Parts, method: str, rgb: np.ndarray, alphas: Mapping[str, np.ndarray],
            options: RetouchOptions) -> tuple[np.ndarray, dict[str, Any]] | None:
    """A method's output image and its marketplace checks. A baseline composes the photo itself as the foreground
    (no cleaning, no spill removal) with its own alpha, through the product's compose step."""
    if method == "product":
        if parts.retouch is None:
            return None
        out = parts.retouch(rgb, options)
        return out.image, dict(out.checks, _steps=out.steps)
    if parts.compose is None or parts.checks is None or method not in alphas:
        return None
    image, alpha_out = parts.compose(rgb.astype(np.float32) / 255.0, alphas[method], options)
    return image, parts.checks(image, alpha_out, options)


def evaluate_photo(parts: Parts, photo: Photo) -> tuple[dict[str, Any], Views]:
    """(row, views): one photo's numbers, and small copies of input, product, baseline and professional for the
    contact sheet."""
    t0 = time.perf_counter()
    rgb = read_photo(photo.path)
    h, w = rgb.shape[:2]
    errors: dict[str, str] = {}
    row: dict[str, Any] = {"name": photo.name, "size": [w, h], "errors": errors, "marketplace": {}}
    views = Views()
    views.put("input", rgb, True)
    # the baselines' mattes once: the matte, the default output and the kept frame all use them
    alphas = {m: a for m in METHODS[1:] if (fn := parts.baseline(m)) is not None
              and (a := _attempt(errors, m, partial(fn, rgb))) is not None}

    # marketplace checks on every default output (fill, white, contact shadow)
    for m in METHODS:
        got = _attempt(errors, m, partial(_output, parts, m, rgb, alphas, RetouchOptions()))
        if got is None:
            if m in errors:
                row["marketplace"][m] = {"ok": False, "failed": ["no output"], "checks": {}}
            continue
        image, checks = got
        if m == "product":
            row["product_s"] = checks.pop("_steps", {}).get("total_s")
        row["marketplace"][m] = rm.checks_summary(checks)
        views.put(m, image, False, f"{LABELS[m]} (fill)")

    # the matte against the professional mask
    if photo.mask is not None:
        mask = cv2.imread(str(photo.mask), cv2.IMREAD_GRAYSCALE)
        matte: dict[str, Any] = {"mask": "exact" if photo.name in EXACT else "coarse"}
        row["matte"] = matte
        if mask is None or mask.shape != (h, w):
            matte["skipped"] = f"mask unreadable or not {w}x{h}"
        else:
            mattes = dict(alphas)
            if (cut_out := parts.cut_out) is not None:  # nothing found scores as an empty matte
                cut = _attempt(errors, "cut_out", lambda: cut_out(rgb).alpha)
                mattes["product"] = np.zeros((h, w), np.float32) if cut is None else cut
            for m in (m for m in METHODS if m in mattes):
                bf = rm.boundary_f(mattes[m], mask)
                matte[m] = {"iou": rm.matte_iou(mattes[m], mask), "boundary_f": bf["f"],
                            "precision": bf["precision"], "recall": bf["recall"]}
            matte["tolerance_px"] = rm.boundary_tolerance_px(mask.shape)
            views.put("professional", mask, True, f"professional mask ({matte['mask']})")
            views.aim(mask > rm.MASK_AT)

    # colour against the professional result (pixel-aligned pairs only)
    if photo.retouched is not None:
        row["colour"] = _colour(parts, photo, rgb, alphas, views, errors)
    row["seconds"] = round(time.perf_counter() - t0, 2)
    return row, views


def _colour(parts: Parts, photo: Photo, rgb: np.ndarray, alphas: Mapping[str, np.ndarray], views: Views,
            errors: dict[str, str]) -> dict[str, Any]:
    assert photo.retouched is not None
    pro, pro_alpha = read_professional(photo.retouched)
    h, w = rgb.shape[:2]
    views.put("professional", pro, False, "professional result")
    if pro.shape[:2] != (h, w):
        return {"skipped": f"not aligned: the professional result is {pro.shape[1]}x{pro.shape[0]}, the input {w}x{h}"}
    dx, dy, response = rm.measured_shift(rgb, pro)
    measured = response >= rm.ALIGN_MIN_RESPONSE and max(abs(dx), abs(dy)) <= rm.ALIGN_MAX_PX
    if not measured and photo.name not in ALIGNED:
        return {"skipped": f"not aligned: measured {dx:+.1f}, {dy:+.1f} px off (phase correlation {response:.2f})"}
    if measured:  # whole pixels only: the documented "about 1 px offset" of one pair
        pro = rm.shift_back(pro, dx, dy)
        pro_alpha = None if pro_alpha is None else rm.shift_back(pro_alpha, dx, dy)
    views.put("professional", pro, True, "professional result")
    if pro_alpha is None and not rm.white_background(pro):
        return {"skipped": "professional result is not on white"}
    mask = None if photo.mask is None else cv2.imread(str(photo.mask), cv2.IMREAD_GRAYSCALE)
    region = mask > rm.MASK_AT if mask is not None and mask.shape == (h, w) else rm.piece_of_professional(pro, pro_alpha)
    views.aim(region)
    out: dict[str, Any] = {"professional": "cut-out PNG on white" if pro_alpha is not None else "on white",
                           "aligned": "SOURCES.md" if photo.name in ALIGNED else "measured",
                           "shift_px": [round(dx, 2), round(dy, 2)] if measured else None,
                           "piece_share": float(region.mean())}
    keep = RetouchOptions(frame="keep")
    for m in METHODS:
        got = _attempt(errors, f"{m}_keep", partial(_output, parts, m, rgb, alphas, keep))
        if got is None:
            continue
        img = got[0]
        if img.shape != (h, w, 3):
            out[m] = {"skipped": f"output is {img.shape}, not ({h}, {w}, 3) with --frame keep"}
            continue
        out[m] = rm.delta_e(img, pro, region)
        views.put(m, img, True, f"{LABELS[m]} (keep)")  # the kept frame shows beside the professional one
    return out


# -- dust -----------------------------------------------------------------------------------------------------


def dust_images(media: Path, photos: Sequence[Photo]) -> Iterator[tuple[str, np.ndarray, np.ndarray | None]]:
    """(label, clean rgb, known piece alpha (H, W) uint8 or None): the clean photos and the professional results,
    read one at a time."""
    for p in photos:
        if p.name in CLEAN:
            yield p.name, read_photo(p.path), None
        if p.retouched is not None:
            pro, alpha = read_professional(p.retouched)
            yield p.retouched.name, pro, alpha


def evaluate_dust(parts: Parts, label: str, clean: np.ndarray, known: np.ndarray | None, seed: int) -> dict[str, Any]:
    """Seeded specks on `clean`, cut out and cleaned as the studio does: specks removed, SSIM of the piece around."""
    row: dict[str, Any] = {"image": label}
    assert parts.cut_out is not None and parts.remove_dust is not None
    try:
        piece = known > rm.MASK_AT if known is not None else parts.cut_out(clean).alpha > rm.ALPHA_AT
    except Exception as e:  # noqa: BLE001
        return {**row, "skipped": f"no piece to put specks on: {type(e).__name__}: {e}"}
    specked, specks = rm.add_specks(clean, piece, seed)
    alpha = None
    try:
        alpha = parts.cut_out(specked).alpha
        cleaned, reported = parts.remove_dust(specked, alpha)
    except Exception as e:  # noqa: BLE001
        row["error"] = f"{type(e).__name__}: {e}"
        cleaned, reported = specked, 0
    return {**row, **rm.score_cleaning(clean, specked, cleaned, piece, specks, alpha), "reported": int(reported)}


# -- the report ---------------------------------------------------------------------------------------------


def _f(v: Any, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def format_tables(report: Mapping[str, Any]) -> str:
    """The report as plain-text tables: per photo (marketplace, matte, colour), dust, then the summary."""
    rows, s = report["photos"], report["summary"]
    short = {"product": "product", "colour_key": "key", "colour_key_cfm": "key+cfm"}
    lines = ["Marketplace checks (default options: fill, white, contact shadow)",
             f"  {'photo':<58} {'product':<30} {'key':>5} {'key+cfm':>8}"]
    for r in rows:
        mk = r.get("marketplace", {})
        prod = mk.get("product")
        ptxt = "-" if prod is None else "pass" if prod["ok"] else "FAIL " + ",".join(prod["failed"])
        btxt = ["-" if m not in mk else "pass" if mk[m]["ok"] else "fail" for m in METHODS[1:]]
        lines.append(f"  {r['name'][:58]:<58} {ptxt[:30]:<30} {btxt[0]:>5} {btxt[1]:>8}")
    lines += ["", "Matte vs professional mask: IoU / boundary F (tolerance px)",
              f"  {'photo':<52} {'mask':<6} " + " ".join(f"{short[m]:>15}" for m in METHODS)]
    for r in rows:
        mt = r.get("matte")
        if not mt:
            continue
        cells = ["skipped" if "skipped" in mt else
                 "-" if m not in mt else f"{mt[m]['iou']:.3f} / {mt[m]['boundary_f']:.3f}" for m in METHODS]
        lines.append(f"  {r['name'][:52]:<52} {mt['mask']:<6} " + " ".join(f"{c:>15}" for c in cells)
                     + f"  ({mt.get('tolerance_px', '-')})")
    lines += ["", "CIEDE2000 to the professional result (--frame keep, white): whole / piece",
              f"  {'photo':<58} " + " ".join(f"{short[m]:>15}" for m in METHODS)]
    for r in rows:
        c = r.get("colour")
        if not c:
            continue
        if "skipped" in c:
            lines.append(f"  {r['name'][:58]:<58} skipped: {c['skipped']}")
            continue
        cells = ["-" if m not in c or "skipped" in c[m] else f"{_f(c[m]['whole'], 2)} / {_f(c[m]['piece'], 2)}"
                 for m in METHODS]
        lines.append(f"  {r['name'][:58]:<58} " + " ".join(f"{x:>15}" for x in cells))
    lines += ["", "Dust: seeded specks removed (on the piece, of those on smooth metal, on the background, background "
                  "specks inside the matte) and SSIM of the untouched piece",
              f"  {'image':<66} {'piece':>6} {'smooth':>6} {'backgr':>6} {'in matte':>8} {'SSIM':>7}"]
    for d in report["dust"]:
        if "specks" not in d:
            lines.append(f"  {d['image'][:66]:<66} skipped: {d.get('skipped', '')[:60]}")
            continue
        cells = [f"{d[k]['removed']}/{d[k]['specks']}" for k in ("piece", "piece_smooth", "background")]
        lines.append(f"  {d['image'][:66]:<66} {cells[0]:>6} {cells[1]:>6} {cells[2]:>6} "
                     f"{d['background'].get('in_matte', '-'):>8} {_f(d['ssim'], 4):>7}"
                     + (f"  error: {d['error'][:50]}" if "error" in d else ""))
    lines += ["", "Summary" + (f" (missing parts: {', '.join(report['missing'])})" if report["missing"] else ""),
              f"  {'':<44}" + "".join(f"{short[m]:>12}" for m in METHODS) + "   goal"]

    def line(label: str, cells: Sequence[str], goal: Mapping[str, Any] | None = None) -> None:
        tail = "" if goal is None else f"   {goal['rule']}: {'met' if goal['ok'] else 'NOT met'}"
        lines.append(f"  {label:<44}" + "".join(f"{c:>12}" for c in cells) + tail)

    for kind in ("exact", "coarse"):
        mt = s[f"matte_{kind}"]
        n = mt["product"]["iou"]["n"]
        line(f"matte IoU, {kind} masks (n={n}): mean", [_f(mt[m]["iou"]["mean"]) for m in METHODS])
        line("  min", [_f(mt[m]["iou"]["min"]) for m in METHODS], mt.get("goal"))
        line("  boundary F mean", [_f(mt[m]["boundary_f"]["mean"]) for m in METHODS])
    c = s["colour"]
    line(f"CIEDE2000 whole (n={c['product']['whole']['n']} aligned pairs): mean",
         [_f(c[m]["whole"]["mean"], 2) for m in METHODS])
    line("  piece: mean", [_f(c[m]["piece"]["mean"], 2) for m in METHODS], c["goal"])
    line("  pairs product closer than both: whole, piece", [c["product_closer"]["whole"], c["product_closer"]["piece"]])
    mk = s["marketplace"]
    line("marketplace checks passed", [f"{mk[m]['passed']}/{mk[m]['n']}" for m in METHODS], mk["goal"])
    lines.append(f"  {'  product, per check':<44}" + ", ".join(f"{k} {v}" for k, v in mk["product"]["per_check"].items()))
    d = s["dust"]
    share = None if d["removed_share"] is None else 100 * d["removed_share"]
    line(f"dust specks removed ({d['images']} images)", [f"{_f(share, 0)}%", "0%", "0%"])
    line("  on the piece, on smooth metal, background", [d["removed_piece"], d["removed_piece_smooth"],
                                                        d["removed_background"]])
    line("  background specks inside the matte", [str(d["background_in_matte"])])
    line("  SSIM of the untouched piece: mean", [_f(d["ssim"]["mean"], 4)])
    line("  min", [_f(d["ssim"]["min"], 4)], d["goal"])
    lines.append(f"  {len(rows)} photos, {report['seconds']} s")
    return "\n".join(lines)


# -- the contact sheet --------------------------------------------------------------------------------------


def _numbers(row: Mapping[str, Any], method: str) -> str:
    mt, c = row.get("matte", {}).get(method, {}), row.get("colour", {}).get(method, {})
    parts = ([f"IoU {mt['iou']:.3f} BF {mt['boundary_f']:.2f}"] if mt else []) + \
        ([f"dE {_f(c.get('whole'), 1)}/{_f(c.get('piece'), 1)}"] if c and "skipped" not in c else [])
    return "  ".join(parts)


def contact_sheet(rows: Sequence[Mapping[str, Any]], views: Mapping[str, Views]) -> np.ndarray:
    """(H, W, 3) uint8, one row per photo, worst first: input | product | baseline key+cfm | professional (its
    result, or its mask). Images in the input's frame are cropped to the piece; a fill output is shown whole."""
    tiles = []
    for r in worst_rows(rows, SHEET_ROWS):
        v = views.get(r["name"], Views())
        for col, line1, line2 in (("input", r["name"], ", ".join(problems(r)) or "no problem"),
                                  ("product", "product", _numbers(r, "product")),
                                  ("colour_key_cfm", "baseline key+cfm", _numbers(r, "colour_key_cfm")),
                                  ("professional", "professional", "")):
            img = v.images.get(col)
            if img is None:
                tiles.append(tile(np.full((64, 64, 3), 24, np.uint8), (32, 32), 32, [], [line1, "none"]))
                continue
            hh, ww = img.shape[:2]
            centre, half = (ww / 2, hh / 2), max(hh, ww) / 2
            if col in v.framed and v.focus is not None:
                x0, y0, x1, y1 = v.focus[0] * ww, v.focus[1] * hh, v.focus[2] * ww, v.focus[3] * hh
                centre, half = ((x0 + x1) / 2, (y0 + y1) / 2), 0.55 * max(x1 - x0, y1 - y0)
            tiles.append(tile(img, centre, half, [], [v.labels.get(col, line1), line2]))
    return sheet(tiles, "retouch eval, worst first: input | product | baseline key+cfm | professional "
                        "(IoU, boundary F, CIEDE2000 whole/piece)", columns=4)


# -- the command --------------------------------------------------------------------------------------------


def evaluate(media: Path = DEFAULT_MEDIA, only: Sequence[str] = (), seed: int = 0, dust: bool = True,
             parts: Parts | None = None) -> tuple[dict[str, Any], dict[str, Views]]:
    """(report, views by photo name) over the photos in `media` (or `only` those)."""
    t0 = time.perf_counter()
    parts = parts or load_parts()
    photos = find_photos(media, only)
    rows: list[dict[str, Any]] = []
    views: dict[str, Views] = {}
    dust = dust and parts.cut_out is not None and parts.remove_dust is not None
    n_dust = sum((p.name in CLEAN) + (p.retouched is not None) for p in photos) if dust else 0
    dust_rows = []
    with tqdm(total=len(photos) + n_dust, unit="image", desc="retouch eval", disable=None, file=sys.stderr) as bar:
        for p in photos:
            row, views[p.name] = evaluate_photo(parts, p)
            rows.append(row)
            log.info("%s: %.1f s", p.name, row["seconds"])
            bar.update()
        for label, clean, known in dust_images(media, photos) if dust else ():
            # each image's own seed: the same specks whichever photos run (--only)
            dust_rows.append(evaluate_dust(parts, label, clean, known, seed + zlib.crc32(label.encode())))
            bar.update()
    report = {"media": str(media), "photos": rows, "dust": dust_rows, "missing": sorted(parts.missing),
              "missing_why": parts.missing, "summary": summarise(rows, dust_rows),
              "seconds": round(time.perf_counter() - t0, 1)}
    return report, views


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tryon retouch eval", description=__doc__.split("\n\n")[0])
    ap.add_argument("--media", type=Path, default=DEFAULT_MEDIA, help="the product photos (default: shared media)")
    ap.add_argument("--only", action="append", default=[], metavar="NAME", help="this photo only (repeatable; stem)")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    ap.add_argument("--sheet", type=Path, default=None, metavar="PNG",
                    help="write a contact sheet of the worst cases (input | product | baseline | professional)")
    ap.add_argument("--seed", type=int, default=0, help="the synthetic specks' seed")
    ap.add_argument("--no-dust", action="store_true", help="skip the dust measure")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        report, views = evaluate(args.media, args.only, args.seed, not args.no_dust)
    except FileNotFoundError as e:
        print(f"tryon retouch eval: {e}", file=sys.stderr)
        return 2
    if args.sheet is not None:
        args.sheet.parent.mkdir(parents=True, exist_ok=True)
        img = contact_sheet(report["photos"], views)
        if not cv2.imwrite(str(args.sheet), cv2.cvtColor(img, cv2.COLOR_RGB2BGR)):
            print(f"tryon retouch eval: cannot write {args.sheet}", file=sys.stderr)
            return 2
        report["sheet"] = str(args.sheet)
    if args.json:
        print(json.dumps(report, indent=1, default=_jsonable))
    else:
        print(format_tables(report))
        if args.sheet is not None:
            print(f"  contact sheet: {args.sheet}")
    return 0


def _jsonable(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"{type(o).__name__} is not JSON")


if __name__ == "__main__":
    raise SystemExit(main())
