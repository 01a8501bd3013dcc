"""Changing a task's details: due date, owner, lead and supporting partners, priority. Each change is a
dated log entry and the people it concerns are told; a typed id is checked like a picked one."""
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..errors import NotAllowed, PortalError
from ..extensions import db
from ..models import utcnow
from ..notifications.services import notify, portal_link
from ..partners.models import Organisation
from ..people.models import User
from .models import ACTIVE_STATUSES, CLOSED
from .policy import can_change_details, may_hand_lead_to, may_pick_owner
from .task_log import PRIORITY_LABELS, describe, log
from .tasks import check_version, owner_for, people_of


def _names(organisations):
    return ", ".join(o.name for o in organisations)


def lead_candidates(by, task):
    """The organisations ``by`` may make the task's lead, by name (the current lead always among them)."""
    organisations = db.session.execute(select(Organisation).where(Organisation.active)
                                       .order_by(Organisation.name)).scalars().all()
    return [o for o in organisations if o.id == task.lead_organisation_id or may_hand_lead_to(by, task, o.id)]


def owner_candidates(by, task):
    """The people ``by`` may hand the task to, by name (the current owner always among them)."""
    people = db.session.execute(select(User).where(User.active, User.organisation_id.is_not(None))
                                .options(selectinload(User.organisation)).order_by(User.display_name)).scalars()
    return [u for u in people if u.id == task.owner_id or may_pick_owner(by, task, u)]


def supporting_candidates(task):
    """The organisations that may support the task, by name: every active partner and those supporting it now."""
    current = {o.id for o in task.supporting_organisations}
    return db.session.execute(select(Organisation).where(Organisation.active | Organisation.id.in_(current))
                              .order_by(Organisation.name)).scalars().all()


def _lead_for(by, task, organisation_id):
    lead = db.session.get(Organisation, organisation_id) if organisation_id else None
    if lead is None or not (lead.active or lead.id == task.lead_organisation_id):
        raise PortalError("Lead partner: choose one of the partner organisations in the list",
                          field="lead_organisation")
    if lead.id != task.lead_organisation_id and not may_hand_lead_to(by, task, lead.id):
        raise NotAllowed(f"Lead partner: you can hand the lead only to an organisation already working on this "
                         f"task, not to {lead.name}", field="lead_organisation")
    return lead


def _supporting_for(task, lead, organisation_ids):
    """The supporting partners the ids name (never the lead), each an active organisation or one already
    supporting the task."""
    wanted = set(organisation_ids) - {lead.id}
    found = {o.id: o for o in db.session.execute(
        select(Organisation).where(Organisation.id.in_(wanted))).scalars()} if wanted else {}
    current = {o.id for o in task.supporting_organisations}
    for organisation_id in sorted(wanted):
        organisation = found.get(organisation_id)
        if organisation is None or not (organisation.active or organisation_id in current):
            raise PortalError(f"Supporting partners: there is no active partner organisation {organisation_id}; "
                              "choose from the list", field="supporting")
    return sorted(found.values(), key=lambda o: o.name)


def _due_date_change(task, due_on, reason, today):
    """Whether the due date moves; refuses a past date, a move without its reason, and moving the due date
    of a task no longer active (it is what "completed on time" is measured against)."""
    if due_on is None:
        raise PortalError("Enter the due date", field="due_on")
    if due_on == task.due_on:
        return False
    if task.status not in ACTIVE_STATUSES:
        raise PortalError(f"The due date of a task that is {task.status_label.lower()} stays as it was: it is "
                          "what 'completed on time' is measured against", field="due_on")
    if due_on < today:
        raise PortalError("The due date must be today or later", field="due_on")
    if not (reason or "").strip():
        raise PortalError("Give the reason for the new due date", field="due_reason")
    return True


def change_task_details(task, *, by, version, due_on, due_reason="", owner_id, lead_organisation_id,
                        supporting_ids=(), priority, today=None):
    """Change a task's due date (with a reason), owner, lead and supporting partners and priority (the whole
    set of new values; what differs is changed). Each change is its own dated entry in the log; the new owner
    and the people of organisations added to or removed from the task are told. Everything is checked before
    anything changes: NotAllowed or PortalError naming the field (an id for an organisation or person that
    does not exist or that ``by`` may not choose), ConflictError when someone saved since ``version``.
    Returns the log entries. Flushes; the caller commits."""
    today = today or date.today()
    if not can_change_details(by, task):
        raise NotAllowed("Only an officer of the task's area, an admin or the lead partner changes its details")
    check_version(task, version)
    if task.status == CLOSED:
        raise PortalError("This task is closed: raise a new task instead")
    moved = _due_date_change(task, due_on, due_reason, today)
    lead = _lead_for(by, task, lead_organisation_id)
    owner = owner_for(lead, owner_id, may_pick=lambda person: person.id == task.owner_id
                       or may_pick_owner(by, task, person))
    supporting = _supporting_for(task, lead, supporting_ids)
    if priority not in PRIORITY_LABELS:
        raise PortalError("Priority: choose high, medium or low", field="priority")
    changes = [
        ("due_on", task.due_on.isoformat(), due_on.isoformat(), due_reason.strip()) if moved else None,
        ("owner", task.owner.display_name, owner.display_name, "") if owner.id != task.owner_id else None,
        ("lead_organisation", task.lead_organisation.name, lead.name, "")
        if lead.id != task.lead_organisation_id else None,
        ("supporting", _names(task.supporting_organisations), _names(supporting), "")
        if {o.id for o in supporting} != {o.id for o in task.supporting_organisations} else None,
        ("priority", task.priority, priority, "") if priority != task.priority else None,
    ]
    changes = [change for change in changes if change]
    if not changes:
        raise PortalError("Nothing was changed: change a detail before saving")
    before, new_owner = task.organisation_ids, owner.id != task.owner_id
    task.due_on, task.owner, task.lead_organisation, task.priority = due_on, owner, lead, priority
    task.supporting_organisations = supporting
    task.updated_at = utcnow()  # a new version of the task, even when only its partners change
    entries = [log(task, by, field=field, old_value=old, new_value=new, text=text)
               for field, old, new, text in changes]
    db.session.flush()
    for entry in entries:
        entry.version = task.version_id
    _tell_of_changes(task, by, entries, before=before, new_owner=new_owner)
    return entries


def _tell_of_changes(task, by, entries, *, before, new_owner):
    """The new owner hears the task is theirs; the people of organisations added to or removed from the task
    hear that it now is, or no longer is, their organisation's. Nobody hears of their own change."""
    said = "\n".join(f"- {describe(entry)}" for entry in entries)
    told = {by.id}
    if new_owner and task.owner_id not in told:
        notify(task.owner, f"Task handed to you: {task.title}",
               f"{by.display_name} made you the owner of the task '{task.title}', due {task.due_on:%d %B %Y}."
               f"\n\n{said}\n\nOpen it: {portal_link('tasking.task', task_id=task.id)}",
               kind="assigned", dedupe_key=f"owner:{entries[0].id}:{task.owner_id}")
        told.add(task.owner_id)
    after = task.organisation_ids
    for organisation_ids, subject, ending in (
            (after - before, f"Your organisation now works on: {task.title}",
             f"Open it: {portal_link('tasking.task', task_id=task.id)}"),
            (before - after, f"Your organisation no longer works on: {task.title}",
             "It is no longer among your organisation's tasks: "
             f"{portal_link('tasking.my_tasks')}")):
        for person in people_of(organisation_ids):
            if person.id not in told:
                notify(person, subject, f"{by.display_name} changed the task '{task.title}':\n\n{said}\n\n{ending}",
                       kind="partners", dedupe_key=f"partners:{entries[0].id}:{person.id}")
                told.add(person.id)


