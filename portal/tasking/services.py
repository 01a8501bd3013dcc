"""Bronze tasking: the agenda built from the data, decisions, SARA tasks and their log.

Every change to a task is a TaskUpdate (who, when, what); a task saved from a
stale page is refused with the change the other person made (optimistic
locking on Task.version_id); nothing is ever deleted.
"""
from datetime import date, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import selectinload

from ..concerns import services as concerns
from ..concerns.models import ACCEPTED, NEW, OPEN_STATUSES, RESPONDED, Concern, ConcernCategory
from ..crime.stats import largest_rises
from ..errors import ConflictError, NotAllowed, PortalError
from ..extensions import db
from ..models import utcnow
from ..notifications.services import notify
from ..partners.models import Organisation
from ..people.models import User
from ..places.models import Locality, descendant_ids
from .models import (ACTIVE_STATUSES, ASSESSMENT, BLOCKED, CLOSED, COMPLETED, DECISIONS, ESCALATED,
                     IN_PROGRESS, OPEN, RESPONSE, SCANNING, STAGE_LABELS, STAGES, TASK_STATUS_LABELS,
                     AgendaItem, MeetingCorrection, Task, TaskingMeeting, TaskUpdate, task_concerns,
                     task_supporting_organisations)
from .policy import can_chair, can_link_concern, can_review, can_update, can_view  # noqa: F401  (views ask here)

# ---- who sees and changes what -------------------------------------------------------------------


def visible_tasks(user):
    """Tasks a user may see: all for admins and analysts, their areas' for officers, their organisation's
    (lead or supporting) for partners."""
    query = select(Task)
    if user.is_admin or user.is_analyst:
        return query
    if user.is_officer:
        return query.where(Task.area_id.in_(user.area_ids or {-1}))
    org = user.organisation_id or -1
    supporting = select(task_supporting_organisations.c.task_id).where(
        task_supporting_organisations.c.organisation_id == org)
    return query.where(or_(Task.lead_organisation_id == org, Task.id.in_(supporting)))


def partner_sees_concern(user, concern):
    """Partners see a concern (and its notes) only through a task of their organisation."""
    if user.organisation_id is None:
        return False
    org = user.organisation_id
    linked = select(task_concerns.c.task_id).where(task_concerns.c.concern_id == concern.id)
    return db.session.execute(select(exists().where(Task.id.in_(linked), or_(
        Task.lead_organisation_id == org,
        Task.id.in_(select(task_supporting_organisations.c.task_id).where(
            task_supporting_organisations.c.organisation_id == org)))))).scalar()


concerns.PARTNER_VISIBILITY.append(partner_sees_concern)


def organisation_tasks(organisation_id):
    """An organisation's active tasks (lead or supporting), overdue first."""
    supporting = select(task_supporting_organisations.c.task_id).where(
        task_supporting_organisations.c.organisation_id == organisation_id)
    return db.session.execute(
        select(Task).where(Task.status.in_(ACTIVE_STATUSES),
                           or_(Task.lead_organisation_id == organisation_id, Task.id.in_(supporting)))
        .order_by(Task.due_on)).scalars().all()


def grouped_for(user, today=None):
    """The task list a person lands on: [(heading, [tasks])], overdue first, then by status, soonest due."""
    today = today or date.today()
    tasks = db.session.execute(visible_tasks(user).options(
        selectinload(Task.lead_organisation), selectinload(Task.owner), selectinload(Task.area))
        .order_by(Task.due_on, Task.id)).scalars().all()
    overdue = [t for t in tasks if t.is_overdue(today)]
    groups = [("Overdue", overdue)] if overdue else []
    for status in (OPEN, IN_PROGRESS, BLOCKED, COMPLETED, ESCALATED, CLOSED):
        rows = [t for t in tasks if t.status == status and t not in overdue]
        if rows:
            groups.append((TASK_STATUS_LABELS[status], rows))
    return groups


# ---- creating and updating tasks -------------------------------------------------------------------


def _log(task, by, **fields):
    entry = TaskUpdate(task=task, by_id=by.id if by else None,
                       organisation_id=by.organisation_id if by else None, **fields)
    db.session.add(entry)
    return entry


def _people_of(organisation_ids, except_organisation=None):
    if not organisation_ids:
        return []
    return db.session.execute(select(User).where(User.active, User.organisation_id.in_(organisation_ids),
                                                 User.organisation_id != (except_organisation or -1))).scalars().all()


def _check_link(by, area_id, concern):
    if not can_link_concern(by, area_id, concern):
        raise NotAllowed(f"Concern {concern.id} is not one of this area's concerns that you may change, "
                         "so it cannot be linked to this task")


def _area_of(locality):
    area = locality.area
    if area is None:
        raise PortalError("Choose a place inside one of the three areas", field="locality")
    return area


def create_task(*, by, title, problem, locality_id, lead_organisation_id, supporting_ids=(), owner_id,
                due_on, priority="medium", concern_ids=(), meeting=None, today=None):
    """Raise a task (with linked concerns, or none for an emerging hotspot). Flushes; the caller commits."""
    today = today or date.today()
    if not (title or "").strip():
        raise PortalError("Enter a title for the task", field="title")
    if not (problem or "").strip():
        raise PortalError("Describe the problem the task is to solve", field="problem")
    locality = db.session.get(Locality, locality_id) if locality_id else None
    if locality is None:
        raise PortalError("Choose where the problem is", field="locality")
    area = _area_of(locality)
    if not (by.is_admin or area.id in by.area_ids):
        raise NotAllowed(f"You can raise tasks only in your own areas, not in {area.name}", field="locality")
    lead = db.session.get(Organisation, lead_organisation_id) if lead_organisation_id else None
    if lead is None:
        raise PortalError("Choose the lead partner", field="lead_organisation")
    owner = db.session.get(User, owner_id) if owner_id else None
    if owner is None or not owner.active:
        raise PortalError("Choose who owns the task", field="owner")
    if owner.organisation_id != lead.id:
        raise PortalError(f"The owner must work for the lead partner, {lead.name}; "
                          f"{owner.display_name} is not a member of it", field="owner")
    if due_on is None or due_on < today:
        raise PortalError("The due date must be today or later", field="due_on")
    linked = db.session.execute(select(Concern).where(Concern.id.in_(concern_ids))).scalars().all() if concern_ids else []
    for concern in linked:
        _check_link(by, area.id, concern)
    task = Task(title=title.strip(), problem=problem.strip(), area_id=area.id, locality_id=locality.id,
                lead_organisation=lead, owner=owner, due_on=due_on, priority=priority, created_by_id=by.id,
                meeting=meeting)
    task.supporting_organisations = db.session.execute(
        select(Organisation).where(Organisation.id.in_(set(supporting_ids) - {lead.id}))).scalars().all()
    task.concerns = linked
    db.session.add(task)
    for concern in linked:
        if concern.status == NEW:
            concerns.change_status(concern, ACCEPTED, by=by, reason=f"Tasked: {task.title}")
    db.session.flush()
    _log(task, by, text=f"Task raised, owned by {owner.display_name} ({lead.name}), due {due_on:%d %b %Y}",
         to_stage=SCANNING, to_status=OPEN, version=task.version_id)
    notify(owner, f"New task for you: {task.title}",
           f"{by.display_name} assigned you the task '{task.title}', due {due_on:%d %B %Y}.\n\n{task.problem}\n\n"
           f"Open it: /tasks/{task.id}", kind="assigned", dedupe_key=f"assigned:{task.id}:{owner.id}")
    return task


def _stage_allowed(task, new_stage, analysis):
    """Stages go in order; a task may go back, but never skip Analysis on its way to Response."""
    old, new = STAGES.index(task.stage), STAGES.index(new_stage)
    if new > old + 1:
        raise PortalError(f"A task moves one SARA stage at a time: from {STAGE_LABELS[task.stage]} the next is "
                          f"{STAGE_LABELS[STAGES[old + 1]]}", field="stage")
    if new_stage == RESPONSE and not any(v.strip() for v in analysis):
        raise PortalError("Record the analysis (victim, offender or location) before moving to Response",
                          field="stage")


def update_task(task, *, by, version, text="", link="", stage=None, status=None, blocked_reason="",
                victim=None, offender=None, location=None, assessment=None, we_did=None):
    """Apply one update from a task's page. Commits, or raises and changes nothing.

    ``version`` is the task version the page showed; if someone saved since, ConflictError says
    who changed what, so the user can reapply theirs.
    """
    if not can_update(by, task):
        raise NotAllowed("You can update only your organisation's tasks")
    if int(version) != task.version_id:
        newer = [u for u in task.updates if u.version > int(version)]
        said = "; ".join(f"{u.by.display_name if u.by else 'the portal'}"
                         f"{' (' + u.organisation.name + ')' if u.organisation else ''} at {u.at:%H:%M}: "
                         f"{describe(u)}" for u in newer) or "a change"
        raise ConflictError(f"Someone saved this task after you opened it: {said}. "
                            "Your update was not saved; check theirs below and apply yours again.")
    if task.status == CLOSED:
        raise PortalError("This task is closed: raise a new task instead", field="status")
    analysis = [victim if victim is not None else task.victim, offender if offender is not None else task.offender,
                location if location is not None else task.location]
    new_stage = stage or task.stage
    new_status = status or task.status
    if new_stage != task.stage:
        _stage_allowed(task, new_stage, analysis)
    if new_status == BLOCKED and not (blocked_reason or "").strip():
        raise PortalError("Say what is blocking the task", field="blocked_reason")
    if new_status == COMPLETED and new_status != task.status:
        if not (assessment if assessment is not None else task.assessment).strip():
            raise PortalError("Completing a task needs its assessment: what changed, with the evidence",
                              field="assessment")
        if not (we_did if we_did is not None else task.we_did).strip():
            raise PortalError("Completing a task needs the public 'We did' statement for residents", field="we_did")
        new_stage = ASSESSMENT
    if new_status in (CLOSED, ESCALATED) and not can_review(by, task):
        raise NotAllowed("Only an officer of the area or an admin closes or escalates a task", field="status")
    if new_status in (CLOSED, ESCALATED) and not (text or "").strip():
        raise PortalError("Give the reason in the update", field="text")
    changed = any([text.strip(), link.strip(), new_stage != task.stage, new_status != task.status,
                   victim not in (None, task.victim), offender not in (None, task.offender),
                   location not in (None, task.location), assessment not in (None, task.assessment),
                   we_did not in (None, task.we_did)])
    if not changed:
        raise PortalError("Write an update or change something before saving", field="text")
    entry = _log(task, by, text=text.strip(), link=link.strip(),
                 from_stage=task.stage if new_stage != task.stage else None,
                 to_stage=new_stage if new_stage != task.stage else None,
                 from_status=task.status if new_status != task.status else None,
                 to_status=new_status if new_status != task.status else None)
    for name, value in (("victim", victim), ("offender", offender), ("location", location),
                        ("assessment", assessment), ("we_did", we_did)):
        if value is not None:
            setattr(task, name, value.strip())
    task.stage, task.status = new_stage, new_status
    task.updated_at = utcnow()  # every entry is a new version of the task, even a note alone
    task.blocked_reason = blocked_reason.strip() if new_status == BLOCKED else ""
    if new_status == COMPLETED and task.completed_on is None:
        task.completed_on = date.today()
        task.published = False  # a completed task waits for an officer's review
    db.session.flush()
    entry.version = task.version_id
    for person in _people_of(task.organisation_ids, except_organisation=by.organisation_id):
        notify(person, f"Update on {task.title}", f"{by.display_name} ({by.organisation.name if by.organisation else ''}) "
               f"updated the task '{task.title}': {describe(entry)}\n\nOpen it: /tasks/{task.id}",
               kind="update", dedupe_key=f"update:{entry.id}:{person.id}")
    db.session.commit()
    return entry


def describe(update):
    parts = []
    if update.to_stage and update.from_stage:
        parts.append(f"stage {STAGE_LABELS[update.from_stage]} → {STAGE_LABELS[update.to_stage]}")
    if update.to_status and update.from_status:
        parts.append(f"status {TASK_STATUS_LABELS[update.from_status]} → {TASK_STATUS_LABELS[update.to_status]}")
    if update.text:
        parts.append(f"“{update.text}”")
    if update.link:
        parts.append(f"link {update.link}")
    return ", ".join(parts) or "details changed"


def review_and_publish(task, *, by, version):
    """An officer of the area approves a completed task's 'We did': linked concerns become 'responded'
    with that text, and are published to residents. Commits."""
    if not can_review(by, task):
        raise NotAllowed("Only an officer of the task's area or an admin reviews it")
    if int(version) != task.version_id:
        raise ConflictError("The task changed since you opened it: read the latest update, then review again.")
    if task.status != COMPLETED:
        raise PortalError("Only a completed task can be reviewed and published", field="status")
    if not task.we_did.strip():
        raise PortalError("The task has no 'We did' statement to publish", field="we_did")
    task.reviewed_by_id, task.reviewed_at, task.published = by.id, utcnow(), True
    for concern in task.concerns:
        if concern.status in OPEN_STATUSES:
            concerns.change_status(concern, RESPONDED, by=by, we_did=task.we_did, responded_on=date.today(),
                                   reason=f"Task {task.id} completed and reviewed")
        if not concern.published and concern.status in (RESPONDED,):
            concerns.publish(concern, by=by)
    _log(task, by, text=f"Reviewed by {by.display_name}; 'We did' published to residents")
    db.session.flush()
    db.session.commit()
    return task


# ---- Bronze tasking meetings ------------------------------------------------------------------------


def last_meeting(area_id, before=None):
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
    items.extend(largest_rises(area, since, held_on))
    order = {"pact_priority": 0, "repeat_concern": 1, "new_concern": 2, "overdue_task": 3, "due_task": 4,
             "crime_rise": 5}
    return sorted(items, key=lambda item: order.get(item[0], 9))


def open_meeting(*, by, area_id, held_on, next_meeting_on=None, attendee_ids=()):
    """Start a meeting with its agenda built from the data. Commits."""
    area = db.session.get(Locality, area_id) if area_id else None
    if area is None or area.level != "area":
        raise PortalError("Choose the area whose delivery group is meeting", field="area")
    if not can_chair(by, area.id):
        raise NotAllowed(f"You can chair meetings only for your own areas, not {area.name}", field="area")
    if next_meeting_on and next_meeting_on <= held_on:
        raise PortalError("The next meeting must be after this one", field="next_meeting_on")
    meeting = TaskingMeeting(area=area, held_on=held_on, next_meeting_on=next_meeting_on, chair_id=by.id)
    meeting.attendees = db.session.execute(select(Organisation).where(Organisation.id.in_(attendee_ids))).scalars().all()
    for position, (kind, summary, concern_id, task_id) in enumerate(build_agenda(area, held_on, next_meeting_on)):
        meeting.items.append(AgendaItem(position=position, kind=kind, summary=summary, concern_id=concern_id,
                                        task_id=task_id))
    db.session.add(meeting)
    db.session.commit()
    return meeting


def _check_open(meeting):
    if meeting.is_closed:
        raise PortalError("This meeting is closed and its record cannot change: add a correction instead",
                          field="decision")


def decide(item, *, by, decision, note="", link_task_id=None, task_fields=None):
    """Record the chair's decision on an agenda item (creating or linking a task). Commits."""
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
    try:
        if decision == "create_task":
            fields = dict(task_fields or {})
            if item.concern_id:
                fields.setdefault("concern_ids", [item.concern_id])
            item.resulting_task = create_task(by=by, meeting=meeting, **fields)
        elif decision == "link_task":
            task = db.session.get(Task, link_task_id) if link_task_id else None
            if task is None or task.area_id != meeting.area_id:
                raise PortalError("Choose one of the area's tasks to link to", field="link_task")
            if item.concern and item.concern not in task.concerns:
                _check_link(by, task.area_id, item.concern)
                task.concerns.append(item.concern)
                if item.concern.status == NEW:
                    concerns.change_status(item.concern, ACCEPTED, by=by, reason=f"Linked to task {task.id}")
                _log(task, by, text=f"Linked concern {item.concern.id} at the tasking meeting of "
                                    f"{meeting.held_on:%d %b %Y}")
            item.resulting_task = task
        elif decision == "no_further_action" and item.concern and item.concern.is_open:
            concerns.change_status(item.concern, "no_further_action", by=by, reason=note)
        elif decision == "escalate_silver" and item.task and item.task.status in ACTIVE_STATUSES:
            _log(item.task, by, from_status=item.task.status, to_status=ESCALATED,
                 text=f"Escalated to Silver at the tasking meeting: {note}")
            item.task.status = ESCALATED
        item.decision, item.decision_note = decision, note.strip()
        item.decided_by_id, item.decided_at = by.id, utcnow()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return item


def close_meeting(meeting, *, by):
    _check_open(meeting)
    if not can_chair(by, meeting.area_id):
        raise NotAllowed("Only officers of the area close its meetings")
    meeting.status, meeting.closed_at = "closed", utcnow()
    db.session.commit()


def add_correction(meeting, *, by, text):
    if not can_chair(by, meeting.area_id):
        raise NotAllowed("Only officers of the area correct its meeting records")
    if not (text or "").strip():
        raise PortalError("Write the correction", field="text")
    meeting.corrections.append(MeetingCorrection(text=text.strip(), by_id=by.id))
    db.session.commit()


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
