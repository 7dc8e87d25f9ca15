"""`tryon bench --photo-pieces`: how long a product photo takes to become a piece, and what it costs to wear.

1. Import: each shared earring and pendant photo (tryon.quality.photo_piece_eval.PHOTOS) made into a piece
   (tryon.studio.photo_piece) and written into a throw-away user catalog with its thumbnail and price, as
   `tryon catalog import-photo` does; the seconds of each (the goal: at most 5).
2. Wearing: the render stage's median milliseconds a frame (TRIES frames of a 640 x 480 portrait, the pipeline
   in video mode) with a photo piece worn, against a built-in drop earring on the same frames.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from tryon.config import shared_media_dir
from tryon.errors import InputError, TryOnError
from tryon.jewelry.catalog import DEFAULT_ASSETS_DIR, Catalog

__all__ = ["PhotoPieceBench", "format_photo_piece_bench", "run_photo_piece_bench"]

PORTRAIT = "faces/woman_east_asian_smile_3q.jpg"
BUILT_IN = "drop-emerald-round-6mm-yellow-gold"
TRIES = 30


@dataclass(frozen=True)
class PhotoPieceBench:
    import_s: dict[str, float] = field(default_factory=dict)  # photo -> seconds (made, written, thumbnailed)
    refused: dict[str, str] = field(default_factory=dict)
    render_ms: dict[str, float] = field(default_factory=dict)  # item -> median render stage, ms a frame
    triangles: dict[str, int] = field(default_factory=dict)


def run_photo_piece_bench(media: Path | None = None) -> PhotoPieceBench:
    from tryon.media import decode_image
    from tryon.pipeline import Pipeline, PipelineOptions
    from tryon.quality.photo_piece_eval import PHOTOS
    from tryon.studio.catalog_build import add_user_items
    from tryon.studio.photo_piece import photo_piece
    from tryon.types import Frame

    media = media or shared_media_dir()
    if not (media / PORTRAIT).is_file():
        raise InputError(f"the photo piece bench needs the shared media in {media} (set TRYON_MEDIA)")
    out = PhotoPieceBench()
    built_in = Catalog.load()
    with tempfile.TemporaryDirectory() as tmp:
        user = Path(tmp) / "catalog"
        for name, kind, options in PHOTOS:
            path = media / "products" / name
            if not path.is_file():
                continue
            start = time.perf_counter()
            try:
                made = photo_piece(path, kind, **options)
                add_user_items([(made.item, made.build)], user, built_in)
            except TryOnError as e:
                out.refused[name] = str(e)
                continue
            out.import_s[name] = round(time.perf_counter() - start, 2)
            out.triangles[made.item.id] = sum(len(g.faces) for g in made.piece.geometry.values())
        catalog = Catalog.load_with_user(DEFAULT_ASSETS_DIR, user)
        rgb = cv2.resize(decode_image((media / PORTRAIT).read_bytes()), (640, 480), interpolation=cv2.INTER_AREA)
        earrings = [i.id for i in catalog if i.id.startswith("photo-earring-")]
        with Pipeline(catalog, [], PipelineOptions(mode="video")) as pipe:
            for item_id in [BUILT_IN, *earrings]:
                pipe.set_items([item_id])
                times = []
                for k in range(TRIES):
                    result = pipe.process(Frame(rgb, timestamp_ms=33 * k))
                    if k >= 5 and "render" in result.timings_ms:
                        times.append(result.timings_ms["render"])
                if times:
                    out.render_ms[item_id] = round(statistics.median(times), 2)
    return out


def format_photo_piece_bench(r: PhotoPieceBench) -> str:
    lines = ["import (made, written, thumbnailed):"]
    lines += [f"  {name[:56]:56s} {s:5.2f} s" for name, s in r.import_s.items()]
    lines += [f"  refused {name}: {why}" for name, why in r.refused.items()]
    lines.append(f"render stage a frame, 640 x 480, median of {TRIES - 5}:")
    lines += [f"  {item:44s} {ms:6.2f} ms  {r.triangles.get(item, '')}" for item, ms in r.render_ms.items()]
    return "\n".join(lines)
