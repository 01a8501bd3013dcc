"""A Bronze tasking meeting's agenda, built from the data: PACT priorities, repeat and new concerns no
task covers yet, tasks overdue or due before the next meeting, and the area's largest crime rises.

A *repeat* concern is one that came back: raised again at a later PACT meeting or contact and linked to
the open concern it repeats (a 'repeat' entry in the concern's history, or a concern whose
``repeat_of_id`` names it). Several residents raising it at one meeting (``raised_count`` > 1) is one
raising, not a repeat.

A concern *residents say is not fixed* (feedback.services.not_fixed_counts) comes back once: on the next
agenda after the answers that made it so, then again only if later answers say so again."""
from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, selectinload

from ..concerns.models import ACCEPTED, NEW, Concern, ConcernCategory, ConcernEvent
from ..crime.stats import largest_rises
from ..extensions import db
from ..feedback.services import not_fixed_counts
from ..places.models import Locality, descendant_ids
from .coverage import high_harm_no_task_items
from .models import ACTIVE_STATUSES, AgendaItem, Task, TaskingMeeting, task_concerns

# The order the chair takes the items in.
KIND_ORDER = {"pact_priority": 0, "repeat_concern": 1, "residents_not_fixed": 2, "new_concern": 3,
              "overdue_task": 4, "due_task": 5, "crime_rise": 6, "high_harm_no_task": 7}


def last_meeting(area_id, before=None):
    """The area's latest tasking meeting (before a date, if given), or None."""
    query = select(TaskingMeeting).where(TaskingMeeting.area_id == area_id)
    if before:
        query = query.where(TaskingMeeting.held_on < before)
    return db.session.execute(query.order_by(TaskingMeeting.held_on.desc())).scalars().first()


def repeat_counts():
    """A subquery of (concern_id, repeats): how many times each concern was raised again and linked to it,
    counting the 'repeat' entries of its history and the concerns recorded as its repeats."""
    events = (select(ConcernEvent.concern_id.label("concern_id")).where(ConcernEvent.kind == "repeat"))
    linked = select(Concern.repeat_of_id.label("concern_id")).where(Concern.repeat_of_id.is_not(None))
    both = events.union_all(linked).subquery()
    return (select(both.c.concern_id, func.count().label("repeats")).group_by(both.c.concern_id)
            .subquery("repeats"))


def concern_summary(category, place, raised_on, residents, times, said):
    """What the chair reads out for a concern: what, where, since when, how often and by how many."""
    if times > 1:
        raised = f"raised {times} times since {raised_on:%d %b %Y}"
        who = f" by {residents} residents in all" if residents > 1 else ""
    else:
        raised = f"raised {raised_on:%d %b %Y}"
        who = f" by {residents} residents" if residents > 1 else ""
    return f"{category.capitalize()} in {place}, {raised}{who}: “{said}”"


def build_agenda(area, held_on, next_meeting_on=None):
    """The agenda items for an area's meeting, from the data, in a handful of set-based queries, as
    (kind, summary, concern id, task id) in the chair's order.

    Concerns no task covers yet, each once: PACT priorities, repeats (raised again since first raised;
    the most raised first) and new or accepted concerns raised since the last meeting. Tasks: overdue, or
    due before the next meeting. Then the area's largest rises in recorded crime, and its high-harm wards
    with no live task (tasking/coverage.py).
    """
    previous = last_meeting(area.id, before=held_on)
    since = previous.held_on if previous else held_on - timedelta(days=90)
    until = next_meeting_on or held_on + timedelta(days=28)
    in_area = Concern.locality_id.in_(descendant_ids(area.id))
    tasked = select(task_concerns.c.concern_id)
    repeats = repeat_counts()
    times = 1 + func.coalesce(repeats.c.repeats, 0)
    category = aliased(ConcernCategory)
    rows = db.session.execute(
        select(Concern.id, Concern.is_priority, Concern.raised_count, times, Concern.raised_on, Concern.you_said,
               Locality.name, category.name)
        .join(Locality, Locality.id == Concern.locality_id)
        .join(category, category.id == Concern.category_id)
        .outerjoin(repeats, repeats.c.concern_id == Concern.id)
        .where(in_area, Concern.status.in_((NEW, ACCEPTED)), Concern.id.not_in(tasked),
               Concern.repeat_of_id.is_(None),
               or_(Concern.raised_on > since, Concern.is_priority, repeats.c.repeats > 0))
        .order_by(Concern.is_priority.desc(), times.desc(), Concern.raised_count.desc(), Concern.raised_on,
                  Concern.id)).all()
    items = []
    for cid, priority, residents, count, raised_on, said, place, category_name in rows:
        kind = "pact_priority" if priority else ("repeat_concern" if count > 1 else "new_concern")
        items.append((kind, concern_summary(category_name, place, raised_on, residents, count, said), cid, None))
    items.extend(not_fixed_items(area, {item[2] for item in items}))
    tasks = db.session.execute(
        select(Task).where(Task.area_id == area.id, Task.status.in_(ACTIVE_STATUSES), Task.due_on <= until)
        .options(selectinload(Task.lead_organisation)).order_by(Task.due_on, Task.id)).scalars().all()
    for task in tasks:
        overdue = task.due_on < held_on
        items.append(("overdue_task" if overdue else "due_task",
                      f"{task.title} ({task.lead_organisation.name}), due {task.due_on:%d %b %Y}, "
                      f"{task.status_label.lower()}, {task.stage_label.lower()}", None, task.id))
    items.extend(largest_rises(area, since, held_on))  # police data: the area's largest rises by type
    items.extend(high_harm_no_task_items(area))  # wards in the area's top quarter by rate that no task covers
    return sorted(items, key=lambda item: KIND_ORDER.get(item[0], 9))


def not_fixed_items(area, listed=()):
    """Agenda items for the area's published concerns whose residents say the "We did" has not fixed it
    (feedback.services.not_fixed_counts), counting only answers since the concern last came back on an
    agenda (when that agenda was built): each majority of "No" brings a concern back once. Skips concern
    ids already ``listed``."""
    last_back = (select(AgendaItem.concern_id.label("concern_id"), func.max(TaskingMeeting.created_at).label("at"))
                 .join(TaskingMeeting, TaskingMeeting.id == AgendaItem.meeting_id)
                 .where(AgendaItem.kind == "residents_not_fixed").group_by(AgendaItem.concern_id).subquery())
    tally = not_fixed_counts(last_back)
    category = aliased(ConcernCategory)
    rows = db.session.execute(
        select(Concern.id, Locality.name, category.name, Concern.we_did, tally.c.no, tally.c.answers)
        .join(tally, tally.c.concern_id == Concern.id)
        .join(Locality, Locality.id == Concern.locality_id)
        .join(category, category.id == Concern.category_id)
        .where(Concern.locality_id.in_(descendant_ids(area.id)))
        .order_by((tally.c.no * 1.0 / tally.c.answers).desc(), tally.c.answers.desc(), Concern.id)).all()
    return [("residents_not_fixed",
             f"Residents say not fixed: {category_name.capitalize()} in {place}: {no} of {answers} residents "
             f"answered “No” to whether this made a difference. We did: “{we_did}”", cid, None)
            for cid, place, category_name, we_did, no, answers in rows if cid not in listed]
