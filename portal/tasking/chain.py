"""The chain an officer walks without searching: a concern's PACT meeting, its tasks and the tasking
meetings that decided on it; a task's concerns, its meetings and the delivery-plan action it serves
(with that action's indicators); and, for the PMCG report, each action's live and completed tasks.

Each function reads in a fixed number of queries, whatever the number of links, and lists only what
the reader may see. The pages' "Related records" block (templates/macros/related.html) shows them.
"""
from dataclasses import dataclass, field
from typing import Optional

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..access import may, rule_for
from ..concerns.models import Concern, PactMeeting
from ..extensions import db
from ..places.models import descendant_ids
from ..plan.models import Action
from .models import ACTIVE_STATUSES, CLOSED, COMPLETED, AgendaItem, Task, TaskingMeeting, task_concerns
from .policy import can_view_meeting, visible_tasks


@dataclass
class MeetingLink:
    """A tasking meeting and its agenda items about the record; ``can_open`` says whether the reader may
    open the meeting's page (partners see that it happened, not its record)."""

    meeting: TaskingMeeting
    items: list = field(default_factory=list)
    can_open: bool = False
    raised_the_task: bool = False


@dataclass
class ConcernChain:
    kind = "concern"
    pact_meeting: Optional[PactMeeting]
    can_open_pact_meeting: bool
    tasks: list
    meetings: list


@dataclass
class TaskChain:
    kind = "task"
    task: Task
    concerns: list
    meetings: list
    action: Optional[Action]


def of_concern(concern, user):
    """A concern's PACT meeting, the tasks linked to it that ``user`` may see, and the tasking meetings
    whose agenda items recorded a decision on it (newest first). Three queries."""
    pact_meeting = db.session.execute(
        select(PactMeeting).where(PactMeeting.id == concern.pact_meeting_id)
        .options(joinedload(PactMeeting.locality))).scalar_one_or_none() if concern.pact_meeting_id else None
    tasks = db.session.execute(
        visible_tasks(user).where(Task.id.in_(select(task_concerns.c.task_id)
                                              .where(task_concerns.c.concern_id == concern.id)))
        .order_by(Task.id)).scalars().all()
    items = db.session.execute(
        select(AgendaItem).where(AgendaItem.concern_id == concern.id, AgendaItem.decision.is_not(None))
        .options(joinedload(AgendaItem.meeting).joinedload(TaskingMeeting.area))
        .order_by(AgendaItem.position)).scalars().all()
    # Whether the reader may open the PACT meeting's page is its route's own rule, so the two never differ.
    return ConcernChain(pact_meeting=pact_meeting, can_open_pact_meeting=may(user, rule_for("concerns.meeting")),
                        tasks=tasks, meetings=_by_meeting(items, user))


def of_task(task, user):
    """A task's concerns, the tasking meeting that raised it and those whose agenda items were about it
    (an overdue or due task, a concern linked to it), newest first, and the delivery-plan action it
    serves with its theme and indicators. At most five queries."""
    concerns = db.session.execute(
        select(Concern).where(Concern.id.in_(select(task_concerns.c.concern_id)
                                             .where(task_concerns.c.task_id == task.id)))
        .options(joinedload(Concern.category), joinedload(Concern.locality)).order_by(Concern.id)).scalars().all()
    about = or_(AgendaItem.task_id == task.id, AgendaItem.resulting_task_id == task.id)
    items = db.session.execute(
        select(AgendaItem).where(about).options(joinedload(AgendaItem.meeting).joinedload(TaskingMeeting.area))
        .order_by(AgendaItem.position)).scalars().all()
    meetings = _by_meeting(items, user)
    if task.meeting_id and task.meeting_id not in {link.meeting.id for link in meetings}:
        raised_at = db.session.execute(select(TaskingMeeting).where(TaskingMeeting.id == task.meeting_id)
                                       .options(joinedload(TaskingMeeting.area))).scalar_one()
        meetings = _newest_first([*meetings, MeetingLink(raised_at, can_open=can_view_meeting(user, raised_at))])
    for link in meetings:
        link.raised_the_task = link.meeting.id == task.meeting_id
    action = db.session.execute(
        select(Action).where(Action.id == task.action_id)
        .options(joinedload(Action.theme), selectinload(Action.indicators))).scalar_one_or_none() \
        if task.action_id else None
    # Whoever may see a task may see its concerns (a partner through this very task).
    return TaskChain(task=task, concerns=concerns, meetings=meetings, action=action)


def _by_meeting(items, user):
    """Agenda items grouped by their meeting, in the order given."""
    links = {}
    for item in items:
        link = links.get(item.meeting_id)
        if link is None:
            link = links[item.meeting_id] = MeetingLink(item.meeting, can_open=can_view_meeting(user, item.meeting))
        link.items.append(item)
    return _newest_first(links.values())


def _newest_first(links):
    return sorted(links, key=lambda link: (link.meeting.held_on, link.meeting.id), reverse=True)


def related_to(record, user):
    """The chain of a concern or a task, for the pages' "Related records" block."""
    return of_task(record, user) if isinstance(record, Task) else of_concern(record, user)


@dataclass
class ActionTasks:
    """One action's tasks at a locality for a period: how many are live and completed, and the first
    ``LISTED`` of each, soonest due first."""

    live_count: int = 0
    completed_count: int = 0
    live: list = field(default_factory=list)
    completed: list = field(default_factory=list)


LISTED = 10


def tasks_of_actions(action_ids, locality_id, start, end, user, listed=LISTED):
    """{action id: ActionTasks}: the tasks ``user`` may see that serve these actions at the locality or
    anywhere below it, live (open, in progress or blocked now) or completed from ``start`` up to (not
    including) ``end``. Two queries (the counts, and the first ``listed`` of each list), whatever the
    number of actions or tasks."""
    result = {action_id: ActionTasks() for action_id in action_ids}
    if not action_ids:
        return result
    live = Task.status.in_(ACTIVE_STATUSES)
    completed = and_(Task.status.in_((COMPLETED, CLOSED)), Task.completed_on >= start, Task.completed_on < end)
    selection = visible_tasks(user).where(
        Task.action_id.in_(action_ids), func.coalesce(Task.locality_id, Task.area_id).in_(descendant_ids(locality_id)),
        or_(live, completed))
    is_live = case((live, 1), else_=0)
    for action_id, live_one, count in db.session.execute(
            selection.with_only_columns(Task.action_id, is_live, func.count()).group_by(Task.action_id, is_live)):
        setattr(result[action_id], "live_count" if live_one else "completed_count", count)
    rank = func.row_number().over(partition_by=(Task.action_id, is_live), order_by=(Task.due_on, Task.id))
    ranked = selection.with_only_columns(Task.id, rank.label("rank")).subquery()
    for task in db.session.execute(select(Task).join(ranked, ranked.c.id == Task.id)
                                   .where(ranked.c.rank <= listed).order_by(Task.due_on, Task.id)).scalars():
        tasks = result[task.action_id]
        (tasks.live if task.status in ACTIVE_STATUSES else tasks.completed).append(task)
    return result
