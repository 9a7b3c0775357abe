"""The console's whole-table work: anatomy (schema and stats) and exports with progress.

An export is :meth:`Table.export` itself (every format it writes, nothing lost), run on a
thread into the console's private temporary folder while the page polls its progress; the
finished file is then sent to the browser and deleted.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from typing import Any

from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from ddbkit import DdbkitError, Interrupted, present
from ddbkit.console.http import Answer, Call, Refused
from ddbkit.console.items import refuse_unconfirmed_scan
from ddbkit.console.session import ExportJob

DEFAULT_SAMPLE = 1000
MAX_SAMPLE = 1_000_000
SUFFIX = {"jsonl": "jsonl", "ddb-json": "json", "csv": "csv", "parquet": "parquet"}


def schema(call: Call) -> dict[str, Any]:
    table = call.session.table(call.path["name"])
    report = table.schema(sample=_sample(call))
    return {**report.to_dict(), "scope": report.scope}


def stats(call: Call) -> dict[str, Any]:
    table = call.session.table(call.path["name"])
    report = table.stats(sample=_sample(call))
    return {**report.to_dict(), "scope": report.scope}


def _sample(call: Call) -> int | None:
    sample = call.number("sample", DEFAULT_SAMPLE, low=0, high=MAX_SAMPLE)
    return sample or None  # 0: every item (a full scan)


# -- exports --------------------------------------------------------------------------------------


def start_export(call: Call) -> Answer:
    session = call.session
    name = call.path["name"]
    table = session.table(name)
    fmt = call.text("format", "jsonl")
    if fmt not in present.EXPORT_FORMATS:
        raise Refused(400, f"format must be one of {', '.join(present.EXPORT_FORMATS)}")
    where = call.text("where").strip() or None
    refuse_unconfirmed_scan(call, table.explain(where), every_page=True)
    job_id = secrets.token_urlsafe(12)
    folder = session.workdir() / job_id
    folder.mkdir(mode=0o700)
    job = ExportJob(job_id, name, fmt, folder / f"{name}.{SUFFIX[fmt]}")
    session.exports[job_id] = job

    def counted(items: int) -> None:
        if job.cancelled.is_set():
            raise Interrupted("export cancelled")
        job.items += items

    def run() -> None:
        try:
            table.export(job.path, format=fmt, where=where, force=True, progress=counted)
        except Interrupted:  # cancelled, or the console is stopping: a KeyboardInterrupt
            job.error = "export cancelled"
        except DdbkitError as error:
            job.error = str(error).splitlines()[0]
        except Exception as error:  # shown in the page as one line, like every failure
            job.error = f"export failed: {type(error).__name__}: {error}".splitlines()[0]
        finally:
            job.done = True

    threading.Thread(target=run, name=f"ddbkit-console-export-{job_id}", daemon=True).start()
    return Answer(202, {"id": job_id})


def export_progress(call: Call) -> dict[str, Any]:
    job = _job(call)
    return {"items": job.items, "done": job.done, "error": job.error, "filename": job.filename}


def export_file(call: Call) -> FileResponse:
    job = _job(call)
    if not job.done:
        raise Refused(409, "the export is still running")
    if job.error is not None:
        raise Refused(400, job.error)
    call.session.exports.pop(job.id, None)
    return FileResponse(
        job.path,
        filename=job.filename,
        background=BackgroundTask(_remove, job),  # the file is the user's now; ours goes
    )


def cancel_export(call: Call) -> dict[str, Any]:
    job = _job(call)
    job.cancelled.set()
    call.session.exports.pop(job.id, None)
    if job.done:
        _remove(job)
    return {"cancelled": True}


def _job(call: Call) -> ExportJob:
    job = call.session.exports.get(call.path["id"])
    if job is None:
        raise Refused(404, "no such export (it was downloaded or cancelled already)")
    return job


def _remove(job: ExportJob) -> None:
    job.path.unlink(missing_ok=True)
    job.path.with_name(job.path.name + ".tmp").unlink(missing_ok=True)
    # Export's own checkpoint files may still be there; the session's close() removes them.
    with contextlib.suppress(OSError):
        job.path.parent.rmdir()
