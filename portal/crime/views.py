"""The crime pages: police.uk uploads and their progress, and the strategic assessment."""
from datetime import date

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from ..access import ADMIN, ANALYST, SIGNED_IN, allow
from ..errors import PortalError
from ..extensions import db
from ..forms import EARLIEST, LATEST, form_page, render_form
from . import assessment as strategic
from . import services, uploads
from .forms import CrimeUploadForm
from .maps import rate_map
from .models import CrimeUpload
from .stats import latest_month

bp = Blueprint("crime", __name__, url_prefix="/crime")


# ---- police.uk imports ------------------------------------------------------------------------------

@bp.route("/imports", methods=["GET", "POST"])
@allow(ANALYST, ADMIN)
def imports():
    if uploads.fail_stale(current_app.config["CELERY_VISIBILITY_TIMEOUT"]):
        db.session.commit()  # lost uploads are listed as failed, with their retry, not as importing
    form = CrimeUploadForm()
    page = dict(history=services.recent_imports(), unfinished=uploads.unfinished_or_failed(),
                months=services.months_imported())
    if form_page("crime/imports.html", form, **page).validate_on_submit():
        job = uploads.receive(form.file.data, current_app.config["UPLOAD_DIR"], by=current_user)
        db.session.commit()  # the job's row exists before the job does
        _enqueue_import(job)
        return redirect(url_for("crime.import_progress", upload_id=job.id))
    return render_form("crime/imports.html", form, **page)


def _enqueue_import(job):
    current_app.extensions["celery"].tasks["crime.import"].apply_async(
        (job.paths,), {"user_id": current_user.id, "upload_id": job.id}, task_id=job.task_id)


@bp.route("/imports/<int:upload_id>")
@allow(ANALYST, ADMIN)
def import_progress(upload_id):
    job = db.get_or_404(CrimeUpload, upload_id)
    return render_template("crime/import_progress.html", upload=job, name=job.file_name,
                           status=_upload_status(job), retry_form=FlaskForm())


@bp.route("/imports/<int:upload_id>.json")
@allow(ANALYST, ADMIN)
def import_status(upload_id):
    return jsonify(_upload_status(db.get_or_404(CrimeUpload, upload_id)))


@bp.route("/imports/<int:upload_id>/retry", methods=["POST"])
@allow(ANALYST, ADMIN)
def retry_import(upload_id):
    job = db.get_or_404(CrimeUpload, upload_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    # A button, not a form page: a refusal goes back to the progress page as a message.
    try:
        uploads.retry(job)
    except PortalError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        _enqueue_import(job)
        flash(f"Importing {job.file_name} again.", "success")
    return redirect(url_for("crime.import_progress", upload_id=job.id))


def _upload_status(job):
    result = current_app.extensions["celery"].AsyncResult(job.task_id)
    status = uploads.status(job, result.state, result.info, current_app.config["CELERY_VISIBILITY_TIMEOUT"])
    db.session.commit()  # an upload found lost is marked failed for every page that shows it
    if status["state"] == "failed":
        status["retry_url"] = url_for("crime.retry_import", upload_id=job.id)
    return status


# ---- the strategic assessment ------------------------------------------------------------------------------

@bp.route("/assessment")
@allow(SIGNED_IN)
def assessment():
    latest = latest_month()
    if latest is None:
        return render_template("crime/assessment.html", months=[], result=None)
    try:
        end = date.fromisoformat(request.args["end"] + "-01") if request.args.get("end") else None
        length = int(request.args.get("length", 12))
    except ValueError:
        abort(404)
    if end is not None and not EARLIEST <= end <= LATEST:  # year 1 or 9999 would run off the calendar
        abort(404)
    compare = "previous" if request.args.get("compare") == "previous" else "year"
    found = strategic.strategic_assessment(latest, end, min(max(length, 1), 12), compare)
    w = found["w"]
    return render_template("crime/assessment.html", months=services.months_imported(), end=w["end"],
                           length=w["length"], window=found["window"], w=w, compare=compare,
                           sections=found["sections"], ranked=found["ranked"][:15],
                           map_parts=rate_map(found["ranked"], current_app.config), result=True,
                           month_label=lambda m: f"{m:%Y-%m}")
