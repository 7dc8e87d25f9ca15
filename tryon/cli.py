"""The `tryon` command. The only place that configures logging and prints."""

from __future__ import annotations

import os

# MediaPipe's C++ side logs through glog/absl at import; keep the terminal for our own messages.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import dataclasses  # noqa: E402
import errno  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from tryon.errors import InputError, TryOnError  # noqa: E402
from tryon.render.scene import item_model

log = logging.getLogger("tryon")
GRACEFUL_STOP_S = 10


def _port(text: str) -> int:
    """An argparse type: a TCP port to listen on, 1 to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1 to 65535, not {port}")
    return port


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tryon", description="Real-time AR jewelry try-on.")
    p.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("render", help="draw jewelry onto a photo or a video")
    r.add_argument("input", type=Path, help="photo (jpg, png, webp) or video (mp4, webm, mov)")
    r.add_argument("-o", "--output", type=Path, required=True, help="where to write the result")
    r.add_argument("--item", action="append", required=True, metavar="ID[@WHERE]",
                   help="catalog item id (repeatable); rings and wrist pieces take a place: ID@left_index, ID@ring, "
                        "ID@right_wrist (default: the ring finger / the wrist of each hand seen)")
    r.add_argument("--save-layer", type=Path, metavar="LAYER.png", help="photos: also save the jewelry alone as RGBA")
    r.add_argument("--no-compositor", action="store_true", help="plain alpha compositing")
    r.add_argument("--hfov", type=float, default=None, metavar="DEG", help="camera's horizontal field of view")
    r.add_argument("--shading", choices=("photoreal", "plain"), default="photoreal",
                   help="photoreal (default: the room's light from the frame, gem optics) or plain PBR (comparisons)")

    g = sub.add_parser("gallery", help="a comparison sheet: each item on a photo, plain PBR beside photo-real")
    g.add_argument("input", type=Path, help="photo (jpg, png, webp)")
    g.add_argument("-o", "--output", type=Path, required=True, help="the sheet to write (jpg or png)")
    g.add_argument("--item", action="append", required=True, metavar="ID[@WHERE]", help="catalog item id (repeatable)")
    g.add_argument("--hfov", type=float, default=None, metavar="DEG")
    g.add_argument("--columns", type=int, default=2, help="item pairs per row (2)")

    a = sub.add_parser("anchors", help="print the tracked anchor poses of a photo or video")
    a.add_argument("input", type=Path)
    a.add_argument("--json", action="store_true", help="JSON, one object per frame")
    a.add_argument("--hfov", type=float, default=None, metavar="DEG")

    ad = sub.add_parser("advise", help="what suits the person in a photo: undertone, face shape, sizes, pieces")
    ad.add_argument("input", type=Path, help="photo (jpg, png, webp)")
    ad.add_argument("--json", action="store_true")

    b = sub.add_parser("bench", help="time each stage and the whole pipeline")
    b.add_argument("--json", action="store_true")
    b.add_argument("--video", type=Path, default=None, help="a video to run on (default: a shared clip)")
    b.add_argument("--frames", type=int, default=300)
    b.add_argument("--item", action="append", default=None, metavar="ID[@WHERE]",
                   help="an item to wear, repeatable: several are worn at once and the set is timed "
                        "(also with --live: instead of the defaults)")
    b.add_argument("--live", action="store_true",
                   help="instead: the live page end to end (Chromium, WebRTC, this server): fps, latency, memory")
    b.add_argument("--soak", type=float, default=None, metavar="MINUTES",
                   help="instead: a soak and load run of the live server (real WebRTC clients against a `tryon serve` "
                        "process): frames per second, latency percentiles and the server's memory every 30 s")
    b.add_argument("--retouch", action="store_true",
                   help="instead: the retouch studio, seconds per 1 MP and 12 MP photo and a batch's photos a minute")
    b.add_argument("--photo-pieces", action="store_true",
                   help="instead: product photos made into pieces (seconds each) and a photo piece's render cost")
    b.add_argument("--lookbook", action="store_true",
                   help="instead: on-model pictures (tryon lookbook) from 1 MP model photos, pictures per second")
    b.add_argument("--sessions", type=int, default=1, help="--live, --soak: sessions at once")
    b.add_argument("--seconds", type=float, default=10.0, help="--live: how long to measure, after a warm-up")

    s = sub.add_parser("serve", help="serve the live try-on page and API (http://127.0.0.1:8000)")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: the whole network)")
    s.add_argument("--port", type=_port, default=8000, help="port to listen on, 1 to 65535 (8000)")
    s.add_argument("--tls-cert", type=Path, metavar="FILE",
                   help="serve HTTPS with this PEM certificate (chain); phones need a secure page for the camera")
    s.add_argument("--tls-key", type=Path, metavar="FILE", help="the certificate's PEM private key")

    k = sub.add_parser("kiosk", help="the in-store mirror: serve, and open Chromium full-screen on the kiosk page")
    k.add_argument("--host", default="0.0.0.0",
                   help="address to listen on (default 0.0.0.0: phones on the store's network open the QR links)")
    k.add_argument("--port", type=_port, default=8000, help="port to listen on, 1 to 65535 (8000)")
    orientation = k.add_mutually_exclusive_group()
    orientation.add_argument("--portrait", dest="layout", action="store_const", const="portrait",
                             help="lay the page out for a portrait screen (default: follow the screen's shape)")
    orientation.add_argument("--landscape", dest="layout", action="store_const", const="landscape",
                             help="lay the page out for a landscape screen")
    k.add_argument("--attract-after", type=float, metavar="S", help="no face for S seconds: the attract loop (8)")
    k.add_argument("--reset-after", type=float, metavar="S",
                   help="no face and no touch for S seconds: reset for the next customer (60)")
    k.add_argument("--link-ttl", type=int, metavar="S", help="how long phone links live, seconds (900)")
    k.add_argument("--public-url", metavar="URL",
                   help="this server as phones reach it (default: http://LAN-ADDRESS:PORT)")
    k.add_argument("--no-browser", action="store_true", help="serve only; print the Chromium command instead")

    t = sub.add_parser("turntable", help="product visuals: a 360-degree turn on white, or stills of every metal")
    t.add_argument("item", help="catalog item id")
    t.add_argument("-o", "--output", type=Path, help="the video to write (.mp4, .mov or .webm)")
    t.add_argument("--stills", type=Path, metavar="DIR", help="instead: PNG stills from several angles, every metal")
    t.add_argument("--seconds", type=float, default=4.0, help="length of one turn, 2 to 6 s (default 4)")
    t.add_argument("--size", type=int, default=720, help="frame size in pixels, square (default 720; stills 1024)")
    t.add_argument("--fps", type=int, default=30)

    pv = sub.add_parser("product-video", help="a short clip of one piece on white under a moving light",
                        description="From a catalog item (style turn: its turntable) or a product photo (the piece "
                                    "it makes tilts a little while the light sweeps across it).")
    pv.add_argument("source", metavar="PHOTO|ITEM", help="a product photo's path, or a catalog item id")
    pv.add_argument("-o", "--output", type=Path, required=True, help="the video to write (.mp4, H.264)")
    pv.add_argument("--seconds", type=float, default=5.0, help="its length, 3 to 10 s (default 5)")
    pv.add_argument("--size", type=int, default=720, help="frame size in pixels, square and even (default 720)")
    pv.add_argument("--style", default="turn", help="turn, sweep or push (default turn)")
    pv.add_argument("--type", dest="piece_type", help="a photo's piece: earring, pendant or charm")
    pv.add_argument("--metal", help="the piece's metal (a photo: else detected; an item: its family's member)")
    pv.add_argument("--size-mm", type=float, help="a photo's piece: its height in mm")
    pv.add_argument("--anchor", metavar="X,Y", help="a photo's piece: where it hangs from (hook, post or bail), in "
                                                    "the photo's pixels; picks the piece among several")
    from tryon.server.job_cli import add_parser as add_jobs_parser

    add_jobs_parser(sub)  # `tryon jobs`: product videos, turntables, catalog builds as jobs

    d = sub.add_parser("design", help="make N distinct design variations of a piece, ready to try on",
                       description="TYPE with parameters, or --prompt with words ('rose gold halo ring with a 7 mm "
                                   "sapphire, thin band'); flags given with --prompt override what the words say.")
    d.add_argument("type", nargs="?", choices=["ring", "earring", "pendant"],
                   help="the piece (with --prompt: only where the words do not say)")
    d.add_argument("--sketch", type=Path, metavar="IMAGE",
                   help="a drawn outline (pen or pencil on paper, photographed): a pendant or earring cut to it "
                        "(--type pendant|earring, --size-mm: its height, default 20 / 15, --metal)")
    d.add_argument("--type", dest="sketch_type", choices=["pendant", "earring"], help="--sketch: what it becomes")
    d.add_argument("--prompt", metavar="TEXT", help="the design in words: piece, style, metal, stone, sizes "
                                                    "(mm, cm, inches, carats), chain and length, initial")
    d.add_argument("--count", type=int, help="how many designs (default 6; with --prompt 1)")
    d.add_argument("--seed", type=int, default=0, help="the same seed and parameters give the same designs")
    for name, what in (("style", "ring: band, solitaire, halo; earring: stud, hoop, drop; pendant: solitaire, heart, "
                                 "coin, initial"), ("metal", "yellow-gold, white-gold, rose-gold, platinum, silver"),
                       ("stone", "diamond, ruby, sapphire, emerald"), ("chain", "pendant: cable, box, rope"),
                       ("cut", "ring: round (default) or oval (a solitaire's or halo's centre; --stone-mm its length)"),
                       ("letter", "pendant: the initial, A-Z")):
        d.add_argument(f"--{name}", help=what)
    for name in ("band-width-mm", "stone-mm", "diameter-mm", "wire-mm", "length-mm", "size-mm"):
        d.add_argument(f"--{name}", type=float, metavar="MM")
    d.add_argument("--json", action="store_true")

    c = sub.add_parser("catalog", help="list, build or validate the jewelry catalog, or its manufacturing facts")
    c.add_argument("action", choices=["list", "build", "validate", "facts", "import", "import-photo"])
    c.add_argument("file", nargs="?", type=Path, help="import: a model (.glb, .gltf with embedded buffers, .obj, "
                                                     ".stl); import-photo: a product photo (jpg, png, webp)")
    c.add_argument("--type", choices=["ring", "earring", "pendant", "charm"],
                   help="import: what the model is; import-photo: earring, pendant or charm")
    c.add_argument("--size-mm", type=float, metavar="H", help="import-photo: the piece's height (else a bank card "
                                                              "or a millimetre ruler in the photo measures it)")
    c.add_argument("--pair", action="store_true", help="import-photo: the photo shows a pair of earrings")
    c.add_argument("--name", help="import: the piece's name")
    c.add_argument("--metal", help="import: give every part this metal (default: keep the file's materials); "
                                   "import-photo: the metal (default: seen in the photo)")
    c.add_argument("--stone", help="import: give parts named like stones (stone, gem, diamond...) this gem")
    c.add_argument("--units", choices=["auto", "mm", "m"], default="auto", help="import: the file's units")
    c.add_argument("--z-up", action="store_true", help="import: the file is +z up (many OBJ and STL files)")
    c.add_argument("--anchor", metavar="X,Y,Z", help="import: the attachment point, in the file's coordinates; "
                                                     "import-photo: X,Y in the photo's pixels (hook, post or bail)")
    c.add_argument("--item", action="append", metavar="ID", help="facts: these items only (repeatable)")
    c.add_argument("--min-wall", type=float, default=0.8, metavar="MM", help="facts: the thinnest metal allowed")
    c.add_argument("--lighter", action="store_true",
                   help="facts: propose a lighter variant of each ring and pendant (metal thinned to --min-wall)")
    c.add_argument("--json", action="store_true")

    ev = sub.add_parser("evaluate", add_help=False,
                        help="quality over many annotated people (the test part by default); --help for its options")
    ev.add_argument("rest", nargs="*", help="its own options (tryon evaluate --help)")

    rt = sub.add_parser("retouch", help="raw product photos to catalog images (also: retouch train, retouch eval)",
                        description="Raw product photos in, catalog-ready images out: the piece cut out onto white "
                                    "(or transparent, or a colour), a shadow, dust out, true metal colour. "
                                    "`tryon retouch train` remakes the matting net's weights; `tryon retouch eval` "
                                    "measures the studio against baselines (each has its own --help).")
    rt.add_argument("inputs", nargs="+", metavar="INPUT", help="photo files, folders or globs")
    rt.add_argument("-o", "--output", type=Path, required=True, metavar="OUTDIR", help="where outputs go")
    rt.add_argument("--background", default="white", help="white (default), transparent or #RRGGBB")
    rt.add_argument("--shadow", default="contact", choices=["contact", "drop", "reflection", "none"])
    rt.add_argument("--metal", default="auto",
                    choices=["auto", "yellow-gold", "rose-gold", "white-gold", "silver", "platinum"])
    rt.add_argument("--frame", default="fill", choices=["fill", "keep"],
                    help="fill: a square canvas, the piece spanning 85%% of it (default); keep: the photo's framing")
    rt.add_argument("--size", type=int, default=None, metavar="PX",
                    help="the longer side in pixels (fill: default 2000; keep: the photo's)")
    rt.add_argument("--format", default="jpg", choices=["jpg", "png", "webp"],
                    help="jpg (default; transparent outputs are png)")
    rt.add_argument("--match", type=Path, default=None, metavar="REF", help="give every output this photo's look")
    rt.add_argument("--same-look", action="store_true",
                    help="give every output the batch's median look (pieces from one shoot); default: each its own")
    rt.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per core)")
    rt.add_argument("--force", action="store_true", help="remake outputs that a previous run already made")
    rt.add_argument("--json", action="store_true", help="print the manifest as JSON on stdout")

    lb = sub.add_parser("lookbook", help="on-model pictures: every piece on every model photo, alike",
                        description="Every catalog piece on every model photo of --models where its site is seen "
                                    "(the other pairs listed with the reason), brought to the set's exposure and "
                                    "white balance and framed alike: a square around the worn site, PX pixels. "
                                    "Writes OUTDIR/ITEM/MODEL.jpg, contact.png and manifest.json; a second run "
                                    "makes only what is missing.")
    lb.add_argument("items", nargs="+", metavar="ITEM", help="catalog item ids (tryon catalog list), or ID@WHERE")
    lb.add_argument("--models", type=Path, required=True, metavar="DIR",
                    help="a folder of model photos (jpg, png, webp; subfolders too)")
    lb.add_argument("-o", "--output", type=Path, required=True, metavar="OUTDIR", help="where the pictures go")
    lb.add_argument("--size", type=int, default=1024, metavar="PX", help="the pictures' side (default 1024)")
    lb.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per core)")
    lb.add_argument("--force", action="store_true", help="measure the set's look again and remake every picture")
    lb.add_argument("--json", action="store_true", help="print the manifest as JSON on stdout")

    wk = sub.add_parser("worker", help="a job worker for a cluster: runs catalog job units sent through "
                                       "TRYON_BROKER_URL (Celery over Redis)")
    wk.add_argument("--concurrency", type=int, default=1, metavar="N",
                    help="units at once, one process each (default 1)")
    wk.add_argument("--queues", default="", metavar="KINDS",
                    help="only these job kinds, comma-separated (default: all of retouch, lookbook, product-video, "
                         "turntable, catalog-build)")
    wk.add_argument("--name", default="", help="the worker's name in its units' records (default: the host's)")

    nc = sub.add_parser("compositor", help="the neural compositor: remake its weights, or measure them")
    nc_sub = nc.add_subparsers(dest="action", required=True)
    nt = nc_sub.add_parser("train", help="render the data, train (seeded, on this CPU), write the weights")
    nt.add_argument("--minutes", type=float, default=30.0, help="budget for the whole run (default 30)")
    nt.add_argument("--seed", type=int, default=0)
    nt.add_argument("--steps", type=int, default=None, help="training steps (default: the shipped weights')")
    nt.add_argument("-o", "--output", type=Path, default=None, help="the weights (default assets/models/compositor.pt)")
    ne = nc_sub.add_parser("eval", help="error in the jewelry region on held-out photos: plain, classical, network")
    ne.add_argument("--weights", type=Path, default=None, help="default assets/models/compositor.pt")
    ne.add_argument("--seed", type=int, default=0, help="the held-out examples' seed (as in training)")
    ne.add_argument("--json", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["evaluate"]:  # its options are its own (tryon.quality.evaluate)
        from tryon.quality.evaluate import main as evaluate_main

        return evaluate_main(argv[1:])
    if argv[:2] == ["retouch", "train"]:  # its own options (tryon.retouch.train)
        from tryon.retouch.train import main as train_main

        return train_main(argv[2:])
    if argv[:2] == ["retouch", "eval"]:  # its own options (tryon.quality.retouch_eval)
        from tryon.quality.retouch_eval import main as retouch_eval_main

        return retouch_eval_main(argv[2:])
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(_COMMANDS[args.command](args) or 0)
    except InputError as e:
        print(f"tryon: error: {e}", file=sys.stderr)
        return 2
    except TryOnError as e:
        print(f"tryon: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("tryon: interrupted", file=sys.stderr)
        return 130


def _settings() -> Any:
    """Settings from the environment; InputError naming the TRYON_ variable that is wrong and why."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from tryon.config import Settings

    try:
        return Settings()
    except SettingsError as e:  # not JSON where JSON is wanted (lists, e.g. TRYON_ICE_SERVERS)
        field = str(e).split('"')[1] if str(e).count('"') >= 2 else "?"
        raise InputError(f"TRYON_{field.upper()} is not valid JSON: {e.__cause__ or e}") from None
    except ValidationError as e:
        raise InputError("; ".join(f"TRYON_{'.'.join(map(str, err['loc'])).upper()}: {err['msg']}"
                                   for err in e.errors())) from None


def _catalog_of(settings: Any) -> Any:
    """The built-in catalog and the user's pieces."""
    from tryon.jewelry.catalog import Catalog

    return Catalog.load_with_user(settings.assets_dir, settings.user_catalog_dir)


def _render(args: argparse.Namespace) -> int:
    from tryon import media
    from tryon.pipeline import Pipeline, PipelineOptions
    from tryon.types import Frame

    settings = _settings()
    kind = media.kind_of(args.input)
    out_kind = media.kind_of(args.output)
    if out_kind != kind:
        raise InputError(f"{args.input} is a {kind} but {args.output} names a {out_kind}")
    if args.output.resolve() == args.input.resolve():
        raise InputError("the output would overwrite the input; choose another name")
    if args.save_layer is not None and (kind != "image" or media.kind_of(args.save_layer) != "image"
                                        or args.save_layer.suffix.lower() != ".png"):
        raise InputError("--save-layer takes a .png and works on photos")
    if not args.input.is_file():
        raise InputError(f"no such file: {args.input}")
    catalog = _catalog_of(settings)
    for spec in args.item:
        catalog.get(spec.partition("@")[0])  # unknown ids fail before any work
    hfov = args.hfov or settings.hfov_deg
    use_compositor = settings.use_compositor and not args.no_compositor
    if kind == "image":
        rgb = media.read_image(args.input)
        opts = PipelineOptions(mode="image", hfov_deg=hfov, shading=args.shading, use_compositor=use_compositor)
        with Pipeline(catalog, args.item, opts) as pipe:
            result = pipe.process(Frame(rgb))
            out, layer = result.image, result.layer
        del rgb  # a large photo's input is let go before its output is encoded (memory: see tryon.media)
        media.write_image(args.output, out)
        if args.save_layer is not None:
            media.write_png_rgba(args.save_layer, _layer_rgba(layer))
        print(f"wrote {args.output}")
        return _say_not_placed({(n.item_id, n.where): (1, n.reason) for n in result.not_placed}, 1, len(args.item))
    from tqdm import tqdm

    opts = PipelineOptions(mode="video", hfov_deg=hfov, shading=args.shading, use_compositor=use_compositor)
    with Pipeline(catalog, args.item, opts) as pipe:
        info = media.probe_video(args.input)
        with tqdm(total=info.frame_count or None, unit="frame", desc=args.input.name, leave=False) as bar:
            def progress(done: int, total: int) -> None:
                bar.update(done - bar.n)

            missed: dict[tuple[str, str], tuple[int, str]] = {}
            frames = 0

            def process(rgb: np.ndarray, ts: int) -> np.ndarray:
                nonlocal frames
                result = pipe.process(Frame(rgb, ts))
                frames += 1
                for n in result.not_placed:
                    count, _ = missed.get((n.item_id, n.where), (0, ""))
                    missed[(n.item_id, n.where)] = (count + 1, n.reason)
                return result.image

            media.transcode_video(args.input, args.output, process, progress)
    print(f"wrote {args.output}")
    return _say_not_placed(missed, frames, len(args.item))


NOTHING_PLACED = 3  # the exit status when no worn piece could be drawn anywhere


def _say_not_placed(missed: dict[tuple[str, str], tuple[int, str]], frames: int, worn: int) -> int:
    """One warning line per piece that could not be drawn in some frames (with the last reason); the exit
    status: NOTHING_PLACED when no piece was drawn in any frame, else 0."""
    for (item_id, where), (count, reason) in missed.items():
        when = "" if frames <= 1 else f" in {count} of {frames} frames" if count < frames else " in any frame"
        print(f"tryon: warning: {item_id} ({where}) not placed{when}: {reason}", file=sys.stderr)
    never = [k for k, (count, _) in missed.items() if count >= frames]
    return NOTHING_PLACED if frames and worn and len(never) == worn else 0
    return 0


def _gallery(args: argparse.Namespace) -> int:
    from tryon import media
    from tryon.studio.gallery import gallery

    settings = _settings()
    if media.kind_of(args.input) != "image" or media.kind_of(args.output) != "image":
        raise InputError("tryon gallery reads a photo and writes a photo")
    if not args.input.is_file():
        raise InputError(f"no such file: {args.input}")
    catalog = _catalog_of(settings)
    for spec in args.item:
        catalog.get(spec.partition("@")[0])
    sheet = gallery(media.read_image(args.input), catalog, args.item, args.hfov or settings.hfov_deg, args.columns)
    media.write_image(args.output, sheet)
    print(f"wrote {args.output}")
    return 0


def _straight_rgba(premultiplied: np.ndarray) -> np.ndarray:
    """(H, W, 4) float premultiplied 0..1 -> (H, W, 4) uint8 straight alpha, as PNG expects."""
    a = premultiplied[..., 3:4]
    rgb = np.where(a > 1e-6, premultiplied[..., :3] / np.maximum(a, 1e-6), 0.0)
    return np.clip(np.concatenate([rgb, a], axis=2) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _layer_rgba(layer: Any) -> np.ndarray:
    """(H, W, 4) uint8 straight-alpha RGBA the size of the frame from a RenderLayer.

    Only the rendered region is converted; the rest is transparent zeros. (The frame-sized float copy that
    RenderLayer.full_frame makes took 16 bytes a pixel, several times over: 3.2 GB for a 48 MP photo.)
    """
    w, h = layer.frame_size
    out = np.zeros((h, w, 4), np.uint8)
    if layer.rgba.size:
        x0, y0 = layer.origin_px
        rh, rw = layer.rgba.shape[:2]
        out[y0 : y0 + rh, x0 : x0 + rw] = _straight_rgba(layer.rgba)
    return out


def anchors_to_json(frame_index: int, anchors: Any) -> dict[str, Any]:
    """One frame's anchors in the documented `tryon anchors --json` format."""
    from tryon.anchors.fingers import sizes_to_json

    return {
        "frame": frame_index,
        "timestamp_ms": anchors.timestamp_ms,
        "face_width_px": round(float(anchors.face_width_px), 3),
        "anchors": {
            a.site: {
                "visible": round(float(a.visible), 4),
                "xy": [round(float(v), 3) for v in a.xy_px],
                "cam_T_anchor": np.round(a.cam_T_anchor, 6).tolist(),
            }
            for a in anchors.anchors
        },
        "hands": [sizes_to_json(h) for h in anchors.hands],
    }


def _anchors(args: argparse.Namespace) -> int:
    from tryon import media
    from tryon.body import ring_size_text
    from tryon.pipeline import Pipeline, PipelineOptions
    from tryon.types import Frame

    settings = _settings()
    kind = media.kind_of(args.input)
    hfov = args.hfov or settings.hfov_deg
    catalog = _catalog_of(settings)
    opts = PipelineOptions(mode="image" if kind == "image" else "video", hfov_deg=hfov, render=False,
                           track=frozenset({"face", "hands", "neck"}))
    frames = [(media.read_image(args.input), 0)] if kind == "image" else media.read_video(args.input)
    with Pipeline(catalog, (), opts) as pipe:
        for i, (rgb, ts) in enumerate(frames):
            record = anchors_to_json(i, pipe.track(Frame(rgb, ts)))
            if args.json:
                print(json.dumps(record), flush=True)
            else:
                sites = "  ".join(f"{s}: {'shown' if a['visible'] >= 0.5 else 'hidden'} at "
                                  f"({a['xy'][0]:.1f}, {a['xy'][1]:.1f})" for s, a in record["anchors"].items())
                print(f"frame {i} t={ts} ms face width {record['face_width_px']:.1f} px  {sites or 'nothing tracked'}")
                for hand in record["hands"]:
                    r = hand["ring_size"]["ring"]
                    print(f"  {hand['side']} hand: ring finger {r['inner_diameter_mm']:.1f} +- {r['sigma_mm']:.1f} mm "
                          f"({ring_size_text(r['us'], r['eu'])})")
    return 0


def _bench(args: argparse.Namespace) -> int:
    if args.soak is not None:
        return _soak(args)
    if args.retouch:
        from tryon.tools.bench_retouch import format_retouch_bench, run_retouch_bench

        r = run_retouch_bench()
        print(json.dumps(dataclasses.asdict(r), indent=2) if args.json else format_retouch_bench(r))
        return 0
    if args.photo_pieces:
        from tryon.tools.bench_photo_piece import format_photo_piece_bench, run_photo_piece_bench

        pp = run_photo_piece_bench()
        print(json.dumps(dataclasses.asdict(pp), indent=2) if args.json else format_photo_piece_bench(pp))
        return 0
    if args.lookbook:
        from tryon.tools.bench_lookbook import format_lookbook_bench, run_lookbook_bench

        lb = run_lookbook_bench()
        print(json.dumps(dataclasses.asdict(lb), indent=2) if args.json else format_lookbook_bench(lb))
        return 0
    if args.live:
        from tryon.tools.bench_live import format_live_result, run_live_bench

        live = run_live_bench(args.sessions, args.seconds, args.item)
        print(json.dumps(live, indent=2) if args.json else format_live_result(live))
        return 0
    from tryon.jewelry.catalog import Catalog
    from tryon.tools.bench import DEFAULT_ITEM, format_result, run_bench, run_suite, video_for

    if args.frames < 10:
        raise InputError("--frames must be at least 10")
    if args.video is not None and not args.video.is_file():
        raise InputError(f"no such video: {args.video}")
    if args.item is None and args.video is None:
        results = run_suite(args.frames)
    else:
        items = args.item or [DEFAULT_ITEM]
        results = [run_bench(args.video or video_for(Catalog.load(), items), args.frames, items)]
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in results], indent=2))
    else:
        print("\n\n".join(format_result(r) for r in results))
    return 0


def _retouch(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from tryon.retouch.pipeline import keep_freed_memory
    from tryon.retouch.types import RetouchOptions
    from tryon.studio.retouch_batch import expand_inputs, run_batch

    keep_freed_memory()  # this process may retouch photo after photo (one job, or a single photo)

    options = RetouchOptions(background=args.background, shadow=args.shadow, metal=args.metal, frame=args.frame,
                             size_px=args.size, format=args.format)
    if args.jobs is not None and args.jobs < 1:
        raise InputError("--jobs must be at least 1")
    if args.match is not None and not args.match.is_file():
        raise InputError(f"--match {args.match}: no such file")
    paths = expand_inputs(args.inputs)
    if args.output.exists() and not args.output.is_dir():
        raise InputError(f"{args.output} is a file; -o takes a folder")
    failed: list[str] = []
    with tqdm(total=len(paths), unit="photo", desc="retouch", disable=None) as bar:
        def step(entry: Any) -> None:
            bar.update(1)
            if entry.error is not None:
                failed.append(f"{entry.input}: {entry.error}")
                tqdm.write(f"tryon: {entry.error}", file=sys.stderr)

        manifest = run_batch(paths, args.output, options, force=args.force, match=args.match,
                             same_look=args.same_look, jobs=args.jobs, progress=step)
        bar.update(len(paths) - bar.n)  # the ones a previous run had already made
    made = [e for e in manifest["outputs"] if e.get("error") is None]
    if args.json:
        print(json.dumps(manifest, indent=1))
    else:
        checked = sum(1 for e in made if e.get("ok"))
        print(f"{len(made)} of {len(paths)} made in {args.output} ({checked} pass every marketplace check); "
              f"manifest: {args.output / 'manifest.json'}")
    return 1 if failed else 0


def _lookbook(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from tryon.studio.lookbook_batch import Setup, check_items, find_models, run_lookbook

    if args.jobs is not None and args.jobs < 1:
        raise InputError("--jobs must be at least 1")
    settings = _settings()
    specs = check_items(_catalog_of(settings), args.items)  # unknown pieces and an empty folder: before any work
    models = find_models(args.models, skip=args.output)
    setup = Setup(str(settings.assets_dir), str(settings.user_catalog_dir), settings.hfov_deg, settings.use_compositor)
    total = len(specs) * len(models)
    failed: list[str] = []
    with tqdm(total=total, unit="picture", desc="lookbook", disable=None) as bar:
        def step(entry: dict[str, Any]) -> None:
            bar.update(1)
            if entry["status"] == "failed":
                failed.append(entry["reason"])
                tqdm.write(f"tryon: {entry['model']}: {entry['reason']}", file=sys.stderr)

        manifest = run_lookbook(specs, models, args.output, setup, size_px=args.size, force=args.force,
                                jobs=args.jobs, progress=step)
        bar.update(total - bar.n)  # the pairs a previous run had already settled
    if args.json:
        print(json.dumps(manifest, indent=1))
    else:
        pairs = manifest["pairs"]
        done = sum(e["status"] == "done" for e in pairs)
        skipped = [e for e in pairs if e["status"] == "skipped"]
        for e in skipped:
            print(f"  not made: {e['item']} on {e['model']}: {e['reason']}")
        print(f"{done} of {total} pictures in {args.output} ({len(skipped)} not made, each with its reason above"
              f"{f', {len(failed)} failed' if failed else ''}); contact sheet: {args.output / 'contact.png'}")
    return 1 if failed else 0


def _soak(args: argparse.Namespace) -> int:
    from skimage import data

    from tryon.tools.bench import letterbox
    from tryon.tools.soak import format_sample, soak

    items = list(args.item) if args.item else ["hoop-round-25mm-yellow-gold"]

    def say(sample: Any) -> None:
        print(json.dumps(sample.to_json()) if args.json else format_sample(sample), flush=True)

    samples = soak(args.soak, args.sessions, items, letterbox(data.astronaut()), say=say)
    if not samples:
        raise TryOnError("the soak ended before its first report")
    return 0


def _catalog(args: argparse.Namespace) -> int:
    from tryon.studio.catalog_build import build_catalog

    settings = _settings()
    if args.action == "build":
        items = build_catalog(settings.assets_dir)
        print(json.dumps([i.id for i in items]) if args.json else f"built {len(items)} items in {settings.assets_dir}")
        return 0
    catalog = _catalog_of(settings)
    if args.action == "list":
        if args.json:
            print(json.dumps([i.to_json() for i in catalog.items], indent=2))
        else:
            for i in catalog.items:
                price = f"${i.price:,.0f}" if i.price is not None else ""
                print(f"{i.id:<44} {i.site:<6} {price:>8}  {i.name}")
        return 0
    if args.action == "facts":
        return _facts(catalog, args)
    if args.action == "import":
        return _import(settings, args)
    if args.action == "import-photo":
        return _import_photo(settings, args)
    problems = []
    for item in catalog.items:
        try:
            item_model(catalog, item)
        except TryOnError as e:
            problems.append(f"{item.id}: {e}")
    if args.json:
        print(json.dumps({"items": len(catalog), "problems": problems}))
    else:
        print("\n".join(problems) if problems else f"all {len(catalog)} items are valid")
    return 1 if problems else 0


def _compositor(args: argparse.Namespace) -> int:
    """`tryon compositor train|eval`: the neural compositor's weights, remade or measured."""
    from tryon.compositor import evaluate, train
    from tryon.compositor.neural import DEFAULT_WEIGHTS, Compositor

    settings = _settings()
    cache = train.cache_dir_for(settings.data_dir)
    if args.action == "train":
        if args.minutes <= 0:
            raise InputError("--minutes must be positive")
        config = train.TrainConfig(seed=args.seed, minutes=args.minutes,
                                   steps=args.steps if args.steps is not None else train.DEFAULT_STEPS)
        report = train.train(config, args.output or DEFAULT_WEIGHTS, cache, say=lambda m: print(m, flush=True))
        print(f"wrote {report.weights} ({report.weights_bytes / 1e6:.2f} MB): {report.steps} steps, "
              f"{report.total_s / 60:.1f} min in all (data {report.data_s / 60:.1f}, training {report.train_s / 60:.1f})"
              + ("; stopped early at the time budget" if report.stopped_early else ""))
        return 0
    weights = args.weights or DEFAULT_WEIGHTS
    if not Path(weights).is_file():
        raise InputError(f"no weights at {weights} (make them with `tryon compositor train`)")
    compositor = Compositor(weights)
    if not compositor.active:
        raise TryOnError(f"cannot use the weights at {weights} (see the warning above)")
    ex, photos = train.build_test_data(train.TrainConfig(seed=args.seed), cache,
                                       say=(lambda m: None) if args.json else (lambda m: print(m, flush=True)))
    scores = evaluate.evaluate(ex, compositor)
    if args.json:
        print(json.dumps({"weights": str(weights), "examples": len(ex), "photos": [p.name for p in photos],
                          "scores": [s.to_json() for s in scores]}, indent=2))
    else:
        print(evaluate.format_scores(scores, len(ex), len(photos)))
    return 0


def _listen(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port) and listening, as uvicorn would make it; InputError naming the
    address when it cannot be had (taken, not this machine's, not allowed)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # As uvicorn and asyncio do: a port left in TIME_WAIT by a server that just stopped can be taken again;
        # one that another program listens on still cannot.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as e:
        sock.close()
        reason = e.strerror or str(e)
        if e.errno == errno.EADDRINUSE:
            raise InputError(f"port {port} on {host} is taken: {reason} (choose another with --port)") from None
        raise InputError(f"cannot listen on {host} port {port}: {reason}") from None
    return sock


def _url(host: str, port: int, scheme: str = "http") -> str:
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def _tls_files(cert: Path | None, key: Path | None) -> tuple[str, str] | None:
    """--tls-cert and --tls-key, checked as the server will load them (both or neither; readable; PEM; the key is
    the certificate's); None for plain HTTP. InputError naming the file and what is wrong."""
    import ssl

    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise InputError("--tls-cert and --tls-key go together: give both (or neither, for plain HTTP)")
    for flag, path in (("--tls-cert", cert), ("--tls-key", key)):
        if not path.exists():
            raise InputError(f"{flag} {path}: no such file")
        if not path.is_file():
            raise InputError(f"{flag} {path}: not a file")
        try:
            text = path.read_bytes()
        except OSError as e:
            raise InputError(f"{flag} {path}: cannot read it: {e.strerror or e}") from None
        want = b"-----BEGIN CERTIFICATE-----" if flag == "--tls-cert" else b"PRIVATE KEY-----"
        if want not in text:
            raise InputError(f"{flag} {path}: not a PEM {'certificate' if flag == '--tls-cert' else 'private key'} "
                             f"(no {want.decode().strip('-')} block)")

    def encrypted() -> str:  # instead of OpenSSL asking for a passphrase on the terminal
        raise InputError(f"--tls-key {key} is encrypted: give the key without a passphrase "
                         f"(openssl pkey -in {key} -out KEY)")

    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key, password=encrypted)
    except ssl.SSLError as e:
        if "KEY_VALUES_MISMATCH" in str(e) or "key values mismatch" in str(e):
            raise InputError(f"--tls-key {key} is not the private key of --tls-cert {cert}") from None
        raise InputError(f"--tls-cert {cert} / --tls-key {key}: not a PEM certificate and its private key "
                         f"({e.reason or e})") from None
    return str(cert), str(key)


def _few_malloc_arenas() -> None:
    """glibc gives each new thread's allocations an arena of its own, up to 8 per core, and keeps what a gone
    thread freed there. Every live session has its own worker thread: with two arenas the server's memory grew
    0.8 MB a session from the 12th to the 36th session come and gone, against 2.6 MB with glibc's default
    (docs/BENCHMARKS.md, Soak)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if name and "MALLOC_ARENA_MAX" not in os.environ:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(name).mallopt(-8, 2)  # M_ARENA_MAX; before the server starts any thread


def _serve(args: argparse.Namespace) -> int:
    _few_malloc_arenas()
    # The socket is ours, bound before anything else is loaded: a taken port is one line and exit 2 at once (not
    # uvicorn's log line and exit 1 after the app was made), and "serving at" comes once the socket listens,
    # with the address it actually has. uvicorn takes connections off it once its loop runs.
    tls = _tls_files(args.tls_cert, args.tls_key)  # a wrong file: one line, before anything listens
    with _listen(args.host, args.port) as sock:
        import uvicorn

        from tryon.server.app import create_app
        from tryon.server.drain import DrainingServer

        logging.getLogger("tryon").setLevel(logging.INFO)
        settings = _settings()
        json_logs = settings.log_format == "json"
        if json_logs:  # one JSON object a line, uvicorn's own lines too (tryon.server.logs)
            from tryon.server.logs import configure

            configure("json", logging.DEBUG if args.verbose else logging.WARNING)
        app = create_app(settings)
        host, port = sock.getsockname()[:2]
        print(f"tryon: serving the live try-on at {_url(host, port, 'https' if tls else 'http')} (API docs at /docs)",
              flush=True)
        # proxy_headers off: the server's guard decides whose X-Forwarded-For to believe (TRYON_TRUSTED_PROXIES).
        # SIGTERM drains first (tryon.server.drain: no new sessions, the running ones finish, at most
        # TRYON_DRAIN_TIMEOUT_S); then the stop waits for running requests at most GRACEFUL_STOP_S, and the app's
        # shutdown ends the sessions left and kills a model import still running in its own process.
        DrainingServer(uvicorn.Config(app, host=host, port=port, log_level="warning", proxy_headers=False,
                                      timeout_graceful_shutdown=GRACEFUL_STOP_S,
                                      log_config=None if json_logs else uvicorn.config.LOGGING_CONFIG,
                                      ssl_certfile=tls[0] if tls else None, ssl_keyfile=tls[1] if tls else None),
                       app.state.tryon, settings.drain_timeout_s).run(sockets=[sock])
    return 0


def _kiosk(args: argparse.Namespace) -> int:
    _few_malloc_arenas()
    from pydantic import ValidationError

    from tryon.kiosk import KioskOptions, run_kiosk
    from tryon.server.kiosk import KioskSettings

    given = {"attract_after_s": args.attract_after, "reset_after_s": args.reset_after, "link_ttl_s": args.link_ttl,
             "public_url": args.public_url}
    try:
        kiosk = KioskSettings(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as e:
        raise InputError("; ".join(err["msg"] for err in e.errors())) from None
    logging.getLogger("tryon").setLevel(logging.INFO)
    options = KioskOptions(host=args.host, port=args.port, layout=args.layout or "auto", browser=not args.no_browser)
    return run_kiosk(options, _settings(), kiosk, say=lambda line: print(line, flush=True))


def _facts(catalog: Any, args: argparse.Namespace) -> int:
    """Metal weight, stones and the thinnest metal of each item; exit 1 when a piece is thinner than allowed."""
    from tryon.jewelry.facts import item_facts

    if args.lighter:
        return _lighter(catalog, args)
    chosen = [catalog.get(i) for i in args.item] if args.item else list(catalog.items)
    facts = [item_facts(catalog, item, min_wall_mm=args.min_wall) for item in chosen]
    if args.json:
        print(json.dumps([f.to_json() for f in facts], indent=2))
    else:
        for f in facts:
            stones = ", ".join(f"{s.count} x {s.name} {s.diameter_mm:g} mm ({s.carat_total:.2f} ct)" for s in f.stones)
            verdict = "ok" if f.ok else f"THINNER than {f.min_wall_mm:g} mm"
            print(f"{f.item_id:<44} {f.metal_weight_g:7.2f} g {f.metal:<15} thinnest {f.thinnest_metal_mm:.2f} mm "
                  f"({verdict}){'  ' + stones if stones else ''}")
    return 0 if all(f.ok for f in facts) else 1


def _lighter(catalog: Any, args: argparse.Namespace) -> int:
    """A lighter variant of each ring and pendant (or of the items asked for): grams before and after, the
    variant's thinnest wall, the price difference; pieces that cannot be made lighter with the reason."""
    from tryon.jewelry.lighter import LIGHTER_KINDS, lighter_variant

    chosen = [catalog.get(i) for i in args.item] if args.item else [
        i for i in catalog.items if i.kind in LIGHTER_KINDS]
    found = [lighter_variant(catalog, item, min_wall_mm=args.min_wall) for item in chosen]
    if args.json:
        print(json.dumps([f.to_json() for f in found], indent=2))
        return 0
    for f in found:
        if f.refused:
            print(f"{f.item_id:<44} {f.grams_before:7.2f} g  not lighter: {f.refused}")
            continue
        print(f"{f.item_id:<44} {f.grams_before:7.2f} g -> {f.grams_after:6.2f} g (saves {f.saved_g:.2f} g, "
              f"{f.saved_pct:.1f} %), thinnest {f.thinnest_mm:.2f} mm, price {f.price_difference:+,.0f}")
    return 0


def _import(settings: Any, args: argparse.Namespace) -> int:
    from tryon.jewelry.catalog import Catalog
    from tryon.jewelry.importer import import_model
    from tryon.studio.catalog_build import add_user_items

    if args.file is None or args.type is None or args.name is None:
        raise InputError("tryon catalog import FILE --type ring|earring|pendant --name NAME")
    anchor = None
    if args.anchor:
        try:
            x, y, z = (float(v) for v in args.anchor.split(","))
        except ValueError:
            raise InputError(f"--anchor is X,Y,Z (three numbers), not {args.anchor!r}") from None
        anchor = (x, y, z)
    item, scene = import_model(args.file, args.type, args.name, metal=args.metal, stone=args.stone,
                               units=args.units, z_up=args.z_up, anchor=anchor,
                               max_bytes=int(settings.max_upload_mb * 1e6))
    (added,) = add_user_items([(item, lambda: scene)], settings.user_catalog_dir,
                              Catalog.load(settings.assets_dir / "catalog.json"))
    print(json.dumps(added.to_json(), indent=2) if args.json else
          f"imported {added.id} (${added.price:,.0f}) into {settings.user_catalog_dir}")
    return 0


def _import_photo(settings: Any, args: argparse.Namespace) -> int:
    from tryon.jewelry.catalog import Catalog
    from tryon.studio.catalog_build import add_user_items
    from tryon.studio.photo_piece import parse_anchor, photo_piece

    if args.file is None or args.type not in ("earring", "pendant", "charm"):
        raise InputError("tryon catalog import-photo PHOTO --type earring|pendant|charm [--size-mm H] [--metal M] "
                         "[--name N] [--pair] [--anchor X,Y]")
    anchor = parse_anchor(args.anchor)
    made = photo_piece(args.file, args.type, size_mm=args.size_mm, metal=args.metal, name=args.name,
                       pair=args.pair, anchor_px=anchor)
    (added,) = add_user_items([(made.item, made.build)], settings.user_catalog_dir,
                              Catalog.load(settings.assets_dir / "catalog.json"))
    if args.json:
        print(json.dumps({**added.to_json(), "notes": list(made.notes)}, indent=2))
    else:
        print(f"imported {added.id} (${added.price:,.0f}) into {settings.user_catalog_dir}")
        for note in made.notes:
            print(f"  {note}")
    return 0


def _design(args: argparse.Namespace) -> int:
    import dataclasses

    from tryon.jewelry.design import parameters
    from tryon.jewelry.prompt import parse
    from tryon.studio.catalog_build import add_designs

    settings = _settings()
    if args.sketch is not None:
        return _design_sketch(args, settings)
    request = None
    if args.prompt is not None:
        request = parse(args.prompt, args.type)
        kind = request.kind
    elif args.type is None:
        raise InputError("tryon design TYPE [--style ...] or tryon design --prompt TEXT")
    else:
        kind = args.type
    space = parameters(kind)
    flags = {k: v for k, v in vars(args).items() if k in space and v is not None}
    fixed = {**(request.fixed if request else {}), **flags}  # the flags override the words
    count = args.count if args.count is not None else (1 if request else 6)
    folder = settings.user_catalog_dir
    written = add_designs(kind, fixed, count, args.seed, folder, settings.assets_dir / "catalog.json")
    if args.json:
        items = [i.to_json() for i in written]
        said = {**request.said, **{k: f"--{k.replace('_', '-')}" for k in flags}} if request else {}
        print(json.dumps({**request.to_json(), "parameters": fixed, "said": said, "items": items} if request else items,
                         indent=2))
    else:
        if request:
            print(f"understood: {dataclasses.replace(request, fixed=fixed).describe()}")
            for note in request.notes:
                print(f"  not a design parameter: {note}")
        for i in written:
            print(f"{i.id}  ${i.price:,.0f}  {i.name}")
        print(f"{len(written)} designs in {folder}; try one on: tryon render PHOTO -o OUT --item {written[0].id}")
    return 0


def _design_sketch(args: argparse.Namespace, settings: Any) -> int:
    from tryon.jewelry.catalog import Catalog
    from tryon.jewelry.sketch import sketch_design
    from tryon.studio.catalog_build import add_user_items

    kind = args.sketch_type or args.type
    if kind is None or args.prompt is not None:
        raise InputError("tryon design --sketch IMAGE --type pendant|earring [--size-mm H] [--metal M]")
    item, build, outline = sketch_design(args.sketch, kind, args.size_mm, args.metal or "yellow_gold")
    (added,) = add_user_items([(item, build)], settings.user_catalog_dir,
                              Catalog.load(settings.assets_dir / "catalog.json"))
    if args.json:
        print(json.dumps({**added.to_json(), "notes": list(outline.notes),
                          "plate_mm": {"height": round(outline.height_mm, 3), "width": round(outline.width_mm, 3),
                                       "holes": len(outline.holes)}}, indent=2))
    else:
        for note in outline.notes:
            print(f"  {note}")
        print(f"{added.id}  ${added.price:,.0f}  {added.name}")
        print(f"in {settings.user_catalog_dir}; try it on: tryon render PHOTO -o OUT --item {added.id}")
    return 0


def _advise(args: argparse.Namespace) -> int:
    from tryon import media
    from tryon.stylist.advise import Stylist

    settings = _settings()
    with Stylist(_catalog_of(settings), hfov_deg=settings.hfov_deg) as stylist:
        advice = stylist.advise(media.read_image(args.input)).to_json()
    if args.json:
        print(json.dumps(advice, indent=2))
        return 0
    tone, shape = advice["undertone"], advice["face_shape"]
    if tone is not None:
        print(f"undertone: {tone['label']} (confidence {tone['confidence']:.2f})")
    if shape is not None:
        print(f"face shape: {shape['label']} (confidence {shape['confidence']:.2f})")
    for s in advice["suggestions"]:
        print(f"- {s['reason']}\n    try: {', '.join(s['items']) or 'nothing in the catalog fits'}")
    for note in advice["notes"]:
        print(f"  ({note})")
    return 0


def _turntable(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from tryon.studio.turntable import write_stills, write_turntable

    if (args.output is None) == (args.stills is None):
        raise InputError("give either -o VIDEO (a turntable) or --stills DIR")
    catalog = _catalog_of(_settings())
    if args.stills is not None:
        size = args.size if args.size != 720 else 1024
        written = write_stills(catalog, args.item, args.stills, size_px=size)
        for variant, views in written.items():
            print(f"{variant}: {', '.join(str(p) for p in views.values())}")
        return 0
    with tqdm(total=round(args.seconds * args.fps), unit="frame", disable=not sys.stderr.isatty()) as bar:
        write_turntable(catalog, args.item, args.output, args.seconds, args.size, args.fps,
                        progress=lambda done, total: bar.update(done - bar.n))
    print(f"wrote {args.output}")
    return 0


def _product_video(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from tryon.studio.photo_piece import parse_anchor
    from tryon.studio.product_video import FPS, write_product_video

    anchor = parse_anchor(args.anchor)
    catalog = _catalog_of(_settings())
    with tqdm(total=round(args.seconds * FPS), unit="frame", disable=not sys.stderr.isatty()) as bar:
        write_product_video(args.source, args.output, catalog, seconds=args.seconds, size_px=args.size,
                            style=args.style, kind=args.piece_type, metal=args.metal, size_mm=args.size_mm,
                            anchor_px=anchor, progress=lambda done, total: bar.update(done - bar.n))
    print(f"wrote {args.output}")
    return 0


def _jobs(args: argparse.Namespace) -> int:
    """`tryon jobs submit|status|cancel|retry` (tryon.server.job_cli)."""
    from tryon.server.job_cli import run

    settings = _settings()
    return run(args, settings, _catalog_of(settings))


def _worker(args: argparse.Namespace) -> int:
    from tryon.server.job_cluster import run_worker

    queues = [q.strip() for q in args.queues.split(",") if q.strip()]
    return run_worker(_settings(), args.concurrency, queues, args.name)


_COMMANDS = {"render": _render, "anchors": _anchors, "bench": _bench, "catalog": _catalog, "serve": _serve,
             "compositor": _compositor, "turntable": _turntable, "design": _design, "kiosk": _kiosk,
             "gallery": _gallery, "retouch": _retouch, "advise": _advise, "lookbook": _lookbook,
             "product-video": _product_video, "jobs": _jobs, "worker": _worker}

def entry() -> int:
    """The `tryon` command: MediaPipe's and TensorFlow Lite's native log lines filtered from its stderr for the
    whole run (tryon.tracking.quiet.filter_stderr), then `main`."""
    from tryon.tracking.quiet import filter_stderr

    filter_stderr()
    return main()


if __name__ == "__main__":
    raise SystemExit(entry())
