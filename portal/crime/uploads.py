"""Uploads of police.uk files, followed to the end: queued, running, then done or failed with a retry.

A job can be lost with its worker (killed, out of memory, host gone). The broker
gives an unacknowledged job to another worker once it has been out longer than
the visibility timeout (CELERY_VISIBILITY_TIMEOUT); when none takes it, the
upload is shown failed once it has been out that long, so no page says
"Working" for ever. Importing is idempotent (a file's month is replaced), so a
job run twice, or a retry, leaves one copy of each month.
"""
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import or_, select, update
from werkzeug.utils import secure_filename

from ..errors import PortalError
from ..extensions import db
from ..models import utcnow
from .models import CrimeUpload
from .sources import discard_uploads, sources

LOST = ("The import did not finish: the worker running it stopped before the end. "
        "No half-imported file was saved. Try the import again.")
NOT_STARTED = "The import did not finish: no worker started it. Try the import again."
UNFINISHED = ("queued", "running")


def new_upload(paths, file_name, *, by=None):
    """A queued upload of ``paths``, with the id of the job that will import them. Flushes; the caller
    commits, then enqueues the job with ``task_id=upload.task_id`` and ``upload_id=upload.id``."""
    upload = CrimeUpload(file_name=file_name, paths=[str(p) for p in paths], task_id=str(uuid.uuid4()),
                         by_id=getattr(by, "id", None))
    db.session.add(upload)
    db.session.flush()
    return upload


def receive(file, upload_dir, *, by=None):
    """Keep an uploaded file (a werkzeug FileStorage) in a folder of its own under ``upload_dir`` and queue
    it as for ``new_upload``. Flushes; the caller commits, then enqueues. Raises PortalError on the
    ``file`` field, with the file removed, for a damaged zip or a zip with no CSV."""
    # A folder of its own per upload keeps the file's own name for messages, safely.
    # (In production the web and worker hosts share UPLOAD_DIR.)
    folder = Path(upload_dir) / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    name = Path(secure_filename(file.filename) or "upload.csv")
    path = folder / (name.stem[:120] + name.suffix[:8])  # file systems stop at 255 bytes
    file.save(path)
    try:
        sources([path])  # a damaged zip, or one with no CSV, is refused now, on the form
    except PortalError as error:
        discard_uploads([path], upload_dir)
        raise PortalError(f"Nothing was imported. {error.message}", field="file") from None
    return new_upload([path], path.name, by=by)


def start(upload_id, task_id):
    """Mark the upload running for this delivery of job ``task_id``; returns it, or None when the job must
    not run: the upload is done already, or a retry has replaced this job. Flushes."""
    upload = db.session.get(CrimeUpload, upload_id, with_for_update=True)
    if upload is None or upload.task_id != task_id or upload.status == "done":
        return None
    upload.status, upload.attempts, upload.message = "running", upload.attempts + 1, ""
    upload.started_at, upload.finished_at = utcnow(), None
    db.session.flush()
    return upload


def finish(upload, result):
    """The job's last word: done, with what it imported (``result``, as the job returns it). Flushes."""
    upload.status, upload.result, upload.message, upload.finished_at = "done", result, "", utcnow()
    db.session.flush()


def fail(upload, message):
    """Failed, with a message for the analyst (who may retry). Flushes."""
    upload.status, upload.message, upload.finished_at = "failed", message, utcnow()
    db.session.flush()


def retry(upload):
    """Queue a failed upload again under a new job id; the caller commits, then enqueues as for a new one.
    Raises PortalError when the upload has not failed or its files are no longer on the server."""
    if upload.status != "failed":
        raise PortalError("Only an import that did not finish can be tried again")
    if not all(Path(path).exists() for path in upload.paths):
        raise PortalError("The uploaded file is no longer on the server: upload it again")
    upload.status, upload.task_id, upload.message, upload.result = "queued", str(uuid.uuid4()), "", None
    upload.queued_at, upload.started_at, upload.finished_at = utcnow(), None, None
    db.session.flush()
    return upload


def _stale(timeout, now):
    limit = (now or utcnow()) - timedelta(seconds=timeout)
    return or_((CrimeUpload.status == "running") & (CrimeUpload.started_at < limit),
               (CrimeUpload.status == "queued") & (CrimeUpload.queued_at < limit))


def fail_stale(timeout, now=None):
    """Mark failed every upload queued or running for longer than ``timeout`` seconds (the beat job).
    Flushes; returns how many."""
    lost = db.session.execute(update(CrimeUpload).where(_stale(timeout, now), CrimeUpload.status == "running")
                              .values(status="failed", message=LOST, finished_at=utcnow())).rowcount
    unstarted = db.session.execute(update(CrimeUpload).where(_stale(timeout, now), CrimeUpload.status == "queued")
                                   .values(status="failed", message=NOT_STARTED, finished_at=utcnow())).rowcount
    return lost + unstarted


def status(upload, job_state, job_info, timeout, now=None):
    """What the progress page shows: {"state": "waiting" | "running" | "done" | "failed", "percent", ...}.

    ``job_state``/``job_info`` are the Celery state of the upload's job. An unfinished upload whose job
    failed, whose job the result backend no longer knows while it runs, or that has been out longer than
    ``timeout`` seconds is marked failed here (flushes; the caller commits).
    """
    if upload.status in UNFINISHED:
        if job_state == "FAILURE":
            fail(upload, f"The import failed: {job_info}")
        elif upload.status == "running" and job_state == "PENDING":
            fail(upload, LOST)  # running, yet the result backend has never heard of the job
        elif db.session.execute(select(CrimeUpload.id).where(CrimeUpload.id == upload.id,
                                                             _stale(timeout, now))).first():
            fail(upload, LOST if upload.status == "running" else NOT_STARTED)
    if upload.status == "done":
        return {"state": "done", "percent": 100, **(upload.result or {})}
    if upload.status == "failed":
        return {"state": "failed", "percent": 100, "errors": [upload.message]}
    if upload.status == "running":
        if job_state == "PROGRESS" and isinstance(job_info, dict):
            # The result backend may hand back another attempt's meta (a retry reuses the upload): no counts,
            # no percentage, rather than a failing progress page.
            done, total = job_info.get("done", 0), job_info.get("total") or 1
            return {"state": "running", "file": job_info.get("file") or upload.file_name,
                    "percent": round(100 * done / total)}
        return {"state": "running", "file": upload.file_name, "percent": 0}
    return {"state": "waiting", "percent": 0}


def unfinished_or_failed(limit=20):
    """The latest uploads that are not done: what the imports page lists above the history."""
    return db.session.execute(select(CrimeUpload).where(CrimeUpload.status != "done")
                              .order_by(CrimeUpload.id.desc()).limit(limit)).scalars().all()
