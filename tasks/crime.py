from celery import shared_task
from flask import current_app

from portal.crime import services, sources, uploads


@shared_task(bind=True, name="crime.import")
def import_files(self, paths, user_id=None, upload_id=None, hold_seconds=0):
    """Import police.uk files, reporting progress as task state, then roll up the months they held.

    With ``upload_id``, the upload's row follows the job (running, then done or failed). A job delivered
    again because its worker was lost imports again: each month is replaced, never doubled; a job that
    is done already, or that a retry replaced, does nothing. ``hold_seconds``: the crash tests pause the
    first delivery mid-file.
    """
    from portal.extensions import db
    from portal.people.models import User

    upload = None
    if upload_id is not None:
        upload = uploads.start(upload_id, self.request.id)
        db.session.commit()
        if upload is None:
            return {"skipped": True}
        if upload.attempts > 1:
            hold_seconds = 0
    by = db.session.get(User, user_id) if user_id else None
    total_files = len(paths)

    def progress(source, done, total):
        self.update_state(state="PROGRESS", meta={"file": source.name, "done": done, "total": total,
                                                  "files": total_files})

    try:
        runs, errors = services.import_paths(paths, by=by, progress=progress if self.request.id else None,
                                             hold_seconds=hold_seconds)
    except Exception as error:
        db.session.rollback()
        if upload is not None:
            uploads.fail(upload, f"The import failed: {error}")
            db.session.commit()
        raise
    # Imported or refused: uploads never pile up in UPLOAD_DIR (CLI files are not touched). A job that
    # crashed keeps its file, so the upload page's retry can import it.
    sources.discard_uploads(paths, current_app.config["UPLOAD_DIR"])
    months = sorted({run.month for run in runs if run.month})
    if months:
        current_app.extensions["celery"].tasks["indicators.rollup"].delay(
            months[0].isoformat(), months[-1].isoformat(), ["police_crime"])
    result = {"imported": [run.id for run in runs], "rows": sum(r.rows for r in runs),
              "unmatched": sum(r.unmatched for r in runs), "errors": [e.message for e in errors],
              "notes": [f"{r.file_name}: {r.quality_note}" for r in runs if r.quality_note]}
    if upload is not None:
        uploads.finish(upload, result)
        db.session.commit()
    return result


@shared_task(name="crime.fail_stale_uploads")
def fail_stale_uploads():
    """Every few minutes: uploads out longer than the visibility timeout are marked failed (the page offers a retry)."""
    from portal.extensions import db

    failed = uploads.fail_stale(current_app.config["CELERY_VISIBILITY_TIMEOUT"])
    db.session.commit()
    return failed
