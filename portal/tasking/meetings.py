"""Bronze tasking meetings: opened with an agenda built from the data, a decision on each item (a new
task, a link to one, no further action, escalation to Silver), closed, then only corrected.
Functions here change the session and flush; the caller commits once."""
from sqlalchemy import case, func, insert, or_, select
from sqlalchemy.orm import selectinload

from ..concerns import services as concerns
from ..concerns.models import ACCEPTED, NEW
from ..errors import NotAllowed, PortalError
from ..extensions import db
from ..forms import parse_id
from ..models import utcnow
from ..partners.models import Organisation
from ..places.models import Locality
from .agenda import build_agenda
from .models import ACTIVE_STATUSES, DECISIONS, ESCALATED, AgendaItem, MeetingCorrection, Task, TaskingMeeting
from .policy import can_chair
from .task_log import log
from .tasks import check_link, create_task

AGENDA_PAGE_SIZE = 50  # items a page of the agenda shows, each with its decision form
TASK_MATCHES = 20  # tasks the task picker lists for one search


def open_meeting(*, by, area_id, held_on, next_meeting_on=None, attendee_ids=()):
    """Start a meeting with its agenda built from the data. Flushes; the caller commits."""
    area = db.session.get(Locality, area_id) if area_id else None
    if area is None or area.level != "area":
        raise PortalError("Choose the area whose delivery group is meeting", field="area")
    if not can_chair(by, area.id):
        raise NotAllowed(f"You can chair meetings only for your own areas, not {area.name}", field="area")
    if next_meeting_on and next_meeting_on <= held_on:
        raise PortalError("The next meeting must be after this one", field="next_meeting_on")
    meeting = TaskingMeeting(area=area, held_on=held_on, next_meeting_on=next_meeting_on, chair_id=by.id)
    meeting.attendees = db.session.execute(
        select(Organisation).where(Organisation.id.in_(attendee_ids))).scalars().all()
    agenda = build_agenda(area, held_on, next_meeting_on)
    db.session.add(meeting)
    db.session.flush()
    if agenda:  # one multi-row insert: an area's agenda may run to thousands of items
        db.session.execute(insert(AgendaItem), [
            dict(meeting_id=meeting.id, position=position, kind=kind, summary=summary, concern_id=concern_id,
                 task_id=task_id, decision_note="")
            for position, (kind, summary, concern_id, task_id) in enumerate(agenda)])
        db.session.expire(meeting, ["items"])
    return meeting


def _check_open(meeting):
    if meeting.is_closed:
        raise PortalError("This meeting is closed and its record cannot change: add a correction instead",
                          field="decision")


def _link_task(item, *, by, meeting, link_task_id):
    """The item's concern joins one of the area's active tasks (accepting it if new); returns the task.
    The id may be typed: a task of another area, or one no longer active, is refused naming the field."""
    task = db.session.get(Task, link_task_id) if link_task_id else None
    if task is None:
        raise PortalError("Choose one of the area's active tasks to link to: enter its number or find it",
                          field="link_task")
    if task.area_id != meeting.area_id or task.status not in ACTIVE_STATUSES:
        raise PortalError(f"Task {task.id} is not an active task of the {meeting.area.name} area: choose one of "
                          "its open, in progress or blocked tasks", field="link_task")
    if item.concern and item.concern not in task.concerns:
        check_link(by, task.area_id, item.concern)
        task.concerns.append(item.concern)
        if item.concern.status == NEW:
            concerns.change_status(item.concern, ACCEPTED, by=by, reason=f"Linked to task {task.id}")
        log(task, by, text=f"Linked concern {item.concern.id} at the tasking meeting of {meeting.held_on:%d %b %Y}")
    return task


def decide(item, *, by, decision, note="", link_task_id=None, task_fields=None):
    """Record the chair's decision on an agenda item (creating or linking a task, closing the concern,
    escalating the task). ``task_fields`` are create_task's arguments for a new task (title, lead, supporting
    partners, owner, due date, priority; the item's concern is linked). Flushes; the caller commits (or rolls
    back: nothing of a refused decision stays). Refusals name the field at fault."""
    meeting = item.meeting
    _check_open(meeting)
    if not can_chair(by, meeting.area_id):
        raise NotAllowed("Only officers of the area record its meeting's decisions")
    if decision not in DECISIONS:
        raise PortalError("Choose a decision", field="decision")
    if item.decision:
        raise PortalError("This item already has a decision", field="decision")
    if decision == "no_further_action" and not note.strip():
        raise PortalError("Give the reason for no further action", field="note")
    if decision == "create_task":
        fields = dict(task_fields or {})
        if item.concern_id:
            fields.setdefault("concern_ids", [item.concern_id])
        item.resulting_task = create_task(by=by, meeting=meeting, **fields)
    elif decision == "link_task":
        item.resulting_task = _link_task(item, by=by, meeting=meeting, link_task_id=link_task_id)
    elif decision == "no_further_action" and item.concern and item.concern.is_open:
        concerns.change_status(item.concern, "no_further_action", by=by, reason=note)
    elif decision == "escalate_silver" and item.concern and item.concern.is_open:
        concerns.change_status(item.concern, "escalated", by=by, reason=note)
    elif decision == "escalate_silver" and item.task and item.task.status in ACTIVE_STATUSES:
        log(item.task, by, from_status=item.task.status, to_status=ESCALATED,
            text=f"Escalated to Silver at the tasking meeting: {note}")
        item.task.status = ESCALATED
    item.decision, item.decision_note = decision, note.strip()
    item.decided_by_id, item.decided_at = by.id, utcnow()
    db.session.flush()
    return item


# ---- reading the agenda a page at a time ---------------------------------------------------------------

def page_of(item):
    """The agenda page (from 1) an item is on: positions run from 0 in the chair's order."""
    return item.position // AGENDA_PAGE_SIZE + 1


def agenda_page(meeting, page):
    """One page of the agenda (a Flask-SQLAlchemy Pagination of AgendaItem), each decision's task, owner,
    lead and decider loaded at once: a constant number of queries, whatever the agenda's length.
    404 past the last page."""
    task = selectinload(AgendaItem.resulting_task)
    query = (select(AgendaItem).where(AgendaItem.meeting_id == meeting.id).order_by(AgendaItem.position)
             .options(task.selectinload(Task.owner), task.selectinload(Task.lead_organisation),
                      selectinload(AgendaItem.decided_by)))
    return db.paginate(query, page=page, per_page=AGENDA_PAGE_SIZE, count=True)


def agenda_groups(meeting):
    """The agenda's contents in the chair's order, in one query: [(kind, items, undecided, first page)]."""
    rows = db.session.execute(
        select(AgendaItem.kind, func.count(), func.count() - func.count(AgendaItem.decision),
               func.min(AgendaItem.position))
        .where(AgendaItem.meeting_id == meeting.id).group_by(AgendaItem.kind)
        .order_by(func.min(AgendaItem.position))).all()
    return [(kind, total, undecided, first // AGENDA_PAGE_SIZE + 1) for kind, total, undecided, first in rows]


def find_tasks(area_id, text, limit=TASK_MATCHES):
    """The task picker: the area's active tasks whose number is ``text`` or whose title contains it, soonest
    due first, at most ``limit`` (and whether there were more). Empty text finds nothing."""
    text = (text or "").strip()[:100]
    if not text:
        return [], False
    number = parse_id(text.lstrip("#"))
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    matches = [func.lower(Task.title).like(pattern.lower(), escape="\\")]
    if number is not None:
        matches.append(Task.id == number)
    tasks = db.session.execute(
        select(Task).where(Task.area_id == area_id, Task.status.in_(ACTIVE_STATUSES), or_(*matches))
        .options(selectinload(Task.lead_organisation))
        .order_by(case((Task.id == (number or 0), 0), else_=1), Task.due_on, Task.id)  # that number first
        .limit(limit + 1)).scalars().all()
    return tasks[:limit], len(tasks) > limit


def close_meeting(meeting, *, by):
    """Close a meeting: its record no longer changes, only corrections are added. Flushes."""
    _check_open(meeting)
    if not can_chair(by, meeting.area_id):
        raise NotAllowed("Only officers of the area close its meetings")
    meeting.status, meeting.closed_at = "closed", utcnow()
    db.session.flush()


def add_correction(meeting, *, by, text):
    """Add a correction below a meeting's record (open or closed). Flushes."""
    if not can_chair(by, meeting.area_id):
        raise NotAllowed("Only officers of the area correct its meeting records")
    if not (text or "").strip():
        raise PortalError("Write the correction", field="text")
    meeting.corrections.append(MeetingCorrection(text=text.strip(), by_id=by.id))
    db.session.flush()


def meeting_record_rows(meeting):
    """The meeting's record as rows, for the CSV export."""
    yield ("position", "item", "summary", "decision", "note", "task", "task owner", "task due", "decided by")
    for item in meeting.items:
        task = item.resulting_task
        yield (item.position + 1, item.kind_label, item.summary, item.decision_label, item.decision_note,
               task.title if task else "", task.owner.display_name if task else "",
               task.due_on.isoformat() if task else "", item.decided_by.display_name if item.decided_by else "")
    for correction in meeting.corrections:
        yield ("", "Correction", correction.text, "", "", "", "", "", correction.by.display_name)
