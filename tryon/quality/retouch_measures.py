"""The measures of `tryon retouch eval` (tryon.quality.retouch_eval), as pure functions of arrays: matte IoU and
boundary F-measure against a professional mask, CIEDE2000 to a professional result, and the dust test's seeded
synthetic specks with the share removed and the structure kept (SSIM) around them.

Conventions: rgb (H, W, 3) uint8 sRGB; alpha (H, W) float 0..1; mask (H, W) uint8 0..255 or bool. Thresholds:
the piece is alpha > 0.5 (ALPHA_AT) and mask > 127 (MASK_AT), as the professional masks were thresholded at 128.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

ALPHA_AT = 0.5  # a matte's pixel is the piece above this
MASK_AT = 127  # a mask's pixel is the piece above this (the professional masks are 0/255)
BOUNDARY_PX_PER_1000 = 3.0  # boundary F tolerance: 3 px at a 1000 px longer side, scaled with the image
WHITE_DE = 10.0  # a professional JPEG's pixel further than this (CIEDE2000) from white is the piece (or its shadow)
SMOOTH_SD = 8.0  # grey levels: a piece speck's 17 px ground below this deviation is smooth metal
REMOVED_RATIO = 0.4  # a speck is removed when the error left on its footprint is at most this share of the added
SPECK_KINDS = ("dark_dot", "bright_dot", "fibre")
METHODS = ("product", "colour_key", "colour_key_cfm")  # the studio and the two baselines, in the report's order
IOU_GOAL = 0.95  # issue 22: matte IoU on every exactly masked photo
SSIM_GOAL = 0.99  # issue 22: structure kept by dust removal on the untouched piece


# -- matte ---------------------------------------------------------------------------------------------------


def _binary(m: np.ndarray) -> np.ndarray:
    """A matte (float 0..1) or mask (uint8 0..255 / bool) as bool, by the thresholds above."""
    if m.dtype == bool:
        return m
    if np.issubdtype(m.dtype, np.floating):
        return np.asarray(m > ALPHA_AT)
    return np.asarray(m > MASK_AT)


def _same_shape(a: np.ndarray, b: np.ndarray, what: str) -> None:
    if a.shape[:2] != b.shape[:2]:
        raise ValueError(f"{what}: shapes differ, {a.shape[:2]} and {b.shape[:2]}")


def matte_iou(alpha: np.ndarray, mask: np.ndarray) -> float:
    """Intersection over union of the piece, alpha > 0.5 against mask > 127 (both (H, W)); 1.0 when both are
    empty (nothing to find, nothing found)."""
    _same_shape(alpha, mask, "matte_iou")
    a, m = _binary(alpha), _binary(mask)
    union = int(np.count_nonzero(a | m))
    return 1.0 if union == 0 else int(np.count_nonzero(a & m)) / union


def boundary_tolerance_px(shape: Sequence[int]) -> int:
    """The boundary F-measure's tolerance in pixels for an image of `shape` (H, W, ...): BOUNDARY_PX_PER_1000
    per 1000 px of the longer side, rounded, at least 1 (800 px: 2, 1500 px: 4 or 5)."""
    return max(1, int(round(BOUNDARY_PX_PER_1000 * max(shape[0], shape[1]) / 1000.0)))


def boundary_of(piece: np.ndarray) -> np.ndarray:
    """(H, W) bool: the piece's own pixels that touch the outside (4-neighbours; the image's edge is not an
    outside, so a piece cut by the frame has no boundary there)."""
    p = piece.astype(np.uint8)
    eroded = cv2.erode(p, cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3)), borderType=cv2.BORDER_REPLICATE)
    return (p > 0) & (eroded == 0)


def boundary_f(alpha: np.ndarray, mask: np.ndarray, tolerance_px: int | None = None) -> dict[str, float]:
    """Boundary precision, recall and F-measure (Martin et al.'s, with a distance tolerance): precision is the
    share of the matte's boundary pixels within `tolerance_px` (default boundary_tolerance_px) of the mask's
    boundary, recall the share of the mask's boundary within it of the matte's, F their harmonic mean.
    Both without boundary: all 1; one without: 0."""
    _same_shape(alpha, mask, "boundary_f")
    tol = boundary_tolerance_px(alpha.shape) if tolerance_px is None else tolerance_px
    ours, truth = boundary_of(_binary(alpha)), boundary_of(_binary(mask))
    n_ours, n_truth = int(ours.sum()), int(truth.sum())
    if n_ours == 0 and n_truth == 0:
        return {"precision": 1.0, "recall": 1.0, "f": 1.0, "tolerance_px": float(tol)}
    if n_ours == 0 or n_truth == 0:
        return {"precision": 0.0, "recall": 0.0, "f": 0.0, "tolerance_px": float(tol)}
    # the distance from every pixel to the nearest boundary pixel of the other (L2, exact 5x5 mask)
    to_truth = cv2.distanceTransform((~truth).astype(np.uint8), cv2.DIST_L2, 5)
    to_ours = cv2.distanceTransform((~ours).astype(np.uint8), cv2.DIST_L2, 5)
    precision = float(np.count_nonzero(to_truth[ours] <= tol)) / n_ours
    recall = float(np.count_nonzero(to_ours[truth] <= tol)) / n_truth
    f = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return {"precision": precision, "recall": recall, "f": f, "tolerance_px": float(tol)}


# -- colour to the professional result --------------------------------------------------------------------------


def on_white(rgba: np.ndarray) -> np.ndarray:
    """(H, W, 4) uint8 RGBA (a transparent cut-out) composited on white -> (H, W, 3) uint8; RGB is returned
    as it is."""
    if rgba.shape[2] == 3:
        return rgba
    a = rgba[..., 3:4].astype(np.float32) / 255.0
    return np.clip(rgba[..., :3].astype(np.float32) * a + 255.0 * (1.0 - a) + 0.5, 0, 255).astype(np.uint8)


def lab_of(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 sRGB -> (H, W, 3) float32 CIELAB (D65)."""
    from skimage.color import rgb2lab

    return rgb2lab(rgb.astype(np.float32) / 255.0).astype(np.float32)


def delta_e_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(H, W) float32 CIEDE2000 between two (H, W, 3) uint8 sRGB images."""
    from skimage.color import deltaE_ciede2000

    _same_shape(a, b, "delta_e_map")
    return np.asarray(deltaE_ciede2000(lab_of(a), lab_of(b)), np.float32)


def delta_e(a: np.ndarray, b: np.ndarray, region: np.ndarray | None = None) -> dict[str, float | None]:
    """Mean CIEDE2000 between two (H, W, 3) uint8 sRGB images over the whole image and over `region`
    ((H, W) bool, the piece; None or empty: "piece" is None)."""
    d = delta_e_map(a, b)
    piece = None if region is None or not region.any() else float(d[region].mean())
    return {"whole": float(d.mean()), "piece": piece}


ALIGN_MAX_PX = 2.0  # a professional result measured further off than this is not the input's framing
ALIGN_MIN_RESPONSE = 0.2  # phase correlation's peak below this: no common structure to align on


def _edges(rgb: np.ndarray) -> np.ndarray:
    g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return np.asarray(cv2.magnitude(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1)))


def measured_shift(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """(dx, dy, response): how far the content of `b` lies from that of `a` (both (H, W, 3) uint8, same size),
    in pixels (b(x, y) ~ a(x - dx, y - dy)), by phase correlation of their edge magnitudes (the edges, not the
    colours: a retoucher changes the backdrop and the tones, not where the piece's edges are)."""
    _same_shape(a, b, "measured_shift")
    win = cv2.createHanningWindow((a.shape[1], a.shape[0]), cv2.CV_32F)
    (dx, dy), response = cv2.phaseCorrelate(_edges(a), _edges(b), win)
    return float(dx), float(dy), float(response)


def shift_back(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """`img` moved by (-dx, -dy) rounded to whole pixels (no resampling), the edge repeated into the gap: undoes a
    measured_shift."""
    ix, iy = int(round(dx)), int(round(dy))
    if ix == 0 and iy == 0:
        return img
    h, w = img.shape[:2]
    m = np.array([[1, 0, -ix], [0, 1, -iy]], np.float32)
    return np.asarray(cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE))


def white_background(rgb: np.ndarray, level: int = 250, share: float = 0.9) -> bool:
    """Whether an (H, W, 3) uint8 image is on white: at least `share` of its border pixels have every channel
    >= `level` (the professional JPEGs are; a cut-out slide on a grey card is not)."""
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    return float(np.mean(border.min(axis=1) >= level)) >= share


def piece_of_professional(rgb: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """(H, W) bool: the piece in a professional result. With its alpha ((H, W) uint8 0..255 from a cut-out PNG):
    alpha > 127, which drops the faint added shadow; otherwise (a result on white) the pixels further than
    WHITE_DE from white, opened by 3x3 to drop JPEG ringing. The second includes a shadow or reflection the
    retoucher kept; it is the same region for the product and the baselines."""
    if alpha is not None:
        return np.asarray(alpha > MASK_AT)
    white = np.full_like(rgb, 255)
    far = (delta_e_map(rgb, white) > WHITE_DE).astype(np.uint8)
    return cv2.morphologyEx(far, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) > 0


# -- dust -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Speck:
    """One synthetic speck. coverage: (H, W) float32 0..1 (only its box is nonzero); where: "piece" or
    "background"; kind: one of SPECK_KINDS; centre_xy: pixels; ground_sd: the clean photo's grey-level standard
    deviation around it (0..255): a speck on smooth metal (below SMOOTH_SD) is one a cleaner can tell from the
    surface; on pavé or grain it may not be."""

    coverage: np.ndarray
    where: str
    kind: str
    centre_xy: tuple[int, int]
    ground_sd: float = 0.0

    @property
    def footprint(self) -> np.ndarray:
        """(H, W) bool: the pixels the speck visibly changed."""
        return np.asarray(self.coverage > 0.3)


def _pick(room: np.ndarray, need: float, taken: np.ndarray, rng: np.random.Generator) -> tuple[int, int] | None:
    """A random (x, y) where `room` (distance to the region's edge, px) exceeds `need` and nothing was put."""
    ys, xs = np.nonzero((room > need) & ~taken)
    if len(xs) == 0:
        return None
    i = int(rng.integers(len(xs)))
    return int(xs[i]), int(ys[i])


def add_specks(rgb: np.ndarray, piece: np.ndarray, seed: int, n_piece: int = 6,
               n_background: int = 6) -> tuple[np.ndarray, list[Speck]]:
    """Seeded synthetic dust on a clean photo: (specked (H, W, 3) uint8, the specks).

    piece: (H, W) bool, where the piece is. Specks are dark dots, bright dots (only where the surface is dark
    enough for one to show; a dark dot instead) and short curved fibres, sized by the image (a dot's radius 1-3 px
    per 1000 px of the longer side, a fibre 10-25 px long), anti-aliased, each wholly on the piece or wholly on
    the background (at least 4 px from the edge between them) and never overlapping another. Fewer are made
    where there is no room (a thin chain)."""
    h, w = piece.shape
    rng = np.random.default_rng(seed)
    s = max(h, w) / 1000.0
    p8 = piece.astype(np.uint8)
    rooms = {"piece": cv2.distanceTransform(p8, cv2.DIST_L2, 5),
             "background": cv2.distanceTransform(1 - p8, cv2.DIST_L2, 5)}
    # nor at the image's edge: a speck there is half a speck
    edge = np.zeros((h, w), bool)
    m = max(4, int(30 * s))
    edge[:m], edge[-m:], edge[:, :m], edge[:, -m:] = True, True, True, True
    taken = edge.copy()
    lum = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    out: np.ndarray = rgb.astype(np.float32)
    specks: list[Speck] = []
    for where, n in (("piece", n_piece), ("background", n_background)):
        for _ in range(n):
            kind = SPECK_KINDS[int(rng.integers(len(SPECK_KINDS)))]
            r = max(1.0, float(rng.uniform(1.0, 3.0)) * s)
            length = float(rng.uniform(10.0, 25.0)) * max(s, 0.5)
            need = (length / 2 if kind == "fibre" else r) + 4.0
            at = _pick(rooms[where], need, taken, rng)
            if at is None and kind == "fibre":  # no room for a fibre here: a dot may fit
                kind, need = "dark_dot", r + 4.0
                at = _pick(rooms[where], need, taken, rng)
            if at is None:
                continue
            x, y = at
            cov = np.zeros((h, w), np.float32)
            if kind == "fibre":
                a = float(rng.uniform(0, np.pi))
                bend = float(rng.uniform(-0.3, 0.3)) * length
                d = np.array([np.cos(a), np.sin(a)]) * length / 2
                nrm = np.array([-d[1], d[0]]) / (np.linalg.norm(d) + 1e-6)
                pts = np.array([[x, y] - d, [x, y] + nrm * bend / 2, [x, y] + d])
                curve = np.array([(1 - t) ** 2 * pts[0] + 2 * (1 - t) * t * pts[1] + t ** 2 * pts[2]
                                  for t in np.linspace(0, 1, 12)])
                cv2.polylines(cov, [np.round(curve * 16).astype(np.int32)], False, (1.0,),
                              max(1, int(round(s))), cv2.LINE_AA, shift=4)
            else:
                cv2.circle(cov, (x * 16, y * 16), int(round(r * 16)), (1.0,), -1, cv2.LINE_AA, shift=4)
            around = lum[max(0, y - 8):y + 9, max(0, x - 8):x + 9]
            local = float(around.mean())
            if kind == "bright_dot" and local > 170:  # a bright dot on a bright surface would not show
                kind = "dark_dot"
            value = np.full(3, 245.0 if kind == "bright_dot" else 0.2 * min(local, 200.0), np.float32)
            out = out * (1 - cov[..., None]) + value * cov[..., None]
            # keep the next speck away from this one (and from its SSIM window)
            box = cov > 0
            taken |= cv2.dilate(box.astype(np.uint8), np.ones((int(need) * 2 + 9,) * 2, np.uint8)) > 0
            specks.append(Speck(cov, where, kind, (x, y), float(around.std())))
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), specks


def speck_removed(clean: np.ndarray, specked: np.ndarray, cleaned: np.ndarray, speck: Speck) -> bool:
    """Whether the cleaning removed `speck`: the mean error left on its footprint (against the clean photo) is at
    most REMOVED_RATIO of what the speck added. All (H, W, 3) uint8."""
    fp = speck.footprint
    if not fp.any():
        return True
    c = clean[fp].astype(np.float32)
    added = float(np.abs(specked[fp].astype(np.float32) - c).mean())
    left = float(np.abs(cleaned[fp].astype(np.float32) - c).mean())
    return added == 0.0 or left <= REMOVED_RATIO * added


def untouched_region(piece: np.ndarray, specks: Sequence[Speck], margin_px: int = 8) -> np.ndarray:
    """(H, W) bool: the piece away from every speck (their footprints grown by `margin_px`, past SSIM's 7 px
    window), where cleaning must change nothing."""
    near = np.zeros(piece.shape, np.uint8)
    for sp in specks:
        near |= sp.footprint.astype(np.uint8)
    k = 2 * margin_px + 1
    grown = cv2.dilate(near, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    return piece & (grown == 0)


def score_cleaning(clean: np.ndarray, specked: np.ndarray, cleaned: np.ndarray, piece: np.ndarray,
                   specks: Sequence[Speck], alpha: np.ndarray | None = None) -> dict[str, Any]:
    """How a cleaning did on `specked` (clean + `specks`; all (H, W, 3) uint8, piece (H, W) bool): specks and
    removed, overall, on the piece (and of those on smooth metal) and on the background, and the SSIM of the piece
    away from the specks. alpha: the matte the cleaner was given ((H, W) float 0..1): background specks it took
    for the piece ("in_matte", mean alpha over the footprint > 0.5) are counted, as a cleaner treats them as the
    piece's."""
    removed = [speck_removed(clean, specked, cleaned, s) for s in specks]
    out: dict[str, Any] = {"specks": len(specks), "removed": int(sum(removed))}
    groups = {"piece": lambda s: s.where == "piece", "piece_smooth": lambda s: s.where == "piece"
              and s.ground_sd < SMOOTH_SD, "background": lambda s: s.where == "background"}
    for name, pick in groups.items():
        mine = [r for r, s in zip(removed, specks, strict=True) if pick(s)]
        out[name] = {"specks": len(mine), "removed": int(sum(mine))}
    if alpha is not None:
        out["background"]["in_matte"] = sum(s.where == "background" and float(alpha[s.footprint].mean()) > ALPHA_AT
                                            for s in specks)
    out["ssim"] = ssim_on(clean, cleaned, untouched_region(piece, specks))
    return out


def ssim_on(a: np.ndarray, b: np.ndarray, region: np.ndarray) -> float | None:
    """Mean SSIM (skimage.metrics.structural_similarity, 7 px window, per channel) of two (H, W, 3) uint8 images
    over `region` ((H, W) bool); None when the region is empty."""
    from skimage.metrics import structural_similarity

    _same_shape(a, b, "ssim_on")
    if not region.any():
        return None
    _, full = structural_similarity(a, b, channel_axis=2, data_range=255, full=True)
    return min(1.0, float(np.asarray(full).mean(axis=2)[region].mean()))  # float sums can pass 1 by 1e-15


# -- statistics -----------------------------------------------------------------------------------------------


def stats(values: Sequence[float | None]) -> dict[str, float | int | None]:
    """n, mean, min, max of the values that are not None (None for each when there are none)."""
    v = [float(x) for x in values if x is not None]
    if not v:
        return {"n": 0, "mean": None, "min": None, "max": None}
    return {"n": len(v), "mean": float(np.mean(v)), "min": min(v), "max": max(v)}


def summarise(rows: Sequence[Mapping[str, Any]], dust: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The report's summary from its per-photo rows and dust rows (as tryon.quality.retouch_eval makes them): per
    method the matte on exact and coarse masks, CIEDE2000 whole and piece, marketplace passes; the dust; each goal
    with its rule and whether it is met."""
    s: dict[str, Any] = {}
    for kind in ("exact", "coarse"):
        mrows = [r["matte"] for r in rows if r.get("matte", {}).get("mask") == kind and "skipped" not in r["matte"]]
        s[f"matte_{kind}"] = {m: {"iou": stats([x[m]["iou"] for x in mrows if m in x]),
                                  "boundary_f": stats([x[m]["boundary_f"] for x in mrows if m in x])}
                              for m in METHODS}
    ex = s["matte_exact"]["product"]["iou"]
    s["matte_exact"]["goal"] = {"rule": f"product IoU >= {IOU_GOAL} on every exact mask",
                                "ok": ex["n"] > 0 and ex["min"] >= IOU_GOAL}
    crows = [r["colour"] for r in rows if "colour" in r and "skipped" not in r["colour"]]
    colour: dict[str, Any] = {m: {part: stats([c[m][part] for c in crows if m in c and "skipped" not in c[m]])
                                  for part in ("whole", "piece")} for m in METHODS}

    def beats(c: Mapping[str, Any], part: str) -> bool:
        p = c.get("product", {}).get(part)
        return p is not None and all(p < c[m][part] for m in METHODS[1:] if c.get(m, {}).get(part) is not None)
    colour["product_closer"] = {part: f"{sum(beats(c, part) for c in crows)}/{len(crows)}" for part in ("whole", "piece")}
    colour["goal"] = {"rule": "product below both baselines, whole and piece",
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
                    for w in ("piece", "piece_smooth", "background")},
                 "background_in_matte": sum(r["background"].get("in_matte", 0) for r in d),
                 "ssim": stats([r["ssim"] for r in d]),
                 "goal": {"rule": f"SSIM of the untouched piece >= {SSIM_GOAL} on every image",
                          "ok": bool(d) and all(r["ssim"] is not None and r["ssim"] >= SSIM_GOAL for r in d)},
                 "baselines": "no cleaning: 0 removed"}
    return s


def problems(row: Mapping[str, Any]) -> list[str]:
    """What went wrong for one photo, briefly: a goal missed (IoU, dE, checks), then the parts that failed."""
    out = []
    mt = row.get("matte", {})
    if mt.get("mask") == "exact" and mt.get("product", {}).get("iou", 1.0) < IOU_GOAL:
        out.append(f"IoU<{IOU_GOAL}")
    c = row.get("colour", {})
    for part in ("piece", "whole"):
        p = c.get("product", {}).get(part)
        if p is not None and any(c.get(m, {}).get(part) is not None and c[m][part] <= p for m in METHODS[1:]):
            out.append(f"dE {part} >= baseline")
    prod = row.get("marketplace", {}).get("product")
    if prod is not None and not prod["ok"]:
        out.append("fails " + ",".join(prod["failed"]))
    out += [f"{k} failed" for k in row.get("errors", {})]
    return out


def worst_rows(rows: Sequence[Mapping[str, Any]], n: int = 10) -> list[Mapping[str, Any]]:
    """The photos a contact sheet shows, worst first: a part that failed or a photo's own goal missed (marketplace
    checks, IoU on an exact mask) counts 2, colour distances not below a baseline 1 together; then the lowest IoU,
    then the largest CIEDE2000 on the piece."""
    def key(r: Mapping[str, Any]) -> tuple[int, float, float]:
        probs = problems(r)
        weight = 2 * sum(not p.startswith("dE") for p in probs) + any(p.startswith("dE") for p in probs)
        iou = r.get("matte", {}).get("product", {}).get("iou", 1.0)
        de = r.get("colour", {}).get("product", {}).get("piece") or 0.0
        return (-weight, iou, -de)
    return sorted(rows, key=key)[:n]


def checks_summary(checks: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Marketplace checks (name -> {"ok", "value", "rule"}) as a report row: ok, the failed names, ok and value
    by name."""
    failed = [k for k, c in checks.items() if not c.get("ok")]
    return {"ok": not failed, "failed": failed,
            "checks": {k: {"ok": bool(c.get("ok")), "value": c.get("value")} for k, c in checks.items()}}
