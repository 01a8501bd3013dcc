import io

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select

from .. import spreadsheets
from ..access import ADMIN, ANALYST, SIGNED_IN, allow
from ..evidence import services as evidence
from ..extensions import db
from ..forms import form_page, render_form
from ..places.models import Locality
from ..plan.models import IndicatorDefinition
from . import engine, services
from .forms import IndicatorTargetsForm, ManualValueForm
from .models import FREQUENCY_PERIODS, PERIOD_LABELS

bp = Blueprint("indicators", __name__, url_prefix="/indicators")


def _locality(key):
    loc = db.session.execute(select(Locality).where(Locality.key == (key or "shropshire"))).scalar_one_or_none()
    if loc is None:
        abort(404)
    return loc


def _report_args(download=False):
    frequency = request.args.get("frequency", "monthly")
    if frequency not in FREQUENCY_PERIODS:
        abort(404)
    if download:  # a download leaves the portal without the page's note: its figures are made current first
        engine.bring_portal_figures_up_to_date()
        refreshing = None
    else:
        refreshing = engine.refresh_portal_figures()
    periods = services.periods_available(FREQUENCY_PERIODS[frequency])
    # Opens on the latest period with police data, not on an empty current month.
    wanted = request.args.get("period") or str(services.latest_police_period(FREQUENCY_PERIODS[frequency]))
    chosen = next((p for p in periods if p[0].isoformat() == wanted), periods[0] if periods else None)
    return frequency, periods, chosen, _locality(request.args.get("locality")), refreshing


@bp.route("/")
@allow(SIGNED_IN)
def report():
    frequency, periods, chosen, locality, refreshing = _report_args()
    rows = services.report(frequency, chosen[0], locality, viewer=current_user) if chosen else []
    period_type = FREQUENCY_PERIODS[frequency]
    trends = services.trends({r.indicator: r.aim for r in rows if r.value}, locality.id, period_type)
    task_evidence = evidence.summaries([t for r in rows for t in r.tasks.live + r.tasks.completed])
    return render_template("indicators/report.html", frequency=frequency, periods=periods, chosen=chosen,
                           locality=locality, rows=rows, trends=trends, children=services.children_of(locality),
                           task_evidence=task_evidence, refreshing=refreshing,
                           trail=list(reversed(locality.ancestors())), frequencies=FREQUENCY_PERIODS)


@bp.route("/report.csv")
@allow(SIGNED_IN)
def report_csv():
    frequency, periods, chosen, locality, _ = _report_args(download=True)
    buffer = io.StringIO()
    writer = spreadsheets.Writer(buffer)
    writer.writerow(["theme", "action", "ni_code", "indicator", "unit", "locality", "period", "value", "numerator",
                     "denominator", "months_with_data", "months_in_period", "annualised", "target", "trajectory",
                     "rag", "rag_marks", "measured_by", "value_year_before", "change_pct", "change_compares",
                     "live_tasks", "completed_tasks"])
    for r in services.report(frequency, chosen[0], locality, viewer=current_user) if chosen else []:
        v = r.value
        writer.writerow([r.theme, r.action, r.indicator.ni_code or "", r.indicator.name, r.indicator.unit,
                         locality.name, chosen[2], _num(v.value if v else None), _num(v.numerator if v else None),
                         _num(v.denominator if v else None), v.months if v else "", v.length if v else "",
                         _num(r.annualised), _num(r.aim.target), _num(r.expected), r.rag or "",
                         "; ".join(r.marks), r.proxy, _num(v.previous_value if v else None),
                         _num(v.change_pct if v else None), "same period a year earlier, month for month",
                         r.tasks.live_count, r.tasks.completed_count])
    name = f"pmcg-{frequency}-{locality.key}-{chosen[0] if chosen else 'none'}.csv"
    return Response(buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _num(value):
    return "" if value is None else round(value, 4)


# ---- moved: the police.uk imports and the assessment are the crime pages now ------------------------------

def _moved(endpoint, **values):
    """Old addresses keep working: 301 to the crime page (308 for a form posted there), query string kept."""
    url = url_for(endpoint, **values)
    if request.query_string:
        url += "?" + request.query_string.decode()
    return redirect(url, 301 if request.method in ("GET", "HEAD") else 308)


@bp.route("/imports", methods=["GET", "POST"])
@allow(ANALYST, ADMIN)
def imports():
    return _moved("crime.imports")


@bp.route("/imports/<int:upload_id>")
@allow(ANALYST, ADMIN)
def import_progress(upload_id):
    return _moved("crime.import_progress", upload_id=upload_id)


@bp.route("/imports/<int:upload_id>.json")
@allow(ANALYST, ADMIN)
def import_status(upload_id):
    return _moved("crime.import_status", upload_id=upload_id)


@bp.route("/imports/<int:upload_id>/retry", methods=["POST"])
@allow(ANALYST, ADMIN)
def retry_import(upload_id):
    return _moved("crime.retry_import", upload_id=upload_id)


@bp.route("/assessment")
@allow(SIGNED_IN)
def assessment():
    return _moved("crime.assessment")


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
            select(IndicatorDefinition).where(or_(IndicatorDefinition.source == "manual",
                                                  IndicatorDefinition.proxy_note != ""))
            .order_by(IndicatorDefinition.code)).scalars()]
    form.locality.choices = [("", "Choose a locality")] + [
        (str(loc.id), f"{loc.name} ({loc.level_label.lower()})") for loc in db.session.execute(
            select(Locality).where(Locality.level.in_(("county", "area", "neighbourhood")))
            .order_by(Locality.id)).scalars()]
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
