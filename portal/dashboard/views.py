"""The partnership dashboard (staff) and the CSV exports of the task list and the register's timeline."""
from datetime import date

from flask import Blueprint, Response, abort, render_template, request, stream_with_context, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from .. import spreadsheets
from ..access import ADMIN, ANALYST, OFFICER, SIGNED_IN, allow
from ..concerns.models import STATUS_LABELS
from ..concerns.services import register_query
from ..concerns.views import register_filters_from_request
from ..forms import parse_id
from ..places import services as places
from ..tasking.views import task_filter_form
from . import exports, services
from .forms import DashboardForm, default_period

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


def _form():
    """The dashboard's form from the query string, the period defaulting to the last twelve months. Officers
    choose among their own areas (their first when none is chosen); admins and analysts among every area."""
    args = MultiDict(request.args)
    start, end = default_period()
    for name, value in (("date_from", start), ("date_to", end)):
        if not any(key == name or key.startswith(f"{name}-") for key in args):
            args[name] = value.isoformat()
    form = DashboardForm(args)
    if current_user.is_officer:
        mine = [a for a in places.areas() if a.id in current_user.area_ids]
        form.area.choices = [(str(a.id), a.name) for a in mine] or [("", "No area")]
        if not form.area.data and mine:
            form.area.data = str(mine[0].id)
    else:
        form.area.choices = [("", "All areas")] + [(str(a.id), a.name) for a in places.areas()]
    form.validate()
    return form


def _filters(form):
    area_id = parse_id(form.area.data) if form.area.data else None
    officer_areas = tuple(current_user.area_ids) if current_user.is_officer and not area_id else None
    return services.DashboardFilters(date_from=form.date_from.data, date_to=form.date_to.data, area_id=area_id,
                                     area_ids=officer_areas)


def _links(filters):
    """The URL of the list behind each figure: the task list and the register, filtered to its rows."""
    period = {"date_from": filters.date_from.isoformat(), "date_to": filters.date_to.isoformat()}

    def tasks(organisation_id, show):
        return url_for("tasking.my_tasks", **services.task_filters(filters, organisation_id, show).query_args())

    def concerns(area_id, status=None, answered=False):
        return url_for("concerns.register", area=area_id, status=status, answered=1 if answered else None, **period)

    return tasks, concerns


@bp.route("/")
@allow(ADMIN, ANALYST, OFFICER)
def index():
    form = _form()
    if form.errors:
        return render_template("dashboard/index.html", form=form, organisations=None), 400
    filters = _filters(form)
    organisations, task_total = services.tasks_by_organisation(current_user, filters)
    areas, concern_total = services.concerns_by_area(filters)
    task_link, concern_link = _links(filters)
    chart = {"labels": [r.name for r in organisations],
             "series": [{"label": label, "values": [r.counts[key] for r in organisations]}
                        for key, label in (("on_time", "Completed on time"), ("late", "Completed late"),
                                           ("overdue", "Overdue now"))]}
    return render_template("dashboard/index.html", form=form, filters=filters, organisations=organisations,
                           task_total=task_total, areas=areas, concern_total=concern_total, statuses=STATUS_LABELS,
                           task_link=task_link, concern_link=concern_link, chart=chart)


def _csv(rows, header, name):
    return Response(stream_with_context(spreadsheets.streamed(header, rows)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}-{date.today():%Y-%m-%d}.csv"'})


def _refuse(form):
    abort(400, description="; ".join(f"{form[name].label.text}: {' '.join(messages)}"
                                     for name, messages in form.errors.items()))


@bp.route("/tasks.csv")
@allow(SIGNED_IN)
def tasks_csv():
    """The task list as filtered (the tasks the person may see): one row per task, or with ?entries=1 one
    row per log entry."""
    form = task_filter_form()
    if form.errors:
        _refuse(form)
    today = date.today()
    if request.args.get("entries") == "1":
        return _csv(exports.task_entry_rows(current_user, form.filters(), today), exports.ENTRY_COLUMNS,
                    "task-log")
    return _csv(exports.task_rows(current_user, form.filters(), today), exports.TASK_COLUMNS, "tasks")


@bp.route("/concerns.csv")
@allow(ADMIN, ANALYST, OFFICER)
def concerns_csv():
    """The register's concerns (its filters) with the first time each reached every state."""
    form, filters = register_filters_from_request()
    if form.errors:
        _refuse(form)
    return _csv(exports.concern_timeline_rows(register_query(filters)), exports.CONCERN_COLUMNS,
                "concern-timeline")
