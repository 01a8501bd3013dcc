"""The partnership dashboard: tasks by lead organisation, concerns by area and status, and how long residents
wait for a published "We did", for an area and a period.

Every figure is an aggregate in SQL (GROUP BY; medians and percentiles through window functions, so they
work on SQLite and PostgreSQL alike) and counts exactly the rows of the list it links to: the task list
with portal.tasking.task_list.TaskFilters, the register with portal.concerns.services.RegisterFilters. The
page sends the same statements whatever the size of the data.
"""
from dataclasses import dataclass, field
from datetime import date
from typing import Optional

from sqlalchemy import Date, Float, Integer, case, cast, func, literal_column, select

from ..concerns.models import STATUSES, Concern, ConcernEvent
from ..concerns.services import we_did_published
from ..extensions import db
from ..partners.models import Organisation
from ..places.models import Locality
from ..tasking.models import Task
from ..tasking.policy import visible_tasks
from ..tasking.task_list import TaskFilters, show_condition

TASK_FIGURES = ("open", "overdue", "on_time", "late")
EVERYTHING = literal_column("0")  # the one group of a figure taken over every row


@dataclass(frozen=True)
class DashboardFilters:
    """An area (None: every area the person may see) and the period: concerns raised in it, tasks completed
    in it. Open and overdue tasks are counted as they are today, whatever the period."""

    date_from: date
    date_to: date
    area_id: Optional[int] = None
    area_ids: Optional[tuple] = None  # an officer's areas when no single area is chosen


@dataclass
class Spread:
    """How many rows, and the median and 90th percentile of their days (None when there are none)."""

    n: int = 0
    median: Optional[float] = None
    p90: Optional[float] = None


@dataclass
class OrganisationRow:
    organisation_id: Optional[int]  # None for the total row
    name: str
    counts: dict = field(default_factory=dict)  # {"open": n, "overdue": n, "on_time": n, "late": n}
    days: Spread = field(default_factory=Spread)

    @property
    def completed(self):
        return self.counts.get("on_time", 0) + self.counts.get("late", 0)


def days_between(later, earlier):
    """Whole days from ``earlier`` to ``later`` (dates or timestamps), in the database's own date arithmetic."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(later, Date) - cast(earlier, Date)
    return cast(func.julianday(func.date(later)) - func.julianday(func.date(earlier)), Integer)


def percentile(ranked, num, den):
    """The (num/den)th percentile of ``ranked.c.v`` in each group, interpolated between the two nearest ranks
    as PostgreSQL's percentile_cont does: integer arithmetic picks the ranks, so SQLite gives the same."""
    position = (ranked.c.n - 1) * num
    low, rest = position // den, position % den
    weight = case((ranked.c.rn == low + 1, den - rest), (ranked.c.rn == low + 2, rest), else_=0)
    return cast(func.sum(ranked.c.v * weight), Float) / den


def spreads(values):
    """{key: Spread} of a select of (k, v) rows, v a number of days that is never NULL; one statement."""
    source = values.subquery()
    ranked = select(source.c.k, source.c.v,
                    func.row_number().over(partition_by=source.c.k, order_by=source.c.v).label("rn"),
                    func.count().over(partition_by=source.c.k).label("n")).subquery()
    query = select(ranked.c.k, func.max(ranked.c.n), percentile(ranked, 1, 2), percentile(ranked, 9, 10)
                   ).group_by(ranked.c.k)
    return {k: Spread(n, _round(median), _round(p90)) for k, n, median, p90 in db.session.execute(query)}


def _round(value):
    return None if value is None else round(float(value), 1)


# ---- tasks -----------------------------------------------------------------------------------------

def task_filters(filters, organisation_id=None, show=""):
    """The task list's filters that show the tasks behind one figure of the table."""
    completed = show in ("on_time", "late", "completed")
    return TaskFilters(area_id=filters.area_id, lead_organisation_id=organisation_id, show=show,
                       completed_from=filters.date_from if completed else None,
                       completed_to=filters.date_to if completed else None)


def _tasks_of(user, filters):
    query = visible_tasks(user)
    if filters.area_id:
        query = query.where(Task.area_id == filters.area_id)
    elif filters.area_ids is not None:
        query = query.where(Task.area_id.in_(filters.area_ids or (-1,)))
    return query


def tasks_by_organisation(user, filters, today=None):
    """[OrganisationRow] for each lead organisation with a task counted, by name, then the total row:
    open and overdue now, completed on time and late in the period, and the days from raising a task to
    completing it (median, 90th percentile) for those completed in the period. Three statements."""
    today = today or date.today()
    in_period = Task.completed_on.between(filters.date_from, filters.date_to)
    sums = [func.sum(case((show_condition(show, today) & (in_period if show in ("on_time", "late") else True), 1),
                          else_=0)).label(show) for show in TASK_FIGURES]
    query = (_tasks_of(user, filters).with_only_columns(Organisation.id, Organisation.name, *sums)
             .join(Organisation, Organisation.id == Task.lead_organisation_id)
             .group_by(Organisation.id, Organisation.name).order_by(Organisation.name))
    completed = _tasks_of(user, filters).where(show_condition("completed", today), in_period)
    took = days_between(Task.completed_on, Task.created_at)
    by_organisation = spreads(completed.with_only_columns(Task.lead_organisation_id.label("k"), took.label("v")))
    overall = spreads(completed.with_only_columns(EVERYTHING.label("k"), took.label("v")))
    rows = []
    for organisation_id, name, *counts in db.session.execute(query):
        counts = dict(zip(TASK_FIGURES, (int(n or 0) for n in counts), strict=True))
        if any(counts.values()):
            rows.append(OrganisationRow(organisation_id, name, counts, by_organisation.get(organisation_id, Spread())))
    total = OrganisationRow(None, "All lead partners", {f: sum(r.counts[f] for r in rows) for f in TASK_FIGURES},
                            overall.get(0, Spread()))
    return rows, total


# ---- concerns --------------------------------------------------------------------------------------

def _area_of(filters):
    """A CTE of (area_id, locality_id): every locality under each area counted (the chosen one, or the
    officer's, or every area)."""
    roots = select(Locality.id.label("area_id"), Locality.id.label("locality_id")).where(Locality.level == "area")
    if filters.area_id:
        roots = roots.where(Locality.id == filters.area_id)
    elif filters.area_ids is not None:
        roots = roots.where(Locality.id.in_(filters.area_ids or (-1,)))
    tree = roots.cte("area_of", recursive=True)
    return tree.union_all(select(tree.c.area_id, Locality.id).where(Locality.parent_id == tree.c.locality_id))


@dataclass
class AreaRow:
    area_id: Optional[int]  # None for the total row
    name: str
    counts: dict = field(default_factory=dict)  # {status: n}
    we_did: Spread = field(default_factory=Spread)

    @property
    def total(self):
        return sum(self.counts.values())


def concerns_by_area(filters):
    """([AreaRow] for each area counted, by name; the total AreaRow): concerns raised in the period by
    status, and for those whose "We did" residents can read, the days from raising to first publishing it
    (median, 90th percentile). Four statements."""
    area_of = _area_of(filters)
    raised = Concern.raised_on.between(filters.date_from, filters.date_to)
    in_areas = select(Concern).join(area_of, area_of.c.locality_id == Concern.locality_id).where(raised)
    counts = {}
    for area_id, status, n in db.session.execute(
            in_areas.with_only_columns(area_of.c.area_id, Concern.status, func.count())
            .group_by(area_of.c.area_id, Concern.status)):
        counts.setdefault(area_id, {})[status] = n
    first_published = (select(ConcernEvent.concern_id, func.min(ConcernEvent.at).label("at"))
                       .where(ConcernEvent.kind == "published").group_by(ConcernEvent.concern_id).subquery())
    # Rows published before the audit trail recorded publishing (the seed's) count from their published_at.
    waited = days_between(func.coalesce(first_published.c.at, Concern.published_at), Concern.raised_on)
    answered = in_areas.outerjoin(first_published, first_published.c.concern_id == Concern.id).where(
        we_did_published())
    by_area = spreads(answered.with_only_columns(area_of.c.area_id.label("k"), waited.label("v")))
    overall = spreads(answered.with_only_columns(EVERYTHING.label("k"), waited.label("v")))
    areas = db.session.execute(select(Locality.id, Locality.name).where(Locality.id.in_(select(area_of.c.area_id)))
                               .order_by(Locality.name)).all()
    rows = [AreaRow(area_id, name, {s: counts.get(area_id, {}).get(s, 0) for s in STATUSES},
                    by_area.get(area_id, Spread())) for area_id, name in areas]
    total = AreaRow(None, "All areas" if len(rows) != 1 else rows[0].name,
                    {s: sum(r.counts[s] for r in rows) for s in STATUSES}, overall.get(0, Spread()))
    return rows, total
