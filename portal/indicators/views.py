import io
import uuid
from datetime import date
from pathlib import Path

from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request,
                   url_for)
from flask_login import current_user
from sqlalchemy import select
from werkzeug.utils import secure_filename

from .. import spreadsheets
from ..access import ADMIN, ANALYST, SIGNED_IN, allow
from ..crime import services as crime
from ..errors import PortalError
from ..extensions import db
from ..forms import EARLIEST, LATEST, show_error
from ..places.models import Locality
from ..plan.models import IndicatorDefinition
from . import services
from .forms import CrimeUploadForm, ManualValueForm
from .models import FREQUENCY_PERIODS, PERIOD_LABELS
from .periods import add_months

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
    periods = services.periods_available(FREQUENCY_PERIODS[frequency])
    wanted = request.args.get("period")
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
                     "denominator", "months_with_data", "target", "trajectory", "rag", "value_year_before",
                     "change_pct"])
    for r in services.report(frequency, chosen[0], locality) if chosen else []:
        v = r.value
        writer.writerow([r.theme, r.action, r.indicator.ni_code or "", r.indicator.name, r.indicator.unit,
                         locality.name, chosen[2], _num(v.value if v else None), _num(v.numerator if v else None),
                         _num(v.denominator if v else None), v.months if v else "", _num(r.indicator.target),
                         _num(r.expected), r.rag or "", _num(v.previous_value if v else None),
                         _num(v.change_pct if v else None)])
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
            task = current_app.extensions["celery"].tasks["crime.import"].delay([str(path)], current_user.id)
            return redirect(url_for("indicators.import_progress", task_id=task.id, name=path.name))
    return render_template("indicators/imports.html", form=form, history=crime.recent_imports(),
                           months=crime.months_imported()), (400 if request.method == "POST" else 200)


@bp.route("/imports/<task_id>")
@allow(ANALYST, ADMIN)
def import_progress(task_id):
    return render_template("indicators/import_progress.html", task_id=task_id, name=request.args.get("name", ""),
                           status=_task_status(task_id))


@bp.route("/imports/<task_id>.json")
@allow(ANALYST, ADMIN)
def import_status(task_id):
    return jsonify(_task_status(task_id))


def _task_status(task_id):
    result = current_app.extensions["celery"].AsyncResult(task_id)
    state, info = result.state, result.info
    if state == "PROGRESS" and isinstance(info, dict):
        return {"state": "running", "file": info.get("file"), "percent": round(100 * info["done"] / max(info["total"], 1))}
    if state == "SUCCESS":
        return {"state": "done", "percent": 100, **(info or {})}
    if state == "FAILURE":
        return {"state": "failed", "percent": 100, "errors": [str(info)]}
    return {"state": "waiting", "percent": 0}


# ---- hand-entered figures -------------------------------------------------------------------------------

@bp.route("/manual", methods=["GET", "POST"])
@allow(ANALYST, ADMIN)
def manual():
    form = ManualValueForm()
    form.indicator.choices = [("", "Choose an indicator")] + [
        (str(i.id), f"{i.ni_code + ': ' if i.ni_code else ''}{i.name}") for i in db.session.execute(
            select(IndicatorDefinition).where(IndicatorDefinition.source == "manual").order_by(IndicatorDefinition.code)).scalars()]
    form.locality.choices = [("", "Choose a locality")] + [
        (str(l.id), f"{l.name} ({l.level_label.lower()})") for l in db.session.execute(
            select(Locality).where(Locality.level.in_(("county", "area", "neighbourhood"))).order_by(Locality.id)).scalars()]
    if form.validate_on_submit():
        try:
            services.enter_manual_value(
                by=current_user, indicator_id=int(form.indicator.data), locality_id=int(form.locality.data),
                period_type=form.period_type.data, period_start=form.period_start.data.replace(day=1),
                value=form.value.data, note=form.note.data or "")
            from .engine import rollup

            first = form.period_start.data.replace(day=1)
            rollup(first, first, sources=("manual",))
        except PortalError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            flash("Saved, and the report updated.", "success")
            return redirect(url_for("indicators.manual"))
    return render_template("indicators/manual.html", form=form, history=services.manual_history(),
                           labels=PERIOD_LABELS), (400 if request.method == "POST" else 200)


# ---- the strategic assessment ------------------------------------------------------------------------------

@bp.route("/assessment")
@allow(SIGNED_IN)
def assessment():
    months = crime.months_imported()
    if not months:
        return render_template("indicators/assessment.html", months=[], result=None)
    try:
        end = date.fromisoformat(request.args["end"] + "-01") if request.args.get("end") else months[-1]
        length = int(request.args.get("length", 12))
    except ValueError:
        abort(404)
    if not EARLIEST <= end <= LATEST:  # year 1 or 9999 would run off the calendar below
        abort(404)
    length = min(max(length, 1), 12)
    compare = request.args.get("compare", "year")
    start = add_months(end, -(length - 1))
    # Against the same months a year earlier (the plan's way), or the window just before.
    back = length if compare == "previous" else 12
    before_start, before_end = add_months(start, -back), add_months(end, -back)
    window = f"{start:%B %Y} to {end:%B %Y} compared with {before_start:%B %Y} to {before_end:%B %Y}"
    from ..places.models import descendant_ids

    places = [_locality("shropshire")] + [l for l in db.session.execute(
        select(Locality).where(Locality.level == "area").order_by(Locality.id)).scalars()]
    sections = []
    for place in places:
        ids = list(db.session.execute(descendant_ids(place.id)).scalars())
        rows = services.change_by_type(services.crime_counts(start, end, ids),
                                       services.crime_counts(before_start, before_end, ids))
        sections.append((place, rows, services.sentence(place.name, rows, window)))
    ranked = services.vulnerable_localities(start, end, before_start, before_end, level="ward", limit=None)
    from .maps import rate_map

    return render_template("indicators/assessment.html", months=months, end=end, length=length, window=window,
                           compare=compare,
                           sections=sections, ranked=ranked[:15],
                           map_parts=rate_map(ranked, current_app.config), result=True,
                           month_label=lambda m: f"{m:%Y-%m}")
