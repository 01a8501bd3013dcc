"""A Bronze tasking meeting's agenda, built from the data: PACT priorities, repeat and new concerns no
task covers yet, tasks overdue or due before the next meeting, and the area's largest crime rises."""
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ..concerns.models import ACCEPTED, NEW, Concern, ConcernCategory
from ..crime.stats import largest_rises
from ..extensions import db
from ..places.models import Locality, descendant_ids
from .models import ACTIVE_STATUSES, Task, TaskingMeeting, task_concerns


def last_meeting(area_id, before=None):
    """The area's latest tasking meeting (before a date, if given), or None."""
    query = select(TaskingMeeting).where(TaskingMeeting.area_id == area_id)
    if before:
        query = query.where(TaskingMeeting.held_on < before)
    return db.session.execute(query.order_by(TaskingMeeting.held_on.desc())).scalars().first()


def build_agenda(area, held_on, next_meeting_on=None):
    """The agenda items for an area's meeting, from the data, in a handful of set-based queries.

    Concerns: PACT priorities, repeats and new or accepted concerns since the last meeting that no
    task covers yet (each concern once, in that order). Tasks: overdue, or due before the next meeting.
    """
    previous = last_meeting(area.id, before=held_on)
    since = previous.held_on if previous else held_on - timedelta(days=90)
    until = next_meeting_on or held_on + timedelta(days=28)
    in_area = Concern.locality_id.in_(descendant_ids(area.id))
    tasked = select(task_concerns.c.concern_id)
    rows = db.session.execute(
        select(Concern.id, Concern.is_priority, Concern.raised_count, Concern.repeat_of_id, Concern.raised_on,
               Concern.you_said, Locality.name, Concern.category_id)
        .join(Locality, Locality.id == Concern.locality_id)
        .where(in_area, Concern.status.in_((NEW, ACCEPTED)), Concern.id.not_in(tasked),
               Concern.repeat_of_id.is_(None),
               or_(Concern.raised_on > since, Concern.raised_count > 1, Concern.is_priority))
        .order_by(Concern.is_priority.desc(), Concern.raised_count.desc(), Concern.raised_on)).all()
    categories = dict(db.session.execute(select(ConcernCategory.id, ConcernCategory.name)).all())
    items = []
    for cid, priority, count, _, raised_on, said, place, category_id in rows:
        kind = "pact_priority" if priority else ("repeat_concern" if count > 1 else "new_concern")
        summary = (f"{categories[category_id].capitalize()} in {place}, raised {raised_on:%d %b %Y}"
                   f"{f' by {count} residents' if count > 1 else ''}: “{said}”")
        items.append((kind, summary, cid, None))
    tasks = db.session.execute(
        select(Task).where(Task.area_id == area.id, Task.status.in_(ACTIVE_STATUSES), Task.due_on <= until)
        .options(selectinload(Task.lead_organisation)).order_by(Task.due_on)).scalars().all()
    for task in tasks:
        overdue = task.due_on < held_on
        items.append(("overdue_task" if overdue else "due_task",
                      f"{task.title} ({task.lead_organisation.name}), due {task.due_on:%d %b %Y}, "
                      f"{task.status_label.lower()}, {task.stage_label.lower()}", None, task.id))
    items.extend(largest_rises(area, since, held_on))  # police data: the area's largest rises by type
    order = {"pact_priority": 0, "repeat_concern": 1, "new_concern": 2, "overdue_task": 3, "due_task": 4,
             "crime_rise": 5}
    return sorted(items, key=lambda item: order.get(item[0], 9))
