import io
import uuid
from datetime import date
from pathlib import Path

from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request,
                   url_for)
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from werkzeug.utils import secure_filename

from .. import spreadsheets
from ..access import ADMIN, ANALYST, SIGNED_IN, allow
from ..crime import services as crime
from ..crime import uploads
from ..crime.models import CrimeUpload
from ..crime.stats import crime_counts, latest_month
from ..errors import PortalError
from ..extensions import db
from ..forms import EARLIEST, LATEST, form_page, render_form
from ..places.models import Locality
from ..places.services import descendants_map
from ..plan.models import IndicatorDefinition
from . import engine, services
from .forms import CrimeUploadForm, IndicatorTargetsForm, ManualValueForm
from .models import FREQUENCY_PERIODS, PERIOD_LABELS

bp = Blueprint("indicators", __name__, url_prefix="/indicators")


@bp.record_once
def add_crime_to_other_pages(state):
    from .providers import register

    register()


def _locality(key):
    loc = db.session.execute(select(Locality).where(Locality.key == (key or "shropshire"))).scalar_one_or_none()
    if loc is None:
        abort(404)
    return loc


def _report_args():
    frequency = request.args.get("frequency", "monthly")
    if frequency not in FREQUENCY_PERIODS:
        abort(404)
    if engine.portal_figures_stale():  # no beat in the embedded mode: recompute on demand
        engine.rollup(sources=("portal",))
    periods = services.periods_available(FREQUENCY_PERIODS[frequency])
    # Opens on the latest period with police data, not on an empty current month.
    wanted = request.args.get("period") or str(services.latest_police_period(FREQUENCY_PERIODS[frequency]))
    chosen = next((p for p in periods if p[0].isoformat() == wanted), periods[0] if periods else None)
    return frequency, periods, chosen, _locality(request.args.get("locality"))


@bp.route("/")
@allow(SIGNED_IN)
def report():
    frequency, periods, chosen, locality = _report_args()
    rows = services.report(frequency, chosen[0], locality) if chosen else []
    period_type = FREQUENCY_PERIODS[frequency]
    trends = {r.indicator.id: services.trend(r.indicator.id, locality.id, period_type) for r in rows if r.value}
    return render_template("indicators/report.html", frequency=frequency, periods=periods, chosen=chosen,
                           locality=locality, rows=rows, trends=trends, children=services.children_of(locality),
                           trail=list(reversed(locality.ancestors())), frequencies=FREQUENCY_PERIODS)


@bp.route("/report.csv")
@allow(SIGNED_IN)
def report_csv():
    frequency, periods, chosen, locality = _report_args()
    buffer = io.StringIO()
    writer = spreadsheets.Writer(buffer)
    writer.writerow(["theme", "action", "ni_code", "indicator", "unit", "locality", "period", "value", "numerator",
                     "denominator", "months_with_data", "months_in_period", "annualised", "target", "trajectory",
                     "rag", "rag_marks", "measured_by", "value_year_before", "change_pct", "change_compares"])
    for r in services.report(frequency, chosen[0], locality) if chosen else []:
        v = r.value
        writer.writerow([r.theme, r.action, r.indicator.ni_code or "", r.indicator.name, r.indicator.unit,
                         locality.name, chosen[2], _num(v.value if v else None), _num(v.numerator if v else None),
                         _num(v.denominator if v else None), v.months if v else "", v.length if v else "",
                         _num(r.annualised), _num(r.aim.target), _num(r.expected), r.rag or "",
                         "; ".join(r.marks), r.proxy, _num(v.previous_value if v else None),
                         _num(v.change_pct if v else None), "same period a year earlier, month for month"])
    name = f"pmcg-{frequency}-{locality.key}-{chosen[0] if chosen else 'none'}.csv"
    return Response(buffer.getvalue(), mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _num(value):
    return "" if value is None else round(value, 4)


# ---- police.uk imports ------------------------------------------------------------------------------

@bp.route("/imports", methods=["GET", "POST"])
@allow(ANALYST, ADMIN)
def imports():
    form = CrimeUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        # A folder of its own per upload keeps the file's own name for messages, safely.
        # (In production the web and worker hosts share UPLOAD_DIR.)
        folder = Path(current_app.config["UPLOAD_DIR"]) / uuid.uuid4().hex
        folder.mkdir(parents=True, exist_ok=True)
        name = Path(secure_filename(upload.filename) or "upload.csv")
        path = folder / (name.stem[:120] + name.suffix[:8])  # file systems stop at 255 bytes
        upload.save(path)
        try:
            crime.sources([path])  # a damaged zip, or one with no CSV, is refused now, on the form
        except PortalError as error:
            crime.discard_uploads([path], current_app.config["UPLOAD_DIR"])
            form.file.errors = list(form.file.errors) + [f"Nothing was imported. {error.message}"]
        else:
            job = uploads.new_upload([path], path.name, by=current_user)
            db.session.commit()  # the job's row exists before the job does
            _enqueue_import(job)
            return redirect(url_for("indicators.import_progress", upload_id=job.id))
    if uploads.fail_stale(current_app.config["CELERY_VISIBILITY_TIMEOUT"]):
        db.session.commit()  # lost uploads are listed as failed, with their retry, not as importing
    return render_template("indicators/imports.html", form=form, history=crime.recent_imports(),
                           unfinished=uploads.unfinished_or_failed(), months=crime.months_imported()), (
        400 if request.method == "POST" else 200)


def _enqueue_import(job):
    current_app.extensions["celery"].tasks["crime.import"].apply_async(
        (job.paths,), {"user_id": current_user.id, "upload_id": job.id}, task_id=job.task_id)


@bp.route("/imports/<int:upload_id>")
@allow(ANALYST, ADMIN)
def import_progress(upload_id):
    job = db.get_or_404(CrimeUpload, upload_id)
    return render_template("indicators/import_progress.html", upload=job, name=job.file_name,
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
    try:
        uploads.retry(job)
    except PortalError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        _enqueue_import(job)
        flash(f"Importing {job.file_name} again.", "success")
    return redirect(url_for("indicators.import_progress", upload_id=job.id))


def _upload_status(job):
    result = current_app.extensions["celery"].AsyncResult(job.task_id)
    status = uploads.status(job, result.state, result.info, current_app.config["CELERY_VISIBILITY_TIMEOUT"])
    db.session.commit()  # an upload found lost is marked failed for every page that shows it
    if status["state"] == "failed":
        status["retry_url"] = url_for("indicators.retry_import", upload_id=job.id)
    return status


# ---- one indicator: its trend, what it aims at, and who changed that ---------------------------------------

@bp.route("/<code>", methods=["GET", "POST"])
@allow(SIGNED_IN)
def indicator(code):
    definition = db.session.execute(select(IndicatorDefinition).where(
        IndicatorDefinition.code == code)).scalar_one_or_none() or abort(404)
    locality = _locality(request.args.get("locality"))
    can_edit = current_user.role in ("analyst", "admin")
    form = IndicatorTargetsForm(obj=None if request.method == "POST" else definition)
    period_type = FREQUENCY_PERIODS.get(definition.frequency, "month")
    page = dict(definition=definition, locality=locality, can_edit=can_edit,
                aim=services.goal(definition, locality.id),
                trend=services.trend(definition.id, locality.id, period_type), period_label=PERIOD_LABELS[period_type])
    if request.method == "POST" and not can_edit:
        abort(403)
    if form_page("indicators/indicator.html", form, **page).validate_on_submit():
        changed = services.edit_definition(
            definition, by=current_user, reason=form.reason.data,
            **{name: getattr(form, name).data for name in services.EDITABLE
               if name not in ("baseline_period_type", "baseline_period_start")},
            baseline_period_type=form.baseline_period_type.data or None,
            baseline_period_start=form.baseline_period_start.data.replace(day=1)
            if form.baseline_period_start.data else None)
        db.session.commit()
        flash(f"Saved {len(changed)} change{'s' if len(changed) != 1 else ''}; the report uses them now.", "success")
        return redirect(url_for("indicators.indicator", code=code, locality=locality.key))
    return render_form("indicators/indicator.html", form, **page)


# ---- hand-entered figures -------------------------------------------------------------------------------

@bp.route("/manual", methods=["GET", "POST"])
@allow(ANALYST, ADMIN)
def manual():
    form = ManualValueForm()
    form.indicator.choices = [("", "Choose an indicator")] + [
        (str(i.id), f"{i.ni_code + ': ' if i.ni_code else ''}{i.name}") for i in db.session.execute(
            select(IndicatorDefinition).where(or_(IndicatorDefinition.source == "manual", IndicatorDefinition.proxy_note != ""))
            .order_by(IndicatorDefinition.code)).scalars()]
    form.locality.choices = [("", "Choose a locality")] + [
        (str(l.id), f"{l.name} ({l.level_label.lower()})") for l in db.session.execute(
            select(Locality).where(Locality.level.in_(("county", "area", "neighbourhood"))).order_by(Locality.id)).scalars()]
    if form_page("indicators/manual.html", form, history=services.manual_history(),
                 labels=PERIOD_LABELS).validate_on_submit():
        first = form.period_start.data.replace(day=1)
        services.enter_manual_value(
            by=current_user, indicator_id=int(form.indicator.data), locality_id=int(form.locality.data),
            period_type=form.period_type.data, period_start=first, value=form.value.data,
            note=form.note.data or "")
        db.session.commit()
        engine.rollup(first, first, sources=("manual",))
        flash("Saved, and the report updated.", "success")
        return redirect(url_for("indicators.manual"))
    return render_form("indicators/manual.html", form, history=services.manual_history(), labels=PERIOD_LABELS)


# ---- the strategic assessment ------------------------------------------------------------------------------

@bp.route("/assessment")
@allow(SIGNED_IN)
def assessment():
    latest = latest_month()
    if latest is None:
        return render_template("indicators/assessment.html", months=[], result=None)
    try:
        end = date.fromisoformat(request.args["end"] + "-01") if request.args.get("end") else None
        length = int(request.args.get("length", 12))
    except ValueError:
        abort(404)
    if end is not None and not EARLIEST <= end <= LATEST:  # year 1 or 9999 would run off the calendar
        abort(404)
    compare = "previous" if request.args.get("compare") == "previous" else "year"
    w = services.assessment_window(latest, end, min(max(length, 1), 12), compare)
    window = (f"{w['start']:%B %Y} to {w['end']:%B %Y} compared with {w['compared_with']} "
              f"({w['before_start']:%B %Y} to {w['before_end']:%B %Y})")
    places = [_locality("shropshire")] + list(db.session.execute(
        select(Locality).where(Locality.level == "area").order_by(Locality.id)).scalars())
    below = descendants_map()
    sections = []
    for place in places:
        ids = below.get(place.id, {place.id})
        rows = services.change_by_type(crime_counts(w["start"], w["end"], ids),
                                       crime_counts(w["before_start"], w["before_end"], ids),
                                       len(w["months"]), len(w["before_months"]))
        sections.append((place, rows, services.sentence(place.name, rows, window)))
    ranked = services.vulnerable_localities(w["start"], w["end"], w["before_start"], w["before_end"],
                                            level="ward", limit=None)
    from .maps import rate_map

    return render_template("indicators/assessment.html", months=crime.months_imported(), end=w["end"],
                           length=w["length"], window=window, w=w, compare=compare,
                           sections=sections, ranked=ranked[:15],
                           map_parts=rate_map(ranked, current_app.config), result=True,
                           month_label=lambda m: f"{m:%Y-%m}")
