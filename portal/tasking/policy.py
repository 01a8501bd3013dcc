"""Who may see and change tasks and tasking meetings. Views use these to refuse a record by id
(403); the services check them again before changing anything, so no entry point skips them."""
from sqlalchemy import exists, or_, select

from ..concerns.policy import can_change as can_change_concern
from ..extensions import db
from .models import Task, task_concerns, task_supporting_organisations


def can_view(user, task):
    if user.is_admin or user.is_analyst:
        return True
    if user.is_officer:
        return user.covers(task.area_id)
    return user.organisation_id is not None and user.organisation_id in task.organisation_ids


def can_update(user, task):
    """Analysts read; everyone else who can see a task may update it."""
    return not user.is_analyst and can_view(user, task)


def can_review(user, task):
    """Officers of the task's area (and admins) review, close and escalate it."""
    return user.covers(task.area_id)


def can_change_details(user, task):
    """Due date, owner, lead and supporting partners, priority: officers of the task's area and admins, and
    the people of the lead partner for the tasks their organisation leads."""
    if user.covers(task.area_id):
        return True
    return user.is_partner and user.organisation_id is not None and user.organisation_id == task.lead_organisation_id


def may_hand_lead_to(user, task, organisation_id):
    """Officers of the area and admins hand the lead to any partner; a lead partner only to an organisation
    already working on the task (its lead or a supporting partner)."""
    return user.covers(task.area_id) or organisation_id in task.organisation_ids


def may_pick_owner(user, task, owner):
    """The people a user may hand a task to: anyone in the partnership for officers of the area and admins;
    for a lead partner, the people of the organisations already working on the task."""
    return owner.organisation_id is not None and may_hand_lead_to(user, task, owner.organisation_id)


def can_chair(user, area_id):
    """Officers of the area (and admins) open, decide, close and correct its tasking meetings."""
    return user.covers(area_id)


def can_raise_in(user, area):
    """Officers raise tasks in their own areas; admins anywhere."""
    return user.covers(area)


def can_view_meeting(user, meeting):
    """A meeting's record (and its CSV): its area's officers, admins and analysts."""
    return user.is_analyst or user.covers(meeting.area_id)


def can_link_concern(user, area_id, concern):
    """A task of an area links only that area's concerns, and only for someone who may change them
    (linking accepts the concern, shows its notes to the task's partners and later publishes it)."""
    area = concern.locality.area
    return area is not None and area.id == area_id and can_change_concern(user, concern)


def visible_tasks(user):
    """Tasks a user may see, as a select: all for admins and analysts, their areas' for officers, their
    organisation's (lead or supporting) for partners."""
    query = select(Task)
    if user.is_admin or user.is_analyst:
        return query
    if user.is_officer:
        return query.where(Task.area_id.in_(user.area_ids or {-1}))
    return query.where(of_organisation(user.organisation_id or -1))


def visible_task_ways(user):
    """``visible_tasks`` as selects whose union it is, each one an index can read in a list's order: a
    partner's tasks are those its organisation leads, read from (lead_organisation_id, status, due_on,
    id), and those it supports (a few, through their own index). As one OR, the list read every task of
    a status to find that a partner had none in it."""
    if user.is_admin or user.is_analyst or user.is_officer:
        return [visible_tasks(user)]
    organisation_id = user.organisation_id or -1
    supporting = select(task_supporting_organisations.c.task_id).where(
        task_supporting_organisations.c.organisation_id == organisation_id)
    return [select(Task).where(Task.lead_organisation_id == organisation_id),
            select(Task).where(Task.id.in_(supporting))]


def of_organisation(organisation_id):
    """The condition "this organisation leads or supports the task" (for lists, visibility, digests)."""
    supporting = select(task_supporting_organisations.c.task_id).where(
        task_supporting_organisations.c.organisation_id == organisation_id)
    return or_(Task.lead_organisation_id == organisation_id, Task.id.in_(supporting))


def partner_sees_concern(sender, *, concern):
    """Receiver of concerns.signals.partner_visibility (connected in create_app): a partner sees a concern
    (and its notes) only through a task of their organisation. ``sender`` is the user."""
    if sender.organisation_id is None:
        return False
    linked = select(task_concerns.c.task_id).where(task_concerns.c.concern_id == concern.id)
    return db.session.execute(select(exists().where(Task.id.in_(linked),
                                                    of_organisation(sender.organisation_id)))).scalar()


def can_withdraw_file(user, task_file):
    """Who added a file, officers of the task's area and admins withdraw it (it stays on record)."""
    if not can_view(user, task_file.task):
        return False
    return task_file.by_id == user.id or user.covers(task_file.task.area_id)
