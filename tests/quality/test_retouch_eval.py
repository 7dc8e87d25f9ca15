"""tryon retouch eval end to end: on a synthetic folder with stand-in parts (known answers), and on two of the
shared product photos with the studio's own parts (skipped without the media)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from conftest import media_path
from PIL import Image

from tryon.quality.retouch_eval import (
    EXACT,
    METHODS,
    Parts,
    contact_sheet,
    evaluate,
    find_photos,
    format_tables,
    main,
    read_professional,
)
from tryon.quality.retouch_measures import problems, worst_rows
from tryon.retouch.types import RetouchOptions

NAME = EXACT[0]  # the synthetic photo takes an exactly masked photo's name, so its mask counts as exact


def _disc_mask(h: int = 240, w: int = 320) -> np.ndarray:
    yy, xx = np.mgrid[:h, :w]
    r2 = (xx - 160) ** 2 + (yy - 120) ** 2
    return ((r2 <= 70 ** 2) & (r2 >= 35 ** 2)).astype(np.uint8) * 255  # a ring: its hole is background


def _synthetic_media(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    mask = _disc_mask()
    rgb = np.full(mask.shape + (3,), 150, np.uint8)
    rgb[mask > 0] = (210, 170, 60)
    pro = np.full_like(rgb, 255)
    pro[mask > 0] = (225, 185, 70)
    cv2.imwrite(str(tmp_path / f"{NAME}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(tmp_path / f"{NAME}.mask.png"), mask)
    rgba = np.dstack([pro, mask])
    Image.fromarray(rgba, "RGBA").save(tmp_path / f"{NAME}.retouched.png")
    return tmp_path, rgb, mask


def _stand_in_parts(mask: np.ndarray, pro_rgb: np.ndarray) -> Parts:
    """A perfect product (the mask as its matte, the professional result as its output) and two baselines, one
    shifted by 12 px, one empty."""
    perfect = mask.astype(np.float32) / 255.0

    def compose(fg: np.ndarray, alpha: np.ndarray, options: RetouchOptions) -> tuple[np.ndarray, np.ndarray]:
        a = alpha[..., None]
        return np.clip((fg * a + (1 - a)) * 255 + 0.5, 0, 255).astype(np.uint8), alpha

    def checks(image: np.ndarray, alpha: np.ndarray, options: RetouchOptions) -> dict:
        return {"background": {"ok": bool(alpha.max() > 0.5), "value": 1, "rule": "stand-in"}}

    def retouch(rgb: np.ndarray, options: RetouchOptions) -> SimpleNamespace:
        image = pro_rgb.copy() if options.frame == "keep" else cv2.resize(pro_rgb, (400, 400))
        return SimpleNamespace(image=image, checks={"background": {"ok": True, "value": 1, "rule": "stand-in"}},
                               steps={"total_s": 0.0})

    return Parts(retouch=retouch, cut_out=lambda rgb: SimpleNamespace(alpha=perfect),
                 compose=compose, checks=checks, remove_dust=lambda rgb, alpha: (rgb, 0),
                 colour_key=lambda rgb: np.roll(perfect, 12, axis=1),
                 colour_key_cfm=lambda rgb: np.zeros_like(perfect))


def test_perfect_matte_scores_one_and_a_shifted_one_less(tmp_path):
    media, rgb, mask = _synthetic_media(tmp_path)
    pro, _ = read_professional(media / f"{NAME}.retouched.png")
    report, views = evaluate(media, parts=_stand_in_parts(mask, pro), dust=True)
    row = report["photos"][0]
    m = row["matte"]
    assert m["mask"] == "exact"
    assert m["product"]["iou"] == 1.0 and m["product"]["boundary_f"] == 1.0
    assert 0.0 < m["colour_key"]["iou"] < 0.8 and m["colour_key"]["boundary_f"] < 1.0
    assert m["colour_key_cfm"]["iou"] == 0.0
    c = row["colour"]
    assert c["product"]["whole"] == pytest.approx(0.0, abs=1e-3) and c["product"]["piece"] == pytest.approx(0.0, abs=1e-3)
    assert c["colour_key"]["piece"] > 1.0
    s = report["summary"]
    assert s["matte_exact"]["goal"]["ok"] and s["colour"]["goal"]["ok"]
    assert s["colour"]["product_closer"] == {"whole": "1/1", "piece": "1/1"}
    assert s["marketplace"]["product"]["passed"] == 1 and s["marketplace"]["colour_key_cfm"]["passed"] == 0
    # the stand-in cleaner does nothing: every speck stays, and nothing else changed
    d = s["dust"]
    assert d["images"] == 1 and d["specks"] > 0 and d["removed"] == 0
    assert d["ssim"]["min"] == pytest.approx(1.0)
    text = format_tables(report)
    assert NAME in text and "product IoU >= 0.95 on every exact mask: met" in text
    img = contact_sheet(report["photos"], views)
    assert img.ndim == 3 and img.shape[1] >= 4 * 240


def test_find_photos_pairs_companions_and_only(tmp_path):
    media, _, _ = _synthetic_media(tmp_path)
    cv2.imwrite(str(media / "other.jpg"), np.zeros((20, 20, 3), np.uint8))
    photos = find_photos(media)
    assert [p.name for p in photos] == [NAME, "other"]
    assert photos[0].mask is not None and photos[0].retouched is not None and photos[1].mask is None
    assert [p.name for p in find_photos(media, ["other"])] == ["other"]
    with pytest.raises(FileNotFoundError, match="no product photos"):
        find_photos(media, ["absent"])


def test_read_professional_puts_a_cut_out_on_white(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[1:3, 1:3] = (10, 20, 30, 255)
    Image.fromarray(rgba, "RGBA").quantize(4).save(tmp_path / "p.png")  # palette with transparency, as the retoucher's
    rgb, alpha = read_professional(tmp_path / "p.png")
    assert rgb.shape == (4, 4, 3) and alpha is not None
    assert tuple(rgb[0, 0]) == (255, 255, 255) and alpha[1, 1] == 255 and alpha[0, 0] == 0


def test_missing_media_is_a_clear_error(tmp_path, capsys):
    assert main(["--media", str(tmp_path / "none")]) == 2
    assert "no product photos" in capsys.readouterr().err


def test_on_two_shared_photos(tmp_path, capsys):
    media = media_path("products")
    names = ["ring_sapphire_halo_split_shank_marble_bg", "rings_wedding_bands_yellow_gold_white_bg"]
    sheet = tmp_path / "sheet.png"
    args = ["--media", str(media), "--json", "--sheet", str(sheet)]
    for n in names:
        args += ["--only", n]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["missing"] == []
    assert [r["name"] for r in report["photos"]] == names
    exact, coarse = (r["matte"] for r in report["photos"])
    assert exact["mask"] == "exact" and coarse["mask"] == "coarse"
    for m in (exact, coarse):
        for method in METHODS:
            assert 0.0 <= m[method]["iou"] <= 1.0 and 0.0 <= m[method]["boundary_f"] <= 1.0
    colour = report["photos"][0]["colour"]
    for method in METHODS:
        assert colour[method]["whole"] >= 0.0 and colour[method]["piece"] >= 0.0
    assert "colour" not in report["photos"][1]  # no professional result for the wedding bands
    for r in report["photos"]:
        assert set(r["marketplace"]) == set(METHODS)
        assert all(isinstance(c["ok"], bool) for c in r["marketplace"]["product"]["checks"].values())
    dust = report["dust"]
    assert [d["image"] for d in dust] == [f"{names[0]}.retouched.png", names[1]]
    for d in dust:
        assert 0 <= d["removed"] <= d["specks"] and d["specks"] > 0 and 0.0 <= d["ssim"] <= 1.0
    s = report["summary"]
    assert s["marketplace"]["product"]["n"] == 2 and s["matte_exact"]["product"]["iou"]["n"] == 1
    assert 0.0 <= s["dust"]["removed_share"] <= 1.0
    img = cv2.imread(str(sheet))
    assert img is not None and img.shape[1] >= 4 * 240


def test_worst_rows_put_failed_goals_before_colour_distances():
    fine = {"name": "fine", "marketplace": {"product": {"ok": True, "failed": []}}}
    colour = {"name": "colour", "colour": {"product": {"whole": 2.0, "piece": 9.0},
                                           "colour_key": {"whole": 1.0, "piece": 8.0}}}
    checks = {"name": "checks", "marketplace": {"product": {"ok": False, "failed": ["clipping"]}}}
    matte = {"name": "matte", "matte": {"mask": "exact", "product": {"iou": 0.9}}}
    assert problems(checks) == ["fails clipping"] and problems(fine) == []
    assert [r["name"] for r in worst_rows([fine, colour, checks, matte])] == ["matte", "checks", "colour", "fine"]
    assert len(worst_rows([fine, colour, checks, matte], 2)) == 2
