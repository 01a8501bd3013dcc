from celery import shared_task
from flask import current_app

from portal.crime import services


@shared_task(bind=True, name="crime.import")
def import_files(self, paths, user_id=None):
    """Import police.uk files, reporting progress as task state, then roll up the months they held."""
    from portal.extensions import db
    from portal.people.models import User

    by = db.session.get(User, user_id) if user_id else None
    total_files = len(paths)

    def progress(source, done, total):
        self.update_state(state="PROGRESS", meta={"file": source.name, "done": done, "total": total,
                                                  "files": total_files})

    try:
        runs, errors = services.import_paths(paths, by=by, progress=progress if self.request.id else None)
    finally:
        # Uploads are imported or refused once: they never pile up in UPLOAD_DIR (CLI files are not touched).
        services.discard_uploads(paths, current_app.config["UPLOAD_DIR"])
    months = sorted({run.month for run in runs if run.month})
    if months:
        current_app.extensions["celery"].tasks["indicators.rollup"].delay(
            months[0].isoformat(), months[-1].isoformat(), ["police_crime"])
    return {"imported": [run.id for run in runs], "rows": sum(r.rows for r in runs),
            "unmatched": sum(r.unmatched for r in runs), "errors": [e.message for e in errors]}
