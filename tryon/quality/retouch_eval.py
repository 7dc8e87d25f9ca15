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
2. Colour, on pairs whose professional result is pixel-aligned (ALIGNED, from the media's SOURCES.md; a size
   check too): mean CIEDE2000 to the professional result over the whole image and on the piece (the mask, or the
   cut-out PNG's alpha > 127, or where the professional JPEG is not white), with the output made with --frame
   keep on white (the cut-out PNGs are composited on white; the JPEGs are on white).
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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from tryon.config import shared_media_dir
from tryon.quality import retouch_measures as rm
from tryon.quality.contact_sheet import sheet, tile

log = logging.getLogger(__name__)

DEFAULT_MEDIA = shared_media_dir() / "products"
EXACT = ("earrings_garnet_drop_rose_gold_two_panel_grey_bg", "ring_sapphire_halo_split_shank_marble_bg",
         "ring_sapphire_solitaire_side_view_light_grey_bg", "watch_gold_pave_dial_on_sand")
COARSE = ("rings_eternity_pair_white_gold_white_bg", "rings_wedding_bands_yellow_gold_white_bg")
# SOURCES.md says these professional results have the input's size and framing; the others are slide halves
# of another width or "not (guaranteed) pixel-aligned", and a colour distance to a shifted image measures the shift
ALIGNED = EXACT + ("earrings_clover_diamond_studs_yellow_gold_grey_reflective",
                   "bracelet_diamond_bangle_yellow_gold_grey_black_bg",
                   "ring_halo_pave_side_view_in_clear_holder_grey_bg",
                   "earrings_letter_diamond_studs_rose_gold_pink_grey_bg",
                   "ring_three_stone_channel_white_gold_dust_grey_bg")  # "about 1 px offset": kept
CLEAN = ("ring_emerald_pave_rose_gold_white_bg", "ring_tanzanite_sapphire_cocktail_white_bg",
         "rings_eternity_pair_white_gold_white_bg", "rings_wedding_bands_yellow_gold_white_bg",
         "ring_peridot_eternity_yellow_gold_grey_gradient")  # SOURCES.md's state "clean"
METHODS = ("product", "colour_key", "colour_key_cfm")
IOU_GOAL = 0.95
SSIM_GOAL = 0.99
SHEET_ROWS = 8
VIEW_PX = 480  # the contact sheet's copies of each image are kept at most this size
PHOTO_EXTS = (".jpg", ".jpeg", ".png", ".webp")


# -- the parts under test ---------------------------------------------------------------------------------


@dataclass
class Parts:
    """The studio's functions, each None where its module is not there (yet); `missing` says why."""

    retouch: Callable[..., Any] | None = None
    options: Callable[..., Any] | None = None
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
    for attr, module, name in (("options", "tryon.retouch.types", "RetouchOptions"),
                               ("retouch", "tryon.retouch.pipeline", "retouch"),
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


def _small(img: np.ndarray) -> np.ndarray:
    s = VIEW_PX / max(img.shape[:2])
    img = img[..., :3] if img.ndim == 3 else np.repeat(img[..., None], 3, axis=2)
    if s >= 1:
        return np.ascontiguousarray(img)
    return cv2.resize(img, (max(1, round(img.shape[1] * s)), max(1, round(img.shape[0] * s))),
                      interpolation=cv2.INTER_AREA)


def _checks_row(checks: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    failed = [k for k, c in checks.items() if not c.get("ok")]
    return {"ok": not failed, "failed": failed,
            "checks": {k: {"ok": bool(c.get("ok")), "value": c.get("value")} for k, c in checks.items()}}


# -- one photo ----------------------------------------------------------------------------------------------


def _baseline_image(parts: Parts, rgb: np.ndarray, alpha: np.ndarray, options: Any) -> tuple[np.ndarray, Any]:
    """A baseline's output: the photo itself as the foreground (no cleaning, no spill removal), composed."""
    assert parts.compose is not None
    image, alpha_out = parts.compose(rgb.astype(np.float32) / 255.0, alpha, options)
    return image, alpha_out


def evaluate_photo(parts: Parts, photo: Photo) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(row, views): one photo's numbers, and small copies of input, product, baseline and professional for the
    contact sheet."""
    t0 = time.perf_counter()
    rgb = read_photo(photo.path)
    h, w = rgb.shape[:2]
    row: dict[str, Any] = {"name": photo.name, "size": [w, h], "errors": {}}
    views: dict[str, np.ndarray] = {"input": _small(rgb)}
    Opt = parts.options
    assert Opt is not None
    fill, keep = Opt(), Opt(frame="keep")

    # the baselines' mattes once: the matte, the default output and the kept frame all use them
    alphas: dict[str, np.ndarray] = {}
    for m in METHODS[1:]:
        fn = parts.baseline(m)
        if fn is not None:
            try:
                alphas[m] = fn(rgb)
            except Exception as e:  # noqa: BLE001  (an evaluation reports a failing part and goes on)
                row["errors"][m] = f"{type(e).__name__}: {e}"

    # marketplace checks on every default output
    market: dict[str, Any] = {}
    if parts.retouch is not None:
        try:
            out = parts.retouch(rgb, fill)
            market["product"] = _checks_row(out.checks)
            views["product"] = _small(out.image)
        except Exception as e:  # noqa: BLE001
            row["errors"]["product"] = f"{type(e).__name__}: {e}"
            market["product"] = {"ok": False, "failed": ["no output"], "checks": {}}
    if parts.compose is not None and parts.checks is not None:
        for m, a in alphas.items():
            try:
                image, a_out = _baseline_image(parts, rgb, a, fill)
                market[m] = _checks_row(parts.checks(image, a_out, fill))
                views.setdefault(m, _small(image))
            except Exception as e:  # noqa: BLE001
                row["errors"][m] = f"{type(e).__name__}: {e}"
                market[m] = {"ok": False, "failed": ["no output"], "checks": {}}
    row["marketplace"] = market

    # the matte against the professional mask
    if photo.mask is not None:
        mask = cv2.imread(str(photo.mask), cv2.IMREAD_GRAYSCALE)
        row["matte"] = {"mask": "exact" if photo.name in EXACT else "coarse"}
        if mask is None or mask.shape != (h, w):
            row["matte"]["skipped"] = f"mask unreadable or not {w}x{h}"
        else:
            mattes = dict(alphas)
            if parts.cut_out is not None:
                try:
                    mattes["product"] = parts.cut_out(rgb).alpha
                except Exception as e:  # noqa: BLE001  (nothing found scores as an empty matte)
                    row["errors"]["cut_out"] = f"{type(e).__name__}: {e}"
                    mattes["product"] = np.zeros((h, w), np.float32)
            for m in METHODS:
                if m in mattes:
                    bf = rm.boundary_f(mattes[m], mask)
                    row["matte"][m] = {"iou": rm.matte_iou(mattes[m], mask), "boundary_f": bf["f"],
                                       "precision": bf["precision"], "recall": bf["recall"]}
            row["matte"]["tolerance_px"] = rm.boundary_tolerance_px(mask.shape)
            views.setdefault("professional", _small(mask))

    # colour against the professional result (pixel-aligned pairs only)
    if photo.retouched is not None:
        row["colour"] = _colour(parts, photo, rgb, alphas, keep, views, row["errors"])
    row["seconds"] = round(time.perf_counter() - t0, 2)
    return row, views


def _colour(parts: Parts, photo: Photo, rgb: np.ndarray, alphas: Mapping[str, np.ndarray], keep: Any,
            views: dict[str, np.ndarray], errors: dict[str, str]) -> dict[str, Any]:
    assert photo.retouched is not None
    pro, pro_alpha = read_professional(photo.retouched)
    views["professional"] = _small(pro)
    h, w = rgb.shape[:2]
    if photo.name not in ALIGNED:
        return {"skipped": "not pixel-aligned with the input (SOURCES.md)"}
    if pro.shape[:2] != (h, w):
        return {"skipped": f"professional result is {pro.shape[1]}x{pro.shape[0]}, the input {w}x{h}"}
    if pro_alpha is None and not rm.white_background(pro):
        return {"skipped": "professional result is not on white"}
    region = rm.piece_of_professional(pro, pro_alpha)
    if photo.mask is not None:
        mask = cv2.imread(str(photo.mask), cv2.IMREAD_GRAYSCALE)
        if mask is not None and mask.shape == (h, w):
            region = mask > rm.MASK_AT
    out: dict[str, Any] = {"professional": "cut-out PNG on white" if pro_alpha is not None else "on white",
                           "piece_share": float(region.mean())}
    images: dict[str, np.ndarray] = {}
    if parts.retouch is not None:
        try:
            images["product"] = parts.retouch(rgb, keep).image
        except Exception as e:  # noqa: BLE001
            errors["product_keep"] = f"{type(e).__name__}: {e}"
    if parts.compose is not None:
        for m, a in alphas.items():
            try:
                images[m] = _baseline_image(parts, rgb, a, keep)[0]
            except Exception as e:  # noqa: BLE001
                errors[f"{m}_keep"] = f"{type(e).__name__}: {e}"
    for m, img in images.items():
        if img.shape[:2] != (h, w) or img.ndim != 3 or img.shape[2] != 3:
            out[m] = {"skipped": f"output is {img.shape}, not ({h}, {w}, 3) with --frame keep"}
            continue
        out[m] = rm.delta_e(img, pro, region)
        views[m] = _small(img)  # the kept frame shows side by side with the professional one
    return out


# -- dust -----------------------------------------------------------------------------------------------------


def dust_images(media: Path, photos: Sequence[Photo]) -> list[tuple[str, np.ndarray, np.ndarray | None]]:
    """(label, clean rgb, known piece alpha (H, W) uint8 or None): the clean photos and the professional results."""
    out: list[tuple[str, np.ndarray, np.ndarray | None]] = []
    for p in photos:
        if p.name in CLEAN:
            out.append((p.name, read_photo(p.path), None))
        if p.retouched is not None:
            pro, alpha = read_professional(p.retouched)
            out.append((p.retouched.name, pro, alpha))
    return out


def evaluate_dust(parts: Parts, label: str, clean: np.ndarray, known: np.ndarray | None, seed: int) -> dict[str, Any]:
    """Seeded specks on `clean`, cut out and cleaned as the studio does: specks removed, SSIM of the piece around."""
    row: dict[str, Any] = {"image": label}
    assert parts.cut_out is not None and parts.remove_dust is not None
    try:
        piece = known > rm.MASK_AT if known is not None else parts.cut_out(clean).alpha > rm.ALPHA_AT
    except Exception as e:  # noqa: BLE001
        return {**row, "skipped": f"no piece to put specks on: {type(e).__name__}: {e}"}
    specked, specks = rm.add_specks(clean, piece, seed)
    try:
        alpha = parts.cut_out(specked).alpha
        cleaned, reported = parts.remove_dust(specked, alpha)
    except Exception as e:  # noqa: BLE001
        row["error"] = f"{type(e).__name__}: {e}"
        cleaned, reported = specked, 0
    removed = [rm.speck_removed(clean, specked, cleaned, s) for s in specks]
    for where in ("piece", "background"):
        mine = [r for r, s in zip(removed, specks, strict=True) if s.where == where]
        row[where] = {"specks": len(mine), "removed": int(sum(mine))}
    row["specks"], row["removed"], row["reported"] = len(specks), int(sum(removed)), int(reported)
    row["ssim"] = rm.ssim_on(clean, cleaned, rm.untouched_region(piece, specks))
    return row


# -- the report ---------------------------------------------------------------------------------------------


def summarise(rows: Sequence[Mapping[str, Any]], dust: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    s: dict[str, Any] = {}
    for kind in ("exact", "coarse"):
        mrows = [r["matte"] for r in rows if r.get("matte", {}).get("mask") == kind and "skipped" not in r["matte"]]
        s[f"matte_{kind}"] = {m: {"iou": rm.stats([x[m]["iou"] for x in mrows if m in x]),
                                  "boundary_f": rm.stats([x[m]["boundary_f"] for x in mrows if m in x])}
                              for m in METHODS}
    ex = s["matte_exact"]["product"]["iou"]
    s["matte_exact"]["goal"] = {"rule": f"product IoU >= {IOU_GOAL} on every exact mask",
                                "ok": ex["n"] > 0 and ex["min"] >= IOU_GOAL}
    crows = [r["colour"] for r in rows if "colour" in r and "skipped" not in r["colour"]]
    colour: dict[str, Any] = {m: {part: rm.stats([c[m][part] for c in crows if m in c and "skipped" not in c[m]])
                                  for part in ("whole", "piece")} for m in METHODS}

    def beats(c: Mapping[str, Any], part: str) -> bool:
        p = c.get("product", {}).get(part)
        return p is not None and all(p < c[m][part] for m in METHODS[1:] if c.get(m, {}).get(part) is not None)
    colour["product_closer"] = {part: f"{sum(beats(c, part) for c in crows)}/{len(crows)}" for part in ("whole", "piece")}
    colour["goal"] = {"rule": "product closer to the professional result than both baselines (mean, whole and piece)",
                      "ok": all(colour["product"][p]["mean"] is not None and all(
                          colour[m][p]["mean"] is None or colour["product"][p]["mean"] < colour[m][p]["mean"]
                          for m in METHODS[1:]) for p in ("whole", "piece"))}
    s["colour"] = colour
    market: dict[str, Any] = {}
    for m in METHODS:
        got = [r["marketplace"][m] for r in rows if m in r.get("marketplace", {})]
        per: dict[str, list[int]] = {}
        for g in got:
            for k, c in g["checks"].items():
                per.setdefault(k, [0, 0])[0] += int(c["ok"])
                per[k][1] += 1
        market[m] = {"passed": sum(g["ok"] for g in got), "n": len(got),
                     "per_check": {k: f"{v[0]}/{v[1]}" for k, v in sorted(per.items())}}
    market["goal"] = {"rule": "every product output passes", "ok": market["product"]["n"] == len(rows) > 0
                      and market["product"]["passed"] == len(rows)}
    s["marketplace"] = market
    d = [r for r in dust if "specks" in r]
    total = sum(r["specks"] for r in d)
    s["dust"] = {"images": len(d), "specks": total, "removed": sum(r["removed"] for r in d),
                 "removed_share": None if not total else sum(r["removed"] for r in d) / total,
                 **{f"removed_{w}": f"{sum(r[w]['removed'] for r in d)}/{sum(r[w]['specks'] for r in d)}"
                    for w in ("piece", "background")},
                 "ssim": rm.stats([r["ssim"] for r in d]),
                 "goal": {"rule": f"SSIM of the untouched piece >= {SSIM_GOAL} on every image",
                          "ok": bool(d) and all(r["ssim"] is not None and r["ssim"] >= SSIM_GOAL for r in d)},
                 "baselines": "no cleaning: 0 removed"}
    return s


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
    lines += ["", "Dust: seeded specks removed (piece, background) and SSIM of the untouched piece",
              f"  {'image':<68} {'piece':>6} {'backgr':>7} {'SSIM':>7}"]
    for d in report["dust"]:
        if "specks" not in d:
            lines.append(f"  {d['image'][:68]:<68} skipped: {d.get('skipped', '')[:60]}")
            continue
        p, b = d["piece"], d["background"]
        lines.append(f"  {d['image'][:68]:<68} {p['removed']:>3}/{p['specks']:<2} {b['removed']:>3}/{b['specks']:<3} "
                     f"{_f(d['ssim'], 4):>7}" + (f"  error: {d['error'][:50]}" if "error" in d else ""))
    lines += ["", "Summary" + (f" (missing parts: {', '.join(report['missing'])})" if report["missing"] else "")]
    for kind in ("exact", "coarse"):
        mt = s[f"matte_{kind}"]
        lines.append(f"  matte, {kind} masks (n={mt['product']['iou']['n']}): " + "; ".join(
            f"{short[m]} IoU mean {_f(mt[m]['iou']['mean'])} min {_f(mt[m]['iou']['min'])}, "
            f"BF mean {_f(mt[m]['boundary_f']['mean'])}" for m in METHODS))
    mg = s["matte_exact"]["goal"]
    lines.append(f"    goal {mg['rule']}: {'met' if mg['ok'] else 'NOT met'}")
    c = s["colour"]
    lines.append(f"  CIEDE2000 (n={c['product']['whole']['n']} aligned pairs), mean whole / piece: " + "; ".join(
        f"{short[m]} {_f(c[m]['whole']['mean'], 2)} / {_f(c[m]['piece']['mean'], 2)}" for m in METHODS))
    lines.append(f"    product closer than both baselines on {c['product_closer']['whole']} pairs (whole), "
                 f"{c['product_closer']['piece']} (piece); goal {'met' if c['goal']['ok'] else 'NOT met'}")
    mk = s["marketplace"]
    lines.append("  marketplace passes: " + "; ".join(f"{short[m]} {mk[m]['passed']}/{mk[m]['n']}" for m in METHODS))
    lines.append("    product per check: " + ", ".join(f"{k} {v}" for k, v in mk["product"]["per_check"].items()))
    d = s["dust"]
    share = None if d["removed_share"] is None else 100 * d["removed_share"]
    lines.append(f"  dust: {d['removed']}/{d['specks']} specks removed ({_f(share, 0)}%;"
                 f" piece {d['removed_piece']}, background {d['removed_background']}) on {d['images']} images; "
                 f"SSIM of the untouched piece mean {_f(d['ssim']['mean'], 4)} min {_f(d['ssim']['min'], 4)} "
                 f"(goal >= {SSIM_GOAL}: {'met' if d['goal']['ok'] else 'NOT met'}); baselines remove none")
    lines.append(f"  {len(rows)} photos, {report['seconds']} s")
    return "\n".join(lines)


# -- the contact sheet --------------------------------------------------------------------------------------


def problems(row: Mapping[str, Any]) -> list[str]:
    """What went wrong for one photo, worst first: a failed goal, then errors."""
    out = []
    mt = row.get("matte", {})
    if mt.get("mask") == "exact" and mt.get("product", {}).get("iou", 1.0) < IOU_GOAL:
        out.append(f"IoU {mt['product']['iou']:.3f}")
    c = row.get("colour", {})
    p = c.get("product", {}).get("piece")
    if p is not None and any(c.get(m, {}).get("piece") is not None and c[m]["piece"] <= p for m in METHODS[1:]):
        out.append(f"dE piece {p:.2f} not below a baseline")
    prod = row.get("marketplace", {}).get("product")
    if prod is not None and not prod["ok"]:
        out.append("checks: " + ",".join(prod["failed"]))
    out += [f"{k}: {v}" for k, v in row.get("errors", {}).items()]
    return out


def worst_rows(rows: Sequence[Mapping[str, Any]], n: int = SHEET_ROWS) -> list[Mapping[str, Any]]:
    """The photos a contact sheet shows: with problems first, then the lowest IoU, then the largest dE."""
    def key(r: Mapping[str, Any]) -> tuple[int, float, float]:
        iou = r.get("matte", {}).get("product", {}).get("iou", 1.0)
        de = r.get("colour", {}).get("product", {}).get("piece") or 0.0
        return (-len(problems(r)), iou, -de)
    return sorted(rows, key=key)[:n]


def contact_sheet(rows: Sequence[Mapping[str, Any]], views: Mapping[str, Mapping[str, np.ndarray]]) -> np.ndarray:
    """(H, W, 3) uint8: one row per worst photo: input | product | baseline (key+cfm) | professional (or mask)."""
    tiles = []
    for r in worst_rows(rows):
        v = views.get(r["name"], {})
        probs = problems(r)
        mt, c = r.get("matte", {}), r.get("colour", {})
        for col, label in (("input", r["name"]), ("product", "; ".join(probs) or "product: no problem"),
                           ("colour_key_cfm", "baseline key+cfm"), ("professional", "professional")):
            img = v.get(col)
            nums = {"product": (mt.get("product", {}).get("iou"), c.get("product", {}).get("piece")),
                    "colour_key_cfm": (mt.get("colour_key_cfm", {}).get("iou"),
                                       c.get("colour_key_cfm", {}).get("piece"))}.get(col)
            line2 = "" if nums is None else f"IoU {_f(nums[0])}  dE piece {_f(nums[1], 2)}"
            if img is None:
                img, line2 = np.full((64, 64, 3), 24, np.uint8), "none"
            hh, ww = img.shape[:2]
            tiles.append(tile(img, (ww / 2, hh / 2), max(hh, ww) / 2, [], [label, line2]))
    return sheet(tiles, "retouch eval: worst first (input | product | baseline key+cfm | professional)", columns=4)


# -- the command --------------------------------------------------------------------------------------------


def evaluate(media: Path = DEFAULT_MEDIA, only: Sequence[str] = (), seed: int = 0, dust: bool = True,
             parts: Parts | None = None) -> tuple[dict[str, Any], dict[str, dict[str, np.ndarray]]]:
    """(report, views by photo name) over the photos in `media` (or `only` those)."""
    t0 = time.perf_counter()
    parts = parts or load_parts()
    photos = find_photos(media, only)
    rows, views = [], {}
    for i, p in enumerate(photos):
        if parts.options is None:
            break
        row, views[p.name] = evaluate_photo(parts, p)
        rows.append(row)
        log.info("%d/%d %s: %.1f s", i + 1, len(photos), p.name, row["seconds"])
    dust_rows = []
    if dust and parts.cut_out is not None and parts.remove_dust is not None:
        for k, (label, clean, known) in enumerate(dust_images(media, photos)):
            dust_rows.append(evaluate_dust(parts, label, clean, known, seed + k))
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
