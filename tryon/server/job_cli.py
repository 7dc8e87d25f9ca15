"""`tryon jobs`: product videos, turntables and catalog builds sent as jobs to the job engine, and any job's
progress, cancel and retry, from the command line.

With TRYON_BROKER_URL (and the cluster's TRYON_DATABASE_URL and TRYON_MEDIA_DIR) `submit` records the job and the
`tryon worker`s make it: the command returns the job's id at once (--wait: follows it to the end). Without a
broker there is no one else to make it, so `submit` runs the job's units here, in this machine's own worker
process, and waits. `-o DIR` (with waiting) copies what the job made into DIR, paths as under the job's out/
(a catalog build's DIR then holds catalog.json, the models and thumbnails, as assets/ does).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from tryon.errors import InputError

POLL_S = 0.5


def add_parser(sub: Any) -> None:
    """The `jobs` subcommand's parser, on the CLI's subparsers."""
    j = sub.add_parser("jobs", help="product videos, turntables and catalog builds as jobs (on `tryon worker`s with "
                                    "TRYON_BROKER_URL); a job's status, cancel, retry",
                       description="submit KIND [ITEM ...]: a job of one unit per catalog item; status|cancel|retry "
                                   "ID. Without TRYON_BROKER_URL, submit makes the job here and waits.")
    j.add_argument("action", choices=["submit", "status", "cancel", "retry"])
    j.add_argument("what", nargs="+", metavar="KIND ITEM... | ID",
                   help="submit: product-video, turntable or catalog-build, then item ids (catalog-build: none = "
                        "every built-in item); else the job's id")
    j.add_argument("--seconds", type=float, help="a clip's length (product video 3-10 s, turntable 2-6 s)")
    j.add_argument("--size", type=int, help="frame or still size in pixels, square")
    j.add_argument("--fps", type=int, help="frames per second (10-60)")
    j.add_argument("--style", help="product video: turn, sweep or push")
    j.add_argument("--metal", help="product video: the item's family member in this metal")
    j.add_argument("--stills", action="store_true", help="turntable: PNG stills of every metal instead of a turn")
    j.add_argument("--metals", help="turntable --stills: comma-separated metals (default all)")
    j.add_argument("--views", help="turntable --stills: comma-separated views (front, three-quarter, side, top)")
    j.add_argument("--wait", action="store_true", help="follow the job to its end (always without a broker)")
    j.add_argument("-o", "--output", type=Path, metavar="DIR", help="with waiting: copy what the job made here")
    j.add_argument("--json", action="store_true")


def options_from(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    """The job's options from the flags given (the rest: the kind's defaults); InputError for a flag the kind
    does not take."""
    given: dict[str, Any] = {k: v for k, v in (("seconds", args.seconds), ("size", args.size), ("fps", args.fps),
                                               ("style", args.style), ("metal", args.metal)) if v is not None}
    if args.stills:
        given["what"] = "stills"
    if args.metals:
        given["metals"] = [m.strip().replace("-", "_") for m in args.metals.split(",") if m.strip()]
    if args.views:
        given["views"] = [v.strip() for v in args.views.split(",") if v.strip()]
    from tryon.server.job_kinds import DEFAULTS

    wrong = sorted(k for k in given if k not in DEFAULTS.get(kind, {}))
    if wrong:
        raise InputError(f"a {kind} job does not take --{', --'.join(wrong)}")
    return given


def run(args: argparse.Namespace, settings: Any, catalog: Any) -> int:
    from tryon.server.jobs import Jobs

    jobs = Jobs.open(settings)
    try:
        if args.action == "submit":
            return _submit(args, jobs, settings, catalog)
        if len(args.what) != 1:
            raise InputError(f"tryon jobs {args.action} ID: one job id")
        job_id = args.what[0]
        if args.action == "cancel" and not jobs.cancel(job_id):
            raise InputError(f"no such job: {job_id}")
        if args.action == "retry":
            try:
                jobs.retry(job_id)
            except KeyError:
                raise InputError(f"no such job: {job_id}") from None
        return _report(jobs, job_id, args.json)
    finally:
        jobs.close()


def _submit(args: argparse.Namespace, jobs: Any, settings: Any, catalog: Any) -> int:
    from tryon.server.job_kinds import check_job
    from tryon.server.jobs import NewUnit

    kind, items = args.what[0], args.what[1:]
    options, specs = check_job(kind, options_from(args, kind), items, catalog)
    if args.output is not None and args.output.exists() and not args.output.is_dir():
        raise InputError(f"-o {args.output}: a file; -o takes a folder")
    job_id = jobs.create(kind, options, [NewUnit(name=s["item"], spec=s) for s in specs])
    local = not getattr(jobs, "remote", False)
    if not (args.wait or local or args.output is not None):
        print(json.dumps({"id": job_id, "total": len(specs)}) if args.json else job_id)
        return 0
    if local:
        jobs.start()  # no broker: this process's worker makes the units
    print(f"job {job_id}: {len(specs)} {kind} unit(s)" + ("" if local else " on the workers"), file=sys.stderr)
    job = _wait(jobs, job_id)
    if args.output is not None:
        _copy_out(jobs, job, args.output)
    code = _report(jobs, job_id, args.json)
    return code or (1 if job.failed else 0)


def _wait(jobs: Any, job_id: str) -> Any:
    shown = -1
    while True:
        job = jobs.get(job_id)
        if job is None:
            raise InputError(f"job {job_id} is gone (purged?)")
        settled = job.done + job.failed
        if settled != shown and sys.stderr.isatty():
            print(f"\r{settled}/{job.total} settled", end="", file=sys.stderr)
            shown = settled
        if job.finished or job.state == "cancelled":
            if sys.stderr.isatty():
                print(file=sys.stderr)
            return job
        time.sleep(POLL_S)


def _copy_out(jobs: Any, job: Any, dest: Path) -> None:
    """The done units' files (and a finished job's extra files) into dest, as under the job's out/."""
    from tryon.server.job_kinds import OUT, finished_files, unit_files

    folder = jobs.job_dir(job)
    files = [f for u in job.units if u.status == "done" for f in unit_files(u.result)]
    if job.finished:
        files += finished_files(job.kind, job.unit_options or job.options, list(job.results), folder)
    for rel in files:
        target = dest / Path(rel).relative_to(OUT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / rel, target)


def _report(jobs: Any, job_id: str, as_json: bool) -> int:
    job = jobs.get(job_id)
    if job is None:
        raise InputError(f"no such job: {job_id}")
    if as_json:
        print(json.dumps({"id": job.id, "kind": job.kind, "state": job.state, "total": job.total, "done": job.done,
                          "failed": job.failed, "units": [{"name": u.name, "status": u.status, "error": u.error,
                                                           "result": u.result} for u in job.units]}, indent=1))
        return 0
    print(f"{job.id} {job.kind}: {job.state}, {job.done} of {job.total} done, {job.failed} failed")
    for u in job.units:
        print(f"  {u.name}: {u.status}" + (f" ({u.error})" if u.error else ""))
    return 0
