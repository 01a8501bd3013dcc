"""The dashboard's CSV exports: the task list as filtered (one row per task, or per log entry), and the
register's concerns with the first time each reached every state. Streamed through portal.spreadsheets
(formula-safe), a batch of rows at a time, with the same statements whatever the number of rows.

Tasks come from ``filtered_tasks``, so a partner exports only their organisation's tasks and an officer
only their areas'. No export carries a concern's internal notes or street: a task export is what the
partners working on it may read, and the concern export is the timeline, not the case notes.
"""
from sqlalchemy import String, case, cast, func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import selectinload

from ..concerns.models import NEW, STATUSES, Concern, ConcernEvent
from ..concerns.services import hold_categories
from ..extensions import db
from ..partners.models import Organisation
from ..people.models import User
from ..places.models import Locality
from ..places.services import hold_localities
from ..tasking.models import (
    STAGE_LABELS,
    TASK_STATUS_LABELS,
    Task,
    TaskUpdate,
    task_concerns,
    task_supporting_organisations,
)
from ..tasking.task_list import filtered_tasks

BATCH = 500

TASK_COLUMNS = ("id", "title", "area", "locality", "lead_partner", "supporting_partners", "owner", "priority",
                "stage", "status", "raised_on", "due_on", "completed_on", "overdue", "completed_on_time",
                "days_to_complete", "we_did_published", "concerns", "problem", "we_did")
ENTRY_COLUMNS = ("task_id", "task_title", "area", "lead_partner", "at", "by", "organisation", "text", "link",
                 "from_stage", "to_stage", "from_status", "to_status", "changed", "old_value", "new_value")


def _day(value):
    return value.isoformat() if value else ""


def _moment(value):
    return f"{value:%Y-%m-%d %H:%M}" if value else ""


def _organisation_names():
    return dict(db.session.execute(select(Organisation.id, Organisation.name)).all())


def _joined(values, order):
    """The text of ``values`` (a column of one correlated select) joined with "; " into one value:
    string_agg in ``order`` on PostgreSQL; group_concat on SQLite, whose order is the rows' own."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.string_agg(cast(values, String), aggregate_order_by(literal("; "), order))
    return func.group_concat(values, "; ")


def task_rows(user, filters, today):
    """One row per task ``user`` may see that matches ``filters`` (portal.tasking.task_list.TaskFilters),
    by due date. Its owner, supporting partners and concerns come in the same statement, so the export
    sends as many statements for 100,000 tasks as for 10."""
    hold_localities()
    names = _organisation_names()
    support = task_supporting_organisations.c
    supporting = (select(_joined(Organisation.name, Organisation.name)).select_from(Organisation)
                  .join(task_supporting_organisations, support.organisation_id == Organisation.id)
                  .where(support.task_id == Task.id).scalar_subquery())
    concern_ids = (select(_joined(task_concerns.c.concern_id, task_concerns.c.concern_id))
                   .where(task_concerns.c.task_id == Task.id).scalar_subquery())
    query = (filtered_tasks(user, filters, today)
             .add_columns(User.display_name, supporting.label("supporting"), concern_ids.label("concerns"))
             .outerjoin(User, User.id == Task.owner_id).order_by(Task.due_on, Task.id)
             .execution_options(yield_per=BATCH))
    for task, owner, supporting_names, concerns in db.session.execute(query):
        done = task.status == "completed" and task.completed_on is not None
        raised = task.created_at.date() if task.created_at else None
        yield (task.id, task.title, task.area.name, task.locality.name if task.locality else "",
               names.get(task.lead_organisation_id, ""), supporting_names or "", owner or "", task.priority,
               task.stage_label, task.status_label, _day(raised), _day(task.due_on), _day(task.completed_on),
               "yes" if task.is_overdue(today) else "no",
               ("yes" if task.completed_on <= task.due_on else "no") if done else "",
               (task.completed_on - raised).days if done and raised else "",
               "yes" if task.published else "no", (concerns or "").replace("; ", " "), task.problem, task.we_did)


def task_entry_rows(user, filters, today):
    """One row per log entry (TaskUpdate) of the tasks ``task_rows`` exports, by task and then in order."""
    hold_localities()
    names = _organisation_names()
    tasks = filtered_tasks(user, filters, today).with_only_columns(Task.id)
    query = (select(TaskUpdate, Task.title, Task.area_id, Task.lead_organisation_id).join(Task)
             .where(TaskUpdate.task_id.in_(tasks)).order_by(Task.due_on, Task.id, TaskUpdate.id)
             .options(selectinload(TaskUpdate.by)).execution_options(yield_per=BATCH))
    for entry, title, area_id, lead_id in db.session.execute(query):
        area = db.session.get(Locality, area_id)  # held: no statement
        yield (entry.task_id, title, area.name if area else "", names.get(lead_id, ""), _moment(entry.at),
               entry.by.display_name if entry.by else "", names.get(entry.organisation_id, ""), entry.text,
               entry.link, STAGE_LABELS.get(entry.from_stage, entry.from_stage or ""),
               STAGE_LABELS.get(entry.to_stage, entry.to_stage or ""),
               TASK_STATUS_LABELS.get(entry.from_status, entry.from_status or ""),
               TASK_STATUS_LABELS.get(entry.to_status, entry.to_status or ""), entry.field or "", entry.old_value,
               entry.new_value)


# The states of a concern's timeline after it was logged: its statuses, then published and withdrawn.
TIMELINE_STATES = tuple(s for s in STATUSES if s != NEW) + ("published", "withdrawn")
CONCERN_COLUMNS = ("id", "raised_on", "area", "locality", "category", "source", "status", "logged_at",
                   *(f"{state}_at" for state in TIMELINE_STATES))


def _first_times():
    """Per concern, the first time it was logged and reached each state (from its audit trail), as a subquery."""
    def first(condition):
        return func.min(case((condition, ConcernEvent.at)))

    status = ConcernEvent.kind == "status"
    columns = [first(ConcernEvent.kind == "created").label("logged")]
    columns += [first(status & (ConcernEvent.to_status == state)).label(state) for state in STATUSES if state != NEW]
    columns += [first(ConcernEvent.kind == kind).label(kind) for kind in ("published", "withdrawn")]
    return select(ConcernEvent.concern_id, *columns).group_by(ConcernEvent.concern_id).subquery()


def concern_timeline_rows(query):
    """One row per concern of ``query`` (the register's select, filters applied), with the first time it
    reached each state; one statement, streamed."""
    hold_localities()
    hold_categories()
    times = _first_times()
    columns = [times.c.logged, *(times.c[state] for state in TIMELINE_STATES)]
    query = query.add_columns(*columns).outerjoin(times, times.c.concern_id == Concern.id)
    for concern, *moments in db.session.execute(query.execution_options(yield_per=BATCH)):
        area = concern.locality.area
        yield (concern.id, concern.raised_on.isoformat(), area.name if area else "", concern.locality.name,
               concern.category.name, concern.source_label, concern.status_label, *map(_moment, moments))
