"""Problem-solving tasks: raising them, their SARA updates and their review (changes to their details are in
task_details.py, the log's entries and their words in task_log.py).

Every change to a task is a TaskUpdate (who, when, what); a task saved from a stale page is refused
with the change the other person made (optimistic locking on Task.version_id); nothing is ever deleted.
Functions here change the session and flush; the caller commits once.
"""
from datetime import date

from sqlalchemy import select

from ..access import OFFICER
from ..concerns import services as concerns
from ..concerns.models import ACCEPTED, NEW, OPEN_STATUSES, RESPONDED, Concern
from ..concerns.policy import can_change as can_change_concern
from ..errors import ConflictError, NotAllowed, PortalError
from ..extensions import db
from ..models import utcnow
from ..notifications.services import notify, portal_link
from ..partners.models import Organisation
from ..people.models import User
from ..places.models import Locality
from ..plan.services import action_of_current_plan
from .models import (
    ACTIVE_STATUSES,
    ASSESSMENT,
    BLOCKED,
    CLOSED,
    COMPLETED,
    ESCALATED,
    OPEN,
    RESPONSE,
    SCANNING,
    STAGE_LABELS,
    STAGES,
    Task,
)
from .policy import (
    can_link_concern,
    can_raise_in,
    can_review,
    can_update,
    of_organisation,
)
from .task_log import describe, log

# ---- lists ----------------------------------------------------------------------------------------


def organisation_tasks(organisation_id):
    """An organisation's active tasks (lead or supporting), overdue first."""
    return db.session.execute(
        select(Task).where(Task.status.in_(ACTIVE_STATUSES), of_organisation(organisation_id))
        .order_by(Task.due_on)).scalars().all()


# ---- raising a task --------------------------------------------------------------------------------


def people_of(organisation_ids, except_organisation=None):
    if not organisation_ids:
        return []
    return db.session.execute(select(User).where(User.active, User.organisation_id.in_(organisation_ids),
                                                 User.organisation_id != (except_organisation or -1))).scalars().all()


def check_link(by, area_id, concern):
    """Raise NotAllowed unless ``by`` may link ``concern`` to a task of the area."""
    if not can_link_concern(by, area_id, concern):
        raise NotAllowed(f"Concern {concern.id} is not one of this area's concerns that you may change, "
                         "so it cannot be linked to this task")


def _area_of(locality):
    area = locality.area
    if area is None:
        raise PortalError("Choose a place inside one of the three areas", field="locality")
    return area


def owner_for(lead, owner_id, may_pick=lambda owner: True):
    """The active person ``owner_id`` names, who works for the ``lead`` organisation and whom ``may_pick``
    allows; otherwise PortalError (NotAllowed for one not allowed) on the owner field."""
    owner = db.session.get(User, owner_id) if owner_id else None
    if owner is None or not owner.active:
        raise PortalError("Choose who owns the task", field="owner")
    if not may_pick(owner):
        raise NotAllowed(f"You can hand this task only to people of the organisations already working on it, "
                         f"not to {owner.display_name}", field="owner")
    if owner.organisation_id != lead.id:
        raise PortalError(f"The owner must work for the lead partner, {lead.name}; "
                          f"{owner.display_name} is not a member of it", field="owner")
    return owner


def create_task(*, by, title, problem, locality_id, lead_organisation_id, supporting_ids=(), owner_id,
                due_on, priority="medium", concern_ids=(), meeting=None, today=None, action_id=None):
    """Raise a task (with linked concerns, or none for an emerging hotspot) and tell its owner.
    ``action_id`` names the delivery-plan action it serves (an action of the current plan).
    Raises PortalError/NotAllowed naming the field at fault. Flushes; the caller commits."""
    today = today or date.today()
    if not (title or "").strip():
        raise PortalError("Enter a title for the task", field="title")
    if not (problem or "").strip():
        raise PortalError("Describe the problem the task is to solve", field="problem")
    locality = db.session.get(Locality, locality_id) if locality_id else None
    if locality is None:
        raise PortalError("Choose where the problem is", field="locality")
    area = _area_of(locality)
    if not can_raise_in(by, area):
        raise NotAllowed(f"You can raise tasks only in your own areas, not in {area.name}", field="locality")
    lead = db.session.get(Organisation, lead_organisation_id) if lead_organisation_id else None
    if lead is None:
        raise PortalError("Choose the lead partner", field="lead_organisation")
    owner = owner_for(lead, owner_id)
    if due_on is None or due_on < today:
        raise PortalError("The due date must be today or later", field="due_on")
    action = action_of_current_plan(action_id) if action_id is not None else None
    linked = (db.session.execute(select(Concern).where(Concern.id.in_(concern_ids))).scalars().all()
              if concern_ids else [])
    for concern in linked:
        check_link(by, area.id, concern)
    task = Task(title=title.strip(), problem=problem.strip(), area_id=area.id, locality_id=locality.id,
                lead_organisation=lead, owner=owner, due_on=due_on, priority=priority, created_by_id=by.id,
                meeting=meeting, action=action)
    task.supporting_organisations = db.session.execute(
        select(Organisation).where(Organisation.id.in_(set(supporting_ids) - {lead.id}))).scalars().all()
    task.concerns = linked
    db.session.add(task)
    for concern in linked:
        if concern.status == NEW:
            concerns.change_status(concern, ACCEPTED, by=by, reason=f"Tasked: {task.title}")
    db.session.flush()
    log(task, by, text=f"Task raised, owned by {owner.display_name} ({lead.name}), due {due_on:%d %b %Y}",
        to_stage=SCANNING, to_status=OPEN, version=task.version_id)
    notify(owner, f"New task for you: {task.title}",
           f"{by.display_name} assigned you the task '{task.title}', due {due_on:%d %B %Y}.\n\n{task.problem}\n\n"
           f"Open it: {portal_link('tasking.task', task_id=task.id)}", kind="assigned",
           dedupe_key=f"assigned:{task.id}:{owner.id}")
    return task


# ---- updating a task: each decision in its own function -----------------------------------------------

ANALYSIS = ("victim", "offender", "location")
TEXTS = ANALYSIS + ("assessment", "we_did")


def check_version(task, version):
    """ConflictError saying who changed what, if someone saved the task after ``version`` was shown."""
    if int(version) == task.version_id:
        return
    newer = [u for u in task.updates if u.version > int(version)]
    said = "; ".join(f"{u.by.display_name if u.by else 'the portal'}"
                     f"{' (' + u.organisation.name + ')' if u.organisation else ''} at {u.at:%H:%M}: "
                     f"{describe(u)}" for u in newer) or "a change"
    raise ConflictError(f"Someone saved this task after you opened it: {said}. "
                        "Your update was not saved; check theirs below and apply yours again.")


def _check_stage(task, new_stage, analysis):
    """Stages go in order; a task may go back, but never skip Analysis on its way to Response."""
    if new_stage == task.stage:
        return
    old, new = STAGES.index(task.stage), STAGES.index(new_stage)
    if new > old + 1:
        raise PortalError(f"A task moves one SARA stage at a time: from {STAGE_LABELS[task.stage]} the next is "
                          f"{STAGE_LABELS[STAGES[old + 1]]}", field="stage")
    if new_stage == RESPONSE and not any(v.strip() for v in analysis):
        raise PortalError("Record the analysis (victim, offender or location) before moving to Response",
                          field="stage")


def _check_completion(task, assessment, we_did):
    """Completing a task needs its assessment and the public 'We did' (new or already saved)."""
    if not (assessment if assessment is not None else task.assessment).strip():
        raise PortalError("Completing a task needs its assessment: what changed, with the evidence",
                          field="assessment")
    if not (we_did if we_did is not None else task.we_did).strip():
        raise PortalError("Completing a task needs the public 'We did' statement for residents", field="we_did")


def _next_stage_and_status(task, *, by, stage, status, blocked_reason, text, texts):
    """The stage and status an update leads to, or the refusal: a blocked task says why, a completed one
    has its assessment and moves to Assessment, only reviewers close or escalate (with a reason)."""
    analysis = [texts[name] if texts[name] is not None else getattr(task, name) for name in ANALYSIS]
    new_stage, new_status = stage or task.stage, status or task.status
    _check_stage(task, new_stage, analysis)
    if new_status == BLOCKED and not (blocked_reason or "").strip():
        raise PortalError("Say what is blocking the task", field="blocked_reason")
    if new_status == COMPLETED and new_status != task.status:
        _check_completion(task, texts["assessment"], texts["we_did"])
        new_stage = ASSESSMENT
    if new_status in (CLOSED, ESCALATED):
        if not can_review(by, task):
            raise NotAllowed("Only an officer of the area or an admin closes or escalates a task", field="status")
        if not (text or "").strip():
            raise PortalError("Give the reason in the update", field="text")
    return new_stage, new_status


def _edit_of_published(task, we_did):
    """(old, new) when an update replaces a published "We did" (it then waits for a new review, and residents
    keep the published text), else None. A published "We did" can be replaced, never emptied."""
    if not task.published or we_did is None or we_did.strip() == task.we_did:
        return None
    if not we_did.strip():
        raise PortalError("Residents read this task's published 'We did': replace it with the new text "
                          "rather than emptying it", field="we_did")
    return task.we_did, we_did.strip()


def _log_update(task, by, *, text, link, new_stage, new_status, edit=None):
    """The log entry of an update: the stage and status only when they change, the "We did" when an edit
    replaces a published one."""
    stage_changes, status_changes = new_stage != task.stage, new_status != task.status
    return log(task, by, text=text.strip(), link=link.strip(),
               from_stage=task.stage if stage_changes else None, to_stage=new_stage if stage_changes else None,
               from_status=task.status if status_changes else None,
               to_status=new_status if status_changes else None,
               field="we_did" if edit else None, old_value=edit[0] if edit else "", new_value=edit[1] if edit else "")


def _apply(task, *, new_stage, new_status, blocked_reason, texts):
    for name, value in texts.items():
        if value is not None:
            setattr(task, name, value.strip())
    task.stage, task.status = new_stage, new_status
    task.updated_at = utcnow()  # every entry is a new version of the task, even a note alone
    task.blocked_reason = blocked_reason.strip() if new_status == BLOCKED else ""
    if new_status == COMPLETED and task.completed_on is None:
        task.completed_on = date.today()
        task.published = False  # a completed task waits for an officer's review


def _tell_partners(task, by, entry):
    """Everyone in the task's organisations but the updater's own hears of the update."""
    for person in people_of(task.organisation_ids, except_organisation=by.organisation_id):
        notify(person, f"Update on {task.title}",
               f"{by.display_name} ({by.organisation.name if by.organisation else ''}) "
               f"updated the task '{task.title}': {describe(entry)}\n\n"
               f"Open it: {portal_link('tasking.task', task_id=task.id)}",
               kind="update", dedupe_key=f"update:{entry.id}:{person.id}")


def _ask_for_review(task, by, entry, *, what="completed the task"):
    """A task just completed (or its published "We did" edited): every officer of its area hears that it
    awaits their review."""
    officers = db.session.execute(select(User).where(
        User.active, User.role == OFFICER, User.areas.any(Locality.id == task.area_id))).scalars().all()
    for officer in officers:
        notify(officer, f"Awaiting your review: {task.title}",
               f"{by.display_name} {what} '{task.title}'. Its 'We did' waits for an officer of the "
               f"area to review and publish it:\n\n{task.we_did}\n\n"
               f"Review it: {portal_link('tasking.task', task_id=task.id)}",
               kind="review", dedupe_key=f"review:{entry.id}:{officer.id}")


def update_task(task, *, by, version, text="", link="", stage=None, status=None, blocked_reason="",
                victim=None, offender=None, location=None, assessment=None, we_did=None, with_files=False):
    """Apply one update from a task's page, log it and tell the task's partners (and, when it completes
    the task, the area's officers, who review it). Flushes; the caller commits. A new "We did" for a task
    already published waits for an officer's review (residents keep the published text meanwhile). Raises
    NotAllowed, PortalError (naming the field), or ConflictError when someone saved since ``version`` (the
    task version the page showed), saying who changed what so the user can reapply. ``with_files``: files come
    with it (attachments.update_with_files), so it is an update even with nothing else."""
    if not can_update(by, task):
        raise NotAllowed("You can update only your organisation's tasks")
    check_version(task, version)
    if task.status == CLOSED:
        raise PortalError("This task is closed: raise a new task instead", field="status")
    texts = dict(victim=victim, offender=offender, location=location, assessment=assessment, we_did=we_did)
    new_stage, new_status = _next_stage_and_status(task, by=by, stage=stage, status=status,
                                                   blocked_reason=blocked_reason, text=text, texts=texts)
    changed = (with_files or text.strip() or link.strip() or new_stage != task.stage or new_status != task.status
               or any(value not in (None, getattr(task, name)) for name, value in texts.items()))
    if not changed:
        raise PortalError("Write an update or change something before saving", field="text")
    edit = _edit_of_published(task, we_did)
    completes = new_status == COMPLETED and task.status != COMPLETED
    entry = _log_update(task, by, text=text, link=link, new_stage=new_stage, new_status=new_status, edit=edit)
    _apply(task, new_stage=new_stage, new_status=new_status, blocked_reason=blocked_reason, texts=texts)
    db.session.flush()
    entry.version = task.version_id
    _tell_partners(task, by, entry)
    if completes or edit:  # an edit of a published "We did" goes back to the review queue
        _ask_for_review(task, by, entry, what="completed the task" if completes else "edited the 'We did' of")
    return entry


# ---- review ------------------------------------------------------------------------------------------


def concerns_to_answer(task):
    """The linked concerns a review gives a public "We did": those still open and those already responded."""
    return [c for c in task.concerns if c.status in OPEN_STATUSES or c.status == RESPONDED]


MAX_WE_DID = 2000


def _we_did_for_each(task, given):
    """{concern: text} for each concern the review answers: the text given for it, the task's otherwise."""
    answering = concerns_to_answer(task)
    unknown = sorted(set(given) - {c.id for c in answering})
    if unknown:
        raise PortalError(f"Concern {unknown[0]} is not one this task answers", field=f"we_did_{unknown[0]}")
    texts = {}
    for concern in answering:
        text = (given.get(concern.id, task.we_did) or "").strip()
        what = f"the {concern.category.name.lower()} concern in {concern.locality.name}"
        if not text:
            raise PortalError(f"Enter the 'We did' residents will read for {what}", field=f"we_did_{concern.id}")
        if len(text) > MAX_WE_DID:
            raise PortalError(f"The 'We did' for {what} must be {MAX_WE_DID:,} characters or fewer",
                              field=f"we_did_{concern.id}")
        texts[concern] = text
    return texts


def _replace_public_we_did(concern, text, *, by, task):
    """A responded concern's public "We did" replaced by a later review, recorded in its history."""
    if not can_change_concern(by, concern):
        raise NotAllowed("Only an officer of this concern's area or an administrator can change it.")
    concern.we_did = text
    concerns.record_event(concern, "edited", by=by, detail=f"Public 'We did' replaced on review of task {task.id}")


def review_and_publish(task, *, by, version, we_did_by_concern=None):
    """An officer of the area approves a completed task's "We did" (first, or again after an edit since
    publication): each linked concern that is open or responded becomes "responded" with its own public text
    (``we_did_by_concern``: {concern id: text}; the task's text for any not given) and is published.
    Raises NotAllowed, ConflictError, or PortalError naming the field (``we_did_<concern id>``).
    Flushes; the caller commits."""
    if not can_review(by, task):
        raise NotAllowed("Only an officer of the task's area or an admin reviews it")
    if int(version) != task.version_id:
        raise ConflictError("The task changed since you opened it: read the latest update, then review again.")
    if task.status != COMPLETED:
        raise PortalError("Only a completed task can be reviewed and published", field="status")
    if not task.we_did.strip():
        raise PortalError("The task has no 'We did' statement to publish", field="we_did")
    if task.published and not task.we_did_awaiting_review:
        raise PortalError("This task's 'We did' is already published and has not been edited since",
                          field="status")
    texts = _we_did_for_each(task, dict(we_did_by_concern or {}))
    again = task.published
    task.reviewed_by_id, task.reviewed_at, task.published = by.id, utcnow(), True
    task.published_we_did = task.we_did
    for concern, text in texts.items():
        # One withdrawn on its own page stays withdrawn; one withdrawn with the task's "We did" comes back.
        # Published first: the status change tells the resident who raised it online (reporting.tell_reporter),
        # and what they read must be where it is at the end of this review (published, and its link).
        if not concern.published and concern.withdrawn != "concern":
            concerns.publish(concern, by=by)
        if concern.status in OPEN_STATUSES:
            concerns.change_status(concern, RESPONDED, by=by, we_did=text, responded_on=date.today(),
                                   reason=f"Task {task.id} completed and reviewed")
        elif concern.we_did != text:
            _replace_public_we_did(concern, text, by=by, task=task)
    published = "the edited 'We did' published" if again else "'We did' published"
    log(task, by, text=f"Reviewed by {by.display_name}; {published} to residents")
    db.session.flush()
    return task
